// The operator table: what the core knows about each normalized operator kind, as data: its shape rule, its MACs,
// its value when its operands are constants (shape arithmetic), its output type, and how a patch stage may run it
// (tiling). Both readers map their file's vocabulary to these kinds; shape inference, the MAC count and the patch
// geometry read this table. Adding an operator kind means one entry here plus its tests (C lowering: codegen).
import type { DType, Graph, Op, OpKind, SpatialAttrs, SpatialNdAttrs } from '../graph';
import { DTYPE_BITS, elementCount } from '../graph';

export type Shape = number[];

/** How a patch stage may run an operator: a sliding window (kernel, stride, padding), a shift (constant padding),
 *  pixel by pixel on the same region, or not at all (it needs the whole map, or it rearranges the tensor). */
export type Tiling = 'window' | 'shift' | 'same' | 'whole' | 'rearrange' | 'none';

export interface OpRule {
  /** Output shapes from the input shapes and constant operands, null (or a null entry) while one is unknown. Throws
   *  InferError for operands that contradict the operator. May resolve attributes (padding) on the op. */
  shape(op: Op, graph: Graph, x: Shape | null): (Shape | null)[] | null;
  /** Multiply-accumulates of one run, from the output shape (0 for data movement and elementwise arithmetic). */
  macs?(op: Op, graph: Graph, out: Shape): number;
  /** The value of output 0 when every operand is a small known constant (shape arithmetic folded ahead of time). */
  value?(op: Op, graph: Graph): number[] | undefined;
  /** The type of output k when the file does not store it (default: the first input's). */
  dtype?(op: Op, graph: Graph, k: number): DType;
  tiling: Tiling;
}

export class InferError extends Error {}

export function fail(msg: string): never {
  throw new InferError(msg);
}

const shapeOf = (graph: Graph, id: number | undefined): Shape | null => (id === undefined || id < 0 ? null : (graph.tensors[id]?.shape ?? null));
const valuesOf = (graph: Graph, id: number | undefined): number[] | undefined => (id === undefined || id < 0 ? undefined : graph.tensors[id]?.values);
/** An ONNX operand by input position, once constant (read late: the graph may compute it). */
const late = (op: Op, graph: Graph, pos: number): number[] | undefined => valuesOf(graph, op.attrs.operands?.[pos]);
/** The operand at `pos` is given but not (yet) a known constant. */
const pending = (op: Op, graph: Graph, pos: number): boolean => (op.attrs.operands?.[pos] ?? -1) >= 0 && !late(op, graph, pos);
const norm = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

/** An axis attribute normalised, or a named failure when it is not an integer in [-rank, rank). */
export function axisIn(axis: number, rank: number, what: string): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) fail(`${what} ${axis} is outside the ${rank} axes`);
  return norm(axis, rank);
}

/** Axes attribute normalised, each in range and none repeated. */
function axesIn(axes: readonly number[], rank: number, what: string): number[] {
  const out = axes.map((v) => axisIn(v, rank, what));
  if (new Set(out).size !== out.length) fail(`${what}s [${axes.join(', ')}] repeat an axis`);
  return out;
}

function axesNCHW(op: Op): { c: number; h: number; w: number } {
  return op.attrs.layout === 'NHWC' ? { h: 1, w: 2, c: 3 } : { c: 1, h: 2, w: 3 };
}

/** A dimension that must be a positive integer (a kernel, a stride, a block size). */
function positive(v: number | undefined, what: string): number {
  if (v === undefined || !Number.isInteger(v) || v <= 0) fail(`invalid ${what} ${v}`);
  return v;
}

/** Output size of one sliding-window axis; returns the padding before and after as resolved. */
function windowOut(inSize: number, k: number, s: number, d: number, padding: SpatialAttrs['padding'], pads: [number, number], pool: boolean, ceilMode: boolean): { out: number; before: number; after: number } {
  if (s <= 0 || d <= 0 || k <= 0) fail(`invalid kernel ${k}, stride ${s} or dilation ${d}`);
  const eff = (k - 1) * d + 1;
  let out: number;
  let [before, after] = pads;
  if (padding === 'same_upper' || padding === 'same_lower') {
    out = Math.ceil(inSize / s);
    const total = Math.max((out - 1) * s + eff - inSize, 0);
    before = padding === 'same_upper' ? Math.floor(total / 2) : Math.ceil(total / 2);
    after = total - before;
  } else if (padding === 'valid') {
    before = 0;
    after = 0;
    out = Math.floor((inSize - eff) / s) + 1;
  } else {
    const span = inSize + before + after - eff;
    out = pool && ceilMode ? Math.ceil(span / s) + 1 : Math.floor(span / s) + 1;
    // A pooling window must start inside the input or its left padding (ONNX/PyTorch ceil_mode rule).
    if (pool && ceilMode && (out - 1) * s >= inSize + before) out--;
  }
  if (out <= 0) fail(`kernel ${k} (dilation ${d}) does not fit an input of ${inSize}`);
  return { out, before, after };
}

/** Output size of one 2-D spatial axis; resolves the padding into explicit amounts (written back to the op). */
function spatialOut(inSize: number, k: number, s: number, d: number, sp: SpatialAttrs, axis: 0 | 1, pool: boolean): number {
  const r = windowOut(inSize, k, s, d, sp.padding, [sp.pads[axis], sp.pads[axis + 2]!], pool, sp.ceilMode ?? false);
  sp.pads[axis] = r.before;
  sp.pads[axis + 2] = r.after;
  return r.out;
}

export function broadcast(shapes: Shape[]): Shape {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - rank + i] ?? 1;
      if (v !== 1) {
        if (d !== 1 && d !== v) fail(`shapes [${shapes.map((x) => x.join(',')).join('] and [')}] do not broadcast`);
        d = v;
      }
    }
    out.push(d);
  }
  return out;
}

/** Shapes of the op's present data inputs, or null when one is unknown. */
function dataShapes(op: Op, graph: Graph): Shape[] | null {
  const shapes = op.inputs.filter((i) => i >= 0).map((i) => shapeOf(graph, i));
  return shapes.some((s) => !s) ? null : (shapes as Shape[]);
}

const same = (_op: Op, _graph: Graph, x: Shape | null): (Shape | null)[] | null => (x ? [x.slice()] : null);

// ---- convolution and pooling ----------------------------------------------------------------------------------

function convShape(op: Op, graph: Graph, x: Shape | null): (Shape | null)[] | null {
  const a = op.attrs;
  const w = shapeOf(graph, op.inputs[1]);
  if (x && a.layout === 'NCHW' && x.length !== 4 && a.nd) {
    op.kind = 'ConvNd';
    return convNdShape(op, graph, x);
  }
  if (!x || !w || x.length !== 4 || w.length !== 4 || !a.spatial) return null;
  check2d(op);
  const ax = axesNCHW(op);
  const cin = x[ax.c]!;
  if (cin <= 0) fail(`input [${x.join(',')}] has no channels`);
  let cout: number;
  let kernel: [number, number];
  if (a.layout === 'NHWC') {
    // TFLite: conv OHWI, depthwise 1HWO
    cout = op.kind === 'DepthwiseConv2D' ? w[3]! : w[0]!;
    kernel = [w[1]!, w[2]!];
    if (op.kind === 'Conv2D' && (w[3]! <= 0 || cin % w[3]! !== 0 || cout % (cin / w[3]!) !== 0)) fail(`weights [${w.join(',')}] do not divide ${cin} input channels into groups`);
    if (op.kind === 'Conv2D' && cin !== w[3]) a.group = cin / w[3]!;
    if (op.kind === 'DepthwiseConv2D') {
      if (cout % cin !== 0) fail(`depthwise weights [${w.join(',')}] give ${cout} outputs, not a multiple of ${cin} input channels`);
      a.group = cin;
      a.depthMultiplier = cout / cin;
    }
  } else {
    // ONNX: OIHW, I = Cin / group
    cout = w[0]!;
    kernel = [w[2]!, w[3]!];
    const group = a.group ?? 1;
    if (!Number.isInteger(group) || group < 1 || cout % group !== 0) fail(`group ${group} does not divide ${cout} output channels`);
    if (w[1]! * group !== cin) fail(`weights [${w.join(',')}] with group ${group} do not match ${cin} input channels`);
    if (group > 1 && group === cin) { op.kind = 'DepthwiseConv2D'; a.depthMultiplier = cout / cin; }
  }
  const sp = a.spatial;
  if (sp.kernel && (sp.kernel[0] !== kernel[0] || sp.kernel[1] !== kernel[1])) fail(`kernel_shape ${sp.kernel.join('×')} differs from the weights' ${kernel.join('×')}`);
  sp.kernel = kernel;
  const ho = spatialOut(x[ax.h]!, kernel[0], sp.strides[0], sp.dilations[0], sp, 0, false);
  const wo = spatialOut(x[ax.w]!, kernel[1], sp.strides[1], sp.dilations[1], sp, 1, false);
  return [a.layout === 'NHWC' ? [x[0]!, ho, wo, cout] : [x[0]!, cout, ho, wo]];
}

function convMacs(op: Op, graph: Graph, out: Shape): number {
  const k = op.attrs.spatial?.kernel;
  const x = shapeOf(graph, op.inputs[0]);
  if (!k || !x) return 0;
  const cin = op.attrs.layout === 'NHWC' ? x[3]! : x[1]!;
  return elementCount(out) * (cin / (op.attrs.group ?? 1)) * k[0] * k[1];
}

function transposeConvShape(op: Op, graph: Graph, x: Shape | null): (Shape | null)[] | null {
  const a = op.attrs;
  if (a.layout === 'NHWC') return tfliteTransposeConvShape(op, graph, x);
  if (x && x.length !== 4 && a.nd) {
    op.kind = 'ConvNd';
    a.nd.transposed = true;
    return convNdShape(op, graph, x);
  }
  const w = shapeOf(graph, op.inputs[1]);
  if (!x || !w || x.length !== 4 || w.length !== 4 || !a.spatial) return null;
  const sp = a.spatial;
  const group = a.group ?? 1;
  if (!Number.isInteger(group) || group < 1 || x[1]! % group !== 0 || w[0]! !== x[1]) fail(`weights [${w.join(',')}] with group ${group} do not match ${x[1]} input channels`);
  const k: [number, number] = [w[2]!, w[3]!];
  sp.kernel = k;
  check2d(op);
  const outPad = a.nd?.outputPadding ?? [0, 0];
  const given = a.nd?.outputShape?.slice(-2);
  // ONNX: output_shape (or auto_pad SAME: input × stride) fixes the output and the total padding follows, split as
  // auto_pad says (SAME_UPPER: the extra at the end; otherwise at the start); otherwise the pads give the output.
  const dim = (i: 0 | 1): number => {
    const full = (x[2 + i]! - 1) * sp.strides[i] + (k[i] - 1) * sp.dilations[i] + 1 + (outPad[i] ?? 0);
    const fixed = given?.length === 2 ? given[i]! : sp.padding === 'same_upper' || sp.padding === 'same_lower' ? x[2 + i]! * sp.strides[i] : undefined;
    if (fixed === undefined) {
      if (sp.padding === 'valid') { sp.pads[i] = 0; sp.pads[i + 2] = 0; }
      return full - sp.pads[i] - sp.pads[i + 2]!;
    }
    // A negative total (output_shape beyond what the kernel covers) acts as extra output padding, as in ONNX.
    const total = full - fixed;
    if (fixed <= 0) fail(`output size ${fixed} is not positive`);
    const small = Math.trunc(total / 2);
    sp.pads[i] = sp.padding === 'same_upper' ? small : total - small;
    sp.pads[i + 2] = total - sp.pads[i];
    return fixed;
  };
  return [[x[0]!, w[1]! * (a.group ?? 1), dim(0), dim(1)]];
}

