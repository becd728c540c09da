/**
 * Speed-based acceleration: detents that follow each other quickly in the
 * same direction move the value further, so a fast spin crosses a wide
 * range (release 5 → 5000 ms) while a slow turn still lands on every
 * step. Used for both backends; timestamps come from the caller.
 */

export interface AccelerationStage {
  /** Applies when the time since the previous detent is below this. */
  readonly belowMs: number;
  readonly multiplier: number;
}

/** Ordered from the fastest stage to the slowest; a slower turn gets ×1. */
export type AccelerationCurve = readonly AccelerationStage[];

/** About 20 detents per second and faster moves ×5, 8 per second ×2. */
export const DEFAULT_ACCELERATION: AccelerationCurve = [
  { belowMs: 50, multiplier: 5 },
  { belowMs: 125, multiplier: 2 },
];

export const NO_ACCELERATION: AccelerationCurve = [];

export class Accelerator {
  readonly #curve: AccelerationCurve;
  #lastMs = -Infinity;
  #lastDirection = 0;

  constructor(curve: AccelerationCurve = DEFAULT_ACCELERATION) {
    this.#curve = [...curve].sort((x, y) => x.belowMs - y.belowMs);
  }

  /**
   * The multiplier for a detent (sign gives its direction) at `tMs`.
   * A change of direction starts slow again, so reversing to correct an
   * overshoot is precise.
   */
  multiplier(direction: number, tMs: number): number {
    const dir = Math.sign(direction);
    const interval = dir === this.#lastDirection ? tMs - this.#lastMs : Infinity;
    this.#lastMs = tMs;
    this.#lastDirection = dir;
    for (const stage of this.#curve) {
      if (interval < stage.belowMs) return stage.multiplier;
    }
    return 1;
  }

  reset(): void {
    this.#lastMs = -Infinity;
    this.#lastDirection = 0;
  }
}
