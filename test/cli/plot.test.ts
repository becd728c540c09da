import assert from 'node:assert/strict';
import {
  buildPlotSpec, LevelTraceRecorder, MAX_PLOT_POINTS, PLOT_FLOOR_DB, renderPlotSvg, type LevelTrace,
} from '../../src/cli/plot.js';
import { autoMakeupDb, staticCurveDb } from '../../src/dsp/gain-computer.js';
import { gainToDb } from '../../src/dsp/kernel.js';
import { defaultParams, type ParamValues } from '../../src/params/schema.js';

const FS = 48000;

function constantBlock(channels: number, frames: number, values: number[]): Float32Array[] {
  return Array.from({ length: channels }, (_, c) => new Float32Array(frames).fill(values[c] ?? 0));
}

/** The transfer-curve rows the spec carries, found by the data name the plot gives them. */
function transferData(spec: object): { in: number; out: number }[] {
  let found: { in: number; out: number }[] | undefined;
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) { node.forEach(visit); return; }
    if (node && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      const data = o['data'] as { name?: string; values?: { in: number; out: number }[] } | undefined;
      if (data?.name === 'transfer_curve') found = data.values;
      Object.values(o).forEach(visit);
    }
  };
  visit(spec);
  assert.ok(found, 'the spec has transfer_curve data');
  return found;
}

function sampleTrace(points: number): LevelTrace {
  const inputDb = new Float32Array(points), outputDb = new Float32Array(points), grDb = new Float32Array(points);
  for (let i = 0; i < points; i++) {
    inputDb[i] = -30 + 20 * Math.abs(Math.sin(i / 15));
    grDb[i] = Math.min(0, -(inputDb[i]! + 18) * 0.75);
    outputDb[i] = inputDb[i]! + grDb[i]!;
  }
  return { hopMs: 10, inputDb, outputDb, grDb };
}

