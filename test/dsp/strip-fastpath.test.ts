/**
 * The strip's fused stereo loop (fastChunk) must give exactly what the
 * general multi-pass path gives: same settings, same signal, same
 * parameter changes at the same blocks, bit-identical output and meters.
 */
import assert from 'node:assert/strict';
import { MeterBank } from '../../src/dsp/meters.js';
import { PARAMS, type ParamValues } from '../../src/params/schema.js';
import { makeStrip, runStrip, noise, sine, paramVector } from './strip-harness.test.js';

/** Deterministic PRNG in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296; };
}

/** Random valid settings; `steady` keeps the ones the fast path needs (or not, to cover switching). */
function randomSettings(r: () => number, steady: boolean): Partial<ParamValues> {
  const out: Record<string, unknown> = {};
  for (const def of PARAMS) {
    if (def.kind === 'number') out[def.name] = Math.round((def.min + r() * (def.max - def.min)) / def.step) * def.step;
    else if (def.kind === 'bool') out[def.name] = r() < 0.5;
    else out[def.name] = def.options[Math.floor(r() * def.options.length)];
  }
  out.bypass = r() < 0.1;
  if (steady) {
    out.detector = 'peak'; out.sidechain_hpf = 0; out.lookahead = 0;
    out.link = r() < 0.5 ? 'max' : 'average';
    out.bypass = false;
  }
  return out as Partial<ParamValues>;
}

describe('CompressorStrip fused stereo path', () => {
  for (let trial = 0; trial < 12; trial++) {
    it(`equals the general path bit for bit (random settings and changes, trial ${trial})`, () => {
      const r = rng(1000 + trial);
      const first = randomSettings(r, trial % 3 !== 2);
      const changes = [1, 2, 3].map(() => ({ at: 128 * Math.floor(r() * 140), to: randomSettings(r, r() < 0.6) }));
      const frames = 48000 * 0.4;
      const amp = 0.05 + r() * 1.5;
      const input = [sine(frames, 50 + r() * 2000, amp), noise(frames, amp, 7 + trial)];
      // A burst of loud, then silence, then NaN, to cross the limiter and the idle snap.
      input[0]!.fill(0, 9000, 12000);
      input[1]!.fill(0, 9000, 12000);
      input[1]![13000] = NaN;
      const block = [64, 128, 256, 1024][trial % 4]!;
      const run = (fast: boolean): { out: Float32Array[]; gr: number[] } => {
        const strip = makeStrip(first, 48000, 2, block);
        strip.useFastPath = fast;
        const meters = new MeterBank(2);
        const gr: number[] = [];
        const out = runStrip(strip, input, block, (frame, s) => {
          for (const c of changes) if (c.at >= frame && c.at < frame + block) s.setParams(paramVector(c.to));
          gr.push(meters.grDb[0]!, meters.grDb[1]!, meters.detLevel[0]!, meters.detLevel[1]!);
          meters.clear();
        }, meters);
        return { out, gr };
      };
      const fast = run(true), general = run(false);
      for (let c = 0; c < 2; c++) {
        for (let i = 0; i < frames; i++) {
          if (!Object.is(fast.out[c]![i], general.out[c]![i])) {
            assert.fail(`channel ${c} frame ${i}: fast ${fast.out[c]![i]} ≠ general ${general.out[c]![i]}`);
          }
        }
      }
      assert.deepEqual(fast.gr, general.gr);
    });
  }
});
