// What the per-family lowering modules share: the lowering's types, its C literal helpers, and the context a family
// function receives for one execution step (the program's helpers plus the step's operator, output and finish).
import type { DType, Graph, Op, Tensor } from '../../graph';
import { CodegenError } from '../errors';
import type { LeakyParams } from '../quant';
import type { StridedCopy } from '../movement';

export type Elem = 'f32' | 's8' | 's16' | 's32' | 's64';

export interface QParams {
  scale: number;
  /** Zero point as stored in the file (uint8 tensors: 0..255). */
  zp: number;
}

export interface View { h0: number; w0: number; sc: number; sh: number; sw: number }
export interface Box { h0: number; h1: number; w0: number; w1: number }

/** Everything the lowering needs about one tensor. */
export interface Geo {
  shape: number[];
  /** Axis indices of C, H, W for spatial tensors (rank 4 with layout letters), else null (flat: C = all elements). */
  axes: { c: number; h: number; w: number } | null;
  C: number;
  H: number;
  W: number;
  /** A 2-D map's batch (its fourth axis); 1 otherwise. The kernels see one C × H × W map: a batch runs map by map. */
  N: number;
}

/** How a step reaches its tensors: pointer, view and box, layer by layer or inside the patch loop. */
export interface Access {
  ptr: (id: number) => string;
  view: (id: number) => string;
  box: (id: number) => string;
  /** A line-buffered stream's global pooling: the accumulator's pointer (it reads input row `r`). */
  accumulator?: (e: Elem) => string;
  /** With `accumulator`: the C arguments "w0, w1, first, last" of the row kernels: the columns [w0, w1) of row r
   *  it adds (a column band's, or all), whether this row starts the sums and whether it ends them. */
  accumulatorSpan?: () => string;
}

/** A constant operand's values as stored (or put together at export), with its quantization. */
export interface ConstData { id: number; values: number[]; shape: number[]; dtype: DType; scale?: number[]; zp?: number[] }

/**
 * What follows the executed operator inside its step (fused activations, a QDQ QuantizeLinear): the output
 * quantization and clamp the kernel applies, and in-place epilogues on the step's output.
 */
export interface Finish {
  elem: Elem;
  /** int8: output zero point and scale the kernel requantizes to; clamp range. */
  q?: QParams;
  zp: number;
  lo: number;
  hi: number;
  epilogue: (a: Access, y: number) => string[];
}

/** A lowered step: its statements for a given access (layer by layer, a tile, a row band). */
export type Emit = (a: Access) => string[];

/** Activations that are a clamp. */
export const CLAMPS: ReadonlySet<string> = new Set(['relu', 'relu6', 'relu_n1_to_1', 'clip']);

export const viewLit = (v: View): string => `(mm_view){${v.h0}, ${v.w0}, ${v.sc}, ${v.sh}, ${v.sw}, 0}`;
export const boxLit = (b: Box): string => `(mm_box){${b.h0}, ${b.h1}, ${b.w0}, ${b.w1}}`;

/** A float32 constant as C text that reads back to the same float. */
export function fmtFloat(v: number): string {
  if (Number.isNaN(v)) return 'NAN';
  if (!Number.isFinite(v)) return v > 0 ? 'INFINITY' : '-INFINITY';
  const f = Math.fround(v);
  if (f === 0) return Object.is(f, -0) ? '-0.0f' : '0.0f';
  let s = f.toPrecision(9);
  if (!/[.e]/.test(s)) s += '.0';
  return `${s}f`;
}

/** The program-wide helpers of one lowering (program.ts builds them once). */
export interface Lower {
  graph: Graph;
  T: (id: number) => Tensor;
  label: (op: Op) => string;
  qOf: (id: number, what: string) => QParams;
  /** Zero point as the kernels see it (uint8 stored as int8 minus 128). */
  izp: (id: number, q: QParams) => number;
  elemOf: (id: number) => Elem;
  esize: (e: Elem) => number;
  geo: (id: number) => Geo;
  windowFits: (op: Op, gx: Geo, gy: Geo, k: readonly number[], s: readonly number[], d: readonly number[], pads: readonly number[]) => void;
  operandView: (id: number, y: number, op: Op) => View;
  addWeights: (name: string, ctype: 'float' | 'int8_t' | 'int16_t' | 'int32_t', values: ArrayLike<number>) => string;
  constOf: (id: number, op: Op, what: string, count?: number) => ConstData;
  channelScales: (W: ConstData, op: Op, channels: number) => number[];
  clipBounds: (op: Op) => [number, number];
  floatFn: (act: string, op: Op, c: number, lo: number, hi: number) => { kernel: 'unary_f32' | 'math_f32' | 'special_f32'; init: string };
  leakyOf: (op: Op, x: number, y: number) => LeakyParams;
  /** The int8 table of activation `act` (op's, or the one it was fused into) from x's quantization to y's. */
  activationTable: (name: string, op: Op, act: string, x: number, y: number) => string;
  scalarOf: (id: number | undefined, def: number) => number;
  producerOp: ReadonlyMap<number, Op>;
  /** The tensor's values are stored in the file or folded ahead of time from stored ones (not computed per run). */
  stored: (id: number) => boolean;
  /** The generated parameter structs, in order. */
  params: string[];
  /** The kernels the program calls. */
  kernels: Set<string>;
  layerAccess: Access;
}

