/**
 * The strip's per-frame work for stereo as a WebAssembly SIMD kernel,
 * built here from these sources (wasm-emit.ts), no toolchain. It performs
 * the same IEEE operations in the same order as the JavaScript, so its
 * output is bit-identical (test/dsp/strip-fastpath.test.ts and
 * strip-wasm-limiter.test.ts run through it):
 *
 *   fused()   CompressorStrip.fastChunk's loops:
 *     loop 1  two frames a step (f64x2 lanes = frames i, i+1, per channel):
 *             float32 in → hygiene → delay ring → × input gain → |x| → link
 *             (max or mean) → log2 (table lookups per lane) → gain curve
 *     loop 2  two attack/release steps (a serial chain: nothing to
 *             vectorise), then the pair's 2^x (table lookups per lane),
 *             wet/dry, × the delayed input into the limiter's buffers
 *   general() the same after a sidechain loop (HPF, RMS; the channels as
 *             lanes), with the lookahead tap: generalWasmChunk
 *   limit()   the limiter's frame peaks (true peak in float32, four frames
 *             a vector) and its gain loop: LookaheadLimiter.compute
 *   output(), toFloat32(), peak()   the output pass and the idle check.
 *
 * What it gains over V8's code for the same loops: no bounds checks, the
 * double's bits without a store and reload, two (four) frames per vector
 * instruction. The delay rings, the RMS rings and the limiter's buffers
 * and state live in this kernel's memory (the JavaScript paths use the
 * same arrays), so only the block's input is copied in.
 */
import { FAST_MATH, DB_PER_LOG2, LOG2_PER_DB } from './gain.js';
import { FLT_MAX, FLT_MIN_NORMAL } from './sanitize.js';
import { TP_DIFF, TP_MID, TP_RANGE_32, TP_SUM, TRUE_PEAK_DELAY, TRUE_PEAK_HISTORY } from './true-peak.js';
import { LIMIT_MODE, type LimiterShape, type StereoLimiterKernel } from './limiter.js';
import {
  VALTYPE, f32Const, f64Const, i32Const, localGet as get, localSet as set, localTee as tee, moduleBytes, op, type Code,
} from './wasm-emit.js';

/**
 * params[] slots, written by the strip before each run; general() also
 * reads the sidechain HPF's coefficients and 1/N of the RMS window.
 */
export const WP = { g0: 0, edge: 1, knee: 2, slope: 3, kneeCoef: 4, aS: 5, aD: 6, mkDb: 7, mkLin: 8, mix: 9,
  b0: 10, b1: 11, b2: 12, a1: 13, a2: 14, invN: 15 } as const;
/**
 * state[] slots: y (in and out), the loudest level so far (in and out),
 * the deepest y of the run (out); peak(): the largest |sample| (out);
 * general(): the RMS sums of the left and right channel (in and out), and
 * the HPF's state as lanes (left, right) of x1, x2, y1, y2 (in and out);
 * output(): the clamp's limit (in).
 */
export const WS = { y: 0, top: 1, deepest: 2, peak: 3, sumL: 4, sumR: 5, hpf: 6, limit: 14 } as const;

interface Layout { rmsFrames: number; params: number; state: number; log2: number; pow2: number; pow2Frac: number; inL: number; inR: number;
  target: number; detL: number; detR: number; rmsL: number; rmsR: number; ringL: number; ringR: number; limL: number; limR: number; outL: number; outR: number; peaks: number; tpL: number; tpR: number; tpP: number; tpQ: number; tpTop: number;
  gains: number; limits: number; hist: number; box1: number; box2: number; lstate: number; lpos: number; shape: LimiterShape; bytes: number }

function layout(ringFrames: number, limiterFrames: number, chunk: number, shape: LimiterShape, rmsFrames: number): Layout {
  let at = 0;
  const take = (bytes: number): number => { const o = at; at += Math.ceil(bytes / 16) * 16; return o; };
  const l = {
    params: take(8 * 16), state: take(8 * 16),
    log2: take(8 * FAST_MATH.log2Table.length), pow2: take(8 * FAST_MATH.pow2.length), pow2Frac: take(8 * FAST_MATH.pow2Frac.length),
    inL: take(4 * chunk), inR: take(4 * chunk), target: take(8 * chunk), detL: take(8 * chunk), detR: take(8 * chunk),
    rmsL: take(8 * rmsFrames), rmsR: take(8 * rmsFrames),
    ringL: take(8 * ringFrames), ringR: take(8 * ringFrames), limL: take(8 * limiterFrames), limR: take(8 * limiterFrames),
    outL: take(4 * chunk), outR: take(4 * chunk), peaks: take(8 * chunk), tpL: take(4 * limiterFrames), tpR: take(4 * limiterFrames), tpP: take(4 * chunk), tpQ: take(4 * chunk), tpTop: take(4 * chunk),
    gains: take(8 * chunk), limits: take(8 * chunk), hist: take(8 * shape.histLength), box1: take(8 * shape.box1), box2: take(8 * shape.box2),
    lstate: take(8 * 8), lpos: take(4 * 4),
  };
  return { ...l, shape, rmsFrames, bytes: at };
}

// Function parameters (i32; fused() has the first five, general() all), then locals.
const N = 0, W = 1, MASK = 2, AT = 3, AVERAGE = 4, TAP = 5, HPOS = 6, WIN = 7;
const FUSED_PARAMS = 5, GENERAL_PARAMS = 8;
const I = 8, IDX = 9, K0 = 10, K1 = 11, M0 = 12, M1 = 13;
const Y = 14, TGT = 15, D = 16, DEEP = 17;
const V = 18; // first v128 local
const [A, B, E, X, U, P, O, Q, KK, HI, TA, TB, R, GW, G, TOP, AVG, VMIN, VMAX, HALF, G0, EDGE, KNEE, SLOPE, KC, MK, MIX, MKL, ONE,
  X1, X2, Y1, Y2, HB0, HB1, HB2, HA1, HA2, SUM, INVN] = Array.from({ length: 40 }, (_, k) => V + k);
/** The locals after the first `params` of the I..V numbering (fused() has fewer parameters: its locals start earlier). */
const locals = (params: number): number[] =>
  [...Array(I - params + 6).fill(VALTYPE.i32), ...Array(4).fill(VALTYPE.f64), ...Array(40).fill(VALTYPE.v128)] as number[];

const splatConst = (x: number): Code => [...f64Const(x), ...op.f64x2Splat];
const splatParam = (base: number, slot: number, to: number): Code => [...i32Const(0), ...op.f64Load(base + 8 * slot), ...op.f64x2Splat, ...set(to)];
/** byte address base + (index << shift) */
const addr = (base: number, index: Code, shift: number): Code => [...i32Const(base), ...index, ...i32Const(shift), ...op.i32Shl, ...op.i32Add];
/** A v128 of table[kA + extra], table[kB + extra] (no gather in wasm SIMD). */
const gather = (table: number, kA: number, kB: number, extra: number): Code => [
  ...addr(table, get(kA), 3), ...op.f64Load(8 * extra), ...op.f64x2Splat,
  ...addr(table, get(kB), 3), ...op.f64Load(8 * extra), ...op.f64x2ReplaceLane(1)];
