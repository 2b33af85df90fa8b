// gemmlowp's fixed-point arithmetic (fixedpoint/fixedpoint.h) on scalar int32 and int16 raw values, as TFLM's
// reference kernels use it: the rounding high multiply and shifts of every requantization, and the exp, logistic and
// tanh that TFLM's int8 LOGISTIC and TANH compute with (quant.ts turns those into tables).
// A fixed-point value is its raw integer; the number of integer bits is the caller's bookkeeping, as in the templates.

const I32_MIN = -2147483648;
const I32_MAX = 2147483647;
const I16_MIN = -32768;
const I16_MAX = 32767;
const wrap32 = (x: number): number => x | 0;
export const wrap16 = (x: number): number => (x << 16) >> 16;

/** SaturatingRoundingDoublingHighMul on int32: (a·b + nudge) / 2^31, truncated; −2^31·−2^31 saturates. */
export function srdhm32(a: number, b: number): number {
  if (a === I32_MIN && b === I32_MIN) return I32_MAX;
  const ab = BigInt(a) * BigInt(b);
  return Number((ab + (ab >= 0n ? 1n << 30n : 1n - (1n << 30n))) / (1n << 31n));
}

/** The same on int16 (one 32-bit product, / 2^15 truncated). */
export function srdhm16(a: number, b: number): number {
  if (a === I16_MIN && b === I16_MIN) return I16_MAX;
  const ab = a * b;
  return wrap16(Math.trunc((ab + (ab >= 0 ? 1 << 14 : 1 - (1 << 14))) / (1 << 15)));
}

/** RoundingDivideByPOT: arithmetic right shift by `e` (0..31), rounding half away from zero. */
export function roundingDivideByPOT(x: number, e: number): number {
  const mask = wrap32(2 ** e - 1);
  const remainder = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> e) + (remainder > threshold ? 1 : 0);
}

/** SaturatingRoundingMultiplyByPOT<e> on int32: a saturating left shift for e > 0, a rounding right shift for e < 0. */
function mulByPOT(x: number, e: number): number {
  if (e < 0) return roundingDivideByPOT(x, -e);
  if (e === 0) return x;
  const threshold = 2 ** (31 - e) - 1;
  if (x > threshold) return I32_MAX;
  if (x < -threshold) return I32_MIN;
  return wrap32(x * 2 ** e);
}

const add = (a: number, b: number): number => wrap32(a + b);
const sub = (a: number, b: number): number => wrap32(a - b);
/** RoundingHalfSum on int32: (a + b ± 1) / 2 in 64 bits, truncated. */
const halfSum = (a: number, b: number): number => { const s = a + b; return Math.trunc((s + (s >= 0 ? 1 : -1)) / 2); };

/** exp(a) for a in [−1/4, 0), a with 0 integer bits (a Taylor expansion around −1/8). */
function expQuarter(a: number): number {
  const constantTerm = 1895147668;
  const oneThird = 715827883;
  const x = add(a, 1 << 28);
  const x2 = srdhm32(x, x);
  const x3 = srdhm32(x2, x);
  const x4 = srdhm32(x2, x2);
  const x4Over4 = mulByPOT(x4, -2);
  const tail = mulByPOT(add(srdhm32(add(x4Over4, x3), oneThird), x2), -1);
  return add(constantTerm, srdhm32(constantTerm, add(x, tail)));
}

/** Multipliers exp(−2^k) for k = −2..4 of gemmlowp's barrel shifter. */
const EXP_BARREL: [number, number][] = [[-2, 1672461947], [-1, 1302514674], [0, 790015084], [1, 290630308], [2, 39332535], [3, 720401], [4, 242]];