/** TFLite's TRANSPOSE_CONV: the output shape is its output_shape operand, the padding TFLM's Prepare computes from it
 *  (the forward window over the output's size). A run-time output_shape (SEANet's models feed it as a graph input)
 *  leaves the stored output shape, as TFLM, whose Prepare and Eval read only the output tensor's stored dims: it is
 *  taken when the forward window over it gives back the input's size. */
function tfliteTransposeConvShape(op: Op, graph: Graph, x: Shape | null): (Shape | null)[] | null {
  const operand = op.params[0] !== undefined && op.params[0] >= 0 ? graph.tensors[op.params[0]] : undefined;
  const stored = graph.tensors[op.outputs[0]!]?.shape;
  const runtime = operand !== undefined && operand.role !== 'constant' && stored?.length === 4;
  const v = runtime ? stored : valuesOf(graph, op.params[0]);
  const w = shapeOf(graph, op.inputs[1]);
  const sp = op.attrs.spatial;
  if (!v || !x || !w || !sp || v.length !== 4 || x.length !== 4 || w.length !== 4) return null;
  if (v[0] !== x[0] || v[3] !== w[0] || w[3] !== x[3]) fail(`output_shape [${v.join(',')}] and weights [${w.join(',')}] do not match input [${x.join(',')}]`);
  sp.kernel = [w[1]!, w[2]!];
  for (const axis of [0, 1] as const) {
    const r = windowOut(v[1 + axis]!, sp.kernel[axis], sp.strides[axis], 1, sp.padding, [0, 0], false, false);
    if (runtime && r.out !== x[1 + axis]) fail(`the stored output shape [${v.join(',')}] (its output_shape operand is computed at run time) does not give back the input's size ${x[1 + axis]} along axis ${1 + axis}`);
    sp.pads[axis] = r.before;
    sp.pads[axis + 2] = r.after;
  }
  return [v.slice()];
}

function transposeConvMacs(op: Op, graph: Graph, out: Shape): number {
  const k = op.attrs.spatial?.kernel;
  const x = shapeOf(graph, op.inputs[0]);
  if (!k || !x) return 0;
  const cout = op.attrs.layout === 'NHWC' ? out[3]! : out[1]!;
  return elementCount(x) * (cout / (op.attrs.group ?? 1)) * k[0] * k[1];
}

/** Spatial axes of an N-D tensor: ONNX N,C,D1..Dn; TFLite N,D1..Dn,C. */
function ndAxes(op: Op, rank: number): number[] {
  return Array.from({ length: rank - 2 }, (_, i) => (op.attrs.layout === 'NHWC' ? 1 + i : 2 + i));
}

/** A 2-D window given attributes for another number of axes (ONNX kernel_shape, strides, dilations, pads). */
function check2d(op: Op): void {
  const nd = op.attrs.nd;
  if (!nd) return;
  const bad = [nd.kernel, nd.strides, nd.dilations].find((v) => v && v.length !== 2) ?? (nd.pads && nd.pads.length !== 4 ? nd.pads : undefined);
  if (bad) fail(`attributes for ${nd.pads === bad ? bad.length / 2 : bad.length} spatial axes on a 2-D input`);
}

/** Resolves an N-D window's output sizes and writes the padding back. */
function ndWindow(op: Op, x: Shape, nd: SpatialNdAttrs, kernel: number[], pool: boolean): number[] {
  const axes = ndAxes(op, x.length);
  const n = axes.length;
  if (kernel.length !== n) fail(`a ${kernel.length}-D kernel on ${n} spatial axes`);
  const strides = nd.strides ?? new Array<number>(n).fill(1);
  const dil = nd.dilations ?? new Array<number>(n).fill(1);
  const pads = nd.pads ?? new Array<number>(2 * n).fill(0);
  if (strides.length !== n || dil.length !== n || pads.length !== 2 * n) fail(`strides, dilations or pads do not match ${n} spatial axes`);
  return axes.map((ax, i) => {
    const r = windowOut(x[ax]!, positive(kernel[i], 'kernel'), strides[i]!, dil[i]!, nd.padding, [pads[i]!, pads[i + n]!], pool, nd.ceilMode);
    pads[i] = r.before;
    pads[i + n] = r.after;
    nd.pads = pads;
    return r.out;
  });
}

function convNdShape(op: Op, graph: Graph, x: Shape | null): (Shape | null)[] | null {
  const a = op.attrs;
  const w = shapeOf(graph, op.inputs[1]);
  const nd = a.nd;
  if (!x || !w || !nd || x.length < 3 || w.length !== x.length) return null;
  const group = a.group ?? 1;
  const cin = x[1]!;
  const k = w.slice(2);
  if (nd.kernel && nd.kernel.join() !== k.join()) fail(`kernel_shape ${nd.kernel.join('×')} differs from the weights' ${k.join('×')}`);
  nd.kernel = k;
  if (!Number.isInteger(group) || group < 1) fail(`invalid group ${group}`);
  if (nd.transposed) {
    // ConvTranspose: weights [Cin, Cout/group, k...]
    if (w[0] !== cin || cin % group !== 0) fail(`weights [${w.join(',')}] with group ${group} do not match ${cin} input channels`);
    const n = k.length;
    const s = nd.strides ?? new Array<number>(n).fill(1);
    const d = nd.dilations ?? new Array<number>(n).fill(1);
    const p = nd.pads ?? new Array<number>(2 * n).fill(0);
    const op_ = nd.outputPadding ?? new Array<number>(n).fill(0);
    const dims = nd.outputShape && nd.outputShape.length === n
      ? nd.outputShape.slice()
      : k.map((kk, i) => (x[2 + i]! - 1) * (s[i] ?? 1) + (kk - 1) * (d[i] ?? 1) + 1 + (op_[i] ?? 0) - (p[i] ?? 0) - (p[i + n] ?? 0));
    if (dims.some((v) => v <= 0)) fail(`output size [${dims.join(',')}] is not positive`);
    return [[x[0]!, w[1]! * group, ...dims]];
  }
  if (w[1]! * group !== cin || w[0]! % group !== 0) fail(`weights [${w.join(',')}] with group ${group} do not match ${cin} input channels`);
  return [[x[0]!, w[0]!, ...ndWindow(op, x, nd, k, false)]];
}

function convNdMacs(op: Op, graph: Graph, out: Shape): number {
  const x = shapeOf(graph, op.inputs[0]);
  const k = op.attrs.nd?.kernel;
  if (!x || !k) return 0;
  const group = op.attrs.group ?? 1;
  const kk = elementCount(k);
  return op.attrs.nd?.transposed ? elementCount(x) * ((out[1] ?? 0) / group) * kk : elementCount(out) * ((x[1] ?? 0) / group) * kk;
}

function poolShape(op: Op, graph: Graph, x: Shape | null): (Shape | null)[] | null {
  const a = op.attrs;
  if (x && x.length !== 4 && a.nd) {
    op.kind = 'PoolNd';
    return poolNdShape(op, graph, x);
  }
  if (!x || x.length !== 4 || !a.spatial?.kernel) return null;
  check2d(op);
  const ax = axesNCHW(op);
  const sp = a.spatial;
  const k = sp.kernel!;
  const ho = spatialOut(x[ax.h]!, k[0], sp.strides[0], sp.dilations[0], sp, 0, true);
  const wo = spatialOut(x[ax.w]!, k[1], sp.strides[1], sp.dilations[1], sp, 1, true);
  const out = x.slice();
  out[ax.h] = ho;
  out[ax.w] = wo;
  return [out];
}

function poolNdShape(op: Op, _graph: Graph, x: Shape | null): (Shape | null)[] | null {
  const nd = op.attrs.nd;
  if (!x || !nd || x.length < 3) return null;
  if (!nd.kernel) fail('pooling without kernel_shape');
  const dims = ndWindow(op, x, nd, nd.kernel, true);
  const out = x.slice();
  ndAxes(op, x.length).forEach((ax, i) => { out[ax] = dims[i]!; });
  // ONNX MaxPool's optional second output (Indices) has the same shape.
  return op.outputs.map(() => out.slice());
}

// ---- matrix products ------------------------------------------------------------------------------------------

function fcShape(op: Op, graph: Graph, x: Shape | null): (Shape | null)[] | null {
  const a = op.attrs;
  const w = shapeOf(graph, op.inputs[1]);
  if (!x || !w || w.length !== 2) return null;
  if (a.transB !== undefined) {
    // ONNX Gemm: A [M,K] (or transposed), B [K,N] (or transposed)
    if (x.length !== 2) fail(`Gemm input must be 2-D, got [${x.join(',')}]`);
    const m = a.transA ? x[1]! : x[0]!;
    const k = a.transA ? x[0]! : x[1]!;
    const n = a.transB ? w[0]! : w[1]!;
    const kb = a.transB ? w[1]! : w[0]!;
    if (k !== kb) fail(`Gemm inner dimensions ${k} and ${kb} differ`);
    return [[m, n]];
  }
  const units = w[0]!;
  const inner = w[1]!;
  if (a.keepNumDims) return [[...x.slice(0, -1), units]];
  const total = elementCount(x);
  if (inner <= 0 || total % inner !== 0) fail(`input of ${total} elements is not a multiple of ${inner}`);
  return [[total / inner, units]];
}

function fcMacs(op: Op, graph: Graph, out: Shape): number {
  const w = shapeOf(graph, op.inputs[1]);
  if (!w) return 0;
  const inner = op.attrs.transB === undefined ? w[1]! : op.attrs.transB ? w[1]! : w[0]!;
  return elementCount(out) * inner;
}

/** A matrix operand's last two axes swapped (TFLite BATCH_MATMUL's adj_x/adj_y). */
const adjoint = (s: Shape, t: boolean | undefined): Shape => (t && s.length >= 2 ? [...s.slice(0, -2), s[s.length - 1]!, s[s.length - 2]!] : s);