/** v = sanitizeSample(v) per lane: v where MIN ≤ |v| ≤ MAX, else +0 (NaN fails both). */
const sanitize = (v: number): Code => [...get(v), ...get(v), ...op.f64x2Abs, ...tee(E), ...get(VMIN), ...op.f64x2Ge,
  ...get(E), ...get(VMAX), ...op.f64x2Le, ...op.v128And, ...op.v128And, ...set(v)];
/** 0.5·(v + |v|): max(v, 0) as strip.ts writes it. */
const halfRelu = (v: number): Code => [...get(HALF), ...get(v), ...get(v), ...op.f64x2Abs, ...op.f64x2Add, ...op.f64x2Mul];
/** for (i = 0; i < n; i += step) { body } */
const loop = (step: number, body: Code): Code => [...i32Const(0), ...set(I), ...op.block, ...op.loop,
  ...get(I), ...get(N), ...op.i32GeS, ...op.brIf(1), ...body, ...get(I), ...i32Const(step), ...op.i32Add, ...set(I), ...op.br(0), ...op.end, ...op.end];
/** The i32 lanes 1 and 3 (the high words of the two doubles) into lanes 0 and 1. */
const HIGH_WORDS = [4, 5, 6, 7, 12, 13, 14, 15, 4, 5, 6, 7, 12, 13, 14, 15];
/** The upper 8 bytes into the lower: f64x2 lane 1 into lane 0, f32x4 lanes 2 and 3 into 0 and 1. */
const HIGH_HALF = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];

/**
 * general(): the sidechain loop, one frame a step with the lanes = the
 * channels (left, right), as sidechainPass does them per channel: float32
 * in → hygiene → delay ring → × input gain → [HPF] → RMS history (and with
 * `rms` the running sum and the level) → detL/detR. The HPF and the RMS
 * sum are recurrences from frame to frame, so the channels are the only
 * lanes there are.
 */
function sidechainLoop(l: Layout, hpf: boolean, rms: boolean): Code {
  const hmask = l.rmsFrames - 1;
  /** the RMS ring index (hpos + i − k) & hmask into IDX, scaled to bytes */
  const rmsIdx = (k: number): Code => [...get(HPOS), ...get(I), ...op.i32Add, ...i32Const(k), ...op.i32Sub, ...i32Const(hmask), ...op.i32And,
    ...i32Const(3), ...op.i32Shl, ...set(IDX)];
  return loop(1, [
    ...addr(l.inL, get(I), 2), ...op.f32Load(), ...op.f64PromoteF32, ...op.f64x2Splat,
    ...addr(l.inR, get(I), 2), ...op.f32Load(), ...op.f64PromoteF32, ...op.f64x2ReplaceLane(1), ...set(A), ...sanitize(A),
    ...get(W), ...get(I), ...op.i32Add, ...get(MASK), ...op.i32And, ...i32Const(3), ...op.i32Shl, ...set(IDX),
    ...get(IDX), ...get(A), ...op.v128Store64Lane(0, l.ringL), ...get(IDX), ...get(A), ...op.v128Store64Lane(1, l.ringR),
    ...get(A), ...get(G0), ...op.f64x2Mul, ...set(A),
    // y = b0·x + b1·x1 + b2·x2 − a1·y1 − a2·y2 (biquad.ts)
    ...(hpf ? [...get(HB0), ...get(A), ...op.f64x2Mul, ...get(HB1), ...get(X1), ...op.f64x2Mul, ...op.f64x2Add, ...get(HB2), ...get(X2), ...op.f64x2Mul, ...op.f64x2Add,
      ...get(HA1), ...get(Y1), ...op.f64x2Mul, ...op.f64x2Sub, ...get(HA2), ...get(Y2), ...op.f64x2Mul, ...op.f64x2Sub, ...set(E),
      ...get(X1), ...set(X2), ...get(A), ...set(X1), ...get(Y1), ...set(Y2), ...get(E), ...tee(Y1), ...set(A)] : []),
    // the square into the history (level-detector.ts, push)
    ...get(A), ...get(A), ...op.f64x2Mul, ...set(E),
    ...(rms ? [
      // sum += sq − ring[(pos − N) & mask]
      ...get(HPOS), ...get(I), ...op.i32Add, ...get(WIN), ...op.i32Sub, ...i32Const(hmask), ...op.i32And, ...i32Const(3), ...op.i32Shl, ...set(IDX),
      ...get(SUM), ...get(E), ...get(IDX), ...get(IDX), ...op.v128Load64Zero(l.rmsL), ...op.v128Load64Lane(1, l.rmsR), ...op.f64x2Sub, ...op.f64x2Add, ...set(SUM),
    ] : []),
    ...rmsIdx(0), ...get(IDX), ...get(E), ...op.v128Store64Lane(0, l.rmsL), ...get(IDX), ...get(E), ...op.v128Store64Lane(1, l.rmsR),
    // rms: ms = sum·(1/N), level = ms > 0 ? √ms : 0; peak: |x|
    ...(rms ? [...get(SUM), ...get(INVN), ...op.f64x2Mul, ...tee(E), ...op.f64x2Sqrt, ...splatConst(0), ...get(E), ...splatConst(0), ...op.f64x2Gt, ...op.v128Bitselect]
      : [...get(A), ...op.f64x2Abs]), ...set(A),
    ...addr(0, get(I), 3), ...get(A), ...op.v128Store64Lane(0, l.detL), ...addr(0, get(I), 3), ...get(A), ...op.v128Store64Lane(1, l.detR),
  ]);
}

/**
 * fused() (general false) and general() (true): the strip's per-frame
 * passes before the limiter for a steady stereo sub-block; general() adds
 * the sidechain HPF, the RMS detector and the lookahead tap.
 */
