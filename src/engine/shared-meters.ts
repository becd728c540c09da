/**
 * Meter figures crossing from the audio layer to the user layer. The user
 * side decides when a meter period ends: it raises a request flag, and the
 * audio side, at its next block boundary, publishes what it gathered since
 * the previous request under a sequence lock and starts afresh. Periods
 * are therefore contiguous and exactly as long as the user side's reading
 * interval (no period skipped or merged by two clocks drifting), and
 * neither side ever waits for the other.
 */
import type { MeterBank } from '../dsp/meters.js';

/** Per-channel figures, in MeterBank order. */
const PER_CHANNEL = 10;
/** frames, xruns, cpu %, latency frames, sample rate, block frames, period index, worker GCs. */
const GLOBALS = 8;

export interface EngineHealth {
  /** Underruns/overruns reported by the device since start. */
  xruns: number;
  /** DSP time as % of the real-time budget, averaged over the period's blocks. */
  cpuPercent: number;
  latencyFrames: number;
  sampleRate: number;
  blockFrames: number;
  /** Garbage collections in the audio worker since it started (0 in a clean steady state). */
  gcCount: number;
}

export class SharedMeters {
  readonly #ctl: Int32Array;      // [0] seq, [1] 1 while the user layer waits for a period to close
  readonly #data: Float64Array;

  static bytesFor(channels: number): number {
    return 8 + (GLOBALS + PER_CHANNEL * channels) * 8;
  }

  constructor(readonly channels: number, readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(SharedMeters.bytesFor(channels))) {
    this.#ctl = new Int32Array(buffer, 0, 2);
    this.#data = new Float64Array(buffer, 8, GLOBALS + PER_CHANNEL * channels);
  }

  #bank: MeterBank | null = null;
  #fields: Float64Array[] = [];

  /** The bank's arrays in layout order, cached so publishing allocates nothing. */
  #fieldsOf(bank: MeterBank): Float64Array[] {
    if (bank !== this.#bank) {
      this.#bank = bank;
      this.#fields = [bank.inPeak, bank.inSumSq, bank.outPeak, bank.outSumSq, bank.grDb, bank.clipIn, bank.clipOut, bank.outTruePeak, bank.oversOut, bank.detLevel];
    }
    return this.#fields;
  }

  /** User layer: ends the current meter period at the audio layer's next block. */
  requestPeriod(): void { Atomics.store(this.#ctl, 1, 1); }

  /** Audio layer: true when the user layer asked for the period to close. */
  get periodRequested(): boolean { return Atomics.load(this.#ctl, 1) === 1; }

  /** Audio layer: publishes the bank's figures and the health figures. */
  publish(bank: MeterBank, health: EngineHealth): void {
    const d = this.#data;
    Atomics.add(this.#ctl, 0, 1);
    d[0] = bank.frames; d[1] = health.xruns; d[2] = health.cpuPercent; d[3] = health.latencyFrames;
    d[4] = health.sampleRate; d[5] = health.blockFrames; d[6] = d[6]! + 1; d[7] = health.gcCount;
    const n = this.channels;
    const arrays = this.#fieldsOf(bank);
    for (let a = 0; a < PER_CHANNEL; a++) {
      const src = arrays[a]!;
      for (let c = 0; c < n; c++) d[GLOBALS + a * n + c] = src[c]!;
    }
    Atomics.add(this.#ctl, 0, 1);
    Atomics.store(this.#ctl, 1, 0);
  }

  /**
   * User layer: copies the latest snapshot into `bank` and returns its
   * health figures and period index, or null if nothing was published yet.
   */
  read(bank: MeterBank): (EngineHealth & { period: number }) | null {
    for (let attempt = 0; attempt < 100; attempt++) {
      const before = Atomics.load(this.#ctl, 0);
      if ((before & 1) === 1) continue;
      const d = this.#data;
      const n = this.channels;
      const health = { xruns: d[1]!, cpuPercent: d[2]!, latencyFrames: d[3]!, sampleRate: d[4]!, blockFrames: d[5]!, period: d[6]!, gcCount: d[7]! };
      bank.frames = d[0]!;
      const arrays = this.#fieldsOf(bank);
      for (let a = 0; a < PER_CHANNEL; a++) {
        for (let c = 0; c < n; c++) arrays[a]![c] = d[GLOBALS + a * n + c]!;
      }
      if (Atomics.load(this.#ctl, 0) !== before) continue;
      return health.period > 0 ? health : null;
    }
    return null;
  }
}