function matMulShape(op: Op, graph: Graph, x: Shape | null): (Shape | null)[] | null {
  const b = shapeOf(graph, op.inputs[1]);
  if (!x || !b) return null;
  const A = adjoint(x.length === 1 ? [1, x[0]!] : x, op.attrs.transA);
  const B = adjoint(b.length === 1 ? [b[0]!, 1] : b, op.attrs.transB);
  if (A[A.length - 1] !== B[B.length - 2]) fail(`MatMul inner dimensions ${A[A.length - 1]} and ${B[B.length - 2]} differ`);
  const batch = broadcast([A.slice(0, -2), B.slice(0, -2)]);
  const out = [...batch, A[A.length - 2]!, B[B.length - 1]!];
  if (x.length === 1) out.splice(out.length - 2, 1);
  if (b.length === 1) out.pop();
  return [out];
}

// ---- elementwise and data movement ------------------------------------------------------------------------------

function binaryValue(op: Op, graph: Graph): number[] | undefined {
  const a = valuesOf(graph, op.inputs[0]);
  const b = valuesOf(graph, op.inputs[1]);
  if (!a || !b) return undefined;
  const n = Math.max(a.length, b.length);
  if (n > 64 || (a.length !== n && a.length !== 1) || (b.length !== n && b.length !== 1)) return undefined;
  return Array.from({ length: n }, (_, i) => {
    const p = a[a.length === 1 ? 0 : i]!;
    const q = b[b.length === 1 ? 0 : i]!;
    return op.kind === 'Add' ? p + q : op.kind === 'Sub' ? p - q : op.kind === 'Mul' ? p * q : Math.trunc(p / q);
  });
}

const BOOL_FNS = new Set(['equal', 'not_equal', 'less', 'less_equal', 'greater', 'greater_equal', 'and', 'or', 'xor', 'not', 'isnan', 'isinf']);

/** Elementwise functions folded over small integer constants (shape arithmetic: masks, Where, Mod). */
const ELEMENTWISE_VALUE: Readonly<Record<string, (v: number[]) => number>> = {
  equal: ([p, q]) => +(p === q), not_equal: ([p, q]) => +(p !== q), less: ([p, q]) => +(p! < q!), less_equal: ([p, q]) => +(p! <= q!),
  greater: ([p, q]) => +(p! > q!), greater_equal: ([p, q]) => +(p! >= q!), and: ([p, q]) => +(!!p && !!q), or: ([p, q]) => +(!!p || !!q),
  not: ([p]) => +!p, where: ([c, p, q]) => (c ? p! : q!), mod: ([p, q]) => (q ? p! - Math.floor(p! / q) * q : NaN),
  floor_div: ([p, q]) => (q ? Math.floor(p! / q) : NaN), abs: ([p]) => Math.abs(p!), neg: ([p]) => -p!, sign: ([p]) => Math.sign(p!),
};

function elementwiseShape(op: Op, graph: Graph): (Shape | null)[] | null {
  if (op.attrs.fn === 'broadcast_args') {
    // TFLite BROADCAST_ARGS: two shapes in, their broadcast shape out.
    const shapes = dataShapes(op, graph);
    return shapes ? [[Math.max(...shapes.map((s) => s[0] ?? 0))]] : null;
  }
  const like = op.attrs.outputLike;
  if (like) return like.map((k) => shapeOf(graph, op.inputs[k])?.slice() ?? null);
  const shapes = dataShapes(op, graph);
  if (!shapes || shapes.length === 0) return null;
  return [broadcast(shapes)];
}

function elementwiseValue(op: Op, graph: Graph): number[] | undefined {
  const f = ELEMENTWISE_VALUE[op.attrs.fn ?? ''];
  const vals = op.inputs.filter((i) => i >= 0).map((i) => valuesOf(graph, i));
  if (op.attrs.fn === 'broadcast_args') return vals.every(Boolean) ? broadcast(vals as number[][]) : undefined;
  if (!f || vals.some((v) => !v)) return undefined;
  const n = Math.max(...vals.map((v) => v!.length));
  if (n > 64 || vals.some((v) => v!.length !== n && v!.length !== 1)) return undefined;
  const out = Array.from({ length: n }, (_, i) => f(vals.map((v) => v![v!.length === 1 ? 0 : i]!)));
  return out.every(Number.isFinite) ? out : undefined;
}

function concatShape(op: Op, graph: Graph): (Shape | null)[] | null {
  const shapes = dataShapes(op, graph);
  if (!shapes || shapes.length === 0) return null;
  const first = shapes[0]!;
  const axis = axisIn(op.attrs.axis ?? 0, first.length, 'concatenation axis');
  for (const sh of shapes) {
    if (sh.length !== first.length || sh.some((d, i) => i !== axis && d !== first[i])) fail(`inputs [${first.join(',')}] and [${sh.join(',')}] differ outside axis ${axis}`);
  }
  const out = first.slice();
  out[axis] = shapes.reduce((sum, s) => sum + (s[axis] ?? 0), 0);
  return [out];
}

function padShape(op: Op, graph: Graph, x: Shape | null): (Shape | null)[] | null {
  const a = op.attrs;
  if (!x) return null;
  let pads = a.padAmounts;
  // The pads computed in the graph (no axes operand: one amount per axis, begins then ends).
  if (!pads && graph.format === 'onnx' && (a.operands?.[3] ?? -1) < 0) pads = late(op, graph, 1);
  if (!pads && graph.format === 'onnx') {
    // opset >= 18 with an axes operand
    const [pi, , ai] = a.padOperands ?? [-1, -1, -1];
    const p = graph.tensors[pi]?.values;
    const axes = graph.tensors[ai]?.values;
    if (p && axes) {
      pads = new Array<number>(2 * x.length).fill(0);
      axes.forEach((ax, i) => { pads![norm(ax, x.length)] = p[i]!; pads![norm(ax, x.length) + x.length] = p[i + axes.length]!; });
      a.padAmounts = pads;
    }
  }
  if (!pads || pads.length !== 2 * x.length) return null;
  return [x.map((d, i) => d + pads![i]! + pads![i + x.length]!)];
}

function reshapeShape(op: Op, graph: Graph, x: Shape | null): (Shape | null)[] | null {
  if (!x) return null;
  const target = op.attrs.newShape ?? graph.tensors[op.params[0] ?? -1]?.values;
  if (!target) return null;
  const out = target.map((d, i) => (d === 0 && graph.format === 'onnx' ? x[i]! : d));
  const known = out.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
  const total = elementCount(x);
  const minus = out.indexOf(-1);
  if (minus >= 0) {
    if (known === 0 || total % known !== 0) fail(`cannot reshape ${total} elements to [${target.join(',')}]`);
    out[minus] = total / known;
  } else if (known !== total) fail(`cannot reshape ${total} elements to [${target.join(',')}]`);
  return [out];
}

function squeezeShape(op: Op, graph: Graph, x: Shape | null): (Shape | null)[] | null {
  if (!x) return null;
  const given = op.attrs.axes ?? late(op, graph, 1);
  if (!given && pending(op, graph, 1)) return null;
  const axes = given?.length ? axesIn(given, x.length, 'squeeze axis') : x.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0);
  const wide = axes.find((i) => x[i] !== 1);
  if (wide !== undefined) fail(`axis ${wide} has size ${x[wide]}, and only axes of size 1 can be squeezed`);
  return [x.filter((_, i) => !axes.includes(i))];
}

function unsqueezeShape(op: Op, graph: Graph, x: Shape | null): (Shape | null)[] | null {
  const given = op.attrs.axes ?? late(op, graph, 1);
  if (!x || !given) return null;
  const rank = x.length + given.length;
  const axes = axesIn(given, rank, 'unsqueeze axis');
  const out: number[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) out.push(axes.includes(i) ? 1 : x[j++]!);
  return [out];
}

/** Slice bounds: the attributes (TFLite, ONNX before opset 10, constant operands) or the folded operands. */
function sliceBounds(op: Op, graph: Graph): { starts: number[]; ends: number[]; axes?: number[]; steps?: number[] } | null {
  const a = op.attrs;
  const starts = a.starts ?? late(op, graph, 1);
  const ends = a.ends ?? late(op, graph, 2);
  const axes = a.axes ?? late(op, graph, 3);
  const steps = a.steps ?? late(op, graph, 4);
  if (!starts || !ends || (!axes && pending(op, graph, 3)) || (!steps && pending(op, graph, 4))) return null;
  return { starts, ends, ...(axes ? { axes } : {}), ...(steps ? { steps } : {}) };
}

/** One axis of a resolved slice: the first index, the step, and how many elements it takes. */
export interface SliceAxis { start: number; step: number; count: number }

/** A slice resolved on input shape `x`: per input axis where it starts, its step and count; the output shape (TFLite's
 *  shrink_axis_mask drops axes). ONNX Slice, TFLite SLICE (begin, size) and STRIDED_SLICE (begin, end, strides, masks);
 *  null while an operand is unknown. */
export function resolveSlice(op: Op, graph: Graph, x: Shape): { axes: SliceAxis[]; out: Shape } | null {
  const full = (n: number): SliceAxis => ({ start: 0, step: 1, count: n });
  const axes = x.map(full);
  if (graph.format === 'tflite') {
    const begin = valuesOf(graph, op.params[0]);
    const second = valuesOf(graph, op.params[1]);
    if (!begin || !second) return null;
    if (begin.length > x.length || second.length !== begin.length) fail(`begin [${begin.join(',')}] and its pair do not fit rank ${x.length}`);
    if (op.sourceType === 'SLICE') {
      begin.forEach((b, i) => {
        const n = x[i]!;
        const count = second[i] === -1 ? n - b : second[i]!;
        if (b < 0 || count < 0 || b + count > n) fail(`slice [${b}, +${second[i]}] is outside axis ${i} of size ${n}`);
        axes[i] = { start: b, step: 1, count };
      });
      return { axes, out: axes.map((a) => a.count) };
    }
    const strides = valuesOf(graph, op.params[2]) ?? begin.map(() => 1);
    const m = op.attrs.sliceMasks ?? { begin: 0, end: 0, ellipsis: 0, newAxis: 0, shrink: 0, offset: false };
    if (m.ellipsis || m.newAxis) fail('STRIDED_SLICE with an ellipsis or new-axis mask');
    const keep: boolean[] = x.map(() => true);
    begin.forEach((b0, i) => {
      const n = x[i]!;
      const step = strides[i] ?? 1;
      if (step === 0) fail('slice stride 0');
      const bit = (mask: number): boolean => ((mask >> i) & 1) === 1;
      const norm0 = (v: number): number => (v < 0 ? v + n : v);
      const clamp = (v: number): number => (step > 0 ? Math.max(0, Math.min(n, v)) : Math.max(-1, Math.min(n - 1, v)));
      if (bit(m.shrink)) {
        const s = norm0(b0);
        if (s < 0 || s >= n) fail(`index ${b0} is outside axis ${i} of size ${n}`);
        axes[i] = { start: s, step: 1, count: 1 };
        keep[i] = false;
        return;
      }
      const start = bit(m.begin) ? (step > 0 ? 0 : n - 1) : clamp(norm0(b0));
      const e0 = m.offset ? b0 + second[i]! : second[i]!;
      const end = bit(m.end) ? (step > 0 ? n : -1) : clamp(norm0(e0));
      axes[i] = { start, step, count: Math.max(0, Math.ceil((end - start) / step)) };
    });
    return { axes, out: axes.filter((_, i) => keep[i]).map((a) => a.count) };
  }
  const b = sliceBounds(op, graph);
  if (!b) return null;
  const which = b.axes ?? b.starts.map((_, i) => i);
  if (b.ends.length !== b.starts.length || which.length !== b.starts.length) fail(`${b.starts.length} starts, ${b.ends.length} ends and ${which.length} axes`);
  which.forEach((axRaw, i) => {
    const ax = axisIn(axRaw, x.length, 'slice axis');
    const n = x[ax]!;
    const step = b.steps?.[i] ?? 1;
    if (step === 0) fail('slice step 0');
    const clamp = (v: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, v < 0 ? v + n : v));
    const s = clamp(b.starts[i]!, step > 0 ? 0 : -1, step > 0 ? n : n - 1);
    const e = clamp(b.ends[i]!, step > 0 ? 0 : -1, step > 0 ? n : n - 1);
    axes[ax] = { start: s, step, count: Math.max(0, Math.ceil((e - s) / step)) };
  });
  return { axes, out: axes.map((a) => a.count) };
}

