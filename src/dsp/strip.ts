/**
 * The compressor strip: the whole DSP chain of one unit as one Kernel.
 * docs/dsp.md gives the chain with its formulas; the comments here say why
 * the code is shaped the way it is.
 *
 * Work is done in sub-blocks of at most CHUNK frames. The general path
 * (processChunk) runs these passes, each a method, over Float64Array
 * scratch allocated in prepare():
 *   sidechainPass  per channel: sanitize → delay ring; × input gain →
 *                  sidechain HPF → RMS history → level
 *   linkPass       link the channel levels (max / mean) into one lane, or
 *                  keep one lane per channel
 *   gainLane       per lane: gain computer → branching attack/release
 *                  smoother → wet/dry/makeup into one linear gain per frame
 *   compressPass   per channel: delayed signal × gain, into the limiter's
 *                  lookahead buffers
 *   limiterPass    the lookahead limiter's gain for the frames leaving it
 *   outputPass     limiter gain and ceiling clamp, limiter on/off and
 *                  bypass crossfades, the final ±1 clamp, float32 out.
 * Channel-major passes keep each loop on one or two arrays; smoothed
 * parameters are rendered once per sub-block into per-frame buffers.
 *
 * The state the strip spends nearly all its life in (stereo, linked, peak
 * detector, no HPF, no lookahead, no ramp or crossfade under way) instead
 * takes fastChunk(): the first four passes fused into two per-frame loops
 * doing the same floating-point operations in the same order, then the
 * same limiterPass and outputPass, so both paths give bit-identical output
 * (a test holds them to that on random settings and parameter changes).
 * For stereo those loops, the limiter's per-frame work, the steady output
 * pass and at rest the idle check run in a WebAssembly SIMD kernel
 * (stereo-wasm.ts), which computes the same operations again; so do the
 * other steady stereo blocks (RMS, side-chain HPF, lookahead:
 * generalWasmChunk()), which would otherwise take the general path.
 */
import { dbToGain, onePoleCoeff, type Kernel, type ProcessSpec } from './kernel.js';
import { autoMakeupDb } from './gain-computer.js';
import type { MeterBank } from './meters.js';
import { PARAMS, PARAM_COUNT, PARAM_INDEX as P, defaultParams, numberMax } from '../params/schema.js';
import { encodeParams } from '../params/vector.js';
import { sanitizeSample } from './sanitize.js';
import { DB_PER_LOG2, LOG2_PER_DB, fastExp2, fastLog2 } from './gain.js';
import { LinearRamp, PARAM_RAMP_MS } from './smoother.js';
import { BiquadState, biquadProcess, butterworthHighpass } from './biquad.js';
import { RmsWindow, RMS_WINDOW_MAX_MS } from './level-detector.js';
import { DelayLines } from './delay-line.js';
import { LookaheadLimiter, float32SafeLimit } from './limiter.js';
import { StereoWasmKernel, WP, WS } from './stereo-wasm.js';

/** Frames per internal sub-block (also the HPF coefficient update period). */
export const CHUNK = 128;
/** The longest lookahead the schema allows: the delay line is allocated for it. */
export const LOOKAHEAD_MAX_MS = numberMax('lookahead');
/** Length of the bypass, lookahead and link-mode crossfades. */
export const CROSSFADE_MS = 20;

/** Link enum indices (schema option order: max, average, none). */
const LINK_MAX = 0, LINK_NONE = 2;

/** The value of parameter i in v, forced into its schema range (defensive: the vector is validated upstream). */
function paramValue(v: Float64Array, i: number): number {
  const def = PARAMS[i]!;
  const x = v[i]!;
  switch (def.kind) {
    case 'number': return Number.isFinite(x) ? Math.min(def.max, Math.max(def.min, x)) : def.default;
    case 'bool': return x ? 1 : 0;
    case 'enum': return x >= 0 && x < def.options.length ? Math.floor(x) : (def.options as readonly string[]).indexOf(def.default);
  }
}

/*
 * Branch-free helpers. On audio, comparisons of sample magnitudes or of
 * target against state go either way at random, and V8 compiles ternaries
 * and Math.max/min to branches: each misprediction costs ≈ 5 ns, more than
 * a log2. Math.abs is a single andpd, so these are built on it. Both strip
 * paths use them, so they agree bit for bit.
 */

/** max(a, b) to within one rounding. */
function max2(a: number, b: number): number {
  return 0.5 * (a + b + Math.abs(a - b));
}

/**
 * SPEC §2.1 as a gain change (output − input, dB) of a level (linear, ≥ 0),
 * written without branches: u is the level in dB above the knee's lower
 * edge (edge = T − W/2), p = max(u, 0), q = max(p − W, 0) the part above
 * the knee, k = p − q the part inside it; the knee contributes kneeCoef·k²
 * and the straight part slope·q, with slope = 1/R − 1 and
 * kneeCoef = slope/(2W) (0 for a hard knee). Below the knee p = q = k = 0
 * exactly, so the result is exactly 0 there; and as q ≥ 0 and k ≥ 0
 * exactly, it is never positive (no guard needed on the hot path).
 * fastLog2(0) is −1023 octaves, so silence needs no floor.
 */
function gainChangeDb(level: number, edgeDb: number, kneeDb: number, slope: number, kneeCoef: number): number {
  const u = fastLog2(level) * DB_PER_LOG2 - edgeDb;
  const p = 0.5 * (u + Math.abs(u));
  const o = p - kneeDb;
  const q = 0.5 * (o + Math.abs(o));
  const k = p - q;
  return kneeCoef * k * k + slope * q;
}

function kneeCoefOf(slope: number, kneeDb: number): number {
  return kneeDb > 0 ? slope / (2 * kneeDb) : 0;
}

export class CompressorStrip implements Kernel {
  private readonly params = new Float64Array(PARAM_COUNT);
  private prepared = false;
  private sampleRate = 48000;
  private channels = 0;

