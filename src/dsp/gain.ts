/**
 * Fast dB ↔ linear conversions for the per-sample path. Math.log and
 * Math.exp cost ~8–10 ns each in V8 on small CPUs, more than the rest of a
 * stereo frame, so the hot loop works in the log2 domain with short
 * polynomials instead. Accuracy: |error| < 1e-6 dB, far below what the
 * 0.1 dB meters or anyone's ears resolve. kernel.ts's dbToGain/gainToDb
 * stay the reference for setup-time work.
 */

/** dB per octave of amplitude: 20·log10(2). */
export const DB_PER_LOG2 = 20 * Math.log10(2);
/** log2 of gain per dB: 1 / DB_PER_LOG2. */
export const LOG2_PER_DB = 1 / DB_PER_LOG2;

const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);
// The word order of a float64 in memory; x86 and ARM are little-endian but
// stay correct anywhere.
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const SQRT2 = Math.SQRT2;
// 2/ln2 · t^(2k+1)/(2k+1): the atanh series of ln(m) = 2·atanh((m−1)/(m+1)).
const L1 = 2 / Math.LN2, L3 = L1 / 3, L5 = L1 / 5, L7 = L1 / 7, L9 = L1 / 9;

/**
 * log2(x) for a positive, normal, finite x (callers guarantee it: the
 * detector only asks for levels above −240 dB).
 */
export function fastLog2(x: number): number {
  bits[0] = x;
  const hi = words[HI]!;
  let e = (hi >>> 20) - 1023;
  // Keep the mantissa, force the exponent to 0: m in [1, 2).
  words[HI] = (hi & 0x000fffff) | 0x3ff00000;
  let m = bits[0]!;
  // Centre on 1 so the series argument stays within ±0.172.
  if (m > SQRT2) { m *= 0.5; e += 1; }
  const t = (m - 1) / (m + 1);
  const t2 = t * t;
  return e + t * (L1 + t2 * (L3 + t2 * (L5 + t2 * (L7 + t2 * L9))));
}

const EXP2_RANGE = 120;
const POW2 = new Float64Array(2 * EXP2_RANGE + 1);
for (let n = -EXP2_RANGE; n <= EXP2_RANGE; n++) POW2[n + EXP2_RANGE] = 2 ** n;
// Taylor terms of e^(f·ln2) for |f| ≤ 0.5: the 8th-order remainder is < 6e-9.
const LN2 = Math.LN2;
const E1 = LN2, E2 = LN2 ** 2 / 2, E3 = LN2 ** 3 / 6, E4 = LN2 ** 4 / 24;
const E5 = LN2 ** 5 / 120, E6 = LN2 ** 6 / 720, E7 = LN2 ** 7 / 5040;

/** 2^x, saturating at 2^±120 (a gain of −722 dB is silence anyway). */
export function fastExp2(x: number): number {
  if (!(x > -EXP2_RANGE)) x = -EXP2_RANGE; // also catches NaN
  else if (x > EXP2_RANGE) x = EXP2_RANGE;
  // |0 keeps the table index an int32 for V8's fast typed-array path.
  const n = Math.floor(x + 0.5) | 0;
  const f = x - n;
  const p = 1 + f * (E1 + f * (E2 + f * (E3 + f * (E4 + f * (E5 + f * (E6 + f * E7))))));
  return p * POW2[n + EXP2_RANGE]!;
}

export function fastDbToGain(db: number): number {
  return fastExp2(db * LOG2_PER_DB);
}

/** Linear amplitude (> 0, normal) → dB. */
export function fastGainToDb(gain: number): number {
  return fastLog2(gain) * DB_PER_LOG2;
}
