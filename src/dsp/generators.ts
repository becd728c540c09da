/**
 * Test signals for teaching: what you feed the compressor to hear (and
 * see) what each control does. Pure DSP like the kernels: no Node APIs,
 * buffers allocated in prepare(), none in process(). Every generator
 * writes the same signal to every channel.
 */
import { dbToGain, msToFrames, type ProcessSpec } from './kernel.js';
import { UserError } from '../errors.js';

export interface Source {
  prepare(spec: ProcessSpec): void;
  /** Back to the first sample (same output again, for seeded noise too). */
  reset(): void;
  /** Fills `frames` samples of every output channel. */
  process(output: readonly Float32Array[], frames: number): void;
}

const TWO_PI = 2 * Math.PI;

function clamp1(x: number): number {
  return x > 1 ? 1 : x < -1 ? -1 : x;
}

/** Channel 0 → the others, as a plain loop (subarray() would allocate a view per block). */
function copyToOtherChannels(output: readonly Float32Array[], frames: number): void {
  const first = output[0]!;
  for (let c = 1; c < output.length; c++) {
    const ch = output[c]!;
    for (let i = 0; i < frames; i++) ch[i] = first[i]!;
  }
}

function requireFinite(value: number, what: string): void {
  if (!Number.isFinite(value)) throw new UserError(`The generator's ${what} must be a number, not ${value}.`);
}

function requireBelowNyquist(hz: number, sampleRate: number, what: string): void {
  if (!(hz > 0 && hz < sampleRate / 2)) {
    throw new UserError(`The generator's ${what} of ${hz} Hz must be above 0 and below ${sampleRate / 2} Hz (half the sample rate).`);
  }
}

/**
 * xorshift32: a tiny, fast, seedable generator; plenty for audio noise and
 * it makes every "random" signal repeatable for tests and lessons.
 */
export class Xorshift32 {
  private state: number;
  constructor(private readonly seed: number) {
    this.state = 0;
    this.reset();
  }
  reset(): void {
    // Zero is xorshift's one fixed point; any other 32-bit value works.
    this.state = (this.seed >>> 0) || 0x9e3779b9;
  }
  /** Uniform in [−1, 1). */
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 2147483648 - 1;
  }
}

/** A sine at a fixed frequency; levelDb is its peak in dBFS (0 dB touches full scale). */
export class SineSource implements Source {
  private readonly gain: number;
  private step = 0;
  private phase = 0;

  constructor(private readonly opts: { frequencyHz: number; levelDb: number }) {
    requireFinite(opts.frequencyHz, 'frequency');
    requireFinite(opts.levelDb, 'level');
    this.gain = dbToGain(opts.levelDb);
  }

  prepare(spec: ProcessSpec): void {
    requireBelowNyquist(this.opts.frequencyHz, spec.sampleRate, 'frequency');
    this.step = this.opts.frequencyHz / spec.sampleRate;
    this.reset();
  }

  reset(): void { this.phase = 0; }

  process(output: readonly Float32Array[], frames: number): void {
    const out = output[0]!;
    let phase = this.phase;
    for (let i = 0; i < frames; i++) {
      out[i] = clamp1(this.gain * Math.sin(TWO_PI * phase));
      phase += this.step;
      if (phase >= 1) phase -= 1;
    }
    this.phase = phase;
    copyToOtherChannels(output, frames);
  }
}

/** Rows of the Voss–McCartney generator: row k changes every 2^(k+1) samples. */
const PINK_ROWS = 16;

/**
 * Pink noise (equal energy per octave, −3 dB/octave spectrum) by the
 * Voss–McCartney method: a sum of white values held for 1, 2, 4, 8, …
 * samples, one row refreshed per sample (the row given by the counter's
 * trailing zeros). levelDb is the long-term RMS in dBFS.
 */
export class PinkNoiseSource implements Source {
  private readonly rng: Xorshift32;
  private readonly rows = new Float64Array(PINK_ROWS);
  private readonly gain: number;
  private rowSum = 0;
  private counter = 0;

  constructor(opts: { levelDb: number; seed?: number }) {
    requireFinite(opts.levelDb, 'level');
    this.rng = new Xorshift32(opts.seed ?? 1);
    // PINK_ROWS + 1 independent uniform values in [−1, 1), each of variance 1/3.
    this.gain = dbToGain(opts.levelDb) / Math.sqrt((PINK_ROWS + 1) / 3);
    this.reset();
  }

  prepare(_spec: ProcessSpec): void { this.reset(); }

  reset(): void {
    this.rng.reset();
    this.rowSum = 0;
    for (let k = 0; k < PINK_ROWS; k++) {
      this.rows[k] = this.rng.next();
      this.rowSum += this.rows[k]!;
    }
    this.counter = 0;
  }