function sliceShape(op: Op, graph: Graph, x: Shape | null): (Shape | null)[] | null {
  if (!x) return null;
  const r = resolveSlice(op, graph, x);
  return r ? [r.out] : null;
}

function sliceValue(op: Op, graph: Graph): number[] | undefined {
  const data = valuesOf(graph, op.inputs[0]);
  const xs = shapeOf(graph, op.inputs[0]);
  if (!data || !xs || xs.length !== 1 || data.length !== xs[0]) return undefined;
  const a = resolveSlice(op, graph, xs)?.axes[0];
  return a ? Array.from({ length: a.count }, (_, i) => data[a.start + i * a.step]!) : undefined;
}

function splitShape(op: Op, graph: Graph, x: Shape | null): (Shape | null)[] | null {
  if (!x) return null;
  const axis = axisIn(op.attrs.axis ?? 0, x.length, 'split axis');
  const n = op.outputs.length;
  if (!op.attrs.splitSizes && pending(op, graph, 1)) return null;
  const given = op.attrs.splitSizes ?? late(op, graph, 1);
  // TFLite SPLIT_V: one size may be -1, the rest of the axis.
  const rest = given && given.filter((v) => v === -1).length === 1 ? x[axis]! - given.reduce((p, q) => (q === -1 ? p : p + q), 0) : null;
  const sizes = given ? given.map((v) => (v === -1 && rest !== null ? rest : v)) : x[axis]! % n === 0 ? new Array<number>(n).fill(x[axis]! / n) : null;
  if (!sizes) return null;
  if (sizes.length !== n) fail(`${sizes.length} split sizes for ${n} outputs`);
  if (sizes.some((v) => !Number.isInteger(v) || v < 0) || sizes.reduce((p, q) => p + q, 0) !== x[axis]) fail(`split sizes [${sizes.join(',')}] do not add up to the ${x[axis]} of axis ${axis}`);
  return sizes.map((s) => x.map((d, i) => (i === axis ? s : d)));
}

function gatherShape(op: Op, graph: Graph, x: Shape | null): (Shape | null)[] | null {
  const idx = shapeOf(graph, op.inputs[1]);
  if (!x || !idx) return null;
  const axis = axisIn(op.attrs.axis ?? 0, x.length, 'gather axis');
  return [[...x.slice(0, axis), ...idx, ...x.slice(axis + 1)]];
}

function gatherValue(op: Op, graph: Graph): number[] | undefined {
  const data = valuesOf(graph, op.inputs[0]);
  const idx = valuesOf(graph, op.inputs[1]);
  if (!data || !idx) return undefined;
  const out = idx.map((i) => data[i < 0 ? i + data.length : i]);
  return out.every((v) => v !== undefined) ? (out as number[]) : undefined;
}

function gatherNdShape(op: Op, graph: Graph, x: Shape | null): (Shape | null)[] | null {
  const idx = shapeOf(graph, op.inputs[1]);
  if (!x || !idx || idx.length === 0) return null;
  const b = op.attrs.axis ?? 0; // batch_dims
  const last = idx[idx.length - 1]!;
  if (last > x.length - b || b < 0) fail(`indices [${idx.join(',')}] address ${last} axes of a rank-${x.length} tensor`);
  return [[...idx.slice(0, -1), ...x.slice(b + last)]];
}

function transposeShape(op: Op, _graph: Graph, x: Shape | null): (Shape | null)[] | null {
  if (!x) return null;
  const perm = op.attrs.perm ?? x.map((_, i) => x.length - 1 - i);
  if (perm.length !== x.length) fail(`perm [${perm.join(',')}] does not match rank ${x.length}`);
  if (perm.some((p) => !Number.isInteger(p) || p < 0 || p >= x.length) || new Set(perm).size !== perm.length) fail(`perm [${perm.join(',')}] is not a permutation of the ${x.length} axes`);
  return [perm.map((p) => x[p]!)];
}

function resizeShape(op: Op, graph: Graph, x: Shape | null): (Shape | null)[] | null {
  const a = op.attrs;
  if (!x) return null;
  if (a.sizes && a.sizes.length === x.length) return [a.sizes.slice()];
  if (a.sizes && a.sizes.length === 2 && graph.format === 'tflite' && x.length === 4) return [[x[0]!, a.sizes[0]!, a.sizes[1]!, x[3]!]];
  if (a.scales && a.scales.length === x.length) return [x.map((d, i) => Math.floor(d * a.scales![i]!))];
  return null;
}

function reduceShape(op: Op, graph: Graph, x: Shape | null): (Shape | null)[] | null {
  if (!x) return null;
  const given = op.attrs.axes ?? late(op, graph, 1);
  if (!given && pending(op, graph, 1)) return null;
  const axes = given ? axesIn(given, x.length, 'reduction axis') : x.map((_, i) => i);
  return [op.attrs.keepDims ? x.map((d, i) => (axes.includes(i) ? 1 : d)) : x.filter((_, i) => !axes.includes(i))];
}

function packShape(op: Op, graph: Graph): (Shape | null)[] | null {
  const shapes = dataShapes(op, graph);
  if (!shapes || shapes.length === 0) return null;
  const first = shapes[0]!;
  if (shapes.some((s) => s.join() !== first.join())) fail(`packed values differ in shape ([${first.join(',')}] and others)`);
  const axis = axisIn(op.attrs.axis ?? 0, first.length + 1, 'pack axis');
  const out = first.slice();
  out.splice(axis, 0, shapes.length);
  return [out];
}

function unpackShape(op: Op, _graph: Graph, x: Shape | null): (Shape | null)[] | null {
  if (!x) return null;
  const axis = axisIn(op.attrs.axis ?? 0, x.length, 'unpack axis');
  if (x[axis] !== op.outputs.length) fail(`axis ${axis} of size ${x[axis]} unpacks into ${op.outputs.length} outputs`);
  const out = x.filter((_, i) => i !== axis);
  return op.outputs.map(() => out.slice());
}

function tileShape(op: Op, graph: Graph, x: Shape | null): (Shape | null)[] | null {
  const m = op.attrs.multiples ?? valuesOf(graph, op.params[0]);
  if (!x || !m) return null;
  if (m.length !== x.length || m.some((v) => !Number.isInteger(v) || v < 0)) fail(`repeats [${m.join(',')}] do not match rank ${x.length}`);
  return [x.map((d, i) => d * m[i]!)];
}

function expandShape(op: Op, graph: Graph, x: Shape | null): (Shape | null)[] | null {
  const target = valuesOf(graph, op.params[0]);
  if (!x || !target) return null;
  if (target.some((d) => !Number.isInteger(d) || d < 0)) fail(`target shape [${target.join(',')}] is not a shape`);
  // ONNX Expand broadcasts both ways (a target dimension of 1 keeps the input's); TFLite BROADCAST_TO the same.
  return [broadcast([x, target])];
}

function expandValue(op: Op, graph: Graph): number[] | undefined {
  const v = valuesOf(graph, op.inputs[0]);
  const target = valuesOf(graph, op.params[0]);
  if (!v || !target || v.length !== 1 || target.some((d) => d < 0)) return undefined;
  const n = elementCount(target);
  return n <= 64 ? new Array<number>(n).fill(v[0]!) : undefined;
}

function depthSpaceShape(op: Op, _graph: Graph, x: Shape | null): (Shape | null)[] | null {
  if (!x) return null;
  if (x.length !== 4) fail(`input [${x.join(',')}] is not 4-D`);
  const b = positive(op.attrs.blockSize, 'block size');
  const ax = axesNCHW(op);
  const out = x.slice();
  if (op.kind === 'SpaceToDepth') {
    if (x[ax.h]! % b || x[ax.w]! % b) fail(`spatial size ${x[ax.h]}×${x[ax.w]} is not a multiple of block ${b}`);
    out[ax.h] = x[ax.h]! / b; out[ax.w] = x[ax.w]! / b; out[ax.c] = x[ax.c]! * b * b;
  } else {
    if (x[ax.c]! % (b * b)) fail(`${x[ax.c]} channels are not a multiple of block ${b}²`);
    out[ax.h] = x[ax.h]! * b; out[ax.w] = x[ax.w]! * b; out[ax.c] = x[ax.c]! / (b * b);
  }
  return [out];
}

function batchSpaceShape(op: Op, graph: Graph, x: Shape | null): (Shape | null)[] | null {
  const block = valuesOf(graph, op.params[0]);
  const pads = valuesOf(graph, op.params[1]);
  if (!x || !block || !pads) return null;
  const m = block.length;
  if (x.length < m + 1 || pads.length !== 2 * m || block.some((b) => !Number.isInteger(b) || b <= 0)) fail(`block shape [${block.join(',')}] and paddings/crops do not fit input [${x.join(',')}]`);
  const prod = block.reduce((p, b) => p * b, 1);
  const out = x.slice();
  for (let i = 0; i < m; i++) {
    const d = x[1 + i]!;
    if (op.kind === 'SpaceToBatch') {
      const padded = d + pads[2 * i]! + pads[2 * i + 1]!;
      if (padded % block[i]!) fail(`padded size ${padded} of axis ${1 + i} is not a multiple of block ${block[i]}`);
      out[1 + i] = padded / block[i]!;
    } else out[1 + i] = d * block[i]! - pads[2 * i]! - pads[2 * i + 1]!;
  }
  if (op.kind === 'SpaceToBatch') out[0] = x[0]! * prod;
  else {
    if (x[0]! % prod) fail(`batch ${x[0]} is not a multiple of ${prod}`);
    out[0] = x[0]! / prod;
  }
  if (out.some((d) => d < 0)) fail(`crops exceed input [${x.join(',')}]`);
  return [out];
}

