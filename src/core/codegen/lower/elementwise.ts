// Lowering of elementwise operators: binary arithmetic, activations, softmax, quantize and dequantize.
import { elementCount } from '../../graph';
import { CodegenError } from '../errors';
import { addMultipliers, int16SigmoidScaling, logSoftmaxParams, quantizeMultiplier, sigmoidTableU16, softmaxExpTable, softmaxInt16Params, sqdiffMultipliers } from '../quant';
import { lowerReshape } from './data';
import type { Op } from '../../graph';
import { boxLit, fmtFloat, SUPPORTED, viewLit, type Access, type Emit, type Geo, type Lower, type StepLower } from './context';
import { lowerLayerNorm } from './conv';

/** An output without a layout (no spatial operator fixes one) whose operands broadcast along some of its axes: a
 *  bias [64] against [1, 2, 12, 64] (the trailing axes), a per-row statistic [1, 64, 1] against [1, 64, 128] (the
 *  leading ones). The output is split at one axis into `outer` columns of `inner` values; each operand is the whole
 *  output, one value, the trailing block (repeating per column) or the leading one (repeating within a column), and
 *  gets the strides for that. Null when nothing broadcasts so or no split fits every operand (the operand views then
 *  decide). A tensor without a layout is never tiled: layer by layer only. */
function axisSplit(gy: Geo, shapes: number[][]): { inner: number; outer: number; view: (operand: number) => { sc: number; sw: number } } | null {
  if (gy.axes) return null;
  const total = gy.C;
  const ys = gy.shape;
  const align = (xs: number[]): number[] | null => (xs.length > ys.length ? null : [...new Array<number>(ys.length - xs.length).fill(1), ...xs]);
  for (let k = 1; k < ys.length; k++) {
    const inner = elementCount(ys.slice(k));
    const outer = total / inner;
    const kinds = shapes.map((xs) => {
      const n = elementCount(xs);
      if (n === total) return { sc: 1, sw: inner };
      if (n === 1) return { sc: 0, sw: 0 };
      const a = align(xs);
      if (!a) return null;
      if (a.every((d, i) => (i < k ? d === 1 : d === ys[i]))) return { sc: 1, sw: 0 };
      if (a.every((d, i) => (i < k ? d === ys[i] : d === 1))) return { sc: 0, sw: 1 };
      return null;
    });
    const broadcasts = shapes.some((xs) => elementCount(xs) !== total && elementCount(xs) !== 1);
    if (broadcasts && kinds.every((v) => v !== null)) {
      return { inner, outer, view: (i) => kinds[i]! };
    }
  }
  return null;
}

