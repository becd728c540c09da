/**
 * One LED that tells the room what the compressor is doing without a
 * screen: lit while gain reduction is deeper than a threshold, blinking
 * for a while after an output sample clipped. Driven by the meter frames
 * (20 per second by default), so it needs no timer of its own: each frame
 * decides the level from its timestamp.
 */
import type { LedConfig } from './mapping.js';

export interface MeterFrame {
  /** Gain reduction per channel, dB ≤ 0. */
  readonly gr: readonly number[];
  /** Clipped output samples per channel since the previous frame. */
  readonly clip_out: readonly number[];
  /** Milliseconds (epoch) of the frame, as published on MQTT; the LED's clock when given. */
  readonly t?: number;
}

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

  update(frame: MeterFrame): void {
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
