/**
 * Meter accumulators filled in the audio path (SPEC §2.8): per channel,
 * input and output sample peak and sum of squares, the deepest gain
 * reduction, clipped-sample counts, and at the output the true peak
 * (4× interpolated, true-peak.ts) and the count of inter-sample overs
 * (frames whose interpolated points pass full scale: a converter would
 * clip there though no sample does). The engine snapshots and clears
 * them once per meter period; the figures are linear here and turned into
 * dB only at the edge (see channelLevels()).
 */
import { gainToDb, SILENCE_DB } from './kernel.js';
import { TRUE_PEAK_BOUND, TRUE_PEAK_HISTORY, accumulateInterSamplePeaks } from './true-peak.js';

/** Frames the output true-peak meter interpolates per pass. */
const TP_CHUNK = 256;

export class MeterBank {
  readonly inPeak: Float64Array;
  readonly inSumSq: Float64Array;
  readonly outPeak: Float64Array;
  readonly outSumSq: Float64Array;
  /** Deepest gain reduction in dB (≤ 0) since the last clear. */
  readonly grDb: Float64Array;
  readonly clipIn: Float64Array;
  readonly clipOut: Float64Array;
  /** Output true peak (linear, ≥ the sample peak). */
  readonly outTruePeak: Float64Array;
  /** Output frames with an interpolated point over full scale. */
  readonly oversOut: Float64Array;
  /**
   * The loudest level the compressor's detector saw (linear; after input
   * gain, side-chain filter, peak or RMS, and the stereo link): what the
   * gain computer compares with the threshold. Written by the strip.
   */
  readonly detLevel: Float64Array;
  /** Frames accumulated since the last clear. */
  frames = 0;
  /** Per channel: the last TRUE_PEAK_HISTORY output samples, then room for a pass. */
  readonly #tpSignal: Float64Array[];
  readonly #tpPeaks = new Float64Array(TP_CHUNK);
  readonly #blockPeak = new Float64Array(1);

  constructor(readonly channels: number) {
    this.inPeak = new Float64Array(channels);
    this.inSumSq = new Float64Array(channels);
    this.outPeak = new Float64Array(channels);
    this.outSumSq = new Float64Array(channels);
    this.grDb = new Float64Array(channels);
    this.clipIn = new Float64Array(channels);
    this.clipOut = new Float64Array(channels);
    this.outTruePeak = new Float64Array(channels);
    this.oversOut = new Float64Array(channels);
    this.detLevel = new Float64Array(channels);
    this.#tpSignal = Array.from({ length: channels }, () => new Float64Array(TRUE_PEAK_HISTORY + TP_CHUNK));
  }

  clear(): void {
    this.inPeak.fill(0); this.inSumSq.fill(0);
    this.outPeak.fill(0); this.outSumSq.fill(0);
    this.grDb.fill(0); this.clipIn.fill(0); this.clipOut.fill(0);
    this.outTruePeak.fill(0); this.oversOut.fill(0); this.detLevel.fill(0);
    this.frames = 0;
  }

  /** Accumulates one block at a tap: side 'in' or 'out'. */
  tap(side: 'in' | 'out', block: readonly Float32Array[], frames: number): void {
    const peak = side === 'in' ? this.inPeak : this.outPeak;
    const sumSq = side === 'in' ? this.inSumSq : this.outSumSq;
    const clips = side === 'in' ? this.clipIn : this.clipOut;
    const n = Math.min(this.channels, block.length);
    for (let c = 0; c < n; c++) {
      const x = block[c]!;
      // Two independent accumulators break the loop's dependency chain
      // (about 3× faster in V8); clipped samples are counted in a second
      // pass only in the rare block that reached full scale.
      let p0 = 0, p1 = 0, s0 = 0, s1 = 0;
      let i = 0;
      for (; i + 1 < frames; i += 2) {
        const u = x[i]!, v = x[i + 1]!;
        const au = Math.abs(u), av = Math.abs(v);
        // Written so a NaN loses every comparison: an input tap sees raw,
        // unsanitised samples, and one bad sample must not blank the block.
        p0 = au > p0 ? au : p0;
        p1 = av > p1 ? av : p1;
        const qu = u * u, qv = v * v;
        s0 += qu < Infinity ? qu : 0;
        s1 += qv < Infinity ? qv : 0;
      }
      if (i < frames) {
        const u = x[i]!;
        const au = Math.abs(u);
        p0 = au > p0 ? au : p0;
        const qu = u * u;
        s0 += qu < Infinity ? qu : 0;
      }
      const p = p0 > p1 ? p0 : p1;
      if (p >= 1) {
        let k = 0;
        for (let j = 0; j < frames; j++) if (Math.abs(x[j]!) >= 1) k++;
        clips[c] = clips[c]! + k;
      }
      const s = s0 + s1;
      // A non-finite sample would poison the meters; the strip guards the
      // signal itself, so the meters just skip over it.
      if (p > peak[c]! && Number.isFinite(p)) peak[c] = p;
      if (Number.isFinite(s)) sumSq[c] = sumSq[c]! + s;
      if (side === 'out') {
        // Handed over in an array: a double argument to a call V8 does not
        // inline is boxed on the heap (garbage every block).
        this.#blockPeak[0] = p;
        this.#truePeak(c, x, frames);
      }
    }
    if (side === 'out') this.frames += frames;
  }