function argReduceShape(op: Op, graph: Graph, x: Shape | null): (Shape | null)[] | null {
  const axisVal = op.attrs.axis ?? valuesOf(graph, op.params[0])?.[0];
  if (!x || axisVal === undefined) return null;
  const axis = axisIn(axisVal, x.length, 'reduction axis');
  return [op.attrs.keepDims ? x.map((d, i) => (i === axis ? 1 : d)) : x.filter((_, i) => i !== axis)];
}

/** ONNX Attention (opset 23): Q, K, V as [B, S, heads × size] (head counts in attributes) or [B, heads, S, size];
 *  a past key and value [B, kv heads, past, size] are prepended. Outputs by position: Y (Q's layout, V's head size),
 *  present key and value, and the QK product [B, q heads, Sq, past + Skv]. */
function attentionDims(op: Op, graph: Graph): { b: number; hq: number; hkv: number; sq: number; skv: number; past: number; dk: number; dv: number; rank: number } | null {
  const [q, k, v] = [0, 1, 2].map((i) => shapeOf(graph, op.inputs[i]));
  const h = op.attrs.heads;
  if (!q || !k || !v || !h) return null;
  if (q.length !== k.length || q.length !== v.length || (q.length !== 3 && q.length !== 4)) fail(`Q, K and V of ranks ${q.length}, ${k.length}, ${v.length} (3 or 4 each)`);
  const three = q.length === 3;
  const hq = three ? h.q : q[1]!;
  const hkv = three ? h.kv : k[1]!;
  if (!(hq > 0) || !(hkv > 0)) fail('q_num_heads and kv_num_heads are needed with 3-D inputs');
  const size = (s: Shape, heads: number, what: string): number => {
    if (!three) return s[3]!;
    if (s[2]! % heads !== 0) fail(`${what} width ${s[2]} is not a multiple of ${heads} heads`);
    return s[2]! / heads;
  };
  const dk = size(k, hkv, 'K');
  if (size(q, hq, 'Q') !== dk) fail(`Q's head size ${size(q, hq, 'Q')} differs from K's ${dk}`);
  if (hq % hkv !== 0) fail(`${hq} query heads do not share ${hkv} key/value heads evenly`);
  const past = shapeOf(graph, op.inputs[4]);
  return { b: q[0]!, hq, hkv, sq: q[three ? 1 : 2]!, skv: k[three ? 1 : 2]!, past: past ? past[2] ?? 0 : 0, dk, dv: size(v, hkv, 'V'), rank: q.length };
}

function attentionShape(op: Op, graph: Graph): (Shape | null)[] | null {
  const d = attentionDims(op, graph);
  if (!d) return null;
  const total = d.past + d.skv;
  const bySlot = [
    d.rank === 3 ? [d.b, d.sq, d.hq * d.dv] : [d.b, d.hq, d.sq, d.dv],
    [d.b, d.hkv, total, d.dk],
    [d.b, d.hkv, total, d.dv],
    [d.b, d.hq, d.sq, total],
  ];
  const slots = op.attrs.heads?.slots ?? op.outputs.map((_, k) => k);
  return op.outputs.map((_, k) => bySlot[slots[k] ?? k]?.slice() ?? null);
}

/** GridSample: X [N, C, spatial…] sampled at grid [N, out spatial…, r] gives [N, C, out spatial…]. */
function gridSampleShape(op: Op, graph: Graph, x: Shape | null): (Shape | null)[] | null {
  const grid = shapeOf(graph, op.inputs[1]);
  if (!x || !grid) return null;
  if (x.length < 3) fail(`input [${x.join(',')}] is not [N, C, spatial…]`);
  if (grid.length !== x.length || grid[grid.length - 1] !== x.length - 2) fail(`grid [${grid.join(',')}] does not sample the ${x.length - 2}-D input [${x.join(',')}]`);
  return [[x[0]!, x[1]!, ...grid.slice(1, -1)]];
}

function topKShape(op: Op, graph: Graph, x: Shape | null): (Shape | null)[] | null {
  const k = op.attrs.count ?? valuesOf(graph, op.params[0])?.[0];
  if (!x || k === undefined) return null;
  const axis = axisIn(op.attrs.axis ?? -1, x.length, 'top-k axis');
  if (!Number.isInteger(k) || k < 0 || k > x[axis]!) fail(`k ${k} is outside axis ${axis} of size ${x[axis]}`);
  const out = x.map((d, i) => (i === axis ? k : d));
  return op.outputs.map(() => out.slice());
}

/** The shape as a value; ONNX opset 15's start and end select a part of it. */
function shapeValue(op: Op, graph: Graph): number[] | undefined {
  const x = shapeOf(graph, op.inputs[0]);
  if (!x) return undefined;
  const n = x.length;
  const clamp = (v: number): number => Math.max(0, Math.min(n, v < 0 ? v + n : v));
  return x.slice(clamp(op.attrs.starts?.[0] ?? 0), clamp(op.attrs.ends?.[0] ?? n));
}

/** Range(start, limit, delta): the three operands as constants. */
function rangeCount(op: Op, graph: Graph): number | undefined {
  const [s, l, d] = [0, 1, 2].map((i) => valuesOf(graph, op.inputs[i])?.[0]);
  if (s === undefined || l === undefined || d === undefined) return undefined;
  if (d === 0) fail('range delta 0');
  return Math.max(Math.ceil((l - s) / d), 0);
}

function constantOfShapeShape(op: Op, graph: Graph): (Shape | null)[] | null {
  const v = op.inputs.length > 0 && op.inputs[0]! >= 0 ? valuesOf(graph, op.inputs[0]) : op.attrs.newShape;
  if (!v) return null;
  if (v.some((d) => !Number.isInteger(d) || d < 0)) fail(`shape [${v.join(',')}] is not a shape`);
  return [v.slice()];
}

// ---- recurrent layers and heads -----------------------------------------------------------------------------------

/** ONNX LSTM/GRU/RNN: X [seq, batch, in] (layout 0) or [batch, seq, in]; W [dirs, gates·hidden, in]. TFLite sequence
 *  ops: input [batch, time, in] (or time-major); output [.., .., units]; SVDF: [batch, units]. */
function recurrentShape(op: Op, graph: Graph, x: Shape | null): (Shape | null)[] | null {
  const r = op.attrs.recurrent;
  if (!x || !r) return null;
  const hidden = r.hiddenSize;
  if (hidden === undefined) return null;
  if (graph.format === 'onnx') {
    if (x.length !== 3) fail(`input [${x.join(',')}] is not [sequence, batch, features]`);
    const [seq, batch] = r.timeMajor ? [x[0]!, x[1]!] : [x[1]!, x[0]!];
    const y = r.timeMajor ? [seq, r.directions, batch, hidden] : [batch, seq, r.directions, hidden];
    const state = r.timeMajor ? [r.directions, batch, hidden] : [batch, r.directions, hidden];
    return op.outputs.map((_, k) => ((r.outputSlots?.[k] ?? k) === 0 ? y : state));
  }
  if (r.cell === 'svdf') return [[x[0]!, hidden]];
  if (x.length === 2) return [[x[0]!, hidden]]; // TFLite LSTM/RNN on one step
  if (x.length !== 3) fail(`input [${x.join(',')}] is not [batch, time, features]`);
  return [[x[0]!, x[1]!, hidden * (r.directions === 2 && op.outputs.length === 1 ? 2 : 1)], ...op.outputs.slice(1).map(() => [x[0]!, x[1]!, hidden])];
}

function recurrentMacs(op: Op, graph: Graph): number {
  const r = op.attrs.recurrent;
  const x = shapeOf(graph, op.inputs[0]);
  if (!r || !x || r.hiddenSize === undefined) return 0;
  const h = r.hiddenSize;
  const features = x[x.length - 1]!;
  const steps = elementCount(x.slice(0, -1)); // time × batch
  if (r.cell === 'svdf') {
    const wf = shapeOf(graph, op.inputs[1]);
    const wt = shapeOf(graph, op.inputs[2]);
    return wf && wt ? steps * (wf[0]! * features + wt[0]! * wt[1]!) : 0;
  }
  return steps * r.directions * r.gates * h * (features + h);
}

function lossShape(op: Op, _graph: Graph, x: Shape | null): (Shape | null)[] | null {
  if (!x || x.length < 2) return null;
  const per = [x[0]!, ...x.slice(2)];
  return op.outputs.map((_, k) => (k === 0 ? (op.attrs.reduction === 'none' ? per : []) : x.slice()));
}

/** ai.onnx.ml classifiers: label [N], scores [N, classes]; an SVM of support vectors without probabilities gives its
 *  pairwise decisions instead, C(C − 1)/2 of them (two, −d and d, for a binary one), as onnxruntime does. */
function classifierShape(op: Op, _graph: Graph, x: Shape | null): (Shape | null)[] | null {
  const classes = op.attrs.count;
  if (!x || classes === undefined) return null;
  const n = x.length > 1 ? x[0]! : 1;
  const o = op.attrs.opts ?? {};
  const pairs = (classes * (classes - 1)) / 2;
  const scores = op.sourceType === 'ai.onnx.ml.SVMClassifier' && (o.vectors ?? 0) > 0 && !o.proba ? (pairs === 1 ? 2 : pairs) : classes;
  return op.outputs.map((_, k) => (k === 0 ? [n] : [n, scores]));
}

// ---- special operators: one shape rule each, by attrs.fn ------------------------------------------------------------

/** A scalar operand at `pos` that must be a whole number ≥ `min` (a depth, a size, a length), or undefined while not
 *  known. */
function scalarOperand(op: Op, graph: Graph, pos: number, what: string, min = 1): number | undefined {
  const v = late(op, graph, pos);
  if (!v) return undefined;
  if (v.length !== 1 || !Number.isInteger(v[0]) || v[0]! < min) fail(`${what} ${v.join(',')} is not a whole number ≥ ${min}`);
  return v[0]!;
}

/** Einsum: letters of each operand term sized from its shape ('...' takes the dimensions no letter names), the output
 *  term given or implicit (the ellipsis, then the letters used once, in alphabetical order). */
