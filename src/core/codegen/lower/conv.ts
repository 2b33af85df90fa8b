// Lowering of convolutions (2-D, depthwise, grouped; int8, int16x8, float) and float BatchNormalization.
import { CodegenError } from '../errors';
import { quantizeMultiplier, roundEven } from '../quant';
import { fmtFloat, window2d, type ConstData, type Emit, type StepLower } from './context';

/** Conv2D, DepthwiseConv2D, TransposeConv2D (gathered per output), 1-D convolution. */
export function lowerConv(sl: StepLower): Emit {
  const { P, addWeights, channelScales, constOf, e, elemOf, fin, geo, graph, izp, kernels, label, op, params, qOf, si, windowFits, withEpi, x0, y } = sl;
  const x = x0;
  const gx = geo(x);
  const gy = geo(y);
  const sp = window2d(op);
  if (!gx.axes || !gy.axes || !sp) throw new CodegenError(`C export: ${label(op)} needs 4-D feature maps (or 1-D ones: N, C, W)`, op.index);
  const W = constOf(op.inputs[1]!, op, 'weights');
  // A 1-D convolution's weights [Cout, Cin/group, k] are 2-D ones of height 1.
  const ws = op.kind === 'ConvNd' && W.shape.length === 3 ? [W.shape[0]!, W.shape[1]!, 1, W.shape[2]!] : W.shape;
  if (ws.length !== 4) throw new CodegenError(`C export: ${label(op)}: weights of rank ${ws.length}`, op.index);
  let cout: number, kh: number, kw: number, cig: number;
  let canon: number[];
  const transposed = op.kind === 'TransposeConv2D' || (op.kind === 'ConvNd' && op.attrs.nd?.transposed === true);
  if (transposed && graph.format === 'onnx') {
    // ConvTranspose weights [Cin, Cout/group, kh, kw]: to [Cout][kh][kw][Cin/group], each output channel reading the
    // input channels of its group.
    let cog: number;
    [, cog, kh, kw] = ws as [number, number, number, number];
    const groups = op.attrs.group ?? 1;
    cout = cog * groups;
    cig = ws[0]! / groups;
    canon = new Array<number>(W.values.length);
    for (let o = 0; o < cout; o++) {
      const g = Math.floor(o / cog);
      for (let i = 0; i < kh * kw; i++) for (let c = 0; c < cig; c++) canon[(o * kh * kw + i) * cig + c] = W.values[(((g * cig + c) * cog) + (o % cog)) * kh * kw + i]!;
    }
  } else if (graph.format === 'tflite' && op.kind === 'DepthwiseConv2D') {
    [, kh, kw, cout] = ws as [number, number, number, number];
    cig = 1;
    canon = new Array<number>(W.values.length);
    for (let o = 0; o < cout; o++) for (let i = 0; i < kh * kw; i++) canon[o * kh * kw + i] = W.values[i * cout + o]!;
  } else if (graph.format === 'tflite') {
    [cout, kh, kw, cig] = ws as [number, number, number, number];
    canon = W.values;
  } else {
    [cout, cig, kh, kw] = ws as [number, number, number, number];
    canon = new Array<number>(W.values.length);
    for (let o = 0; o < cout; o++) for (let c = 0; c < cig; c++) for (let i = 0; i < kh * kw; i++) canon[(o * kh * kw + i) * cig + c] = W.values[(o * cig + c) * kh * kw + i]!;
  }
  const groups = gx.C / cig;
  if (!Number.isInteger(groups) || cout !== gy.C || cout % groups !== 0) throw new CodegenError(`C export: ${label(op)}: ${gx.C} input channels, weights ${ws.join('×')}: channels do not divide into groups`, op.index);
  const nd = op.attrs.nd;
  if (transposed && op.kind === 'ConvNd' && (nd?.outputShape || (nd?.padding !== 'explicit' && nd?.padding !== 'valid'))) throw new CodegenError(`C export: ${label(op)}: a 1-D ConvTranspose with output_shape or auto_pad SAME is not generated (give explicit pads)`, op.index);
  const pads = sp.pads;
  if (transposed) {
    // The gather runs from output row oh + pad − ky·dilation: every term within the kernels' int32.
    if ([0, 1].some((a) => (a ? gy.W : gy.H) + pads[a]! >= 2 ** 31 || ((a ? kw : kh) - 1) * sp.dilations[a]! >= 2 ** 31)) throw new CodegenError(`C export: ${label(op)}: sizes beyond the kernels' 32-bit arithmetic`, op.index);
  } else windowFits(op, gx, gy, [kh, kw], sp.strides, sp.dilations, pads);
  const geom = `${gx.C}, ${cout}, ${groups}, ${kh}, ${kw}, ${sp.strides[0]}, ${sp.strides[1]}, ${sp.dilations[0]}, ${sp.dilations[1]}, ${pads[0]}, ${pads[1]}, ${gx.H}, ${gx.W}`;
  const fn = transposed ? 'tconv' : 'conv';
  const b = op.inputs[2] ?? -1;
  if (e === 'f32') {
    const wn = addWeights(`w${si}`, 'float', canon);
    const bn = b >= 0 ? addWeights(`b${si}`, 'float', constOf(b, op, 'bias', cout).values) : 'NULL';
    kernels.add(`${fn}_f32`);
    params.push(`static const mm_conv_f32_t ${P} = {${geom}, ${wn}, ${bn}, ${fmtFloat(fin.lo)}, ${fmtFloat(fin.hi)}};`);
    return withEpi((a) => [`mm_${fn}_f32(&${P}, ${a.ptr(x)}, ${a.view(x)}, ${a.ptr(y)}, ${a.view(y)}, ${a.box(y)});`]);
  }
  if (e === 's16' || elemOf(x) === 's16') return conv16(sl, x, W, canon, cout, geom, undefined, transposed);
  if (elemOf(x) !== 's8') throw new CodegenError(`C export: ${label(op)} reads float32 and writes int8`, op.index);
  const qx = qOf(x, 'convolution input');
  const ws8 = W.dtype === 'int8' ? canon : W.dtype === 'uint8' ? canon.map((v) => v - 128) : null;
  if (!ws8 || !W.scale) throw new CodegenError(`C export: ${label(op)}: int8 convolution with ${W.dtype} weights${W.scale ? '' : ' without scales'}`, op.index);
  const wzp = W.zp ?? [0];
  if (wzp.some((z) => z !== wzp[0])) throw new CodegenError(`C export: ${label(op)}: per-channel weight zero points are not generated`, op.index);
  const wOff = -((wzp[0] ?? 0) - (W.dtype === 'uint8' ? 128 : 0));
  const wsc = channelScales(W, op, cout);
  const sw = (c: number): number => wsc[wsc.length === 1 ? 0 : c]!;
  const mult: number[] = [];
  const shift: number[] = [];
  for (let c = 0; c < cout; c++) {
    const [m, s] = quantizeMultiplier((qx.scale * sw(c)) / fin.q!.scale);
    mult.push(m); shift.push(s);
  }
  let bias: string = 'NULL';
  if (b >= 0) {
    const B = constOf(b, op, 'bias', cout);
    const vals = B.dtype === 'int32' ? B.values : B.values.map((v, c) => roundEven(v / (qx.scale * sw(c))));
    bias = addWeights(`b${si}`, 'int32_t', vals);
  }
  const wn = addWeights(`w${si}`, 'int8_t', ws8);
  const mn = addWeights(`m${si}`, 'int32_t', mult);
  const sn = addWeights(`s${si}`, 'int32_t', shift);
  kernels.add(`${fn}_s8`);
  params.push(`static const mm_conv_s8_t ${P} = {${geom}, ${wn}, ${bias}, ${mn}, ${sn}, ${-izp(x, qx)}, ${wOff}, ${fin.zp}, ${fin.lo}, ${fin.hi}};`);
  return withEpi((a) => [`mm_${fn}_s8(&${P}, ${a.ptr(x)}, ${a.view(x)}, ${a.ptr(y)}, ${a.view(y)}, ${a.box(y)});`]);
}

