import assert from 'node:assert/strict';
import { staticGainDb } from '../../src/dsp/gain-computer.js';
import { makeStrip, runStrip, dc, gainDb, concat } from './strip-harness.test.js';

const LOUD = 1.0, QUIET = 0.001; // 0 dBFS and −60 dBFS
const T = -30, R = 10;
const FULL = staticGainDb(0, T, R, 0); // −27 dB

/** Time (ms) from the step at `at` until the GR trajectory first covers 63 % of its change. */
function crossingMs(g: Float64Array, at: number, from: number, to: number, sampleRate: number): number {
  const level = from + (to - from) * (1 - 1 / Math.E);
  for (let i = at; i < g.length; i++) {
    if (to < from ? g[i]! <= level : g[i]! >= level) return ((i - at + 1) / sampleRate) * 1000;
  }
  return Infinity;
}

function stepRun(attack: number, release: number, sampleRate: number, channels: number, loudMs: number) {
  const pre = Math.round(sampleRate * 0.05), loud = Math.round((sampleRate * loudMs) / 1000), post = Math.round(sampleRate * 6);
  const x = concat(dc(pre, QUIET), dc(loud, LOUD), dc(post, QUIET));
  const strip = makeStrip({ threshold: T, ratio: R, knee: 0, attack, release, limiter: false }, sampleRate, channels);
  const [y] = runStrip(strip, Array.from({ length: channels }, () => x));
  const g = gainDb(y!, x);
  return {
    attackMs: crossingMs(g, pre, 0, FULL, sampleRate),
    releaseMs: crossingMs(g, pre + loud, g[pre + loud - 1]!, 0, sampleRate),
    settled: g[pre + loud - 1]!,
  };
}

const near = (got: number, want: number, what: string): void =>
  assert.ok(Math.abs(got - want) <= 0.1 * want, `${what}: got ${got.toFixed(3)} ms, want ${want} ms ±10 %`);

describe('CompressorStrip time constants (§2.2)', () => {
  for (const attack of [1, 10, 50]) {
    it(`attack ${attack} ms: 63 % of the reduction in ${attack} ms`, () => {
      near(stepRun(attack, 100, 48000, 2, 10 * attack + 50).attackMs, attack, 'attack');
    });
  }
  for (const release of [20, 150, 1000]) {
    it(`release ${release} ms with a 0.1 ms attack: 63 % recovery in ${release} ms`, () => {
      const r = stepRun(0.1, release, 48000, 2, 100);
      assert.ok(Math.abs(r.settled - FULL) < 0.01);
      near(r.releaseMs, release, 'release');
    });
  }
  it('a long attack does not slow a short release (branching detector)', () => {
    const r = stepRun(200, 20, 48000, 2, 3000);
    assert.ok(Math.abs(r.settled - FULL) < 0.05, `settled at ${r.settled}`);
    near(r.releaseMs, 20, 'release');
  });
  for (const [sampleRate, channels] of [[16000, 1], [44100, 2], [96000, 6]] as const) {
    it(`same constants in ms at ${sampleRate} Hz, ${channels} channel(s)`, () => {
      const r = stepRun(5, 80, sampleRate, channels, 200);
      near(r.attackMs, 5, 'attack');
      near(r.releaseMs, 80, 'release');
    });
  }
});
