/**
 * The `picomp render --plot FILE.svg` figure: input level, output level and
 * gain reduction over time, beside the static transfer curve. Described in
 * Vega-Lite, compiled to Vega and rendered headless to SVG, so the chart
 * is data plus a declarative spec rather than hand-drawn SVG.
 */
import { numberMin } from '../params/schema.js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { autoMakeupDb } from '../dsp/gain-computer.js';
import { transferDb } from '../dsp/transfer.js';
import { gainToDb, msToFrames } from '../dsp/kernel.js';
import type { ParamValues } from '../params/schema.js';

/** One point per hop: the peak level (dBFS) of the hop and its deepest gain reduction (dB ≤ 0). */
export interface LevelTrace {
  hopMs: number;
  inputDb: Float32Array;
  outputDb: Float32Array;
  grDb: Float32Array;
}

/**
 * Most points a trace keeps per series: about three per horizontal pixel of
 * the 620-pixel time charts, so thinning hides nothing, and the SVG of a
 * long render stays small and quick to draw.
 */
export const MAX_PLOT_POINTS = 2000;
/** Levels below this are drawn at it: silence would otherwise stretch the axis to −200 dB. */
export const PLOT_FLOOR_DB = -72;
/** The curve spans every threshold the schema allows. */
const TRANSFER_MIN_DB = numberMin('threshold');
const TRANSFER_STEP_DB = 0.25;

const COLOURS = {
  input: '#9aa7b8',
  output: '#1f5fa8',
  gr: '#d1495b',
  curve: '#1f5fa8',
  identity: '#8c8c8c',
  threshold: '#e08a00',
  ceiling: '#d1495b',
};

/**
 * Collects the plot's trace while a render runs: feed it every block of
 * input and output with push() and the block's deepest gain reduction
 * with pushGainReduction(). It keeps one point per hop (10 ms by default)
 * and finish() thins long files to at most MAX_PLOT_POINTS.
 */
export class LevelTraceRecorder {
  private readonly hopFrames: number;
  private inPeaks: Float32Array = new Float32Array(1024);
  private outPeaks: Float32Array = new Float32Array(1024);
  private grs: Float32Array = new Float32Array(1024);
  private levelCount = 0;
  private levelFill = 0;
  private inPeak = 0;
  private outPeak = 0;
  private grCount = 0;
  private grFill = 0;
  private gr = 0;

  constructor(readonly sampleRate: number, readonly channels: number, readonly hopMs = 10) {
    this.hopFrames = Math.max(1, Math.round(msToFrames(hopMs, sampleRate)));
  }

  /** Peak over all channels of `frames` frames of input (before processing) and output. */
  push(input: readonly Float32Array[], output: readonly Float32Array[], frames: number): void {
    let i = 0;
    while (i < frames) {
      const n = Math.min(frames - i, this.hopFrames - this.levelFill);
      this.inPeak = Math.max(this.inPeak, peakOf(input, i, n));
      this.outPeak = Math.max(this.outPeak, peakOf(output, i, n));
      this.levelFill += n;
      i += n;
      if (this.levelFill === this.hopFrames) this.closeLevelHop();
    }
  }

  /**
   * For callers that already metered the block (the MeterBank's peaks): the
   * input and output sample peaks (linear) of the next `frames` frames.
   * Cheaper than push(), at the price of block rather than hop resolution.
   */
  pushPeaks(inputPeak: number, outputPeak: number, frames: number): void {
    let left = frames;
    while (left > 0) {
      const n = Math.min(left, this.hopFrames - this.levelFill);
      if (inputPeak > this.inPeak) this.inPeak = inputPeak;
      if (outputPeak > this.outPeak) this.outPeak = outputPeak;
      this.levelFill += n;
      left -= n;
      if (this.levelFill === this.hopFrames) this.closeLevelHop();
    }
  }

  /** The gain reduction (dB ≤ 0) that applied to the next `frames` frames. */
  pushGainReduction(grDb: number, frames: number): void {
    let left = frames;
    while (left > 0) {
      const n = Math.min(left, this.hopFrames - this.grFill);
      if (grDb < this.gr) this.gr = grDb;
      this.grFill += n;
      left -= n;
      if (this.grFill === this.hopFrames) this.closeGrHop();
    }
  }

  finish(): LevelTrace {
    if (this.levelFill > 0) this.closeLevelHop();
    if (this.grFill > 0) this.closeGrHop();
    const points = this.levelCount;
    const group = Math.max(1, Math.ceil(points / MAX_PLOT_POINTS));
    const out = Math.ceil(points / group);
    const inputDb = new Float32Array(out);
    const outputDb = new Float32Array(out);
    const grDb = new Float32Array(out);
    for (let p = 0; p < out; p++) {
      let inMax = 0, outMax = 0, grMin = 0;
      for (let k = p * group; k < Math.min(points, (p + 1) * group); k++) {
        inMax = Math.max(inMax, this.inPeaks[k]!);
        outMax = Math.max(outMax, this.outPeaks[k]!);
        // No gain-reduction figures pushed (or fewer than level hops): the compressor did nothing we know of.
        if (k < this.grCount) grMin = Math.min(grMin, this.grs[k]!);
      }
      inputDb[p] = gainToDb(inMax);
      outputDb[p] = gainToDb(outMax);
      grDb[p] = grMin;
    }
    return { hopMs: this.hopMs * group, inputDb, outputDb, grDb };
  }

