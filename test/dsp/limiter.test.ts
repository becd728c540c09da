/**
 * The output limiter (SPEC §2.5) through the whole strip, on real renders:
 * distortion of steady tones, true peak, the ceiling on random material,
 * click-free switching and ceiling moves, and the end-of-file hold.
 */
import assert from 'node:assert/strict';
import { dbToGain } from '../../src/dsp/kernel.js';
import { DrumLoopSource, PinkNoiseSource, type Source } from '../../src/dsp/generators.js';
import type { ParamValues } from '../../src/params/schema.js';
import { makeStrip, runStrip, sine, noise, paramVector } from './strip-harness.test.js';

const FS = 48000;
/** The compressor out of the way: only the limiter acts. */
const NEUTRAL: Partial<ParamValues> = { threshold: 0, ratio: 1, knee: 0 };

/**
 * THD+N in dB of y[from, to) against a pure tone at hz: least-squares fit
 * of a·sin + b·cos + c, everything else is distortion and noise.
 */
function thdN(y: Float32Array, hz: number, from: number, to: number): number {
  const w = (2 * Math.PI * hz) / FS;
  // Normal equations of [sin, cos, 1].
  const m = [[0, 0, 0], [0, 0, 0], [0, 0, 0]], v = [0, 0, 0];
  for (let i = from; i < to; i++) {
    const f = [Math.sin(w * i), Math.cos(w * i), 1];
    for (let r = 0; r < 3; r++) { v[r] += f[r]! * y[i]!; for (let c = 0; c < 3; c++) m[r]![c] += f[r]! * f[c]!; }
  }
  const coef = solve3(m, v);
  let sig = 0, res = 0;
  for (let i = from; i < to; i++) {
    const fit = coef[0]! * Math.sin(w * i) + coef[1]! * Math.cos(w * i) + coef[2]!;
    sig += fit * fit;
    res += (y[i]! - fit) ** 2;
  }
  return 10 * Math.log10(res / sig);
}

function solve3(a: number[][], b: number[]): number[] {
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < 3; c++) {
    const p = m.slice(c).reduce((best, row, k) => (Math.abs(row[c]!) > Math.abs(m[best]![c]!) ? c + k : best), c);
    [m[c], m[p]] = [m[p]!, m[c]!];
    for (let r = 0; r < 3; r++) {
      if (r === c) continue;
      const f = m[r]![c]! / m[c]![c]!;
      for (let k = c; k < 4; k++) m[r]![k] -= f * m[c]![k]!;
    }
  }
  return m.map((row, i) => row[3]! / row[i]!);
}

/**
 * True peak of x by 4× oversampling, measured independently of the
 * product's interpolator: 64 taps per phase (the product uses 24), a
 * Blackman-windowed sinc cut off at Nyquist, i.e. as close to ideal
 * band-limited reconstruction as 4× allows.
 */
function truePeak(x: Float32Array): number {
  const HALF = 32, cut = 1, taps: number[][] = [];
  for (let ph = 0; ph < 4; ph++) {
    const t: number[] = [];
    for (let j = -HALF + 1; j <= HALF; j++) {
      const tau = j - ph / 4, r = tau / HALF;
      const win = 0.42 + 0.5 * Math.cos(Math.PI * r) + 0.08 * Math.cos(2 * Math.PI * r);
      t.push(cut * (tau === 0 ? 1 : Math.sin(Math.PI * cut * tau) / (Math.PI * cut * tau)) * win);
    }
    const sum = t.reduce((a, v) => a + v, 0);
    taps.push(t.map((v) => v / sum));
  }
  let peak = 0;
  for (let m = HALF; m + HALF < x.length; m++) {
    for (const t of taps) {
      let y = 0;
      for (let k = 0; k < t.length; k++) y += t[k]! * x[m + k - HALF + 1]!;
      peak = Math.max(peak, Math.abs(y));
    }
  }
  return peak;
}

/**
 * A generator's output as a recording would hold it: band-limited to
 * 20 kHz (a 255-tap windowed-sinc low-pass), as every converter's
 * anti-alias filter leaves it. The generators' raw noise runs at full
 * level right up to Nyquist (white hi-hats, clipped edges), where no two
 * interpolators agree on the overshoot to better than a few tenths of a dB.
 */
function render(src: Source, frames: number): Float32Array[] {
  src.prepare({ sampleRate: FS, channels: 2, maxBlockFrames: frames });
  const raw = [new Float32Array(frames), new Float32Array(frames)];
  src.process(raw, frames);
  const HALF = 127, cut = (2 * 20000) / FS, taps: number[] = [];
  for (let j = -HALF; j <= HALF; j++) {
    const r = j / (HALF + 1), win = 0.42 + 0.5 * Math.cos(Math.PI * r) + 0.08 * Math.cos(2 * Math.PI * r);
    taps.push(cut * (j === 0 ? 1 : Math.sin(Math.PI * cut * j) / (Math.PI * cut * j)) * win);
  }
  return raw.map((x) => {
    const y = new Float32Array(frames);
    for (let i = HALF; i < frames - HALF; i++) {
      let s = 0;
      for (let k = 0; k < taps.length; k++) s += taps[k]! * x[i + k - HALF]!;
      y[i] = s;
    }
    return y;
  });
}

