/**
 * The contract every DSP kernel follows (modelled on JUCE's dsp module):
 * prepare() once with the stream's shape (all allocation happens here),
 * process() once per block on planar Float32Array channels in [-1, 1]
 * (no allocation, no I/O), reset() to clear state without reallocating.
 */
export interface ProcessSpec {
  readonly sampleRate: number;
  /** The largest block process() will ever be given. */
  readonly maxBlockFrames: number;
  readonly channels: number;
}

export interface Kernel {
  prepare(spec: ProcessSpec): void;
  reset(): void;
  /**
   * Reads `frames` samples from each input channel and writes as many to
   * each output channel. Input and output may be the same arrays.
   */
  process(input: readonly Float32Array[], output: readonly Float32Array[], frames: number): void;
  /** Delay of the output relative to the input, in frames. */
  readonly latencyFrames: number;
}

/** dB ↔ linear gain, shared so every module converts the same way. */
export function dbToGain(db: number): number {
  return Math.pow(10, db / 20);
}

/** Linear amplitude → dB; silence maps to SILENCE_DB, never -Infinity. */
export function gainToDb(gain: number): number {
  return gain > 1e-10 ? 20 * Math.log10(gain) : SILENCE_DB;
}

/** The floor of every dB figure the product reports (meters, plots). */
export const SILENCE_DB = -200;

export function msToFrames(ms: number, sampleRate: number): number {
  return (ms / 1000) * sampleRate;
}

/** One-pole coefficient for time constant tauMs: 63 % of a step in tauMs. */
export function onePoleCoeff(tauMs: number, sampleRate: number): number {
  return Math.exp(-1 / msToFrames(tauMs, sampleRate));
}

/** The sample rates every kernel is built and tested for. */
export const MIN_SAMPLE_RATE = 16000;
export const MAX_SAMPLE_RATE = 96000;

/** Channel counts the chain is built and tested for. */
export const MAX_CHANNELS = 8;
