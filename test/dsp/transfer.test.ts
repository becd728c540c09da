import assert from 'node:assert/strict';
import { autoMakeupDb, staticCurveDb } from '../../src/dsp/gain-computer.js';
import { transferDb } from '../../src/dsp/transfer.js';
import { defaultParams, type ParamValues } from '../../src/params/schema.js';

const params = (p: Partial<ParamValues>): ParamValues => ({ ...defaultParams(), limiter: false, ...p });

describe('steady-state transfer function', () => {
  it('is the static curve plus makeup, after input gain', () => {
    const p = params({ threshold: -24, ratio: 3, knee: 12, makeup: 4, input_gain: 6 });
    for (let x = -60; x <= 0; x += 0.5) assert.ok(Math.abs(transferDb(x, p) - (staticCurveDb(x + 6, -24, 3, 12) + 4)) < 1e-12, `at ${x}`);
  });

  it('adds auto makeup (SPEC 2.4)', () => {
    const p = params({ threshold: -18, ratio: 4, auto_makeup: true });
    assert.ok(Math.abs(transferDb(0, p) - (staticCurveDb(0, -18, 4, 6) + autoMakeupDb(-18, 4))) < 1e-12);
  });

  it('takes a hard knee (0 dB) exactly at the threshold without 0/0', () => {
    const p = params({ threshold: -18, ratio: 4, knee: 0 });
    assert.equal(transferDb(-18, p), -18);
    assert.equal(transferDb(-10, p), -16);
  });

  it('blends in the dry signal at mix below 100 %', () => {
    const p = params({ threshold: -40, ratio: 20, knee: 0, mix: 50 });
    // At 0 dBFS: wet is −38 dB, so half wet + half dry is 20·log10(0.5·10^(−38/20) + 0.5).
    assert.ok(Math.abs(transferDb(0, p) - 20 * Math.log10(0.5 * 10 ** (-38 / 20) + 0.5)) < 1e-9);
    assert.equal(transferDb(-50, p), -50);
  });

  it('holds the limiter\'s ceiling when it is on, and passes everything in bypass', () => {
    const p = params({ threshold: -30, ratio: 2, knee: 0, makeup: 20, limiter: true, ceiling: -6 });
    assert.equal(transferDb(0, p), -6);
    assert.equal(transferDb(-12, { ...p, bypass: true, input_gain: 10 }), -12);
  });
});
