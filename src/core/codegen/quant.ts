// Fixed-point parameters computed at export time, as TFLite/TFLM compute them in their Prepare functions.

import { expOnNegativeValues, frexp, invSqrtMultiplier, logistic, multiplyByQuantizedMultiplier, roundingDivideByPOT, srdhm16, srdhm32, tanh, wrap16 } from './fixedpoint';

export { multiplyByQuantizedMultiplier };

/**
 * TFLite QuantizeMultiplier: a real multiplier as a Q31 fixed-point value and a power-of-two shift (positive = left),
 * so that m ≈ multiplier · 2^(shift − 31).
 */
export function quantizeMultiplier(m: number): [number, number] {
  if (!(m > 0) || !Number.isFinite(m)) return [0, 0];
  const [q, e] = frexp(m);
  let shift = e;
  let fixed = Math.round(q * 2 ** 31);
  if (fixed === 2 ** 31) { fixed /= 2; shift++; }
  if (shift < -31) return [0, 0];
  if (shift > 30) return [2 ** 31 - 1, 30];
  return [fixed, shift];
}

/** TFLite's int8 mean (reference/reduce.h QuantizedMeanOrSum): QuantizeMultiplier of the input/output scale ratio,
 *  then 1/n folded in: shift by floor(log2 n) (at most 32 and 31 + shift), multiplier·2^that / n truncated. */
export function meanMultiplier(ratio: number, n: number): [number, number] {
  const [m, s] = quantizeMultiplier(ratio);
  if (n <= 0) return [m, s];
  const k = Math.min(Math.floor(Math.log2(n)), 32, 31 + s);
  return [Number((BigInt(m) << BigInt(k)) / BigInt(n)), s - k];
}

/** float32 division rounded as C computes `f / scale` with float operands. */
const fdiv = (a: number, b: number): number => Math.fround(Math.fround(a) / Math.fround(b));
/** TfLiteRound / std::round: half away from zero. */
export const roundAway = (x: number): number => Math.sign(x) * Math.round(Math.abs(x));
/** Round half to even (ONNX QuantizeLinear, numpy). */
export function roundEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** TFLite CalculateActivationRangeQuantized: the clamp of a fused activation in the output's scale, within the
 *  stored type's range (int8 by default). */
export function activationRange(act: string | undefined, scale: number, zp: number, lo = -128, hi = 127): [number, number] {
  const q = (f: number): number => zp + roundAway(fdiv(f, scale));
  switch (act) {
    case 'relu': return [Math.max(lo, q(0)), hi];
    case 'relu6': return [Math.max(lo, q(0)), Math.min(hi, q(6))];
    case 'relu_n1_to_1': return [Math.max(lo, q(-1)), Math.min(hi, q(1))];
    default: return [lo, hi];
  }
}

/** TFLM's quantized LEAKY_RELU (leaky_relu_common.cc Prepare, reference QuantizeLeakyRelu): the identity and alpha
 *  multipliers, computed from float32 ratios as TFLM does; a negative alpha keeps its sign apart. */
export interface LeakyParams { inZp: number; outZp: number; idMult: number; idShift: number; alphaMult: number; alphaShift: number; alphaNegative: boolean }
export function leakyReluParams(inScale: number, inZp: number, outScale: number, outZp: number, alpha: number): LeakyParams {
  const f = Math.fround;
  const a = f(f(f(inScale) * f(alpha)) / f(outScale));
  const [alphaMult, alphaShift] = quantizeMultiplier(Math.abs(a));
  const [idMult, idShift] = quantizeMultiplier(f(f(inScale) / f(outScale)));
  return { inZp, outZp, idMult, idShift, alphaMult, alphaShift, alphaNegative: a < 0 };
}

/** One quantized LEAKY_RELU value, clamped to [lo, hi], as TFLM computes it. */
export function leakyRelu(q: number, p: LeakyParams, lo: number, hi: number): number {
  const v = q - p.inZp;
  let r: number;
  if (v >= 0) r = multiplyByQuantizedMultiplier(v, p.idMult, p.idShift);
  else {
    const s = multiplyByQuantizedMultiplier(v, p.alphaMult, p.alphaShift);
    r = p.alphaNegative ? -s : s;
  }
  return Math.min(hi, Math.max(lo, p.outZp + r));
}