function kernelBody(l: Layout, general: boolean): Code {
  const fm = FAST_MATH, log2Shift = 20 - fm.log2Bits, log2Mask = (1 << fm.log2Bits) - 1;
  const ringIdx: Code = [...get(W), ...get(I), ...op.i32Add, ...get(MASK), ...op.i32And, ...set(IDX)];
  const fusedIn: Code = [
    ...addr(l.inL, get(I), 2), ...op.v128Load64Zero(), ...op.f64x2PromoteLowF32x4, ...set(A), ...sanitize(A),
    ...addr(l.inR, get(I), 2), ...op.v128Load64Zero(), ...op.f64x2PromoteLowF32x4, ...set(B), ...sanitize(B),
    ...ringIdx,
    ...addr(l.ringL, get(IDX), 3), ...get(A), ...op.v128Store(), ...addr(l.ringR, get(IDX), 3), ...get(B), ...op.v128Store(),
    ...get(A), ...get(G0), ...op.f64x2Mul, ...op.f64x2Abs, ...set(A), ...get(B), ...get(G0), ...op.f64x2Mul, ...op.f64x2Abs, ...set(B),
  ];
  // general: the levels the sidechain loop left (≥ 0 already)
  const generalIn: Code = [...addr(l.detL, get(I), 3), ...op.v128Load(), ...set(A), ...addr(l.detR, get(I), 3), ...op.v128Load(), ...set(B)];
  const loop1 = loop(2, [
    ...(general ? generalIn : fusedIn),
    // x = average ? (ea + eb)·0.5 : 0.5·(ea + eb + |ea − eb|)
    ...get(A), ...get(B), ...op.f64x2Add, ...get(HALF), ...op.f64x2Mul,
    ...get(HALF), ...get(A), ...get(B), ...op.f64x2Add, ...get(A), ...get(B), ...op.f64x2Sub, ...op.f64x2Abs, ...op.f64x2Add, ...op.f64x2Mul,
    ...get(AVG), ...op.v128Bitselect, ...set(X),
    ...get(X), ...get(TOP), ...get(X), ...get(TOP), ...op.f64x2Gt, ...op.v128Bitselect, ...set(TOP),
    // fastLog2 per lane
    ...get(X), ...get(X), ...op.i8x16Shuffle(HIGH_WORDS), ...set(HI),
    ...get(HI), ...i32Const(log2Shift), ...op.i32x4ShrS, ...i32Const(log2Mask), ...op.i32x4Splat, ...op.v128And, ...tee(E),
    ...op.i32x4ExtractLane(0), ...set(K0), ...get(E), ...op.i32x4ExtractLane(1), ...set(K1),
    ...gather(l.log2, K0, K1, 0), ...set(TA), ...gather(l.log2, K0, K1, 1), ...set(TB),
    ...get(HI), ...i32Const(20), ...op.i32x4ShrS, ...i32Const(0x7ff), ...op.i32x4Splat, ...op.v128And,
    ...i32Const(1023), ...op.i32x4Splat, ...op.i32x4Sub, ...op.f64x2ConvertLowI32x4S, ...get(TA), ...op.f64x2Add,
    ...get(HI), ...i32Const(fm.fracMask), ...op.i32x4Splat, ...op.v128And, ...op.f64x2ConvertLowI32x4S, ...splatConst(fm.fracScale), ...op.f64x2Mul,
    ...get(TB), ...get(TA), ...op.f64x2Sub, ...op.f64x2Mul, ...op.f64x2Add,
    // gainChangeDb
    ...splatConst(DB_PER_LOG2), ...op.f64x2Mul, ...get(EDGE), ...op.f64x2Sub, ...set(U),
    ...halfRelu(U), ...set(P), ...get(P), ...get(KNEE), ...op.f64x2Sub, ...set(O), ...halfRelu(O), ...set(Q),
    ...get(P), ...get(Q), ...op.f64x2Sub, ...set(KK),
    ...addr(l.target, get(I), 3),
    ...get(KC), ...get(KK), ...op.f64x2Mul, ...get(KK), ...op.f64x2Mul, ...get(SLOPE), ...get(Q), ...op.f64x2Mul, ...op.f64x2Add,
    // gainLane's guard: if (!(target <= 0)) target = 0
    ...(general ? [...tee(E), ...splatConst(0), ...get(E), ...splatConst(0), ...op.f64x2Le, ...op.v128Bitselect] : []),
    ...op.v128Store(),
  ]);
  const scalarParam = (slot: number): Code => [...i32Const(0), ...op.f64Load(l.params + 8 * slot)];
  /** The attack/release step of frame I + lane, into lane `lane` of U. */
  const step = (lane: number): Code => [
    ...addr(l.target, get(I), 3), ...op.f64Load(8 * lane), ...set(TGT),
    ...get(Y), ...get(TGT), ...op.f64Sub, ...set(D),
    ...get(TGT), ...scalarParam(WP.aS), ...get(D), ...op.f64Mul, ...op.f64Add, ...scalarParam(WP.aD), ...get(D), ...op.f64Abs, ...op.f64Mul, ...op.f64Add, ...set(Y),
    // if (y > −1e-9 && target === 0) y = 0
    ...f64Const(0), ...get(Y), ...get(Y), ...f64Const(-1e-9), ...op.f64Gt, ...get(TGT), ...f64Const(0), ...op.f64Eq, ...op.i32And, ...op.select, ...set(Y),
    ...get(Y), ...get(DEEP), ...get(Y), ...get(DEEP), ...op.f64Lt, ...op.select, ...set(DEEP),
    ...(lane === 0 ? [...get(Y), ...op.f64x2Splat] : [...get(U), ...get(Y), ...op.f64x2ReplaceLane(1)]), ...set(U),
  ];
  const range = fm.exp2Range, bias = fm.exp2Bias;
  // loop 2: two serial steps, then the pair's vector work (which the CPU overlaps with the next steps)
  const loop2 = loop(2, [
    ...step(0), ...step(1),
    ...get(U), ...get(MK), ...op.f64x2Add, ...splatConst(LOG2_PER_DB), ...op.f64x2Mul, ...set(R),
    // fastExp2: clamp (NaN to the low end), split, polynomial, two table entries
    ...get(R), ...splatConst(-range), ...get(R), ...splatConst(-range), ...op.f64x2Gt, ...op.v128Bitselect, ...set(R),
    ...splatConst(range), ...get(R), ...get(R), ...splatConst(range), ...op.f64x2Gt, ...op.v128Bitselect, ...set(R),
    ...get(R), ...splatConst(fm.exp2Steps), ...op.f64x2Mul, ...splatConst(bias + 0.5), ...op.f64x2Add, ...op.i32x4TruncSatF64x2SZero,
    ...i32Const(bias), ...op.i32x4Splat, ...op.i32x4Sub, ...tee(E),
    ...op.i32x4ExtractLane(0), ...set(M0), ...get(E), ...op.i32x4ExtractLane(1), ...set(M1),
    ...get(R), ...get(E), ...op.f64x2ConvertLowI32x4S, ...splatConst(1 / fm.exp2Steps), ...op.f64x2Mul, ...op.f64x2Sub, ...set(R),
    ...get(ONE), ...get(R), ...splatConst(fm.e1), ...get(R), ...splatConst(fm.e2), ...op.f64x2Mul, ...op.f64x2Add, ...op.f64x2Mul, ...op.f64x2Add,
    ...addr(l.pow2, [...get(M0), ...i32Const(fm.exp2Bits), ...op.i32ShrS, ...i32Const(range), ...op.i32Add], 3), ...op.f64Load(), ...op.f64x2Splat,
    ...addr(l.pow2, [...get(M1), ...i32Const(fm.exp2Bits), ...op.i32ShrS, ...i32Const(range), ...op.i32Add], 3), ...op.f64Load(), ...op.f64x2ReplaceLane(1),
    ...op.f64x2Mul,
    ...addr(l.pow2Frac, [...get(M0), ...i32Const(fm.exp2Steps - 1), ...op.i32And], 3), ...op.f64Load(), ...op.f64x2Splat,
    ...addr(l.pow2Frac, [...get(M1), ...i32Const(fm.exp2Steps - 1), ...op.i32And], 3), ...op.f64Load(), ...op.f64x2ReplaceLane(1),
    ...op.f64x2Mul, ...set(GW),
    // y === 0 ? mkLin : 2^…
    ...get(MKL), ...get(GW), ...get(U), ...splatConst(0), ...op.f64x2Eq, ...op.v128Bitselect, ...set(GW),
    ...get(G0), ...get(MIX), ...get(GW), ...op.f64x2Mul, ...get(ONE), ...op.f64x2Add, ...get(MIX), ...op.f64x2Sub, ...op.f64x2Mul, ...set(G),
    ...(general ? [
      // the input `tap` frames ago, frame by frame (a pair may wrap around the ring)
      ...get(W), ...get(I), ...op.i32Add, ...get(TAP), ...op.i32Sub, ...get(MASK), ...op.i32And, ...i32Const(3), ...op.i32Shl, ...set(IDX),
      ...get(W), ...get(I), ...op.i32Add, ...i32Const(1), ...op.i32Add, ...get(TAP), ...op.i32Sub, ...get(MASK), ...op.i32And, ...i32Const(3), ...op.i32Shl, ...set(K0),
      ...addr(l.limL, [...get(AT), ...get(I), ...op.i32Add], 3), ...get(K0), ...get(IDX), ...op.v128Load64Zero(l.ringL), ...op.v128Load64Lane(1, l.ringL),
      ...get(G), ...op.f64x2Mul, ...op.v128Store(),
      ...addr(l.limR, [...get(AT), ...get(I), ...op.i32Add], 3), ...get(K0), ...get(IDX), ...op.v128Load64Zero(l.ringR), ...op.v128Load64Lane(1, l.ringR),
      ...get(G), ...op.f64x2Mul, ...op.v128Store(),
    ] : [
      ...ringIdx,
      ...addr(l.limL, [...get(AT), ...get(I), ...op.i32Add], 3), ...addr(l.ringL, get(IDX), 3), ...op.v128Load(), ...get(G), ...op.f64x2Mul, ...op.v128Store(),
      ...addr(l.limR, [...get(AT), ...get(I), ...op.i32Add], 3), ...addr(l.ringR, get(IDX), 3), ...op.v128Load(), ...get(G), ...op.f64x2Mul, ...op.v128Store(),
    ]),
  ]);
  const stateAt = (slot: number): number => l.state + 8 * slot;
  const hpfState = (k: number, to: number): Code => [...i32Const(0), ...op.v128Load(stateAt(WS.hpf) + 16 * k), ...set(to)];
  const storeHpf = (k: number, from: number): Code => [...i32Const(0), ...get(from), ...op.v128Store(stateAt(WS.hpf) + 16 * k)];
  const variant = (hpf: boolean, rms: boolean): Code => sidechainLoop(l, hpf, rms);
  const sidechain: Code = [
    ...splatParam(l.params, WP.b0, HB0), ...splatParam(l.params, WP.b1, HB1), ...splatParam(l.params, WP.b2, HB2),
    ...splatParam(l.params, WP.a1, HA1), ...splatParam(l.params, WP.a2, HA2), ...splatParam(l.params, WP.invN, INVN),
    ...hpfState(0, X1), ...hpfState(1, X2), ...hpfState(2, Y1), ...hpfState(3, Y2),
    ...i32Const(0), ...op.v128Load(stateAt(WS.sumL)), ...set(SUM),
    // AVERAGE's bit 1: HPF on; bit 2: RMS detector
    ...get(AVERAGE), ...i32Const(2), ...op.i32And, ...op.if,
    ...get(AVERAGE), ...i32Const(4), ...op.i32And, ...op.if, ...variant(true, true), ...op.else, ...variant(true, false), ...op.end,
    ...op.else,
    ...get(AVERAGE), ...i32Const(4), ...op.i32And, ...op.if, ...variant(false, true), ...op.else, ...variant(false, false), ...op.end,
    ...op.end,
    ...storeHpf(0, X1), ...storeHpf(1, X2), ...storeHpf(2, Y1), ...storeHpf(3, Y2),
    ...i32Const(0), ...get(SUM), ...op.v128Store(stateAt(WS.sumL)),
    ...get(AVERAGE), ...i32Const(1), ...op.i32And, ...set(AVERAGE),
  ];
  return [
    ...splatConst(FLT_MIN_NORMAL), ...set(VMIN), ...splatConst(FLT_MAX), ...set(VMAX), ...splatConst(0.5), ...set(HALF), ...splatConst(1), ...set(ONE),
    ...splatParam(l.params, WP.g0, G0), ...splatParam(l.params, WP.edge, EDGE), ...splatParam(l.params, WP.knee, KNEE),
    ...splatParam(l.params, WP.slope, SLOPE), ...splatParam(l.params, WP.kneeCoef, KC), ...splatParam(l.params, WP.mkDb, MK),
    ...splatParam(l.params, WP.mix, MIX), ...splatParam(l.params, WP.mkLin, MKL),
    ...(general ? sidechain : []),
    // all ones when average
    ...i32Const(0), ...get(AVERAGE), ...op.i32Sub, ...op.i32x4Splat, ...set(AVG),
    ...i32Const(0), ...op.f64Load(stateAt(WS.top)), ...op.f64x2Splat, ...set(TOP),
    ...i32Const(0), ...op.f64Load(stateAt(WS.y)), ...set(Y), ...f64Const(0), ...set(DEEP),
    ...loop1, ...loop2,
    ...i32Const(0), ...get(TOP), ...op.f64x2ExtractLane(0), ...get(TOP), ...op.f64x2ExtractLane(1),
    ...get(TOP), ...op.f64x2ExtractLane(0), ...get(TOP), ...op.f64x2ExtractLane(1), ...op.f64Gt, ...op.select, ...op.f64Store(stateAt(WS.top)),
    ...i32Const(0), ...get(Y), ...op.f64Store(stateAt(WS.y)),
    ...i32Const(0), ...get(DEEP), ...op.f64Store(stateAt(WS.deepest)),
  ];
}

