import assert from 'node:assert/strict';
import {
  createGenerator, DrumLoopSource, GENERATOR_NAMES, PinkNoiseSource, SineSource, SweepSource, ToneBurstSource,
  type Source,
} from '../../src/dsp/generators.js';
import { dbToGain } from '../../src/dsp/kernel.js';
import { UserError } from '../../src/errors.js';

const FS = 48000;

/** Runs a source for `frames` samples in blocks of 128, as the engine would; returns every channel. */
function render(src: Source, frames: number, channels = 1, sampleRate = FS): Float32Array[] {
  const block = 128;
  src.prepare({ sampleRate, maxBlockFrames: block, channels });
  const bufs = Array.from({ length: channels }, () => new Float32Array(block));
  const out = Array.from({ length: channels }, () => new Float32Array(frames));
  for (let pos = 0; pos < frames; pos += block) {
    const n = Math.min(block, frames - pos);
    src.process(bufs, n);
    for (let c = 0; c < channels; c++) out[c]!.set(bufs[c]!.subarray(0, n), pos);
  }
  return out;
}

function rms(x: Float32Array, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / (to - from));
}

function peak(x: Float32Array, from = 0, to = x.length): number {
  let m = 0;
  for (let i = from; i < to; i++) m = Math.max(m, Math.abs(x[i]!));
  return m;
}

const db = (x: number): number => 20 * Math.log10(x);

/** Sample positions (interpolated) where the signal crosses zero going up. */
function upwardCrossings(x: Float32Array): number[] {
  const at: number[] = [];
  for (let i = 1; i < x.length; i++) {
    if (x[i - 1]! < 0 && x[i]! >= 0) at.push(i - 1 + x[i - 1]! / (x[i - 1]! - x[i]!));
  }
  return at;
}

/** In-place radix-2 FFT (re, im of length 2^k). */
function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < len / 2; k++) {
        const wr = Math.cos(ang * k), wi = Math.sin(ang * k);
        const a = i + k, b = a + len / 2;
        const xr = re[b]! * wr - im[b]! * wi;
        const xi = re[b]! * wi + im[b]! * wr;
        re[b] = re[a]! - xr; im[b] = im[a]! - xi;
        re[a] = re[a]! + xr; im[a] = im[a]! + xi;
      }
    }
  }
}

/** Averaged power spectrum (Hann-windowed segments of `size`). */
function powerSpectrum(x: Float32Array, size: number): Float64Array {
  const psd = new Float64Array(size / 2);
  const segments = Math.floor(x.length / size);
  for (let s = 0; s < segments; s++) {
    const re = new Float64Array(size), im = new Float64Array(size);
    for (let i = 0; i < size; i++) re[i] = x[s * size + i]! * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / size));
    fft(re, im);
    for (let k = 0; k < size / 2; k++) psd[k] = psd[k]! + re[k]! * re[k]! + im[k]! * im[k]!;
  }
  return psd;
}