  // Smoothed parameters (dB, ratio, fraction), see SPEC §2.3.
  private readonly inGainDb = new LinearRamp(0, CHUNK);
  private readonly thresholdDb = new LinearRamp(-18, CHUNK);
  private readonly ratio = new LinearRamp(4, CHUNK);
  private readonly kneeDb = new LinearRamp(6, CHUNK);
  /** makeup + auto makeup, one ramp so toggling auto makeup glides too. */
  private readonly makeupDb = new LinearRamp(0, CHUNK);
  private readonly mix = new LinearRamp(1, CHUNK);
  private readonly ceilingDb = new LinearRamp(-1, CHUNK);
  /** 1 = limiter on, 0 = off; toggling crossfades the limited and the unlimited signal. */
  private readonly limiterMix = new LinearRamp(1, CHUNK);
  private readonly bypass = new LinearRamp(0, CHUNK);
  /** Linear gain on the original while bypassed (`bypass_gain`: level-matched A/B); ramped, so a new match glides. */
  private readonly bypassGain = new LinearRamp(1, CHUNK);
  private readonly hpfWet = new LinearRamp(0, CHUNK);
  private readonly hpfLog2Hz = new LinearRamp(Math.log2(100), CHUNK);

  private readonly inGainLin = new Float64Array(CHUNK);
  /** Float32-safe ceiling (linear) for each frame entering the limiter. */
  private limits: Float64Array = new Float64Array(CHUNK);
  private limitsDirty = true;
  /**
   * The same limits delayed with the audio ([0, D) for the frames leaving
   * the limiter), kept only while the ceiling moves or has moved within D
   * frames (limitsMovingFor > 0); otherwise every frame's limit is limits[0].
   */
  private limitsDelayed = new Float64Array(0);
  private limitsMovingFor = 0;
  private makeupLin = 1;

  private attackCoeff = 0;
  private releaseCoeff = 0;
  private detectorRms = false;
  private link = LINK_MAX;
  private limiterOn = true;
  private truePeak = true;
  /** Render's end of file: the compressor's gain stays where it is (see holdLevel()). */
  private levelHeld = false;
  private rmsWindowFrames = 1;

  private hpfRunning = false;
  private readonly hpfCoeffs = new Float64Array(5);
  private hpfState = new BiquadState(0);

  private rms: RmsWindow[] = [];
  private delay = new DelayLines(0, 0, 0);
  private tapFrom = 0;
  private tapTo = 0;
  private tapPending = -1;
  private tapFadeLeft = 0;
  private crossfadeFrames = 1;

  /** Smoothed gain reduction (dB ≤ 0) per lane; lane 0 is the linked one. */
  private grState = new Float64Array(0);
  private linkOffsets = new Float64Array(0);
  private linkFadeLeft = 0;

  private limiter = new LookaheadLimiter(48000, 0, CHUNK);

  // Scratch, CHUNK frames each.
  private det: Float64Array[] = [];
  private gains: Float64Array[] = [];
  private delayed: Float64Array[] = [];
  /** The input as it leaves the limiter's delay (for bypass), when bypass is blending. */
  private dry: Float64Array[] = [];
  private readonly level = new Float64Array(CHUNK);
  private readonly raw = new Float64Array(CHUNK);
  private readonly grTrace = new Float64Array(CHUNK);
  private laneMinGr = new Float64Array(0);
  /** The loudest detector level (linear) per lane in the block, for the meters. */
  private laneMaxLevel = new Float64Array(0);

  /**
   * Frames the fast path advanced the RMS rings past without writing their
   * squares, all at input gain squaresGain. They are written from the
   * delay ring (which holds the same sanitized input) before the general
   * path next runs, so the history is exactly what per-frame writes would
   * have left; the fast path saves two stores and two multiplies a frame.
   */
  private squaresOwed = 0;
  private squaresGain = 1;

  /**
   * False forces the general path everywhere and makes the limiter do its
   * per-frame work even at rest (for the test holding the fast path and
   * the idle skip bit-identical to the general path).
   */
  useFastPath = true;
  /** False keeps the fused stereo loops and the limiter's frame peaks in JavaScript instead of the WebAssembly kernel (for tests). */
  useWasm = true;
  /** The WebAssembly kernel of the fused loops (stereo only; null where WebAssembly SIMD is missing). */
  private wasm: StereoWasmKernel | null = null;
  /** The fused loops' settings, derived once per sub-block (the WebAssembly kernel reads them from its own copy). */
  private readonly fused = new Float64Array(16);

  constructor(params?: Float64Array) {
    if (params) this.params.set(params.subarray(0, PARAM_COUNT));
    else encodeParams(defaultParams(), this.params);
  }

  prepare(spec: ProcessSpec): void {
    const fs = spec.sampleRate, nch = spec.channels;
    this.sampleRate = fs;
    this.channels = nch;
    const rampFrames = (PARAM_RAMP_MS / 1000) * fs;
    for (const r of this.ramps()) r.setRampFrames(rampFrames);
    this.crossfadeFrames = Math.max(1, Math.round((CROSSFADE_MS / 1000) * fs));
    this.hpfState = new BiquadState(nch);
    const rmsMax = Math.ceil((RMS_WINDOW_MAX_MS / 1000) * fs);
    // Long enough for the lookahead and for the RMS history the fast path
    // leaves to be rebuilt from it (see squaresOwed).
    const limiterShape = LookaheadLimiter.shapeAt(fs), limiterDelay = limiterShape.delayFrames;
    // The bypass reads the input again as it leaves the limiter's delay.
    const lookMax = Math.ceil((LOOKAHEAD_MAX_MS / 1000) * fs) + limiterDelay;
    const delayMax = Math.max(lookMax, rmsMax);
    // Stereo: the delay rings and the limiter's buffers live in the WebAssembly kernel's memory.
    this.wasm = nch === 2
      ? StereoWasmKernel.create(DelayLines.ringFrames(delayMax, CHUNK), limiterDelay + CHUNK, CHUNK, limiterShape, RmsWindow.ringFrames(rmsMax))
      : null;
    this.rms = Array.from({ length: nch }, (_, c) => new RmsWindow(rmsMax, this.wasm?.rmsRings[c]));
    this.limiter = new LookaheadLimiter(fs, nch, CHUNK, this.wasm);
    this.limits = this.wasm?.limits ?? new Float64Array(CHUNK);
    this.limitsDirty = true;
    this.limitsDelayed = new Float64Array(limiterDelay + CHUNK);
    this.delay = new DelayLines(nch, delayMax, CHUNK, this.wasm?.rings);
    this.grState = new Float64Array(nch);
    this.linkOffsets = new Float64Array(nch);
    const scratch = (): Float64Array[] => Array.from({ length: nch }, () => new Float64Array(CHUNK));
    this.det = scratch();
    this.gains = scratch();
    this.delayed = scratch();
    this.dry = scratch();
    this.laneMinGr = new Float64Array(nch);
    this.laneMaxLevel = new Float64Array(nch);
    this.prepared = true;
    this.reset();
  }

