/**
 * The output limiter (SPEC §2.5): a lookahead brick-wall limiter with hold
 * and smoothed attack and release, optionally on the true (inter-sample)
 * peak. docs/dsp.md derives the design; in short, for the frame entering
 * now (all channels share one gain, so limiting never shifts the image):
 *
 *   p    = max over channels of |x|, and of the 4× interpolated points
 *          (true-peak.ts) when true_peak is on
 *   need = L / max(p, L)                        ≤ 1, exactly 1 below L
 *   h    = min of need over the last W frames   (hold: W ≥ D + 1 + hold)
 *   r    = h, or h + αr·(r − h) while h > r     (instant to h, one-pole release)
 *   g    = r averaged by two moving boxes whose joint span is A frames
 *
 * and the frame that leaves (entered D frames ago) is multiplied by g.
 * Every r averaged into that g is ≤ the need of the leaving frame and of
 * the frames around it (W ≥ D + 1 and A ≤ D − TRUE_PEAK_HISTORY), so the
 * gain is already down when a peak arrives, yet reaches it along a smooth
 * S-curve instead of a step; on a steady tone whose half-period fits in
 * the hold the gain is constant, so the tone passes undistorted. A final
 * clamp at L' (L lowered by 2^-23, so even float32 rounding stays ≤ L)
 * makes "no sample above the ceiling" exact whatever rounding did.
 *
 * The delay D is always there (the limiter on or off), so switching the
 * limiter never changes the latency; it is part of the strip's latency.
 */
import { TRUE_PEAK_BOUND_32, TRUE_PEAK_HISTORY, accumulateInterSamplePeaks32, toFloat32Window } from './true-peak.js';

/** Lookahead: the limiter's part of the latency. */
export const LIMITER_LOOKAHEAD_MS = 1.5;
/** Hold after the lookahead: half a period of a 42 Hz tone, so bass passes unmodulated. */
export const LIMITER_HOLD_MS = 12;
/** One-pole release time constant after the hold. */
export const LIMITER_RELEASE_MS = 50;

/** The float64 clamp level whose float32 rounding stays ≤ ceilingGain. */
export function float32SafeLimit(ceilingGain: number): number {
  return ceilingGain * (1 - 2 ** -23);
}

/** The exact sum of a ring (taken once a block, so a running sum cannot drift). */
function sumOf(ring: Float64Array): number {
  let s = 0;
  for (let i = 0; i < ring.length; i++) s += ring[i]!;
  return s;
}

/*
 * The gain state lives in a Float64Array, not in object fields: a loop
 * that starts from a field which may hold a small integer (1, at rest)
 * kept its running value boxed in V8 (TurboFan gave the loop variable a
 * tagged representation), one heap allocation per frame — garbage in the
 * audio path. A typed-array load is always a float64.
 */
const R = 0, SUB_MIN = 1, HIST_MIN = 2, SUM1 = 3, SUM2 = 4;

/** The sizes of the limiter's state at one sample rate (the WebAssembly kernel allocates them). */
export interface LimiterShape {
  /** D */
  delayFrames: number;
  /** Frames per sub-block of the sliding minimum. */
  sub: number;
  /** Closed sub-blocks kept. */
  histLength: number;
  /** Lengths of the two moving-average rings. */
  box1: number;
  box2: number;
  /** The release's one-pole coefficient. */
  alphaRelease: number;
}

/** StereoLimiterKernel.limit()'s modes: the frame peaks only (into peaks), peaks and gains in one pass, gains from the peaks stored. */
export const LIMIT_MODE = { peaks: 0, both: 1, gains: 2 } as const;

/**
 * The limiter's per-frame work done elsewhere (the WebAssembly kernel,
 * stereo-wasm.ts) on the limiter's own state, which then lives in that
 * kernel's memory: bit-identical to compute()'s JavaScript.
 */
