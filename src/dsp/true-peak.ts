/**
 * True-peak (inter-sample peak) detection, ITU-R BS.1770 style: the signal
 * is upsampled 4× by a band-limited polyphase FIR and the peak is taken
 * over the upsampled points. Phase 0 of the filter is the sample itself
 * (the filter is a windowed sinc whose zeros fall on the original samples),
 * so only phases ¼, ½ and ¾ are computed.
 *
 * The filter is our own design: 16 taps per phase (BS.1770's example has
 * 12, whose response sags by 1–2 dB near 20 kHz, so a cymbal's inter-sample
 * peaks were missed by 0.5 dB), sinc × Kaiser window (β = KAISER_BETA)
 * spanning ±HALF samples, each phase normalised to unity gain at DC: flat
 * within 0.03 dB to 20 kHz at 48 kHz (0.8 dB down at 21 kHz). For the
 * interpolated points between samples m and m+1 it reads a_j = x[m+j] and
 * b_j = x[m+1−j], j = 1…HALF. With u_j = h(j − ¼), v_j = h(j − ¾),
 * w_j = h(j − ½) (h even):
 *   y¼ = Σ a·u + b·v,   y¾ = Σ a·v + b·u,   y½ = Σ (a + b)·w.
 * Writing P = Σ (a+b)(u+v) and Q = Σ (a−b)(u−v), y¼ = (P+Q)/2 and
 * y¾ = (P−Q)/2, so max(|y¼|, |y¾|) = (|P| + |Q|)/2: 3·HALF multiply-adds
 * per channel and frame instead of 6·HALF, and no comparison between phases.
 */

/** Taps per phase / 2: the filter spans ±HALF input samples. */
const HALF = 8;
const KAISER_BETA = 4;
/** Samples of history the interpolator reads behind the newest one. */
export const TRUE_PEAK_HISTORY = 2 * HALF - 1;
/** The interpolated points of the newest frame lie between frames newest−HALF and newest−HALF+1. */
export const TRUE_PEAK_DELAY = HALF;