  reset(): void {
    if (!this.prepared) return;
    this.hpfState.reset();
    for (const r of this.rms) r.reset();
    this.delay.reset();
    this.squaresOwed = 0;
    this.grState.fill(0);
    this.linkOffsets.fill(0);
    this.linkFadeLeft = 0;
    this.levelHeld = false;
    this.limiter.reset();
    this.applyParams(true);
  }

  setParams(vector: Float64Array): void {
    this.params.set(vector.subarray(0, PARAM_COUNT));
    if (!this.prepared) return;
    // A new RMS window recomputes its sum from the ring at once.
    if (this.squaresOwed > 0) this.paySquares();
    this.applyParams(false);
  }

  /** True when the fused stereo loops can run as WebAssembly (stereo, after prepare(), WebAssembly SIMD present). */
  get wasmReady(): boolean {
    return this.wasm !== null;
  }

  /** The lookahead the chain is moving to plus the limiter's (always there, on or off). */
  get latencyFrames(): number {
    return this.tapTo + this.limiter.delayFrames;
  }

  /** The limiter's part of latencyFrames (0 before prepare()). */
  get limiterDelayFrames(): number {
    return this.prepared ? this.limiter.delayFrames : 0;
  }

  /**
   * From now on the compressor's gain stays where it is instead of
   * following the detector: for a render's end of file, where the samples
   * still in the lookahead delay must not be treated as if silence
   * followed them (the detector would release and they would come out
   * louder). reset() ends it.
   */
  holdLevel(): void {
    this.levelHeld = true;
  }

  private ramps(): LinearRamp[] {
    return [this.inGainDb, this.thresholdDb, this.ratio, this.kneeDb, this.makeupDb, this.mix,
      this.ceilingDb, this.limiterMix, this.bypass, this.bypassGain, this.hpfWet, this.hpfLog2Hz];
  }

  /** Turns the parameter vector into targets; `snap` jumps instead of gliding. */
  private applyParams(snap: boolean): void {
    const v = this.params, fs = this.sampleRate;
    const get = (i: number): number => paramValue(v, i);
    const to = (r: LinearRamp, x: number): void => (snap ? r.snap(x) : r.setTarget(x));

    const thr = get(P.threshold), ratio = get(P.ratio);
    to(this.inGainDb, get(P.input_gain));
    to(this.thresholdDb, thr);
    to(this.ratio, ratio);
    to(this.kneeDb, get(P.knee));
    to(this.makeupDb, get(P.makeup) + (get(P.auto_makeup) ? autoMakeupDb(thr, ratio) : 0));
    to(this.mix, get(P.mix) / 100);
    to(this.ceilingDb, get(P.ceiling));
    to(this.bypass, get(P.bypass));
    to(this.bypassGain, dbToGain(get(P.bypass_gain)));
    const on = get(P.limiter) === 1;
    // Switched on from fully off: the gain starts at rest, not at what it was when switched off.
    if (on && !this.limiterOn && this.limiterMix.value === 0) this.limiter.resetGain();
    this.limiterOn = on;
    to(this.limiterMix, on ? 1 : 0);
    this.truePeak = get(P.true_peak) === 1;
    if (snap) this.limitsDirty = true;

    this.attackCoeff = onePoleCoeff(get(P.attack), fs);
    this.releaseCoeff = onePoleCoeff(get(P.release), fs);
    this.detectorRms = get(P.detector) === 1;
    const win = Math.max(1, Math.round((get(P.rms_window) / 1000) * fs));
    if (snap || win !== this.rmsWindowFrames) {
      this.rmsWindowFrames = win;
      for (const r of this.rms) r.setWindowFrames(win);
    }

    this.applyLink(get(P.link), snap);
    this.applyHpf(get(P.sidechain_hpf), snap);
    this.applyLookahead(Math.round((get(P.lookahead) / 1000) * fs), snap);
  }

  private applyLink(mode: number, snap: boolean): void {
    const old = this.link;
    this.link = mode;
    const g = this.grState, n = this.channels;
    if (snap) { this.linkFadeLeft = 0; return; }
    if (old === LINK_NONE && mode !== LINK_NONE) {
      // One shared state from now on: start it at the deepest channel and
      // glide the others' difference away, so no channel's gain jumps.
      let deepest = 0;
      for (let c = 0; c < n; c++) if (g[c]! < deepest) deepest = g[c]!;
      for (let c = 0; c < n; c++) this.linkOffsets[c] = g[c]! - deepest;
      g[0] = deepest;
      this.linkFadeLeft = this.crossfadeFrames;
    } else if (old !== LINK_NONE && mode === LINK_NONE) {
      // Every channel continues from the gain it has right now.
      const f = this.linkFadeLeft / this.crossfadeFrames;
      for (let c = n - 1; c >= 0; c--) g[c] = g[0]! + this.linkOffsets[c]! * f;
      this.linkFadeLeft = 0;
    }
  }

