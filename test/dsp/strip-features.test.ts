import assert from 'node:assert/strict';
import { MeterBank } from '../../src/dsp/meters.js';
import { dbToGain } from '../../src/dsp/kernel.js';
import { makeStrip, runStrip, dc, gainDb, sine, noise, concat, paramVector } from './strip-harness.test.js';
import type { ParamValues } from '../../src/params/schema.js';

const FS = 48000;

describe('CompressorStrip limiter (§2.5)', () => {
  const settings: Partial<ParamValues>[] = [
    {}, { makeup: 36 }, { input_gain: 24, makeup: 20, ratio: 1 }, { attack: 500, release: 5 },
    { lookahead: 5, mix: 50, detector: 'rms' }, { link: 'none', knee: 24, auto_makeup: true },
  ];
  for (const ceiling of [-24, -12, -6, -1, -0.1, 0]) {
    it(`random +20 dB noise never exceeds a ${ceiling} dBFS ceiling`, () => {
      const limit = dbToGain(ceiling);
      for (const [k, over] of settings.entries()) {
        const x = noise(FS / 2, 10, 7 + k), z = noise(FS / 2, 10, 99 + k);
        const out = runStrip(makeStrip({ ...over, limiter: true, ceiling }), [x, z], 100);
        for (const y of out) {
          let peak = 0;
          for (const v of y) peak = Math.max(peak, Math.abs(v));
          assert.ok(peak <= limit, `setting ${k}: peak ${peak} > ${limit}`);
          assert.ok(peak > limit * 0.5, 'the limiter must not simply mute');
        }
      }
    });
  }
  it('full-scale squares with the limiter off stay finite and within [-1, 1]', () => {
    const x = new Float32Array(FS / 2);
    for (let i = 0; i < x.length; i++) x[i] = Math.floor(i / 20) % 2 ? -1 : 1;
    const out = runStrip(makeStrip({ limiter: false, makeup: 36, input_gain: 24, ratio: 1 }), [x, x]);
    for (const y of out) assert.ok(y.every((v) => Number.isFinite(v) && v >= -1 && v <= 1));
    assert.ok(out[0]!.some((v) => v === 1) && out[0]!.some((v) => v === -1));
  });
});

describe('CompressorStrip stereo link', () => {
  const left = dc(FS / 4, 0.9), right = dc(FS / 4, 0.01);
  const settled = (link: ParamValues['link']): [number, number] => {
    const [l, r] = runStrip(makeStrip({ link, limiter: false, attack: 1, release: 10 }), [left, right]);
    return [gainDb(l!, left)[left.length - 1]!, gainDb(r!, right)[right.length - 1]!];
  };
  it('max: both channels get the loud channel\'s reduction', () => {
    const [l, r] = settled('max');
    assert.ok(l < -5);
    assert.ok(Math.abs(l - r) < 1e-4);
  });
  it('average: both channels get the same, smaller reduction', () => {
    const [l, r] = settled('average');
    const [lMax] = settled('max');
    assert.ok(Math.abs(l - r) < 1e-4);
    assert.ok(l < -1 && l > lMax);
  });
  it('none: only the loud channel is reduced', () => {
    const [l, r] = settled('none');
    assert.ok(l < -5);
    assert.ok(Math.abs(r) < 1e-4, `right ${r}`);
  });
  it('switching link modes mid-signal glides (< 0.1 dB per sample)', () => {
    const l = dc(FS, 0.9), r = dc(FS, 0.05);
    const modes: ParamValues['link'][] = ['max', 'none', 'average', 'none', 'max'];
    // Attack 5 ms: a new target may only be approached at the attack's pace.
    const [yl, yr] = runStrip(makeStrip({ limiter: false, attack: 5, release: 50 }), [l, r], 128, (f, s) => {
      if (f > 0 && f % 9600 < 128) s.setParams(paramVector({ limiter: false, attack: 5, release: 50, link: modes[Math.floor(f / 9600)]! }));
    });
    for (const [y, x] of [[yl!, l], [yr!, r]] as const) {
      const g = gainDb(y, x);
      for (let i = 4801; i < g.length; i++) assert.ok(Math.abs(g[i]! - g[i - 1]!) < 0.1, `jump at ${i}: ${g[i - 1]} → ${g[i]}`);
    }
  });
});