const db = (x: number): number => 20 * Math.log10(x);

function tone(hz: number, phase: number): Float32Array[] {
  const t = new Float32Array(FS);
  for (let i = 0; i < FS; i++) t[i] = 0.9 * Math.sin((2 * Math.PI * hz * i) / FS + phase);
  return [t, t];
}

describe('limiter: clean on steady tones (§2.5)', () => {
  for (const [hz, bound] of [[1000, -80], [50, -60]] as const) {
    it(`a ${hz} Hz tone 6 dB over a −1 dBFS ceiling: THD+N ≤ ${bound} dB`, () => {
      const x = sine(FS * 1.5, hz, dbToGain(-1));
      const [y] = runStrip(makeStrip({ ...NEUTRAL, input_gain: 6, ceiling: -1 }), [x, x]);
      // After the onset: a whole number of periods of the last second.
      const d = thdN(y!, hz, FS / 2, FS * 1.5);
      assert.ok(d <= bound, `THD+N ${d.toFixed(1)} dB`);
      const peak = y!.slice(FS / 2).reduce((p, v) => Math.max(p, Math.abs(v)), 0);
      assert.ok(peak <= dbToGain(-1) && peak > dbToGain(-1.1), `peak ${db(peak).toFixed(2)} dBFS`);
    });
  }
});

describe('limiter: true peak (§2.5)', () => {
  const cases: [string, () => Float32Array[], number][] = [
    ['loud pink noise', () => render(new PinkNoiseSource({ levelDb: -6, seed: 3 }), FS * 2), 12],
    ['drums', () => render(new DrumLoopSource({ levelDb: -3 }), FS * 2), 12],
    // Phases where the samples never reach the crests: up to 3 dB between samples.
    ['a 12 kHz tone', () => tone(12000, Math.PI / 4), 6],
    ['a 16 kHz tone', () => tone(16000, 0), 6],
    ['an 18 kHz tone', () => tone(18000, Math.PI / 8), 6],
  ];
  for (const [name, make, gainDb] of cases) {
    for (const ceiling of [-1, -3]) {
      it(`${name} pushed ${gainDb} dB: true peak within 0.1 dB of a ${ceiling} dBFS ceiling`, () => {
        const input = make();
        const on = runStrip(makeStrip({ ...NEUTRAL, input_gain: gainDb, ceiling, true_peak: true }), input);
        const off = runStrip(makeStrip({ ...NEUTRAL, input_gain: gainDb, ceiling, true_peak: false }), input);
        const tpOn = Math.max(...on.map(truePeak)), tpOff = Math.max(...off.map(truePeak));
        assert.ok(db(tpOn) <= ceiling + 0.1 && db(tpOn) > ceiling - 0.5, `true peak ${db(tpOn).toFixed(2)} dBTP`);
        // The measurement sees what true_peak prevents.
        if (name !== 'drums') assert.ok(db(tpOff) > ceiling + 0.2, `without true_peak: ${db(tpOff).toFixed(2)} dBTP`);
        for (const y of on) assert.ok(y.every((v) => Math.abs(v) <= dbToGain(ceiling)));
      });
    }
  }
});

describe('limiter: the sample peak never exceeds the ceiling (§2.5)', () => {
  /** Deterministic PRNG in [0, 1). */
  function rng(seed: number): () => number {
    let s = seed >>> 0;
    return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296; };
  }
  for (let trial = 0; trial < 16; trial++) {
    it(`random loud material and random settings, trial ${trial}`, () => {
      const r = rng(500 + trial);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
      const ceiling = Math.round((-24 + r() * 24) * 10) / 10;
      const settings: Partial<ParamValues> = {
        ceiling, limiter: true, true_peak: r() < 0.5,
        threshold: -60 + r() * 60, ratio: 1 + r() * 19, knee: r() * 24, attack: 0.1 + r() * 100, release: 5 + r() * 500,
        makeup: -12 + r() * 48, input_gain: -6 + r() * 30, lookahead: pick([0, 0, 2.5, 20]),
        detector: pick(['peak', 'rms'] as const), link: pick(['max', 'average', 'none'] as const),
        sidechain_hpf: pick([0, 0, 120]), mix: pick([100, 100, 40]),
      };
      const frames = FS / 2, amp = 0.05 + r() * 4;
      const burst = (seed: number): Float32Array => {
        const x = noise(frames, amp, seed);
        for (let i = 0; i < frames; i++) x[i] *= i % 9000 < 4000 ? 1 : 0.05; // loud and quiet stretches
        return x;
      };
      const block = pick([32, 128, 441, 1024]);
      // A second setting midway, with its own ceiling: the ceiling holds while it glides too.
      const second = { ...settings, ceiling: Math.round((-24 + r() * 24) * 10) / 10, makeup: -12 + r() * 48 };
      const out = runStrip(makeStrip(settings, FS, 2, block), [burst(trial + 1), burst(trial + 99)], block, (f, s) => {
        if (f >= frames / 2 && f < frames / 2 + block) s.setParams(paramVector(second));
      });
      const limit = dbToGain(Math.max(ceiling, second.ceiling));
      const before = dbToGain(ceiling);
      for (const y of out) {
        for (let i = 0; i < frames; i++) {
          const bound = i < frames / 2 - block ? before : limit;
          if (!(Math.abs(y[i]!) <= bound)) assert.fail(`frame ${i}: ${y[i]} over the ceiling ${db(bound).toFixed(2)} dBFS`);
        }
      }
    });
  }
});