  private applyHpf(hz: number, snap: boolean): void {
    if (hz > 0) {
      if (snap || !this.hpfRunning) {
        // Start the filter at its final cutoff from rest and fade it in.
        this.hpfLog2Hz.snap(Math.log2(hz));
        butterworthHighpass(hz, this.sampleRate, this.hpfCoeffs);
        this.hpfState.reset();
        this.hpfRunning = true;
      } else {
        this.hpfLog2Hz.setTarget(Math.log2(hz));
      }
      if (snap) this.hpfWet.snap(1); else this.hpfWet.setTarget(1);
    } else if (snap) {
      this.hpfWet.snap(0);
      this.hpfRunning = false;
    } else {
      this.hpfWet.setTarget(0);
    }
  }

  private applyLookahead(frames: number, snap: boolean): void {
    const d = Math.min(frames, Math.ceil((LOOKAHEAD_MAX_MS / 1000) * this.sampleRate));
    if (snap) {
      this.tapFrom = this.tapTo = d;
      this.tapPending = -1;
      this.tapFadeLeft = 0;
    } else if (this.tapFadeLeft > 0) {
      // One crossfade at a time: the newest request waits for this one.
      this.tapPending = d;
    } else if (d !== this.tapTo) {
      this.tapFrom = this.tapTo;
      this.tapTo = d;
      this.tapFadeLeft = this.crossfadeFrames;
    }
  }

  process(input: readonly Float32Array[], output: readonly Float32Array[], frames: number, meters?: MeterBank): void {
    if (!this.prepared) throw new Error('CompressorStrip: prepare() before process()');
    const nch = Math.min(this.channels, input.length, output.length);
    const minGr = this.laneMinGr, maxLevel = this.laneMaxLevel;
    minGr.fill(0);
    maxLevel.fill(0);
    for (let off = 0; off < frames; off += CHUNK) {
      const n = Math.min(CHUNK, frames - off);
      let inWasm = false;
      if (nch === 2 && this.useFastPath && this.steady()) {
        // In WebAssembly when it can: the loops, and at rest the limiter's idle check.
        inWasm = this.fastChunk(input, off, n);
      } else if (nch === 2 && this.useFastPath && this.wasm !== null && this.useWasm && (n & 1) === 0 && this.steadyGeneral()) {
        this.generalWasmChunk(this.wasm, input, off, n);
        inWasm = true;
      } else {
        this.processChunk(input, nch, off, n);
      }
      if (inWasm && this.limiter.atRest && this.limiterMix.value === 1) {
        this.wasm!.peak(this.limiter.idleFrom(this.truePeak), this.limiter.delayFrames + n);
        this.limiter.knownPeak[0] = this.wasm!.state[WS.peak]!;
      }
      const unity = this.limiterPass(nch, n);
      this.outputPass(output, nch, off, n, unity);
      this.limiter.advance(n, nch);
      this.delay.advance(n);
    }
    if (meters) {
      const shared = this.link !== LINK_NONE;
      for (let c = 0; c < nch; c++) meters.reportGainReduction(c, minGr[shared ? 0 : c]!);
      // Written in place: a double argument to a call V8 does not inline is boxed.
      const det = meters.detLevel;
      for (let c = 0; c < nch && c < det.length; c++) {
        const v = maxLevel[shared ? 0 : c]!;
        if (v > det[c]!) det[c] = v;
      }
    }
  }

  /**
   * True when a sub-block may take fastChunk(): nothing is ramping or
   * crossfading, so renderParams() would have nothing to do, and the chain
   * reduces to linked peak detection without HPF or delay.
   */
  private steady(): boolean {
    return this.link !== LINK_NONE && this.linkFadeLeft === 0 && !this.detectorRms && !this.hpfRunning
      && this.tapTo === 0 && this.tapFadeLeft === 0 && !this.limitsDirty && !this.levelHeld
      && this.inGainDb.constant && this.thresholdDb.constant && this.ratio.constant && this.kneeDb.constant
      && this.makeupDb.constant && this.mix.constant && this.ceilingDb.constant && this.limiterMix.constant
      && this.bypass.constant && this.bypassGain.constant;
  }

  /**
   * True when a stereo sub-block may take generalWasmChunk(): linked, no
   * ramp or crossfade under way (so the parameters are constant over the
   * block), the HPF fully in or out at a fixed cutoff; any detector and
   * lookahead. The general path otherwise.
   */
  private steadyGeneral(): boolean {
    return this.link !== LINK_NONE && this.linkFadeLeft === 0 && this.tapFadeLeft === 0 && !this.limitsDirty && !this.levelHeld
      && (!this.hpfRunning || (this.hpfWet.constant && this.hpfWet.value === 1 && !this.hpfLog2Hz.ramping))
      && this.rms[0]!.pos === this.rms[1]!.pos && this.rms[0]!.windowFrames === this.rms[1]!.windowFrames
      && this.inGainDb.constant && this.thresholdDb.constant && this.ratio.constant && this.kneeDb.constant
      && this.makeupDb.constant && this.mix.constant && this.ceilingDb.constant && this.limiterMix.constant
      && this.bypass.constant && this.bypassGain.constant;
  }