/** peak(from, end): state[peak] = the largest |x| of both limiter buffers over [from, end). */
function peakBody(l: Layout): { locals: number[]; body: Code } {
  const FROM = 0, END = 1, J = 2, PV = 3, S = 4;
  const pair = (base: number): Code => [...addr(base, get(J), 3), ...op.v128Load(), ...op.f64x2Abs, ...tee(S), ...get(PV), ...get(S), ...get(PV),
    ...op.f64x2Gt, ...op.v128Bitselect, ...set(PV)];
  const tail = (base: number): Code => [...splatConst(0), ...addr(base, get(J), 3), ...op.f64Load(), ...op.f64Abs, ...op.f64x2ReplaceLane(0), ...set(S),
    ...get(S), ...get(PV), ...get(S), ...get(PV), ...op.f64x2Gt, ...op.v128Bitselect, ...set(PV)];
  return {
    locals: [VALTYPE.i32, VALTYPE.v128, VALTYPE.v128],
    body: [
      ...splatConst(0), ...set(PV), ...get(FROM), ...set(J),
      ...op.block, ...op.loop,
      ...get(J), ...i32Const(2), ...op.i32Add, ...get(END), ...op.i32GtS, ...op.brIf(1),
      ...pair(l.limL), ...pair(l.limR),
      ...get(J), ...i32Const(2), ...op.i32Add, ...set(J), ...op.br(0), ...op.end, ...op.end,
      // An odd count leaves one frame (lane 1 of S stays 0).
      ...get(J), ...get(END), ...op.i32LtS, ...op.if, ...tail(l.limL), ...tail(l.limR), ...op.end,
      ...i32Const(0), ...get(PV), ...op.f64x2ExtractLane(0), ...get(PV), ...op.f64x2ExtractLane(1),
      ...get(PV), ...op.f64x2ExtractLane(0), ...get(PV), ...op.f64x2ExtractLane(1), ...op.f64Gt, ...op.select, ...op.f64Store(l.state + 8 * WS.peak),
    ],
  };
}

