import assert from 'node:assert/strict';
import { Limiter } from '../../src/dsp/limiter.js';
import { dbToGain } from '../../src/dsp/kernel.js';
import { fastExp2, fastDbToGain } from '../../src/dsp/gain.js';
import { LinearRamp } from '../../src/dsp/smoother.js';
import { noise } from './strip-harness.test.js';

describe('Limiter (standalone kernel)', () => {
  it('keeps every float32 sample at or below the ceiling and passes quiet audio untouched', () => {
    for (const ceiling of [-20, -3, -0.3, 0]) {
      const lim = new Limiter(ceiling);
      lim.prepare({ sampleRate: 44100, maxBlockFrames: 300, channels: 2 });
      const l = noise(44100, 8, 3), r = noise(44100, 8, 4);
      const ol = new Float32Array(l.length), or = new Float32Array(r.length);
      for (let off = 0; off < l.length; off += 300) {
        const n = Math.min(300, l.length - off);
        lim.process([l.subarray(off, off + n), r.subarray(off, off + n)], [ol.subarray(off, off + n), or.subarray(off, off + n)], n);
      }
      const limit = dbToGain(ceiling);
      for (const y of [ol, or]) assert.ok(y.every((v) => Math.abs(v) <= limit), `ceiling ${ceiling}`);
      assert.equal(lim.latencyFrames, 0);
    }
    const lim = new Limiter(-1);
    lim.prepare({ sampleRate: 48000, maxBlockFrames: 128, channels: 1 });
    const x = noise(128, 0.5, 9), y = new Float32Array(128);
    lim.process([x], [y], 128);
    assert.deepEqual(y, x);
  });
  it('maps NaN/Inf input to silence', () => {
    const lim = new Limiter(-1);
    lim.prepare({ sampleRate: 48000, maxBlockFrames: 4, channels: 1 });
    const y = new Float32Array(4);
    lim.process([new Float32Array([NaN, Infinity, -Infinity, 0.5])], [y], 4);
    assert.deepEqual([...y], [0, 0, 0, 0.5]);
  });
});

describe('fast dB math (gain.ts)', () => {
  it('fastExp2 matches Math within 1e-6 dB', () => {
    for (let e = -60; e < 30; e += 0.0137) assert.ok(Math.abs(fastExp2(e) / 2 ** e - 1) < 1.2e-7, `exp2 ${e}`);
    assert.ok(Math.abs(fastDbToGain(-6) - dbToGain(-6)) < 1e-9);
    assert.equal(fastExp2(NaN), 2 ** -120);
  });
});

describe('LinearRamp', () => {
  it('reaches the target in exactly the ramp time, in equal steps', () => {
    const r = new LinearRamp(0, 8);
    r.setRampFrames(10);
    r.setTarget(1);
    assert.equal(r.render(8), true);
    assert.deepEqual([...r.values].map((v) => Math.round(v * 10) / 10), [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]);
    r.render(8);
    assert.equal(r.values[1], 1);
    assert.equal(r.render(8), true); // refilled constant once
    assert.equal(r.render(8), false);
    assert.ok(r.constant);
  });
});