  /**
   * processChunk() for a block steadyGeneral() admits, in the WebAssembly
   * kernel (stereo-wasm.ts, general()): sidechainPass (HPF, RMS), linkPass,
   * gainLane, readDelayed and compressPass, the same operations in the
   * same order, so bit-identical to them.
   */
  private generalWasmChunk(k: StereoWasmKernel, input: readonly Float32Array[], off: number, n: number): void {
    if (this.squaresOwed > 0) this.paySquares();
    this.renderParams(n);
    const f = this.fused;
    this.setFusedParams(f);
    const hpf = this.hpfRunning, rms = this.detectorRms, hL = this.rms[0]!, hR = this.rms[1]!;
    const st = k.state;
    if (hpf) {
      const c = this.hpfCoeffs, hs = this.hpfState.s;
      f[WP.b0] = c[0]!; f[WP.b1] = c[1]!; f[WP.b2] = c[2]!; f[WP.a1] = c[3]!; f[WP.a2] = c[4]!;
      // lanes (left, right) of x1, x2, y1, y2
      for (let j = 0; j < 4; j++) { st[WS.hpf + 2 * j] = hs[j]!; st[WS.hpf + 2 * j + 1] = hs[4 + j]!; }
    }
    hL.beginPush(rms); hR.beginPush(rms);
    if (rms) {
      f[WP.invN] = 1 / hL.windowFrames;
      st[WS.sumL] = hL.sum; st[WS.sumR] = hR.sum;
    }
    this.copyIn(k, input, off, n);
    k.params.set(f);
    st[WS.y] = this.grState[0]!;
    st[WS.top] = this.laneMaxLevel[0]!;
    k.runGeneral(n, this.delay.writePos, this.delay.mask, this.limiter.inputOffset, this.link !== LINK_MAX, hpf, rms, this.tapTo, hL.pos, hL.windowFrames);
    this.grState[0] = st[WS.y]!;
    this.laneMaxLevel[0] = st[WS.top]!;
    if (st[WS.deepest]! < this.laneMinGr[0]!) this.laneMinGr[0] = st[WS.deepest]!;
    hL.endPush(n, rms, st, WS.sumL); hR.endPush(n, rms, st, WS.sumR);
    if (hpf) {
      const hs = this.hpfState.s;
      for (let c = 0; c < 2; c++) {
        for (let j = 0; j < 4; j++) hs[4 * c + j] = st[WS.hpf + 2 * j + c]!;
        // biquadProcess's flush of a decayed tail
        const y1 = hs[4 * c + 2]!, y2 = hs[4 * c + 3]!;
        if ((y1 < 0 ? -y1 : y1) < 1e-30 && (y2 < 0 ? -y2 : y2) < 1e-30) { hs[4 * c + 2] = 0; hs[4 * c + 3] = 0; }
      }
    }
  }

  /** The fused loops' settings from the (constant) parameters. */
  private setFusedParams(f: Float64Array): void {
    f[WP.g0] = this.inGainLin[0]!;
    const thr = this.thresholdDb.value, knee = this.kneeDb.value, slope = 1 / this.ratio.value - 1;
    f[WP.knee] = knee; f[WP.slope] = slope; f[WP.kneeCoef] = kneeCoefOf(slope, knee); f[WP.edge] = thr - 0.5 * knee;
    f[WP.mkDb] = this.makeupDb.value; f[WP.mkLin] = this.makeupLin; f[WP.mix] = this.mix.value;
    const aD = 0.5 * (this.attackCoeff - this.releaseCoeff);
    f[WP.aD] = aD; f[WP.aS] = this.releaseCoeff + aD;
  }

  /** The block's input into the kernel's memory. */
  private copyIn(k: StereoWasmKernel, input: readonly Float32Array[], off: number, n: number): void {
    const xL = input[0]!, xR = input[1]!;
    if (off === 0 && xL.length === n && xR.length === n) {
      k.inL.set(xL); k.inR.set(xR);
    } else {
      const inL = k.inL, inR = k.inR;
      for (let i = 0; i < n; i++) { inL[i] = xL[off + i]!; inR[i] = xR[off + i]!; }
    }
  }

  /**
   * sidechainPass, linkPass, gainLane and compressPass for the steady
   * stereo case, in two per-frame loops: (1) input → rings → level → gain
   * target, independent frames the CPU can overlap; (2) the attack/release
   * recurrence (a serial chain) → gain → the limiter's input. Splitting
   * there measured faster than one loop (the recurrence no longer holds up
   * the independent work) and faster than three (fewer scratch stores).
   * Every expression mirrors the general passes operation for operation.
   * The delay ring stays current for a later lookahead change; the RMS
   * history's squares are owed and written from that ring when next
   * needed (squaresOwed).
   */
  private fastChunk(input: readonly Float32Array[], off: number, n: number): boolean {
    const f = this.fused, w = this.delay.writePos;
    this.setFusedParams(f);
    const k = this.wasm;
    // The kernel steps two frames at a time along the ring: even n and position.
    const wasm = k !== null && this.useWasm && ((n | w) & 1) === 0;
    if (wasm) this.wasmLoops(k, input, off, n);
    else this.fusedLoops(input, off, n);
    const hL = this.rms[0]!, hR = this.rms[1]!;
    hL.pos = (hL.pos + n) & hL.mask; hL.stale = true;
    hR.pos = (hR.pos + n) & hR.mask; hR.stale = true;
    this.squaresOwed = Math.min(this.squaresOwed + n, hL.mask);
    this.squaresGain = f[WP.g0]!;
    return wasm;
  }

  /** fastChunk's loops in WebAssembly (stereo-wasm.ts): the same operations in the same order. */
  private wasmLoops(k: StereoWasmKernel, input: readonly Float32Array[], off: number, n: number): void {
    this.copyIn(k, input, off, n);
    k.params.set(this.fused);
    const st = k.state;
    st[WS.y] = this.grState[0]!;
    st[WS.top] = this.laneMaxLevel[0]!;
    k.run(n, this.delay.writePos, this.delay.mask, this.limiter.inputOffset, this.link !== LINK_MAX);
    this.grState[0] = st[WS.y]!;
    this.laneMaxLevel[0] = st[WS.top]!;
    if (st[WS.deepest]! < this.laneMinGr[0]!) this.laneMinGr[0] = st[WS.deepest]!;
  }