/** toFloat32(n): outL/outR[0, n) = the limiter buffers' leaving frames as float32 (n even). */
function toFloat32Body(l: Layout): Code {
  const n = 0, j = 1;
  const lane = (from: number, to: number): Code => [...addr(to, get(j), 2), ...addr(from, get(j), 3), ...op.v128Load(),
    ...op.f32x4DemoteF64x2Zero, ...op.v128Store64Lane0()];
  return [
    ...i32Const(0), ...set(j), ...op.block, ...op.loop,
    ...get(j), ...get(n), ...op.i32GeS, ...op.brIf(1),
    ...lane(l.limL, l.outL), ...lane(l.limR, l.outR),
    ...get(j), ...i32Const(2), ...op.i32Add, ...set(j), ...op.br(0), ...op.end, ...op.end,
  ];
}

/** Slots of the limiter's f64 state (limiter.ts keeps r, the two minima and the ring sums there). */
const LS = { r: 0, subMin: 1, histMin: 2, sum1: 3, sum2: 4, alphaRelease: 5 } as const;

/**
 * limit(n, from, truePeak, mode, subPos, histPos, pos1, pos2): the
 * limiter's per-frame work (limiter.ts, compute()) for the n frames
 * entering at from (n a multiple of 4), on the state in this memory:
 *
 * The frame peaks: the largest |sample| over both channels and, with
 * truePeak, of the 4× interpolated points, in float32 arithmetic
 * (true-peak.ts, toFloat32Window and accumulateInterSamplePeaks32), folded
 * in the same order with the same max2 as the JavaScript. The
 * interpolator's lanes are four successive frames of one channel (the
 * samples' two), so every tap window is one load; pointers walk the
 * buffers (the right channel at a fixed distance), every tap a static
 * offset, so the loop does no address arithmetic.
 *
 * The gains (limiter.ts, gainLoop), as scalar code: one serial chain from
 * frame to frame. Its branches become selects (the JavaScript's ternaries,
 * in the same order); the history's minimum, every `sub` frames, is taken
 * two at a time (the minimum of positive numbers does not depend on the
 * order). In mode `both` each group of four frames computes its peaks and
 * then takes its four steps, so the CPU overlaps the vector work with the
 * chain. The positions go back into lpos, the sums into lstate.
 */
