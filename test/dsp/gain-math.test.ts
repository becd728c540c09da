import assert from 'node:assert/strict';
import { dbToGain } from '../../src/dsp/kernel.js';
import { fastExp2, fastDbToGain } from '../../src/dsp/gain.js';
import { LinearRamp } from '../../src/dsp/smoother.js';

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