function einsumParse(op: Op, graph: Graph): { out: Shape; sizes: Map<string, number>; ell: Shape } | null {
  const shapes = dataShapes(op, graph);
  if (!shapes) return null;
  const eq = (op.attrs.equation ?? '').replace(/\s+/g, '');
  if (!/^[A-Za-z.,]*(->[A-Za-z.]*)?$/.test(eq)) fail(`equation '${eq.slice(0, 64)}' is not an Einsum equation`);
  const [lhs, rhs] = eq.split('->') as [string, string | undefined];
  const terms = lhs.split(',');
  if (terms.length !== shapes.length) fail(`equation '${eq}' has ${terms.length} operands, the node ${shapes.length}`);
  const sizes = new Map<string, number>();
  const counts = new Map<string, number>();
  let ell: Shape = [];
  const letters = (term: string): string[] => {
    if ((term.match(/\.\.\./g) ?? []).length > 1 || term.replace('...', '').includes('.')) fail(`term '${term}' has a malformed ellipsis`);
    return [...term.replace('...', '')];
  };
  terms.forEach((term, i) => {
    const sh = shapes[i]!;
    const ls = letters(term);
    const hasEll = term.includes('...');
    const nEll = sh.length - ls.length;
    if (nEll < 0 || (!hasEll && nEll !== 0)) fail(`term '${term}' does not fit operand [${sh.join(',')}]`);
    const at = hasEll ? term.indexOf('...') : ls.length;
    ell = broadcast([ell, sh.slice(at, at + nEll)]);
    ls.forEach((l, j) => {
      const d = sh[j < at ? j : j + nEll]!;
      const prev = sizes.get(l);
      if (prev !== undefined && prev !== d) fail(`label '${l}' is ${prev} in one operand and ${d} in another`);
      sizes.set(l, d);
      counts.set(l, (counts.get(l) ?? 0) + 1);
    });
  });
  const outTerm = rhs ?? `...${[...counts].filter(([, c]) => c === 1).map(([l]) => l).sort().join('')}`;
  const outLetters = letters(outTerm);
  if (new Set(outLetters).size !== outLetters.length) fail(`output term '${outTerm}' repeats a label`);
  const dims = outLetters.map((l) => { const d = sizes.get(l); if (d === undefined) fail(`output label '${l}' is not in any operand`); return d; });
  const at = outTerm.includes('...') ? outTerm.indexOf('...') : dims.length;
  if (!outTerm.includes('...') && ell.length > 0 && elementCount(ell) !== 1) fail(`output term '${outTerm}' drops the ellipsis dimensions [${ell.join(',')}]`);
  return { out: [...dims.slice(0, at), ...(outTerm.includes('...') ? ell : []), ...dims.slice(at)], sizes, ell };
}

/** DFT's axis: opset 17's attribute, or opset 20's third operand (default -2), over the signal axes (the last holds
 *  the real and imaginary parts). */
function dftAxis(op: Op, graph: Graph, x: Shape): number | undefined {
  const fromAttr = op.attrs.opts?.axis;
  if (fromAttr !== undefined) return axisIn(fromAttr, x.length - 1, 'DFT axis');
  if (pending(op, graph, 2)) return undefined;
  return axisIn(late(op, graph, 2)?.[0] ?? -2, x.length, 'DFT axis');
}

/** An operator's optional axis attribute (Compress, Unique): the axis and its length, or, without one, the input's
 *  element count (it works on the input flattened). */
function optionalAxis(op: Op, x: Shape, what: string): { axis: number | undefined; length: number } {
  if (op.attrs.axis === undefined) return { axis: undefined, length: elementCount(x) };
  const axis = axisIn(op.attrs.axis, x.length, what);
  return { axis, length: x[axis]! };
}

interface SpecialRule {
  shape: OpRule['shape'];
  macs?: OpRule['macs'];
  dtype?: OpRule['dtype'];
  /** The output's size depends on the data: the shape given is the most it can hold (what a static plan reserves). */
  bounded?: true | ((op: Op) => boolean);
}

/** The operator's outputs are sized for the most they can hold (their size is known only at run time). */
export function isBounded(op: Op): boolean {
  const b = op.kind === 'Special' ? SPECIAL_RULES[op.attrs.fn ?? '']?.bounded : undefined;
  return b === true || (typeof b === 'function' && b(op));
}