describe('render plot', () => {
  describe('LevelTraceRecorder', () => {
    it('keeps the peak over all channels of each 10 ms hop, whatever the block size', () => {
      const rec = new LevelTraceRecorder(FS, 2);
      // Hop 0 (480 frames): input peaks 0.5 on channel 0; hop 1: 0.25 on channel 1. Blocks of 128 straddle hops.
      const hops = [[0.5, 0.1], [0.05, 0.25]];
      for (let pos = 0; pos < 960; pos += 128) {
        const n = Math.min(128, 960 - pos);
        const input = Array.from({ length: 2 }, () => new Float32Array(n));
        const output = Array.from({ length: 2 }, () => new Float32Array(n));
        for (let i = 0; i < n; i++) {
          const hop = hops[Math.floor((pos + i) / 480)]!;
          input[0]![i] = hop[0]!;
          input[1]![i] = -hop[1]!;
          output[1]![i] = hop[0]! / 2;
        }
        rec.push(input, output, n);
        rec.pushGainReduction(pos < 480 ? -6 : -2, n);
      }
      const trace = rec.finish();
      assert.equal(trace.hopMs, 10);
      assert.deepEqual(Array.from(trace.inputDb), [gainToDb(0.5), gainToDb(0.25)].map(Math.fround));
      assert.deepEqual(Array.from(trace.outputDb), [gainToDb(0.25), gainToDb(0.025)].map(Math.fround));
      // The block at frames 384..511 straddles both hops, so its −6 dB counts in hop 1 as well.
      assert.deepEqual(Array.from(trace.grDb), [-6, -6]);
    });

    it('pushPeaks() takes block peaks the caller already measured', () => {
      const rec = new LevelTraceRecorder(FS, 2);
      rec.pushPeaks(0.5, 0.25, 300);
      rec.pushPeaks(0.1, 0.05, 300); // frames 300..599: ends hop 0, starts hop 1
      const trace = rec.finish();
      assert.deepEqual(Array.from(trace.inputDb), [gainToDb(0.5), gainToDb(0.1)].map(Math.fround));
      assert.deepEqual(Array.from(trace.outputDb), [gainToDb(0.25), gainToDb(0.05)].map(Math.fround));
    });

    it('records 0 dB gain reduction when none is pushed, and a final partial hop', () => {
      const rec = new LevelTraceRecorder(FS, 1);
      rec.push(constantBlock(1, 700, [0.5]), constantBlock(1, 700, [0.5]), 700);
      const trace = rec.finish();
      assert.equal(trace.inputDb.length, 2);
      assert.deepEqual(Array.from(trace.grDb), [0, 0]);
    });

    it(`thins a 10-minute render to at most ${MAX_PLOT_POINTS} points and keeps its peaks`, () => {
      const rec = new LevelTraceRecorder(FS, 2);
      const block = 4800;
      const quiet = constantBlock(2, block, [0.01, 0.01]);
      const spike = constantBlock(2, block, [0.01, 0.01]);
      spike[1]![1234] = 0.9;
      const blocks = (10 * 60 * FS) / block;
      for (let b = 0; b < blocks; b++) {
        const x = b === 3000 ? spike : quiet;
        rec.push(x, x, block);
        rec.pushGainReduction(b === 3000 ? -12 : -1, block);
      }
      const trace = rec.finish();
      assert.equal(trace.inputDb.length, MAX_PLOT_POINTS);
      assert.equal(trace.hopMs, 10 * Math.ceil(60000 / MAX_PLOT_POINTS));
      const spikeAt = Math.floor((3000 * block + 1234) / ((trace.hopMs / 1000) * FS));
      assert.ok(Math.abs(trace.inputDb[spikeAt]! - gainToDb(0.9)) < 1e-4);
      assert.equal(trace.grDb[spikeAt], -12);
      assert.ok(Math.abs(trace.inputDb[spikeAt + 1]! - gainToDb(0.01)) < 1e-4);
    });
  });

  describe('buildPlotSpec', () => {
    it('draws the transfer curve from staticCurveDb plus makeup', () => {
      const p: ParamValues = { ...defaultParams(), threshold: -24, ratio: 3, knee: 12, makeup: 4 };
      const rows = transferData(buildPlotSpec(sampleTrace(100), p, 't'));
      assert.equal(rows.length, 241);
      assert.equal(rows[0]!.in, -60);
      assert.equal(rows.at(-1)!.in, 0);
      for (const r of rows) assert.ok(Math.abs(r.out - (staticCurveDb(r.in, -24, 3, 12) + 4)) < 0.006, `at ${r.in} dB`);
    });

    it('adds auto makeup and input gain the way the strip does', () => {
      const p: ParamValues = { ...defaultParams(), threshold: -18, ratio: 4, knee: 6, auto_makeup: true, input_gain: 6 };
      const rows = transferData(buildPlotSpec(sampleTrace(10), p, 't'));
      for (const r of rows) {
        const expected = staticCurveDb(r.in + 6, -18, 4, 6) + autoMakeupDb(-18, 4);
        assert.ok(Math.abs(r.out - expected) < 0.006, `at ${r.in} dB: ${r.out} vs ${expected}`);
      }
    });

    it('a hard knee (0 dB) stays finite exactly at the threshold', () => {
      const p: ParamValues = { ...defaultParams(), threshold: -18, ratio: 4, knee: 0 };
      assert.ok(transferData(buildPlotSpec(sampleTrace(10), p, 't')).every((r) => Number.isFinite(r.out)));
    });

    it('leaves the limiter out of the curve (its ceiling is drawn apart)', () => {
      const p: ParamValues = { ...defaultParams(), threshold: -30, ratio: 2, knee: 0, makeup: 20, limiter: true, ceiling: -6 };
      assert.ok(transferData(buildPlotSpec(sampleTrace(10), p, 't')).some((r) => r.out > -6));
    });

    it('floors silence at the plot floor instead of −200 dB', () => {
      const trace = sampleTrace(5);
      trace.inputDb[2] = -200;
      const spec = buildPlotSpec(trace, defaultParams(), 't');
      const text = JSON.stringify(spec);
      assert.ok(!text.includes('-200'));
      assert.ok(text.includes(`"db":${PLOT_FLOOR_DB}`));
    });
  });

  describe('renderPlotSvg', () => {
    it('renders an SVG with all three charts, their axis titles and the expected marks', async () => {
      const svg = await renderPlotSvg(sampleTrace(600), defaultParams(), 'threshold −18 dBFS, ratio 4:1');
      assert.ok(svg.startsWith('<svg'));
      assert.ok(svg.trimEnd().endsWith('</svg>'));
      for (const text of ['Level over time', 'Gain reduction over time', 'Transfer curve (static)', 'threshold −18 dBFS, ratio 4:1',
        'Time (s)', 'Peak level (dBFS)', 'Gain reduction (dB)', 'Input level (dBFS)', 'Output level (dBFS)', 'Input level', 'Output level',
        'threshold -18 dBFS', 'limiter ceiling -1 dBFS']) {
        assert.ok(svg.includes(text), `the SVG shows "${text}"`);
      }
      const count = (re: RegExp): number => (svg.match(re) ?? []).length;
      // Input and output level lines, the gain-reduction outline, the identity line and the transfer curve.
      assert.equal(count(/class="mark-line role-mark/g), 5);
      assert.equal(count(/class="mark-area role-mark/g), 1);
      assert.equal(count(/class="mark-rule role-mark/g), 2, 'threshold and limiter ceiling');
      assert.equal(count(/<g class="mark-group role-legend"/g), 1);
    });

    it('leaves out the ceiling when the limiter is off', async () => {
      const svg = await renderPlotSvg(sampleTrace(50), { ...defaultParams(), limiter: false }, 'no limiter');
      assert.equal((svg.match(/class="mark-rule role-mark/g) ?? []).length, 1);
      assert.ok(!svg.includes('limiter ceiling'));
    });
  });
});