  /** fastChunk's loops in JavaScript (see fastChunk). */
  private fusedLoops(input: readonly Float32Array[], off: number, n: number): void {
    const xL = input[0]!, xR = input[1]!;
    const mask = this.delay.mask, w = this.delay.writePos;
    const rL = this.delay.rings[0]!, rR = this.delay.rings[1]!;
    const f = this.fused, average = this.link !== LINK_MAX;
    const g0 = f[WP.g0]!, knee = f[WP.knee]!, slope = f[WP.slope]!, kneeCoef = f[WP.kneeCoef]!, edge = f[WP.edge]!;
    const mkDb = f[WP.mkDb]!, mkLin = f[WP.mkLin]!, m = f[WP.mix]!, aD = f[WP.aD]!, aS = f[WP.aS]!;
    const T = this.raw;
    let top = this.laneMaxLevel[0]!;
    for (let i = 0; i < n; i++) {
      const a = sanitizeSample(xL[off + i]!), b = sanitizeSample(xR[off + i]!);
      rL[(w + i) & mask] = a;
      rR[(w + i) & mask] = b;
      const da = a * g0, db = b * g0;
      const ea = Math.abs(da), eb = Math.abs(db);
      const x = average ? (ea + eb) * 0.5 : max2(ea, eb);
      // A branch V8 predicts well here (a new loudest frame is rare), and
      // unlike max2 it puts no arithmetic on a chain from frame to frame.
      top = x > top ? x : top;
      T[i] = gainChangeDb(x, edge, knee, slope, kneeCoef);
    }
    this.laneMaxLevel[0] = top;
    const at = this.limiter.inputOffset, vL = this.limiter.buffers[0]!, vR = this.limiter.buffers[1]!;
    let y = this.grState[0]!, deepest = 0;
    for (let i = 0; i < n; i++) {
      const target = T[i]!;
      const d = y - target;
      y = target + aS * d + aD * Math.abs(d);
      if (y > -1e-9 && target === 0) y = 0;
      if (y < deepest) deepest = y;
      const gw = y === 0 ? mkLin : fastExp2((y + mkDb) * LOG2_PER_DB);
      const G = g0 * (m * gw + 1 - m);
      // The sanitized input, back from the ring it was just written to.
      vL[at + i] = rL[(w + i) & mask]! * G;
      vR[at + i] = rR[(w + i) & mask]! * G;
    }
    this.grState[0] = y;
    if (deepest < this.laneMinGr[0]!) this.laneMinGr[0] = deepest;
  }

  private renderParams(n: number): void {
    if (this.inGainDb.render(n)) {
      const db = this.inGainDb.values, lin = this.inGainLin;
      for (let i = 0; i < CHUNK; i++) lin[i] = dbToGain(db[i]!);
    }
    this.thresholdDb.render(n);
    this.kneeDb.render(n);
    this.ratio.render(n);
    if (this.makeupDb.render(n)) this.makeupLin = dbToGain(this.makeupDb.value);
    this.mix.render(n);
    this.limiterMix.render(n);
    this.bypass.render(n);
    this.bypassGain.render(n);
    if (this.ceilingDb.render(n) || this.limitsDirty) {
      const c = this.ceilingDb.values, lim = this.limits;
      for (let i = 0; i < CHUNK; i++) lim[i] = float32SafeLimit(dbToGain(c[i]!));
      if (this.limitsDirty) {
        // A jump (start, reset): the delayed limits jump with it.
        this.limitsDelayed.fill(lim[0]!);
        this.limitsMovingFor = 0;
      } else {
        this.limitsMovingFor = this.limiter.delayFrames + CHUNK;
      }
      this.limitsDirty = false;
    }
    if (this.hpfRunning) {
      this.hpfWet.render(n);
      if (this.hpfLog2Hz.ramping) butterworthHighpass(2 ** this.hpfLog2Hz.advance(n), this.sampleRate, this.hpfCoeffs);
    }
  }

  /** Writes the RMS-ring squares the fast path skipped (it only ever runs on two channels). */
  private paySquares(): void {
    const owed = this.squaresOwed, g = this.squaresGain;
    this.squaresOwed = 0;
    const dm = this.delay.mask, w = this.delay.writePos;
    for (let c = 0; c < 2; c++) {
      const h = this.rms[c]!, r = this.delay.rings[c]!, q = h.ring, qm = h.mask, p = h.pos;
      for (let j = 1; j <= owed; j++) {
        const d = r[(w - j) & dm]! * g;
        q[(p - j) & qm] = d * d;
      }
    }
  }

  /** The general path: every pass for any channel count and any state. */
  private processChunk(input: readonly Float32Array[], nch: number, off: number, n: number): void {
    if (this.squaresOwed > 0) this.paySquares();
    this.renderParams(n);
    this.sidechainPass(input, nch, off, n);
    const linked = this.link !== LINK_NONE;
    const fading = linked && this.linkFadeLeft > 0;
    if (linked) {
      this.gainLane(this.linkPass(nch, n), 0, n, fading, this.laneMinGr);
      if (fading) this.linkFadeGains(nch, n);
    } else {
      for (let c = 0; c < nch; c++) this.gainLane(this.det[c]!, c, n, false, this.laneMinGr);
    }
    this.readDelayed(nch, n);
    this.compressPass(nch, n, linked && !fading);
  }

