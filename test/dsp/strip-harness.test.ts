/**
 * Shared helpers for the strip tests (a .test.ts file so it sits in the
 * test folder's own namespace; it registers no tests itself).
 */
import { CompressorStrip } from '../../src/dsp/strip.js';
import { MeterBank } from '../../src/dsp/meters.js';
import { defaultParams, type ParamValues } from '../../src/params/schema.js';
import { encodeParams } from '../../src/params/vector.js';

export function paramVector(over: Partial<ParamValues> = {}): Float64Array {
  return encodeParams({ ...defaultParams(), ...over });
}

export function makeStrip(over: Partial<ParamValues> = {}, sampleRate = 48000, channels = 2, maxBlockFrames = 128): CompressorStrip {
  const strip = new CompressorStrip(paramVector(over));
  strip.prepare({ sampleRate, channels, maxBlockFrames });
  return strip;
}

/** Per-block hook: called before each block with its first frame index. */
export type BlockHook = (frame: number, strip: CompressorStrip) => void;

/**
 * Runs whole signals through the strip in blocks; returns the outputs,
 * with the limiter's fixed lookahead taken out (the input is followed by
 * that many frames of silence and the output starts that much later), so
 * output frame i lines up with input frame i plus the compressor's own
 * lookahead. `raw` keeps the output as it left the strip.
 */
export function runStrip(strip: CompressorStrip, input: Float32Array[], block = 128, hook?: BlockHook, meters?: MeterBank, raw = false): Float32Array[] {
  const frames = input[0]!.length;
  const skip = raw ? 0 : strip.limiterDelayFrames;
  const padded = skip > 0 ? input.map((x) => concat(x, new Float32Array(skip))) : input;
  const total = frames + skip;
  const out = input.map(() => new Float32Array(total));
  for (let off = 0; off < total; off += block) {
    const n = Math.min(block, total - off);
    hook?.(off, strip);
    strip.process(padded.map((x) => x.subarray(off, off + n)), out.map((y) => y.subarray(off, off + n)), n, meters);
  }
  return skip > 0 ? out.map((y) => y.slice(skip)) : out;
}

export function dc(frames: number, value: number): Float32Array {
  return new Float32Array(frames).fill(value);
}

export function sine(frames: number, hz: number, amp: number, sampleRate = 48000): Float32Array {
  const x = new Float32Array(frames);
  for (let i = 0; i < frames; i++) x[i] = amp * Math.sin((2 * Math.PI * hz * i) / sampleRate);
  return x;
}

/** Deterministic uniform noise in [-amp, amp]. */
export function noise(frames: number, amp: number, seed = 1): Float32Array {
  const x = new Float32Array(frames);
  let s = seed >>> 0;
  for (let i = 0; i < frames; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = amp * ((s / 4294967296) * 2 - 1);
  }
  return x;
}

/** Applied gain in dB per sample where the (aligned) input is non-zero. */
export function gainDb(out: Float32Array, inp: Float32Array, delay = 0): Float64Array {
  const g = new Float64Array(out.length);
  for (let i = 0; i < out.length; i++) {
    const x = i - delay >= 0 ? inp[i - delay]! : 0;
    g[i] = x !== 0 ? 20 * Math.log10(Math.abs(out[i]! / x)) : NaN;
  }
  return g;
}

export function concat(...parts: Float32Array[]): Float32Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const x = new Float32Array(total);
  let o = 0;
  for (const p of parts) { x.set(p, o); o += p.length; }
  return x;
}
