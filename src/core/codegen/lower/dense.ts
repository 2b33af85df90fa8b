// Lowering of fully connected layers and matrix products: constant 2-D weights (float and int8), and the general float
// product of operands computed at run time.
import { elementCount } from '../../graph';
import { CodegenError } from '../errors';
import { quantizeMultiplier, roundEven } from '../quant';
import { conv16 } from './conv';
import { boxLit, floatOperand, fmtFloat, viewLit, type Emit, type StepLower } from './context';

/** FullyConnected, MatMul. */
export function lowerDense(sl: StepLower): Emit {
  const { P, T, addWeights, channelScales, constOf, e, fin, geo, graph, izp, kernels, label, op, params, qOf, si, stored, withEpi, x0, y } = sl;
  const x = x0;
  // A float product whose second operand is computed at run time, or stored with other than two axes, or a Gemm
  // with transA or a computed C: the general matrix product.
  const bId = op.inputs[1]!;
  const cId = op.inputs[2] ?? -1;
  if (e === 'f32' && graph.format === 'onnx' && (!stored(bId) || (T(bId).shape?.length ?? 2) !== 2 || op.attrs.transA || (cId >= 0 && !stored(cId)))) return lowerMatMul(sl);
  // TFLite's BATCH_MATMUL: its right operand is [.., k, n] (or [.., n, k] with adj_y), not FULLY_CONNECTED's [n, k]
  // weights. Float: the general product (adj_x, adj_y, operands stored or computed); quantized: not generated.
  if (op.sourceType === 'BATCH_MATMUL') {
    if (e === 'f32') return lowerMatMul(sl);
    throw new CodegenError(`C export: ${label(op)}: a quantized BATCH_MATMUL is not generated (float is)`, op.index);
  }
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
  // int16x8 (TFLM's FullyConnected with int16 activations): a 1×1 convolution over `rows` rows of k channels.
  if (sl.elemOf(x) === 's16' || e === 's16') {
    return conv16(sl, x, W, canon, n, `${k}, ${n}, 1, 1, 1, 1, 1, 1, 1, 0, 0, ${rows}, 1`, {
      xv: viewLit({ h0: 0, w0: 0, sc: 1, sh: k, sw: 0 }), yv: viewLit({ h0: 0, w0: 0, sc: 1, sh: n, sw: 0 }), box: boxLit({ h0: 0, h1: rows, w0: 0, w1: 1 }),
    });
  }
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

/** numpy matmul shapes: a 1-D A is one row, a 1-D B one column (each dropped from the output); batch axes broadcast.
 *  Returns the per-batch offsets of A and B into their data. */
function batchOffsets(as: number[], bs: number[], label: string): { batch: number; aOff: number[]; bOff: number[] } {
  const ab = as.slice(0, -2);
  const bb = bs.slice(0, -2);
  const rank = Math.max(ab.length, bb.length);
  const pad = (s: number[]): number[] => [...new Array<number>(rank - s.length).fill(1), ...s];
  const [pa, pb] = [pad(ab), pad(bb)];
  const out = pa.map((d, i) => {
    const e = pb[i]!;
    if (d !== e && d !== 1 && e !== 1) throw new CodegenError(`C export: ${label}: batch axes ${ab.join('×')} and ${bb.join('×')} do not broadcast`);
    return Math.max(d, e);
  });
  const batch = elementCount(out);
  const matA = as[as.length - 1]! * as[as.length - 2]!;
  const matB = bs[bs.length - 1]! * bs[bs.length - 2]!;
  const stridesOf = (dims: number[]): number[] => dims.map((_, i) => elementCount(dims.slice(i + 1)));
  const [sa, sb] = [stridesOf(pa), stridesOf(pb)];
  const aOff: number[] = [];
  const bOff: number[] = [];
  for (let t = 0; t < batch; t++) {
    let rest = t;
    let ia = 0;
    let ib = 0;
    for (let i = rank - 1; i >= 0; i--) {
      const v = rest % out[i]!;
      rest = Math.floor(rest / out[i]!);
      if (pa[i] !== 1) ia += v * sa[i]!;
      if (pb[i] !== 1) ib += v * sb[i]!;
    }
    aOff.push(ia * matA);
    bOff.push(ib * matB);
  }
  return { batch, aOff, bOff };
}

/** The general float matrix product (MatMul with numpy broadcasting; Gemm with transA/transB, alpha, beta and a C
 *  broadcast to [M, N]), any operand computed at run time or stored. */
function lowerMatMul(sl: StepLower): Emit {
  const { P, T, addWeights, fin, geo, kernels, label, op, params, si, withEpi, y } = sl;
  const [aId, bId] = [op.inputs[0]!, op.inputs[1]!];
  const cId = op.inputs[2] ?? -1;
  const gemm = op.kind === 'FullyConnected';
  const adj = op.sourceType === 'BATCH_MATMUL';
  let as = geo(aId).shape.slice();
  let bs = geo(bId).shape.slice();
  if (as.length === 1) as = [1, as[0]!];
  if (bs.length === 1) bs = [bs[0]!, 1];
  if (gemm && (as.length !== 2 || bs.length !== 2)) throw new CodegenError(`C export: ${label(op)}: Gemm operands of rank ${as.length} and ${bs.length}`, op.index);
  const ta = (gemm || adj) && op.attrs.transA === true;
  const tb = (gemm || adj) && op.attrs.transB === true;
  const [m, k] = ta ? [as[as.length - 1]!, as[as.length - 2]!] : [as[as.length - 2]!, as[as.length - 1]!];
  const [k2, n] = tb ? [bs[bs.length - 1]!, bs[bs.length - 2]!] : [bs[bs.length - 2]!, bs[bs.length - 1]!];
  if (k !== k2) throw new CodegenError(`C export: ${label(op)}: inner dimensions ${k} and ${k2} differ`, op.index);
  const { batch, aOff, bOff } = batchOffsets(as, bs, label(op));
  if (batch * m * n !== elementCount(geo(y).shape)) throw new CodegenError(`C export: ${label(op)}: ${batch}×${m}×${n} products for an output of ${geo(y).shape.join('×')}`, op.index);
  const [aRs, aCs] = ta ? [1, as[as.length - 1]!] : [as[as.length - 1]!, 1];
  const [bRs, bCs] = tb ? [1, bs[bs.length - 1]!] : [bs[bs.length - 1]!, 1];
  // Gemm's C: [M, N], [N], [M, 1], [1] (unidirectional broadcast).
  let cRs = 0;
  let cCs = 0;
  let cArg: (ptr: (id: number) => string) => string = () => 'NULL';
  if (gemm && cId >= 0) {
    const cs = T(cId).shape ?? [];
    const c2 = cs.length === 0 ? [1, 1] : cs.length === 1 ? [1, cs[0]!] : cs;
    if (c2.length !== 2 || (c2[0] !== 1 && c2[0] !== m) || (c2[1] !== 1 && c2[1] !== n)) throw new CodegenError(`C export: ${label(op)}: C of shape ${cs.join('×')} does not broadcast to ${m}×${n}`, op.index);
    cRs = c2[0] === 1 ? 0 : c2[1]!;
    cCs = c2[1] === 1 ? 0 : 1;
    cArg = floatOperand(sl, cId, `c${si}`, 'C');
  }
  const A = floatOperand(sl, aId, `k${si}_0`, 'A');
  const B = floatOperand(sl, bId, `k${si}_1`, 'B');
  const offs = `${addWeights(`ao${si}`, 'int32_t', aOff)}, ${addWeights(`bo${si}`, 'int32_t', bOff)}`;
  kernels.add('matmul_f32');
  params.push(`static const mm_matmul_f32_t ${P} = {${batch}, ${m}, ${k}, ${n}, ${offs}, ${aRs}, ${aCs}, ${bRs}, ${bCs}, ${cRs}, ${cCs}, ${fmtFloat(op.attrs.alpha ?? 1)}, ${fmtFloat(op.attrs.beta ?? 1)}, ${fmtFloat(fin.lo)}, ${fmtFloat(fin.hi)}};`);
  return withEpi((a) => [`mm_matmul_f32(&${P}, ${A(a.ptr)}, ${B(a.ptr)}, ${cArg(a.ptr)}, ${a.ptr(y)});`]);
}

/** ai.onnx.ml.SVMClassifier of support vectors (SVC), 3 to 8 classes, integer labels, no post transform: labels and
 *  pairwise decisions, or probabilities with prob_a/prob_b (onnxruntime's semantics; see mm_svm_f32). */
export function lowerClassifier(sl: StepLower): Emit {
  const { P, T, addWeights, constOf, elemOf, kernels, label, op, params, si } = sl;
  const x = op.inputs[0] ?? -1;
  const o = op.attrs.opts ?? {};
  const arrays = op.attrs.arrays ?? {};
  const refuse = (why: string): never => { throw new CodegenError(`C export: ${label(op)}: ${why}`, op.index); };
  if (op.sourceType !== 'ai.onnx.ml.SVMClassifier') refuse('only SVMClassifier is generated among the ai.onnx.ml classifiers');
  if (elemOf(x) !== 'f32') refuse(`its input is ${T(x).dtype}; float32 is generated`);
  const k = o.classes ?? 0;
  const vectors = o.vectors ?? 0;
  if (vectors <= 0) refuse('a linear SVM (no support vectors) is not generated');
  if (k < 3 || k > 8) refuse(`${k} classes: 3 to 8 are generated`);
  if (o.post) refuse('a post_transform other than NONE is not generated');
  if (o.kernel === undefined || o.kernel < 0) refuse('its kernel_type is not LINEAR, POLY, RBF or SIGMOID');
  if (arrays.classlabels_ints === undefined) refuse('string labels are not generated');
  const ints = (name: string, n: number): number[] => {
    const v = T(arrays[name] ?? -1).values;
    if (!v || v.length !== n || v.some((d) => !Number.isInteger(d) || Math.abs(d) > 2 ** 31 - 1)) refuse(`its ${name} are not ${n} 32-bit integers`);
    return v!;
  };
  const floats = (name: string, n: number): string => `(const float *)${addWeights(`${name}${si}`, 'float', constOf(arrays[name] ?? -1, op, name, n).values)}`;
  const int32s = (name: string, values: number[]): string => `(const int32_t *)${addWeights(`${name}${si}`, 'int32_t', values)}`;
  const perClass = ints('vectors_per_class', k);
  const labels = ints('classlabels_ints', k);
  if (perClass.some((c) => c < 0) || perClass.reduce((a, b) => a + b, 0) !== vectors) refuse('its vectors_per_class do not add up to its support vectors');
  const features = (o.values ?? 0) / vectors;
  const xs = T(x).shape ?? [];
  if (!Number.isInteger(features) || xs.at(-1) !== features) refuse(`its support vectors have ${features} values, its input rows ${xs.at(-1)}`);
  const pairs = (k * (k - 1)) / 2;
  const kp = T(arrays.kernel_params ?? -1).values ?? [0, 0, 3];
  const starts = perClass.map((_, c) => perClass.slice(0, c).reduce((a, b) => a + b, 0));
  const proba = (o.proba ?? 0) > 0;
  const fields = [
    xs.length > 1 ? xs[0]! : 1, features, k, vectors, o.kernel!, fmtFloat(kp[2] ?? 3), fmtFloat(kp[0] ?? 0), fmtFloat(kp[1] ?? 0),
    floats('support_vectors', vectors * features), floats('coefficients', (k - 1) * vectors), floats('rho', pairs),
    proba ? floats('prob_a', pairs) : 'NULL', proba ? floats('prob_b', pairs) : 'NULL',
    int32s('start', starts), int32s('count', perClass), int32s('labels', labels),
  ];
  kernels.add('svm_f32');
  params.push(`static const mm_svm_f32_t ${P} = {${fields.join(', ')}};`);
  const [lab, scores] = [op.outputs[0] ?? -1, op.outputs[1] ?? -1];
  return (a) => [`mm_svm_f32(&${P}, ${a.ptr(x)}, ${lab >= 0 ? a.ptr(lab) : 'NULL'}, ${scores >= 0 ? a.ptr(scores) : 'NULL'});`];
}
