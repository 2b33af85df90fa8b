// Shape inference over the normalized graph, shared by both formats. For ONNX it fills the shapes the file does not
// store; for TFLite it resolves SAME/VALID padding into explicit pads and checks our inference against the stored
// shapes (a mismatch is reported as a note). It also folds ops whose inputs are all constants (shape arithmetic,
// dequantized weights): their outputs become constants whose storage is their inputs' storage.
import { checkedShape } from '../errors';
import type { DType, Graph, Op, SpatialAttrs } from '../graph';
import { elementCount } from '../graph';

type Shape = number[];

export function inferShapes(graph: Graph): void {
  for (const op of graph.ops) {
    const all = [...op.inputs, ...op.params].filter((i) => i >= 0);
    // Shape of a tensor whose shape is known is a constant: shape arithmetic downstream folds too.
    if (op.kind === 'Shape' && graph.tensors[op.inputs[0] ?? -1]?.shape) foldOp(op, graph);
    else if (op.kind !== 'Custom' && op.kind !== 'Unknown' && all.length > 0 && all.every((i) => graph.tensors[i]!.role === 'constant')) {
      foldOp(op, graph);
    }
    let shapes: (Shape | null)[] | null = null;
    try {
      shapes = inferOp(op, graph);
    } catch (e) {
      // Malformed attributes (a rank mismatch, a zero stride): the op is reported, the rest of the model goes on.
      if (!(e instanceof InferError)) throw e;
      const why = `${op.sourceType} '${op.name}': ${e.message}`;
      if (op.outputs.every((id) => graph.tensors[id]!.shapeFromFile)) {
        graph.notes.push({ severity: 'warning', opIndex: op.index, message: `${why} (the stored shapes are used)` });
        op.shapeConflict ??= e.message;
      } else op.unsupported ??= why;
    }
    op.outputs.forEach((id, k) => {
      const t = graph.tensors[id]!;
      if (t.dtype === 'unknown') t.dtype = outputDType(op, graph, k);
      const inferred = shapes?.[k] ?? null;
      if (!inferred) return;
      const checked = checkedShape(inferred, `output '${t.name}' of ${op.sourceType} '${op.name}'`);
      if (!t.shape || sameShape(t.shape, checked)) {
        t.shape = checked;
        t.shapeInferred = true;
      } else if (t.shapeFromFile) {
        op.shapeConflict ??= `the file stores shape [${t.shape.join(', ')}] for '${t.name}', inference gives [${checked.join(', ')}]`;
        graph.notes.push({
          severity: 'warning',
          opIndex: op.index,
          message: `${op.sourceType} '${op.name}': the file stores shape [${t.shape.join(', ')}] for '${t.name}', inference gives [${checked.join(', ')}]; the stored shape is used`,
        });
      }
    });
    if (!op.unsupported && op.outputs.some((id) => !graph.tensors[id]!.shape)) {
      op.unsupported = op.kind === 'Unknown' || op.kind === 'Custom'
        ? `operator ${op.sourceType} is not supported by the analysis and the file stores no shape for its output`
        : `${op.sourceType} '${op.name}': output shape could not be inferred (an input shape or a constant operand is unknown)`;
    } else if (!op.unsupported && op.kind === 'Unknown') {
      op.unsupported = `operator ${op.sourceType} is not in the analysed operator set: its memory comes from the shapes stored in the file, its MACs are not counted`;
    }
  }
}

class InferError extends Error {}

