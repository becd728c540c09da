/**
 * Brick-wall output limiter (SPEC §2.5): no output sample's magnitude ever
 * exceeds the ceiling.
 *
 * Design: one gain for all channels (linked, so limiting never shifts the
 * stereo image), driven by the frame's peak |x| over channels.
 *   need = p > L ? L / p : 1
 *   g    = need                      when need < g  (instant attack)
 *   g    = need + αr·(g − need)      otherwise      (one-pole release, 50 ms)
 * Because the attack is instant, g ≤ need on every frame, so |x·g| ≤ L up
 * to one rounding; a final clamp at L' makes it exact. L' is the ceiling
 * lowered by 2^-23 relative, which guarantees that rounding the result to
 * float32 can never land above the ceiling itself.
 * There is no lookahead, so a limited transient is slightly distorted:
 * this is a safety stage behind the compressor, not a mastering limiter.
 */
import { dbToGain, onePoleCoeff, type Kernel, type ProcessSpec } from './kernel.js';
import { LinearRamp, PARAM_RAMP_MS } from './smoother.js';
import { sanitizeSample } from './sanitize.js';

export const LIMITER_RELEASE_MS = 50;
/** Largest block the standalone limiter handles per inner pass. */
const CHUNK = 128;

/** The float64 clamp level whose float32 rounding stays ≤ ceilingGain. */
export function float32SafeLimit(ceilingGain: number): number {
  return ceilingGain * (1 - 2 ** -23);
}

/** The gain computation shared by the standalone Limiter and the strip. */
export class LimiterGain {
  /** Current limiter gain, linear, in (0, 1]. */
  gain = 1;
  /** Read by the strip's fused loop, which inlines compute(). */
  releaseCoeff = 0;

  prepare(sampleRate: number): void {
    this.releaseCoeff = onePoleCoeff(LIMITER_RELEASE_MS, sampleRate);
  }

  reset(): void {
    this.gain = 1;
  }

  /**
   * gains[i] from peaks[i] (frame peak over channels) and limits[i] (the
   * float32-safe ceiling per frame). A limit of +Infinity means "limiter
   * off": the gain just releases to 1.
   */
  compute(peaks: Float64Array, limits: Float64Array, gains: Float64Array, frames: number): void {
    const a = this.releaseCoeff;
    let g = this.gain;
    for (let i = 0; i < frames; i++) {
      const p = peaks[i]!, lim = limits[i]!;
      const need = p > lim ? lim / p : 1;
      if (need < g) g = need;
      else {
        g = need + a * (g - need);
        // Finish the asymptote so an idle limiter is exactly transparent.
        if (g > 0.999999999 && need === 1) g = 1;
      }
      gains[i] = g;
    }
    this.gain = g;
  }
}

export class Limiter implements Kernel {
  private readonly core = new LimiterGain();
  private ceiling: LinearRamp;
  private peaks = new Float64Array(CHUNK);
  private limits = new Float64Array(CHUNK);
  private gains = new Float64Array(CHUNK);
  private channels = 0;
  private prepared = false;

  constructor(ceilingDb = -1) {
    this.ceiling = new LinearRamp(ceilingDb, CHUNK);
  }

  /** Ceiling in dBFS (≤ 0); changes glide over 20 ms. */
  get ceilingDb(): number {
    return this.ceiling.target;
  }

  set ceilingDb(db: number) {
    const v = Math.min(0, Number.isFinite(db) ? db : 0);
    if (this.prepared) this.ceiling.setTarget(v);
    else this.ceiling.snap(v);
  }

  prepare(spec: ProcessSpec): void {
    this.channels = spec.channels;
    this.core.prepare(spec.sampleRate);
    this.ceiling.setRampFrames((PARAM_RAMP_MS / 1000) * spec.sampleRate);
    this.ceiling.snap(this.ceiling.target);
    this.prepared = true;
    this.reset();
  }

  reset(): void {
    this.core.reset();
    this.ceiling.snap(this.ceiling.target);
  }

  get latencyFrames(): number {
    return 0;
  }

  process(input: readonly Float32Array[], output: readonly Float32Array[], frames: number): void {
    if (!this.prepared) throw new Error('Limiter: prepare() before process()');
    const nch = Math.min(this.channels, input.length, output.length);
    const peaks = this.peaks, limits = this.limits, gains = this.gains;
    for (let off = 0; off < frames; off += CHUNK) {
      const n = Math.min(CHUNK, frames - off);
      if (this.ceiling.render(n)) {
        const cv = this.ceiling.values;
        for (let i = 0; i < CHUNK; i++) limits[i] = float32SafeLimit(dbToGain(cv[i]!));
      }
      peaks.fill(0, 0, n);
      for (let c = 0; c < nch; c++) {
        const x = input[c]!;
        for (let i = 0; i < n; i++) {
          const v = sanitizeSample(x[off + i]!);
          const a = v < 0 ? -v : v;
          if (a > peaks[i]!) peaks[i] = a;
        }
      }
      this.core.compute(peaks, limits, gains, n);
      for (let c = 0; c < nch; c++) {
        const x = input[c]!, y = output[c]!;
        for (let i = 0; i < n; i++) {
          let v = sanitizeSample(x[off + i]!) * gains[i]!;
          const lim = limits[i]!;
          if (v > lim) v = lim;
          else if (v < -lim) v = -lim;
          y[off + i] = v;
        }
      }
    }
  }
}