  /** Per channel: sanitize into the delay ring, input gain, sidechain HPF, RMS history; det[c] = level. */
  private sidechainPass(input: readonly Float32Array[], nch: number, off: number, n: number): void {
    const ring = this.delay.rings, mask = this.delay.mask, w = this.delay.writePos;
    const gIn = this.inGainLin, gInConst = this.inGainDb.constant, g0 = gIn[0]!;
    const hpfWet = this.hpfWet.values, hpfFading = this.hpfRunning && !this.hpfWet.constant;
    for (let c = 0; c < nch; c++) {
      const x = input[c]!, r = ring[c]!, d = this.det[c]!;
      if (gInConst) {
        for (let i = 0; i < n; i++) {
          const s = sanitizeSample(x[off + i]!);
          r[(w + i) & mask] = s;
          d[i] = s * g0;
        }
      } else {
        for (let i = 0; i < n; i++) {
          const s = sanitizeSample(x[off + i]!);
          r[(w + i) & mask] = s;
          d[i] = s * gIn[i]!;
        }
      }
      if (this.hpfRunning) {
        if (hpfFading) {
          const raw = this.raw;
          raw.set(d.subarray(0, n));
          biquadProcess(this.hpfCoeffs, this.hpfState, c, d, n);
          for (let i = 0; i < n; i++) d[i] = raw[i]! + hpfWet[i]! * (d[i]! - raw[i]!);
        } else {
          biquadProcess(this.hpfCoeffs, this.hpfState, c, d, n);
        }
      }
      this.rms[c]!.push(d, n, this.detectorRms);
      if (!this.detectorRms) for (let i = 0; i < n; i++) d[i] = Math.abs(d[i]!);
    }
    if (this.hpfRunning && this.hpfWet.constant && this.hpfWet.value === 0) this.hpfRunning = false;
  }

  /** The linked level of the channels' levels (max or mean); returns the array holding it. */
  private linkPass(nch: number, n: number): Float64Array {
    if (nch === 1) return this.det[0]!;
    const level = this.level, d0 = this.det[0]!;
    for (let i = 0; i < n; i++) level[i] = d0[i]!;
    if (this.link === LINK_MAX) {
      for (let c = 1; c < nch; c++) {
        const d = this.det[c]!;
        for (let i = 0; i < n; i++) level[i] = max2(level[i]!, d[i]!);
      }
    } else {
      for (let c = 1; c < nch; c++) {
        const d = this.det[c]!;
        for (let i = 0; i < n; i++) level[i] += d[i]!;
      }
      const inv = 1 / nch;
      for (let i = 0; i < n; i++) level[i] *= inv;
    }
    return level;
  }

  /** Per channel: the delayed input × its lane's gain, written into the limiter's lookahead buffer. */
  private compressPass(nch: number, n: number, singleLane: boolean): void {
    const at = this.limiter.inputOffset;
    for (let c = 0; c < nch; c++) {
      const G = this.gains[singleLane ? 0 : c]!, xd = this.delayed[c]!, v = this.limiter.buffers[c]!;
      for (let i = 0; i < n; i++) v[at + i] = xd[i]! * G[i]!;
    }
  }

  /**
   * The limiter's gains for the n frames leaving its delay (limiter.gains);
   * true when they are all exactly 1 (nothing to multiply). Skipped while
   * the limiter is fully off.
   */
  private limiterPass(nch: number, n: number): boolean {
    if (this.limitsMovingFor > 0) {
      const lim = this.limits, to = this.limitsDelayed, d = this.limiter.delayFrames;
      for (let i = 0; i < n; i++) to[d + i] = lim[i]!;
    }
    if (this.limiterMix.constant && this.limiterMix.value === 0) return true;
    this.limiter.useKernel = this.useWasm;
    return this.limiter.compute(n, nch, this.limits, this.ceilingDb.constant, this.truePeak, this.useFastPath);
  }

  /**
   * Per channel, the frames leaving the limiter: × limiter gain, clamped to
   * the ceiling, crossfaded with the unlimited signal while the limiter is
   * switched, then bypass, the final ±1 clamp, float32 out.
   */
  private outputPass(output: readonly Float32Array[], nch: number, off: number, n: number, unity: boolean): void {
    const mixSteady = this.limiterMix.constant, mixValue = this.limiterMix.value;
    const limited = !(mixSteady && mixValue === 0), blending = !mixSteady;
    const bypassing = !(this.bypass.constant && this.bypass.value === 0);
    const moving = this.limitsMovingFor > 0;
    const lim = this.limitsDelayed, lim0 = this.limits[0]!;
    const lg = this.limiter.gains, mixes = this.limiterMix.values, bp = this.bypass.values, bg = this.bypassGain.values;
    if (bypassing) this.readDry(nch, n);
    const k = this.wasm, outL = output[0]!, outR = output[1]!;
    if (!blending && !bypassing && !moving && k !== null && this.useWasm && nch === 2 && n === CHUNK
      && outL.length >= off + n && outR.length >= off + n) {
      // The steady cases below in the WebAssembly kernel, then two block
      // copies: at rest the leaving samples as they are; limiting, × gain
      // and the ceiling clamp; with the limiter off, the ±1 clamp.
      // The limit goes through memory: a double argument may be boxed on the way into WebAssembly.
      if (!limited) { k.state[WS.limit] = 1; k.output(n, 0); } else if (unity) k.toFloat32(n);
      else { k.state[WS.limit] = lim0; k.output(n, 1); }
      outL.set(k.outL, off);
      outR.set(k.outR, off);
      return;
    }
    for (let c = 0; c < nch; c++) {
      const v = this.limiter.buffers[c]!, out = output[c]!;
      if (limited && !blending && !bypassing && !moving) {
        // The steady case: |v| ≤ L' < 1 after the clamp, so no ±1 clamp;
        // and at rest every leaving sample is within L' already (see
        // LookaheadLimiter.compute), so no clamp at all.
        if (unity) {
          for (let i = 0; i < n; i++) out[off + i] = v[i]!;
        } else {
          for (let i = 0; i < n; i++) {
            const x = v[i]! * lg[i]!;
            out[off + i] = x > lim0 ? lim0 : x < -lim0 ? -lim0 : x;
          }
        }
        continue;
      }
      const dry = this.dry[c]!;
      for (let i = 0; i < n; i++) {
        const raw = v[i]!;
        let x = raw;
        if (limited) {
          const l = moving ? lim[i]! : lim0;
          let s = unity ? raw : raw * lg[i]!;
          s = s > l ? l : s < -l ? -l : s;
          x = blending ? raw + mixes[i]! * (s - raw) : s;
        }
        if (bypassing) x += bp[i]! * (dry[i]! * bg[i]! - x);
        out[off + i] = x > 1 ? 1 : x < -1 ? -1 : x;
      }
    }
    if (moving) {
      const d = this.limiter.delayFrames;
      lim.copyWithin(0, n, n + d);
      this.limitsMovingFor = Math.max(0, this.limitsMovingFor - n);
    }
  }