export interface StereoLimiterKernel {
  /** Per channel D + maxBlockFrames: the lookahead buffers. */
  readonly limiterBuffers: readonly Float64Array[];
  readonly limiterGains: Float64Array;
  readonly limiterHist: Float64Array;
  readonly limiterBox1: Float64Array;
  readonly limiterBox2: Float64Array;
  /** [r, open sub-block's minimum, history's minimum, ring sum 1, ring sum 2] */
  readonly limiterState: Float64Array;
  /** [subPos, histPos, pos1, pos2], written back by limit(). */
  readonly limiterPos: Int32Array;
  /** The frames' limits (the strip writes them here). */
  readonly limits: Float64Array;
  /**
   * compute()'s per-frame work for the n frames entering at `from` (n a
   * multiple of 4; truePeak 0 or 1): LIMIT_MODE.peaks their peaks into
   * `peaks`; .both their peaks and then the gain loop into limiterGains;
   * .gains the gain loop from the peaks .peaks left.
   */
  limit(n: number, from: number, truePeak: number, mode: number, subPos: number, histPos: number, pos1: number, pos2: number): void;
  readonly peaks: Float64Array;
}

export class LookaheadLimiter {
  /** D: frames between a sample entering and leaving. */
  readonly delayFrames: number;
  /**
   * Per channel: [0, D) hold the D frames still to leave, the block's new
   * samples are written at [D, D + n) by the caller (see inputOffset).
   */
  readonly buffers: Float64Array[];
  /** The gain of each leaving frame of the last compute(). */
  readonly gains: Float64Array;
  /** Scratch: the peak of each entering frame. */
  private readonly peaks: Float64Array;
  /** Scratch: one buffer's window as float32, for the true-peak interpolator. */
  private readonly window32: Float32Array;
  /** r, the open sub-block's minimum and the history's minimum (see above); [3, 5) scratch for the kernel. */
  private readonly state: Float64Array;
  private readonly alphaRelease: number;
  // Sliding minimum of need in sub-blocks of `sub` frames: the running
  // minimum of the open sub-block and the minima of the last `hist.length`
  // closed ones (so the window is sub·hist.length + 1 … + sub frames).
  private readonly sub: number;
  private subPos = 0;
  private readonly hist: Float64Array;
  private histPos = 0;
  // Two moving averages: rings of the last values averaged, and the write positions.
  private readonly box1: Float64Array;
  private readonly box2: Float64Array;
  private pos1 = 0;
  private pos2 = 0;
  private rest = true;
  /**
   * The peak of |buffers| over [idleFrom(truePeak), D + n), when the
   * caller has it (the WebAssembly kernel finds it faster) for the next
   * compute(); −1 when not. compute() uses it once and clears it.
   */
  readonly knownPeak = new Float64Array([-1]);
  /** False: compute() does its per-frame work in JavaScript even when the kernel is there (for the equality tests). */
  useKernel = true;

  /**
   * `kernel`: the WebAssembly kernel whose memory holds the buffers and
   * the state (stereo only), and which then does the per-frame work.
   */
  constructor(sampleRate: number, readonly channels: number, readonly maxBlockFrames: number,
    private readonly kernel: StereoLimiterKernel | null = null) {
    const shape = LookaheadLimiter.shapeAt(sampleRate);
    const d = shape.delayFrames;
    this.delayFrames = d;
    this.alphaRelease = shape.alphaRelease;
    this.sub = shape.sub;
    const k = kernel !== null && channels === 2 ? kernel : null;
    this.kernel = k;
    this.buffers = k ? [...k.limiterBuffers] : Array.from({ length: channels }, () => new Float64Array(d + maxBlockFrames));
    this.gains = k ? k.limiterGains : new Float64Array(maxBlockFrames);
    this.peaks = new Float64Array(maxBlockFrames);
    this.window32 = new Float32Array(d + maxBlockFrames);
    this.state = k ? k.limiterState : new Float64Array(5);
    this.hist = k ? k.limiterHist : new Float64Array(shape.histLength);
    this.box1 = k ? k.limiterBox1 : new Float64Array(shape.box1);
    this.box2 = k ? k.limiterBox2 : new Float64Array(shape.box2);
    this.resetGain();
  }

  /** The sizes of the state at this sample rate. */
  static shapeAt(sampleRate: number): LimiterShape {
    const d = LookaheadLimiter.delayFramesAt(sampleRate);
    const sub = sampleRate > 65000 ? 32 : 16;
    const hold = Math.round((LIMITER_HOLD_MS / 1000) * sampleRate);
    // Joint span A = a1 + a2 − 1 ≤ D − TRUE_PEAK_HISTORY: a need found by the
    // interpolator (up to 11 frames after the samples it belongs to) still
    // covers every frame the FIR looked at.
    const span = d - TRUE_PEAK_HISTORY;
    const a1 = Math.max(1, Math.ceil(span / 2));
    return {
      delayFrames: d, sub, histLength: Math.ceil((d + hold) / sub), box1: a1, box2: Math.max(1, span + 1 - a1),
      alphaRelease: Math.exp(-1 / ((LIMITER_RELEASE_MS / 1000) * sampleRate)),
    };
  }

