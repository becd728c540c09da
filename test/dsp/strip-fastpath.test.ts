/**
 * The strip's fused stereo loops (fastChunk), in WebAssembly and in
 * JavaScript, must give exactly what the general multi-pass path gives:
 * same settings, same signal, same parameter changes at the same blocks,
 * bit-identical output and meters. Odd block sizes make the strip switch
 * between the two (the WebAssembly kernel takes even runs only).
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
      const block = [64, 128, 256, 1024, 129][trial % 5]!;
      const run = (fast: boolean, wasm = true): { out: Float32Array[]; gr: number[] } => {
        const strip = makeStrip(first, 48000, 2, block);
        assert.ok(strip.wasmReady, 'the WebAssembly kernel is built');
        strip.useFastPath = fast;
        strip.useWasm = wasm;
        const meters = new MeterBank(2);
        const gr: number[] = [];
        const out = runStrip(strip, input, block, (frame, s) => {
          for (const c of changes) if (c.at >= frame && c.at < frame + block) s.setParams(paramVector(c.to));
          gr.push(meters.grDb[0]!, meters.grDb[1]!, meters.detLevel[0]!, meters.detLevel[1]!);
          meters.clear();
        }, meters);
        return { out, gr };
      };
      const general = run(false, false);
      for (const [kind, fast] of [['WebAssembly', run(true)], ['JavaScript', run(true, false)]] as const) {
        for (let c = 0; c < 2; c++) {
          for (let i = 0; i < frames; i++) {
            if (!Object.is(fast.out[c]![i], general.out[c]![i])) {
              assert.fail(`${kind}: channel ${c} frame ${i}: fast ${fast.out[c]![i]} ≠ general ${general.out[c]![i]}`);
            }
          }
        }
        assert.deepEqual(fast.gr, general.gr, kind);
      }
    });
  }
});

/**
 * The limiter's idle skip (a block at rest whose sample peak, times the
 * interpolator's worst gain with true_peak on, stays under the ceiling
 * skips the per-frame work) must not change a bit either: the general run
 * (useFastPath false) does the per-frame work on every block. The signal
 * goes from rest (skipped) to near the ceiling (at rest, but over the
 * skip's bound: per-frame work that finds nothing) to over it (working)
 * and back, twice, with time for the release to reach rest in between.
 */
describe('CompressorStrip limiter idle skip', () => {
  const ceilingGain = 10 ** (-1 / 20);
  for (const truePeak of [true, false]) {
    for (const block of [128, 64, 256]) {
      it(`equals the per-frame limiter bit for bit from rest to work and back (true_peak ${truePeak}, block ${block})`, () => {
        const fs = 48000;
        // [seconds, amplitude, Hz]: ratio 1 and no makeup, so the limiter sees
        // the input. 12 kHz sampled 45° off its crests: samples at 0.71 of the
        // amplitude, the true peak over the ceiling (work only with true_peak).
        const parts: [number, number, number][] = [[0.2, 0.3, 997], [0.2, 0.87, 997], [0.05, 0.9, 997], [1.5, 0.3, 997],
          [0.1, 1, 12000], [1.5, 0.5, 997], [0.03, 1.5, 997], [1.5, 0.3, 997]];
        const frames = Math.round(parts.reduce((s, [t]) => s + t, 0) * fs);
        const input = [new Float32Array(frames), new Float32Array(frames)];
        let at = 0;
        // The louder channel changes every two parts (the peak is over both).
        parts.forEach(([t, amp, hz], part) => {
          const end = Math.min(frames, at + Math.round(t * fs));
          const [gl, gr] = (part >> 1) % 2 === 0 ? [1, -0.5] : [0.5, -1];
          for (let i = at; i < end; i++) {
            const x = amp * Math.sin(2 * Math.PI * hz * (i / fs) + Math.PI / 4);
            input[0]![i] = gl * x; input[1]![i] = gr * x;
          }
          at = end;
        });
        const settings: Partial<ParamValues> = { ratio: 1, makeup: 0, limiter: true, true_peak: truePeak, ceiling: -1 };
        const run = (fast: boolean): { out: Float32Array[]; restAtEnd: boolean } => {
          const strip = makeStrip(settings, fs, 2, block);
          strip.useFastPath = fast;
          strip.useWasm = fast;
          const out = runStrip(strip, input, block);
          const limiter = (strip as unknown as { limiter: { atRest: boolean } }).limiter;
          return { out, restAtEnd: limiter.atRest };
        };
        const fast = run(true), general = run(false);
        // The limiter did work (the bursts reach the ceiling) and came back to rest.
        const loudest = fast.out.flatMap((o) => [...o]).reduce((m, x) => Math.max(m, Math.abs(x)), 0);
        assert.ok(loudest <= ceilingGain && loudest > 0.95 * ceilingGain, `peak ${loudest}`);
        assert.ok(fast.restAtEnd && general.restAtEnd, 'the limiter is back at rest at the end');
        for (let c = 0; c < 2; c++) {
          for (let i = 0; i < frames; i++) {
            if (!Object.is(fast.out[c]![i], general.out[c]![i])) {
              assert.fail(`channel ${c} frame ${i}: skipping ${fast.out[c]![i]} ≠ per-frame ${general.out[c]![i]}`);
            }
          }
        }
      });
    }
  }
});
