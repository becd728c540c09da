/**
 * One LED that tells the room what the compressor is doing without a
 * screen: lit while gain reduction is deeper than a threshold, blinking
 * for a while after an output sample clipped. Driven by the unit's meter
 * pump (20 frames per second by default), so it needs no timer of its
 * own: each frame decides the level from its timestamp.
 */
import type { MeterFrame } from '../unit/meter-pump.js';
import type { LedConfig } from './mapping.js';

/** What the LED reads of a meter frame; without `t` it uses its own clock. */
export type LedFrame = Pick<MeterFrame, 'gr' | 'clip_out'> & Partial<Pick<MeterFrame, 't'>>;

export type LedWriter = (on: boolean) => void;

export class StatusLed {
  readonly #cfg: LedConfig;
  readonly #write: LedWriter;
  readonly #now: () => number;
  #on: boolean | null = null;
  #clipStartMs = -Infinity;
  #clipUntilMs = -Infinity;

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
    } else {
      const deepest = frame.gr.reduce((m, g) => Math.min(m, g), 0);
      on = deepest < -this.#cfg.grThresholdDb;
    }
    this.#set(on);
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