/** Add, Sub, Mul, Div, Max, Min, Pow. */
export function lowerBinary(sl: StepLower): Emit {
  const { P, T, addWeights, constOf, e, fin, geo, izp, kernels, label, op, operandView, params, qOf, si, stored, withEpi, y } = sl;
  if (op.inputs.length !== 2) throw new CodegenError(`C export: ${label(op)} with ${op.inputs.length} operands`, op.index);
  interface Operand { ptr: (a: Access) => string; view: (a: Access) => string; q?: { scale: number; zp: number } }
  const shapes = op.inputs.map((id) => T(id).shape ?? []);
  const rows = axisSplit(geo(y), shapes);
  /** With `rows`: operand k's strides within and across the columns. */
  const rowView = (id: number): string => viewLit({ h0: 0, w0: 0, sh: 0, ...rows!.view(op.inputs.indexOf(id)) });
  const operand = (id: number, i: number): Operand => {
    if (stored(id)) {
      const K = constOf(id, op, 'operand');
      const name = `k${si}_${i}`;
      const v = rows ? rowView(id) : viewLit(operandView(id, y, op));
      if (e === 'f32') {
        const kn = addWeights(name, 'float', K.values);
        return { ptr: () => `(const float *)${kn}`, view: () => v };
      }
      if (e === 's16') throw new CodegenError(`C export: ${label(op)}: a constant int16 operand is not generated`, op.index);
      if ((K.dtype !== 'int8' && K.dtype !== 'uint8') || !K.scale) throw new CodegenError(`C export: ${label(op)}: int8 operand of type ${K.dtype}${K.scale ? '' : ' without a scale'}`, op.index);
      const shift = K.dtype === 'uint8' ? 128 : 0;
      const kn = addWeights(name, 'int8_t', shift ? K.values.map((x) => x - shift) : K.values);
      return { ptr: () => `(const int8_t *)${kn}`, view: () => v, q: { scale: K.scale[0]!, zp: (K.zp?.[0] ?? 0) - shift } };
    }
    const gi = geo(id);
    const gy = geo(y);
    const n = elementCount(gi.shape);
    const own = (gi.axes !== null && gy.axes !== null) || (!gi.axes && !gy.axes && (n === gy.C || n === 1));
    const q = e !== 'f32' ? { scale: qOf(id, 'operand').scale, zp: izp(id, qOf(id, 'operand')) } : undefined;
    return { ptr: (a) => a.ptr(id), view: (a) => (rows ? rowView(id) : own ? a.view(id) : viewLit(operandView(id, y, op))), q };
  };
  const [ia, ib] = [op.inputs[0]!, op.inputs[1]!];
  const A = operand(ia, 0);
  const B = operand(ib, 1);
  const C = rows ? rows.inner : geo(y).C;
  // The output's view and box: its own, or `outer` columns of `inner` values.
  const Y = rows
    ? { view: (): string => viewLit({ h0: 0, w0: 0, sc: 1, sh: 0, sw: rows.inner }), box: (): string => boxLit({ h0: 0, h1: 1, w0: 0, w1: rows.outer }) }
    : { view: (a: Access): string => a.view(y), box: (a: Access): string => a.box(y) };
  if (e === 'f32') {
    const code = op.kind === 'Elementwise' ? 'MM_SQDIFF' : { Add: 'MM_ADD', Sub: 'MM_SUB', Mul: 'MM_MUL', Div: 'MM_DIV', Max: 'MM_MAX', Min: 'MM_MIN', Pow: 'MM_ADD' /* not read by mm_pow_f32 */ }[op.kind as 'Add' | 'Sub' | 'Mul' | 'Div' | 'Max' | 'Min' | 'Pow'];
    const k = op.kind === 'Pow' ? 'pow_f32' : 'binary_f32';
    kernels.add(k);
    params.push(`static const mm_binary_f32_t ${P} = {${C}, ${code}, ${fmtFloat(fin.lo)}, ${fmtFloat(fin.hi)}};`);
    return withEpi((a) => [`mm_${k}(&${P}, ${A.ptr(a)}, ${A.view(a)}, ${B.ptr(a)}, ${B.view(a)}, ${a.ptr(y)}, ${Y.view(a)}, ${Y.box(a)});`]);
  }
  const qa = A.q!;
  const qb = B.q!;
  const qy = fin.q!;
  const sqdiff = op.kind === 'Elementwise';
  if (op.kind === 'Add' || op.kind === 'Sub' || (sqdiff && (e === 's8' || e === 's16'))) {
    // TFLite's SUB computes its ratios in float (TFLM's sub_common.cc); every other ADD/SUB in double.
    // SQUARED_DIFFERENCE: the difference squared, with 7 bits of headroom in int8 and none in int16 (TFLM's).
    const leftShift = sqdiff ? (e === 's16' ? 0 : 7) : e === 's16' ? 15 : 20;
    const [[am, as], [bm, bs], [om, os]] = sqdiff ? sqdiffMultipliers(qa.scale, qb.scale, qy.scale, leftShift) : addMultipliers(op.sourceType === 'SUB', qa.scale, qb.scale, qy.scale, leftShift);
    const k = e === 's16' ? 'add_s16' : 'add_s8';
    kernels.add(k);
    params.push(`static const mm_${k}_t ${P} = {${C}, ${sqdiff ? 2 : op.kind === 'Sub' ? 1 : 0}, ${leftShift}, ${-qa.zp}, ${am}, ${as}, ${-qb.zp}, ${bm}, ${bs}, ${fin.zp}, ${om}, ${os}, ${fin.lo}, ${fin.hi}};`);
    return withEpi((a) => [`mm_${k}(&${P}, ${A.ptr(a)}, ${A.view(a)}, ${B.ptr(a)}, ${B.view(a)}, ${a.ptr(y)}, ${Y.view(a)}, ${Y.box(a)});`]);
  }
  if (op.kind === 'Mul' && (e === 's8' || e === 's16')) {
    // TFLM: the scale ratio in double; int16 with zero points 0 (its Prepare requires them).
    if (e === 's16' && (qa.zp !== 0 || qb.zp !== 0 || fin.zp !== 0)) throw new CodegenError(`C export: ${label(op)}: an int16 MUL with a zero point other than 0 (TFLM requires 0)`, op.index);
    const [m, s] = quantizeMultiplier((qa.scale * qb.scale) / qy.scale);
    const k = `mul_${e}`;
    kernels.add(k);
    params.push(`static const mm_${k}_t ${P} = {${C}, ${-qa.zp}, ${-qb.zp}, ${fin.zp}, ${m}, ${s}, ${fin.lo}, ${fin.hi}};`);
    return withEpi((a) => [`mm_${k}(&${P}, ${A.ptr(a)}, ${A.view(a)}, ${B.ptr(a)}, ${B.view(a)}, ${a.ptr(y)}, ${Y.view(a)}, ${Y.box(a)});`]);
  }
  if ((op.kind === 'Max' || op.kind === 'Min') && (e === 's8' || e === 's16')) {
    // TFLite's MAXIMUM/MINIMUM compare the stored codes (TFLM does, without a check): the inputs and the output must be
    // quantized alike, as TFLite's quantization spec requires.
    if ([qa, qb].some((q) => Math.fround(q.scale) !== Math.fround(qy.scale) || q.zp !== fin.zp)) throw new CodegenError(`C export: ${label(op)}: an ${sl.T(y).dtype} ${op.kind} whose inputs and output are quantized differently is not generated (TFLite requires them alike)`, op.index);
    const k = `minmax_${e}`;
    kernels.add(k);
    params.push(`static const mm_${k}_t ${P} = {${C}, ${op.kind === 'Min' ? 1 : 0}};`);
    return withEpi((a) => [`mm_${k}(&${P}, ${A.ptr(a)}, ${A.view(a)}, ${B.ptr(a)}, ${B.view(a)}, ${a.ptr(y)}, ${Y.view(a)}, ${Y.box(a)});`]);
  }
  throw new CodegenError(`C export: ${label(op)}: int8 ${op.kind} is not generated`, op.index);
}