/** TFLM's quantized ADD and SUB (add_common.cc, sub_common.cc): both inputs rescaled to twice the larger input scale
 *  with `leftShift` bits of headroom (20 for int8, 15 for int16), then to the output. ADD computes the ratios in
 *  double, SUB in float, as TFLM does. Returns [multiplier, shift] for input 1, input 2 and the output. */
export function addMultipliers(sub: boolean, sa: number, sb: number, so: number, leftShift: number): [number, number][] {
  const f = sub ? Math.fround : (v: number): number => v;
  const twiceMax = f(2 * Math.max(sa, sb));
  return [f(sa / twiceMax), f(sb / twiceMax), f(twiceMax / f(2 ** leftShift * so))].map(quantizeMultiplier);
}

/** TFLM's SQUARED_DIFFERENCE Prepare (PrepareQuantized, in double): both inputs to twice the larger input scale, the
 *  squared difference back by that squared over 2^(2·left shift) and the output scale. */
export function sqdiffMultipliers(sa: number, sb: number, so: number, leftShift: number): [number, number][] {
  const twiceMax = 2 * Math.max(sa, sb);
  return [sa / twiceMax, sb / twiceMax, (twiceMax * twiceMax) / (2 ** (2 * leftShift) * so)].map(quantizeMultiplier);
}

const I32_MAX = 2147483647;
const I16_MIN = -32768;
const I16_MAX = 32767;
const clamp8 = (v: number): number => Math.min(127, Math.max(-128, v));

/** The shared Prepare of TFLM's int8 LOGISTIC and TANH: the input into 4 integer bits, and the radius beyond which
 *  the output saturates. */
function sigmoidPrepare(inScale: number): { multiplier: number; shift: number; radius: number } {
  const [q, shift] = frexp(inScale * 2 ** 27);
  const multiplier = Math.min(I32_MAX, Math.round(q * 2 ** 31));
  const radius = Math.floor((15 * 2 ** 27) / 2 ** shift);
  return { multiplier, shift, radius };
}

/** TFLM's int8 LOGISTIC and TANH (reference_integer_ops::Logistic/Tanh) of every input value, −128..127: the input
 *  into 4 integer bits, gemmlowp's fixed-point function, then the output read with scale 1/256 and zero point −128
 *  (LOGISTIC) or 1/128 and 0 (TANH) whatever the tensor says (TFLite requires exactly those). */
function sigmoidTableS8(inScale: number, inZp: number, tanhOf: boolean): number[] {
  const p = sigmoidPrepare(inScale);
  return Array.from({ length: 256 }, (_, i) => {
    const v = i - 128 - inZp;
    if (v <= -p.radius) return -128;
    if (v >= p.radius) return 127;
    const q4 = multiplyByQuantizedMultiplier(v, p.multiplier, p.shift);
    return clamp8(tanhOf ? roundingDivideByPOT(tanh(q4, 4), 24) : roundingDivideByPOT(logistic(q4, 4), 23) - 128);
  });
}
export const logisticTableS8 = (inScale: number, inZp: number): number[] => sigmoidTableS8(inScale, inZp, false);
export const tanhTableS8 = (inScale: number, inZp: number): number[] => sigmoidTableS8(inScale, inZp, true);

/** DownScaleInt32ToInt16Multiplier. */
const downscale16 = (m: number): number => (m >= I32_MAX - (1 << 15) ? I16_MAX : Math.floor((m + (1 << 15)) / 65536));
const saturatingLeftShift16 = (v: number, amount: number): number => Math.min(I16_MAX, Math.max(I16_MIN, v * 2 ** amount));

/** TFLM's int8 HARD_SWISH (hard_swish_common.cc Prepare, reference_ops::HardSwish on int16 intermediates); null
 *  where TFLM's Prepare refuses (an output scale below 1/128 of the input's). */