  process(output: readonly Float32Array[], frames: number): void {
    const out = output[0]!;
    const rows = this.rows;
    const rng = this.rng;
    for (let i = 0; i < frames; i++) {
      this.counter = (this.counter + 1) & 0xffff;
      // Count trailing zeros; counter 0 (every 65536 samples) refreshes the slowest row.
      const k = this.counter === 0 ? PINK_ROWS - 1 : 31 - Math.clz32(this.counter & -this.counter);
      const fresh = rng.next();
      this.rowSum += fresh - rows[k]!;
      rows[k] = fresh;
      out[i] = clamp1(this.gain * (this.rowSum + rng.next()));
    }
    copyToOtherChannels(output, frames);
  }
}

/**
 * A sine whose level steps through levelsDb (peak dBFS), stepMs per level,
 * round and round: a quiet → loud step shows the attack, loud → quiet the
 * release. Levels switch exactly at multiples of stepMs; the phase runs on.
 */
export class ToneBurstSource implements Source {
  private readonly gains: Float64Array;
  private stepFrames = 1;
  private phaseStep = 0;
  private phase = 0;
  private position = 0;
  private levelIndex = 0;

  constructor(private readonly opts: { frequencyHz: number; levelsDb: number[]; stepMs: number }) {
    requireFinite(opts.frequencyHz, 'frequency');
    if (opts.levelsDb.length === 0) throw new UserError('The tone-burst generator needs at least one level.');
    for (const l of opts.levelsDb) requireFinite(l, 'level');
    if (!(opts.stepMs > 0)) throw new UserError(`The tone-burst step must be longer than 0 ms, not ${opts.stepMs}.`);
    this.gains = Float64Array.from(opts.levelsDb, dbToGain);
  }

  /** Frames each level lasts, once prepared. */
  get framesPerStep(): number { return this.stepFrames; }

  prepare(spec: ProcessSpec): void {
    requireBelowNyquist(this.opts.frequencyHz, spec.sampleRate, 'frequency');
    this.stepFrames = Math.max(1, Math.round(msToFrames(this.opts.stepMs, spec.sampleRate)));
    this.phaseStep = this.opts.frequencyHz / spec.sampleRate;
    this.reset();
  }

  reset(): void {
    this.phase = 0;
    this.position = 0;
    this.levelIndex = 0;
  }

  process(output: readonly Float32Array[], frames: number): void {
    const out = output[0]!;
    for (let i = 0; i < frames; i++) {
      out[i] = clamp1(this.gains[this.levelIndex]! * Math.sin(TWO_PI * this.phase));
      this.phase += this.phaseStep;
      if (this.phase >= 1) this.phase -= 1;
      if (++this.position === this.stepFrames) {
        this.position = 0;
        this.levelIndex = (this.levelIndex + 1) % this.gains.length;
      }
    }
    copyToOtherChannels(output, frames);
  }
}

/**
 * A logarithmic (exponential) sweep from fromHz to toHz in durationMs,
 * then again from the start: equal time per octave, so the sidechain
 * high-pass is easy to hear. levelDb is the peak in dBFS.
 */
export class SweepSource implements Source {
  private readonly gain: number;
  private sweepFrames = 1;
  /** Per-sample frequency ratio, (to/from)^(1/sweepFrames). */
  private ratio = 1;
  private startStep = 0;
  private step = 0;
  private phase = 0;
  private position = 0;

  constructor(private readonly opts: { fromHz: number; toHz: number; durationMs: number; levelDb: number }) {
    requireFinite(opts.fromHz, 'start frequency');
    requireFinite(opts.toHz, 'end frequency');
    requireFinite(opts.levelDb, 'level');
    if (!(opts.durationMs > 0)) throw new UserError(`The sweep must last longer than 0 ms, not ${opts.durationMs}.`);
    this.gain = dbToGain(opts.levelDb);
  }

  /** Where the sweep really ends once prepared: toHz, or just below half the sample rate. */
  get endHz(): number { return this.toHz; }
  private toHz = 0;

  prepare(spec: ProcessSpec): void {
    requireBelowNyquist(this.opts.fromHz, spec.sampleRate, 'start frequency');
    if (!(this.opts.toHz > 0)) requireBelowNyquist(this.opts.toHz, spec.sampleRate, 'end frequency');
    // The 20 kHz default would alias at 16–32 kHz rates; stop where the rate still draws a sine.
    this.toHz = Math.min(this.opts.toHz, 0.45 * spec.sampleRate);
    this.sweepFrames = Math.max(1, Math.round(msToFrames(this.opts.durationMs, spec.sampleRate)));
    this.ratio = Math.pow(this.toHz / this.opts.fromHz, 1 / this.sweepFrames);
    this.startStep = this.opts.fromHz / spec.sampleRate;
    this.reset();
  }