/** Operators of the Elementwise kind: TFLite's SQUARED_DIFFERENCE (as a binary operator) and ONNX's float Sign,
 *  Shrink, Softsign, ThresholdedRelu and Celu; the others are not generated. */
export function lowerElementwise(sl: StepLower): Emit {
  const { P, e, elemOf, fin, geo, kernels, label, op, params, withEpi, x0, y } = sl;
  if (op.attrs.fn === 'squared_difference' && sl.graph.format === 'tflite') return lowerBinary(sl);
  // A CastLike to the type the input already has (ONNX's functions expand into them) copies.
  if (op.attrs.fn === 'castlike' && sl.T(x0).dtype === sl.T(y).dtype) return lowerReshape(sl);
  if (op.attrs.fn === 'requantshift') return lowerRequantShift(sl);
  if (op.attrs.fn === 'rmsnorm' && (op.sourceType === 'RMSNormalization' || op.sourceType === 'RMSNorm')) return lowerLayerNorm(sl, true);
  const fn = ({ sign: 'MM_SIGN', shrink: 'MM_SHRINK', softsign: 'MM_SOFTSIGN', thresholdedrelu: 'MM_THRESHOLDED', celu: 'MM_CELU' } as Record<string, string>)[op.attrs.fn ?? ''];
  if (fn && e === 'f32' && elemOf(x0) === 'f32') {
    // ONNX's float Sign, Shrink, Softsign, ThresholdedRelu and Celu (Shrink: alpha is lambd, gamma its bias).
    kernels.add('special_f32');
    params.push(`static const mm_special_f32_t ${P} = {${geo(y).C}, ${fn}, ${fmtFloat(op.attrs.alpha ?? 1)}, ${fmtFloat(op.attrs.beta ?? 0)}, ${fmtFloat(fin.lo)}, ${fmtFloat(fin.hi)}};`);
    return withEpi((a) => [`mm_special_f32(&${P}, ${a.ptr(x0)}, ${a.view(x0)}, ${a.ptr(y)}, ${a.view(y)}, ${a.box(y)});`]);
  }
  throw new CodegenError(`C export: ${label(op)} is not supported by the C generator (supported: ${SUPPORTED})`, op.index);
}