  private closeLevelHop(): void {
    if (this.levelCount === this.inPeaks.length) {
      this.inPeaks = grow(this.inPeaks);
      this.outPeaks = grow(this.outPeaks);
    }
    this.inPeaks[this.levelCount] = this.inPeak;
    this.outPeaks[this.levelCount] = this.outPeak;
    this.levelCount++;
    this.inPeak = 0;
    this.outPeak = 0;
    this.levelFill = 0;
  }

  private closeGrHop(): void {
    if (this.grCount === this.grs.length) this.grs = grow(this.grs);
    this.grs[this.grCount++] = this.gr;
    this.gr = 0;
    this.grFill = 0;
  }
}

function grow(a: Float32Array): Float32Array {
  const b = new Float32Array(a.length * 2);
  b.set(a);
  return b;
}

function peakOf(chans: readonly Float32Array[], from: number, n: number): number {
  let m = 0;
  const end = from + n;
  for (let c = 0; c < chans.length; c++) {
    const ch = chans[c]!;
    for (let i = from; i < end; i++) {
      const a = Math.abs(ch[i]!);
      // NaN fails the comparison and is skipped, like the meters do.
      if (a > m) m = a;
    }
  }
  return m;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

function floorDb(x: number): number {
  return x < PLOT_FLOOR_DB ? PLOT_FLOOR_DB : round2(x);
}

/** The Vega-Lite figure: the two time charts stacked, the transfer curve beside them. */
export function buildPlotSpec(trace: LevelTrace, params: ParamValues, title: string): object {
  const n = trace.inputDb.length;
  const hopS = trace.hopMs / 1000;
  const levels: { t: number; series: string; db: number }[] = [];
  const reduction: { t: number; gr: number }[] = [];
  let top = 0;
  let deepest = 0;
  for (let i = 0; i < n; i++) {
    const t = Math.round(i * hopS * 1000) / 1000;
    levels.push({ t, series: 'Input level', db: floorDb(trace.inputDb[i]!) });
    levels.push({ t, series: 'Output level', db: floorDb(trace.outputDb[i]!) });
    reduction.push({ t, gr: round2(trace.grDb[i]!) });
    top = Math.max(top, trace.inputDb[i]!, trace.outputDb[i]!);
    deepest = Math.min(deepest, trace.grDb[i]!);
  }
  const levelTop = Math.ceil(top / 6) * 6;
  const grBottom = Math.min(-6, Math.floor(deepest / 6) * 6);
  const duration = Math.max(hopS, n * hopS);

  const curve: { in: number; out: number }[] = [];
  const identity: { in: number; out: number }[] = [];
  let curveTop = 0;
  for (let x = TRANSFER_MIN_DB; x <= 0 + 1e-9; x += TRANSFER_STEP_DB) {
    // The limiter is left out here: the plot draws its ceiling separately.
    const out = transferDb(x, { ...params, limiter: false });
    curve.push({ in: round2(x), out: round2(out) });
    curveTop = Math.max(curveTop, out);
  }
  identity.push({ in: TRANSFER_MIN_DB, out: TRANSFER_MIN_DB }, { in: 0, out: 0 });
  const transferTop = Math.max(0, Math.ceil(curveTop / 6) * 6);
  // The threshold applies after input gain: on the file's level axis it sits input_gain lower.
  const thresholdIn = params.threshold - params.input_gain;
  const kneeLo = Math.max(TRANSFER_MIN_DB, thresholdIn - params.knee / 2);
  const kneeHi = Math.min(0, thresholdIn + params.knee / 2);

  const timeX = {
    field: 't', type: 'quantitative', title: 'Time (s)',
    scale: { domain: [0, round2(duration)], nice: false },
  };
  const levelChart = {
    title: { text: 'Level over time', subtitle: `peak per ${formatMs(trace.hopMs)}`, anchor: 'start' },
    width: 620, height: 230,
    data: { values: levels },
    mark: { type: 'line', strokeWidth: 1.2, interpolate: 'step-after', clip: true },
    encoding: {
      x: timeX,
      y: {
        field: 'db', type: 'quantitative', title: 'Peak level (dBFS)',
        scale: { domain: [PLOT_FLOOR_DB, levelTop], nice: false, clamp: true },
      },
      color: {
        field: 'series', type: 'nominal', title: null,
        scale: { domain: ['Input level', 'Output level'], range: [COLOURS.input, COLOURS.output] },
        // Inside the plot's quiet bottom corner; concat layouts would push a corner legend outside.
        legend: { orient: 'none', legendX: 10, legendY: 168, direction: 'vertical', fillColor: 'rgba(255,255,255,0.9)', padding: 6, strokeColor: '#e0e0e0' },
      },
    },
  };
  const grChart = {
    title: { text: 'Gain reduction over time', anchor: 'start' },
    width: 620, height: 140,
    data: { values: reduction },
    mark: { type: 'area', line: { color: COLOURS.gr, strokeWidth: 1.2 }, color: COLOURS.gr, opacity: 0.35, interpolate: 'step-after', clip: true },
    encoding: {
      x: timeX,
      y: {
        field: 'gr', type: 'quantitative', title: 'Gain reduction (dB)',
        scale: { domain: [grBottom, 0], nice: false },
      },
    },
  };

  const transferLayers: object[] = [
    {
      data: { values: [{ lo: kneeLo, hi: kneeHi, label: 'knee' }] },
      mark: { type: 'rect', color: COLOURS.threshold, opacity: params.knee > 0 ? 0.12 : 0 },
      encoding: { x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } },
    },
    {
      data: { values: identity },
      mark: { type: 'line', strokeDash: [4, 4], color: COLOURS.identity, strokeWidth: 1 },
      encoding: { x: { field: 'in', type: 'quantitative' }, y: { field: 'out', type: 'quantitative' } },
    },
    {
      data: { values: [{ x: -48, label: '1:1 (no change)' }] },
      mark: { type: 'text', align: 'left', dx: 6, dy: 2, baseline: 'top', color: COLOURS.identity, fontSize: 10 },
      encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'x', type: 'quantitative' }, text: { field: 'label' } },
    },
    {
      data: { values: [{ x: thresholdIn, label: `threshold ${params.threshold} dBFS` }] },
      layer: [
        { mark: { type: 'rule', strokeDash: [6, 3], color: COLOURS.threshold, strokeWidth: 1.2 }, encoding: { x: { field: 'x', type: 'quantitative' } } },
        {
          mark: { type: 'text', align: 'left', dx: 5, dy: -5, baseline: 'bottom', color: COLOURS.threshold, fontSize: 11 },
          encoding: { x: { field: 'x', type: 'quantitative' }, y: { datum: TRANSFER_MIN_DB }, text: { field: 'label' } },
        },
      ],
    },
  ];
  if (params.limiter && !params.bypass) {
    transferLayers.push({
      data: { values: [{ y: params.ceiling, label: `limiter ceiling ${params.ceiling} dBFS` }] },
      layer: [
        { mark: { type: 'rule', strokeDash: [2, 2], color: COLOURS.ceiling, strokeWidth: 1.2 }, encoding: { y: { field: 'y', type: 'quantitative' } } },
        {
          mark: { type: 'text', align: 'right', dy: -6, color: COLOURS.ceiling, fontSize: 11 },
          encoding: { x: { datum: 0 }, y: { field: 'y', type: 'quantitative' }, text: { field: 'label' } },
        },
      ],
    });
  }
  transferLayers.push({
    name: 'transfer',
    data: { name: 'transfer_curve', values: curve },
    mark: { type: 'line', color: COLOURS.curve, strokeWidth: 2.2 },
    encoding: {
      x: { field: 'in', type: 'quantitative' },
      y: { field: 'out', type: 'quantitative' },
      tooltip: [{ field: 'in', title: 'in (dBFS)' }, { field: 'out', title: 'out (dBFS)' }],
    },
  });
  const transferChart = {
    title: {
      text: 'Transfer curve (static)',
      subtitle: `ratio ${params.ratio}:1, knee ${params.knee} dB, makeup ${formatMakeup(params)}`,
      anchor: 'start',
    },
    width: 330, height: 330,
    encoding: {
      x: { type: 'quantitative', title: 'Input level (dBFS)', scale: { domain: [TRANSFER_MIN_DB, 0], nice: false } },
      y: { type: 'quantitative', title: 'Output level (dBFS)', scale: { domain: [TRANSFER_MIN_DB, transferTop], nice: false, clamp: true } },
    },
    layer: transferLayers,
  };

  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: title, anchor: 'start', fontSize: 15, offset: 14 },
    background: 'white',
    padding: 16,
    config: {
      font: 'Helvetica, Arial, sans-serif',
      view: { stroke: '#d0d0d0' },
      axis: { gridColor: '#ececec', labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', titleColor: '#333' },
      title: { fontSize: 13, subtitleFontSize: 11, subtitleColor: '#666' },
      legend: { labelFontSize: 11, symbolStrokeWidth: 2.5 },
    },
    hconcat: [
      { vconcat: [levelChart, grChart], spacing: 18 },
      transferChart,
    ],
    spacing: 40,
  };
  return spec;
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${round2(ms / 1000)} s` : `${round2(ms)} ms`;
}

function formatMakeup(p: ParamValues): string {
  const db = p.makeup + (p.auto_makeup ? autoMakeupDb(p.threshold, p.ratio) : 0);
  return `${round2(db)} dB${p.auto_makeup ? ' (auto)' : ''}`;
}

/** Renders the figure to a standalone SVG document. */
export async function renderPlotSvg(trace: LevelTrace, params: ParamValues, title: string): Promise<string> {
  const vlSpec = buildPlotSpec(trace, params, title) as TopLevelSpec;
  const vgSpec = compile(vlSpec).spec;
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
