/**
 * The WebAssembly kernel's limiter (stereo-wasm.ts, limit() and output())
 * and its general stereo path (general(): HPF, RMS, lookahead) must give
 * exactly what the JavaScript gives: loud random material over the
 * ceiling at many random settings, with parameter changes so both cross
 * ramps, rest and work; bit-identical output and meters. The tolerance is
 * zero: the true-peak interpolator runs in float32 arithmetic in both
 * (true-peak.ts), and the last describe holds that float32 version to
 * within 1e-4 dB of the float64 one the meters use.
 */
import assert from 'node:assert/strict';
import { MeterBank } from '../../src/dsp/meters.js';
import { LookaheadLimiter } from '../../src/dsp/limiter.js';
import {
  TRUE_PEAK_BOUND_32, TRUE_PEAK_HISTORY, accumulateInterSamplePeaks, accumulateInterSamplePeaks32, toFloat32Window,
} from '../../src/dsp/true-peak.js';
import type { CompressorStrip } from '../../src/dsp/strip.js';
import type { ParamValues } from '../../src/params/schema.js';
import { makeStrip, runStrip, noise, sine, paramVector } from './strip-harness.test.js';

const FS = 48000;

/** Deterministic PRNG in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296; };
}

function randomSettings(r: () => number): Partial<ParamValues> {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  return {
    ceiling: Math.round((-18 + r() * 18) * 10) / 10, limiter: r() < 0.85, true_peak: r() < 0.6,
    threshold: -60 + r() * 60, ratio: 1 + r() * 19, knee: r() * 24, attack: 0.1 + r() * 100, release: 5 + r() * 500,
    makeup: r() * 30, input_gain: -6 + r() * 24, lookahead: pick([0, 0, 1.3, 5, 20]),
    detector: pick(['peak', 'rms'] as const), rms_window: pick([1, 10, 300]), link: pick(['max', 'average'] as const),
    sidechain_hpf: pick([0, 0, 80, 400]), mix: pick([100, 100, 60]), auto_makeup: r() < 0.3,
  };
}

interface Counts { limitBoth: number; limitGains: number; output: number; general: number }

/** Counts the kernel calls of one strip (to show the test goes through them). */
function spy(strip: CompressorStrip): Counts {
  const counts: Counts = { limitBoth: 0, limitGains: 0, output: 0, general: 0 };
  const k = (strip as unknown as { wasm: Record<string, (...a: number[]) => void> }).wasm;
  const wrap = (name: string, count: (a: number[]) => void): void => {
    const f = k[name]!;
    k[name] = (...a: number[]): void => { count(a); f(...a); };
  };
  wrap('limit', (a) => { if (a[3] === 1) counts.limitBoth++; if (a[3] === 2) counts.limitGains++; });
  wrap('output', () => { counts.output++; });
  wrap('general', () => { counts.general++; });
  return counts;
}