/** Deeploy's RequantShift(x, mul, add) with div (a power of two), n_levels and signed: integers held in float tensors
 *  (its integerized networks compute in float-typed ONNX), the result float or int32 (a graph output Deeploy types so). */
function lowerRequantShift(sl: StepLower): Emit {
  const { P, e, elemOf, geo, kernels, label, op, params, si, withEpi, x0, y } = sl;
  if (elemOf(x0) !== 'f32' || (e !== 'f32' && e !== 's32')) throw new CodegenError(`C export: ${label(op)}: RequantShift from ${sl.T(x0).dtype} to ${sl.T(y).dtype} is not generated (float to float or int32 is)`, op.index);
  const { div, levels, signed } = op.attrs.opts ?? {};
  const shift = div === undefined ? NaN : Math.log2(div);
  if (!Number.isInteger(shift) || shift < 0 || shift > 62) throw new CodegenError(`C export: ${label(op)}: div ${div} is not a power of two from 1 to 2^62`, op.index);
  if (levels === undefined || !Number.isInteger(levels) || levels < 2 || levels > 2 ** 32) throw new CodegenError(`C export: ${label(op)}: n_levels ${levels} is not a whole number from 2 to 2^32`, op.index);
  const [lo, hi] = signed ? [-Math.floor(levels / 2), Math.ceil(levels / 2) - 1] : [0, Math.min(levels - 1, 2 ** 31 - 1)];
  const operand = (pos: number, what: string): { name: string; view: string } => {
    const id = op.params[pos] ?? -1;
    const values = sl.constOf(id, op, what).values;
    if (Array.from(values).some((v) => !Number.isInteger(v) || Math.abs(v) > 2 ** 31 - 1)) throw new CodegenError(`C export: ${label(op)}: its ${what} are not 32-bit integers`, op.index);
    return { name: sl.addWeights(`${what}${si}`, 'int32_t', values), view: viewLit(sl.operandView(id, y, op)) };
  };
  const mul = operand(0, 'mul');
  const add = operand(1, 'add');
  kernels.add('rqs_f32');
  params.push(`static const mm_rqs_f32_t ${P} = {${geo(y).C}, ${shift}, ${lo}, ${Math.max(lo, hi)}};`);
  const out = (a: Access): [string, string] => (e === 's32' ? ['NULL', a.ptr(y)] : [a.ptr(y), 'NULL']);
  return withEpi((a) => [`mm_rqs_f32(&${P}, ${a.ptr(x0)}, ${a.view(x0)}, (const int32_t *)${mul.name}, ${mul.view}, (const int32_t *)${add.name}, ${add.view}, ${out(a).join(', ')}, ${a.view(y)}, ${a.box(y)});`]);
}