describe('CompressorStrip lookahead', () => {
  it('delays the signal by the lookahead and lowers the gain before the transient arrives', () => {
    const pre = 4800, x = concat(dc(pre, 0.001), dc(4800, 1));
    const strip = makeStrip({ lookahead: 5, attack: 1, limiter: false });
    assert.equal(strip.latencyFrames, 240 + strip.limiterDelayFrames);
    const [y] = runStrip(strip, [x, x]);
    assert.ok(Math.abs(y![pre + 239]!) <= 0.001, 'the quiet part still plays until the delay has passed');
    assert.ok(y![pre + 240]! > 0.01, 'the step arrives exactly 240 frames late');
    const arrival = gainDb(y!, x, 240)[pre + 240]!;
    assert.ok(arrival < -10, `gain when the step reaches the output: ${arrival} dB`);
  });
  it('changing the lookahead crossfades instead of clicking', () => {
    const x = sine(FS, 500, 0.5);
    const strip = makeStrip({ limiter: false, threshold: 0 });
    const [y] = runStrip(strip, [x, x], 128, (f, s) => {
      if (f === 9600) s.setParams(paramVector({ limiter: false, threshold: 0, lookahead: 7.3 }));
      if (f === 19200) s.setParams(paramVector({ limiter: false, threshold: 0, lookahead: 0.5 }));
    });
    const natural = 2 * Math.PI * 500 / FS * 0.5;
    for (let i = 1; i < y!.length; i++) assert.ok(Math.abs(y![i]! - y![i - 1]!) <= natural * 1.05, `step at ${i}`);
    assert.equal(strip.latencyFrames, 24 + strip.limiterDelayFrames);
    // Settled: exactly the input delayed by 24 frames.
    for (let i = 40000; i < 40100; i++) assert.ok(Math.abs(y![i]! - x[i - 24]!) < 1e-6);
  });
});

describe('CompressorStrip sidechain HPF', () => {
  const grOf = (hpf: number): number => {
    const x = sine(FS, 40, 0.5);
    const meters = new MeterBank(2);
    const strip = makeStrip({ sidechain_hpf: hpf, attack: 5, release: 100, limiter: false });
    runStrip(strip, [x, x], 128, (f) => { if (f === FS - 4800) meters.clear(); }, meters);
    return meters.grDb[0]!;
  };
  it('40 Hz bass drives less gain reduction with the HPF at 200 Hz', () => {
    const off = grOf(0), on = grOf(200);
    assert.ok(off < -5, `without HPF: ${off} dB`);
    assert.ok(on > off + 5, `with HPF: ${on} dB vs ${off} dB`);
  });
  it('cutoff changes, switching on and off stay finite and glide', () => {
    const x = sine(FS, 60, 0.5);
    const cut = [0, 200, 20, 500, 0, 80];
    const [y] = runStrip(makeStrip({ limiter: false, attack: 0.1, release: 5 }), [x, x], 128, (f, s) => {
      if (f > 0 && f % 8000 < 128) s.setParams(paramVector({ limiter: false, attack: 0.1, release: 5, sidechain_hpf: cut[Math.floor(f / 8000)] ?? 80 }));
    });
    assert.ok(y!.every((v) => Number.isFinite(v) && Math.abs(v) <= 0.5));
  });
});

describe('CompressorStrip mix and bypass', () => {
  it('mix 50 % is the even blend of the compressed and the dry signal', () => {
    const x = dc(FS / 4, 0.8);
    const [wet] = runStrip(makeStrip({ limiter: false }), [x, x]);
    const [half] = runStrip(makeStrip({ limiter: false, mix: 50 }), [x, x]);
    const n = x.length - 1;
    assert.ok(wet![n]! < 0.5);
    assert.ok(Math.abs(half![n]! - (0.5 * wet![n]! + 0.5 * 0.8)) < 1e-6);
  });
  it('bypass fades to exactly the delayed input without a jump', () => {
    const x = sine(FS, 1000, 0.9);
    const strip = makeStrip({ lookahead: 2 });
    const [y] = runStrip(strip, [x, x], 128, (f, s) => {
      if (f === 9600) s.setParams(paramVector({ lookahead: 2, bypass: true }));
    });
    const natural = 2 * Math.PI * 1000 / FS * 0.9;
    for (let i = 1; i < y!.length; i++) assert.ok(Math.abs(y![i]! - y![i - 1]!) <= natural * 1.05, `step at ${i}`);
    for (let i = 9600 + 2400; i < FS; i++) assert.equal(y![i], x[i - 96]);
  });
});