  /** D at this sample rate. */
  static delayFramesAt(sampleRate: number): number {
    return Math.max(TRUE_PEAK_HISTORY + 2, Math.round((LIMITER_LOOKAHEAD_MS / 1000) * sampleRate));
  }

  /** Where the idle check's peak starts: the block, and with true peak the samples the interpolator reads before it. */
  idleFrom(truePeak: boolean): number {
    return truePeak ? this.delayFrames - TRUE_PEAK_HISTORY : this.delayFrames;
  }

  /** Where the caller writes the block's new samples in each buffer. */
  get inputOffset(): number {
    return this.delayFrames;
  }

  /** Clears the delayed audio and the gain state. */
  reset(): void {
    for (const b of this.buffers) b.fill(0);
    this.resetGain();
  }

  /** Back to unity gain (the audio in the delay stays). */
  resetGain(): void {
    this.state.fill(1, 0, 3);
    this.subPos = 0;
    this.hist.fill(1); this.histPos = 0;
    this.box1.fill(1); this.box2.fill(1); this.pos1 = this.pos2 = 0;
    this.rest = true;
    this.knownPeak[0] = -1;
  }

  /** True when nothing is reduced now or pending: every gain of a block under the ceiling would be exactly 1. */
  get atRest(): boolean {
    return this.rest;
  }

  /**
   * Fills gains[0, n) for the n frames leaving, given the n new samples the
   * caller has written at inputOffset and the limit (float32-safe ceiling,
   * linear) for each new frame (`limitsConstant`: all equal to limits[0]).
   * Returns true when every gain is exactly 1 and every leaving sample is
   * already within its limit (the caller may skip multiplying and
   * clamping): nothing was reduced or pending over the whole window, so
   * every frame in the delay had its peak at or under the limit.
   * `idleSkip` false runs the per-frame work even then (for the test that
   * holds the skip to be bit-identical to not skipping).
   */
  compute(n: number, nch: number, limits: Float64Array, limitsConstant: boolean, truePeak: boolean, idleSkip = true): boolean {
    const d = this.delayFrames, bufs = this.buffers;
    // Quick exit: at rest, and no sample (or, with true peak, no
    // interpolated point, bounded by the samples around it) over the limit.
    let peak = this.knownPeak[0]!;
    this.knownPeak[0] = -1;
    if (this.atRest && idleSkip) {
      if (peak < 0) {
        peak = 0;
        const from = this.idleFrom(truePeak);
        for (let c = 0; c < nch; c++) {
          const b = bufs[c]!;
          for (let i = from; i < d + n; i++) { const a = Math.abs(b[i]!); peak = peak > a ? peak : a; }
        }
      }
      let lowest = limits[0]!;
      if (!limitsConstant) for (let i = 1; i < n; i++) { const l = limits[i]!; lowest = l < lowest ? l : lowest; }
      if ((truePeak ? peak * TRUE_PEAK_BOUND_32 : peak) <= lowest) return this.idle(n);
    }
    const k = this.kernel;
    // The kernel reads the limits from its own memory, where the strip writes them.
    const inKernel = k !== null && this.useKernel && nch === 2 && (n & 3) === 0 && limits === k.limits;
    const checkRest = this.atRest && idleSkip;
    if (inKernel && !checkRest) {
      // Peaks and gains in one pass.
      this.kernelGains(k, n, truePeak, LIMIT_MODE.both);
      return false;
    }
    let peaks = this.peaks;
    if (inKernel) {
      k.limit(n, d, truePeak ? 1 : 0, LIMIT_MODE.peaks, 0, 0, 0, 0);
      peaks = k.peaks;
    } else {
      peaks.fill(0, 0, n);
      for (let c = 0; c < nch; c++) {
        const b = bufs[c]!;
        for (let i = 0; i < n; i++) {
          const a = Math.abs(b[d + i]!), q = peaks[i]!;
          peaks[i] = q < a ? a : q;
        }
        if (truePeak) {
          toFloat32Window(b, d, n, this.window32);
          accumulateInterSamplePeaks32(this.window32, d, n, peaks);
        }
      }
    }
    if (checkRest) {
      // The bound above is loose (TRUE_PEAK_BOUND_32 ≈ 2.2); with the frames'
      // peaks at hand: every need is exactly 1 when no peak passes its
      // limit, and the per-frame work would leave the state as it is.
      let over = -1;
      for (let i = 0; i < n; i++) { const e = peaks[i]! - limits[i]!; over = e > over ? e : over; }
      if (over <= 0) return this.idle(n);
    }
    if (inKernel) this.kernelGains(k, n, truePeak, LIMIT_MODE.gains);
    else this.gainLoop(n, peaks, limits);
    return false;
  }

