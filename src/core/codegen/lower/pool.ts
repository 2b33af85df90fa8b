// Lowering of pooling and reductions (mean, max), layer by layer, on tiles, and accumulated row by row at a stream's end.
import { elementCount } from '../../graph';
import { CodegenError } from '../errors';
import { meanMultiplier, quantizeMultiplier } from '../quant';
import { fmtFloat, window2d, type Access, type Emit, type StepLower } from './context';

/** MaxPool2D, AvgPool2D, GlobalAvgPool, GlobalMaxPool, and 1-D pooling (PoolNd on an N, C, W map). */
export function lowerPool(sl: StepLower): Emit {
  const { P, e, fin, geo, izp, kernels, label, op, params, qOf, windowFits, withEpi, x0, y } = sl;
  const x = x0;
  const gx = geo(x);
  const gy = geo(y);
  if (!gx.axes || !gy.axes) throw new CodegenError(`C export: ${label(op)} needs 4-D feature maps (or 1-D ones: N, C, W)`, op.index);
  if (op.kind === 'PoolNd' && op.sourceType !== 'MaxPool' && op.sourceType !== 'AveragePool') throw new CodegenError(`C export: ${label(op)}: only max and average pooling are generated`, op.index);
  const global = op.kind === 'GlobalAvgPool' || op.kind === 'GlobalMaxPool';
  const sp = window2d(op);
  if (!global && (!sp?.kernel || sp.dilations[0] !== 1 || sp.dilations[1] !== 1)) throw new CodegenError(`C export: ${label(op)}: kernel unknown or dilated pooling`, op.index);
  // A 1-D map (N, C, W) runs with its batch as the height: its global pooling is over W only, row by row.
  const k = global ? [gx.shape.length === 3 ? 1 : gx.H, gx.W] : sp!.kernel!;
  const st = global ? [1, 1] : sp!.strides;
  const pd = global ? [0, 0] : sp!.pads;
  const isMax = op.kind === 'MaxPool2D' || op.kind === 'GlobalMaxPool' || op.sourceType === 'MaxPool' ? 1 : 0;
  windowFits(op, gx, gy, k, st, [1, 1], pd);
  const countPad = op.attrs.countIncludePad ? 1 : 0;
  const geom = `${gx.C}, ${k[0]}, ${k[1]}, ${st[0]}, ${st[1]}, ${pd[0]}, ${pd[1]}, ${gx.H}, ${gx.W}, ${isMax}, ${countPad}`;
  if (e === 'f32') {
    kernels.add('pool_f32');
    params.push(`static const mm_pool_f32_t ${P} = {${geom}, ${fmtFloat(fin.lo)}, ${fmtFloat(fin.hi)}};`);
    return withEpi((a) => {
      if (!a.accumulator) return [`mm_pool_f32(&${P}, ${a.ptr(x)}, ${a.view(x)}, ${a.ptr(y)}, ${a.view(y)}, ${a.box(y)});`];
      kernels.add('gpool_row_f32');
      return [`mm_gpool_row_f32(&${P}, ${a.ptr(x)}, ${a.view(x)}, r, ${a.accumulatorSpan!()}, ${a.accumulator('f32')}, ${a.ptr(y)}, ${a.view(y)});`];
    });
  }
  const qx = qOf(x, 'pooling input');
  const same = qx.scale === fin.q!.scale && izp(x, qx) === fin.zp;
  if (!same && (isMax || e === 's16')) throw new CodegenError(`C export: ${label(op)}: ${e === 's16' ? 'int16' : 'int8 max'} pooling between different scales`, op.index);
  if (e !== 's8' && e !== 's16') throw new CodegenError(`C export: ${label(op)}: pooling on ${sl.T(y).dtype}`, op.index);
  // int16: TFLM's integer pooling, the same arithmetic on int16 codes.
  const kn = `pool_${e}`;
  kernels.add(kn);
  params.push(`static const mm_${kn}_t ${P} = {${geom}, ${same ? 0 : 1}, ${izp(x, qx)}, ${fin.zp}, ${fmtFloat(qx.scale / fin.q!.scale)}, ${fin.lo}, ${fin.hi}};`);
  return withEpi((a) => {
    if (!a.accumulator) return [`mm_${kn}(&${P}, ${a.ptr(x)}, ${a.view(x)}, ${a.ptr(y)}, ${a.view(y)}, ${a.box(y)});`];
    if (e !== 's8') throw new CodegenError(`C export: ${label(op)}: an int16 pooling at a line-buffered stream's end is not generated (export layer by layer)`, op.index);
    kernels.add('gpool_row_s8');
    return [`mm_gpool_row_s8(&${P}, ${a.ptr(x)}, ${a.view(x)}, r, ${a.accumulatorSpan!()}, ${a.accumulator('s8')}, ${a.ptr(y)}, ${a.view(y)});`];
  });
}

/** ArgMax/ArgMin: the index along one axis, int32 or int64 (the input's values compared as stored: int8 codes order
 *  as their values do). */
export function lowerArgReduce(sl: StepLower): Emit {
  const { P, e, elemOf, geo, kernels, label, op, params, withEpi, x0, y } = sl;
  const x = x0;
  const ex = elemOf(x);
  if ((ex !== 'f32' && ex !== 's8' && ex !== 's16') || (e !== 's32' && e !== 's64')) throw new CodegenError(`C export: ${label(op)}: ${sl.T(x).dtype} to ${sl.T(y).dtype} indices is not generated`, op.index);
  const xs = geo(x).shape;
  const axis = (((op.attrs.axis ?? 0) % xs.length) + xs.length) % xs.length;
  const min = op.sourceType === 'ArgMin' || op.sourceType === 'ARG_MIN';
  const k = `arg_${ex}_${e}`;
  kernels.add(k);
  params.push(`static const mm_arg_t ${P} = {${elementCount(xs.slice(0, axis))}, ${xs[axis]!}, ${elementCount(xs.slice(axis + 1))}, ${min ? 1 : 0}, ${op.attrs.selectLast ? 1 : 0}};`);
  return withEpi((a) => [`mm_${k}(&${P}, ${a.ptr(x)}, ${a.ptr(y)});`]);
}

