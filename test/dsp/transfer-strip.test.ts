/**
 * The one steady-state transfer function (src/dsp/transfer.ts), which the
 * plot and the dashboard curve draw, against what the audio path really
 * does to a steady signal: the picture must not promise another sound.
 */
import assert from 'node:assert/strict';
import { transferDb } from '../../src/dsp/transfer.js';
import { defaultParams, type ParamValues } from '../../src/params/schema.js';
import { dc, makeStrip, runStrip } from './strip-harness.test.js';

const FS = 48000;

describe('transfer function against the strip', () => {
  const cases: [string, Partial<ParamValues>][] = [
    ['soft knee, input gain and makeup', { threshold: -30, ratio: 4, knee: 12, input_gain: 6, makeup: 3, limiter: false }],
    ['hard knee and auto makeup', { threshold: -20, ratio: 8, knee: 0, auto_makeup: true, limiter: false }],
    ['half wet', { threshold: -40, ratio: 10, knee: 6, mix: 50, limiter: false }],
    ['limiter ceiling', { threshold: -30, ratio: 2, knee: 0, makeup: 20, limiter: true, ceiling: -6 }],
    ['bypass', { threshold: -40, ratio: 20, input_gain: 12, bypass: true }],
  ];
  for (const [what, over] of cases) {
    it(`gives a steady signal the level transferDb says, within 0.1 dB: ${what}`, () => {
      const p = { ...defaultParams(), attack: 0.1, release: 5, ...over };
      for (let levelDb = -50; levelDb <= 0; levelDb += 5) {
        const x = dc(FS / 2, 10 ** (levelDb / 20));
        const [y] = runStrip(makeStrip(p), [x, x]);
        // Three quarters in, not the last sample: the harness ends the signal with a step to silence,
        // whose band-limited overshoot the true-peak limiter rightly meets a lookahead early.
        const got = 20 * Math.log10(Math.abs(y![Math.floor((y!.length * 3) / 4)]!));
        const want = transferDb(levelDb, p);
        assert.ok(Math.abs(got - want) < 0.1, `${levelDb} dBFS in: got ${got.toFixed(3)} dBFS out, transferDb says ${want.toFixed(3)}`);
      }
    });
  }
});