  /** The gain loop in the kernel (mode both: with the peaks; gains: from the peaks it left). */
  private kernelGains(k: StereoLimiterKernel, n: number, truePeak: boolean, mode: number): void {
    k.limit(n, this.delayFrames, truePeak ? 1 : 0, mode, this.subPos, this.histPos, this.pos1, this.pos2);
    const pos = k.limiterPos, st = this.state;
    this.subPos = pos[0]!; this.histPos = pos[1]!; this.pos1 = pos[2]!; this.pos2 = pos[3]!;
    this.rest = st[R] === 1 && st[SUB_MIN] === 1 && st[HIST_MIN] === 1 && st[SUM1] === this.box1.length && st[SUM2] === this.box2.length;
  }

  /** The per-frame work: the gains of the n leaving frames from the peaks and limits of the n entering ones. */
  private gainLoop(n: number, peaks: Float64Array, limits: Float64Array): void {
    const g = this.gains, hist = this.hist, sub = this.sub, aR = this.alphaRelease, st = this.state;
    const r1 = this.box1, n1 = r1.length, inv1 = 1 / n1;
    const r2 = this.box2, n2 = r2.length;
    let r = st[R]!, subMin = st[SUB_MIN]!, histMin = st[HIST_MIN]!, subPos = this.subPos, histPos = this.histPos;
    let p1 = this.pos1, s1 = sumOf(r1), p2 = this.pos2, s2 = sumOf(r2);
    for (let i = 0; i < n; i++) {
      const p = peaks[i]!;
      const lim = limits[i]!;
      const need = lim / (p > lim ? p : lim);
      if (need < subMin) subMin = need;
      const h = subMin < histMin ? subMin : histMin;
      if (++subPos === sub) {
        // Close the sub-block: it joins the history, the oldest one leaves.
        hist[histPos] = subMin;
        histPos = histPos + 1 === hist.length ? 0 : histPos + 1;
        let m = 1;
        for (let j = 0; j < hist.length; j++) { const v = hist[j]!; m = v < m ? v : m; }
        histMin = m;
        subMin = 1;
        subPos = 0;
      }
      if (h <= r) r = h;
      else {
        r = h + aR * (r - h);
        // Finish the asymptote, so an idle limiter is exactly transparent.
        if (r > 0.999999999 && h === 1) r = 1;
      }
      s1 += r - r1[p1]!;
      r1[p1] = r;
      p1 = p1 + 1 === n1 ? 0 : p1 + 1;
      // A sum of n1 ones divided by n1 is exactly 1, so rest stays exact.
      const m1 = s1 === n1 ? 1 : s1 * inv1;
      s2 += m1 - r2[p2]!;
      r2[p2] = m1;
      p2 = p2 + 1 === n2 ? 0 : p2 + 1;
      g[i] = s2 === n2 ? 1 : s2 / n2;
    }
    st[R] = r; st[SUB_MIN] = subMin; st[HIST_MIN] = histMin;
    this.subPos = subPos; this.histPos = histPos; this.pos1 = p1; this.pos2 = p2;
    // Exact: r snaps to 1, and a ring sum equals its length only when every entry is 1.
    this.rest = r === 1 && subMin === 1 && histMin === 1 && s1 === n1 && s2 === n2;
  }

  /** A block skipped at rest: only the sub-block clock moves (every value it would write is 1). */
  private idle(n: number): boolean {
    this.subPos = (this.subPos + n) % this.sub;
    return true;
  }

  /** After the caller has read the leaving frames: the last D samples move to the front. */
  advance(n: number, nch: number): void {
    const d = this.delayFrames;
    for (let c = 0; c < nch; c++) this.buffers[c]!.copyWithin(0, n, n + d);
  }
}
