/**
 * The RMS level detector: an exact moving average of x² over a window of
 * N frames, kept as a running sum over a ring of past squares.
 *
 * The ring holds the longest window the schema allows (300 ms), and it is
 * fed in peak mode too, so switching detector or window length finds the
 * real history already there: the level is exact from the first sample
 * after the change instead of restarting from silence.
 *
 * In peak mode only the squares are stored: the running sum is what costs
 * (a dependent add and a read-back per sample), and nothing reads it then.
 * The sum is marked stale and rebuilt from the ring (≤ 300 ms of adds,
 * once) when the level is next wanted.
 *
 * A running sum in Float64 drifts by rounding (and could go a hair below
 * zero after loud-then-silent passages), so it is recomputed from the ring
 * every RECOMPUTE_FRAMES and clamped at 0 before the square root.
 */
import { numberMax } from '../params/schema.js';


/** The longest RMS window the schema allows: history is allocated for it. */
export const RMS_WINDOW_MAX_MS = numberMax('rms_window');
const RECOMPUTE_FRAMES = 1 << 16;

export class RmsWindow {
  readonly ring: Float64Array;
  readonly mask: number;
  /** Where the next square goes. */
  pos = 0;
  sum = 0;
  /** Window length N in frames. */
  windowFrames = 1;
  private sinceRecompute = 0;
  /** True while `sum` does not match the ring (squares went in without it). */
  stale = false;

  /** `ring`: an array of ringFrames(maxWindowFrames) to use instead of a new one (the WebAssembly kernel's memory). */
  constructor(maxWindowFrames: number, ring?: Float64Array) {
    const size = RmsWindow.ringFrames(maxWindowFrames);
    this.ring = ring ?? new Float64Array(size);
    this.mask = size - 1;
  }

  /** The power-of-two ring length for this longest window. */
  static ringFrames(maxWindowFrames: number): number {
    let size = 1;
    while (size < maxWindowFrames + 1) size <<= 1;
    return size;
  }

  reset(): void {
    this.ring.fill(0);
    this.pos = 0;
    this.sum = 0;
    this.sinceRecompute = 0;
    this.stale = false;
  }

  /** Changes N (clamped to 1..max) and recomputes the sum from history. */
  setWindowFrames(frames: number): void {
    this.windowFrames = Math.min(Math.max(1, Math.round(frames)), this.mask);
    this.recompute();
  }

  recompute(): void {
    const r = this.ring, m = this.mask;
    let s = 0;
    for (let k = 1; k <= this.windowFrames; k++) s += r[(this.pos - k) & m]!;
    this.sum = s;
    this.sinceRecompute = 0;
    this.stale = false;
  }

  /**
   * What push() does before its loop, for a caller running the loop
   * elsewhere (the WebAssembly kernel) on this ring, pos and sum.
   */
  beginPush(toLevel: boolean): void {
    if (toLevel && this.stale) this.recompute();
  }

  /**
   * What push() does after its loop: the loop's sum is sums[at] (when
   * toLevel; read from an array, as a double argument to a call V8 does
   * not inline is boxed on the heap).
   */
  endPush(frames: number, toLevel: boolean, sums: Float64Array, at: number): void {
    this.pos = (this.pos + frames) & this.mask;
    if (toLevel) {
      this.sum = sums[at]!;
      this.sinceRecompute += frames;
      if (this.sinceRecompute >= RECOMPUTE_FRAMES) this.recompute();
    } else {
      this.stale = true;
    }
  }

  /**
   * Pushes the squares of buf[0..frames). When `toLevel`, buf is replaced by
   * the RMS level after each sample; otherwise only the history is kept.
   */
  push(buf: Float64Array, frames: number, toLevel: boolean): void {
    const r = this.ring, m = this.mask, n = this.windowFrames;
    if (toLevel && this.stale) this.recompute();
    let pos = this.pos, sum = this.sum;
    if (toLevel) {
      const invN = 1 / n;
      for (let i = 0; i < frames; i++) {
        const x = buf[i]!;
        const sq = x * x;
        sum += sq - r[(pos - n) & m]!;
        r[pos] = sq;
        pos = (pos + 1) & m;
        const ms = sum * invN;
        buf[i] = ms > 0 ? Math.sqrt(ms) : 0;
      }
      this.pos = pos;
      this.sum = sum;
      this.sinceRecompute += frames;
      if (this.sinceRecompute >= RECOMPUTE_FRAMES) this.recompute();
    } else {
      for (let i = 0; i < frames; i++) {
        const x = buf[i]!;
        r[pos] = x * x;
        pos = (pos + 1) & m;
      }
      this.pos = pos;
      this.stale = true;
    }
  }
}
