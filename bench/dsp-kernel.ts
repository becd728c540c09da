/**
 * DSP kernel benchmark (SPEC §5): ns per stereo frame of the strip at
 * 48 kHz, block 128, and FFmpeg's acompressor on the same machine, timed
 * as (acompressor run) − (anull run) over a 60 s file so decoding and
 * process start-up cancel out. The signal is the same for both: a
 * music-like mix (tones + noise under a moving envelope, peaks near
 * −3 dBFS) so both compressors are actually compressing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompressorStrip } from '../src/dsp/strip.js';
import { defaultParams, type ParamValues } from '../src/params/schema.js';
import { encodeParams } from '../src/params/vector.js';

const SAMPLE_RATE = 48000;
const BLOCK = 128;

/** Deterministic music-like stereo test signal. */
function musicLike(frames: number): [Float32Array, Float32Array] {
  const l = new Float32Array(frames), r = new Float32Array(frames);
  let seed = 12345, env = 0.3, target = 0.3;
  const rnd = (): number => { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; return seed / 4294967296; };
  for (let i = 0; i < frames; i++) {
    if (i % 6000 === 0) target = 0.05 + 0.6 * rnd(); // a new "note" every 125 ms
    env += (target - env) * 0.002;
    const t = i / SAMPLE_RATE;
    const tone = 0.5 * Math.sin(2 * Math.PI * 110 * t) + 0.3 * Math.sin(2 * Math.PI * 440 * t) + 0.2 * Math.sin(2 * Math.PI * 1320 * t);
    l[i] = env * (0.8 * tone + 0.4 * (rnd() * 2 - 1));
    r[i] = env * (0.8 * tone + 0.4 * (rnd() * 2 - 1));
  }
  return [l, r];
}

function timeStrip(over: Partial<ParamValues>, signal: [Float32Array, Float32Array]): number {
  const strip = new CompressorStrip(encodeParams({ ...defaultParams(), ...over }));
  strip.prepare({ sampleRate: SAMPLE_RATE, maxBlockFrames: BLOCK, channels: 2 });
  const [l, r] = signal, frames = l.length - (l.length % BLOCK);
  // Blocks are views made once, outside the timed loop, as an engine would.
  const ins: Float32Array[][] = [], outs = [new Float32Array(BLOCK), new Float32Array(BLOCK)];
  for (let off = 0; off < frames; off += BLOCK) ins.push([l.subarray(off, off + BLOCK), r.subarray(off, off + BLOCK)]);
  const pass = (): void => { for (const block of ins) strip.process(block, outs, BLOCK); };
  pass(); pass(); // warm-up: let the JIT settle
  let best = Infinity;
  for (let k = 0; k < 5; k++) {
    const t0 = process.hrtime.bigint();
    pass();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / frames);
  }
  return best;
}

export async function benchKernel(): Promise<{ label: string; nsPerFrame: number }[]> {
  const signal = musicLike(SAMPLE_RATE * 4);
  return [
    { label: 'strip, default settings', nsPerFrame: timeStrip({}, signal) },
    {
      label: 'strip, all features (lookahead 5 ms, rms, hpf 80 Hz, limiter, link average)',
      nsPerFrame: timeStrip({ lookahead: 5, detector: 'rms', sidechain_hpf: 80, limiter: true, link: 'average' }, signal),
    },
  ];
}

function findFfmpeg(): string | null {
  if (existsSync('/usr/bin/ffmpeg')) return '/usr/bin/ffmpeg';
  try {
    execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
    return 'ffmpeg';
  } catch {
    return null;
  }
}

/** A 32-bit float stereo WAV (WAVE_FORMAT_IEEE_FLOAT). */
function floatWav(l: Float32Array, r: Float32Array): Buffer {
  const frames = l.length, dataBytes = frames * 8;
  const b = Buffer.alloc(44 + dataBytes);
  b.write('RIFF', 0); b.writeUInt32LE(36 + dataBytes, 4); b.write('WAVE', 8);
  b.write('fmt ', 12); b.writeUInt32LE(16, 16); b.writeUInt16LE(3, 20); b.writeUInt16LE(2, 22);
  b.writeUInt32LE(SAMPLE_RATE, 24); b.writeUInt32LE(SAMPLE_RATE * 8, 28); b.writeUInt16LE(8, 32); b.writeUInt16LE(32, 34);
  b.write('data', 36); b.writeUInt32LE(dataBytes, 40);
  for (let i = 0; i < frames; i++) { b.writeFloatLE(l[i]!, 44 + 8 * i); b.writeFloatLE(r[i]!, 48 + 8 * i); }
  return b;
}

export async function benchFfmpegKernel(): Promise<{ nsPerFrame: number } | null> {
  const ffmpeg = findFfmpeg();
  if (!ffmpeg) return null;
  const dir = mkdtempSync(join(tmpdir(), 'picomp-bench-'));
  try {
    const frames = SAMPLE_RATE * 60;
    const wav = join(dir, 'in.wav');
    writeFileSync(wav, floatWav(...musicLike(frames)));
    const run = (filter: string): number => {
      const t0 = process.hrtime.bigint();
      execFileSync(ffmpeg, ['-v', 'error', '-i', wav, '-af', filter, '-f', 'null', '-'], { stdio: 'ignore' });
      return Number(process.hrtime.bigint() - t0);
    };
    let comp = Infinity, base = Infinity;
    for (let k = 0; k < 5; k++) {
      comp = Math.min(comp, run('acompressor'));
      base = Math.min(base, run('anull'));
    }
    return { nsPerFrame: Math.max(0, comp - base) / frames };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