function fail(msg: string): never {
  throw new InferError(msg);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function foldOp(op: Op, graph: Graph): void {
  op.folded = true;
  const storage = new Set<string>();
  for (const i of [...op.inputs, ...op.params]) if (i >= 0) for (const k of graph.tensors[i]!.storage ?? []) storage.add(k);
  for (const id of op.outputs) {
    const t = graph.tensors[id]!;
    t.role = 'constant';
    t.storage = [...storage];
  }
  const v = evalConst(op, graph);
  if (v && op.outputs[0] !== undefined) graph.tensors[op.outputs[0]]!.values = v;
}

/** Evaluates small integer shape arithmetic so Reshape/Pad/Resize operands computed in the graph become known. */
function evalConst(op: Op, graph: Graph): number[] | undefined {
  const val = (i: number): number[] | undefined => graph.tensors[i]?.values;
  const x = op.inputs[0] ?? -1;
  switch (op.kind) {
    case 'Shape': return graph.tensors[x]?.shape?.slice();
    case 'Identity': case 'Cast': case 'Squeeze': case 'Unsqueeze': case 'Reshape': case 'Flatten': return val(x);
    case 'Gather': {
      const data = val(x);
      const idx = val(op.inputs[1] ?? -1);
      if (!data || !idx) return undefined;
      const out = idx.map((i) => data[i < 0 ? i + data.length : i]);
      return out.every((v) => v !== undefined) ? (out as number[]) : undefined;
    }
    case 'Concat': {
      const parts = op.inputs.map(val);
      return parts.every(Boolean) ? parts.flatMap((p) => p!) : undefined;
    }
    case 'Slice': {
      const data = val(x);
      const s = op.attrs.starts?.[0];
      const e = op.attrs.ends?.[0];
      if (!data || s === undefined || e === undefined) return undefined;
      const n = data.length;
      const clamp = (v: number): number => Math.max(0, Math.min(n, v < 0 ? v + n : v));
      return data.slice(clamp(s), clamp(e));
    }
    case 'Add': case 'Sub': case 'Mul': case 'Div': {
      const a = val(op.inputs[0] ?? -1);
      const b = val(op.inputs[1] ?? -1);
      if (!a || !b) return undefined;
      const n = Math.max(a.length, b.length);
      if (n > 64 || (a.length !== n && a.length !== 1) || (b.length !== n && b.length !== 1)) return undefined;
      return Array.from({ length: n }, (_, i) => {
        const p = a[a.length === 1 ? 0 : i]!;
        const q = b[b.length === 1 ? 0 : i]!;
        return op.kind === 'Add' ? p + q : op.kind === 'Sub' ? p - q : op.kind === 'Mul' ? p * q : Math.trunc(p / q);
      });
    }
    case 'ConstantOfShape': {
      const s = val(x);
      if (!s || s.some((d) => !Number.isInteger(d) || d < 0) || elementCount(s) > 64) return undefined;
      return new Array<number>(elementCount(s)).fill(0);
    }
    default:
      return undefined;
  }
}

function outputDType(op: Op, graph: Graph, k: number): DType {
  const x = graph.tensors[op.inputs[0] ?? -1];
  switch (op.kind) {
    case 'Shape': return 'int64';
    case 'Dequantize': return 'float32';
    case 'Quantize': return k === 0 ? (op.attrs.toDType ?? 'uint8') : k === 1 ? 'float32' : 'uint8';
    case 'Cast': return op.attrs.toDType ?? 'unknown';
    case 'ConstantOfShape': return 'float32';
    default: return op.attrs.toDType ?? x?.dtype ?? 'unknown';
  }
}

function shapeOf(graph: Graph, id: number | undefined): Shape | null {
  return id === undefined || id < 0 ? null : (graph.tensors[id]?.shape ?? null);
}

const norm = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

/** An axis attribute normalised, or a named failure when it is not an integer in [-rank, rank). */
function axisIn(axis: number, rank: number, what: string): number {
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

/** Output size of one spatial axis; resolves the padding into explicit amounts (written back to the op). */
function spatialOut(inSize: number, k: number, s: number, d: number, sp: SpatialAttrs, axis: 0 | 1, pool: boolean): number {
  if (s <= 0 || d <= 0 || k <= 0) fail(`invalid kernel ${k}, stride ${s} or dilation ${d}`);
  const eff = (k - 1) * d + 1;
  let out: number;
  let before: number;
  let after: number;
  if (sp.padding === 'same_upper' || sp.padding === 'same_lower') {
    out = Math.ceil(inSize / s);
    const total = Math.max((out - 1) * s + eff - inSize, 0);
    before = sp.padding === 'same_upper' ? Math.floor(total / 2) : Math.ceil(total / 2);
    after = total - before;
  } else if (sp.padding === 'valid') {
    before = 0;
    after = 0;
    out = Math.floor((inSize - eff) / s) + 1;
  } else {
    before = sp.pads[axis];
    after = sp.pads[axis + 2]!;
    const span = inSize + before + after - eff;
    out = pool && sp.ceilMode ? Math.ceil(span / s) + 1 : Math.floor(span / s) + 1;
    // A pooling window must start inside the input or its left padding (ONNX/PyTorch ceil_mode rule).
    if (pool && sp.ceilMode && (out - 1) * s >= inSize + before) out--;
  }
  if (out <= 0) fail(`kernel ${k} (dilation ${d}) does not fit an input of ${inSize}`);
  sp.pads[axis] = before;
  sp.pads[axis + 2] = after;
  return out;
}

function broadcast(shapes: Shape[]): Shape {
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

function inferOp(op: Op, graph: Graph): (Shape | null)[] | null {
  const a = op.attrs;
  const x = shapeOf(graph, op.inputs[0]);
  switch (op.kind) {
    case 'Conv2D': case 'DepthwiseConv2D': {
      const w = shapeOf(graph, op.inputs[1]);
      if (!x || !w || x.length !== 4 || w.length !== 4 || !a.spatial) return null;
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
    case 'TransposeConv2D': {
      if (a.layout === 'NHWC') return null; // TFLite stores its output shape (the output_shape operand)
      const w = shapeOf(graph, op.inputs[1]);
      if (!x || !w || x.length !== 4 || w.length !== 4 || !a.spatial) return null;
      const sp = a.spatial;
      const group = a.group ?? 1;
      if (!Number.isInteger(group) || group < 1 || x[1]! % group !== 0 || w[0]! !== x[1]) fail(`weights [${w.join(',')}] with group ${group} do not match ${x[1]} input channels`);
      const k: [number, number] = [w[2]!, w[3]!];
      sp.kernel = k;
      const dim = (i: 0 | 1): number => (x[2 + i]! - 1) * sp.strides[i] + (k[i] - 1) * sp.dilations[i] + 1 - sp.pads[i] - sp.pads[i + 2]!;
      return [[x[0]!, w[1]! * (a.group ?? 1), dim(0), dim(1)]];
    }
    case 'MaxPool2D': case 'AvgPool2D': {
      if (!x || x.length !== 4 || !a.spatial?.kernel) return null;
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
    case 'GlobalAvgPool': case 'GlobalMaxPool': {
      if (!x || x.length < 3) return null;
      return [x.map((d, i) => (i < 2 ? d : 1))];
    }
    case 'Reduce': {
      if (!x) return null;
      const axes = a.axes ? axesIn(a.axes, x.length, 'reduction axis') : x.map((_, i) => i);
      return [a.keepDims ? x.map((d, i) => (axes.includes(i) ? 1 : d)) : x.filter((_, i) => !axes.includes(i))];
    }
    case 'FullyConnected': {
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
    case 'MatMul': {
      const b = shapeOf(graph, op.inputs[1]);
      if (!x || !b) return null;
      const A = x.length === 1 ? [1, x[0]!] : x;
      const B = b.length === 1 ? [b[0]!, 1] : b;
      if (A[A.length - 1] !== B[B.length - 2]) fail(`MatMul inner dimensions ${A[A.length - 1]} and ${B[B.length - 2]} differ`);
      const batch = broadcast([A.slice(0, -2), B.slice(0, -2)]);
      const out = [...batch, A[A.length - 2]!, B[B.length - 1]!];
      if (x.length === 1) out.splice(out.length - 2, 1);
      if (b.length === 1) out.pop();
      return [out];
    }
    case 'Add': case 'Sub': case 'Mul': case 'Div': case 'Max': case 'Min': case 'Pow': {
      const shapes = op.inputs.filter((i) => i >= 0).map((i) => shapeOf(graph, i));
      if (shapes.some((s) => !s)) return null;
      return [broadcast(shapes as Shape[])];
    }
    case 'Concat': {
      const shapes = op.inputs.filter((i) => i >= 0).map((i) => shapeOf(graph, i));
      if (shapes.some((s) => !s) || shapes.length === 0) return null;
      const first = shapes[0]!;
      const axis = axisIn(a.axis ?? 0, first.length, 'concatenation axis');
      for (const sh of shapes as Shape[]) {
        if (sh.length !== first.length || sh.some((d, i) => i !== axis && d !== first[i])) fail(`inputs [${first.join(',')}] and [${sh.join(',')}] differ outside axis ${axis}`);
      }
      const out = first.slice();
      out[axis] = shapes.reduce((sum, s) => sum + (s![axis] ?? 0), 0);
      return [out];
    }
    case 'Pad': {
      if (!x) return null;
      let pads = a.padAmounts;
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
    case 'Reshape': {
      if (!x) return null;
      const target = a.newShape ?? graph.tensors[op.params[0] ?? -1]?.values;
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
    case 'Flatten': {
      if (!x) return null;
      const axis = a.axis === x.length ? x.length : axisIn(a.axis ?? 1, x.length, 'flatten axis');
      return [[elementCount(x.slice(0, axis)), elementCount(x.slice(axis))]];
    }
    case 'Squeeze': {
      if (!x) return null;
      const axes = a.axes?.length ? axesIn(a.axes, x.length, 'squeeze axis') : x.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0);
      const wide = axes.find((i) => x[i] !== 1);
      if (wide !== undefined) fail(`axis ${wide} has size ${x[wide]}, and only axes of size 1 can be squeezed`);
      return [x.filter((_, i) => !axes.includes(i))];
    }
    case 'Unsqueeze': {
      if (!x || !a.axes) return null;
      const rank = x.length + a.axes.length;
      const axes = axesIn(a.axes, rank, 'unsqueeze axis');
      const out: number[] = [];
      let j = 0;
      for (let i = 0; i < rank; i++) out.push(axes.includes(i) ? 1 : x[j++]!);
      return [out];
    }
    case 'Transpose': {
      if (!x) return null;
      const perm = a.perm ?? x.map((_, i) => x.length - 1 - i);
      if (perm.length !== x.length) fail(`perm [${perm.join(',')}] does not match rank ${x.length}`);
      if (perm.some((p) => !Number.isInteger(p) || p < 0 || p >= x.length) || new Set(perm).size !== perm.length) fail(`perm [${perm.join(',')}] is not a permutation of the ${x.length} axes`);
      return [perm.map((p) => x[p]!)];
    }
    case 'Resize': {
      if (!x) return null;
      if (a.sizes && a.sizes.length === x.length) return [a.sizes.slice()];
      if (a.sizes && a.sizes.length === 2 && graph.format === 'tflite' && x.length === 4) return [[x[0]!, a.sizes[0]!, a.sizes[1]!, x[3]!]];
      if (a.scales && a.scales.length === x.length) return [x.map((d, i) => Math.floor(d * a.scales![i]!))];
      return null;
    }
    case 'Gather': {
      const idx = shapeOf(graph, op.inputs[1]);
      if (!x || !idx) return null;
      const axis = axisIn(a.axis ?? 0, x.length, 'gather axis');
      return [[...x.slice(0, axis), ...idx, ...x.slice(axis + 1)]];
    }
    case 'Slice': {
      if (!x || !a.starts || !a.ends) return null;
      const out = x.slice();
      const axes = a.axes ?? a.starts.map((_, i) => i);
      axes.forEach((axRaw, i) => {
        const ax = axisIn(axRaw, x.length, 'slice axis');
        const n = x[ax]!;
        const step = a.steps?.[i] ?? 1;
        if (step === 0) fail('slice step 0');
        const clamp = (v: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, v < 0 ? v + n : v));
        const s = clamp(a.starts![i]!, step > 0 ? 0 : -1, step > 0 ? n : n - 1);
        const e = clamp(a.ends![i]!, step > 0 ? 0 : -1, step > 0 ? n : n - 1);
        out[ax] = Math.max(0, Math.ceil((e - s) / step));
      });
      return [out];
    }
    case 'Split': {
      if (!x) return null;
      const axis = axisIn(a.axis ?? 0, x.length, 'split axis');
      const n = op.outputs.length;
      const sizes = a.splitSizes ?? (x[axis]! % n === 0 ? new Array<number>(n).fill(x[axis]! / n) : null);
      if (!sizes) return null;
      if (sizes.length !== n) fail(`${sizes.length} split sizes for ${n} outputs`);
      if (sizes.some((v) => !Number.isInteger(v) || v < 0) || sizes.reduce((p, q) => p + q, 0) !== x[axis]) fail(`split sizes [${sizes.join(',')}] do not add up to the ${x[axis]} of axis ${axis}`);
      return sizes.map((s) => x.map((d, i) => (i === axis ? s : d)));
    }
    case 'Shape':
      return x ? [[x.length]] : null;
    case 'ConstantOfShape': {
      const v = graph.tensors[op.inputs[0] ?? -1]?.values;
      return v ? [v.slice()] : null;
    }
    case 'Quantize':
      if (!x) return null;
      return op.outputs.length > 1 ? [x, [], []] : [x];
    case 'Softmax': case 'BatchNorm': case 'Dequantize': case 'Activation': case 'Identity': case 'Cast':
      return x ? [x.slice()] : null;
    case 'Custom': case 'Unknown':
      return null;
    default:
      return null;
  }
}