export function hardSwishTableS8(inScale: number, inZp: number, outScale: number, outZp: number): number[] | null {
  const f = Math.fround;
  const hires = f(f(1 / 128) * f(inScale));
  const [outM, outExp] = quantizeMultiplier(f(hires / f(outScale)));
  if (outExp > 0) return null;
  const [reluM, reluExp] = quantizeMultiplier(f(hires / f(3 / 32768)));
  const out16 = downscale16(outM);
  const relu16 = downscale16(reluM);
  return Array.from({ length: 256 }, (_, i) => {
    const hi = wrap16((i - 128 - inZp) * 128);
    const pre = srdhm16(hi, out16);
    let r = hi;
    if (reluExp > 0) r = saturatingLeftShift16(r, reluExp - 1);
    r = srdhm16(r, relu16);
    if (reluExp > 0) r = saturatingLeftShift16(r, 1);
    if (reluExp < 0) r = roundingDivideByPOT(r, -reluExp);
    r = (r + (1 << 15)) >> 1;
    // SaturatingDoublingHighMul: no rounding nudge.
    const product = r === I16_MIN && pre === I16_MIN ? I16_MAX : wrap16(Math.trunc((r * pre) / (1 << 15)));
    return clamp8(wrap16(roundingDivideByPOT(product, -outExp) + outZp));
  });
}

/** TFLM's int16 sigmoid/tanh lookup table (`sigmoid_table_uint16`): 65536·sigmoid(i/24), i = 0..255, each raised by
 *  half the midpoint sag of the segment to its right (the error linear interpolation over that segment makes, split
 *  between both sides), rounded; the last entry is the largest uint16. Equal to TFLM's table entry for entry (the
 *  int8 LSTM test compares the outputs bit for bit). */
export function sigmoidTableU16(): number[] {
  const f = (x: number): number => 65536 / (1 + Math.exp(-x / 24));
  return Array.from({ length: 256 }, (_, i) => (i === 255 ? 65535 : Math.min(65535, Math.round(f(i) + (f(i + 0.5) - (f(i) + f(i + 1)) / 2) / 2))));
}

/** TFLM's int16 LOGISTIC/TANH input scaling (logistic_common.cc, tanh.cc Prepare): a power-of-two input scale that
 *  already gives Q3.12 (LOGISTIC: exactly; TANH: or one bit more) uses multiplier 3 << shift; otherwise the scale
 *  times 3·4096, doubled until above 32767/2, truncated. Returns [multiplier, right shift] as the kernel applies them. */
export function int16SigmoidScaling(inScale: number, tanh: boolean): [number, number] {
  const log2 = Math.log(inScale) * (1 / Math.log(2));
  const rounded = Math.round(log2);
  const leftShift = 12 + rounded;
  const pot = Math.abs(log2 - rounded) < 1e-3 && (leftShift === 0 || (tanh && leftShift === 1));
  if (pot) return [3 * 2 ** leftShift, 0];
  let m = inScale * 4096 * 3;
  let shift = 0;
  while (m <= 32767 / 2 && shift <= 30) { shift++; m *= 2; }
  return [Math.trunc(m), shift];
}

/** TFLM's int8 SOFTMAX (softmax_common.cc Prepare, reference_ops::Softmax): the input difference from the row's
 *  maximum, −d for d = 0..255, scaled by PreprocessSoftmaxScaling's multiplier (β · input scale · 2^26, 5 integer
 *  bits) and raised by gemmlowp's exp_on_negative_values; a table of those exponentials (Q0.31), and diff_min
 *  (CalculateInputRadius), below which TFLM leaves an input out of the sum and writes the output's minimum. */
export function softmaxExpTable(inScale: number, beta: number): { table: number[]; diffMin: number; mult: number; shift: number } {
  const [mult, shift] = quantizeMultiplier(Math.min(beta * inScale * 2 ** 26, 2 ** 31 - 1));
  const diffMin = -Math.floor((31 * 2 ** 26) / 2 ** shift);
  const table = Array.from({ length: 256 }, (_, d) => (-d < diffMin ? 0 : expOnNegativeValues(srdhm32((-d * 2 ** shift) | 0, mult), 5)));
  return { table, diffMin, mult, shift };
}

/** TFLite's LUTPopulate<int16_t> (kernels/internal/common.h, in float): 513 samples of `fn` over the input range, each
 *  nudged by half the error of linear interpolation at its midpoint, for LUTLookup's interpolation. */
