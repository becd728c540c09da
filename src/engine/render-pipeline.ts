/**
 * `picomp render` on two threads, like the device: the audio layer (the
 * exact `CompressorChain`) runs in a worker, the user layer (file reading,
 * decoding, encoding, writing, plot, progress) on the main thread. They
 * share a small ring of slots in one SharedArrayBuffer; each slot holds a
 * planar Float32 input block, the processed output block and its meter
 * readings, and one Int32 state word:
 *
 *   EMPTY ──main fills input──▶ INPUT ──worker processes──▶ OUTPUT ──main encodes──▶ EMPTY
 *
 * The worker blocks in `Atomics.wait`; the main thread waits with
 * `Atomics.waitAsync`, so its event loop (file I/O) never blocks. Slots are
 * used in order, so the output comes back in the order it went in.
 * Messages flow only at start (`ready`) and on failure, never per block.
 */
import { Worker } from 'node:worker_threads';

/** Slot states (the Int32 state word of each slot). */
export const SLOT_EMPTY = 0;
export const SLOT_INPUT = 1;
export const SLOT_OUTPUT = 2;
/** Written by the main thread into every slot: the worker leaves its loop and exits. */
export const SLOT_STOP = 3;

/**
 * Per-slot meta (Float64): the slot's deepest GR (dB), then each step's
 * deepest GR. Levels are not here: the main thread measures them on the
 * slot's input and output, off the worker's critical path.
 */
export const META_DEEPEST_GR = 0;
export const META_STEPS = 1;
export const META_PER_STEP = 1;

export interface RingLayout {
  slots: number;
  channels: number;
  /** Frames each slot holds (input and output). */
  slotFrames: number;
  /** Chain steps per slot at most (ceil(slotFrames / step)). */
  maxSteps: number;
}

/** Views of the shared ring; built from the same buffer on both threads. */
export class RenderRing {
  /** One state word per slot (SLOT_*). */
  readonly state: Int32Array;
  /** Frames in each slot's input (and so in its output). */
  readonly frames: Int32Array;
  /**
   * 1 when the slot's input is the silence pushed after the end of the
   * file to flush the lookahead: the worker then holds the detector's
   * level instead of letting it hear that invented silence.
   */
  readonly flush: Int32Array;
  readonly meta: Float64Array[];
  /** inputs[slot][channel], each slotFrames long. */
  readonly inputs: Float32Array[][];
  readonly outputs: Float32Array[][];

  constructor(readonly buffer: SharedArrayBuffer, readonly layout: RingLayout) {
    const { slots, channels, slotFrames, maxSteps } = layout;
    const metaLen = META_STEPS + META_PER_STEP * maxSteps;
    let at = 0;
    this.state = new Int32Array(buffer, at, slots); at += 4 * slots;
    this.frames = new Int32Array(buffer, at, slots); at += 4 * slots;
    this.flush = new Int32Array(buffer, at, slots); at += 4 * slots;
    at = align8(at);
    this.meta = [];
    for (let s = 0; s < slots; s++) { this.meta.push(new Float64Array(buffer, at, metaLen)); at += 8 * metaLen; }
    const planes = (): Float32Array[][] => Array.from({ length: slots }, () => Array.from({ length: channels }, () => {
      const v = new Float32Array(buffer, at, slotFrames);
      at += 4 * slotFrames;
      return v;
    }));
    this.inputs = planes();
    this.outputs = planes();
  }

  static byteLength(layout: RingLayout): number {
    const { slots, channels, slotFrames, maxSteps } = layout;
    return align8(12 * slots) + 8 * slots * (META_STEPS + META_PER_STEP * maxSteps) + 2 * 4 * slots * channels * slotFrames;
  }