function besselI0(x: number): number {
  let sum = 1, term = 1;
  for (let k = 1; k < 50; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return sum;
}

/** The prototype: sinc(τ)·Kaiser(τ/HALF), τ in input samples. */
function prototype(tau: number): number {
  const r = tau / HALF;
  if (Math.abs(r) >= 1) return 0;
  const sinc = tau === 0 ? 1 : Math.sin(Math.PI * tau) / (Math.PI * tau);
  return sinc * besselI0(KAISER_BETA * Math.sqrt(1 - r * r)) / besselI0(KAISER_BETA);
}

/** One phase's 2·HALF taps (j = 1−HALF…HALF at offset φ), normalised to a DC gain of 1. */
function phaseTaps(phase: number): number[] {
  const taps: number[] = [];
  for (let j = -HALF + 1; j <= HALF; j++) taps.push(prototype(j - phase));
  const sum = taps.reduce((s, t) => s + t, 0);
  return taps.map((t) => t / sum);
}

const QUARTER = phaseTaps(0.25), HALFWAY = phaseTaps(0.5), THREE_QUARTER = phaseTaps(0.75);
// Tap for a_j (x[m+j], j = 1…HALF) sits at index j + HALF − 1; for b_j (x[m+1−j]) at HALF − j.
const at = (taps: number[], j: number): number => taps[j + HALF - 1]!;
/** (u + v)_j, (u − v)_j and w_j for j = 1…HALF (index j − 1). */
export const TP_SUM = new Float64Array(HALF);
export const TP_DIFF = new Float64Array(HALF);
export const TP_MID = new Float64Array(HALF);
for (let j = 1; j <= HALF; j++) {
  const u = at(QUARTER, j), v = at(THREE_QUARTER, j);
  TP_SUM[j - 1] = u + v;
  TP_DIFF[j - 1] = u - v;
  TP_MID[j - 1] = at(HALFWAY, j);
}

/**
 * The largest gain any phase applies to a signal bounded by 1 (Σ|taps|):
 * a block whose samples stay below limit / TRUE_PEAK_BOUND cannot have an
 * inter-sample peak above limit, so the FIR can be skipped for it.
 */
export const TRUE_PEAK_BOUND = Math.max(...[QUARTER, HALFWAY, THREE_QUARTER].map((t) => t.reduce((s, x) => s + Math.abs(x), 0)));

/** The taps of phase φ ∈ {¼, ½, ¾} (for tests and docs). */
export function truePeakTaps(phase: 0.25 | 0.5 | 0.75): readonly number[] {
  return phase === 0.25 ? QUARTER : phase === 0.5 ? HALFWAY : THREE_QUARTER;
}


/**
 * peaks[i] = max(peaks[i], the largest |value| of the three interpolated
 * points between x[k−HALF] and x[k−HALF+1]) for k = from + i, i < n;
 * x[from − TRUE_PEAK_HISTORY …] must exist. Written out for HALF = 8 with
 * the taps in locals (a loop over the taps with their loads measured 2×
 * slower), and as one loop, not a per-frame call: a call's double result
 * is boxed on the heap whenever V8 declines to inline it.
 */
export function accumulateInterSamplePeaks(x: Float64Array, from: number, n: number, peaks: Float64Array): void {
  const S1 = TP_SUM[0]!, S2 = TP_SUM[1]!, S3 = TP_SUM[2]!, S4 = TP_SUM[3]!, S5 = TP_SUM[4]!, S6 = TP_SUM[5]!, S7 = TP_SUM[6]!, S8 = TP_SUM[7]!;
  const D1 = TP_DIFF[0]!, D2 = TP_DIFF[1]!, D3 = TP_DIFF[2]!, D4 = TP_DIFF[3]!, D5 = TP_DIFF[4]!, D6 = TP_DIFF[5]!, D7 = TP_DIFF[6]!, D8 = TP_DIFF[7]!;
  const M1 = TP_MID[0]!, M2 = TP_MID[1]!, M3 = TP_MID[2]!, M4 = TP_MID[3]!, M5 = TP_MID[4]!, M6 = TP_MID[5]!, M7 = TP_MID[6]!, M8 = TP_MID[7]!;
  for (let i = 0; i < n; i++) {
    // a_j = x[m+j], b_j = x[m+1−j] with m = k − HALF
    const m = from + i - HALF;
    const a1 = x[m + 1]!, b1 = x[m]!, s1 = a1 + b1;
    const a2 = x[m + 2]!, b2 = x[m - 1]!, s2 = a2 + b2;
    const a3 = x[m + 3]!, b3 = x[m - 2]!, s3 = a3 + b3;
    const a4 = x[m + 4]!, b4 = x[m - 3]!, s4 = a4 + b4;
    const a5 = x[m + 5]!, b5 = x[m - 4]!, s5 = a5 + b5;
    const a6 = x[m + 6]!, b6 = x[m - 5]!, s6 = a6 + b6;
    const a7 = x[m + 7]!, b7 = x[m - 6]!, s7 = a7 + b7;
    const a8 = x[m + 8]!, b8 = x[m - 7]!, s8 = a8 + b8;
    const p = S1 * s1 + S2 * s2 + S3 * s3 + S4 * s4 + S5 * s5 + S6 * s6 + S7 * s7 + S8 * s8;
    const q = D1 * (a1 - b1) + D2 * (a2 - b2) + D3 * (a3 - b3) + D4 * (a4 - b4) + D5 * (a5 - b5) + D6 * (a6 - b6) + D7 * (a7 - b7) + D8 * (a8 - b8);
    const mid = M1 * s1 + M2 * s2 + M3 * s3 + M4 * s4 + M5 * s5 + M6 * s6 + M7 * s7 + M8 * s8;
    // max of (|p| + |q|)/2, |mid| and the peak so far, without branches.
    const outer = 0.5 * (Math.abs(p) + Math.abs(q)), am = Math.abs(mid);
    const top = 0.5 * (outer + am + Math.abs(outer - am)), prev = peaks[i]!;
    peaks[i] = 0.5 * (top + prev + Math.abs(top - prev));
  }
}

/**
 * The limiter's detector runs the same interpolation in float32
 * arithmetic: the WebAssembly kernel then takes four frames per vector
 * instead of two (the FIR was two thirds of the working limiter's cost).
 * Its difference from the float64 interpolator is < 1e-4 dB (2.3e-5 dB the
 * largest seen on 1.6 million random points, test/dsp/strip-wasm-limiter),
 * far inside the 0.1 dB the limiter keeps the true peak to. Samples are clamped to ±TP_RANGE_32
 * first, so float32 cannot overflow (a sample that large is reduced to the
 * ceiling all the same). TRUE_PEAK_BOUND_32 bounds what the float32
 * arithmetic can give (Σ|taps| and a margin far above its rounding).
 */
export const TP_RANGE_32 = 2 ** 100;
export const TRUE_PEAK_BOUND_32 = TRUE_PEAK_BOUND * (1 + 2 ** -12);

/**
 * x32[k] = x[k] clamped to ±TP_RANGE_32, as float32, for k in [from − TRUE_PEAK_HISTORY − 1, from + n):
 * the window accumulateInterSamplePeaks32 reads (one frame more than it needs, so the kernel converts pairs).
 */
export function toFloat32Window(x: Float64Array, from: number, n: number, x32: Float32Array): void {
  const r = TP_RANGE_32;
  for (let k = from - TRUE_PEAK_HISTORY - 1; k < from + n; k++) {
    const v = x[k]!;
    x32[k] = v > r ? r : v < -r ? -r : v;
  }
}

/**
 * accumulateInterSamplePeaks in float32 arithmetic, on x32 as
 * toFloat32Window left it: every operation rounded to float32 (Math.fround
 * of a float64 operation on float32 values is the float32 operation), in
 * the order the WebAssembly kernel's f32x4 lanes do them; the fold into
 * peaks stays float64. The maxima are exact (ternaries, the kernel's
 * pmax), not accumulateInterSamplePeaks' branch-free max2: in the kernel
 * a max is one instruction, max2 five.
 */
export function accumulateInterSamplePeaks32(x32: Float32Array, from: number, n: number, peaks: Float64Array): void {
  const f = Math.fround;
  const S1 = f(TP_SUM[0]!), S2 = f(TP_SUM[1]!), S3 = f(TP_SUM[2]!), S4 = f(TP_SUM[3]!), S5 = f(TP_SUM[4]!), S6 = f(TP_SUM[5]!), S7 = f(TP_SUM[6]!), S8 = f(TP_SUM[7]!);
  const D1 = f(TP_DIFF[0]!), D2 = f(TP_DIFF[1]!), D3 = f(TP_DIFF[2]!), D4 = f(TP_DIFF[3]!), D5 = f(TP_DIFF[4]!), D6 = f(TP_DIFF[5]!), D7 = f(TP_DIFF[6]!), D8 = f(TP_DIFF[7]!);
  const M1 = f(TP_MID[0]!), M2 = f(TP_MID[1]!), M3 = f(TP_MID[2]!), M4 = f(TP_MID[3]!), M5 = f(TP_MID[4]!), M6 = f(TP_MID[5]!), M7 = f(TP_MID[6]!), M8 = f(TP_MID[7]!);
  for (let i = 0; i < n; i++) {
    const m = from + i - HALF;
    const a1 = x32[m + 1]!, b1 = x32[m]!, s1 = f(a1 + b1), d1 = f(a1 - b1);
    const a2 = x32[m + 2]!, b2 = x32[m - 1]!, s2 = f(a2 + b2), d2 = f(a2 - b2);
    const a3 = x32[m + 3]!, b3 = x32[m - 2]!, s3 = f(a3 + b3), d3 = f(a3 - b3);
    const a4 = x32[m + 4]!, b4 = x32[m - 3]!, s4 = f(a4 + b4), d4 = f(a4 - b4);
    const a5 = x32[m + 5]!, b5 = x32[m - 4]!, s5 = f(a5 + b5), d5 = f(a5 - b5);
    const a6 = x32[m + 6]!, b6 = x32[m - 5]!, s6 = f(a6 + b6), d6 = f(a6 - b6);
    const a7 = x32[m + 7]!, b7 = x32[m - 6]!, s7 = f(a7 + b7), d7 = f(a7 - b7);
    const a8 = x32[m + 8]!, b8 = x32[m - 7]!, s8 = f(a8 + b8), d8 = f(a8 - b8);
    const p = f(f(f(f(f(f(f(f(S1 * s1) + f(S2 * s2)) + f(S3 * s3)) + f(S4 * s4)) + f(S5 * s5)) + f(S6 * s6)) + f(S7 * s7)) + f(S8 * s8));
    const q = f(f(f(f(f(f(f(f(D1 * d1) + f(D2 * d2)) + f(D3 * d3)) + f(D4 * d4)) + f(D5 * d5)) + f(D6 * d6)) + f(D7 * d7)) + f(D8 * d8));
    const mid = f(f(f(f(f(f(f(f(M1 * s1) + f(M2 * s2)) + f(M3 * s3)) + f(M4 * s4)) + f(M5 * s5)) + f(M6 * s6)) + f(M7 * s7)) + f(M8 * s8));
    const outer = f(0.5 * f(Math.abs(p) + Math.abs(q))), am = Math.abs(mid);
    const top = outer < am ? am : outer, prev = peaks[i]!;
    peaks[i] = prev < top ? top : prev;
  }
}