function limitBody(l: Layout): { locals: number[]; body: Code } {
  const sh = l.shape;
  // parameters
  const N2 = 0, FROM = 1, TP = 2, MODE = 3, SUBPOS = 4, HISTPOS = 5, POS1 = 6, POS2 = 7;
  // i32
  const P64 = 8, P32 = 9, END = 10, OUT = 11;
  // f64: the gain step (scalar: its selects become branches V8 predicts, off the chain from frame to frame)
  const R = 12, SUBMIN = 13, HISTMIN = 14, S1 = 15, S2 = 16, AR = 17, INV1 = 18, NEED = 19, H = 20, REL = 21, M1 = 22;
  // v128
  const PK0 = 23, PK1 = 24, TOP4 = 25, PA = 26, HALF32 = 27, RV = 28, NRV = 29, MV = 30, NEED01 = 31, NEED23 = 32, CS = 33;
  const taps = TP_SUM.length; // HALF
  const HIST = TRUE_PEAK_HISTORY;
  // P64 points at x[from + i − HIST] of the left buffer, P32 at the same frame of its float32 copy.
  const right64 = l.limR - l.limL, right32 = l.tpR - l.tpL;
  const x64 = (ch: number, k: number): Code => [...get(P64), ...op.v128Load(ch + 8 * (k + HIST))];
  const x32 = (ch: number, k: number): Code => [...get(P32), ...op.v128Load(ch + 4 * (k + HIST))];

  // ---- the frame peaks of four frames into PK0 (frames 0, 1) and PK1 (frames 2, 3)
  /** pk = pk < v ? v : pk (limiter.ts: v > pk ? v : pk). */
  const maxInto = (v: Code, pk: number): Code => [...get(pk), ...v, ...op.f64x2Pmax, ...set(pk)];
  // The interpolator, before the groups: per channel three passes over the block, one sum each (P, Q, mid),
  // so each pass keeps its eight taps in registers (one pass for all three spilled them, and V8 rebuilt
  // every constant splat at each use). The mid pass makes the channel's top = max(0.5·(|P| + |Q|), |mid|)
  // and the two channels' maximum (exact, so the order is free) into tpTop, four frames per vector.
  const C = (j: number): number => CS + j;
  const tpScratch = (kind: number): number => [l.tpP, l.tpQ][kind]!;
  const sumPass = (c32: number, kind: number, last: boolean): Code => {
    const body: Code = [];
    for (let j = 1; j <= taps; j++) {
      // a_j = x[m + j], b_j = x[m + 1 − j], m = k − HALF; s_j = a_j + b_j (P, mid) or d_j = a_j − b_j (Q)
      body.push(...get(C(j - 1)), ...x32(c32, j - TRUE_PEAK_DELAY), ...x32(c32, 1 - j - TRUE_PEAK_DELAY), ...(kind === 1 ? op.f32x4Sub : op.f32x4Add),
        ...op.f32x4Mul, ...(j > 1 ? [...get(PA), ...op.f32x4Add] : []), ...set(PA));
    }
    if (kind < 2) body.push(...get(OUT), ...get(PA), ...op.v128Store(tpScratch(kind)));
    else {
      // top = max(0.5·(|p| + |q|), |mid|): outer < mid ? mid : outer
      body.push(...get(HALF32), ...get(OUT), ...op.v128Load(l.tpP), ...op.f32x4Abs, ...get(OUT), ...op.v128Load(l.tpQ), ...op.f32x4Abs, ...op.f32x4Add,
        ...op.f32x4Mul, ...get(PA), ...op.f32x4Abs, ...op.f32x4Pmax,
        ...(last ? [...get(OUT), ...op.v128Load(l.tpTop), ...op.f32x4Pmax] : []), ...set(PA), ...get(OUT), ...get(PA), ...op.v128Store(l.tpTop));
    }
    const table = [TP_SUM, TP_DIFF, TP_MID][kind]!;
    const consts: Code = [];
    for (let j = 0; j < taps; j++) consts.push(...f32Const(table[j]!), ...op.f32x4Splat, ...set(C(j)));
    return [
      ...consts,
      ...addr(l.tpL, [...get(FROM), ...i32Const(HIST), ...op.i32Sub], 2), ...set(P32),
      ...i32Const(0), ...set(OUT),
      ...op.block, ...op.loop,
      ...get(OUT), ...get(N2), ...i32Const(2), ...op.i32Shl, ...op.i32GeS, ...op.brIf(1),
      ...body,
      ...get(P32), ...i32Const(16), ...op.i32Add, ...set(P32), ...get(OUT), ...i32Const(16), ...op.i32Add, ...set(OUT),
      ...op.br(0), ...op.end, ...op.end,
    ];
  };
  const interpolate: Code = [0, right32].flatMap((c32, ch) => [0, 1, 2].flatMap((kind) => sumPass(c32, kind, ch === 1)));
  // frames 0, 1 and 2, 3 of the group (OUT / 2: tpTop holds float32) as doubles
  const fir: Code = [...get(OUT), ...i32Const(1), ...op.i32ShrU, ...op.v128Load(l.tpTop), ...set(TOP4),
    ...maxInto([...get(TOP4), ...op.f64x2PromoteLowF32x4], PK0),
    ...maxInto([...get(TOP4), ...get(TOP4), ...op.i8x16Shuffle(HIGH_HALF), ...op.f64x2PromoteLowF32x4], PK1)];
  const samples = (ch64: number): Code => [...maxInto([...x64(ch64, 0), ...op.f64x2Abs], PK0), ...maxInto([...x64(ch64, 2), ...op.f64x2Abs], PK1)];
  // The peaks: the samples, then the interpolated points (maxima are exact, so the order is free).
  const groupPeaks = (truePeak: boolean): Code => [...splatConst(0), ...tee(PK0), ...set(PK1),
    ...samples(0), ...samples(right64), ...(truePeak ? fir : [])];

  // ---- one frame's gain step: its need in NEED, its gain stored at OUT + 8·k
  const histMin: Code = [...splatConst(1), ...set(MV)];
  for (let j = 0; j + 1 < sh.histLength; j += 2) histMin.push(...get(MV), ...i32Const(0), ...op.v128Load(l.hist + 8 * j), ...op.f64x2Pmin, ...set(MV));
  if (sh.histLength & 1) histMin.push(...get(MV), ...i32Const(0), ...op.v128Load64Splat(l.hist + 8 * (sh.histLength - 1)), ...op.f64x2Pmin, ...set(MV));
  // m = lane1 < lane0 ? lane1 : lane0
  histMin.push(...get(MV), ...get(MV), ...get(MV), ...op.i8x16Shuffle(HIGH_HALF), ...op.f64x2Pmin, ...op.f64x2ExtractLane(0), ...set(HISTMIN));
  /** pos = pos + 1 === len ? 0 : pos + 1 */
  const wrap = (pos: number, len: number): Code => [...get(pos), ...i32Const(1), ...op.i32Add, ...set(pos),
    ...i32Const(0), ...get(pos), ...get(pos), ...i32Const(len), ...op.i32Eq, ...op.select, ...set(pos)];
  const at = (base: number, pos: number): Code => addr(base, get(pos), 3);
  // OUT is the byte offset of the group's first frame in the block (peaks, limits and gains alike)
  const step = (k: number): Code => [
    ...get(NEED), ...get(SUBMIN), ...get(NEED), ...get(SUBMIN), ...op.f64Lt, ...op.select, ...set(SUBMIN),
    ...get(SUBMIN), ...get(HISTMIN), ...get(SUBMIN), ...get(HISTMIN), ...op.f64Lt, ...op.select, ...set(H),
    ...get(SUBPOS), ...i32Const(1), ...op.i32Add, ...tee(SUBPOS), ...i32Const(sh.sub), ...op.i32Eq, ...op.if,
    ...at(l.hist, HISTPOS), ...get(SUBMIN), ...op.f64Store(),
    ...wrap(HISTPOS, sh.histLength),
    ...histMin,
    ...f64Const(1), ...set(SUBMIN), ...i32Const(0), ...set(SUBPOS),
    ...op.end,
    // r = h <= r ? h : (rel > 0.999999999 && h === 1 ? 1 : rel), rel = h + aR·(r − h)
    ...get(H), ...get(AR), ...get(R), ...get(H), ...op.f64Sub, ...op.f64Mul, ...op.f64Add, ...set(REL),
    ...f64Const(1), ...get(REL), ...get(REL), ...f64Const(0.999999999), ...op.f64Gt, ...get(H), ...f64Const(1), ...op.f64Eq, ...op.i32And, ...op.select, ...set(REL),
    ...get(H), ...get(REL), ...get(H), ...get(R), ...op.f64Le, ...op.select, ...set(R),
    // s1 += r − r1[p1]; r1[p1] = r
    ...get(S1), ...get(R), ...at(l.box1, POS1), ...op.f64Load(), ...op.f64Sub, ...op.f64Add, ...set(S1),
    ...at(l.box1, POS1), ...get(R), ...op.f64Store(), ...wrap(POS1, sh.box1),
    // m1 = s1 === n1 ? 1 : s1·inv1
    ...f64Const(1), ...get(S1), ...get(INV1), ...op.f64Mul, ...get(S1), ...f64Const(sh.box1), ...op.f64Eq, ...op.select, ...set(M1),
    ...get(S2), ...get(M1), ...at(l.box2, POS2), ...op.f64Load(), ...op.f64Sub, ...op.f64Add, ...set(S2),
    ...at(l.box2, POS2), ...get(M1), ...op.f64Store(), ...wrap(POS2, sh.box2),
    // g = s2 === n2 ? 1 : s2 / n2
    ...get(OUT), ...f64Const(1), ...get(S2), ...f64Const(sh.box2), ...op.f64Div, ...get(S2), ...f64Const(sh.box2), ...op.f64Eq, ...op.select,
    ...op.f64Store(l.gains + 8 * k),
  ];
  /** need = lim / (p > lim ? p : lim) for two frames: lim / pmax(lim, p) */
  const needs = (pk: Code, k: number): Code => [...get(OUT), ...op.v128Load(l.limits + 8 * k), ...get(OUT), ...op.v128Load(l.limits + 8 * k), ...pk,
    ...op.f64x2Pmax, ...op.f64x2Div];
  const ld = (addrConst: number): Code => [...i32Const(0), ...op.f64Load(addrConst)];
  const sumOf = (base: number, len: number): Code => {
    const out: Code = [...f64Const(0)];
    for (let j = 0; j < len; j++) out.push(...ld(base + 8 * j), ...op.f64Add);
    return out;
  };
  const st = (slot: number): number => l.lstate + 8 * slot;
  const loadState: Code = [
    ...ld(st(LS.r)), ...set(R), ...ld(st(LS.subMin)), ...set(SUBMIN), ...ld(st(LS.histMin)), ...set(HISTMIN), ...ld(st(LS.alphaRelease)), ...set(AR),
    ...f64Const(1), ...f64Const(sh.box1), ...op.f64Div, ...set(INV1),
    ...sumOf(l.box1, sh.box1), ...set(S1), ...sumOf(l.box2, sh.box2), ...set(S2),
  ];
  const store = (from: number, to: number): Code => [...i32Const(0), ...get(from), ...op.f64Store(to)];
  const storeState: Code = [
    ...store(R, st(LS.r)), ...store(SUBMIN, st(LS.subMin)), ...store(HISTMIN, st(LS.histMin)), ...store(S1, st(LS.sum1)), ...store(S2, st(LS.sum2)),
    ...i32Const(0), ...get(SUBPOS), ...op.i32Store(l.lpos), ...i32Const(0), ...get(HISTPOS), ...op.i32Store(l.lpos + 4),
    ...i32Const(0), ...get(POS1), ...op.i32Store(l.lpos + 8), ...i32Const(0), ...get(POS2), ...op.i32Store(l.lpos + 12),
  ];
  /** The four frames' needs from their peaks, then their steps. */
  const steps = (pk0: Code, pk1: Code): Code => [...needs(pk0, 0), ...set(NEED01), ...needs(pk1, 2), ...set(NEED23),
    ...get(NEED01), ...op.f64x2ExtractLane(0), ...set(NEED), ...step(0), ...get(NEED01), ...op.f64x2ExtractLane(1), ...set(NEED), ...step(1),
    ...get(NEED23), ...op.f64x2ExtractLane(0), ...set(NEED), ...step(2), ...get(NEED23), ...op.f64x2ExtractLane(1), ...set(NEED), ...step(3)];
  const lanes = steps(get(PK0), get(PK1));
  const stored = steps([...get(OUT), ...op.v128Load(l.peaks)], [...get(OUT), ...op.v128Load(l.peaks + 16)]);
  /** for each group of four frames: body; P64, P32 and OUT advance. */
  const groups = (body: Code): Code => [
    ...get(END), ...i32Const(8 * HIST), ...op.i32Sub, ...set(END),
    ...addr(l.limL, [...get(FROM), ...i32Const(HIST), ...op.i32Sub], 3), ...set(P64),
    ...addr(l.tpL, [...get(FROM), ...i32Const(HIST), ...op.i32Sub], 2), ...set(P32),
    ...i32Const(0), ...set(OUT),
    ...op.block, ...op.loop,
    ...get(P64), ...get(END), ...op.i32GeS, ...op.brIf(1),
    ...body,
    ...get(P64), ...i32Const(32), ...op.i32Add, ...set(P64), ...get(P32), ...i32Const(16), ...op.i32Add, ...set(P32),
    ...get(OUT), ...i32Const(32), ...op.i32Add, ...set(OUT),
    ...op.br(0), ...op.end, ...op.end,
  ];
  const storePeaks: Code = [...get(OUT), ...get(PK0), ...op.v128Store(l.peaks), ...get(OUT), ...get(PK1), ...op.v128Store(l.peaks + 16)];

  // The float32 copies of [from − HIST − 1, from + n), two frames a step: clamped to ±TP_RANGE_32, demoted.
  const convert = (ch64: number, ch32: number): Code => [...get(P32), ...get(P64), ...op.v128Load(ch64), ...get(RV), ...op.f64x2Pmin, ...get(NRV), ...op.f64x2Pmax,
    ...op.f32x4DemoteF64x2Zero, ...op.v128Store64Lane0(ch32)];
  const toFloat32: Code = [
    ...addr(l.limL, [...get(FROM), ...i32Const(HIST + 1), ...op.i32Sub], 3), ...set(P64),
    ...addr(l.tpL, [...get(FROM), ...i32Const(HIST + 1), ...op.i32Sub], 2), ...set(P32),
    ...op.block, ...op.loop,
    ...get(P64), ...get(END), ...op.i32GeS, ...op.brIf(1),
    ...convert(0, 0), ...convert(right64, right32),
    ...get(P64), ...i32Const(16), ...op.i32Add, ...set(P64), ...get(P32), ...i32Const(8), ...op.i32Add, ...set(P32),
    ...op.br(0), ...op.end, ...op.end,
  ];
  const init: Code = [...f32Const(0.5), ...op.f32x4Splat, ...set(HALF32),
    ...splatConst(TP_RANGE_32), ...set(RV), ...splatConst(-TP_RANGE_32), ...set(NRV)];
  const ifElse = (cond: Code, yes: Code, no: Code): Code => [...cond, ...op.if, ...yes, ...op.else, ...no, ...op.end];
  const isMode = (m: number): Code => [...get(MODE), ...i32Const(m), ...op.i32Eq];
  const withPeaks = (body: (truePeak: boolean) => Code): Code => ifElse(get(TP), [...toFloat32, ...interpolate, ...body(true)], body(false));
  return {
    locals: [...Array(4).fill(VALTYPE.i32) as number[], ...Array(PK0 - R).fill(VALTYPE.f64) as number[], ...Array(CS - PK0 + taps).fill(VALTYPE.v128) as number[]],
    body: [
      ...init,
      // END: x[from + n] of the left buffer
      ...addr(l.limL, [...get(FROM), ...get(N2), ...op.i32Add], 3), ...set(END),
      ...ifElse(isMode(LIMIT_MODE.peaks), withPeaks((tp) => groups([...groupPeaks(tp), ...storePeaks])), [
        ...loadState,
        ...ifElse(isMode(LIMIT_MODE.both), withPeaks((tp) => groups([...groupPeaks(tp), ...lanes])), groups(stored)),
        ...storeState,
      ]),
    ],
  };
}