  reset(): void {
    this.phase = 0;
    this.position = 0;
    this.step = this.startStep;
  }

  process(output: readonly Float32Array[], frames: number): void {
    const out = output[0]!;
    for (let i = 0; i < frames; i++) {
      out[i] = clamp1(this.gain * Math.sin(TWO_PI * this.phase));
      this.phase += this.step;
      if (this.phase >= 1) this.phase -= 1;
      if (++this.position === this.sweepFrames) {
        this.position = 0;
        this.step = this.startStep;
      } else {
        this.step *= this.ratio;
      }
    }
    copyToOtherChannels(output, frames);
  }
}

/** One bar of the demo groove on a 16th-note grid: which voices hit on each step. */
const KICK_STEPS = [0, 6, 8, 10];
const SNARE_STEPS = [4, 12];
const HAT_STEPS = [0, 2, 4, 6, 8, 10, 12, 14];
const OPEN_HAT_STEPS = [14];
/** Bass notes [step, Hz, length in steps]: E1, G1, A1 under the kick. */
const BASS_NOTES: readonly (readonly [number, number, number])[] = [
  [0, 41.2, 3], [6, 49.0, 2], [8, 55.0, 2], [10, 41.2, 4], [14, 49.0, 2],
];

/**
 * The `demo` source: a synthesised drum-and-bass bar (kick, snare, hats,
 * a bass line) with sharp transients, looped sample-exactly. The bar is
 * rendered once in prepare() (noise seeded), so process() only copies.
 * levelDb is the loop's peak in dBFS.
 */
export class DrumLoopSource implements Source {
  readonly bpm: number;
  private readonly levelDb: number;
  private readonly seed: number;
  private bar: Float32Array = new Float32Array(0);
  private position = 0;

  constructor(opts: { bpm?: number; levelDb?: number; seed?: number } = {}) {
    this.bpm = opts.bpm ?? 120;
    this.levelDb = opts.levelDb ?? -3;
    this.seed = opts.seed ?? 7;
    if (!(this.bpm >= 30 && this.bpm <= 300)) throw new UserError(`The demo tempo must be 30 to 300 bpm, not ${this.bpm}.`);
    requireFinite(this.levelDb, 'level');
  }

  /** Samples in one bar (four beats), once prepared. */
  get barFrames(): number { return this.bar.length; }

  prepare(spec: ProcessSpec): void {
    this.bar = renderBar(spec.sampleRate, this.bpm, this.seed);
    const peak = this.bar.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    const scale = dbToGain(this.levelDb) / peak;
    for (let i = 0; i < this.bar.length; i++) this.bar[i] = clamp1(this.bar[i]! * scale);
    this.reset();
  }

  reset(): void { this.position = 0; }

  process(output: readonly Float32Array[], frames: number): void {
    const out = output[0]!;
    const bar = this.bar;
    let pos = this.position;
    for (let i = 0; i < frames; i++) {
      out[i] = bar[pos]!;
      if (++pos === bar.length) pos = 0;
    }
    this.position = pos;
    copyToOtherChannels(output, frames);
  }
}

/** Renders one bar; tails that run past the bar's end wrap to its start, so the loop is seamless. */
function renderBar(sampleRate: number, bpm: number, seed: number): Float32Array {
  const barFrames = Math.round((4 * 60 / bpm) * sampleRate);
  const bar = new Float32Array(barFrames);
  const stepStart = (step: number): number => Math.round((step * barFrames) / 16);
  const rng = new Xorshift32(seed);
  const add = (start: number, voice: Float32Array): void => {
    for (let i = 0; i < voice.length; i++) {
      const j = (start + i) % barFrames;
      bar[j] = bar[j]! + voice[i]!;
    }
  };
  const maxLen = barFrames; // no voice rings longer than a bar
  const kick = kickVoice(sampleRate, maxLen, rng);
  const snare = snareVoice(sampleRate, maxLen, rng);
  const hat = hatVoice(sampleRate, maxLen, rng, 0.015, 0.25);
  const openHat = hatVoice(sampleRate, maxLen, rng, 0.09, 0.2);
  for (const s of KICK_STEPS) add(stepStart(s), kick);
  for (const s of SNARE_STEPS) add(stepStart(s), snare);
  for (const s of HAT_STEPS) if (!OPEN_HAT_STEPS.includes(s)) add(stepStart(s), hat);
  for (const s of OPEN_HAT_STEPS) add(stepStart(s), openHat);
  for (const [s, hz, len] of BASS_NOTES) add(stepStart(s), bassVoice(sampleRate, hz, stepStart(len)));
  return bar;
}

