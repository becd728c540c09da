/**
 * One LED that tells the room what the compressor is doing without a
 * screen: lit while gain reduction is deeper than a threshold, blinking
 * for a while after an output sample clipped. Driven by the unit's meter
 * pump (20 frames per second by default), so it needs no timer of its
 * own: each frame decides the level from its timestamp.
 *
 * While the teacher has locked the unit (SPEC §5), the LED says so instead
 * of showing gain reduction: a short flash once a second, so a student
 * turning a knob that does nothing sees why. A clip still blinks fast.
 */
import type { MeterFrame } from '../unit/meter-pump.js';
import type { LedConfig } from './mapping.js';

/** What the LED reads of a meter frame; without `t` it uses its own clock. */
export type LedFrame = Pick<MeterFrame, 'gr' | 'clip_out'> & Partial<Pick<MeterFrame, 't'>>;

export type LedWriter = (on: boolean) => void;

/** The locked pattern: on this long at the start of each period. */
export const LOCKED_FLASH = { periodMs: 1000, onMs: 120 } as const;

export class StatusLed {
  readonly #cfg: LedConfig;
  readonly #write: LedWriter;
  readonly #now: () => number;
  #on: boolean | null = null;
  #clipStartMs = -Infinity;
  #clipUntilMs = -Infinity;
  #locked = false;

  constructor(cfg: LedConfig, write: LedWriter, now: () => number = Date.now) {
    this.#cfg = cfg;
    this.#write = write;
    this.#now = now;
  }

  get on(): boolean {
    return this.#on === true;
  }

  update(frame: LedFrame): void {
    const t = frame.t ?? this.#now();
    if (frame.clip_out.some((n) => n > 0)) {
      if (t > this.#clipUntilMs) this.#clipStartMs = t;
      this.#clipUntilMs = t + this.#cfg.clipHoldMs;
    }
    let on: boolean;
    if (t <= this.#clipUntilMs) {
      // Blink phase counted from the first clip, so the rhythm is steady.
      on = Math.floor((t - this.#clipStartMs) / this.#cfg.blinkHalfPeriodMs) % 2 === 0;
    } else if (this.#locked) {
      on = t % LOCKED_FLASH.periodMs < LOCKED_FLASH.onMs;
    } else {
      const deepest = frame.gr.reduce((m, g) => Math.min(m, g), 0);
      on = deepest < -this.#cfg.grThresholdDb;
    }
    this.#set(on);
  }

  /** Whether the teacher locked any of the unit's controls; shown from the next frame on. */
  setLocked(locked: boolean): void {
    this.#locked = locked;
  }

  get locked(): boolean {
    return this.#locked;
  }

  off(): void {
    this.#set(false);
  }

  #set(on: boolean): void {
    if (on === this.#on) return;
    this.#on = on;
    this.#write(on);
  }
}