/** BatchNorm. */
export function lowerBatchNorm(sl: StepLower): Emit {
  const { P, addWeights, constOf, e, elemOf, fin, geo, kernels, label, op, params, si, withEpi, x0, y } = sl;
  // Inference BatchNormalization is a per-channel affine map: a 1×1 depthwise convolution whose weight is
  // scale / sqrt(var + epsilon) and whose bias is B − mean × that weight, so the conv kernel (views, boxes,
  // fused clip) runs it layer by layer and on tiles.
  if (op.sourceType === 'LayerNormalization') return lowerLayerNorm(sl);
  if (op.sourceType !== 'BatchNormalization') throw new CodegenError(`C export: ${label(op)} is not generated (BatchNormalization, whose statistics are constants, and LayerNormalization are)`, op.index);
  const x = x0;
  const gx = geo(x);
  const gy = geo(y);
  // A batch of one feature vector ([1, C], after a Gemm: BatchNorm1d) is a 1×1 map.
  const vector = (g: typeof gx): boolean => g.shape.length === 2 && g.shape[0] === 1;
  if (!(gx.axes || vector(gx)) || !(gy.axes || vector(gy))) throw new CodegenError(`C export: ${label(op)} needs feature maps of 1 or 2 spatial axes, or one feature vector`, op.index);
  if (e !== 'f32' || elemOf(x) !== 'f32') throw new CodegenError(`C export: ${label(op)}: int8 BatchNormalization is not generated (fold it into the convolution before quantizing)`, op.index);
  const C = gx.C;
  const [g, bb, mean, vr] = ['scale', 'B', 'mean', 'var'].map((what, i) => {
    const id = op.params[i];
    const v = id === undefined ? [] : constOf(id, op, what).values;
    if (v.length !== C) throw new CodegenError(`C export: ${label(op)}: ${what} holds ${v.length} values for ${C} channels`, op.index);
    return v;
  }) as [number[], number[], number[], number[]];
  const eps = op.attrs.epsilon ?? 1e-5;
  const w = g.map((s, c) => s / Math.sqrt(vr[c]! + eps));
  const wn = addWeights(`w${si}`, 'float', w);
  const bn = addWeights(`b${si}`, 'float', bb.map((b, c) => b - mean[c]! * w[c]!));
  kernels.add('conv_f32');
  params.push(`static const mm_conv_f32_t ${P} = {${C}, ${C}, ${C}, 1, 1, 1, 1, 1, 1, 0, 0, ${gx.H}, ${gx.W}, ${wn}, ${bn}, ${fmtFloat(fin.lo)}, ${fmtFloat(fin.hi)}};`);
  return withEpi((a) => [`mm_conv_f32(&${P}, ${a.ptr(x)}, ${a.view(x)}, ${a.ptr(y)}, ${a.view(y)}, ${a.box(y)});`]);
}