/** The rules of the Special kind (the ONNX operator each serves in its key's comments). */
export const SPECIAL_RULES: Readonly<Record<string, SpecialRule>> = {
  einsum: {
    shape: (op, g) => { const e = einsumParse(op, g); return e ? [e.out] : null; },
    // Every point of the joint index space costs a multiply per operand after the first.
    macs: (op, g) => {
      const e = einsumParse(op, g);
      return e && op.inputs.length > 1 ? (op.inputs.length - 1) * elementCount([...e.sizes.values()]) * elementCount(e.ell) : 0;
    },
  },
  // OneHot(indices, depth, values): the indices' shape with `depth` inserted at `axis`; the values' type.
  onehot: {
    shape: (op, g, x) => {
      const depth = scalarOperand(op, g, 1, 'one-hot depth');
      if (!x || depth === undefined) return null;
      const out = x.slice();
      out.splice(axisIn(op.attrs.axis ?? -1, x.length + 1, 'one-hot axis'), 0, depth);
      return [out];
    },
    dtype: (op, g) => g.tensors[op.attrs.operands?.[2] ?? -1]?.dtype ?? 'unknown',
  },
  // DeformConv: a convolution's output (its offsets and mask only move the sampling points).
  deformconv: { shape: (op, g, x) => convNdShape(op, g, x), macs: (op, g, out) => convNdMacs(op, g, out) },
  // RoiAlign(X, rois [R, 4], batch_indices): [R, C, output_height, output_width].
  roialign: {
    shape: (op, g, x) => {
      const rois = shapeOf(g, op.inputs[1]);
      if (!x || !rois) return null;
      if (x.length !== 4 || rois.length !== 2 || rois[1] !== 4) fail(`input [${x.join(',')}] and rois [${rois.join(',')}] are not [N, C, H, W] and [R, 4]`);
      return [[rois[0]!, x[1]!, positive(op.attrs.opts?.output_height, 'output height'), positive(op.attrs.opts?.output_width, 'output width')]];
    },
  },
  // MaxUnpool(X, I, output_shape?): the given shape, else each spatial axis (in − 1)·stride + kernel − pads.
  maxunpool: {
    shape: (op, g, x) => {
      const given = late(op, g, 2);
      if (!x || (!given && pending(op, g, 2))) return null;
      if (given) return [given.slice()];
      const nd = op.attrs.nd;
      const n = x.length - 2;
      if (!nd?.kernel || nd.kernel.length !== n) fail(`kernel_shape does not give one size per spatial axis of [${x.join(',')}]`);
      const s = nd.strides ?? new Array<number>(n).fill(1);
      const p = nd.pads ?? new Array<number>(2 * n).fill(0);
      return [[x[0]!, x[1]!, ...nd.kernel.map((k, i) => (x[2 + i]! - 1) * (s[i] ?? 1) + k - (p[i] ?? 0) - (p[i + n] ?? 0))]];
    },
  },
  // Col2Im(input [N, C·∏block, L], image_shape, block_shape): [N, C, ...image_shape].
  col2im: {
    shape: (op, g, x) => {
      const image = late(op, g, 1);
      const block = late(op, g, 2);
      if (!x || !image || !block) return null;
      const per = elementCount(block);
      if (x.length !== 3 || per <= 0 || x[1]! % per !== 0) fail(`input [${x.join(',')}] is not [N, C·${per}, L]`);
      return [[x[0]!, x[1]! / per, ...image]];
    },
  },
  // CenterCropPad(input, shape, axes): the input with the given axes cropped or padded to `shape`.
  centercroppad: {
    shape: (op, g, x) => {
      const target = late(op, g, 1);
      if (!x || !target) return null;
      const axes = op.attrs.axes ? axesIn(op.attrs.axes, x.length, 'crop axis') : x.map((_, i) => i);
      if (axes.length !== target.length) fail(`shape [${target.join(',')}] does not give one size per axis of [${axes.join(',')}]`);
      const out = x.slice();
      axes.forEach((a, i) => { out[a] = target[i]!; });
      return [out];
    },
  },
  // AffineGrid(theta [N, 2, 3] or [N, 3, 4], size [N, C, H, W] or [N, C, D, H, W]): [N, H, W, 2] or [N, D, H, W, 3].
  affinegrid: {
    shape: (op, g) => {
      const size = late(op, g, 1);
      if (!size) return null;
      if (size.length !== 4 && size.length !== 5) fail(`size [${size.join(',')}] is not [N, C, H, W] or [N, C, D, H, W]`);
      return [[size[0]!, ...size.slice(2), size.length - 2]];
    },
  },
  // Hann, Hamming and Blackman windows: [size].
  window: { shape: (op, g) => { const n = scalarOperand(op, g, 0, 'window size'); return n === undefined ? null : [[n]]; } },
  // MelWeightMatrix(num_mel_bins, dft_length, ...): [dft_length / 2 + 1, num_mel_bins].
  melweightmatrix: {
    shape: (op, g) => {
      const bins = scalarOperand(op, g, 0, 'mel bin count');
      const dft = scalarOperand(op, g, 1, 'DFT length');
      return bins === undefined || dft === undefined ? null : [[Math.floor(dft / 2) + 1, bins]];
    },
  },
  // DFT(input [.., n, .., 1|2], dft_length?, axis?): complex output (last axis 2), n replaced by dft_length, or
  // halved + 1 when onesided (a real-to-complex transform). An inverse onesided transform is not sized.
  dft: {
    shape: (op, g, x) => {
      if (!x) return null;
      if (x.length < 3 || (x.at(-1) !== 1 && x.at(-1) !== 2)) fail(`input [${x.join(',')}] does not end in an axis of 1 (real) or 2 (complex)`);
      const axis = dftAxis(op, g, x);
      if (axis === undefined || pending(op, g, 1)) return null;
      if (axis === x.length - 1) fail('the DFT axis is the real/imaginary axis');
      const n = late(op, g, 1)?.[0] ?? x[axis]!;
      if (!Number.isInteger(n) || n < 1) fail(`DFT length ${n} is not a whole number ≥ 1`);
      if (op.attrs.opts?.onesided && op.attrs.opts.inverse) return null;
      const out = x.slice();
      out[axis] = op.attrs.opts?.onesided ? Math.floor(n / 2) + 1 : n;
      out[out.length - 1] = 2;
      return [out];
    },
    // A direct transform: n complex multiply-adds per output value.
    macs: (op, g, out) => { const x = shapeOf(g, op.inputs[0]); const axis = x ? dftAxis(op, g, x) : undefined; return x && axis !== undefined ? elementCount(out.slice(0, -1)) * x[axis]! : 0; },
  },
  // STFT(signal [B, L, 1|2], frame_step, window?, frame_length?): [B, frames, bins, 2].
  stft: {
    shape: (op, g, x) => {
      const step = scalarOperand(op, g, 1, 'frame step');
      const window = shapeOf(g, op.attrs.operands?.[2]);
      const len = late(op, g, 3)?.[0] ?? window?.[0];
      if (!x || step === undefined || len === undefined || pending(op, g, 3)) return null;
      if (x.length !== 3 || !Number.isInteger(len) || len < 1 || len > x[1]!) fail(`frame length ${len} does not fit signal [${x.join(',')}]`);
      const bins = op.attrs.opts?.onesided ? Math.floor(len / 2) + 1 : len;
      return [[x[0]!, Math.floor((x[1]! - len) / step) + 1, bins, 2]];
    },
    macs: (op, g, out) => elementCount(out.slice(0, -1)) * (late(op, g, 3)?.[0] ?? shapeOf(g, op.attrs.operands?.[2])?.[0] ?? 0),
  },
  // Det(X [.., M, M]): [..].
  det: {
    shape: (_op, _g, x) => {
      if (!x) return null;
      if (x.length < 2 || x.at(-1) !== x.at(-2)) fail(`input [${x.join(',')}] is not a batch of square matrices`);
      return [x.slice(0, -2)];
    },
  },
  // BitCast: the same bytes read as another type; a wider type consumes the last axis, a narrower one adds one.
  bitcast: {
    shape: (op, g, x) => {
      const from = DTYPE_BITS[g.tensors[op.inputs[0] ?? -1]?.dtype ?? 'unknown'];
      const to = DTYPE_BITS[op.attrs.toDType ?? 'unknown'];
      if (!x || !from || !to) return null;
      if (from === to) return [x.slice()];
      if (from > to) return [[...x, from / to]];
      if (x.at(-1) !== to / from) fail(`the last axis of [${x.join(',')}] is not ${to / from} values of ${from} bits`);
      return [x.slice(0, -1)];
    },
  },
  // CausalConvWithState(input [B, C, L], weight [C, 1, k], bias?, past_state?): output like the input, present state
  // [B, C, k − 1].
  causalconv: {
    shape: (op, g, x) => {
      const w = shapeOf(g, op.inputs[1]);
      if (!x || !w) return null;
      if (x.length !== 3 || w.length !== 3 || w[0] !== x[1] || w[1] !== 1) fail(`input [${x.join(',')}] and weight [${w.join(',')}] are not [B, C, L] and [C, 1, k]`);
      return op.outputs.map((_, k) => (k === 0 ? x.slice() : [x[0]!, x[1]!, w[2]! - 1]));
    },
    macs: (op, g, out) => elementCount(out) * (shapeOf(g, op.inputs[1])?.[2] ?? 0),
  },
  // NonMaxSuppression(boxes [B, S, 4], scores [B, C, S], max_output_boxes_per_class = 0, ...): at most
  // B·C·min(max, S) selected [batch, class, box] triples.
  nonmaxsuppression: {
    bounded: true,
    shape: (op, g, boxes) => {
      const scores = shapeOf(g, op.attrs.operands?.[1]);
      if (!boxes || !scores || pending(op, g, 2)) return null;
      if (boxes.length !== 3 || boxes[2] !== 4 || scores.length !== 3 || scores[0] !== boxes[0] || scores[2] !== boxes[1]) fail(`boxes [${boxes.join(',')}] and scores [${scores.join(',')}] are not [B, S, 4] and [B, C, S]`);
      const max = late(op, g, 2)?.[0] ?? 0;
      return [[boxes[0]! * scores[1]! * Math.max(0, Math.min(max, boxes[1]!)), 3]];
    },
    dtype: () => 'int64',
  },
  // NonZero(X): [rank, at most every element].
  nonzero: { bounded: true, shape: (_op, _g, x) => (x ? [[x.length, elementCount(x)]] : null), dtype: () => 'int64' },
  // Compress(input, condition, axis?): as many slices as the condition has true values (known when it is a
  // constant), else at most the axis' length; without an axis the input flattened.
  compress: {
    bounded: true,
    shape: (op, g, x) => {
      if (!x) return null;
      const { axis, length } = optionalAxis(op, x, 'compress axis');
      const cond = late(op, g, 1);
      const n = cond ? cond.slice(0, length).filter((c) => c !== 0).length : length;
      return [axis === undefined ? [n] : x.map((d, i) => (i === axis ? n : d))];
    },
  },
  // Unique(X, axis?): Y (at most every value, or slice along the axis), indices, inverse indices, counts.
  unique: {
    bounded: true,
    shape: (op, _g, x) => {
      if (!x) return null;
      const { axis, length: n } = optionalAxis(op, x, 'unique axis');
      const y = axis === undefined ? [n] : x.slice();
      return op.outputs.map((_, k) => (k === 0 ? y : [n]));
    },
    dtype: (op, g, k) => (k === 0 ? (g.tensors[op.inputs[0] ?? -1]?.dtype ?? 'unknown') : 'int64'),
  },
  // TFLite control flow, inlined by the reader: IF's outputs are its then-branch's (the else branch must agree), a
  // WHILE's outputs its loop variables'; a subgraph's inputs are copies of the operands passed in.
  if: {
    shape: (op, g) => {
      const [then, other] = op.attrs.calls ?? [];
      if (!then || then.outputs.length !== op.outputs.length || (other && other.outputs.length !== op.outputs.length)) fail('its branches do not return one value per output');
      return op.outputs.map((_, k) => {
        const a = shapeOf(g, then.outputs[k]);
        const b = other ? shapeOf(g, other.outputs[k]) : a;
        if (a && b && a.join() !== b.join()) fail(`output ${k} is [${a.join(',')}] in one branch and [${b.join(',')}] in the other`);
        return a?.slice() ?? null;
      });
    },
    dtype: (op, g, k) => g.tensors[op.attrs.calls?.[0]?.outputs[k] ?? -1]?.dtype ?? 'unknown',
  },
  while: {
    shape: (op, g) => {
      if (op.inputs.length !== op.outputs.length) fail(`${op.inputs.length} loop variables in, ${op.outputs.length} out`);
      return op.inputs.map((i) => shapeOf(g, i)?.slice() ?? null);
    },
  },
  call_once: { shape: () => [] },
  // ONNX Loop(M, cond, v_initial...): its body's inputs (iteration number, condition, the carried values) copied in;
  // then the final carried values and each scan output stacked M times (at most: the condition may end it sooner).
  loop_in: {
    shape: (op, g) => op.outputs.map((_, k) => (k < 2 ? [] : shapeOf(g, op.inputs[k])?.slice() ?? null)),
    dtype: (op, g, k) => (k === 0 ? 'int64' : k === 1 ? 'bool' : g.tensors[op.inputs[k] ?? -1]?.dtype ?? 'unknown'),
  },
  loop: {
    bounded: (op) => op.outputs.length > (op.attrs.opts?.carried ?? 0),
    shape: (op, g) => {
      const n = op.attrs.opts?.carried ?? 0;
      const body = op.attrs.calls?.[0];
      if (!body || body.outputs.length !== 1 + op.outputs.length) fail(`its body returns ${body?.outputs.length ?? 0} values for a condition and ${op.outputs.length} outputs`);
      const trips = late(op, g, 0)?.[0];
      return op.outputs.map((_, k) => {
        if (k < n) return shapeOf(g, op.inputs[2 + k])?.slice() ?? null;
        const s = shapeOf(g, body.outputs[1 + k]);
        return s && trips !== undefined ? [Math.max(0, trips), ...s] : null;
      });
    },
    dtype: (op, g, k) => g.tensors[(k < (op.attrs.opts?.carried ?? 0) ? op.inputs[2 + k] : op.attrs.calls?.[0]?.outputs[1 + k]) ?? -1]?.dtype ?? 'unknown',
  },
  // ONNX Scan (opset 9+): the states copied in, each scan input sliced along its axis; then the final states and each
  // scan output stacked along its axis, one slice per step of the sequence.
  scan_in: {
    shape: (op, g) => {
      const n = op.attrs.opts?.carried ?? 0;
      return op.outputs.map((_, k) => {
        const s = shapeOf(g, op.inputs[k]);
        if (!s || k < n) return s?.slice() ?? null;
        const axis = axisIn(op.attrs.scanAxes?.input[k - n] ?? 0, s.length, 'scan input axis');
        return s.filter((_, i) => i !== axis);
      });
    },
    dtype: (op, g, k) => g.tensors[op.inputs[k] ?? -1]?.dtype ?? 'unknown',
  },
  scan: {
    shape: (op, g) => {
      const n = op.attrs.opts?.carried ?? 0;
      const body = op.attrs.calls?.[0];
      if (!body || body.outputs.length !== op.outputs.length) fail(`its body returns ${body?.outputs.length ?? 0} values for ${op.outputs.length} outputs`);
      const first = shapeOf(g, op.attrs.operands?.[n]);
      const steps = first ? first[axisIn(op.attrs.scanAxes?.input[0] ?? 0, first.length, 'scan input axis')] : undefined;
      return op.outputs.map((_, k) => {
        if (k < n) return shapeOf(g, op.attrs.operands?.[k])?.slice() ?? null;
        const s = shapeOf(g, body.outputs[k]);
        if (!s || steps === undefined) return null;
        const out = s.slice();
        out.splice(axisIn(op.attrs.scanAxes?.output[k - n] ?? 0, s.length + 1, 'scan output axis'), 0, steps);
        return out;
      });
    },
    dtype: (op, g, k) => g.tensors[op.attrs.calls?.[0]?.outputs[k] ?? -1]?.dtype ?? 'unknown',
  },

  call_in: {
    shape: (op, g) => {
      if (op.inputs.length !== op.outputs.length) fail(`${op.inputs.length} operands passed to a subgraph of ${op.outputs.length} inputs`);
      return op.inputs.map((i) => shapeOf(g, i)?.slice() ?? null);
    },
    dtype: (op, g, k) => g.tensors[op.inputs[k] ?? -1]?.dtype ?? 'unknown',
  },
  call_out: { shape: () => [] },
  call_end: { shape: () => [] },
  // TFLite resource variables: a handle (an int32 id), a read (the variable's value) and an assignment (no output; the
  // variable itself is a tensor of the graph, alive for the whole run).
  varhandle: { shape: () => [[]], dtype: () => 'resource' },
  readvariable: {
    shape: (op, g) => { const v = shapeOf(g, op.params[0]); return v ? [v.slice()] : null; },
    dtype: (op, g) => g.tensors[op.params[0] ?? -1]?.dtype ?? 'unknown',
  },
  assignvariable: {
    shape: (op, g) => {
      const v = shapeOf(g, op.params[0]);
      const x = shapeOf(g, op.inputs[1]);
      if (v && x && v.join() !== x.join()) fail(`a value of shape [${x.join(',')}] assigned to a variable of shape [${v.join(',')}]`);
      return [];
    },
  },
  // LinearAttention(q [B, T, Hq·dk], k [B, T, Hkv·dk], v [B, T, Hkv·dv], ...): Y [B, T, Hq·dv], state [B, Hkv, dk, dv].
  linearattention: {
    shape: (op, g, q) => {
      const k = shapeOf(g, op.inputs[1]);
      const v = shapeOf(g, op.inputs[2]);
      if (!q || !k || !v) return null;
      const hq = positive(op.attrs.opts?.q_num_heads, 'query head count');
      const hkv = positive(op.attrs.opts?.kv_num_heads, 'key/value head count');
      if (q.length !== 3 || k.length !== 3 || v.length !== 3 || q[2]! % hq !== 0 || k[2]! % hkv !== 0 || v[2]! % hkv !== 0 || hq % hkv !== 0) {
        fail(`q [${q.join(',')}], k [${k.join(',')}], v [${v.join(',')}] do not split into ${hq} and ${hkv} heads`);
      }
      const dk = k[2]! / hkv;
      const dv = v[2]! / hkv;
      return op.outputs.map((_, i) => (i === 0 ? [q[0]!, q[1]!, hq * dv] : [q[0]!, hkv, dk, dv]));
    },
    // Per token and query head: the state update (dk·dv) and the read-out (dk·dv).
    macs: (op, g) => {
      const k = shapeOf(g, op.inputs[1]);
      const v = shapeOf(g, op.inputs[2]);
      const hq = op.attrs.opts?.q_num_heads ?? 0;
      const hkv = op.attrs.opts?.kv_num_heads ?? 0;
      return k && v && hkv > 0 ? k[0]! * k[1]! * hq * 2 * (k[2]! / hkv) * (v[2]! / hkv) : 0;
    },
  },
};