function voiceLength(sampleRate: number, seconds: number, maxLen: number): number {
  return Math.min(maxLen, Math.round(seconds * sampleRate));
}

/** Kick: a sine gliding 160 → 45 Hz with a fast-decaying click on top. */
function kickVoice(sampleRate: number, maxLen: number, rng: Xorshift32): Float32Array {
  const v = new Float32Array(voiceLength(sampleRate, 0.6, maxLen));
  let phase = 0;
  for (let i = 0; i < v.length; i++) {
    const t = i / sampleRate;
    const hz = 45 + 115 * Math.exp(-t / 0.035);
    phase += hz / sampleRate;
    const body = Math.sin(TWO_PI * phase) * Math.exp(-t / 0.18);
    const click = rng.next() * Math.exp(-t / 0.002) * 0.6;
    v[i] = body + click;
  }
  return v;
}

/** Snare: a 190 Hz drum tone and a brighter noise rattle, both decaying fast. */
function snareVoice(sampleRate: number, maxLen: number, rng: Xorshift32): Float32Array {
  const v = new Float32Array(voiceLength(sampleRate, 0.35, maxLen));
  let prev = 0;
  for (let i = 0; i < v.length; i++) {
    const t = i / sampleRate;
    const white = rng.next();
    const bright = white - 0.6 * prev; // a gentle tilt toward the highs
    prev = white;
    v[i] = 0.5 * Math.sin(TWO_PI * 190 * t) * Math.exp(-t / 0.05) + 0.55 * bright * Math.exp(-t / 0.07);
  }
  return v;
}

/** Hi-hat: differenced (high-passed) noise with a short decay. */
function hatVoice(sampleRate: number, maxLen: number, rng: Xorshift32, decayS: number, level: number): Float32Array {
  const v = new Float32Array(voiceLength(sampleRate, decayS * 8, maxLen));
  let prev = 0;
  for (let i = 0; i < v.length; i++) {
    const white = rng.next();
    v[i] = level * (white - prev) * Math.exp(-i / sampleRate / decayS);
    prev = white;
  }
  return v;
}

/** Bass: fundamental plus two soft harmonics, quick attack, held for the note, short fade. */
function bassVoice(sampleRate: number, hz: number, frames: number): Float32Array {
  const v = new Float32Array(frames);
  const attack = 0.004 * sampleRate;
  const fade = Math.min(0.03 * sampleRate, frames / 2);
  for (let i = 0; i < frames; i++) {
    const ph = (TWO_PI * hz * i) / sampleRate;
    const env = Math.min(1, i / attack, (frames - i) / fade) * (0.6 + 0.4 * Math.exp(-i / sampleRate / 0.25));
    v[i] = 0.32 * env * (Math.sin(ph) + 0.35 * Math.sin(2 * ph) + 0.15 * Math.sin(3 * ph));
  }
  return v;
}

export type GeneratorName = 'sine' | 'pink' | 'bursts' | 'sweep' | 'demo';

export const GENERATOR_NAMES: readonly GeneratorName[] = ['sine', 'pink', 'bursts', 'sweep', 'demo'];

/** Options any generator may take; each uses the ones that apply to it. */
export interface GeneratorOptions {
  frequencyHz?: number;
  levelDb?: number;
  levelsDb?: number[];
  stepMs?: number;
  fromHz?: number;
  toHz?: number;
  durationMs?: number;
  bpm?: number;
  seed?: number;
}

/** A generator by name, with classroom defaults for anything not given. */
export function createGenerator(name: GeneratorName, opts: GeneratorOptions = {}): Source {
  switch (name) {
    case 'sine':
      return new SineSource({ frequencyHz: opts.frequencyHz ?? 1000, levelDb: opts.levelDb ?? -12 });
    case 'pink':
      return new PinkNoiseSource({ levelDb: opts.levelDb ?? -20, seed: opts.seed ?? 1 });
    case 'bursts':
      return new ToneBurstSource({
        frequencyHz: opts.frequencyHz ?? 1000, levelsDb: opts.levelsDb ?? [-30, -6], stepMs: opts.stepMs ?? 1000,
      });
    case 'sweep':
      return new SweepSource({
        fromHz: opts.fromHz ?? 20, toHz: opts.toHz ?? 20000, durationMs: opts.durationMs ?? 10000, levelDb: opts.levelDb ?? -12,
      });
    case 'demo':
      return new DrumLoopSource({ bpm: opts.bpm ?? 120, levelDb: opts.levelDb ?? -3, seed: opts.seed ?? 7 });
    default:
      throw new UserError(`Unknown generator '${String(name)}'; choose one of ${GENERATOR_NAMES.join(', ')}.`);
  }
}
