/**
 * Quadrature decoder for mechanical rotary encoders (EC11, KY-040).
 *
 * The two contacts A and B close in Gray-code order, so between two reads
 * exactly one of them may change. A transition table gives each (previous,
 * current) pair a direction: +1, −1, no change, or invalid (both changed,
 * meaning an edge was missed). Contact bounce is a valid transition followed
 * by its reverse, so it cancels out on its own. A step is only emitted when
 * the contacts come to rest at a detent, from the net progress made since
 * the previous detent: a half turn that comes back, or a bouncing contact
 * at rest, never produces a step.
 *
 * Pure: timestamps are passed in with every reading, the decoder never
 * reads a clock, so recorded traces replay exactly.
 */

/** Lines as a 2-bit position: A is bit 1, B is bit 0 (both 1 = contacts open, pulled up). */
export type LinePosition = 0 | 1 | 2 | 3;

/**
 * full: one whole Gray-code cycle (4 transitions) per detent, resting with
 * both lines high — most KY-040 modules and 20-detent EC11 parts.
 * half: half a cycle (2 transitions) per detent, resting at both-high and
 * both-low — 30-detent EC11 parts with 15 pulses per turn.
 */
export type StepMode = 'full' | 'half';

export const TRANSITIONS_PER_DETENT: Readonly<Record<StepMode, number>> = { full: 4, half: 2 };

const INVALID = 2;
type Delta = -1 | 0 | 1 | typeof INVALID;

/**
 * Clockwise order with pull-ups (A falls first): 11 → 01 → 00 → 10 → 11,
 * i.e. positions 3 → 1 → 0 → 2 → 3. Indexed by previous * 4 + current.
 */
const TRANSITION_TABLE: readonly Delta[] = [
  /* from 00 to: 00 01 10 11 */ 0, -1, 1, INVALID,
  /* from 01 to: 00 01 10 11 */ 1, 0, INVALID, -1,
  /* from 10 to: 00 01 10 11 */ -1, INVALID, 0, 1,
  /* from 11 to: 00 01 10 11 */ INVALID, 1, -1, 0,
];

const DETENT_POSITIONS: Readonly<Record<StepMode, readonly LinePosition[]>> = {
  full: [3],
  half: [0, 3],
};

export interface QuadratureOptions {
  readonly mode: StepMode;
  /** Swap the direction when the knob counts the wrong way round (A and B wired crossed). */
  readonly reverse?: boolean;
  /**
   * When both lines changed between two reads (an edge was missed while the
   * knob spun fast), the skipped position is assumed to lie in the direction
   * of the last valid transition, provided that one happened at most this
   * many milliseconds before. Otherwise the transition is only counted.
   */
  readonly missedEdgeWindowMs?: number;
}

export const DEFAULT_MISSED_EDGE_WINDOW_MS = 30;

export interface QuadratureStats {
  /** Readings where both lines had changed: edges missed. */
  readonly invalid: number;
  /** Invalid transitions resolved from the direction of travel. */
  readonly recovered: number;
  /** Times the contacts reached a detent without a whole detent of travel (bounce, half turns). */
  readonly abandoned: number;
}

export interface DetentStep {
  /** Whole detents, signed: positive is clockwise. */
  readonly detents: number;
  /** Time of the reading that completed the step, in the caller's milliseconds. */
  readonly tMs: number;
}

export class QuadratureDecoder {
  readonly mode: StepMode;
  readonly #perDetent: number;
  readonly #detents: readonly LinePosition[];
  readonly #sign: 1 | -1;
  readonly #missedEdgeWindowMs: number;
  #position: LinePosition | null = null;
  #progress = 0;
  #lastDirection: -1 | 0 | 1 = 0;
  #lastValidMs = -Infinity;
  #invalid = 0;
  #recovered = 0;
  #abandoned = 0;

  constructor(opts: QuadratureOptions) {
    this.mode = opts.mode;
    this.#perDetent = TRANSITIONS_PER_DETENT[opts.mode];
    this.#detents = DETENT_POSITIONS[opts.mode];
    this.#sign = opts.reverse ? -1 : 1;
    this.#missedEdgeWindowMs = opts.missedEdgeWindowMs ?? DEFAULT_MISSED_EDGE_WINDOW_MS;
  }

  get stats(): QuadratureStats {
    return { invalid: this.#invalid, recovered: this.#recovered, abandoned: this.#abandoned };
  }

  /** Progress since the last detent, in transitions (for tests and diagnostics). */
  get progress(): number {
    return this.#progress * this.#sign;
  }

  /**
   * Feeds one reading of both lines (0 or 1 each). Returns the step that
   * this reading completed, or null.
   */
  update(a: number, b: number, tMs: number): DetentStep | null {
    const pos = (((a ? 1 : 0) << 1) | (b ? 1 : 0)) as LinePosition;
    if (this.#position === null) {
      // The first reading only tells us where the contacts are.
      this.#position = pos;
      return null;
    }
    const delta = TRANSITION_TABLE[this.#position * 4 + pos]!;
    if (delta === 0) return null;
    this.#position = pos;
    if (delta === INVALID) {
      this.#invalid++;
      if (this.#lastDirection !== 0 && tMs - this.#lastValidMs <= this.#missedEdgeWindowMs) {
        this.#progress += 2 * this.#lastDirection;
        this.#recovered++;
      }
    } else {
      this.#progress += delta;
      this.#lastDirection = delta;
      this.#lastValidMs = tMs;
    }
    if (!this.#detents.includes(pos)) return null;
    const detents = Math.trunc(this.#progress / this.#perDetent);
    if (detents === 0 && this.#progress !== 0) this.#abandoned++;
    this.#progress = 0;
    if (detents === 0) return null;
    return { detents: detents * this.#sign, tMs };
  }

  /** Forgets the position, e.g. after the lines were re-opened. */
  reset(): void {
    this.#position = null;
    this.#progress = 0;
    this.#lastDirection = 0;
    this.#lastValidMs = -Infinity;
  }
}
