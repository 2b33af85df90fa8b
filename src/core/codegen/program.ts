// Lowering of an execution plan to C: one kernel call (plus in-place epilogues) per execution step, at the arena
// offsets the analysis planned, layer by layer or with the patch stage run tile by tile.
import type { DType, Graph, Op, Tensor } from '../graph';
import { elementCount, spatialAxes } from '../graph';
import { ModelError } from '../errors';
import { CodegenError } from './errors';
import { rowMajorStrides, type StridedCopy } from './movement';
import { ARENA_ALIGNMENT, DEFAULT_CONVENTIONS, type Conventions } from '../analysis/conventions';
import { alignUp, planArena, type PlanItem } from '../analysis/planner';
import { placeBuffers, type RegionSpec } from '../analysis/regions';
import { buildExecPlan, type ExecPlan, type Step } from '../analysis/steps';
import { evaluateSchedule, scheduleArenaPlan, scheduleBands, scheduleContext, type ScheduleContext } from '../schedule/cost';
import { bandLen, batchOf, deriveAxis, tileRegions, type Stage } from '../schedule/geometry';
import { bestStreamPlan, segmentStage, streamArena, streamEvents, type SegmentCost } from '../schedule/stream';
import { fusibleBlocks, type BlockFacts, type FusedBlock } from '../schedule/fusion';
import { absRsqrtTableS8, activationRange, roundEven, hardSwishTableS8, leakyRelu, leakyReluParams, logisticTableS8, multiplyByQuantizedMultiplier, quantizeMultiplier, roundAway, tanhTableS8, type LeakyParams } from './quant';
import { cText } from './c-text';
import { boxLit, CLAMPS, fmtFloat, SUPPORTED, viewLit, type Access, type Box, type ConstData, type Elem, type Finish, type Geo, type Lower, type QParams, type View } from './lower/context';
import { LOWERERS } from './lower';
import { preluQ } from './lower/elementwise';

export { CodegenError };

export type { Elem, QParams };

export interface IoTensor {
  name: string;
  dtype: DType;
  shape: number[];
  bytes: number;
  quant?: QParams;
}

export interface WeightArray {
  name: string;
  ctype: 'float' | 'int8_t' | 'int16_t' | 'int32_t';
  values: ArrayLike<number>;
}

/** One arena per memory region the planner used (one, in .bss, for a single-region target). Offsets in the program
 *  are global: part k holds [base, base + bytes). */
export interface ArenaPart {
  /** The region's name (user text: comments only). */
  region: string;
  /** Index of the region in the target's RAM regions (0: the system region; its arena stays in .bss). */
  ram: number;
  base: number;
  bytes: number;
}

/** The C array and pointer macros of arena part k. */
export const arenaNames = (k: number): { array: string; a8: string; a16: string; a32: string; a64: string; af: string } =>
  (k === 0 ? { array: 'mm_arena', a8: 'A8', a16: 'A16', a32: 'A32', a64: 'A64', af: 'AF' } : { array: `mm_arena${k}`, a8: `A8_${k}`, a16: `A16_${k}`, a32: `A32_${k}`, a64: `A64_${k}`, af: `AF_${k}` });

/** The part holding global offset `off` and the offset inside it. */
export function arenaPartOf(parts: readonly ArenaPart[], off: number): { k: number; local: number } {
  for (let k = parts.length - 1; k >= 0; k--) if (off >= parts[k]!.base) return { k, local: off - parts[k]!.base };
  return { k: 0, local: off };
}

export interface Program {
  format: Graph['format'];
  /** The sum of the arena parts. */
  arenaBytes: number;
  arenas: ArenaPart[];
  input: IoTensor;
  /** Every graph input in the file's order (input is the first); several only when they live in the arena. */
  inputs: IoTensor[];
  inputOffsets: number[];
  /** The graph outputs in the file's order. */
  outputs: IoTensor[];
  /** Arena offset of the input (-1: read in place from the caller's buffer) and of each output. */
  inputOffset: number;
  outputOffsets: number[];
  kernels: Set<string>;
  weights: WeightArray[];
  /** Parameter struct definitions (model.c, file scope). */
  params: string[];
  /** Statements of model_run between copying the input in and the output out. */
  body: string[];
  /** File-scope tables of the patch loop. */
  tables: string[];
  /** model_init's statements after clearing the arena: variable (state) tensors set as TFLM's ResetVariableTensors
   *  sets them (an int8 one to its zero point; the others stay 0). They keep their values from run to run. */
  resets: string[];
  schedule: { split: number; p: number; q: number; stageOutput: string } | null;
  /** The streamed segments of a line-buffered export (first and last step), or null. */
  lineBuffered: { first: number; last: number }[] | null;
  steps: number;
}

export interface LowerOptions {
  conventions?: Partial<Conventions>;
  /** Patch-based: split after execution step `split` into p×q tiles; null or absent: layer by layer. */
  schedule?: { split: number; p: number; q: number } | null;
  /** The schedule context of the same graph and conventions, when the caller has it: its plan is reused. */
  context?: ScheduleContext;
  /** The arena's regions (a target with several RAM regions): one arena per region, placed by the region planner.
   *  The system region's capacity (ram 0) is reduced here by the input buffer when the input is not in the arena. */
  regions?: readonly { ram: number; name: string; spec: RegionSpec }[];
  /** Line-buffered: these segments (true: the full-row plan of least peak), streamed
   *  row by row through rings, in column bands where a segment has them, a global pooling at a segment's end summing
   *  rows into its accumulator. Not with a patch schedule; with regions, rings and sums are placed like buffers. */
  lineBuffered?: boolean | readonly SegmentCost[];
}

/** Operators exported on int16 activations: they move values and never compute with them; and the TFLite operators
 *  whose int16 arithmetic is TFLM's (INT16_TFLITE). */
const INT16_KINDS: ReadonlySet<string> = new Set(['Split', 'Unpack', 'Concat', 'Pad', 'Resize', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity', 'Transpose',
  'Slice', 'Gather', 'Pack', 'Tile', 'Expand', 'SpaceToDepth', 'DepthToSpace']);
/** On a batch of 2-D maps: kernels that see one map through views, run once per map (batchLoop); operators that
 *  read whole tensors by their shape, run once. */
const PER_MAP_KINDS: ReadonlySet<string> = new Set(['Conv2D', 'DepthwiseConv2D', 'MaxPool2D', 'AvgPool2D', 'GlobalAvgPool', 'GlobalMaxPool',
  'BatchNorm', 'Activation', 'Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Pow', 'Quantize', 'Dequantize']);
const WHOLE_TENSOR_KINDS: ReadonlySet<string> = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity', 'Transpose', 'Softmax']);
/** Operators that only change the shape: a folded one's values are its input's. */
const RESHAPES: ReadonlySet<string> = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity']);
const INT16_TFLITE: ReadonlySet<string> = new Set(['LEAKY_RELU', 'LOGISTIC', 'TANH', 'ADD', 'SUB', 'CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED', 'SVDF', 'UNIDIRECTIONAL_SEQUENCE_LSTM', 'QUANTIZE', 'SOFTMAX', 'TRANSPOSE_CONV',
  'MUL', 'MAX_POOL_2D', 'AVERAGE_POOL_2D', 'MEAN', 'SUM', 'DEQUANTIZE', 'RELU', 'RELU6', 'MAXIMUM', 'MINIMUM', 'ARG_MAX', 'ARG_MIN', 'SQUARED_DIFFERENCE', 'PRELU']);
/** int32 activations (a keyword model's output, SEANet's input) are moved (INT16_KINDS) or requantized by QUANTIZE. */
const INT32_TFLITE: ReadonlySet<string> = new Set(['QUANTIZE']);
/** A 1-D map (layout N, C, W) as a 2-D one whose height is the batch axis (size 1): every kernel, view and box of
 *  the 2-D export then runs it unchanged. */
function lineAxes(layout: string | null): { c: number; h: number; w: number } | null {
  if (!layout || layout.includes('H')) return null;
  const [n, c, w] = [layout.indexOf('N'), layout.indexOf('C'), layout.indexOf('W')];
  return n >= 0 && c >= 0 && w >= 0 ? { c, h: n, w } : null;
}


/** Operators a stream's end can accumulate row by row in the export: global pooling, a mean or a max over H and W. */
const isAccumulable = (op: Op): boolean => op.kind === 'GlobalAvgPool' || op.kind === 'GlobalMaxPool' || (op.kind === 'Reduce' && ['MEAN', 'ReduceMean', 'REDUCE_MAX', 'ReduceMax'].includes(op.sourceType));

/** The operators of a segment's events that accumulate rows: global reductions run once per input row. */
function accumulators(graph: Graph, events: readonly { op: number }[]): Set<number> {
  const runs = new Map<number, number>();
  for (const e of events) if (isAccumulable(graph.ops[e.op]!)) runs.set(e.op, (runs.get(e.op) ?? 0) + 1);
  return new Set([...runs].filter(([, n]) => n > 1).map(([op]) => op));
}