function specialRule(op: Op): SpecialRule {
  const r = SPECIAL_RULES[op.attrs.fn ?? ''];
  if (!r) fail(`no shape rule for ${op.sourceType}`);
  return r;
}

// ---- the table ----------------------------------------------------------------------------------------------------

const none = (): null => null;
const whole = (shape: OpRule['shape'], macs?: OpRule['macs']): OpRule => ({ shape, ...(macs ? { macs } : {}), tiling: 'whole' });
const rearrange = (shape: OpRule['shape'], value?: OpRule['value']): OpRule => ({ shape, ...(value ? { value } : {}), tiling: 'rearrange' });

export const OP_RULES: { readonly [K in OpKind]: OpRule } = {
  Conv2D: { shape: convShape, macs: convMacs, tiling: 'window' },
  DepthwiseConv2D: { shape: convShape, macs: convMacs, tiling: 'window' },
  TransposeConv2D: { shape: transposeConvShape, macs: transposeConvMacs, tiling: 'none' },
  MaxPool2D: { shape: poolShape, tiling: 'window' },
  AvgPool2D: { shape: poolShape, tiling: 'window' },
  GlobalAvgPool: whole((_op, _g, x) => (x && x.length >= 3 ? [x.map((d, i) => (i < 2 ? d : 1))] : null)),
  GlobalMaxPool: whole((_op, _g, x) => (x && x.length >= 3 ? [x.map((d, i) => (i < 2 ? d : 1))] : null)),
  Reduce: whole(reduceShape),
  FullyConnected: whole(fcShape, fcMacs),
  MatMul: whole(matMulShape, (op, g, out) => elementCount(out) * (shapeOf(g, op.inputs[0])?.at(op.attrs.transA ? -2 : -1) ?? 0)),
  Add: { shape: (op, g) => elementwiseShape(op, g), value: binaryValue, tiling: 'same' },
  Sub: { shape: (op, g) => elementwiseShape(op, g), value: binaryValue, tiling: 'same' },
  Mul: { shape: (op, g) => elementwiseShape(op, g), value: binaryValue, tiling: 'same' },
  Div: { shape: (op, g) => elementwiseShape(op, g), value: binaryValue, tiling: 'same' },
  Max: { shape: (op, g) => elementwiseShape(op, g), tiling: 'same' },
  Min: { shape: (op, g) => elementwiseShape(op, g), tiling: 'same' },
  Pow: { shape: (op, g) => elementwiseShape(op, g), tiling: 'same' },
  Concat: { shape: (op, g) => concatShape(op, g), value: (op, g) => { const p = op.inputs.map((i) => valuesOf(g, i)); return p.every(Boolean) ? p.flatMap((v) => v!) : undefined; }, tiling: 'same' },
  Split: { shape: splitShape, tiling: 'same' },
  Slice: rearrange(sliceShape, sliceValue),
  Gather: rearrange(gatherShape, gatherValue),
  Pad: { shape: padShape, tiling: 'shift' },
  Reshape: rearrange(reshapeShape, (op, g) => valuesOf(g, op.inputs[0])),
  Flatten: rearrange((op, _g, x) => {
    if (!x) return null;
    const axis = op.attrs.axis === x.length ? x.length : axisIn(op.attrs.axis ?? 1, x.length, 'flatten axis');
    return [[elementCount(x.slice(0, axis)), elementCount(x.slice(axis))]];
  }, (op, g) => valuesOf(g, op.inputs[0])),
  Squeeze: rearrange(squeezeShape, (op, g) => valuesOf(g, op.inputs[0])),
  Unsqueeze: rearrange(unsqueezeShape, (op, g) => valuesOf(g, op.inputs[0])),
  Transpose: { shape: transposeShape, tiling: 'same' },
  Resize: { shape: resizeShape, tiling: 'none' },
  // Normalizes along an axis with the C export's whole-tensor kernels: not on tiles or rows.
  Softmax: { shape: same, tiling: 'whole' },
  BatchNorm: { shape: same, tiling: 'same' },
  Quantize: {
    shape: (op, _g, x) => (x ? (op.outputs.length > 1 ? [x, [], []] : [x]) : null),
    dtype: (op, _g, k) => (k === 0 ? (op.attrs.toDType ?? 'uint8') : k === 1 ? 'float32' : 'uint8'),
    tiling: 'same',
  },
  Dequantize: { shape: same, dtype: () => 'float32', tiling: 'same' },
  // Neg and Abs of a small constant fold (shape arithmetic: an expanded LayerNormalization negates its axis).
  Activation: {
    shape: same,
    value: (op, g) => {
      const f = op.attrs.activation === 'neg' ? (v: number): number => -v : op.attrs.activation === 'abs' ? Math.abs : undefined;
      return f ? valuesOf(g, op.inputs[0])?.map(f) : undefined;
    },
    tiling: 'same',
  },
  Identity: { shape: same, value: (op, g) => valuesOf(g, op.inputs[0]), tiling: 'same' },
  Cast: { shape: same, value: (op, g) => valuesOf(g, op.inputs[0]), dtype: (op) => op.attrs.toDType ?? 'unknown', tiling: 'same' },
  Shape: {
    shape: (op, g) => { const v = shapeValue(op, g); return v ? [[v.length]] : null; },
    value: shapeValue,
    dtype: () => 'int64',
    tiling: 'none',
  },
  Size: { shape: (_op, _g, x) => (x ? [[]] : null), value: (op, g) => { const x = shapeOf(g, op.inputs[0]); return x ? [elementCount(x)] : undefined; }, dtype: () => 'int64', tiling: 'none' },
  ConstantOfShape: {
    shape: (op, g) => constantOfShapeShape(op, g),
    value: (op, g) => {
      const s = op.inputs.length > 0 ? valuesOf(g, op.inputs[0]) : op.attrs.newShape;
      if (!s || s.some((d) => !Number.isInteger(d) || d < 0) || elementCount(s) > 64) return undefined;
      const fill = op.attrs.fill ?? valuesOf(g, op.params[0])?.[0] ?? 0;
      return new Array<number>(elementCount(s)).fill(fill);
    },
    dtype: (op, g) => op.attrs.toDType ?? g.tensors[op.params[0] ?? -1]?.dtype ?? 'float32',
    tiling: 'none',
  },
  Range: {
    shape: (op, g) => { const n = rangeCount(op, g); return n === undefined ? null : [[n]]; },
    value: (op, g) => {
      const n = rangeCount(op, g);
      const [s, , d] = [0, 1, 2].map((i) => valuesOf(g, op.inputs[i])?.[0] ?? 0);
      return n !== undefined && n <= 64 ? Array.from({ length: n }, (_, i) => s! + i * d!) : undefined;
    },
    tiling: 'none',
  },
  ConvNd: { shape: convNdShape, macs: convNdMacs, tiling: 'none' },
  PoolNd: { shape: poolNdShape, tiling: 'none' },
  Elementwise: {
    shape: (op, g) => elementwiseShape(op, g),
    value: elementwiseValue,
    dtype: (op, g, k) => {
      if (BOOL_FNS.has(op.attrs.fn ?? '')) return 'bool';
      if (op.attrs.toDType) return op.attrs.toDType;
      if (op.attrs.fn === 'dropout' && k === 1) return 'bool'; // the mask
      const from = op.attrs.outputLike?.[k] ?? (op.attrs.fn === 'where' ? 1 : 0);
      return g.tensors[op.inputs[from] ?? -1]?.dtype ?? 'unknown';
    },
    tiling: 'same',
  },
  Pack: rearrange((op, g) => packShape(op, g), (op, g) => { const p = op.inputs.map((i) => valuesOf(g, i)); return p.every((v) => v?.length === 1) ? p.map((v) => v![0]!) : undefined; }),
  Unpack: rearrange(unpackShape),
  Tile: rearrange(tileShape),
  Expand: rearrange(expandShape, expandValue),
  SpaceToDepth: rearrange(depthSpaceShape),
  DepthToSpace: rearrange(depthSpaceShape),
  SpaceToBatch: rearrange(batchSpaceShape),
  BatchToSpace: rearrange(batchSpaceShape),
  ArgReduce: { shape: argReduceShape, dtype: (op) => op.attrs.toDType ?? 'int64', tiling: 'whole' },
  GatherND: rearrange(gatherNdShape),
  TopK: { shape: topKShape, dtype: (op, g, k) => (k === 1 ? 'int64' : (g.tensors[op.inputs[0] ?? -1]?.dtype ?? 'unknown')), tiling: 'whole' },
  Recurrent: { shape: recurrentShape, macs: (op, g) => recurrentMacs(op, g), tiling: 'whole' },
  Loss: { shape: lossShape, tiling: 'whole' },
  Attention: {
    shape: (op, g) => attentionShape(op, g),
    // QK^T and the weighted sum of V, per query head.
    macs: (op, g) => { const d = attentionDims(op, g); return d ? d.b * d.hq * d.sq * (d.past + d.skv) * (d.dk + d.dv) : 0; },
    tiling: 'whole',
  },
  GridSample: { shape: gridSampleShape, tiling: 'whole' },
  Special: {
    shape: (op, g, x) => specialRule(op).shape(op, g, x),
    macs: (op, g, out) => specialRule(op).macs?.(op, g, out) ?? 0,
    dtype: (op, g, k) => specialRule(op).dtype?.(op, g, k) ?? op.attrs.toDType ?? g.tensors[op.inputs[0] ?? -1]?.dtype ?? 'unknown',
    tiling: 'whole',
  },
  Classifier: {
    shape: classifierShape,
    // Per row: an SVM's kernel over every support vector (one multiply-add per stored value) and its pairwise sums
    // (each vector in the C − 1 pairs of its class); a linear classifier's weights (one per stored coefficient).
    macs: (op, _g, out) => {
      const o = op.attrs.opts ?? {};
      const rows = out[0] ?? 1;
      return rows * (Math.max(0, o.values ?? 0) + Math.max(0, o.vectors ?? 0) * Math.max(0, (o.classes ?? 0) - 1));
    },
    dtype: (_op, _g, k) => (k === 0 ? 'int64' : 'float32'),
    tiling: 'whole',
  },
  Custom: { shape: none, tiling: 'none' },
  Unknown: { shape: none, tiling: 'none' },
};

/** Multiply-accumulates of one operator (0 for folded ones and kinds without arithmetic worth counting). */
export function opMacs(op: Op, graph: Graph): number {
  if (op.folded) return 0;
  const out = graph.tensors[op.outputs[0] ?? -1]?.shape;
  const macs = OP_RULES[op.kind].macs;
  return out && macs ? macs(op, graph, out) : 0;
}