function lutInt16(inScale: number, inZp: number, outScale: number, outZp: number, fn: (v: number) => number): number[] {
  const f = Math.fround;
  // TfLiteRound: std::round, half away from zero.
  const round = (v: number): number => f(roundAway(v));
  const inMin = f(inScale * (-32768 - inZp));
  const inMax = f(inScale * (32767 - inZp));
  const outMin = f(outScale * (-32768 - outZp));
  const outMax = f(outScale * (32767 - outZp));
  const steps = 512;
  const step = f(f(inMax - inMin) / steps);
  const half = f(step / 2);
  const inv = f(65536 / f(outMax - outMin));
  const clamp = (v: number): number => Math.min(Math.max(v, -32768), 32767);
  const lut: number[] = [];
  for (let i = 0; i < steps; i++) {
    const at = f(inMin + f(i * step));
    const val = fn(at);
    const mid = fn(f(at + half));
    const next = fn(f(inMin + f((i + 1) * step)));
    const sample = round(f(val * inv));
    const interp = round(f(f(f(next * inv) + round(f(val * inv))) / 2));
    const bias = round(f(f(interp - round(f(mid * inv))) / 2));
    lut.push(clamp(f(sample - bias)));
  }
  lut.push(clamp(round(f(fn(inMax) * inv))));
  return lut;
}

/** TFLM's int8 ABS and RSQRT (elementwise.cc) as tables of the 256 input codes. ABS: |x − zp| as is when both scales
 *  are equal, else rescaled by the ratio of the scales (computed in float). RSQRT: 1/√(x − zp) from the integer
 *  inverse square root, shifted 20 bits up and down around the output rescaling 1/(√s_in · s_out); a difference of 0
 *  gives 127. TFLM refuses an input below the zero point (the table holds 127 there too). */
export function absRsqrtTableS8(rsqrt: boolean, inScale: number, inZp: number, outScale: number, outZp: number): number[] {
  const f = Math.fround;
  const clamp = (v: number): number => Math.min(127, Math.max(-128, v));
  const rescale = f(inScale) !== f(outScale);
  const [m, s] = rsqrt ? quantizeMultiplier(1 / f(f(Math.sqrt(f(inScale))) * f(outScale))) : rescale ? quantizeMultiplier(f(f(inScale) / f(outScale))) : [0, 0];
  return Array.from({ length: 256 }, (_, i) => {
    const v = i - 128 - inZp;
    if (!rsqrt) return clamp((rescale ? multiplyByQuantizedMultiplier(Math.abs(v), m, s) : Math.abs(v)) + outZp);
    if (v <= 0) return 127;
    const [im, is] = invSqrtMultiplier(v);
    const data = multiplyByQuantizedMultiplier(1, im, is + 20);
    return clamp(multiplyByQuantizedMultiplier(data, m, s - 20) + outZp);
  });
}

/** TFLM's int16 SOFTMAX (softmax_common.cc): its two tables, the same for every model (exp on [−10, 0] and
 *  1/(1 + x) on [0, 1], computed in float as TFLM's Prepare does), and the input rescaling that maps a difference of
 *  −65535 to −10 (QuantizeMultiplier of input scale · β / (10 / 65535), in double). */
export function softmaxInt16Params(inScale: number, beta: number): { expLut: number[]; recipLut: number[]; mult: number; shift: number } {
  const f = Math.fround;
  const range = 65535;
  const expLut = lutInt16(f(10 / range), 32767, f(2 / range), 0, (v) => f(Math.exp(v)));
  const recipLut = lutInt16(f(1 / range), -32768, f(2 / range), 0, (v) => f(1 / f(1 + v)));
  const [mult, shift] = quantizeMultiplier((f(inScale) * f(beta)) / (10 / 65535));
  return { expLut, recipLut, mult, shift };
}

/** TFLM's int8 LOG_SOFTMAX Prepare (PreprocessLogSoftmaxScalingExp): the softmax's input scaling and table, and the
 *  reverse scaling (2^(31 − shift) / multiplier as a Q31 multiplier and a right shift) that bounds the differences
 *  kept. */
export function logSoftmaxParams(inScale: number): ReturnType<typeof softmaxExpTable> & { revMult: number; revShift: number } {
  const s = softmaxExpTable(inScale, 1);
  const [revMult, revShift] = quantizeMultiplier(2 ** (31 - s.shift) / s.mult);
  return { ...s, revMult, revShift };
}
