/**
 * Parameter smoothing (SPEC §2.3). Every continuous control moves along a
 * straight line over a fixed time (20 ms), so it never clicks and is fully
 * applied well inside the 50 ms the spec allows. A new target during a
 * ramp restarts the line from wherever the value is now, so a preset load
 * (many targets at once) or a fast knob turn stays continuous.
 */

/** Ramp time of every smoothed parameter. */
export const PARAM_RAMP_MS = 20;

export class LinearRamp {
  /** The value at the last rendered sample. */
  value: number;
  target: number;
  /** Per-sample values of the last render; constant when not ramping. */
  readonly values: Float64Array;
  private step = 0;
  private left = 0;
  private rampFrames = 1;
  // True while `values` may not hold the constant `value` everywhere.
  private stale = true;

  constructor(initial: number, bufferFrames: number) {
    this.value = initial;
    this.target = initial;
    this.values = new Float64Array(bufferFrames);
  }

  setRampFrames(frames: number): void {
    this.rampFrames = Math.max(1, Math.round(frames));
  }

  /** Starts a ramp from the current value to `target`. */
  setTarget(target: number): void {
    if (target === this.target) return;
    this.target = target;
    this.left = this.rampFrames;
    this.step = (target - this.value) / this.rampFrames;
    this.stale = true;
  }

  /** Jumps to `value` at once (prepare/reset: there is no sound to click). */
  snap(value: number): void {
    this.value = this.target = value;
    this.left = 0;
    this.step = 0;
    this.stale = true;
  }

  /** True when the last render left `values` constant (= value) throughout. */
  get constant(): boolean {
    return !this.stale;
  }

  get ramping(): boolean {
    return this.left > 0;
  }

  /**
   * Fills values[0..frames) with the next samples' values and advances.
   * Returns false when the buffer already held them (steady: callers may
   * skip recomputing whatever they derive from it).
   */
  render(frames: number): boolean {
    if (this.left > 0) {
      const v = this.values;
      let value = this.value;
      for (let i = 0; i < frames; i++) {
        if (this.left > 0) {
          value += this.step;
          if (--this.left === 0) value = this.target;
        }
        v[i] = value;
      }
      this.value = value;
      this.stale = true;
      return true;
    }
    if (!this.stale) return false;
    this.values.fill(this.value);
    this.stale = false;
    return true;
  }

  /** Advances by `frames` without writing the buffer; returns the new value. */
  advance(frames: number): number {
    if (this.left > 0) {
      if (frames >= this.left) {
        this.left = 0;
        this.value = this.target;
      } else {
        this.left -= frames;
        this.value += this.step * frames;
      }
      this.stale = true;
    }
    return this.value;
  }
}