/** Softmax. */
export function lowerSoftmax(sl: StepLower): Emit {
  const { P, e, fin, geo, izp, kernels, label, op, params, qOf, withEpi, x0, y } = sl;
  const x = x0;
  const log = op.sourceType === 'LOG_SOFTMAX' || op.sourceType === 'LogSoftmax';
  const xs = geo(x).shape;
  const axis = ((op.attrs.axis ?? -1) + xs.length) % xs.length;
  // Before opset 13 ONNX normalizes over the flattened block from `axis` on; otherwise over `axis`, whatever follows
  // it a stride.
  const flat = op.attrs.softmaxFlatten === true;
  const n = flat ? elementCount(xs.slice(axis)) : xs[axis]!;
  const inner = flat ? 1 : elementCount(xs.slice(axis + 1));
  const rows = elementCount(xs.slice(0, axis));
  const beta = op.attrs.beta ?? 1;
  if (e === 'f32') {
    kernels.add('softmax_f32');
    params.push(`static const mm_softmax_f32_t ${P} = {${rows}, ${n}, ${inner}, ${log ? 1 : 0}, ${fmtFloat(beta)}};`);
    return withEpi((a) => [`mm_softmax_f32(&${P}, ${a.ptr(x)}, ${a.ptr(y)});`]);
  }
  if (log) {
    // TFLM's int8 LOG_SOFTMAX: output scale 16/256 and zero point 127 (its Prepare requires them).
    const qx = qOf(x, 'log-softmax input');
    if (sl.graph.format !== 'tflite' || sl.elemOf(x) !== 's8' || e !== 's8' || inner !== 1 || Math.fround(fin.q!.scale) !== Math.fround(16 / 256) || fin.zp !== 127) {
      throw new CodegenError(`C export: ${label(op)}: a quantized log-softmax is generated only as TFLM computes it (TFLite int8, output scale 16/256 and zero point 127)`, op.index);
    }
    const lp = logSoftmaxParams(qx.scale);
    kernels.add('logsoftmax_q_s8');
    params.push(`static const mm_logsoftmax_q_t ${P} = {${rows}, ${n}, ${lp.diffMin}, ${lp.mult}, ${lp.shift}, ${lp.revMult}, ${lp.revShift}, ${sl.addWeights(`k${sl.si}`, 'int32_t', lp.table)}};`);
    return withEpi((a) => [`mm_logsoftmax_q_s8(&${P}, ${a.ptr(x)}, ${a.ptr(y)});`]);
  }
  if (inner !== 1) throw new CodegenError(`C export: ${label(op)}: a quantized softmax along axis ${axis}, not the last, is not generated`, op.index);
  const qx = qOf(x, 'softmax input');
  const ex = sl.elemOf(x);
  // TFLM's integer softmax where TFLM runs it: int8 (or TFLite's uint8) in, int8 out at scale 1/256 (zero point −128
  // as the kernels see it) or int16 out at 1/65536 (zero point −32768).
  const qy = fin.q!;
  const tflm = sl.graph.format === 'tflite' && ex === 's8' && (e === 's8'
    ? Math.fround(qy.scale) === Math.fround(1 / 256) && fin.zp === -128
    : e === 's16' && Math.abs(qy.scale - 1 / 65536) <= 0.001 / 65536 && fin.zp === -32768);
  if (sl.graph.format === 'tflite' && ex === 's16' && e === 's16') {
    // TFLM's int16 softmax: input and output zero points 0, output scale 1/32768 (its Prepare requires them).
    if (izp(x, qx) !== 0 || fin.zp !== 0 || Math.abs(qy.scale - 1 / 32768) > 0.001 / 32768) {
      throw new CodegenError(`C export: ${label(op)}: an int16 softmax is generated as TFLM computes it: zero points 0, output scale 1/32768`, op.index);
    }
    const sp = softmaxInt16Params(qx.scale, beta);
    kernels.add('softmax_s16');
    const exp = sl.addWeights(`k${sl.si}e`, 'int16_t', sp.expLut);
    const recip = sl.addWeights(`k${sl.si}r`, 'int16_t', sp.recipLut);
    params.push(`static const mm_softmax_s16_t ${P} = {${rows}, ${n}, ${sp.mult}, ${sp.shift}, ${exp}, ${recip}};`);
    return withEpi((a) => [`mm_softmax_s16(&${P}, ${a.ptr(x)}, ${a.ptr(y)});`]);
  }
  if (tflm) {
    const { table, diffMin } = softmaxExpTable(qx.scale, beta);
    const k = `softmax_q_${e}`;
    kernels.add(k);
    params.push(`static const mm_softmax_q_t ${P} = {${rows}, ${n}, ${diffMin}, ${sl.addWeights(`k${sl.si}`, 'int32_t', table)}};`);
    return withEpi((a) => [`mm_${k}(&${P}, ${a.ptr(x)}, ${a.ptr(y)});`]);
  }
  if (ex !== 's8' || e !== 's8') throw new CodegenError(`C export: ${label(op)}: ${sl.T(x).dtype} to ${sl.T(y).dtype} is generated only as TFLM computes it (int8 in; int16 out at scale 1/65536, zero point -32768)`, op.index);
  kernels.add('softmax_s8');
  params.push(`static const mm_softmax_s8_t ${P} = {${rows}, ${n}, ${izp(x, qx)}, ${fin.zp}, ${fmtFloat(qx.scale)}, ${fmtFloat(fin.q!.scale)}, ${fmtFloat(beta)}};`);
  return withEpi((a) => [`mm_softmax_s8(&${P}, ${a.ptr(x)}, ${a.ptr(y)});`]);
}