  static create(layout: RingLayout): RenderRing {
    return new RenderRing(new SharedArrayBuffer(RenderRing.byteLength(layout)), layout);
  }
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

/** What the render worker gets at start (workerData). */
export interface RenderWorkerConfig {
  buffer: SharedArrayBuffer;
  layout: RingLayout;
  sampleRate: number;
  /** The chain is prepared for blocks up to this many frames. */
  blockFrames: number;
  /** Frames per chain step inside a slot (≤ blockFrames). */
  step: number;
  /** The parameter vector (PARAM_INDEX layout), applied at once (no glide from the defaults). */
  params: Float64Array;
}

export type FromRenderWorker = { type: 'ready'; latencyFrames: number };

export interface RenderPipelineOptions {
  slots: number;
  channels: number;
  slotFrames: number;
  sampleRate: number;
  blockFrames: number;
  step: number;
  params: Float64Array;
  /** The worker's entry point; tests point it elsewhere to simulate a crash. */
  workerUrl?: URL;
}

type WaitAsync = (ta: Int32Array, index: number, value: number) =>
  { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync: WaitAsync | undefined = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync?.bind(Atomics);

/** The main thread's handle on the render worker and the ring. */
export class RenderPipeline {
  readonly ring: RenderRing;
  readonly #worker: Worker;
  /** Resolves with the chain's latency once the worker has built it. */
  readonly latency: Promise<number>;
  /** Rejects when the worker fails (or exits before it was told to stop). */
  readonly #failed: Promise<never>;
  #failure: Error | null = null;
  #stopping = false;
  readonly #exited: Promise<void>;

  private constructor(opts: RenderPipelineOptions) {
    if (!waitAsync) throw new Error('this Node.js has no Atomics.waitAsync (picomp needs Node 20 or later).');
    const maxSteps = Math.ceil(opts.slotFrames / opts.step);
    this.ring = RenderRing.create({ slots: opts.slots, channels: opts.channels, slotFrames: opts.slotFrames, maxSteps });
    const config: RenderWorkerConfig = {
      buffer: this.ring.buffer, layout: this.ring.layout, sampleRate: opts.sampleRate,
      blockFrames: opts.blockFrames, step: opts.step, params: opts.params,
    };
    try {
      this.#worker = new Worker(opts.workerUrl ?? new URL('./render-worker.js', import.meta.url), { workerData: config, name: 'picomp-render' });
    } catch (e) {
      throw new Error(`cannot start the render worker: ${(e as Error).message}`);
    }
    const worker = this.#worker;
    let ready = false;
    let fail!: (e: Error) => void;
    this.#failed = new Promise<never>((_, reject) => { fail = reject; });
    this.#failed.catch(() => undefined);
    const failWith = (e: Error): void => {
      if (this.#failure) return;
      this.#failure = e;
      fail(e);
      // Wake anything waiting on the ring so it sees the failure.
      for (let s = 0; s < opts.slots; s++) Atomics.notify(this.ring.state, s);
    };
    this.latency = new Promise<number>((resolve, reject) => {
      worker.on('message', (msg: FromRenderWorker) => {
        if (msg.type === 'ready') { ready = true; resolve(msg.latencyFrames); }
      });
      this.#failed.catch(reject);
    });
    this.latency.catch(() => undefined);
    worker.on('error', (e: Error) => {
      failWith(new Error(ready ? `the render worker failed: ${e.message}` : `cannot start the render worker: ${e.message}`));
    });
    this.#exited = new Promise<void>((resolve) => {
      worker.once('exit', (code) => {
        if (!this.#stopping) failWith(new Error(`the render worker exited unexpectedly (code ${code}).`));
        resolve();
      });
    });
  }

  /** Starts the worker; it builds the chain while the caller opens files and reads the first block. */
  static start(opts: RenderPipelineOptions): RenderPipeline {
    return new RenderPipeline(opts);
  }

  /**
   * Hands slot `s` (its input filled with `frames` frames) to the worker;
   * `flush`: the input has ended and this is the silence that pushes the
   * last frames out of the lookahead (see RenderRing.flush).
   */
  submit(s: number, frames: number, flush = false): void {
    if (this.#failure) throw this.#failure;
    this.ring.frames[s] = frames;
    this.ring.flush[s] = flush ? 1 : 0;
    Atomics.store(this.ring.state, s, SLOT_INPUT);
    Atomics.notify(this.ring.state, s);
  }

  /** Resolves once slot `s` holds its output; rejects if the worker fails first. */
  async output(s: number): Promise<void> {
    const state = this.ring.state;
    for (;;) {
      if (this.#failure) throw this.#failure;
      const st = Atomics.load(state, s);
      if (st === SLOT_OUTPUT) return;
      // A failure notifies every slot, so this wakes up for it too.
      const w = waitAsync!(state, s, st);
      if (w.async) await w.value;
    }
  }

  /** The main thread is done with slot `s`'s output: it may be filled again. */
  release(s: number): void {
    Atomics.store(this.ring.state, s, SLOT_EMPTY);
  }

  /** Tells the worker to finish and waits until it has exited (forcing it after a second). */
  async stop(): Promise<void> {
    this.#stopping = true;
    const { state } = this.ring;
    for (let s = 0; s < state.length; s++) { Atomics.store(state, s, SLOT_STOP); Atomics.notify(state, s); }
    const force = setTimeout(() => { void this.#worker.terminate(); }, 1000);
    await this.#exited;
    clearTimeout(force);
  }

  /** Ends the worker now (after a failure); safe to call more than once. */
  async kill(): Promise<void> {
    this.#stopping = true;
    const { state } = this.ring;
    for (let s = 0; s < state.length; s++) { Atomics.store(state, s, SLOT_STOP); Atomics.notify(state, s); }
    await this.#worker.terminate().catch(() => undefined);
    await this.#exited;
  }
}