/** exp(a) for a ≤ 0 with `intBits` integer bits; the result has 0 integer bits. */
export function expOnNegativeValues(a: number, intBits: number): number {
  const frac = 31 - intBits;
  const quarter = 1 << (frac - 2);
  const aModQuarterMinusQuarter = sub(a & (quarter - 1), quarter);
  let result = expQuarter(mulByPOT(aModQuarterMinusQuarter, intBits));
  const remainder = sub(aModQuarterMinusQuarter, a);
  for (const [k, multiplier] of EXP_BARREL) {
    if (intBits > k && (remainder & (1 << (frac + k))) !== 0) result = srdhm32(result, multiplier);
  }
  if (intBits > 5 && a < -(2 ** (36 - intBits))) result = 0;
  return a === 0 ? I32_MAX : result;
}

/** Newton–Raphson 1/(1 + a) (or (1 − a)/(1 + a)) for a in (0, 1), both with 0 integer bits. */
function reciprocalOnePlus(a: number, oneMinus: boolean): number {
  const halfDenominator = halfSum(a, I32_MAX);
  const two = 1 << 29; // 1 with 2 integer bits
  let x = add(1515870810, srdhm32(halfDenominator, -1010580540));
  for (let i = 0; i < 3; i++) {
    const oneMinusHdx = sub(two, srdhm32(halfDenominator, x));
    x = add(x, mulByPOT(srdhm32(x, oneMinusHdx), 2));
  }
  return oneMinus ? mulByPOT(sub(x, two), 2) : mulByPOT(x, 1);
}

/** gemmlowp::logistic: input with `intBits` integer bits, result with 0. */
export function logistic(a: number, intBits: number): number {
  if (a === 0) return 1 << 30;
  const positive = a > 0;
  const onPositive = reciprocalOnePlus(expOnNegativeValues(wrap32(positive ? -a : a), intBits), false);
  return positive ? onPositive : sub(I32_MAX, onPositive);
}

/** gemmlowp::tanh: input with `intBits` integer bits, result with 0. */
export function tanh(a: number, intBits: number): number {
  if (a === 0) return 0;
  const negative = a < 0;
  const t = reciprocalOnePlus(expOnNegativeValues(negative ? a : wrap32(-a), intBits + 1), true);
  return negative ? wrap32(-t) : t;
}

/** C's frexp for finite x > 0: x = q · 2^e with q in [0.5, 1). */
export function frexp(x: number): [number, number] {
  let e = Math.floor(Math.log2(x)) + 1;
  let q = x / 2 ** e;
  while (q >= 1) { q /= 2; e++; }
  while (q < 0.5) { q *= 2; e--; }
  return [q, e];
}

/** TFLite's GetInvSqrtQuantizedMultiplierExp (reverse shift −1): 1/√input as a Q31 multiplier and a left shift,
 *  by gemmlowp's five Newton-Raphson steps with 3 integer bits. */
export function invSqrtMultiplier(input: number): [number, number] {
  if (input <= 1) return [I32_MAX, 0];
  let shift = 11;
  while (input >= 2 ** 29) { input = Math.trunc(input / 4); shift++; }
  const pairs = Math.floor((Math.clz32(input) - 1) / 2) - 1;
  shift -= pairs;
  input = wrap32(input * 2 ** (2 * pairs));
  const fx = input >> 1;
  const halfInput = mulByPOT(fx, -1);
  const halfThree = (1 << 28) + (1 << 27);
  let x = 1 << 28;
  for (let i = 0; i < 5; i++) {
    const x3 = mulByPOT(srdhm32(srdhm32(x, x), x), 6);
    x = mulByPOT(sub(srdhm32(halfThree, x), srdhm32(halfInput, x3)), 3);
  }
  let m = srdhm32(x, 1518500250);
  if (shift < 0) { m = wrap32(m * 2 ** -shift); shift = 0; }
  return [m, -shift];
}

/** TFLite MultiplyByQuantizedMultiplier (int32): rounding-doubling high multiply, then rounding right shift; the
 *  generated C's mm_mbqm computes the same. */
export function multiplyByQuantizedMultiplier(x: number, multiplier: number, shift: number): number {
  const left = shift > 0 ? shift : 0;
  return roundingDivideByPOT(srdhm32(wrap32(x * 2 ** left), multiplier), shift > 0 ? 0 : -shift);
}