/** Quantize: float to int8 (QuantizeLinear, TFLite QUANTIZE), or TFLM's Requantize between integer types (int8, int16,
 *  int32; not int32 to int32, as TFLM). */
export function lowerQuantize(sl: StepLower): Emit {
  const { P, T, e, elemOf, fin, geo, graph, izp, kernels, label, op, params, qOf, withEpi, x0, y } = sl;
  const x = x0;
  const C = geo(y).C;
  const ex = elemOf(x);
  if (ex === 'f32') {
    if (e !== 's8') throw new CodegenError(`C export: ${label(op)} quantizes float32 to ${T(y).dtype}; only int8 and uint8 are generated`, op.index);
    kernels.add('quantize');
    params.push(`static const mm_quantize_t ${P} = {${C}, ${fin.zp}, ${graph.format === 'onnx' ? 1 : 0}, ${fmtFloat(fin.q!.scale)}};`);
    return withEpi((a) => [`mm_quantize(&${P}, ${a.ptr(x)}, ${a.view(x)}, ${a.ptr(y)}, ${a.view(y)}, ${a.box(y)});`]);
  }
  if (e === 'f32' || (ex === 's32' && e === 's32') || ((ex !== 's8' || e !== 's8') && graph.format !== 'tflite')) {
    throw new CodegenError(`C export: ${label(op)}: ${T(x).dtype} to ${T(y).dtype} is not generated`, op.index);
  }
  const qx = qOf(x, 'quantize input');
  // TFLM's Prepare: the ratio of the scales in double, QuantizeMultiplier.
  const [m, s] = quantizeMultiplier(qx.scale / fin.q!.scale);
  const k = ex === 's8' && e === 's8' ? 'requant_s8' : `requant_${ex}_${e}`;
  kernels.add(k);
  params.push(`static const mm_${k}_t ${P} = {${C}, ${-izp(x, qx)}, ${fin.zp}, ${m}, ${s}};`);
  return withEpi((a) => [`mm_${k}(&${P}, ${a.ptr(x)}, ${a.view(x)}, ${a.ptr(y)}, ${a.view(y)}, ${a.box(y)});`]);
}

/** Dequantize. */
export function lowerDequantize(sl: StepLower): Emit {
  const { P, T, addWeights, constOf, e, elemOf, geo, izp, kernels, label, op, params, qOf, si, withEpi, x0, y } = sl;
  const x = x0;
  const ex = elemOf(x);
  if (e !== 'f32' || (ex !== 's8' && ex !== 's16')) throw new CodegenError(`C export: ${label(op)}: ${T(x).dtype} to ${T(y).dtype}`, op.index);
  const qx = qOf(x, 'dequantize input');
  const k = ex === 's8' ? 'dequantize' : 'dequantize_s16';
  kernels.add(k);
  params.push(`static const mm_${k}_t ${P} = {${geo(y).C}, ${izp(x, qx)}, ${fmtFloat(qx.scale)}};`);
  // A DEQUANTIZE of stored constants runs on every invoke, as in TFLM (its int8 values are weights).
  const stored = T(x).role === 'constant' ? constOf(x, op, 'input') : null;
  if (stored && stored.dtype !== 'int8' && stored.dtype !== 'int16') throw new CodegenError(`C export: ${label(op)}: dequantizing stored ${stored.dtype} values is not generated`, op.index);
  const ctype = ex === 's8' ? 'int8_t' : 'int16_t';
  const src = stored ? `(const ${ctype} *)${addWeights(`k${si}`, ctype, stored.values)}` : null;
  return withEpi((a) => [`mm_${k}(&${P}, ${src ?? a.ptr(x)}, ${a.view(x)}, ${a.ptr(y)}, ${a.view(y)}, ${a.box(y)});`]);
}