/** TFLM's int16x8 convolution: int16 in and out, int8 symmetric weights, int32 or int64 bias. `io` gives the views and
 *  box of a fully connected layer run as a 1×1 convolution over its rows. A transposed one (TFLM's int16
 *  TransposeConv) always accumulates in int64; its bias is int64, or int16 widened. */
export function conv16(sl: StepLower, x: number, W: ConstData, canon: number[], cout: number, geom: string, io?: { xv: string; yv: string; box: string }, transposed = false): Emit {
  const { P, T, addWeights, channelScales, constOf, e, elemOf, fin, kernels, label, op, params, qOf, si, withEpi, y } = sl;
  if (e !== 's16' || elemOf(x) !== 's16') throw new CodegenError(`C export: ${label(op)}: ${T(x).dtype} to ${T(y).dtype} convolution is not generated`, op.index);
  const qx = qOf(x, 'convolution input');
  if (qx.zp !== 0 || fin.zp !== 0) throw new CodegenError(`C export: ${label(op)}: int16 convolution with a zero point other than 0 (TFLM requires 0)`, op.index);
  if (W.dtype !== 'int8' || !W.scale || (W.zp ?? [0]).some((z) => z !== 0)) throw new CodegenError(`C export: ${label(op)}: int16 convolution needs int8 weights with zero point 0`, op.index);
  const wsc = channelScales(W, op, cout);
  const sw = (c: number): number => wsc[wsc.length === 1 ? 0 : c]!;
  const ms = Array.from({ length: cout }, (_, c) => quantizeMultiplier((qx.scale * sw(c)) / fin.q!.scale));
  const b = op.inputs[2] ?? -1;
  let bias = 'NULL';
  // TFLM accumulates in int64 unless the bias is int32 (then in int32 with the 32-bit rescaling).
  let acc64 = true;
  if (b >= 0) {
    const B = constOf(b, op, 'bias', cout);
    if (transposed ? B.dtype !== 'int64' && B.dtype !== 'int16' : B.dtype !== 'int32' && B.dtype !== 'int64') throw new CodegenError(`C export: ${label(op)}: int16 ${transposed ? 'transposed ' : ''}convolution with a ${B.dtype} bias`, op.index);
    if (B.dtype === 'int32' && op.sourceType === 'DEPTHWISE_CONV_2D') throw new CodegenError(`C export: ${label(op)}: an int16 depthwise convolution with an int32 bias (TFLM reads that bias as int64)`, op.index);
    if (B.values.some((v) => v < -(2 ** 31) || v >= 2 ** 31)) throw new CodegenError(`C export: ${label(op)}: an int64 bias beyond 32 bits is not generated`, op.index);
    acc64 = B.dtype !== 'int32';
    bias = addWeights(`b${si}`, 'int32_t', B.values);
  }
  const wn = addWeights(`w${si}`, 'int8_t', canon);
  const mn = addWeights(`m${si}`, 'int32_t', ms.map(([m]) => m));
  const sn = addWeights(`s${si}`, 'int32_t', ms.map(([, s]) => s));
  const k = transposed ? 'tconv_s16' : 'conv_s16';
  kernels.add(k);
  params.push(`static const mm_conv_s16_t ${P} = {${geom}, ${wn}, ${bias}, ${mn}, ${sn}, ${acc64 ? 1 : 0}, ${fin.lo}, ${fin.hi}};`);
  return withEpi((a) => [`mm_${k}(&${P}, ${a.ptr(x)}, ${io?.xv ?? a.view(x)}, ${a.ptr(y)}, ${io?.yv ?? a.view(y)}, ${io?.box ?? a.box(y)});`]);
}