describe('generators', () => {
  describe('SineSource', () => {
    it('has the stated peak level and frequency, on every channel', () => {
      const [l, r] = render(new SineSource({ frequencyHz: 1000, levelDb: -6 }), FS, 2);
      assert.ok(Math.abs(db(peak(l!)) - -6) < 0.01);
      assert.ok(Math.abs(db(rms(l!)) - (-6 - 3.0103)) < 0.01);
      // 1000 cycles in a second; the first starts exactly at sample 0, which is not a crossing from below.
      assert.equal(upwardCrossings(l!).length, 999);
      assert.deepEqual(r, l);
    });

    it('clamps a level above 0 dBFS to full scale', () => {
      const [x] = render(new SineSource({ frequencyHz: 440, levelDb: 6 }), 4800);
      assert.equal(peak(x!), 1);
    });

    it('refuses a frequency at or above half the sample rate', () => {
      assert.throws(() => render(new SineSource({ frequencyHz: 30000, levelDb: -6 }), 10), UserError);
    });
  });

  describe('PinkNoiseSource', () => {
    const frames = 20 * FS;
    const [x] = render(new PinkNoiseSource({ levelDb: -20, seed: 3 }), frames);

    it('has the stated RMS level within 0.5 dB', () => {
      assert.ok(Math.abs(db(rms(x!)) - -20) < 0.5, `${db(rms(x!))} dB`);
    });

    it('falls about 3 dB per octave from 60 Hz to 12 kHz', () => {
      const size = 8192;
      const psd = powerSpectrum(x!, size);
      const binHz = FS / size;
      // Mean power density per octave band, then a least-squares line through dB vs octave number.
      const pts: [number, number][] = [];
      for (let lo = 62.5; lo * 2 <= 12000; lo *= 2) {
        let s = 0, n = 0;
        for (let k = Math.ceil(lo / binHz); k < (2 * lo) / binHz; k++) { s += psd[k]!; n++; }
        pts.push([Math.log2(lo), 10 * Math.log10(s / n)]);
      }
      const mx = pts.reduce((a, p) => a + p[0], 0) / pts.length;
      const my = pts.reduce((a, p) => a + p[1], 0) / pts.length;
      const slope = pts.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0) / pts.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
      assert.ok(slope < -2.3 && slope > -3.7, `slope ${slope.toFixed(2)} dB/octave`);
      for (const [oct, level] of pts) {
        const line = my + slope * (oct - mx);
        assert.ok(Math.abs(level - line) < 1.5, `octave at ${2 ** oct} Hz is ${(level - line).toFixed(2)} dB off the line`);
      }
    });

    it('is deterministic for a seed and differs between seeds', () => {
      const a = render(new PinkNoiseSource({ levelDb: -20, seed: 3 }), 5000)[0]!;
      assert.deepEqual(a, x!.subarray(0, 5000));
      const b = render(new PinkNoiseSource({ levelDb: -20, seed: 4 }), 5000)[0]!;
      assert.notDeepEqual(a, b);
    });

    it('reset() starts the same noise again', () => {
      const src = new PinkNoiseSource({ levelDb: -20, seed: 9 });
      const first = render(src, 1000)[0]!;
      src.reset();
      const buf = [new Float32Array(1000)];
      src.process(buf, 1000);
      assert.deepEqual(buf[0], first);
    });
  });

  describe('ToneBurstSource', () => {
    it('switches level exactly every stepMs, cycling through the levels', () => {
      const levels = [-30, -6, -18];
      const src = new ToneBurstSource({ frequencyHz: 1000, levelsDb: levels, stepMs: 100 });
      const [x] = render(src, 4 * 4800 + 100);
      assert.equal(src.framesPerStep, 4800);
      for (let n = 0; n < x!.length; n++) {
        const level = levels[Math.floor(n / 4800) % 3]!;
        const expected = dbToGain(level) * Math.sin((2 * Math.PI * 1000 * n) / FS);
        assert.ok(Math.abs(x![n]! - expected) < 1e-5, `sample ${n}`);
      }
      assert.ok(Math.abs(db(peak(x!, 0, 4800)) - -30) < 0.01);
      assert.ok(Math.abs(db(peak(x!, 4800, 9600)) - -6) < 0.01);
      assert.ok(Math.abs(db(peak(x!, 9600, 14400)) - -18) < 0.01);
      assert.ok(Math.abs(db(peak(x!, 14400, 19200)) - -30) < 0.01);
    });
  });

  describe('SweepSource', () => {
    it('starts at fromHz, ends at toHz, then starts again', () => {
      const src = new SweepSource({ fromHz: 100, toHz: 2000, durationMs: 1000, levelDb: -6 });
      const [x] = render(src, 2 * FS);
      const ups = upwardCrossings(x!);
      const freqAt = (sample: number): number => {
        const i = ups.findIndex((u) => u >= sample);
        return FS / (ups[i + 1]! - ups[i]!);
      };
      const expected = (t: number): number => 100 * Math.pow(20, t);
      assert.ok(Math.abs(freqAt(0) / expected(0.005) - 1) < 0.03, `start ${freqAt(0)} Hz`);
      assert.ok(Math.abs(freqAt(FS - 200) / 2000 - 1) < 0.03, `end ${freqAt(FS - 200)} Hz`);
      assert.ok(Math.abs(freqAt(FS / 2) / expected(0.5) - 1) < 0.03, `middle ${freqAt(FS / 2)} Hz`);
      assert.ok(Math.abs(freqAt(FS) / expected(0.005) - 1) < 0.03, `restart ${freqAt(FS)} Hz`);
      assert.ok(Math.abs(db(peak(x!)) - -6) < 0.05);
    });

    it('stops short of half the sample rate when toHz is above it', () => {
      const src = new SweepSource({ fromHz: 20, toHz: 20000, durationMs: 1000, levelDb: -6 });
      render(src, 10, 1, 16000);
      assert.equal(src.endHz, 7200);
    });
  });

  describe('DrumLoopSource', () => {
    const src = new DrumLoopSource({ bpm: 120, levelDb: -3, seed: 5 });
    const [x, y] = render(src, 3 * 2 * FS + 1000, 2);

    it('repeats exactly every bar (4 beats at the tempo)', () => {
      assert.equal(src.barFrames, 2 * FS);
      for (let n = 0; n + src.barFrames < x!.length; n++) {
        if (x![n] !== x![n + src.barFrames]) assert.fail(`sample ${n} differs from one bar later`);
      }
      assert.deepEqual(y, x);
    });

    it('peaks at levelDb and has transients: crest factor over 10 dB', () => {
      const bar = x!.subarray(0, src.barFrames);
      assert.ok(Math.abs(db(peak(bar)) - -3) < 0.01);
      const crest = db(peak(bar) / rms(bar));
      assert.ok(crest > 10, `crest ${crest.toFixed(1)} dB`);
    });

    it('is deterministic for a seed', () => {
      const again = render(new DrumLoopSource({ bpm: 120, levelDb: -3, seed: 5 }), 10000)[0]!;
      assert.deepEqual(again, x!.subarray(0, 10000));
      const other = render(new DrumLoopSource({ bpm: 120, levelDb: -3, seed: 6 }), 10000)[0]!;
      assert.notDeepEqual(other, again);
    });

    it('follows the tempo', () => {
      const fast = new DrumLoopSource({ bpm: 90 });
      fast.prepare({ sampleRate: 44100, maxBlockFrames: 128, channels: 1 });
      assert.equal(fast.barFrames, Math.round((4 * 60 / 90) * 44100));
    });
  });

  describe('createGenerator', () => {
    for (const name of GENERATOR_NAMES) {
      it(`'${name}' gives a bounded, audible, finite signal at 16 and 48 kHz`, () => {
        for (const rate of [16000, 48000]) {
          const [x] = render(createGenerator(name), 3 * rate, 1, rate);
          assert.ok(peak(x!) <= 1);
          assert.ok(peak(x!) > 0.01);
          assert.ok(x!.every(Number.isFinite));
        }
      });
    }

    it('an unknown name is a UserError listing the choices', () => {
      assert.throws(() => createGenerator('noise' as never), (e: unknown) =>
        e instanceof UserError && e.message.includes("'noise'") && e.message.includes('sine, pink, bursts, sweep, demo'));
    });
  });
});