describe('CompressorStrip parameter smoothing (§2.3)', () => {
  const base: Partial<ParamValues> = { limiter: false, attack: 0.1, release: 5, knee: 0 };
  const cases: [string, Partial<ParamValues>][] = [
    ['threshold', { threshold: -45 }], ['makeup', { makeup: 24 }], ['mix', { mix: 0 }],
    ['input_gain', { input_gain: -24 }], ['ratio', { ratio: 20 }], ['auto_makeup', { auto_makeup: true }],
    ['a preset load', { threshold: -40, ratio: 10, knee: 12, makeup: 12, input_gain: 6, mix: 70, detector: 'rms', link: 'none' }],
  ];
  for (const [name, change] of cases) {
    it(`${name}: glides (< 0.1 dB per sample) and is fully applied within 50 ms`, () => {
      const x = dc(FS / 2, 0.3), at = 9600;
      const [y] = runStrip(makeStrip(base), [x, x], 128, (f, s) => { if (f === at) s.setParams(paramVector({ ...base, ...change })); });
      const g = gainDb(y!, x);
      // From 100 ms on: the onset of the DC itself is the attack's business.
      for (let i = 4801; i < g.length; i++) assert.ok(Math.abs(g[i]! - g[i - 1]!) < 0.1, `jump at ${i}: ${g[i - 1]} → ${g[i]}`);
      const [ref] = runStrip(makeStrip({ ...base, ...change }), [x, x]);
      const want = gainDb(ref!, x)[x.length - 1]!;
      assert.ok(Math.abs(g[at + 2400]! - want) < 0.01, `50 ms after: ${g[at + 2400]} dB, want ${want} dB`);
      assert.ok(Math.abs(g[at - 1]! - g[0 + 4800]!) < 0.01, 'nothing moved before the change');
    });
  }
  it('detector peak → rms → peak changes glide', () => {
    const x = sine(FS, 100, 0.7);
    const p = { limiter: false, attack: 5, release: 50 };
    const [y] = runStrip(makeStrip(p), [x, x], 128, (f, s) => {
      if (f === 9600) s.setParams(paramVector({ ...p, detector: 'rms', rms_window: 30 }));
      if (f === 19200) s.setParams(paramVector({ ...p, detector: 'rms', rms_window: 5 }));
      if (f === 28800) s.setParams(paramVector({ ...p, detector: 'peak' }));
    });
    const g = gainDb(y!, x);
    let prev = NaN;
    for (let i = 0; i < g.length; i++) {
      if (Math.abs(x[i]!) < 0.05) continue; // gain is ill-defined near zero crossings
      if (!Number.isNaN(prev)) assert.ok(Math.abs(g[i]! - prev) < 0.25, `jump at ${i}`);
      prev = g[i]!;
    }
  });
});

describe('CompressorStrip input hygiene (§2.6)', () => {
  it('NaN, ±Inf bursts and denormals act as silence and the chain recovers at once', () => {
    const clean = concat(sine(9600, 300, 0.8), dc(200, 0), sine(9600, 300, 0.8), dc(1000, 0), sine(9600, 300, 0.8));
    const dirty = clean.slice();
    for (let i = 9600; i < 9800; i++) dirty[i] = [NaN, Infinity, -Infinity, 1e-40][i % 4]!;
    for (let i = 19400; i < 20400; i++) dirty[i] = i % 2 ? 1e-45 : -1e-39;
    for (const over of [{}, { detector: 'rms' as const, sidechain_hpf: 120, lookahead: 3 }]) {
      const [a] = runStrip(makeStrip(over), [dirty, dirty]);
      const [b] = runStrip(makeStrip(over), [clean, clean]);
      assert.ok(a!.every((v) => Number.isFinite(v) && Math.abs(v) <= 1));
      assert.deepEqual(a, b);
    }
  });
});

describe('CompressorStrip channels', () => {
  for (const channels of [1, 2, 6]) {
    it(`${channels} channel(s), linked: every channel carries the same gain`, () => {
      const ins = Array.from({ length: channels }, (_, c) => dc(FS / 8, 0.2 + 0.1 * c));
      const out = runStrip(makeStrip({ limiter: false }, FS, channels), ins);
      const g = out.map((y, c) => gainDb(y, ins[c]!)[y.length - 1]!);
      for (const v of g) assert.ok(Math.abs(v - g[0]!) < 1e-4 && v < -1);
    });
  }
});