/**
 * output(n, useGain): outL/outR[0, n) = the leaving frames (n even)
 * × the limiter's gains when useGain, clamped to ±state[limit], as float32: the
 * strip's steady outputPass (limit 1 with the limiter off: the final clamp).
 * pmin/pmax are the JavaScript's ternaries `x > L ? L : x < −L ? −L : x`.
 */
function outputBody(l: Layout): { locals: number[]; body: Code } {
  const N2 = 0, USE_GAIN = 1, J = 2, LV = 3, NV = 4;
  const lane = (from: number, to: number, gain: boolean): Code => [
    ...addr(to, get(J), 2),
    ...addr(from, get(J), 3), ...op.v128Load(), ...(gain ? [...addr(l.gains, get(J), 3), ...op.v128Load(), ...op.f64x2Mul] : []),
    ...get(LV), ...op.f64x2Pmin, ...get(NV), ...op.f64x2Pmax,
    ...op.f32x4DemoteF64x2Zero, ...op.v128Store64Lane0()];
  const frames = (gain: boolean): Code => [
    ...i32Const(0), ...set(J), ...op.block, ...op.loop,
    ...get(J), ...get(N2), ...op.i32GeS, ...op.brIf(1),
    ...lane(l.limL, l.outL, gain), ...lane(l.limR, l.outR, gain),
    ...get(J), ...i32Const(2), ...op.i32Add, ...set(J), ...op.br(0), ...op.end, ...op.end,
  ];
  return {
    locals: [VALTYPE.i32, VALTYPE.v128, VALTYPE.v128],
    body: [
      ...i32Const(0), ...op.f64Load(l.state + 8 * WS.limit), ...op.f64x2Splat, ...set(LV),
      ...i32Const(0), ...op.f64Load(l.state + 8 * WS.limit), ...op.f64Neg, ...op.f64x2Splat, ...set(NV),
      ...get(USE_GAIN), ...op.if, ...frames(true), ...op.else, ...frames(false), ...op.end,
    ],
  };
}

const modules = new Map<string, WebAssembly.Module | null>();

