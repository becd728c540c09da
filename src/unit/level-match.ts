/**
 * Level-matched A/B. Compression with makeup usually makes a sound louder
 * (or, without makeup, quieter), and a louder sound simply seems better:
 * students comparing "on" and "off" would judge loudness. So while the
 * compressor runs, this extension measures how much louder the output is
 * than the input, and the moment someone bypasses (button, knob, MQTT
 * TOGGLE from a footswitch) with `level_match` on, it sets `bypass_gain` to
 * that difference: the original then plays at the processed loudness. The
 * strip ramps the gain and crossfades the bypass, so nothing clicks.
 *
 * Measured, not computed: the static curve says what the compressor does
 * to one steady level, but real programme spends its time above and below
 * the threshold, with attack and release in between, and `mix`, lookahead
 * and the limiter change it again. The meters already carry each period's
 * input and output RMS; energy-averaging them over a few seconds gives the
 * loudness difference of what was actually playing.
 */
import { numberMax, numberMin } from '../params/schema.js';
import { MeterListener, type Extension, type MeterFrame, type MeterPump } from './meter-pump.js';
import type { ChangeEvent, UnitState } from './unit-state.js';

/** The averaging time of the loudness comparison: a phrase or two of music. */
export const MATCH_TIME_CONSTANT_S = 3;
/** Periods quieter than this at the input (pauses, silence) do not count. */
export const MATCH_GATE_DBFS = -50;
/** How much programme must have been heard (gated) before a match is offered. */
const MIN_HEARD_S = 1;
/** How fast the remembered input peak decays, dB per second (a peak from long ago no longer limits the gain). */
const PEAK_DECAY_DB_PER_S = 3;

/** Mean energy of per-channel levels in dB (an RMS in dBFS per channel). */
function meanEnergy(levelsDb: readonly number[]): number {
  let sum = 0;
  for (const db of levelsDb) sum += Number.isFinite(db) ? 10 ** (db / 10) : 0;
  return levelsDb.length > 0 ? sum / levelsDb.length : 0;
}

export class LevelMatch implements Extension {
  readonly #listener: MeterListener;
  readonly #onChange = (e: ChangeEvent): void => this.#changed(e);
  #inEnergy = 0;
  #outEnergy = 0;
  #heardS = 0;
  #peakDb = -Infinity;

  constructor(private readonly pump: MeterPump, private readonly state: UnitState) {
    this.#listener = new MeterListener(pump, (f) => this.#add(f));
  }

  start(): void {
    this.#listener.start();
    this.state.on('change', this.#onChange);
  }

  stop(): void {
    this.#listener.stop();
    this.state.off('change', this.#onChange);
  }

  /**
   * The gain (dB, on the bypass_gain grid) that plays the original as loud
   * as the processed sound, kept low enough that the original's recent
   * peaks stay under full scale; null until enough programme was heard.
   */
  get matchDb(): number | null {
    if (this.#heardS < MIN_HEARD_S || this.#inEnergy <= 0 || this.#outEnergy <= 0) return null;
    let db = 10 * Math.log10(this.#outEnergy / this.#inEnergy);
    if (Number.isFinite(this.#peakDb)) db = Math.min(db, -this.#peakDb);
    const stepped = Math.round(db * 10) / 10;
    return Math.min(numberMax('bypass_gain'), Math.max(numberMin('bypass_gain'), stepped));
  }

  #add(f: MeterFrame): void {
    const periodS = 1 / this.pump.rateHz;
    this.#peakDb -= PEAK_DECAY_DB_PER_S * periodS;
    // While bypassed the output is the original itself: nothing to learn.
    if (this.state.params.bypass) return;
    const inE = meanEnergy(f.in_rms);
    if (inE <= 10 ** (MATCH_GATE_DBFS / 10)) return;
    const a = Math.exp(-periodS / MATCH_TIME_CONSTANT_S);
    const first = this.#heardS === 0;
    this.#inEnergy = first ? inE : a * this.#inEnergy + (1 - a) * inE;
    this.#outEnergy = first ? meanEnergy(f.out_rms) : a * this.#outEnergy + (1 - a) * meanEnergy(f.out_rms);
    this.#heardS += periodS;
    for (const p of f.in_peak) if (p > this.#peakDb) this.#peakDb = p;
  }

  #changed(e: ChangeEvent): void {
    const p = e.snapshot.params;
    if (!p.bypass || !p.level_match) return;
    if (!e.changed.includes('bypass') && !e.changed.includes('level_match')) return;
    const db = this.matchDb;
    if (db !== null && db !== p.bypass_gain) this.state.apply({ bypass_gain: db }, 'api');
  }
}