  /**
   * Gain computer + smoothing for one lane: fills gains[lane] with the
   * linear gain to apply (input gain, wet/dry mix and makeup folded in) and
   * lowers deepestDb[lane] to the deepest smoothed reduction of the
   * sub-block. (Returned instead, a fractional number would be boxed on the
   * heap whenever V8 does not inline this call: garbage every block.)
   */
  private gainLane(level: Float64Array, lane: number, n: number, trace: boolean, deepestDb: Float64Array): void {
    const G = this.gains[lane]!, gr = this.grTrace;
    const thr = this.thresholdDb.values, ratio = this.ratio.values, knee = this.kneeDb.values;
    const mk = this.makeupDb.values, mix = this.mix.values, gIn = this.inGainLin;
    const mkSteady = this.makeupDb.constant, mkLin = this.makeupLin;
    const aD = 0.5 * (this.attackCoeff - this.releaseCoeff), aS = this.releaseCoeff + aD;
    const held = this.levelHeld;
    let y = this.grState[lane]!, top = this.laneMaxLevel[lane]!;
    let deepest = 0;
    for (let i = 0; i < n; i++) {
      const l = level[i]!;
      top = l > top ? l : top;
      const slope = 1 / ratio[i]! - 1, w = knee[i]!;
      let target = held ? y : gainChangeDb(level[i]!, thr[i]! - 0.5 * w, w, slope, kneeCoefOf(slope, w));
      // Cannot happen for finite levels (see gainChangeDb); kept so nothing
      // unforeseen can ever turn into gain or NaN state here.
      if (!(target <= 0)) target = 0;
      // Branching smoother in dB: attack (aA) while reduction deepens
      // (y > target), release (aR) while it recovers; the two never mix, so
      // attack never slows release. With aD = ½(aA − aR), aS = aR + aD:
      // aS·d + aD·|d| is aA·d for d > 0 and aR·d otherwise, without a
      // branch, and only three operations deep on y's chain from frame to frame.
      const d = y - target;
      y = target + aS * d + aD * Math.abs(d);
      // Finish the asymptote, so an idle strip is exactly transparent.
      if (y > -1e-9 && target === 0) y = 0;
      if (y < deepest) deepest = y;
      if (trace) gr[i] = y;
      const m = mix[i]!;
      const gw = y === 0 && mkSteady ? mkLin : fastExp2((y + mk[i]!) * LOG2_PER_DB);
      G[i] = gIn[i]! * (m * gw + 1 - m);
    }
    this.grState[lane] = y;
    this.laneMaxLevel[lane] = top;
    if (deepest < deepestDb[lane]!) deepestDb[lane] = deepest;
  }

  /** During a none → linked change: each channel glides from its own gain to the shared one. */
  private linkFadeGains(nch: number, n: number): void {
    const gr = this.grTrace, mk = this.makeupDb.values, mix = this.mix.values, gIn = this.inGainLin;
    const total = this.crossfadeFrames;
    for (let c = 0; c < nch; c++) {
      const G = this.gains[c]!, offset = this.linkOffsets[c]!;
      let left = this.linkFadeLeft;
      for (let i = 0; i < n; i++) {
        if (left > 0) left--;
        const m = mix[i]!;
        const gw = fastExp2((gr[i]! + offset * (left / total) + mk[i]!) * LOG2_PER_DB);
        G[i] = gIn[i]! * (m * gw + 1 - m);
      }
    }
    this.linkFadeLeft = Math.max(0, this.linkFadeLeft - n);
  }

  /** delayed[c] = the raw input `tap` frames ago, crossfading between taps after a lookahead change. */
  private readDelayed(nch: number, n: number): void {
    const ring = this.delay.rings, mask = this.delay.mask, w = this.delay.writePos;
    if (this.tapFadeLeft > 0) {
      const total = this.crossfadeFrames, from = this.tapFrom, to = this.tapTo;
      for (let c = 0; c < nch; c++) {
        const r = ring[c]!, xd = this.delayed[c]!;
        let left = this.tapFadeLeft;
        for (let i = 0; i < n; i++) {
          if (left > 0) left--;
          const f = 1 - left / total;
          const a = r[(w + i - from) & mask]!, b = r[(w + i - to) & mask]!;
          xd[i] = a + f * (b - a);
        }
      }
      this.tapFadeLeft = Math.max(0, this.tapFadeLeft - n);
      if (this.tapFadeLeft === 0) {
        this.tapFrom = to;
        if (this.tapPending >= 0 && this.tapPending !== to) {
          this.tapTo = this.tapPending;
          this.tapFadeLeft = total;
        }
        this.tapPending = -1;
      }
    } else {
      const d = this.tapTo;
      for (let c = 0; c < nch; c++) {
        const r = ring[c]!, xd = this.delayed[c]!;
        for (let i = 0; i < n; i++) xd[i] = r[(w + i - d) & mask]!;
      }
    }
  }

  /**
   * dry[c] = the sanitized input as the frames leaving the limiter entered
   * the chain (lookahead tap plus the limiter's delay), for the bypass
   * blend. During a lookahead crossfade it reads the new tap only.
   */
  private readDry(nch: number, n: number): void {
    const ring = this.delay.rings, mask = this.delay.mask, w = this.delay.writePos;
    const d = this.tapTo + this.limiter.delayFrames;
    for (let c = 0; c < nch; c++) {
      const r = ring[c]!, xd = this.dry[c]!;
      for (let i = 0; i < n; i++) xd[i] = r[(w + i - d) & mask]!;
    }
  }
}
