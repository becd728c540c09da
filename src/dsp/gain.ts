/**
 * Fast dB → linear conversion for the per-sample path. Math.exp/Math.pow
 * cost ~10 ns (pow ~45 ns) in V8 here; 2^x as a quadratic times two
 * table entries costs a fraction of that. Accuracy: |error| < 1e-9 dB, far
 * below what the 0.1 dB meters or anyone's ears resolve. kernel.ts's
 * dbToGain stays the reference for setup-time work.
 *
 * The detector's log2 is the other per-sample cost (Math.log2 ≈ 8 ns, a
 * C call V8 does not inline). fastLog2 reads the bits of the double
 * through a Float64Array/Int32Array alias: ≈ 1.7 ns against 4 ns for a
 * Math.clz32 version and 8 ns for Math.log2 (measured; an earlier alias
 * version that also wrote bits back and divided was slower than Math.log2,
 * which is what the store-back costs, not the alias).
 */

/** dB per octave of amplitude: 20·log10(2). */
export const DB_PER_LOG2 = 20 * Math.log10(2);
/** log2 of gain per dB: 1 / DB_PER_LOG2. */
export const LOG2_PER_DB = 1 / DB_PER_LOG2;

const EXP2_RANGE = 120;
/** 2^x is split as 2^(m/1024) · 2^r with m whole and |r| ≤ 1/2048. */
const EXP2_BITS = 10;
const EXP2_STEPS = 1 << EXP2_BITS;
const POW2 = new Float64Array(2 * EXP2_RANGE + 1);
for (let n = -EXP2_RANGE; n <= EXP2_RANGE; n++) POW2[n + EXP2_RANGE] = 2 ** n;
const POW2_FRAC = new Float64Array(EXP2_STEPS);
for (let j = 0; j < EXP2_STEPS; j++) POW2_FRAC[j] = 2 ** (j / EXP2_STEPS);
/** Added before truncating to int: keeps the argument positive, so `| 0` floors (no Math.floor). */
const EXP2_BIAS = EXP2_RANGE * EXP2_STEPS;
// Taylor terms of e^(r·ln2): with |r·ln2| ≤ 3.4e-4 the cubic term left out is
// < 7e-12. The finer table keeps the polynomial to two multiply-adds.
const LN2 = Math.LN2;
const E1 = LN2, E2 = LN2 ** 2 / 2;

/** 2^x, saturating at 2^±120 (a gain of −722 dB is silence anyway). */
export function fastExp2(x: number): number {
  if (!(x > -EXP2_RANGE)) x = -EXP2_RANGE; // also catches NaN
  else if (x > EXP2_RANGE) x = EXP2_RANGE;
  const m = ((x * EXP2_STEPS + (EXP2_BIAS + 0.5)) | 0) - EXP2_BIAS;
  const r = x - m * (1 / EXP2_STEPS);
  const p = 1 + r * (E1 + r * E2);
  return p * POW2[(m >> EXP2_BITS) + EXP2_RANGE]! * POW2_FRAC[m & (EXP2_STEPS - 1)]!;
}

export function fastDbToGain(db: number): number {
  return fastExp2(db * LOG2_PER_DB);
}

const LOG2_BITS = 10;
const LOG2_SIZE = 1 << LOG2_BITS;
/** log2(1 + k/LOG2_SIZE), with one spare entry for the interpolation at k = LOG2_SIZE − 1. */
const LOG2_TABLE = new Float64Array(LOG2_SIZE + 2);
for (let k = 0; k < LOG2_SIZE + 2; k++) LOG2_TABLE[k] = Math.log2(1 + k / LOG2_SIZE);
/** One double seen as two int32 words: the high word holds sign, exponent and the top 20 mantissa bits. */
const F64 = new Float64Array(1);
const I32 = new Int32Array(F64.buffer);
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const FRAC_SCALE = 1 / (1 << (20 - LOG2_BITS));
const FRAC_MASK = (1 << (20 - LOG2_BITS)) - 1;

/**
 * log2(x) for x > 0, from the bits of x: the exponent field is the octave,
 * the top 10 mantissa bits index the table and the next 10 interpolate.
 * |error| < 2e-6 octave (1e-5 dB). No branch and no float→int conversion;
 * x = 0 gives −1023 and +∞ gives 1024 (finite, unlike Math.log2).
 */
export function fastLog2(x: number): number {
  F64[0] = x;
  const hi = I32[HI]!;
  const k = (hi >> (20 - LOG2_BITS)) & (LOG2_SIZE - 1);
  const a = LOG2_TABLE[k]!;
  return ((hi >> 20) & 0x7ff) - 1023 + a + (hi & FRAC_MASK) * FRAC_SCALE * (LOG2_TABLE[k + 1]! - a);
}

/**
 * The tables and constants behind fastExp2 and fastLog2, for the
 * WebAssembly kernel (stereo-wasm.ts), which must compute exactly what
 * these functions compute: it copies the tables into its memory.
 */
export const FAST_MATH = {
  log2Table: LOG2_TABLE, log2Bits: LOG2_BITS, fracScale: FRAC_SCALE, fracMask: FRAC_MASK,
  pow2: POW2, pow2Frac: POW2_FRAC, exp2Range: EXP2_RANGE, exp2Bits: EXP2_BITS, exp2Steps: EXP2_STEPS, exp2Bias: EXP2_BIAS,
  e1: E1, e2: E2,
} as const;
