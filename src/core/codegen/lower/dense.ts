// Lowering of fully connected layers and matrix products with constant weights.
import { elementCount } from '../../graph';
import { CodegenError } from '../errors';
import { quantizeMultiplier, roundEven } from '../quant';
import { fmtFloat, type Emit, type StepLower } from './context';

/** FullyConnected, MatMul. */
export function lowerDense(sl: StepLower): Emit {
  const { P, addWeights, channelScales, constOf, e, fin, geo, graph, izp, kernels, label, op, params, qOf, si, withEpi, x0, y } = sl;
  const x = x0;
  const W = constOf(op.inputs[1]!, op, 'weights');
  if (op.attrs.transA) throw new CodegenError(`C export: ${label(op)} with transA`, op.index);
  let n: number, k: number;
  let canon: number[];
  if (graph.format === 'tflite') {
    [n, k] = [W.shape[0]!, elementCount(W.shape) / W.shape[0]!];
    canon = W.values;
  } else if (W.shape.length !== 2) {
    throw new CodegenError(`C export: ${label(op)}: weights of rank ${W.shape.length} (a constant 2-D matrix is generated)`, op.index);
  } else if (op.kind === 'FullyConnected' && op.attrs.transB) {
    [n, k] = [W.shape[0]!, W.shape[1]!];
    canon = W.values;
  } else {
    [k, n] = [W.shape[0]!, W.shape[1]!];
    canon = new Array<number>(W.values.length);
    for (let i = 0; i < k; i++) for (let o = 0; o < n; o++) canon[o * k + i] = W.values[i * n + o]!;
  }
  const alpha = op.attrs.alpha ?? 1;
  const beta = op.attrs.beta ?? 1;
  const rows = elementCount(geo(x).shape) / k;
  if (!Number.isInteger(rows) || rows * n !== elementCount(geo(y).shape)) throw new CodegenError(`C export: ${label(op)}: input ${geo(x).shape.join('×')} does not match weights ${W.shape.join('×')}`, op.index);
  const b = op.inputs[2] ?? -1;
  const geom = `${rows}, ${k}, ${n}`;
  if (e === 'f32') {
    const wn = addWeights(`w${si}`, 'float', alpha === 1 ? canon : canon.map((v) => v * alpha));
    let bn = 'NULL';
    if (b >= 0) {
      const B = constOf(b, op, 'bias', n);
      bn = addWeights(`b${si}`, 'float', beta === 1 ? B.values : B.values.map((v) => v * beta));
    }
    kernels.add('fc_f32');
    params.push(`static const mm_fc_f32_t ${P} = {${geom}, ${wn}, ${bn}, ${fmtFloat(fin.lo)}, ${fmtFloat(fin.hi)}};`);
    return withEpi((a) => [`mm_fc_f32(&${P}, ${a.ptr(x)}, ${a.ptr(y)});`]);
  }
  if (alpha !== 1 || beta !== 1) throw new CodegenError(`C export: ${label(op)}: int8 Gemm with alpha/beta other than 1`, op.index);
  const qx = qOf(x, 'fully-connected input');
  const ws8 = W.dtype === 'int8' ? canon : W.dtype === 'uint8' ? canon.map((v) => v - 128) : null;
  if (!ws8 || !W.scale) throw new CodegenError(`C export: ${label(op)}: int8 fully-connected with ${W.dtype} weights`, op.index);
  const wzp = W.zp ?? [0];
  if (wzp.some((z) => z !== wzp[0])) throw new CodegenError(`C export: ${label(op)}: per-channel weight zero points are not generated`, op.index);
  const perChannel = channelScales(W, op, n).length > 1;
  const mult: number[] = [];
  const shift: number[] = [];
  for (let c = 0; c < (perChannel ? n : 1); c++) {
    const [m, s] = quantizeMultiplier((qx.scale * W.scale[c]!) / fin.q!.scale);
    mult.push(m); shift.push(s);
  }
  let bias = 'NULL';
  if (b >= 0) {
    const B = constOf(b, op, 'bias', n);
    bias = addWeights(`b${si}`, 'int32_t', B.dtype === 'int32' ? B.values : B.values.map((v, c) => roundEven(v / (qx.scale * W.scale![perChannel ? c : 0]!))));
  }
  const wn = addWeights(`w${si}`, 'int8_t', ws8);
  const mn = addWeights(`m${si}`, 'int32_t', mult);
  const sn = addWeights(`s${si}`, 'int32_t', shift);
  kernels.add('fc_s8');
  params.push(`static const mm_fc_s8_t ${P} = {${geom}, ${wn}, ${bias}, ${mn}, ${sn}, ${perChannel ? 1 : 0}, ${-izp(x, qx)}, ${-((wzp[0] ?? 0) - (W.dtype === 'uint8' ? 128 : 0))}, ${fin.zp}, ${fin.lo}, ${fin.hi}};`);
  return withEpi((a) => [`mm_fc_s8(&${P}, ${a.ptr(x)}, ${a.ptr(y)});`]);
}