/** One execution step being lowered. */
export interface StepLower extends Lower {
  /** Index of the step; P is its parameter struct's name. */
  si: number;
  P: string;
  /** The executed operator (its QDQ-dequantized inputs already read through to their int8 tensors). */
  op: Op;
  /** Its output, first operand and element type, and what follows it in the step (outs: every output the plan
   *  keeps, y the first). */
  y: number;
  outs: readonly number[];
  x0: number;
  e: Elem;
  fin: Finish;
  /** The step's statements followed by its epilogues. */
  withEpi: (call: Emit) => Emit;
  /** Copy k of `copies` reads tensor srcOf(k) (mm_copy_nd, up to 6 dimensions, element strides). */
  stridedCopies: (copies: StridedCopy[], srcOf: (k: number) => number) => Emit;
}

/** A convolution's or pooling's window as the 2-D kernels take it: kernel, strides and dilations per (H, W), and the
 *  padding before each. A 1-D operator (ConvNd/PoolNd on an N, C, W map) is a window of height 1. Null when the
 *  operator has neither form. */
export interface Window2d { kernel: number[] | null; strides: number[]; dilations: number[]; pads: number[] }
export function window2d(op: Op): Window2d | null {
  const nd = op.attrs.nd;
  if (op.kind === 'ConvNd' || op.kind === 'PoolNd') {
    if (!nd || (nd.kernel && nd.kernel.length !== 1)) return null;
    return { kernel: nd.kernel ? [1, nd.kernel[0]!] : null, strides: [1, nd.strides?.[0] ?? 1], dilations: [1, nd.dilations?.[0] ?? 1], pads: [0, nd.pads?.[0] ?? 0] };
  }
  const sp = op.attrs.spatial;
  return sp ? { kernel: sp.kernel, strides: sp.strides, dilations: sp.dilations, pads: [sp.pads[0], sp.pads[1]] } : null;
}

/** A float operand as the kernel's pointer argument: stored values as a weights array named `name` (of `count`
 *  values when given), a computed tensor at its place in the arena (float32, `count` values when given). */
export function floatOperand(sl: StepLower, id: number, name: string, what: string, count?: number): (ptr: (id: number) => string) => string {
  const { T, addWeights, constOf, label, op, stored } = sl;
  if (stored(id)) {
    const w = addWeights(name, 'float', constOf(id, op, what, count).values);
    return () => `(const float *)${w}`;
  }
  if (T(id).dtype !== 'float32' || (count !== undefined && (T(id).shape ?? []).reduce((a, b) => a * b, 1) !== count)) {
    throw new CodegenError(`C export: ${label(op)}: ${what} '${T(id).name}' is not ${count === undefined ? '' : `${count} `}float32 values`, op.index);
  }
  return (ptr) => ptr(id);
}

/** What the C generator exports, named in its refusals. */
export const SUPPORTED = 'Conv 1-D and 2-D (incl. depthwise, grouped, pointwise), ConvTranspose/TRANSPOSE_CONV, BatchNormalization, LayerNormalization and RMSNormalization (float), pooling 1-D and 2-D (average, max, global), Mean, ReduceSum/SUM, ReduceMax, FullyConnected/Gemm/MatMul, Add, Sub, Mul, Div, Max, Min, Pow, Concat, Pad (constant; reflect, edge, wrap, symmetric), Resize (nearest; TFLite bilinear), Reshape/Flatten/Squeeze, Transpose, Slice/StridedSlice, Gather (constant indices), Pack, Split, Unpack, Tile, Expand, SpaceToDepth/DepthToSpace, Relu, Relu6/Clip, HardSwish, HardSigmoid, Sigmoid, Tanh, LeakyRelu, PRelu, Elu, Selu, SiLU, Gelu, Mish, Softplus, Exp, Log, Abs, Neg, Sqrt, Rsqrt, Erf, SQUARED_DIFFERENCE, Reciprocal, Floor, Ceil, Round, Sign, Shrink, Softsign, ThresholdedRelu, Celu, Softmax (float: any axis; LogSoftmax), ArgMax/ArgMin, Quantize, Dequantize, LSTM (ONNX float; TFLite float and int8), SVDF, RequantShift (Deeploy), SVMClassifier (ai.onnx.ml: support vectors, 3 to 8 classes), Cast to the same type';