describe('CompressorStrip WebAssembly limiter and general path', () => {
  const total: Counts = { limitBoth: 0, limitGains: 0, output: 0, general: 0 };
  for (let trial = 0; trial < 24; trial++) {
    it(`equals the JavaScript bit for bit on loud random material (random settings and changes, trial ${trial})`, () => {
      const r = rng(7000 + trial);
      const first = randomSettings(r);
      const changes = [1, 2].map(() => ({ at: 128 * Math.floor(r() * 180), to: randomSettings(r) }));
      const frames = Math.round(FS * 0.5);
      const amp = 0.3 + r() * 2;
      // Loud noise and a 12 kHz tone (inter-sample peaks), with quiet stretches so the limiter rests and starts again.
      const input = [noise(frames, amp, 11 + trial), sine(frames, 12000, amp, FS)];
      for (const x of input) for (let i = 0; i < frames; i++) x[i] *= i % 12000 < 7000 ? 1 : 0.02;
      const block = [128, 64, 256, 512, 96, 130][trial % 6]!;
      const run = (wasm: boolean): { out: Float32Array[]; meters: number[] } => {
        const strip = makeStrip(first, FS, 2, block);
        assert.ok(strip.wasmReady, 'the WebAssembly kernel is built');
        strip.useFastPath = wasm;
        strip.useWasm = wasm;
        if (wasm) {
          const c = spy(strip);
          after.push(() => { for (const key of Object.keys(total) as (keyof Counts)[]) total[key] += c[key]; });
        }
        const bank = new MeterBank(2);
        const meters: number[] = [];
        // The limiter's own state too (r, the two minima): float32 output can hide a difference of 1e-9 in the gain.
        const limiterState = (strip as unknown as { limiter: { state: Float64Array } }).limiter.state;
        const out = runStrip(strip, input, block, (frame, s) => {
          for (const c of changes) if (c.at >= frame && c.at < frame + block) s.setParams(paramVector(c.to));
          meters.push(bank.grDb[0]!, bank.grDb[1]!, bank.detLevel[0]!, bank.detLevel[1]!, limiterState[0]!, limiterState[1]!, limiterState[2]!);
          bank.clear();
        }, bank);
        return { out, meters };
      };
      const after: (() => void)[] = [];
      const js = run(false), wasm = run(true);
      after.forEach((f) => f());
      for (let c = 0; c < 2; c++) {
        for (let i = 0; i < frames; i++) {
          if (!Object.is(wasm.out[c]![i], js.out[c]![i])) {
            assert.fail(`channel ${c} frame ${i}: WebAssembly ${wasm.out[c]![i]} ≠ JavaScript ${js.out[c]![i]}`);
          }
        }
      }
      assert.deepEqual(wasm.meters, js.meters);
    });
  }
  for (const truePeak of [true, false]) {
    it(`equals the JavaScript bit for bit from work back to rest, state included (true_peak ${truePeak})`, () => {
      // A loud burst, then quiet long enough for the release to reach rest (and the idle skip) again.
      const frames = Math.round(FS * 1.6);
      const input = [noise(frames, 1, 5), noise(frames, 1, 6)];
      for (const x of input) for (let i = Math.round(FS * 0.2); i < frames; i++) x[i] *= 0.01;
      const settings: Partial<ParamValues> = { makeup: 12, true_peak: truePeak, ceiling: -3, lookahead: truePeak ? 0 : 5, detector: truePeak ? 'peak' : 'rms' };
      const run = (wasm: boolean): number[] => {
        const strip = makeStrip(settings, FS, 2, 128);
        strip.useFastPath = wasm;
        strip.useWasm = wasm;
        const limiter = (strip as unknown as { limiter: { state: Float64Array; atRest: boolean } }).limiter;
        const trace: number[] = [];
        const out = runStrip(strip, input, 128, () => { trace.push(limiter.state[0]!, limiter.state[1]!, limiter.state[2]!, limiter.atRest ? 1 : 0); });
        assert.ok(limiter.atRest, 'back at rest');
        for (const y of out) trace.push(...y);
        return trace;
      };
      const js = run(false), wasm = run(true);
      for (let i = 0; i < js.length; i++) if (!Object.is(js[i], wasm[i])) assert.fail(`trace ${i}: WebAssembly ${wasm[i]} ≠ JavaScript ${js[i]}`);
    });
  }

  it('went through the kernel: the limiter working, the output pass and the general path', () => {
    assert.ok(total.limitBoth > 500, `limit(), peaks and gains: ${total.limitBoth} blocks`);
    assert.ok(total.limitGains > 5, `limit(), gains after the rest check: ${total.limitGains} blocks`);
    assert.ok(total.output > 500, `output(): ${total.output} blocks`);
    assert.ok(total.general > 500, `general(): ${total.general} blocks`);
  });
});

describe('limiter: the float32 true-peak interpolator', () => {
  it('is within 1e-4 dB of the float64 one, and within TRUE_PEAK_BOUND_32 of the samples, on loud random material', () => {
    const r = rng(42);
    const n = 4096, from = TRUE_PEAK_HISTORY + 1;
    for (let trial = 0; trial < 40; trial++) {
      const x = new Float64Array(from + n);
      const amp = 10 ** (-3 + r() * 6), hz = r() * 20000;
      for (let i = 0; i < x.length; i++) x[i] = amp * (r() < 0.5 ? (r() * 2 - 1) : Math.sin(2 * Math.PI * hz * i / FS + r() * 0.01));
      const p64 = new Float64Array(n), p32 = new Float64Array(n), x32 = new Float32Array(x.length);
      accumulateInterSamplePeaks(x, from, n, p64);
      toFloat32Window(x, from, n, x32);
      accumulateInterSamplePeaks32(x32, from, n, p32);
      for (let i = 0; i < n; i++) {
        const dB = 20 * Math.log10(p32[i]! / p64[i]!);
        if (!(Math.abs(dB) <= 1e-4)) assert.fail(`trial ${trial} frame ${i}: ${p32[i]} vs ${p64[i]} (${dB} dB)`);
        let m = 0;
        for (let k = from + i - TRUE_PEAK_HISTORY; k <= from + i; k++) m = Math.max(m, Math.abs(x[k]!));
        assert.ok(p32[i]! <= m * TRUE_PEAK_BOUND_32, `trial ${trial} frame ${i}: over the bound`);
      }
    }
  });

  it('clamps samples beyond float32 range instead of overflowing', () => {
    const from = TRUE_PEAK_HISTORY + 1, n = 8;
    const x = new Float64Array(from + n).fill(1e300);
    const x32 = new Float32Array(x.length), peaks = new Float64Array(n);
    toFloat32Window(x, from, n, x32);
    accumulateInterSamplePeaks32(x32, from, n, peaks);
    for (const p of peaks) assert.ok(Number.isFinite(p) && p > 1e29, `${p}`);
  });

  it('the limiter state the kernel keeps has the JavaScript limiter\'s shape', () => {
    for (const fs of [44100, 48000, 96000]) {
      const shape = LookaheadLimiter.shapeAt(fs);
      assert.ok(shape.histLength * shape.sub >= shape.delayFrames + Math.round(0.012 * fs), `${fs}: hold window`);
      assert.ok(shape.box1 + shape.box2 - 1 <= shape.delayFrames - TRUE_PEAK_HISTORY, `${fs}: attack span`);
    }
  });
});