/** TFLM's int8 and int16 PRELU (reference_ops::BroadcastPrelu4DSlow), alone or fused after its producer (in place):
 *  the input rescaled by one multiplier where it is not negative, times the int8 slope by another where it is (both
 *  ratios in double), from x's quantization to y's. Returns the call for the tensors it reads and writes. */
export function preluQ(ctx: Lower, op: Op, x: number, y: number, name: string, slopeName: string, lo: number, hi: number): (a: Access, from: number, to: number) => string {
  const e = ctx.elemOf(y);
  const slope = op.params[0] ?? op.inputs[1] ?? -1;
  const K = ctx.constOf(slope, op, 'slope');
  if (K.dtype !== 'int8' || !K.scale || K.scale.length !== 1) throw new CodegenError(`C export: ${ctx.label(op)}: a quantized PRELU needs an int8 slope with one scale`, op.index);
  const qx = ctx.qOf(x, 'PRELU input');
  const qy = ctx.qOf(y, 'PRELU output');
  const [m1, s1] = quantizeMultiplier(qx.scale / qy.scale);
  const [m2, s2] = quantizeMultiplier((qx.scale * K.scale[0]!) / qy.scale);
  const kn = ctx.addWeights(slopeName, 'int8_t', K.values);
  const k = `prelu_${e}`;
  ctx.kernels.add(k);
  ctx.params.push(`static const mm_prelu_q_t ${name} = {${ctx.geo(y).C}, ${-ctx.izp(x, qx)}, ${-(K.zp?.[0] ?? 0)}, ${ctx.izp(y, qy)}, ${m1}, ${s1}, ${m2}, ${s2}, ${lo}, ${hi}};`);
  const sv = viewLit(ctx.operandView(slope, y, op));
  return (a, from, to) => `mm_${k}(&${name}, ${a.ptr(from)}, ${a.view(from)}, (const int8_t *)${kn}, ${sv}, ${a.ptr(to)}, ${a.view(to)}, ${a.box(to)});`;
}