/** Reduce. */
export function lowerReduce(sl: StepLower): Emit {
  const { P, e, fin, geo, graph, izp, kernels, label, op, params, qOf, withEpi, x0, y } = sl;
  const x = x0;
  const isMax = op.sourceType === 'REDUCE_MAX' || op.sourceType === 'ReduceMax';
  const isSum = op.sourceType === 'SUM' || op.sourceType === 'ReduceSum';
  if (op.sourceType !== 'MEAN' && op.sourceType !== 'ReduceMean' && !isMax && !isSum) throw new CodegenError(`C export: ${label(op)}: only the mean, sum and max reductions are generated`, op.index);
  const xs = geo(x).shape;
  const rank = xs.length;
  const axes = [...new Set((op.attrs.axes ?? xs.map((_, i) => i)).map((a) => (a + rank) % rank))].sort((p, q) => p - q);
  if (axes.length === 0 || axes[axes.length - 1]! - axes[0]! !== axes.length - 1) throw new CodegenError(`C export: ${label(op)}: ${isMax ? 'max' : isSum ? 'sum' : 'mean'} over non-adjacent axes ${axes.join(', ')}`, op.index);
  const outer = elementCount(xs.slice(0, axes[0]));
  const n = elementCount(axes.map((a) => xs[a]!));
  const inner = elementCount(xs.slice(axes[axes.length - 1]! + 1));
  /** A stream's end: input row r into the sums (C, H, W of the input), the output after the last row. */
  const rowArgs = (a: Access): string => `${geo(x).C}, ${a.accumulatorSpan!()}, ${a.ptr(x)}, ${a.view(x)}, r`;
  if (isMax) {
    // int8: TFLM's REDUCE_MAX requires the input's quantization on the output (its Prepare checks it): the max
    // of the codes. Another quantization is not generated.
    if (e === 's8') {
      const qx = qOf(x, 'max input');
      if (qx.scale !== fin.q!.scale || izp(x, qx) !== fin.zp) throw new CodegenError(`C export: ${label(op)}: an int8 max whose output is quantized unlike its input is not generated`, op.index);
    }
    kernels.add(e === 'f32' ? 'rmax_f32' : 'rmax_s8');
    params.push(`static const mm_rmax_t ${P} = {${outer}, ${n}, ${inner}};`);
    return withEpi((a) => {
      if (!a.accumulator) return [`mm_rmax_${e}(&${P}, ${a.ptr(x)}, ${a.ptr(y)});`];
      kernels.add(e === 'f32' ? 'rmax_row_f32' : 'rmax_row_s8');
      return [`mm_rmax_row_${e}(&${P}, ${rowArgs(a)}, ${a.accumulator(e)}, ${a.ptr(y)});`];
    });
  }
  if (e === 'f32') {
    kernels.add('mean_f32');
    params.push(`static const mm_mean_f32_t ${P} = {${outer}, ${n}, ${inner}, ${isSum ? 1 : 0}};`);
    return withEpi((a) => {
      if (!a.accumulator) return [`mm_mean_f32(&${P}, ${a.ptr(x)}, ${a.ptr(y)});`];
      kernels.add('mean_row_f32');
      return [`mm_mean_row_f32(&${P}, ${rowArgs(a)}, ${a.accumulator('f32')}, ${a.ptr(y)});`];
    });
  }
  const qx = qOf(x, 'mean input');
  const same = qx.scale === fin.q!.scale && izp(x, qx) === fin.zp;
  if (e !== 's8' && (e !== 's16' || graph.format !== 'tflite')) throw new CodegenError(`C export: ${label(op)}: a mean on ${sl.T(y).dtype} is not generated`, op.index);
  if (isSum && graph.format !== 'tflite') throw new CodegenError(`C export: ${label(op)}: a quantized ReduceSum is not generated`, op.index);
  const k = `mean_${e}`;
  kernels.add(k);
  // TFLite: TFLM's integer QuantizedMeanOrSum, bit for bit (its Q31 multiplier for the scale ratio, folded with
  // 1/n as reference/reduce.h does). ONNX: as onnxruntime, the rounded average or a float rescale.
  // TFLite's SUM: the same integer arithmetic without the 1/n.
  const [mult, shift] = graph.format === 'tflite' ? (isSum ? quantizeMultiplier(qx.scale / fin.q!.scale) : meanMultiplier(qx.scale / fin.q!.scale, n)) : [0, 0];
  const mode = graph.format === 'tflite' ? 0 : same ? 1 : 2;
  params.push(`static const mm_${k}_t ${P} = {${outer}, ${n}, ${inner}, ${mode}, ${izp(x, qx)}, ${fin.zp}, ${mult}, ${shift}, ${fmtFloat(qx.scale / fin.q!.scale)}};`);
  return withEpi((a) => {
    if (!a.accumulator) return [`mm_${k}(&${P}, ${a.ptr(x)}, ${a.ptr(y)});`];
    if (e !== 's8') throw new CodegenError(`C export: ${label(op)}: an int16 mean at a line-buffered stream's end is not generated (export layer by layer)`, op.index);
    kernels.add('mean_row_s8');
    return [`mm_mean_row_s8(&${P}, ${rowArgs(a)}, ${a.accumulator('s8')}, ${a.ptr(y)});`];
  });
}