/** ONNX LayerNormalization (float): over the axes from `axis` to the last, scale and optional bias of that size;
 *  with `rms`, RMSNormalization (ONNX's, and Deeploy's float RMSNorm over the last axis): no mean taken out, no bias. */
export function lowerLayerNorm(sl: StepLower, rms = false): Emit {
  const { P, addWeights, constOf, e, elemOf, fin, geo, kernels, label, op, params, si, withEpi, x0, y } = sl;
  if (e !== 'f32' || elemOf(x0) !== 'f32') throw new CodegenError(`C export: ${label(op)}: an integer ${rms ? 'RMS' : 'layer'} normalization is not generated`, op.index);
  const xs = geo(x0).shape;
  const axis = ((op.attrs.axis ?? -1) + xs.length) % xs.length;
  const n = xs.slice(axis).reduce((a, b) => a * b, 1);
  const outer = xs.slice(0, axis).reduce((a, b) => a * b, 1);
  const [scale, bias] = [op.params[0], op.params[1]];
  const sn = addWeights(`w${si}`, 'float', constOf(scale ?? -1, op, 'scale', n).values);
  const bn = bias === undefined || rms ? 'NULL' : addWeights(`b${si}`, 'float', constOf(bias, op, 'bias', n).values);
  kernels.add('layernorm_f32');
  params.push(`static const mm_layernorm_f32_t ${P} = {${outer}, ${n}, ${rms ? 1 : 0}, ${fmtFloat(op.attrs.epsilon ?? 1e-5)}, ${sn}, ${bn}, ${fmtFloat(fin.lo)}, ${fmtFloat(fin.hi)}};`);
  return withEpi((a) => [`mm_layernorm_f32(&${P}, ${a.ptr(x0)}, ${a.ptr(y)});`]);
}
