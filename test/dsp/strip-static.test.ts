import assert from 'node:assert/strict';
import { staticGainDb } from '../../src/dsp/gain-computer.js';
import { autoMakeupDb } from '../../src/dsp/gain-computer.js';
import { makeStrip, runStrip, dc, gainDb, sine, concat } from './strip-harness.test.js';

const FS = 48000;

describe('CompressorStrip static curve (§2.1)', () => {
  for (const knee of [0, 6, 24]) {
    it(`steady-state gain follows the static curve within 0.1 dB, knee ${knee} dB`, () => {
      for (let levelDb = -60; levelDb <= 0; levelDb += 3) {
        const strip = makeStrip({ threshold: -30, ratio: 4, knee, limiter: false, attack: 0.1, release: 5 });
        const x = dc(FS / 4, 10 ** (levelDb / 20));
        const [y] = runStrip(strip, [x, x]);
        const got = gainDb(y!, x)[x.length - 1]!;
        // staticGainDb gives 0/0 exactly at threshold with a zero knee (the
        // curve's value there is 0 dB); the strip guards it, so does the test.
        const want = knee === 0 && levelDb === -30 ? 0 : staticGainDb(levelDb, -30, 4, knee);
        assert.ok(Math.abs(got - want) < 0.1, `level ${levelDb} dBFS: got ${got.toFixed(3)} dB, want ${want.toFixed(3)} dB`);
      }
    });
  }

  it('a square wave drives the same steady gain as DC of its amplitude', () => {
    const frames = FS / 2, x = new Float32Array(frames);
    for (let i = 0; i < frames; i++) x[i] = (Math.floor(i / 48) % 2 ? -1 : 1) * 0.5;
    const strip = makeStrip({ threshold: -24, ratio: 8, knee: 0, limiter: false, attack: 0.1, release: 5 });
    const [y] = runStrip(strip, [x, x]);
    const got = gainDb(y!, x)[frames - 1]!;
    assert.ok(Math.abs(got - staticGainDb(20 * Math.log10(0.5), -24, 8, 0)) < 0.1, `got ${got}`);
  });

  it('rms detector: a sine sits at amplitude/√2', () => {
    const amp = 0.5, x = sine(FS, 1000, amp);
    const strip = makeStrip({ detector: 'rms', rms_window: 10, threshold: -30, ratio: 4, knee: 0, limiter: false, attack: 50, release: 50 });
    const [y] = runStrip(strip, [x, x]);
    // Compare output and input energy over the last 10 ms (whole periods).
    let eo = 0, ei = 0;
    for (let i = FS - 480; i < FS; i++) { eo += y![i]! ** 2; ei += x[i]! ** 2; }
    const got = 10 * Math.log10(eo / ei);
    const want = staticGainDb(20 * Math.log10(amp / Math.SQRT2), -30, 4, 0);
    assert.ok(Math.abs(got - want) < 0.1, `got ${got}, want ${want}`);
  });

  it('makeup and auto makeup add their dB on top (§2.4)', () => {
    const x = dc(FS / 4, 10 ** (-40 / 20)); // below threshold: no reduction
    const [y] = runStrip(makeStrip({ makeup: 5, auto_makeup: true, threshold: -18, ratio: 4, limiter: false }), [x, x]);
    const got = gainDb(y!, x)[x.length - 1]!;
    assert.ok(Math.abs(got - (5 + autoMakeupDb(-18, 4))) < 1e-3, `got ${got}`);
    assert.ok(Math.abs(autoMakeupDb(-18, 4) - 6.75) < 1e-12);
  });

  it('silence stays silent with no gain reduction', () => {
    const strip = makeStrip();
    const x = dc(4800, 0);
    const [y] = runStrip(strip, [x, x]);
    assert.ok(y!.every((v) => v === 0));
    const x2 = concat(dc(4800, 0.9), dc(FS * 2, 0));
    const [y2] = runStrip(makeStrip({ release: 5 }), [x2, x2]);
    assert.ok(y2!.every((v) => Number.isFinite(v)));
  });
});