/** Applied gain in dB per frame where the input is loud enough to tell. */
function gains(y: Float32Array, x: Float32Array): number[] {
  const g: number[] = [];
  for (let i = 0; i < x.length; i++) if (Math.abs(x[i]!) > 0.2) g.push(db(Math.abs(y[i]! / x[i]!)));
  return g;
}

describe('limiter: switching and ceiling moves glide (§2.3)', () => {
  const x = sine(FS, 1000, 0.95);
  it('switching the limiter on and off over a loud tone: < 0.1 dB per sample, settled within 50 ms', () => {
    const base = { ...NEUTRAL, ceiling: -9, limiter: false };
    const [y] = runStrip(makeStrip(base), [x, x], 128, (f, s) => {
      if (f === 12800) s.setParams(paramVector({ ...base, limiter: true }));
      if (f === 32000) s.setParams(paramVector({ ...base, limiter: false }));
    });
    const g = gains(y!.slice(6400), x.slice(6400));
    for (let i = 1; i < g.length; i++) assert.ok(Math.abs(g[i]! - g[i - 1]!) < 0.1, `gain step ${(g[i]! - g[i - 1]!).toFixed(2)} dB`);
    // 50 ms after switching on: at the ceiling; 50 ms after off: untouched.
    const peakAt = (from: number): number => y!.slice(from, from + 480).reduce((p, v) => Math.max(p, Math.abs(v)), 0);
    assert.ok(Math.abs(db(peakAt(12800 + 2400)) - -9) < 0.1, `on: ${db(peakAt(15200))}`);
    assert.ok(Math.abs(peakAt(32000 + 2400) - 0.95) < 1e-3, `off: ${peakAt(34400)}`);
  });
  it('moving the ceiling glides and is fully applied within 50 ms', () => {
    const base = { ...NEUTRAL, ceiling: -6 };
    const [y] = runStrip(makeStrip(base), [x, x], 128, (f, s) => {
      if (f === 12800) s.setParams(paramVector({ ...base, ceiling: -14 }));
      if (f === 25600) s.setParams(paramVector({ ...base, ceiling: -2 }));
    });
    const g = gains(y!.slice(6400), x.slice(6400));
    for (let i = 1; i < g.length; i++) assert.ok(Math.abs(g[i]! - g[i - 1]!) < 0.1, `gain step ${(g[i]! - g[i - 1]!).toFixed(2)} dB`);
    const peakAt = (from: number): number => y!.slice(from, from + 480).reduce((p, v) => Math.max(p, Math.abs(v)), 0);
    assert.ok(Math.abs(db(peakAt(12800 + 2400)) - -14) < 0.1);
    // Raised, the limit is there within 20 ms and the gain rises to it
    // along the limiter's release (12 ms hold, 50 ms time constant), as
    // after any peak: from −14 to −2 dB that takes about 250 ms.
    assert.ok(Math.abs(db(peakAt(25600 + 14400)) - -2) < 0.1, `${db(peakAt(25600 + 14400))}`);
  });
});

describe('strip: holdLevel() (a render\'s end of file)', () => {
  it('the frames still in the lookahead keep the gain instead of getting louder', () => {
    const settings = { threshold: -30, ratio: 4, knee: 0, attack: 1, release: 10, lookahead: 5, limiter: false };
    const x = sine(FS / 2, 1000, 0.5);
    const tail = (hold: boolean): number => {
      const strip = makeStrip(settings);
      const lat = strip.latencyFrames;
      const input = [x, new Float32Array(lat)];
      const out: number[] = [];
      for (const [k, part] of input.entries()) {
        if (k === 1 && hold) strip.holdLevel();
        for (let off = 0; off < part.length; off += 128) {
          const n = Math.min(128, part.length - off);
          const o = [new Float32Array(n), new Float32Array(n)];
          strip.process([part.subarray(off, off + n), part.subarray(off, off + n)], o, n);
          out.push(...o[0]!);
        }
      }
      // The input's last 5 ms as they come out, against the 5 ms before.
      const end = out.length, last = out.slice(end - 240, end), before = out.slice(end - 720, end - 240);
      const peak = (a: number[]): number => a.reduce((p, v) => Math.max(p, Math.abs(v)), 0);
      return db(peak(last) / peak(before));
    };
    assert.ok(Math.abs(tail(true)) < 0.1, `held: ${tail(true).toFixed(2)} dB`);
    assert.ok(tail(false) > 3, `without the hold the end comes out louder: ${tail(false).toFixed(2)} dB`);
  });
});