function compiled(l: Layout, pages: number): WebAssembly.Module | null {
  const key = JSON.stringify(l);
  if (!modules.has(key)) {
    let mod: WebAssembly.Module | null = null;
    try {
      const bytes = moduleBytes([
        { name: 'fused', params: Array(FUSED_PARAMS).fill(VALTYPE.i32) as number[], locals: locals(FUSED_PARAMS), body: kernelBody(l, false) },
        { name: 'general', params: Array(GENERAL_PARAMS).fill(VALTYPE.i32) as number[], locals: locals(GENERAL_PARAMS), body: kernelBody(l, true) },
        { name: 'peak', params: [VALTYPE.i32, VALTYPE.i32], ...peakBody(l) },
        { name: 'toFloat32', params: [VALTYPE.i32], locals: [VALTYPE.i32], body: toFloat32Body(l) },
        { name: 'limit', params: Array(8).fill(VALTYPE.i32) as number[], ...limitBody(l) },
        { name: 'output', params: [VALTYPE.i32, VALTYPE.i32], ...outputBody(l) },
      ], pages);
      mod = new WebAssembly.Module(bytes);
    } catch {
      mod = null; // no WebAssembly SIMD here: the strip keeps its JavaScript loops
    }
    modules.set(key, mod);
  }
  return modules.get(key)!;
}

export class StereoWasmKernel implements StereoLimiterKernel {
  readonly params: Float64Array;
  readonly state: Float64Array;
  readonly inL: Float32Array;
  readonly inR: Float32Array;
  /** The delay rings (DelayLines) and the limiter's lookahead buffers, in this kernel's memory. */
  readonly rings: [Float64Array, Float64Array];
  readonly limiterBuffers: [Float64Array, Float64Array];
  /** The leaving frames as float32, after toFloat32() or output(). */
  readonly outL: Float32Array;
  readonly outR: Float32Array;
  /** The RMS detector's history rings (RmsWindow), in this kernel's memory. */
  readonly rmsRings: [Float64Array, Float64Array];
  private readonly fused: (n: number, w: number, mask: number, at: number, average: number) => void;
  private readonly general: (n: number, w: number, mask: number, at: number, flags: number, tap: number, hpos: number, win: number) => void;
  /** state[peak] = the largest |x| of both limiter buffers over [from, end). */
  readonly peak: (from: number, end: number) => void;
  /** outL/outR[0, n) = limiter buffers[0, n) as float32 (n even). */
  readonly toFloat32: (n: number) => void;
  /** outL/outR[0, n) = limiter buffers[0, n) (× limiterGains when useGain is 1) clamped to ±state[limit], as float32 (n even). */
  readonly output: (n: number, useGain: number) => void;
  readonly limit: (n: number, from: number, truePeak: number, mode: number, subPos: number, histPos: number, pos1: number, pos2: number) => void;
  readonly peaks: Float64Array;
  readonly limiterGains: Float64Array;
  readonly limiterHist: Float64Array;
  readonly limiterBox1: Float64Array;
  readonly limiterBox2: Float64Array;
  readonly limiterState: Float64Array;
  readonly limiterPos: Int32Array;
  readonly limits: Float64Array;

  private constructor(l: Layout, memory: WebAssembly.Memory, instance: WebAssembly.Instance, ringFrames: number, limiterFrames: number, chunk: number) {
    const buf = memory.buffer;
    this.params = new Float64Array(buf, l.params, 16);
    this.state = new Float64Array(buf, l.state, 16);
    new Float64Array(buf, l.log2, FAST_MATH.log2Table.length).set(FAST_MATH.log2Table);
    new Float64Array(buf, l.pow2, FAST_MATH.pow2.length).set(FAST_MATH.pow2);
    new Float64Array(buf, l.pow2Frac, FAST_MATH.pow2Frac.length).set(FAST_MATH.pow2Frac);
    this.inL = new Float32Array(buf, l.inL, chunk);
    this.inR = new Float32Array(buf, l.inR, chunk);
    this.rings = [new Float64Array(buf, l.ringL, ringFrames), new Float64Array(buf, l.ringR, ringFrames)];
    this.limiterBuffers = [new Float64Array(buf, l.limL, limiterFrames), new Float64Array(buf, l.limR, limiterFrames)];
    this.outL = new Float32Array(buf, l.outL, chunk);
    this.outR = new Float32Array(buf, l.outR, chunk);
    const ex = instance.exports;
    this.fused = ex.fused as StereoWasmKernel['fused'];
    this.general = ex.general as StereoWasmKernel['general'];
    this.rmsRings = [new Float64Array(buf, l.rmsL, l.rmsFrames), new Float64Array(buf, l.rmsR, l.rmsFrames)];
    this.peak = ex.peak as StereoWasmKernel['peak'];
    this.toFloat32 = ex.toFloat32 as StereoWasmKernel['toFloat32'];
    this.output = ex.output as StereoWasmKernel['output'];
    this.limit = ex.limit as StereoWasmKernel['limit'];
    this.peaks = new Float64Array(buf, l.peaks, chunk);
    const sh = l.shape;
    this.limiterGains = new Float64Array(buf, l.gains, chunk);
    this.limits = new Float64Array(buf, l.limits, chunk);
    this.limiterHist = new Float64Array(buf, l.hist, sh.histLength);
    this.limiterBox1 = new Float64Array(buf, l.box1, sh.box1);
    this.limiterBox2 = new Float64Array(buf, l.box2, sh.box2);
    this.limiterState = new Float64Array(buf, l.lstate, 8);
    this.limiterState[LS.alphaRelease] = sh.alphaRelease;
    this.limiterPos = new Int32Array(buf, l.lpos, 4);
  }

  /**
   * null where WebAssembly SIMD is not available. ringFrames and rmsFrames
   * must be powers of two; limiterFrames = D + chunk for the limiter of `shape`.
   */
  static create(ringFrames: number, limiterFrames: number, chunk: number, shape: LimiterShape, rmsFrames: number): StereoWasmKernel | null {
    const l = layout(ringFrames, limiterFrames, chunk, shape, rmsFrames);
    const pages = Math.ceil(l.bytes / 65536);
    const mod = compiled(l, pages);
    if (!mod) return null;
    // Fixed size: the views above stay valid (the memory never grows).
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    return new StereoWasmKernel(l, memory, new WebAssembly.Instance(mod, { env: { memory } }), ringFrames, limiterFrames, chunk);
  }

  /**
   * n frames (even) from inL/inR; w (even) the ring position of the first,
   * at the limiter buffers' input offset; params and state as set.
   */
  run(n: number, w: number, mask: number, at: number, average: boolean): void {
    this.fused(n, w, mask, at, average ? 1 : 0);
  }

  /**
   * As run(), with the sidechain HPF (coefficients in params, state in
   * state[hpf…]) when `hpf`, the RMS detector (window `win` frames, 1/win
   * in params, sums in state) when `rms`, else the squares only into the
   * RMS rings at hpos; and the limiter's input read `tap` frames late.
   */
  runGeneral(n: number, w: number, mask: number, at: number, average: boolean, hpf: boolean, rms: boolean, tap: number, hpos: number, win: number): void {
    this.general(n, w, mask, at, (average ? 1 : 0) | (hpf ? 2 : 0) | (rms ? 4 : 0), tap, hpos, win);
  }
}
