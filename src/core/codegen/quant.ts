// Fixed-point parameters computed at export time, as TFLite/TFLM compute them in their Prepare functions.

/** x = q · 2^e with q in [0.5, 1) (C's frexp), for finite x > 0. */
function frexp(x: number): [number, number] {
  let e = Math.floor(Math.log2(x)) + 1;
  let q = x / 2 ** e;
  while (q >= 1) { q /= 2; e++; }
  while (q < 0.5) { q *= 2; e--; }
  return [q, e];
}

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

/** TFLite MultiplyByQuantizedMultiplier (int32): rounding-doubling high multiply, then rounding right shift; the
 *  generated C's mm_mbqm computes the same. */
export function multiplyByQuantizedMultiplier(x: number, multiplier: number, shift: number): number {
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : -shift;
  const a = BigInt.asIntN(32, BigInt(x) << BigInt(left));
  const b = BigInt(multiplier);
  let high: number;
  if (a === -(2n ** 31n) && b === -(2n ** 31n)) high = 2 ** 31 - 1;
  else {
    const ab = a * b;
    high = Number(BigInt.asIntN(32, (ab + (ab >= 0n ? 2n ** 30n : 1n - 2n ** 30n)) / 2n ** 31n));
  }
  const mask = Number((1n << BigInt(right)) - 1n) | 0;
  const remainder = high & mask;
  const threshold = (mask >> 1) + (high < 0 ? 1 : 0);
  return (high >> right) + (remainder > threshold ? 1 : 0);
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
