/**
 * The unit's one meter clock. At `meter_rate` it reads the engine's meter
 * period and emits it, stamped, as a MeterFrame; everything that shows
 * levels (the MQTT `meters`, the knobs' status LED, the Home Assistant
 * 1 Hz levels, a classroom summary) is a small extension listening to it.
 *
 * An extension, as in Zigbee2MQTT's lib/extension: the constructor only
 * keeps its collaborators, start() subscribes, stop() removes every
 * listener it added.
 */
import { EventEmitter } from 'node:events';
import type { MeterReading } from '../engine/audio-engine.js';
import { UserError } from '../errors.js';
import type { Logger } from '../log.js';

/** One meter period as the unit publishes it (SPEC §4 `meters`): the reading plus `t`, ms since the epoch. */
export type MeterFrame = { t: number } & MeterReading;

/** The range of `meter_rate` (SPEC §4). */
export const METER_RATE_HZ = { min: 1, max: 60, default: 20 } as const;

export interface Extension {
  start(): void;
  stop(): void;
}

export interface MeterPumpOptions {
  /** Frames per second, METER_RATE_HZ. */
  readonly rateHz: number;
  /** The latest meter period, or null when there is nothing new (AudioEngine.readMeters). */
  readonly read: () => MeterReading | null;
  readonly log: Logger;
  /** Clock of the frames' `t`. */
  readonly now?: () => number;
}

export class MeterPump extends EventEmitter<{ frame: [MeterFrame] }> {
  readonly rateHz: number;
  readonly #opts: MeterPumpOptions;
  #timer: NodeJS.Timeout | null = null;
  #failureLogged = false;
  /** Listeners whose last frame threw: logged once until they work again. */
  readonly #failing = new WeakSet<(f: MeterFrame) => void>();

  constructor(opts: MeterPumpOptions) {
    super();
    const { rateHz } = opts;
    if (!(rateHz >= METER_RATE_HZ.min && rateHz <= METER_RATE_HZ.max)) {
      throw new UserError(`meter_rate must be ${METER_RATE_HZ.min} to ${METER_RATE_HZ.max} Hz, got ${rateHz}.`);
    }
    this.rateHz = rateHz;
    this.#opts = opts;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.tick(), 1000 / this.rateHz);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Reads one period and emits it; the clock calls this, tests may too. */
  tick(): void {
    let reading: MeterReading | null;
    try {
      reading = this.#opts.read();
    } catch (e) {
      // A meter glitch must not take the control plane (or the process) down with it.
      if (!this.#failureLogged) this.#opts.log.error(`reading the meters failed: ${(e as Error).message}; meters are skipped until it works again.`);
      this.#failureLogged = true;
      return;
    }
    this.#failureLogged = false;
    if (!reading) return;
    const frame: MeterFrame = { t: (this.#opts.now ?? Date.now)(), ...reading };
    // Not emit(): one throwing extension (a GPIO write that fails) would
    // skip the ones after it and, thrown out of the timer, end the process.
    for (const listener of this.rawListeners('frame') as ((f: MeterFrame) => void)[]) {
      try {
        listener(frame);
        this.#failing.delete(listener);
      } catch (e) {
        if (!this.#failing.has(listener)) this.#opts.log.error(`a meter extension failed: ${(e as Error).message}; the others go on, and this one is tried again with each frame.`);
        this.#failing.add(listener);
      }
    }
  }
}

/** The simplest extension: hands every frame to one function. */
export class MeterListener implements Extension {
  readonly #onFrame: (frame: MeterFrame) => void;

  constructor(private readonly pump: MeterPump, onFrame: (frame: MeterFrame) => void) {
    // Bound once, so stop() removes exactly what start() added.
    this.#onFrame = (frame) => onFrame(frame);
  }

  start(): void {
    // A second start() must not add a second listener that stop() leaves behind.
    this.pump.off('frame', this.#onFrame);
    this.pump.on('frame', this.#onFrame);
  }

  stop(): void {
    this.pump.off('frame', this.#onFrame);
  }
}

/**
 * The room-level figures of a stretch of frames: the deepest gain
 * reduction, the highest peaks, the clipped samples (input and output, all
 * channels), the highest DSP load and the unit's running xrun count at its end.
 */
export interface LevelSummary {
  gr: number;
  out_peak: number;
  in_peak: number;
  clips: number;
  cpu: number;
  xruns: number;
}

/**
 * Folds frames into one LevelSummary per period (1 s for Home Assistant,
 * and for a classroom card), timed by the frames' own `t`, so it needs no
 * timer. A period with no frames emits nothing.
 */
export class LevelSummaries implements Extension {
  readonly #listener: MeterListener;
  #acc: LevelSummary | null = null;
  #periodStart = 0;

  constructor(pump: MeterPump, private readonly periodMs: number, private readonly onSummary: (s: LevelSummary) => void) {
    this.#listener = new MeterListener(pump, (f) => this.#add(f));
  }

  start(): void {
    this.#listener.start();
  }

  stop(): void {
    this.#listener.stop();
    this.#acc = null;
  }

  #add(f: MeterFrame): void {
    if (this.#acc === null) {
      this.#acc = { gr: 0, out_peak: -Infinity, in_peak: -Infinity, clips: 0, cpu: 0, xruns: 0 };
      this.#periodStart = f.t;
    }
    const a = this.#acc;
    a.gr = Math.min(a.gr, ...f.gr);
    a.out_peak = Math.max(a.out_peak, ...f.out_peak);
    a.in_peak = Math.max(a.in_peak, ...f.in_peak);
    for (const c of f.clip_in) a.clips += c;
    for (const c of f.clip_out) a.clips += c;
    a.cpu = Math.max(a.cpu, f.cpu);
    a.xruns = f.xruns;
    if (f.t - this.#periodStart >= this.periodMs) {
      this.#acc = null;
      this.onSummary(a);
    }
  }
}