/** Activation. */
export function lowerActivation(sl: StepLower): Emit {
  const { P, activationTable, e, fin, floatFn, geo, kernels, leakyOf, op, params, si, withEpi, x0, y } = sl;
  const x = x0;
  const act = op.attrs.activation ?? '';
  const C = geo(y).C;
  if (e === 'f32' && act === 'prelu') {
    // PRelu: x where x ≥ 0, else x times its slope (broadcast: one per channel, or one for all).
    const slope = op.params[0] ?? op.inputs[1] ?? -1;
    const K = sl.constOf(slope, op, 'slope');
    const kn = sl.addWeights(`k${si}`, 'float', K.values);
    kernels.add('binary_f32');
    params.push(`static const mm_binary_f32_t ${P} = {${C}, MM_PRELU, ${fmtFloat(fin.lo)}, ${fmtFloat(fin.hi)}};`);
    const sv = viewLit(sl.operandView(slope, y, op));
    return withEpi((a) => [`mm_binary_f32(&${P}, ${a.ptr(x)}, ${a.view(x)}, (const float *)${kn}, ${sv}, ${a.ptr(y)}, ${a.view(y)}, ${a.box(y)});`]);
  }
  if (act === 'prelu' && sl.graph.format === 'tflite' && (e === 's8' || e === 's16')) {
    const call = preluQ(sl, op, x, y, P, `k${si}`, fin.lo, fin.hi);
    return withEpi((a) => [call(a, x, y)]);
  }
  if (e === 'f32') {
    const f = floatFn(act, op, C, fin.lo, fin.hi);
    kernels.add(f.kernel);
    params.push(`static const mm_${f.kernel}_t ${P} = ${f.init};`);
    return withEpi((a) => [`mm_${f.kernel}(&${P}, ${a.ptr(x)}, ${a.view(x)}, ${a.ptr(y)}, ${a.view(y)}, ${a.box(y)});`]);
  }
  if ((op.sourceType === 'LOGISTIC' || op.sourceType === 'TANH') && e === 's16') {
    // TFLM's int16 kernels: zero points 0, the output in Q0.15 (scale 2^-15).
    const qx = sl.qOf(x, 'int16 input');
    if (qx.zp !== 0 || fin.zp !== 0 || Math.round(Math.log2(fin.q!.scale)) !== -15) throw new CodegenError(`C export: ${op.sourceType} on int16 needs zero points 0 and an output scale of 2^-15 (TFLM requires them)`, op.index);
    const tanh = op.sourceType === 'TANH';
    const [mult, shift] = int16SigmoidScaling(qx.scale, tanh);
    kernels.add('act_s16');
    params.push(`static const mm_act_s16_t ${P} = {${C}, ${tanh ? 1 : 0}, ${mult}, ${shift}, ${sl.addWeights('mm_sigmoid_table', 'int32_t', sigmoidTableU16())}};`);
    return withEpi((a) => [`mm_act_s16(&${P}, ${a.ptr(x)}, ${a.view(x)}, ${a.ptr(y)}, ${a.view(y)}, ${a.box(y)});`]);
  }
  if ((op.sourceType === 'RELU' || op.sourceType === 'RELU6') && e === 's16') {
    // TFLM's Prepare: zero points 0; RELU's multiplier from the scale ratio computed in float; RELU6's bounds are the
    // input's zero and its code of 6 (round(6 / scale), clamped to int16), without rescaling.
    const qx = sl.qOf(x, 'int16 input');
    if (qx.zp !== 0 || fin.zp !== 0) throw new CodegenError(`C export: ${op.sourceType} on int16 needs zero points 0 (TFLM requires them)`, op.index);
    const relu6 = op.sourceType === 'RELU6';
    const [mult, shift] = relu6 ? [0, 0] : quantizeMultiplier(Math.fround(Math.fround(qx.scale) / Math.fround(fin.q!.scale)));
    const six = Math.min(32767, Math.max(-32768, Math.sign(6 / Math.fround(qx.scale)) * Math.round(Math.abs(Math.fround(6 / Math.fround(qx.scale))))));
    kernels.add('relu_s16');
    params.push(`static const mm_relu_s16_t ${P} = {${C}, 0, 0, ${mult}, ${shift}, 0, ${relu6 ? six : 32767}, ${relu6 ? 0 : 1}};`);
    return withEpi((a) => [`mm_relu_s16(&${P}, ${a.ptr(x)}, ${a.view(x)}, ${a.ptr(y)}, ${a.view(y)}, ${a.box(y)});`]);
  }
  if (op.sourceType === 'LEAKY_RELU' && e === 's16') {
    const p = leakyOf(op, x, y);
    kernels.add('leaky_s16');
    params.push(`static const mm_leaky_s16_t ${P} = {${C}, ${p.inZp}, ${p.outZp}, ${p.idMult}, ${p.idShift}, ${p.alphaMult}, ${p.alphaShift}, ${p.alphaNegative ? 1 : 0}};`);
    return withEpi((a) => [`mm_leaky_s16(&${P}, ${a.ptr(x)}, ${a.view(x)}, ${a.ptr(y)}, ${a.view(y)}, ${a.box(y)});`]);
  }
  // ONNX QDQ: the float activation between a DequantizeLinear and a QuantizeLinear maps straight to the step's int8
  // output; otherwise to its own output (a fused requantization follows).
  const table = activationTable(`lut${si}`, op, act, x, sl.T(op.outputs[0]!).dtype === 'float32' ? y : op.outputs[0]!);
  kernels.add('lut_s8');
  params.push(`static const mm_lut_s8_t ${P} = {${C}, ${table}};`);
  return withEpi((a) => [`mm_lut_s8(&${P}, ${a.ptr(x)}, ${a.view(x)}, ${a.ptr(y)}, ${a.view(y)}, ${a.box(y)});`]);
}