  /**
   * Output true peak and inter-sample overs of channel c. The block's
   * interpolated points are bounded by its sample peak times
   * TRUE_PEAK_BOUND (with the samples before it, which the history holds):
   * when that can neither raise the period's true peak nor pass full
   * scale, the interpolation is skipped and only the history kept.
   */
  #truePeak(c: number, x: Float32Array, frames: number): void {
    const blockPeak = this.#blockPeak[0]!, sig = this.#tpSignal[c]!, H = TRUE_PEAK_HISTORY, tp = this.outTruePeak, peaks = this.#tpPeaks;
    let hist = 0;
    for (let i = 0; i < H; i++) { const a = Math.abs(sig[i]!); hist = hist > a ? hist : a; }
    const bound = (hist > blockPeak ? hist : blockPeak) * TRUE_PEAK_BOUND;
    const skip = !(bound > tp[c]! || bound > 1);
    if (blockPeak > tp[c]! && Number.isFinite(blockPeak)) tp[c] = blockPeak;
    for (let off = 0; off < frames; off += TP_CHUNK) {
      const n = Math.min(TP_CHUNK, frames - off);
      for (let i = 0; i < n; i++) {
        const v = x[off + i]!;
        // The meters skip what the strip would never pass (NaN, ±Inf).
        sig[H + i] = v - v === 0 ? v : 0;
      }
      if (!skip) {
        peaks.fill(0, 0, n);
        accumulateInterSamplePeaks(sig, H, n, peaks);
        let top = tp[c]!, overs = 0;
        for (let i = 0; i < n; i++) {
          const q = peaks[i]!;
          top = q > top ? q : top;
          overs += q > 1 ? 1 : 0;
        }
        tp[c] = top;
        this.oversOut[c] = this.oversOut[c]! + overs;
      }
      sig.copyWithin(0, n, n + H);
    }
  }

  /** Records gain reduction (dB ≤ 0) for a channel: keeps the deepest. */
  reportGainReduction(channel: number, grDb: number): void {
    if (grDb < this.grDb[channel]!) this.grDb[channel] = grDb;
  }
}

/**
 * The sample peak (linear) of channels over frames [from, to): the same
 * figure a tap's peak gives, for hosts that measure outside the chain.
 * NaN is skipped; ±Inf counts (it is a clip).
 */
export function blockPeak(block: readonly Float32Array[], from: number, to: number): number {
  let p0 = 0, p1 = 0;
  for (let c = 0; c < block.length; c++) {
    const x = block[c]!;
    let i = from;
    for (; i + 1 < to; i += 2) {
      const au = Math.abs(x[i]!), av = Math.abs(x[i + 1]!);
      p0 = au > p0 ? au : p0;
      p1 = av > p1 ? av : p1;
    }
    if (i < to) { const au = Math.abs(x[i]!); p0 = au > p0 ? au : p0; }
  }
  return p0 > p1 ? p0 : p1;
}

/** The per-channel figures of one meter period, in dB (the arrays of SPEC §4 `meters`). */
export interface ChannelLevels {
  in_peak: number[];
  in_rms: number[];
  out_peak: number[];
  out_rms: number[];
  gr: number[];
  clip_in: number[];
  clip_out: number[];
  /** Output true peak, dBTP (4× interpolated, as BS.1770). */
  out_true_peak: number[];
  /** Output frames whose interpolated points pass 0 dBTP though no sample need. */
  overs_out: number[];
  /** The compressor's detector level, dBFS (the loudest of the period). */
  det_level: number[];
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

/** Turns accumulated figures into dB, rounded to 0.1 dB (user layer only: allocates). */
export function channelLevels(bank: MeterBank): ChannelLevels {
  const rms = (sumSq: Float64Array, c: number): number =>
    bank.frames > 0 ? round1(gainToDb(Math.sqrt(sumSq[c]! / bank.frames))) : SILENCE_DB;
  const ch = [...Array(bank.channels).keys()];
  return {
    in_peak: ch.map((c) => round1(gainToDb(bank.inPeak[c]!))),
    in_rms: ch.map((c) => rms(bank.inSumSq, c)),
    out_peak: ch.map((c) => round1(gainToDb(bank.outPeak[c]!))),
    out_rms: ch.map((c) => rms(bank.outSumSq, c)),
    gr: ch.map((c) => round1(bank.grDb[c]!) || 0),
    clip_in: ch.map((c) => bank.clipIn[c]!),
    clip_out: ch.map((c) => bank.clipOut[c]!),
    out_true_peak: ch.map((c) => round1(gainToDb(bank.outTruePeak[c]!))),
    overs_out: ch.map((c) => bank.oversOut[c]!),
    det_level: ch.map((c) => round1(gainToDb(bank.detLevel[c]!))),
  };
}