export function lowerProgram(graph: Graph, options: LowerOptions = {}): Program {
  const conventions: Conventions = { ...DEFAULT_CONVENTIONS, ...options.conventions };
  if (conventions.asInt8) throw new CodegenError('C export: --as-int8 emulates an int8 deployment in the analysis only; export the model as it is stored (the float model runs in float32)');
  if (conventions.inplaceDepthwise) throw new CodegenError('C export: in-place depthwise convolution is not generated; turn the convention off (--inplace-dw) to export');
  if (conventions.fusePad) throw new CodegenError('C export: Pad fused into the next operator is not generated; turn the convention off (--fuse-pad) to export');
  if (conventions.fuseAdd) throw new CodegenError('C export: the residual Add fused into a convolution is not generated; turn the convention off (--fuse-add) to export');
  if (!conventions.fuseActivations) throw new CodegenError('C export: activations are always fused into their producer in generated code; turn --no-fuse-act off to export');
  if (graph.inputs.length < 1) throw new CodegenError('C export: the model has no input');
  if (graph.inputs.length > 1 && !conventions.countInput) throw new CodegenError(`C export: a model with ${graph.inputs.length} inputs keeps them in the arena; export with the graph input counted (no --no-input)`);
  if (graph.outputs.length === 0) throw new CodegenError('C export: the model has no output');
  if (new Set(graph.outputs).size !== graph.outputs.length || graph.outputs.includes(graph.inputs[0]!)) {
    throw new CodegenError('C export: a tensor that is the model input or another output is not generated as an output');
  }
  for (const op of graph.ops) {
    if (op.folded) continue;
    const label = `operator #${op.index} ${op.sourceType} '${op.name}'`;
    if (op.unsupported) throw new CodegenError(`C export: ${label} cannot be generated: ${op.unsupported}`, op.index);
    // Generated code is sized from shapes; each one must follow from the operator's inputs, never from the file alone.
    if (op.shapeConflict) throw new CodegenError(`C export: ${label}: the file's shapes contradict the operator (${op.shapeConflict}); generated code needs consistent shapes`, op.index);
    for (const id of op.outputs) {
      const t = graph.tensors[id]!;
      if (!t.shapeInferred) throw new CodegenError(`C export: ${label}: the shape of its output '${t.name}' is only stored in the file, not derived from its inputs; generated code needs derived shapes`, op.index);
    }
  }
  for (const t of graph.tensors) {
    if (t.role === 'variable' && !graph.ops.some((op) => !op.folded && (op.sourceType === 'UNIDIRECTIONAL_SEQUENCE_LSTM' || op.sourceType === 'SVDF') && op.inputs.includes(t.id))) {
      throw new CodegenError(`C export: variable (state) tensor '${t.name}' is not supported (an LSTM's or SVDF's state is)`);
    }
  }
  for (const id of graph.outputs) {
    const t = graph.tensors[id];
    const p = graph.ops.find((op) => op.outputs.includes(id));
    // An SSD's anchors: a DEQUANTIZE of stored values, evaluated ahead of time, so no step writes the output.
    if (t && (t.role === 'constant' || p?.folded)) throw new CodegenError(`C export: output '${t.name}' is computed from stored constants only (ahead of time); generated code does not produce such an output`, p?.index);
  }

  const producerOp = new Map<number, Op>();
  for (const op of graph.ops) for (const o of op.outputs) producerOp.set(o, op);
  const stored = (id: number): boolean => T(id).role === 'constant' || producerOp.get(id)?.folded === true;
  const T = (id: number): Tensor => {
    const t = graph.tensors[id];
    if (!t) throw new CodegenError(`C export: an operator reads tensor ${id}, which is absent (an optional operand left out where generated code needs one)`);
    return t;
  };
  const label = (op: Op): string => `operator #${op.index} ${op.sourceType} '${op.name}'`;

  // ---- constants ----
  const decode = (t: Tensor): number[] => {
    const keys = t.storage ?? [];
    const stored = keys.length === 1 ? graph.storage.get(keys[0]!) : undefined;
    if (!stored?.data) throw new CodegenError(`C export: the values of constant '${t.name}' are not available (${keys.length === 1 ? 'stored as external data' : 'computed from other constants'})`);
    const bytes = Uint8Array.from(stored.data());
    const dv = new DataView(bytes.buffer);
    const n = stored.elements;
    if (t.shape && elementCount(t.shape) !== n) throw new CodegenError(`C export: constant '${t.name}' stores ${n} values for its shape [${t.shape.join(', ')}]`);
    const out = new Array<number>(n);
    const need = (size: number): void => {
      if (bytes.length < n * size) throw new CodegenError(`C export: constant '${t.name}' holds ${bytes.length} bytes, fewer than its ${n} ${t.dtype} values need`);
    };
    switch (t.dtype) {
      case 'float32': need(4); for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true); break;
      case 'float64': need(8); for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true); break;
      case 'int8': need(1); for (let i = 0; i < n; i++) out[i] = dv.getInt8(i); break;
      case 'uint8': need(1); for (let i = 0; i < n; i++) out[i] = dv.getUint8(i); break;
      case 'int16': need(2); for (let i = 0; i < n; i++) out[i] = dv.getInt16(2 * i, true); break;
      case 'int32': need(4); for (let i = 0; i < n; i++) out[i] = dv.getInt32(4 * i, true); break;
      case 'int64': need(8); for (let i = 0; i < n; i++) out[i] = Number(dv.getBigInt64(8 * i, true)); break;
      default: throw new CodegenError(`C export: constant '${t.name}' has type ${t.dtype}, which generated code does not read`);
    }
    return out;
  };
  const valuesOf = (id: number): number[] => {
    const t = T(id);
    if (t.values && t.values.length === elementCount(t.shape ?? [t.values.length])) return t.values;
    return decode(t);
  };
  const scalarOf = (id: number | undefined, def: number): number => (id === undefined || id < 0 ? def : valuesOf(id)[0] ?? def);

  // ---- quantization of tensors ----
  const quant = new Map<number, { scale: number[]; zp: number[] }>();
  for (const t of graph.tensors) if (t.quant && t.quant.scale.length > 0) quant.set(t.id, { scale: t.quant.scale, zp: t.quant.zeroPoint });
  const setQ = (t: number | undefined, s: number | undefined, z: number | undefined): void => {
    if (t === undefined || t < 0 || s === undefined || s < 0) return;
    quant.set(t, { scale: valuesOf(s), zp: z !== undefined && z >= 0 ? valuesOf(z) : [0] });
  };
  for (const op of graph.ops) {
    const p = op.params;
    switch (op.sourceType) {
      case 'QLinearConv': case 'QLinearMatMul': case 'com.microsoft.QLinearAdd': case 'com.microsoft.QLinearMul':
        setQ(op.inputs[0], p[0], p[1]); setQ(op.inputs[1], p[2], p[3]); setQ(op.outputs[0], p[4], p[5]);
        break;
      case 'com.microsoft.QLinearGlobalAveragePool': case 'com.microsoft.QLinearAveragePool':
        setQ(op.inputs[0], p[0], p[1]); setQ(op.outputs[0], p[2], p[3]);
        break;
      case 'QuantizeLinear':
        setQ(op.outputs[0], p[0], p[1]);
        break;
      case 'DequantizeLinear':
        setQ(op.inputs[0], p[0], p[1]);
        break;
      default:
        break;
    }
  }
  const isU8 = (id: number): boolean => T(id).dtype === 'uint8';
  const qOf = (id: number, what: string): QParams => {
    const q = quant.get(id);
    if (!q || q.scale.length < 1) throw new CodegenError(`C export: ${T(id).dtype} tensor '${T(id).name}' (${what}) has no quantization parameters`);
    checkQuant(T(id), q.scale.slice(0, 1), q.zp.slice(0, 1));
    return { scale: q.scale[0]!, zp: q.zp[0] ?? 0 };
  };
  /** Scales must be finite and positive, zero points integers in the stored type's range: anything else would
   *  become a zero or undefined multiplier in generated code. */
  const checkQuant = (t: Tensor, scale: readonly number[], zp: readonly number[]): void => {
    const bad = scale.find((v) => !Number.isFinite(v) || v <= 0);
    if (bad !== undefined) throw new CodegenError(`C export: tensor '${t.name}' has quantization scale ${bad}; scales must be finite and positive`);
    const [lo, hi] = t.dtype === 'uint8' ? [0, 255] : t.dtype === 'int8' ? [-128, 127] : [-(2 ** 31), 2 ** 31 - 1];
    const z = zp.find((v) => !Number.isInteger(v) || v < lo || v > hi);
    if (z !== undefined) throw new CodegenError(`C export: tensor '${t.name}' has zero point ${z}, outside ${t.dtype}'s range`);
  };
  /** Zero point as the kernels see it (uint8 stored as int8 minus 128). */
  const izp = (id: number, q: QParams): number => (isU8(id) ? q.zp - 128 : q.zp);

  const elemOf = (id: number): Elem => {
    const t = T(id);
    if (t.dtype === 'float32') return 'f32';
    if (t.dtype === 'int8' || t.dtype === 'uint8') return 's8';
    if (t.dtype === 'int16') return 's16';
    if (t.dtype === 'int32') return 's32';
    if (t.dtype === 'int64') return 's64';
    throw new CodegenError(`C export: tensor '${t.name}' is ${t.dtype}; generated kernels handle float32, int8, uint8, int16, int32 and int64 activations`);
  };
  const esize = (e: Elem): number => (e === 's64' ? 8 : e === 'f32' || e === 's32' ? 4 : e === 's16' ? 2 : 1);

  const geo = (id: number): Geo => {
    const t = T(id);
    if (!t.shape) throw new CodegenError(`C export: the shape of tensor '${t.name}' is unknown`);
    const shape = t.shape;
    const ax = shape.length === 4 ? spatialAxes(t.layout) : shape.length === 3 ? lineAxes(t.layout) : null;
    if (ax) {
      // The kernels see a map as C × H × W; a batch of several runs map by map (batchLoop). A 1-D map's batch is its
      // height: rows the 1-D kernels, of height 1, keep apart.
      return { shape, axes: ax, C: shape[ax.c]!, H: shape[ax.h]!, W: shape[ax.w]!, N: batchOf(graph, id) };
    }
    return { shape, axes: null, C: elementCount(shape), H: 1, W: 1, N: 1 };
  };
  /** A window operator's index arithmetic fits the kernels' int32: from row −pad to (out − 1)·stride + (k − 1)·dilation
   *  (a huge stride or dilation would overflow it). */
  const windowFits = (op: Op, gx: Geo, gy: Geo, k: readonly number[], s: readonly number[], d: readonly number[], pads: readonly number[]): void => {
    for (const a of [0, 1]) {
      const span = ((a === 0 ? gy.H : gy.W) - 1) * s[a]! + (k[a]! - 1) * d[a]!;
      const pad = pads[a]!;
      if (!(span >= 0 && span < 2 ** 31 && pad >= 0 && pad < 2 ** 31 && (a === 0 ? gx.H : gx.W) + pad < 2 ** 31)) {
        throw new CodegenError(`C export: ${label(op)}: kernel ${k.join('×')}, stride ${s.join('×')}, dilation ${d.join('×')} and padding reach index ${span}, beyond the kernels' 32-bit arithmetic`, op.index);
      }
    }
  };
  /** View of a tensor stored as its region [h0, h0+hs) × [w0, w0+ws) (whole tensor by default); stride 0 on size-1 axes. */
  const ownView = (id: number, region?: { h0: number; w0: number; hs: number; ws: number }): View => {
    const g = geo(id);
    if (!g.axes) return { h0: 0, w0: 0, sc: g.C === 1 ? 0 : 1, sh: 0, sw: 0 };
    const shape = g.shape.slice();
    const h0 = region?.h0 ?? 0;
    const w0 = region?.w0 ?? 0;
    if (region) { shape[g.axes.h] = region.hs; shape[g.axes.w] = region.ws; }
    const st = rowMajorStrides(shape);
    const s = (a: number): number => (shape[a] === 1 ? 0 : st[a]!);
    return { h0, w0, sc: s(g.axes.c), sh: s(g.axes.h), sw: s(g.axes.w) };
  };
  /** View of operand `id` broadcast (numpy rules) against the output `y`. */
  const operandView = (id: number, y: number, op: Op): View => {
    const gy = geo(y);
    const xs = T(id).shape ?? [];
    const n = elementCount(xs);
    if (n === 1) return { h0: 0, w0: 0, sc: 0, sh: 0, sw: 0 };
    if (!gy.axes) {
      if (n === gy.C) return { h0: 0, w0: 0, sc: 1, sh: 0, sw: 0 };
      throw new CodegenError(`C export: ${label(op)} broadcasts ${xs.join('×')} against ${gy.shape.join('×')}, which generated code does not do`, op.index);
    }
    const ry = gy.shape.length;
    const st = rowMajorStrides(xs);
    const strideFor = (a: number): number => {
      const j = a - (ry - xs.length);
      if (j < 0 || xs[j] === 1) return 0;
      if (xs[j] !== gy.shape[a]) throw new CodegenError(`C export: ${label(op)} broadcasts ${xs.join('×')} against ${gy.shape.join('×')}, which is not a numpy broadcast`, op.index);
      return st[j]!;
    };
    // The batch axis is walked by batchLoop (an operand with a batch of its own is offset map by map).
    for (let a = 0; a < ry; a++) strideFor(a);
    return { h0: 0, w0: 0, sc: strideFor(gy.axes.c), sh: strideFor(gy.axes.h), sw: strideFor(gy.axes.w) };
  };
  const fullBox = (id: number): Box => {
    const g = geo(id);
    return { h0: 0, h1: g.H, w0: 0, w1: g.W };
  };

  // ---- the plan and the arena ----
  let plan: ExecPlan;
  let arenaBytes: number;
  let wholeOffset: (buffer: number) => number;
  let tileOffset: (buffer: number) => number = () => -1;
  let stage: Stage | null = null;
  let tiles: { rows: Parameters<typeof tileRegions>[1]; cols: Parameters<typeof tileRegions>[2] }[] = [];
  let schedule: Program['schedule'] = null;
  /** Every planned buffer (whole or tile; a stream's ring or accumulator) with its lifetime: what the region planner
   *  places. `buffer` weighs it by its accesses (-1: once). */
  let planned: { buffer: number; tile: boolean; item: PlanItem; ring?: number; acc?: number; scratch?: number }[] = [];
  /** Line-buffered: the segments and where each ring, pooling's sums and fused blocks' scratch lives. */
  let streams: { ctx: ScheduleContext; segments: SegmentCost[]; ringOffset: Map<number, number>; accOffset: Map<number, number>; scratchOffset: Map<number, number> } | null = null;
  if (options.lineBuffered) {
    if (options.schedule) throw new CodegenError('C export: a line-buffered plan and a patch schedule together are not generated');
    const ctx = options.context ?? scheduleContext(graph, conventions);
    plan = ctx.plan;
    const segments = options.lineBuffered === true ? bestStreamPlan(ctx).segments : [...options.lineBuffered];
    for (const x of segments) {
      // Global pooling and a mean over H and W accumulate rows (mm_gpool_row, mm_mean_row), one per segment.
      const pools = accumulators(graph, streamEvents(ctx, x).events);
      if (pools.size > 1) throw new CodegenError(`C export: steps ${x.first}-${x.last} accumulate ${pools.size} global reductions; one per segment is generated`);
    }
    const arena = streamArena(ctx, segments);
    const whole = new Map<number, number>();
    const ringOffset = new Map<number, number>();
    const accOffset = new Map<number, number>();
    const scratchOffset = new Map<number, number>();
    arena.owners.forEach((o, i) => {
      const item = arena.items[i]!;
      if ('buffer' in o) {
        whole.set(o.buffer, arena.plan.offsets[i]!);
        planned.push({ buffer: o.buffer, tile: false, item });
      } else if ('ring' in o) {
        ringOffset.set(o.ring, arena.plan.offsets[i]!);
        planned.push({ buffer: ctx.plan.bufferOf[o.ring] ?? -1, tile: false, item, ring: o.ring });
      } else if ('accumulator' in o) {
        accOffset.set(o.accumulator, arena.plan.offsets[i]!);
        planned.push({ buffer: -1, tile: false, item, acc: o.accumulator });
      } else {
        scratchOffset.set(o.scratch, arena.plan.offsets[i]!);
        planned.push({ buffer: -1, tile: false, item, scratch: o.scratch });
      }
    });
    arenaBytes = arena.plan.size;
    wholeOffset = (b) => whole.get(b) ?? -1;
    streams = { ctx, segments, ringOffset, accOffset, scratchOffset };
  } else if (options.schedule) {
    const ctx = options.context ?? scheduleContext(graph, conventions);
    plan = ctx.plan;
    const { split, p, q } = options.schedule;
    const st = ctx.stages[split];
    if (!st || !st.ok) throw new ModelError('bad-schedule', `no patch stage ends at step #${split}${st && !st.ok ? `: ${st.reason}` : ''}`);
    const cost = evaluateSchedule(ctx, split, p, q);
    const arena = scheduleArenaPlan(ctx, cost);
    planned = arena.rects.map((r) => ({ buffer: r.buffer, tile: r.tile, item: { size: r.size, start: r.start, end: r.end } }));
    arenaBytes = arena.size;
    wholeOffset = (b) => arena.whole.get(b) ?? -1;
    tileOffset = (b) => arena.tile.get(b) ?? -1;
    const bands = scheduleBands(ctx, split, p, q);
    stage = bands.stage;
    for (const r of bands.rows) for (const c of bands.cols) tiles.push({ rows: r, cols: c });
    schedule = { split, p, q, stageOutput: T(stage.output).name };
  } else {
    plan = options.context?.plan ?? buildExecPlan(graph, conventions);
    const items = plan.buffers.map((b) => ({ size: alignUp(b.bytes, ARENA_ALIGNMENT), start: b.start, end: b.end }));
    const one = planArena(items);
    planned = items.map((item, b) => ({ buffer: b, tile: false, item }));
    arenaBytes = one.size;
    wholeOffset = (b) => one.offsets[b] ?? -1;
  }

  const inputId = graph.inputs[0]!;
  const inputInArena = conventions.countInput;
  const ioOf = (id: number): IoTensor => {
    const t = T(id);
    elemOf(id);
    const io: IoTensor = { name: t.name, dtype: t.dtype, shape: geo(id).shape, bytes: elementCount(geo(id).shape) * esize(elemOf(id)) };
    // An int32 input may be plain integers (TRANSPOSE_CONV's output_shape, which TFLM does not read either; an ARG_MAX's
    // indices); int64 ones always are.
    const e = elemOf(id);
    if (e !== 'f32' && e !== 's64' && (e !== 's32' || quant.has(id))) io.quant = qOf(id, 'model input/output');
    return io;
  };
  const input = ioOf(inputId);
  const inputs = graph.inputs.map(ioOf);
  const outputs = graph.outputs.map(ioOf);
  if (!inputInArena && isU8(inputId)) throw new CodegenError('C export: a uint8 input is converted into the arena; export with the graph input counted (no --no-input)');

  // ---- several memory regions: one arena per region, global offsets (part k starts where part k−1 ends) ----
  let arenas: ArenaPart[] = [{ region: 'SRAM', ram: 0, base: 0, bytes: arenaBytes }];
  if (options.regions && (options.regions.length > 1 || options.regions.some((r) => r.ram !== 0))) {
    const regions = options.regions;
    const staticBytes = inputInArena ? 0 : input.bytes;
    const specs = regions.map((r) => ({ ...r.spec, capacity: r.spec.capacity - (r.ram === 0 ? staticBytes : 0) }));
    const placed = placeBuffers(planned.map((x) => x.item), planned.map((x) => x.buffer), plan, specs);
    let base = 0;
    arenas = regions.map((r, k) => {
      const part = { region: r.name, ram: r.ram, base, bytes: placed.sizes[k]! };
      base += part.bytes;
      return part;
    });
    const whole = new Map<number, number>();
    const tile = new Map<number, number>();
    planned.forEach((x, i) => {
      const k = placed.region[i]!;
      if (k < 0) return;
      const off = arenas[k]!.base + placed.offsets[i]!;
      if (x.ring !== undefined) streams!.ringOffset.set(x.ring, off);
      else if (x.acc !== undefined) streams!.accOffset.set(x.acc, off);
      else if (x.scratch !== undefined) streams!.scratchOffset.set(x.scratch, off);
      else (x.tile ? tile : whole).set(x.buffer, off);
    });
    arenaBytes = base;
    wholeOffset = (b) => whole.get(b) ?? -1;
    tileOffset = (b) => tile.get(b) ?? -1;
  }

  const bufOf = (id: number): number => plan.bufferOf[id] ?? -1;
  const inputOffset = inputInArena ? wholeOffset(bufOf(inputId)) : -1;
  const inputOffsets = graph.inputs.map((id) => {
    const off = inputInArena ? wholeOffset(bufOf(id)) : -1;
    if (inputInArena && off < 0) throw new CodegenError(`C export: input '${T(id).name}' is read by no operator`);
    return off;
  });
  const outputOffsets = graph.outputs.map((id) => {
    const off = wholeOffset(bufOf(id));
    if (off < 0) throw new CodegenError(`C export: output '${T(id).name}' is not computed by any operator`);
    return off;
  });

  // ---- emission ----
  const kernels = new Set<string>();
  const weights: WeightArray[] = [];
  const params: string[] = [];
  const tables: string[] = [];
  // Identical constants (a weight shared by two operators, the same bias or multiplier table twice) are stored once:
  // the second use gets the first array's name.
  const byContent = new Map<string, WeightArray[]>();
  const addWeights = (name: string, ctype: WeightArray['ctype'], values: ArrayLike<number>): string => {
    let h = 0x811c9dc5;
    for (let i = 0; i < values.length; i++) h = Math.imul(h ^ (Math.fround(values[i]!) * 4096 | 0), 0x01000193) >>> 0;
    const key = `${ctype}:${values.length}:${h}`;
    const same = byContent.get(key)?.find((w) => {
      for (let i = 0; i < values.length; i++) if (!Object.is(w.values[i], values[i])) return false;
      return true;
    });
    if (same) return same.name;
    const w: WeightArray = { name, ctype, values };
    weights.push(w);
    byContent.set(key, [...(byContent.get(key) ?? []), w]);
    return name;
  };

  const arenaPtr = (off: number, e: Elem): string => {
    const { k, local } = arenaPartOf(arenas, off);
    const n = arenaNames(k);
    return `${e === 'f32' ? n.af : e === 's16' ? n.a16 : e === 's32' ? n.a32 : e === 's64' ? n.a64 : n.a8}(${local})`;
  };
  const layerAccess: Access = {
    ptr: (id) => {
      if (id === inputId && !inputInArena) return `mm_in_${elemOf(id)}`;
      const off = wholeOffset(bufOf(id));
      if (off < 0 && T(id).role === 'constant') {
        // An SSD's anchors: a CONCATENATION of stored constants folded ahead of time, read by a DEQUANTIZE step.
        const p = producerOp.get(id);
        throw new CodegenError(`C export: tensor '${T(id).name}' is computed ahead of time from stored constants${p ? ` (by ${label(p)})` : ''} and read as data by an operator; its values are not kept, so this is not generated`, p?.index);
      }
      if (off < 0) throw new CodegenError(`internal: tensor '${T(id).name}' has no arena offset`);
      return arenaPtr(off, elemOf(id));
    },
    view: (id) => viewLit(ownView(id)),
    box: (id) => boxLit(fullBox(id)),
  };

  /** The constant behind a weight input: stored directly, or the int8 constant a folded DequantizeLinear reads (QDQ). */
  /** `count`: the number of values the kernel reads (a bias of one value for four channels is refused). */
  const constOf = (id: number, op: Op, what: string, count?: number): ConstData => {
    const d = constData(id, op, what);
    if (count !== undefined && d.values.length !== count) throw new CodegenError(`C export: ${label(op)}: its ${what} '${T(id).name}' holds ${d.values.length} values where ${count} are needed`, op.index);
    if (d.scale) checkQuant(T(d.id), d.scale, d.zp ?? [0]);
    return d;
  };
  const constData = (id: number, op: Op, what: string): ConstData => {
    if (id < 0) throw new CodegenError(`C export: ${label(op)}: its ${what} is left out`, op.index);
    const t = T(id);
    const p = producerOp.get(id);
    if (p?.folded && p.kind === 'Dequantize') {
      const src = p.inputs[0]!;
      const st = T(src);
      return {
        id: src, values: valuesOf(src), shape: st.shape ?? [], dtype: st.dtype,
        scale: valuesOf(p.params[0]!), zp: p.params[1] !== undefined ? valuesOf(p.params[1]) : [0],
      };
    }
    if (t.role === 'constant' && !p) {
      const q = quant.get(id);
      return { id, values: valuesOf(id), shape: t.shape ?? [], dtype: t.dtype, scale: q?.scale, zp: q?.zp };
    }
    if (p?.folded && RESHAPES.has(p.kind) && t.shape && (p.inputs[0] ?? -1) >= 0) {
      const d = constData(p.inputs[0]!, op, what);
      const q = quant.get(id);
      return { ...d, id, shape: t.shape, scale: q?.scale ?? d.scale, zp: q?.zp ?? d.zp };
    }
    if (p?.folded && p.kind === 'Tile' && t.shape && (p.inputs[0] ?? -1) >= 0) {
      const d = constData(p.inputs[0]!, op, what);
      const out = t.shape;
      if (d.shape.length !== out.length) throw new CodegenError(`C export: ${label(op)}: its ${what} '${t.name}' tiles a constant of another rank`, op.index);
      const inStrides = rowMajorStrides(d.shape);
      const values = new Array<number>(elementCount(out));
      const idx = new Array<number>(out.length).fill(0);
      for (let k = 0; k < values.length; k++) {
        let at = 0;
        for (let a = 0; a < out.length; a++) at += (idx[a]! % d.shape[a]!) * inStrides[a]!;
        values[k] = d.values[at]!;
        for (let a = out.length - 1; a >= 0; a--) { if (++idx[a]! < out[a]!) break; idx[a] = 0; }
      }
      const q = quant.get(id);
      return { ...d, id, values, shape: out, scale: q?.scale ?? d.scale, zp: q?.zp ?? d.zp };
    }
    if (p?.folded && p.kind === 'Concat' && t.shape) {
      // A concatenation of stored constants, folded ahead of time (an SSD's anchors): its values put together here.
      const q = quant.get(id);
      const rank = t.shape.length;
      const axis = ((p.attrs.axis ?? 0) + rank) % rank;
      const parts = p.inputs.filter((i) => i >= 0).map((i) => constData(i, op, what));
      for (const d of parts) {
        const same = d.dtype === t.dtype && (!q || (d.scale?.[0] === q.scale[0] && (d.zp?.[0] ?? 0) === (q.zp[0] ?? 0)));
        if (!same || d.shape.length !== rank) throw new CodegenError(`C export: ${label(op)}: its ${what} '${t.name}' concatenates constants of another type or quantization`, op.index);
      }
      const outer = elementCount(t.shape.slice(0, axis));
      const values: number[] = [];
      for (let o = 0; o < outer; o++) for (const d of parts) { const n = elementCount(d.shape.slice(axis)); values.push(...d.values.slice(o * n, (o + 1) * n)); }
      if (values.length !== elementCount(t.shape)) throw new CodegenError(`C export: ${label(op)}: its ${what} '${t.name}' does not add up from its parts`, op.index);
      return { id, values, shape: t.shape, dtype: t.dtype, scale: q?.scale, zp: q?.zp };
    }
    throw new CodegenError(`C export: ${label(op)}: its ${what} '${t.name}' is computed at run time; generated code needs it constant`, op.index);
  };
  /** Per-channel scales: one, or one per output channel. */
  const channelScales = (W: ConstData, op: Op, channels: number): number[] => {
    const sc = W.scale!;
    if (sc.length !== 1 && sc.length !== channels) throw new CodegenError(`C export: ${label(op)}: weights '${T(W.id).name}' carry ${sc.length} scales for ${channels} output channels`, op.index);
    return sc;
  };

  const clampF = (act: string | undefined): [number, number] => {
    switch (act) {
      case 'relu': return [0, Infinity];
      case 'relu6': return [0, 6];
      case 'relu_n1_to_1': return [-1, 1];
      default: return [-Infinity, Infinity];
    }
  };

  /** Clip bounds of a Clip/Relu6-like activation op. */
  const clipBounds = (op: Op): [number, number] => {
    const a = op.attrs.activation;
    if (a === 'relu') return [0, Infinity];
    if (a === 'relu6') return [0, 6];
    if (a === 'relu_n1_to_1') return [-1, 1];
    if (op.attrs.clip) return op.attrs.clip;
    const [lo, hi] = op.attrs.clipOperands ?? [-1, -1];
    return [scalarOf(lo, -Infinity), scalarOf(hi, Infinity)];
  };

  /** A float activation as a kernel and its parameter initializer for `c` channels, clamped to [lo, hi]: the
   *  activations in mm_unary_f32, the other functions in mm_math_f32 (which links erff, logf, sqrtf). */
  const floatFn = (act: string, op: Op, c: number, lo: number, hi: number): { kernel: 'unary_f32' | 'math_f32' | 'special_f32'; init: string } => {
    const unary = (fn: string, alpha = 0, beta = 0, l = lo, h = hi): { kernel: 'unary_f32'; init: string } =>
      ({ kernel: 'unary_f32', init: `{${c}, ${fn}, ${fmtFloat(alpha)}, ${fmtFloat(beta)}, ${fmtFloat(l)}, ${fmtFloat(h)}}` });
    const math = (fn: string): { kernel: 'math_f32'; init: string } => ({ kernel: 'math_f32', init: `{${c}, ${fn}, ${fmtFloat(lo)}, ${fmtFloat(hi)}}` });
    const special = (fn: string, alpha = 0, gamma = 0): { kernel: 'special_f32'; init: string } =>
      ({ kernel: 'special_f32', init: `{${c}, ${fn}, ${fmtFloat(alpha)}, ${fmtFloat(gamma)}, ${fmtFloat(lo)}, ${fmtFloat(hi)}}` });
    if (CLAMPS.has(act)) {
      const [a, b] = clipBounds(op);
      return unary('MM_CLAMP', 0, 0, Math.max(a, lo), Math.min(b, hi));
    }
    switch (act) {
      case 'sigmoid': return unary('MM_SIGMOID');
      case 'hardswish': return unary('MM_HARDSWISH');
      case 'hardsigmoid': return unary('MM_HARDSIGMOID', op.attrs.alpha ?? 0.2, op.attrs.beta ?? 0.5);
      case 'tanh': return unary('MM_TANH');
      case 'silu': return unary('MM_SILU');
      case 'leakyrelu': return unary('MM_LEAKYRELU', op.attrs.alpha ?? 0.01);
      case 'elu': return unary('MM_ELU', op.attrs.alpha ?? 1);
      case 'exp': return math('MM_EXP');
      case 'log': return math('MM_LOG');
      case 'abs': return math('MM_ABS');
      case 'neg': return math('MM_NEG');
      case 'sqrt': return math('MM_SQRT');
      case 'rsqrt': return math('MM_RSQRT');
      case 'erf': return math('MM_ERF');
      case 'gelu': return math(op.attrs.approximate ? 'MM_GELU_TANH' : 'MM_GELU');
      case 'floor': return special('MM_FLOOR');
      case 'ceil': return special('MM_CEIL');
      case 'round': return special('MM_ROUND');
      case 'reciprocal': return special('MM_RECIPROCAL');
      case 'selu': return special('MM_SELU', op.attrs.alpha ?? 1.67326319217681884765625, op.attrs.beta ?? 1.05070102214813232421875);
      case 'softplus': return special('MM_SOFTPLUS');
      case 'mish': return special('MM_MISH');
      default: throw new CodegenError(`C export: ${label(op)}: activation '${act}' is not generated (supported: ${SUPPORTED})`, op.index);
    }
  };
  const realFn = (act: string, op: Op): ((x: number) => number) => {
    const a = op.attrs.alpha;
    const b = op.attrs.beta;
    switch (act) {
      case 'relu': return (x) => Math.max(0, x);
      case 'relu6': return (x) => Math.min(6, Math.max(0, x));
      case 'relu_n1_to_1': return (x) => Math.min(1, Math.max(-1, x));
      case 'clip': { const [lo, hi] = clipBounds(op); return (x) => Math.min(hi, Math.max(lo, x)); }
      case 'sigmoid': return (x) => 1 / (1 + Math.exp(-x));
      case 'hardswish': return (x) => (x * Math.min(6, Math.max(0, x + 3))) / 6;
      case 'hardsigmoid': return (x) => Math.min(1, Math.max(0, (a ?? 0.2) * x + (b ?? 0.5)));
      case 'tanh': return Math.tanh;
      case 'silu': return (x) => x / (1 + Math.exp(-x));
      case 'leakyrelu': return (x) => (x >= 0 ? x : (a ?? 0.01) * x);
      case 'elu': return (x) => (x >= 0 ? x : (a ?? 1) * (Math.exp(x) - 1));
      case 'abs': return Math.abs;
      case 'neg': return (x) => -x;
      case 'sqrt': return Math.sqrt;
      case 'rsqrt': return (x) => 1 / Math.sqrt(x);
      case 'exp': return Math.exp;
      case 'log': return Math.log;
      case 'selu': return (x) => (b ?? 1.0507009873554805) * (x > 0 ? x : (a ?? 1.6732632423543772) * (Math.exp(x) - 1));
      case 'softplus': return (x) => Math.log1p(Math.exp(-Math.abs(x))) + Math.max(x, 0);
      case 'mish': return (x) => x * Math.tanh(Math.log1p(Math.exp(-Math.abs(x))) + Math.max(x, 0));
      case 'reciprocal': return (x) => 1 / x;
      case 'floor': return Math.floor;
      case 'ceil': return Math.ceil;
      // Half to even, as ONNX's Round.
      case 'round': return roundEven;
      default: throw new CodegenError(`C export: ${label(op)}: activation '${act}' is not generated (supported: ${SUPPORTED})`, op.index);
    }
  };
  /** int8 table: every input value through f, from the input's quantization to the output's. */
  /** An int8 table through float: TFLite's LUTs in double with TfLiteRound (half away from zero); ONNX's QDQ as
   *  onnxruntime runs it, dequantized, computed and divided by the scale in float32, rounded half to even. */
  const lutOf = (name: string, x: number, y: number, f: (v: number) => number): string => {
    const qx = qOf(x, 'activation input');
    const qy = qOf(y, 'activation output');
    const zx = izp(x, qx);
    const zy = izp(y, qy);
    const onnx = graph.format === 'onnx';
    const f32 = onnx ? Math.fround : (v: number): number => v;
    const table: number[] = [];
    for (let v = -128; v < 128; v++) {
      const r = f32(f(f32(f32(qx.scale) * (v - zx))));
      const q = f32(r / f32(qy.scale));
      // Infinities saturate; NaN (a logarithm or root of a negative input) becomes the output's zero point.
      table.push(Number.isNaN(q) ? zy : Math.min(127, Math.max(-128, (onnx ? roundEven(q) : roundAway(q)) + zy)));
    }
    return addWeights(name, 'int8_t', table);
  };
  /** TFLite's LEAKY_RELU in fixed point, as TFLM computes it (not through float: bit for bit). */
  const leakyOf = (op: Op, x: number, y: number): LeakyParams => {
    const qx = qOf(x, 'LEAKY_RELU input');
    const qy = qOf(y, 'LEAKY_RELU output');
    return leakyReluParams(qx.scale, izp(x, qx), qy.scale, izp(y, qy), op.attrs.alpha ?? 0);
  };
  /** TFLM's int8 requantization (reference Requantize: QuantizeMultiplier of the scale ratio in double, the zero points
   *  as stored; uint8 kept as int8 − 128) as a table of the 256 inputs. */
  const requantTable = (name: string, x: number, y: number): string => {
    const qx = qOf(x, 'requantize input');
    const qy = qOf(y, 'requantize output');
    const [m, sh] = quantizeMultiplier(qx.scale / qy.scale);
    return addWeights(name, 'int8_t', Array.from({ length: 256 }, (_, i) => Math.min(127, Math.max(-128, izp(y, qy) + multiplyByQuantizedMultiplier(i - 128 - izp(x, qx), m, sh)))));
  };
  /** The int8 table of an activation operator from x's quantization to y's: TFLite's LEAKY_RELU, LOGISTIC, TANH and
   *  HARD_SWISH with TFLM's integer arithmetic (bit for bit), any other through float. */
  const activationTable = (name: string, op: Op, act: string, x: number, y: number): string => {
    const qx = qOf(x, 'activation input');
    const qy = qOf(y, 'activation output');
    const [inZp, outZp] = [izp(x, qx), izp(y, qy)];
    const fixedOutput = (scale: number, zp: number): void => {
      if (Math.fround(qy.scale) !== Math.fround(scale) || outZp !== zp) throw new CodegenError(`C export: ${label(op)}: TFLite requires its int8 output quantized with scale ${scale === 1 / 256 ? '1/256' : '1/128'} and zero point ${zp}; '${T(y).name}' has ${+qy.scale.toPrecision(6)} and ${outZp}`, op.index);
    };
    switch (act === op.attrs.activation ? op.sourceType : undefined) {
      case 'LEAKY_RELU': {
        const p = leakyOf(op, x, y);
        return addWeights(name, 'int8_t', Array.from({ length: 256 }, (_, i) => leakyRelu(i - 128, p, -128, 127)));
      }
      case 'LOGISTIC':
        fixedOutput(1 / 256, -128);
        return addWeights(name, 'int8_t', logisticTableS8(qx.scale, inZp));
      case 'TANH':
        fixedOutput(1 / 128, 0);
        return addWeights(name, 'int8_t', tanhTableS8(qx.scale, inZp));
      case 'ABS': case 'RSQRT':
        return addWeights(name, 'int8_t', absRsqrtTableS8(op.sourceType === 'RSQRT', qx.scale, inZp, qy.scale, outZp));
      case 'HARD_SWISH': {
        const table = hardSwishTableS8(qx.scale, inZp, qy.scale, outZp);
        if (!table) throw new CodegenError(`C export: ${label(op)}: TFLM refuses an int8 HARD_SWISH whose output scale (${+qy.scale.toPrecision(6)}) is below 1/128 of its input's (${+qx.scale.toPrecision(6)})`, op.index);
        return addWeights(name, 'int8_t', table);
      }
      default: return lutOf(name, x, y, realFn(act, op));
    }
  };

  const finishOf = (si: number, step: Step): Finish => {
    const main = graph.ops[step.main]!;
    const y = step.outputs[0]!;
    const elem = elemOf(y);
    const chain = step.ops.slice(1).map((i) => graph.ops[i]!).filter((o) => o.kind !== 'Dequantize');
    const mainOut = main.outputs[0]!;
    if (main.kind === 'ArgReduce' || elem === 's64' || (elem === 's32' && !quant.has(y))) {
      // Indices (an ArgMax's, moved on): no quantization, no activation.
      if (chain[0]) throw new CodegenError(`C export: ${label(chain[0])} fused into step #${si} is not generated after an index operator`, chain[0].index);
      return { elem, zp: 0, lo: 0, hi: 0, epilogue: () => [] };
    }
    if (elem === 's16' || elem === 's32') {
      // int16 and int32 are moved (INT16_KINDS) or go through TFLM's kernels: no fused activation operator after them,
      // but for TFLite's PRELU (run after the operator, in place).
      const bits = elem === 's16' ? 'int16' : 'int32';
      const prelus = elem === 's16' && graph.format === 'tflite' && chain.every((o) => o.kind === 'Activation' && o.attrs.activation === 'prelu');
      if (chain[0] && !prelus) throw new CodegenError(`C export: ${label(chain[0])} fused into step #${si} is not generated in ${bits}`, chain[0].index);
      const q = qOf(mainOut, `${bits} output`);
      const [lo, hi] = elem === 's16' ? activationRange(main.attrs.fusedActivation, q.scale, q.zp, -32768, 32767) : activationRange(main.attrs.fusedActivation, q.scale, q.zp, -(2 ** 31), 2 ** 31 - 1);
      let from = mainOut;
      const calls = chain.map((op, k) => {
        const call = preluQ(ctx, op, from, op.outputs[0]!, `P${si}_${k}`, `k${si}_${k}`, -32768, 32767);
        from = op.outputs[0]!;
        return call;
      });
      return { elem, q, zp: q.zp, lo, hi, epilogue: (a, t) => calls.map((c) => c(a, t, t)) };
    }
    const epis: ((a: Access, y: number) => string)[] = [];
    if (elem === 'f32') {
      let [lo, hi] = clampF(main.attrs.fusedActivation);
      let k = 0;
      if (chain[0] && chain[0].kind === 'Activation' && CLAMPS.has(chain[0].attrs.activation ?? '')) {
        const [a, b] = clipBounds(chain[0]);
        lo = Math.max(lo, a); hi = Math.min(hi, b); k = 1;
      }
      for (; k < chain.length; k++) {
        const op = chain[k]!;
        let act = op.attrs.activation ?? '';
        if (op.kind !== 'Activation') throw new CodegenError(`C export: ${label(op)} fused into step #${si} is not generated`, op.index);
        if ((act === 'sigmoid' || act === 'hardsigmoid') && chain[k + 1]?.kind === 'Mul') { act = act === 'sigmoid' ? 'silu' : 'hardswish'; k++; }
        const name = `P${si}_${k}`;
        const c = geo(y).C;
        if (act === 'prelu') {
          // PRelu: the binary kernel with the stored slope broadcast as its second operand, in place.
          const slope = op.params[0] ?? op.inputs[1] ?? -1;
          const kn = addWeights(`k${si}_${k}`, 'float', constOf(slope, op, 'slope').values);
          const sv = viewLit(operandView(slope, y, op));
          kernels.add('binary_f32');
          params.push(`static const mm_binary_f32_t ${name} = {${c}, MM_PRELU, -INFINITY, INFINITY};`);
          epis.push((a, t) => `mm_binary_f32(&${name}, ${a.ptr(t)}, ${a.view(t)}, (const float *)${kn}, ${sv}, ${a.ptr(t)}, ${a.view(t)}, ${a.box(t)});`);
          continue;
        }
        const f = floatFn(act, op, c, -Infinity, Infinity);
        kernels.add(f.kernel);
        params.push(`static const mm_${f.kernel}_t ${name} = ${f.init};`);
        epis.push((a, t) => `mm_${f.kernel}(&${name}, ${a.ptr(t)}, ${a.view(t)}, ${a.ptr(t)}, ${a.view(t)}, ${a.box(t)});`);
      }
      return { elem, zp: 0, lo, hi, epilogue: (a, t) => epis.map((e) => e(a, t)) };
    }
    // int8 output
    if (elemOf(mainOut) === 'f32' || T(mainOut).dtype === 'float32') {
      // QDQ: float operator, optional clamp activations, QuantizeLinear.
      const last = chain[chain.length - 1];
      if (!last || last.kind !== 'Quantize') throw new CodegenError(`C export: ${label(main)} computes float32 between int8 tensors without a QuantizeLinear; not generated`, main.index);
      const q = qOf(y, 'quantized output');
      const zp = izp(y, q);
      let lo = -128;
      let hi = 127;
      for (const op of chain.slice(0, -1)) {
        if (op.kind !== 'Activation' || !CLAMPS.has(op.attrs.activation ?? '')) throw new CodegenError(`C export: ${label(op)} between a quantized operator and its QuantizeLinear is not generated in int8`, op.index);
        const [a, b] = clipBounds(op);
        if (a > -Infinity) lo = Math.max(lo, zp + roundAway(a / q.scale));
        if (b < Infinity) hi = Math.min(hi, zp + roundAway(b / q.scale));
      }
      return { elem, q, zp, lo, hi, epilogue: () => [] };
    }
    const q = qOf(mainOut, 'operator output');
    const zp = izp(mainOut, q);
    const [lo, hi] = activationRange(main.attrs.fusedActivation, q.scale, zp);
    let from = mainOut;
    for (let k = 0; k < chain.length; k++) {
      const op = chain[k]!;
      if (op.kind === 'Quantize' && op.sourceType === 'QUANTIZE' && elemOf(from) === 's8' && elemOf(op.outputs[0]!) === 's8') {
        // A TFLite requantization (int8 → int8 or uint8, as at a model's output) after the operator: TFLM's Requantize
        // as a table of the 256 inputs.
        const name = `P${si}_${k}`;
        const table = requantTable(`lut${si}_${k}`, from, op.outputs[0]!);
        kernels.add('lut_s8');
        params.push(`static const mm_lut_s8_t ${name} = {${geo(y).C}, ${table}};`);
        epis.push((a, t) => `mm_lut_s8(&${name}, ${a.ptr(t)}, ${a.view(t)}, ${a.ptr(t)}, ${a.view(t)}, ${a.box(t)});`);
        from = op.outputs[0]!;
        continue;
      }
      if (op.kind !== 'Activation') throw new CodegenError(`C export: ${label(op)} fused into step #${si} is not generated in int8`, op.index);
      let act = op.attrs.activation ?? '';
      let to = op.outputs[0]!;
      if ((act === 'sigmoid' || act === 'hardsigmoid') && chain[k + 1]?.kind === 'Mul') {
        act = act === 'sigmoid' ? 'silu' : 'hardswish';
        to = chain[k + 1]!.outputs[0]!;
        k++;
      }
      const name = `P${si}_${k}`;
      if (act === 'prelu' && graph.format === 'tflite') {
        // TFLM's PRELU after the operator, in place (its slope varies by channel: not a table).
        const call = preluQ(ctx, op, from, to, name, `k${si}_${k}`, -128, 127);
        epis.push((a, t) => call(a, t, t));
        from = to;
        continue;
      }
      const table = activationTable(`lut${si}_${k}`, op, act, from, to);
      kernels.add('lut_s8');
      params.push(`static const mm_lut_s8_t ${name} = {${geo(y).C}, ${table}};`);
      epis.push((a, t) => `mm_lut_s8(&${name}, ${a.ptr(t)}, ${a.view(t)}, ${a.ptr(t)}, ${a.view(t)}, ${a.box(t)});`);
      from = to;
    }
    return { elem, q, zp, lo, hi, epilogue: (a, t) => epis.map((e) => e(a, t)) };
  };

  const ctx: Lower = {
    graph, T, label, qOf, izp, elemOf, esize, geo, windowFits, operandView, addWeights, constOf, channelScales, clipBounds,
    floatFn, leakyOf, activationTable, scalarOf, producerOp, stored, params, kernels, layerAccess,
  };
  /** Lowers one step (its family's function in lower/, by its kind); returns a function emitting its statements for a
   *  given access (layer or tile). */
  const executed = new Set(plan.steps.map((st) => st.main));
  const lowerStep = (si: number, step: Step): ((a: Access) => string[]) => {
    let op = graph.ops[step.main]!;
    const y = step.outputs[0]!;
    if (step.outputs.length !== 1 && op.kind !== 'Split' && op.kind !== 'Unpack' && op.kind !== 'Recurrent' && op.kind !== 'Classifier') throw new CodegenError(`C export: ${label(op)} has ${step.outputs.length} outputs; generated operators have one`, op.index);
    const P = `P${si}`;
    if (!INT16_KINDS.has(op.kind) && !INT16_TFLITE.has(op.sourceType) && [...op.inputs, ...step.outputs].some((t) => t >= 0 && T(t).role !== 'constant' && T(t).dtype === 'int16')) {
      throw new CodegenError(`C export: ${label(op)} on int16 activations is not generated (int16: data movement, convolution and transposed convolution, fully connected, ADD, SUB, MUL, MAXIMUM, MINIMUM, SQUARED_DIFFERENCE, pooling, MEAN, RELU, RELU6, LEAKY_RELU, PRELU, LOGISTIC, TANH, SOFTMAX, ArgMax, QUANTIZE, DEQUANTIZE and an SVDF's state)`, op.index);
    }
    // Deeploy's RequantShift writes int32 (from float): its lowering checks the types.
    const int32Writer = op.kind === 'ArgReduce' || (op.kind === 'Elementwise' && op.attrs.fn === 'requantshift');
    if (!INT16_KINDS.has(op.kind) && !INT32_TFLITE.has(op.sourceType) && !int32Writer && [...op.inputs, ...step.outputs].some((t) => t >= 0 && T(t).role !== 'constant' && T(t).dtype === 'int32')) {
      throw new CodegenError(`C export: ${label(op)} on int32 activations is not generated (int32: data movement, TFLite's QUANTIZE, ArgMax/ArgMin, Deeploy's RequantShift to int32)`, op.index);
    }
    const int64Writer = (op.kind === 'ArgReduce' && op.inputs[0] !== undefined && T(op.inputs[0]).dtype !== 'int64') || op.kind === 'Classifier';
    if (!INT16_KINDS.has(op.kind) && !int64Writer && [...op.inputs, ...step.outputs].some((t) => t >= 0 && T(t).role !== 'constant' && T(t).dtype === 'int64')) {
      throw new CodegenError(`C export: ${label(op)} on int64 activations is not generated (int64: data movement, the indices of ArgMax/ArgMin and an SVM's labels)`, op.index);
    }
    const fin = finishOf(si, step);
    const e = fin.elem;
    const withEpi = (call: (a: Access) => string[]): ((a: Access) => string[]) => (a) => [...call(a), ...fin.epilogue(a, y)];
    // QDQ: a DequantizeLinear of an activation was removed from the plan; its reader reads the int8 tensor.
    const src = (id: number): number => {
      const d = producerOp.get(id);
      return d && d.kind === 'Dequantize' && !d.folded && !executed.has(d.index) ? d.inputs[0]! : id;
    };
    op = { ...op, inputs: op.inputs.map((i) => (i >= 0 ? src(i) : i)) };
    const x0 = op.inputs[0] ?? -1;
    // Operators that copy values, and the integer kernels that read their operands as the output's type, need every
    // data operand in that type: a file that says otherwise would make the kernel read past a smaller tensor.
    const sameType = INT16_KINDS.has(op.kind) || (e !== 'f32' && (op.kind === 'Add' || op.kind === 'Sub' || op.sourceType === 'LEAKY_RELU'));
    const dataIn = op.kind === 'Pack' || op.kind === 'Concat' || op.kind === 'Add' || op.kind === 'Sub' ? op.inputs : [x0];
    const odd = sameType ? dataIn.find((i) => i >= 0 && T(i).role !== 'constant' && !producerOp.get(i)?.folded && elemOf(i) !== e) : undefined;
    if (odd !== undefined) throw new CodegenError(`C export: ${label(op)} reads ${T(odd).dtype} '${T(odd).name}' and writes ${T(y).dtype}; not generated`, op.index);
    /** Copy k of `copies` reads tensor srcOf(k) (mm_copy_nd, up to 6 dimensions, element strides). */
    const stridedCopies = (copies: StridedCopy[], srcOf: (k: number) => number): ((a: Access) => string[]) => {
      const es = esize(e);
      kernels.add('copy_nd');
      const pad6 = (v: number[]): string => [...v, ...new Array<number>(6 - v.length).fill(0)].join(', ');
      copies.forEach((c, k) => params.push(`static const mm_copy_nd_t ${P}_${k} = {${c.dims.length}, ${es}, {${pad6(c.dims)}}, {${pad6(c.xStrides)}}, {${pad6(c.yStrides)}}};`));
      return withEpi((a) => copies.map((c, k) => `mm_copy_nd(&${P}_${k}, (const uint8_t *)${a.ptr(srcOf(k))} + ${c.xBase * es}, (uint8_t *)${a.ptr(y)} + ${c.yBase * es});`));
    };

    const lower = LOWERERS[op.kind];
    if (!lower) throw new CodegenError(`C export: ${label(op)} is not supported by the C generator (supported: ${SUPPORTED})`, op.index);
    const emit = lower({ ...ctx, si, P, op, y, outs: step.outputs, x0, e, fin, withEpi, stridedCopies });
    return batchLoop(op, step, emit);
  };
  /** A batch of several 2-D maps: the kernels that see one map through views (convolution, pooling, batch
   *  normalization, activations, elementwise arithmetic, quantization) run once per map, every batched tensor offset
   *  by its map's size (an operand without a batch is shared); the operators that read whole tensors by their shape
   *  (reshapes, transposes, softmax) run once. Any other operator on a batch, or a batch under a patch schedule or a
   *  line-buffered plan, is refused by name. */
  const batchLoop = (op: Op, step: Step, emit: (a: Access) => string[]): ((a: Access) => string[]) => {
    const tensors = [...new Set([...op.inputs, ...step.outputs])].filter((t) => t >= 0 && T(t).role !== 'constant' && T(t).shape);
    const batched = tensors.filter((t) => geo(t).N > 1);
    if (batched.length === 0) return emit;
    const n = geo(batched[0]!).N;
    const refuse = (why: string): never => { throw new CodegenError(`C export: tensor '${T(batched[0]!).name}' holds a batch of ${n} feature maps; ${why}`, op.index); };
    if (options.schedule || options.lineBuffered) refuse('generated code runs a batch under a patch schedule or a line-buffered plan as a batch of 1: export layer by layer');
    if (WHOLE_TENSOR_KINDS.has(op.kind)) return emit;
    if (!PER_MAP_KINDS.has(op.kind) || (op.kind === 'BatchNorm' && op.sourceType !== 'BatchNormalization')) refuse(`generated code runs a batch map by map through convolution, pooling, batch normalization, activations, elementwise arithmetic and quantization only, not ${label(op)}`);
    const other = batched.find((t) => geo(t).N !== n);
    if (other !== undefined) refuse(`'${T(other).name}' holds ${geo(other).N}`);
    // A stored operand of elementwise arithmetic (or PRelu's slope) is read through its own pointer: one with a batch
    // of its own is not offset map by map.
    const gy = geo(step.outputs[0]!);
    const batchAxis = gy.axes ? gy.shape.findIndex((_, a) => a !== gy.axes!.c && a !== gy.axes!.h && a !== gy.axes!.w) : -1;
    const broadcasts = ['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Pow', 'Activation'].includes(op.kind);
    const storedBatch = !broadcasts ? undefined : [...op.inputs, ...op.params].find((t) => {
      const s = t >= 0 && T(t).role === 'constant' ? T(t).shape : null;
      const j = s ? batchAxis - (gy.shape.length - s.length) : -1;
      return s !== null && j >= 0 && (s[j] ?? 1) > 1;
    });
    if (storedBatch !== undefined) refuse(`${label(op)} reads stored '${T(storedBatch).name}' with a batch of its own`);
    const perMap = (t: number): number => (geo(t).N > 1 ? elementCount(geo(t).shape) / n : 0);
    return (a) => {
      const inner: Access = { ...a, ptr: (t) => (t >= 0 && perMap(t) > 0 ? `(${a.ptr(t)} + (size_t)mm_n * ${perMap(t)})` : a.ptr(t)) };
      return [`for (int32_t mm_n = 0; mm_n < ${n}; mm_n++) {`, ...emit(inner).map((l) => `  ${l}`), '}'];
    };
  };

  const emitters = plan.steps.map((s, i) => lowerStep(i, s));
  const body: string[] = [];
  let first = 0;
  if (stage) {
    const st = stage;
    const nt = tiles.length;
    const slots = st.tensors.length;
    const graphIn = new Set(graph.inputs);
    const whole = (t: number): boolean => t === st.output || (graphIn.has(t) && inputInArena);
    const copyIn = !inputInArena && st.slot.has(inputId);
    const views: string[] = [];
    const boxes: string[] = [];
    for (const tile of tiles) {
      const regions = new Map(tileRegions(st, tile.rows, tile.cols).map((r) => [r.tensor, r]));
      const vrow: string[] = [];
      const brow: string[] = [];
      for (const t of st.tensors) {
        const r = regions.get(t);
        const b: Box = r ? { h0: r.h[0], h1: r.h[1], w0: r.w[0], w1: r.w[1] } : { h0: 0, h1: 0, w0: 0, w1: 0 };
        const v = whole(t) || !r ? ownView(t) : ownView(t, { h0: r.h[0], w0: r.w[0], hs: r.h[1] - r.h[0], ws: r.w[1] - r.w[0] });
        vrow.push(`{${v.h0}, ${v.w0}, ${v.sc}, ${v.sh}, ${v.sw}, 0}`);
        brow.push(`{${b.h0}, ${b.h1}, ${b.w0}, ${b.w1}}`);
      }
      views.push(`  {${vrow.join(', ')}}`);
      boxes.push(`  {${brow.join(', ')}}`);
    }
    tables.push(`/* Patch stage: steps 0-${st.split} run tile by tile (${schedule!.p}x${schedule!.q} tiles); per tile, the view (stored region) and the computed box of every stage tensor. */`);
    tables.push(`#define MM_TILES ${nt}\n#define MM_SLOTS ${slots}`);
    tables.push(`static const mm_view mm_tile_views[MM_TILES][MM_SLOTS] = {\n${views.join(',\n')}\n};`);
    tables.push(`static const mm_box mm_tile_boxes[MM_TILES][MM_SLOTS] = {\n${boxes.join(',\n')}\n};`);
    const slotOf = (t: number): number => {
      const k = st.slot.get(t);
      if (k === undefined) throw new CodegenError(`internal: tensor '${T(t).name}' is read in the patch stage but has no region`);
      return k;
    };
    const tileAccess: Access = {
      ptr: (t) => {
        if (t === inputId && !inputInArena && !copyIn) return layerAccess.ptr(t);
        const off = whole(t) ? wholeOffset(bufOf(t)) : tileOffset(bufOf(t));
        if (off < 0) throw new CodegenError(`internal: stage tensor '${T(t).name}' has no arena offset`);
        return arenaPtr(off, elemOf(t));
      },
      view: (t) => `v[${slotOf(t)}]`,
      box: (t) => `b[${slotOf(t)}]`,
    };
    const loop: string[] = [];
    if (copyIn) {
      const k = slotOf(inputId);
      kernels.add('copy');
      loop.push(`/* the tile's region of the input, copied from the caller's buffer */`);
      loop.push(`mm_copy(${geo(inputId).C}, ${esize(elemOf(inputId))}, ${layerAccess.ptr(inputId)}, ${viewLit(ownView(inputId))}, ${tileAccess.ptr(inputId)}, v[${k}], b[${k}]);`);
    }
    for (let i = 0; i <= st.split; i++) {
      loop.push(`/* #${i} ${describe(plan.steps[i]!)} */`);
      loop.push(...emitters[i]!(tileAccess).map(scoped));
    }
    body.push(`for (int32_t t = 0; t < MM_TILES; t++) {`);
    body.push(`  const mm_view *v = mm_tile_views[t];`);
    body.push(`  const mm_box *b = mm_tile_boxes[t];`);
    body.push(...loop.map((l) => `  ${l}`));
    body.push(`}`);
    first = st.split + 1;
  }
  const streamed = new Map((streams?.segments ?? []).map((s) => [s.first, s]));
  for (let i = first; i < plan.steps.length; i++) {
    const seg = streamed.get(i);
    if (seg && streams) {
      body.push(...streamLoop(seg, streams.ctx, streams.ringOffset));
      i = seg.last;
      continue;
    }
    body.push(`/* #${i} ${describe(plan.steps[i]!)} */`);
    body.push(...emitters[i]!(layerAccess).map(scoped));
  }

  /** A streamed segment: a table of (step, row) events in the scheduler's order and one loop that runs each event's
   *  step on one output row; rings are read and written through views with `rows` set (row h in slot h mod rows). */
  function streamLoop(seg: SegmentCost, ctx: ScheduleContext, ringOffset: ReadonlyMap<number, number>): string[] {
    if (seg.channelwise) return channelwiseCall(seg);
    const rings = new Map(seg.rings.map((r) => [r.tensor, r]));
    const { events, inside } = streamEvents(ctx, seg);
    const pooling = accumulators(graph, events);
    // Fused blocks: their projection's rows run mm_irb_*, which computes the depthwise (and expansion) steps inside.
    const blocks = fusibleBlocks(ctx);
    // A block whose projection runs inside (its residual Add absorbed it) runs as that Add's step.
    const fusedAt = new Map(seg.fused.map((f) => {
      const b = blocks.get(f.step)!;
      return [inside.has(plan.steps[b.project]!.main) ? b.residual!.step : b.project, { f, b }];
    }));
    const mains = new Map<number, number>();
    for (let k = seg.first; k <= seg.last; k++) if (!inside.has(plan.steps[k]!.main)) mains.set(plan.steps[k]!.main, k);
    const rows = events.filter((e) => mains.has(e.op)).map((e) => [mains.get(e.op)!, e.row] as const);
    const name = `mm_stream${seg.first}`;
    tables.push(`/* Line-buffered steps ${seg.first}-${seg.last}: (step, output row) in the order they run. */`);
    tables.push(`static const int16_t ${name}[${rows.length}][2] = {\n${rows.map(([k, r]) => `  {${k}, ${r}}`).join(',\n')}\n};`);
    // Column bands: per band, the columns [w0, w1) of every tensor of the segment (the patch geometry's regions).
    const q = seg.columns;
    const stage = q > 1 ? segmentStage(ctx, seg) : null;
    if (q > 1 && !stage) throw new CodegenError(`internal: steps ${seg.first}-${seg.last} have no column geometry`);
    const slotOf = (t: number): number => {
      const k = stage!.slot.get(t);
      if (k === undefined) throw new CodegenError(`internal: tensor '${T(t).name}' has no column band`);
      return k;
    };
    if (stage) {
      const bands = deriveAxis(stage, 1, q);
      const cols = bands.map((b) => `  {${stage.tensors.map((_, k) => (bandLen(b, k) > 0 ? `{${b.clo[k]}, ${b.chi[k]}}` : '{0, 0}')).join(', ')}}`);
      tables.push(`/* Its ${q} column bands: the columns [w0, w1) of each of its ${stage.tensors.length} tensors per band. */`);
      tables.push(`static const int32_t ${name}_cols[${q}][${stage.tensors.length}][2] = {\n${cols.join(',\n')}\n};`);
    }
    const w0 = (t: number): string => (stage ? `w[${slotOf(t)}][0]` : '0');
    const w1 = (t: number): string => (stage ? `w[${slotOf(t)}][1]` : String(geo(t).W));
    const access: Access = {
      ptr: (t) => {
        const ring = rings.get(t);
        if (!ring) return layerAccess.ptr(t);
        const off = ringOffset.get(t);
        if (off === undefined) throw new CodegenError(`internal: ring of '${T(t).name}' has no arena offset`);
        return arenaPtr(off, elemOf(t));
      },
      view: (t) => {
        const ring = rings.get(t);
        if (!ring) return layerAccess.view(t);
        // A ring as wide as the widest band's columns of its tensor; this band's columns start at its w0.
        const v = ownView(t, { h0: 0, w0: 0, hs: ring.rows, ws: ring.width });
        return `(mm_view){0, ${w0(t)}, ${v.sc}, ${v.sh}, ${v.sw}, ${ring.rows}}`;
      },
      box: (t) => `(mm_box){r, r + 1, ${w0(t)}, ${w1(t)}}`,
    };
    /** A global pooling that accumulates rows: r is its input row; its one output row (and any epilogue on it) is
     *  written after the last. Other steps: the segment's access. */
    const stepAccess = (k: number): Access => {
      const main = plan.steps[k]!.main;
      const op = graph.ops[main]!;
      if (!pooling.has(main)) return access;
      const off = streams!.accOffset.get(seg.first);
      if (off === undefined) throw new CodegenError(`internal: steps ${seg.first}-${seg.last} have no pooling sums in the arena`);
      const x = op.inputs[0]!;
      // In column bands (loop variable j) the sums start with the first band's first row and end with the last's.
      const first = stage ? 'r == 0 && j == 0' : 'r == 0';
      const last = `r == ${geo(x).H - 1}${stage ? ` && j == ${q - 1}` : ''}`;
      return {
        ...access,
        box: (t) => (op.outputs.includes(t) ? `(mm_box){0, ${last} ? 1 : 0, 0, ${geo(t).W}}` : access.box(t)),
        accumulator: (e) => (e === 'f32' ? arenaPtr(off, 'f32') : `(int32_t *)${arenaPtr(off, 's8')}`),
        accumulatorSpan: () => `${w0(x)}, ${w1(x)}, ${first}, ${last}`,
      };
    };
    const loop: string[] = [];
    loop.push(`for (int32_t e = 0; e < ${rows.length}; e++) {`);
    loop.push(`  const int32_t r = ${name}[e][1];`);
    loop.push(`  switch (${name}[e][0]) {`);
    for (let k = seg.first; k <= seg.last; k++) {
      if (inside.has(plan.steps[k]!.main)) continue;
      const fb = fusedAt.get(k);
      loop.push(`  case ${k}: /* #${k} ${describe(plan.steps[k]!)}${fb ? `, with #${fb.f.expand ? `${fb.b.expand}-` : ''}${k === fb.b.project ? fb.b.dw : `${fb.b.dw}-${fb.b.project}`} fused per pixel` : ''} */`);
      const lines = fb ? fusedBlockCall(seg, fb.f, fb.b, k, stepAccess(k)) : emitters[k]!(stepAccess(k));
      loop.push(...lines.map((l) => `    ${scoped(l)}`));
      loop.push('    break;');
    }
    loop.push('  default: break;', '  }', '}');
    const out = [`/* #${seg.first}-#${seg.last} line-buffered: ${rows.length} rows${q > 1 ? ` in each of ${q} column bands` : ''}, ${seg.rings.length} rings */`];
    if (!stage) return [...out, ...loop];
    out.push(`for (int32_t j = 0; j < ${q}; j++) {`, `  const int32_t (*w)[2] = ${name}_cols[j];`, ...loop.map((l) => `  ${l}`), '}');
    return out;
  }

  /** The one kernel call a step lowers to (a fused block's or a channel-wise tail's step), probed with stand-in
   *  operands: its parameters, type, tensors (in argument order) and any epilogue; the step refused by name when it
   *  lowers to anything else. */
  function oneCall(si: number, names: string, operands: number, what: string): { P: string; t: 'f32' | 's8'; tensors: number[]; rest: string[] } {
    const probe: Access = { ptr: (t) => `@${t}`, view: (t) => `V${t}`, box: () => 'B' };
    const lines = emitters[si]!(probe);
    const m = new RegExp(`^mm_(${names})\\(&(P${si}), ${new Array<string>(operands).fill('@(\\d+), V\\d+').join(', ')}, B\\);$`).exec(lines[0] ?? '');
    if (!m) throw new CodegenError(`C export: step #${si} ${describe(plan.steps[si]!)} does not lower to one ${what} call in float32 or int8, so it cannot run fused per pixel or channel by channel; export this segment unfused`);
    return { P: m[2]!, t: m[1]!.endsWith('f32') ? 'f32' : 's8', tensors: m.slice(3).map(Number), rest: lines.slice(1) };
  }
  function convCall(si: number): { P: string; t: 'f32' | 's8'; x: number; y: number; rest: string[] } {
    const c = oneCall(si, 'conv_f32|conv_s8', 2, 'convolution');
    return { ...c, x: c.tensors[0]!, y: c.tensors[1]! };
  }
  function poolCall(si: number): { P: string; t: 'f32' | 's8'; x: number; y: number; rest: string[] } {
    const c = oneCall(si, 'pool_f32|pool_s8', 2, 'pooling');
    return { ...c, x: c.tensors[0]!, y: c.tensors[1]! };
  }
  /** A residual Add (mm_add_s8, or mm_binary_f32): operands a and b, output y. */
  function addCall(si: number): { P: string; t: 'f32' | 's8'; a: number; b: number; y: number; rest: string[] } {
    const c = oneCall(si, 'add_s8|binary_f32', 3, 'Add');
    return { ...c, a: c.tensors[0]!, b: c.tensors[1]!, y: c.tensors[2]! };
  }

  function scratchPtr(seg: SegmentCost, e: Elem): string {
    const off = streams!.scratchOffset.get(seg.first);
    if (off === undefined) throw new CodegenError(`internal: steps ${seg.first}-${seg.last} have no scratch in the arena`);
    return arenaPtr(off, e);
  }

  /** A fused block's row(s), at step k (its projection, or the residual Add it runs as): mm_irb_* with the steps' own
   *  parameters, then the epilogue of step k. */
  function fusedBlockCall(seg: SegmentCost, f: FusedBlock, b: BlockFacts, k: number, a: Access): string[] {
    const d = convCall(b.dw);
    const e = f.expand ? convCall(b.expand!) : null;
    const pc = convCall(b.project);
    const add = k === b.project ? null : addCall(k);
    // (D and P are never stored: the call replaced below is the only statement that names them.)
    const hidden = new Set([b.mid, b.out]);
    const last = emitters[k]!({ ...a, ptr: (t) => (hidden.has(t) ? 'D' : a.ptr(t)), view: (t) => (hidden.has(t) ? 'D' : a.view(t)) });
    const parts = [d, pc, ...(e ? [e] : []), ...(add ? [add] : [])];
    if (parts.some((c) => c.t !== pc.t) || d.rest.length > 0 || (e && e.rest.length > 0) || (add && pc.rest.length > 0)) {
      throw new CodegenError(`C export: steps #${f.expand ? b.expand : b.dw}-#${k} mix types or have epilogues; they cannot run fused per pixel`);
    }
    const x = e ? e.x : d.x;
    const Q = `Q${k}`;
    kernels.add(`irb_${pc.t}`);
    const skip = add ? (add.a === pc.y ? add.b : add.a) : -1;
    params.push(`static const mm_irb_${pc.t}_t ${Q} = {${e ? `&${e.P}` : 'NULL'}, &${d.P}, &${pc.P}, ${add ? `&${add.P}` : 'NULL'}, ${add && add.b === pc.y ? 1 : 0}};`);
    const y = add ? add.y : pc.y;
    const r = skip >= 0 ? `${a.ptr(skip)}, ${a.view(skip)}` : 'NULL, (mm_view){0, 0, 0, 0, 0, 0}';
    return [`mm_irb_${pc.t}(&${Q}, ${a.ptr(x)}, ${a.view(x)}, ${r}, ${scratchPtr(seg, pc.t)}, ${a.ptr(y)}, ${a.view(y)}, ${a.box(y)});`, ...last.slice(1)];
  }

  /** A channel-wise tail: the 1×1 convolution and its global pooling, output channel by output channel. */
  function channelwiseCall(seg: SegmentCost): string[] {
    const c = convCall(seg.first);
    const p = poolCall(seg.last);
    if (c.rest.length > 0 || p.rest.length > 0 || c.t !== p.t || c.t !== 'f32') throw new CodegenError(`C export: steps #${seg.first}-#${seg.last} mix types or have epilogues; they cannot run channel by channel`);
    kernels.add(`cwpool_${c.t}`);
    return [
      `/* #${seg.first}-#${seg.last} channel by channel: ${describe(plan.steps[seg.first]!)} and ${describe(plan.steps[seg.last]!)} */`,
      scoped(`mm_cwpool_${c.t}(&${c.P}, &${p.P}, ${layerAccess.ptr(c.x)}, ${layerAccess.view(c.x)}, ${scratchPtr(seg, c.t)}, ${layerAccess.ptr(p.y)}, ${layerAccess.view(p.y)});`),
    ];
  }

  /** A statement with compound literals (views, boxes) in a block of its own: their storage then ends with the
   *  statement, and the compiler reuses it (in one block, model_run's frame grew by about 56 B per call). */
  function scoped(statement: string): string {
    return /\((?:mm_view|mm_box)\)\{/.test(statement) ? `{ ${statement} }` : statement;
  }

  function describe(s: Step): string {
    const ops = s.ops.map((o) => graph.ops[o]!);
    return cText(`${ops.map((o) => o.sourceType).join('+')} '${ops[0]!.name}'`, 160);
  }

  const resets = graph.tensors.filter((t) => t.role === 'variable' && t.dtype === 'int8' && (t.quant?.zeroPoint[0] ?? 0) !== 0)
    .map((t) => `memset(${layerAccess.ptr(t.id)}, ${t.quant!.zeroPoint[0]}, ${elementCount(t.shape ?? [])});`);
  return {
    format: graph.format, arenaBytes, arenas, input, inputs, outputs, inputOffset, inputOffsets, outputOffsets, kernels, weights, params, body, tables, resets,
    schedule, lineBuffered: streams ? streams.segments.map((x) => ({ first: x.first, last: x.last })) : null, steps: plan.steps.length,
  };
}
