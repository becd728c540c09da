/**
 * The user layer's handle on the audio worker: starts it, hands it the
 * shared parameter and meter buffers, restarts it with back-off when the
 * device fails (an unplugged USB interface), and stops it cleanly.
 * The shared buffers outlive any one worker, so a restart resumes with the
 * current parameters.
 */
import { Worker } from 'node:worker_threads';
import { setFlagsFromString } from 'node:v8';
import { EventEmitter } from 'node:events';
import { encodeParams } from '../params/vector.js';
import type { ParamValues } from '../params/schema.js';
import { MeterBank, channelLevels, type ChannelLevels } from '../dsp/meters.js';
import { SharedParams } from './shared-params.js';
import { SharedMeters } from './shared-meters.js';
import { WorkerControl } from './worker-control.js';
import { audioSetup, type AudioSetup, type FromWorker, type RunningInfo, type WorkerConfig } from './worker-protocol.js';
import { UserError } from '../errors.js';
import type { Logger } from '../log.js';

export interface EngineOptions extends AudioSetup {
  params: ParamValues;
  log: Logger;
  /** First retry delay after a device failure; doubles up to 30 s. */
  retryDelayMs?: number;
}

/**
 * One meter period as the engine reads it (SPEC §4 `meters` without `t`);
 * the unit's meter pump stamps it into a MeterFrame.
 */
export interface MeterReading extends ChannelLevels {
  xruns: number;
  cpu: number;
  latency_ms: number;
  sample_rate: number;
  block_size: number;
  /** Garbage collections in the audio worker since it started. */
  worker_gcs: number;
}

const MAX_RETRY_MS = 30_000;

export class AudioEngine extends EventEmitter<{ restarted: [RunningInfo]; 'device-error': [string] }> {
  readonly #params: SharedParams;
  readonly #meters: SharedMeters;
  readonly #readBank: MeterBank;
  #worker: Worker | null = null;
  /** The latest worker's exit: a new worker starts only once it happened. */
  #previousExit: { pending: boolean; done: Promise<void> } = { pending: false, done: Promise.resolve() };
  /** The running worker's stop word; a fresh one for each worker. */
  #control: WorkerControl | null = null;
  #info: RunningInfo | null = null;
  #stopping = false;
  #retryMs: number;
  #retryTimer: NodeJS.Timeout | null = null;
  #lastPeriod = -1;
  /** xruns of workers that were replaced, so the count never goes backwards. */
  #xrunsBefore = 0;
  #lastXruns = 0;

  private constructor(private readonly opts: EngineOptions) {
    super();
    this.#params = new SharedParams();
    this.#meters = new SharedMeters(opts.channels);
    this.#readBank = new MeterBank(opts.channels);
    this.#retryMs = opts.retryDelayMs ?? 1000;
    this.setParams(opts.params);
    this.#meters.requestPeriod();
  }

  /** Starts the worker and resolves once audio runs (or rejects with the reason). */
  static async start(opts: EngineOptions): Promise<AudioEngine> {
    const engine = new AudioEngine(opts);
    engine.#info = await engine.#spawn();
    return engine;
  }

  get info(): RunningInfo {
    return this.#info!;
  }

  /** Publishes a full parameter set to the audio layer (smoothed there). */
  setParams(values: ParamValues): void {
    this.#params.write(encodeParams(values));
  }

  /**
   * The meter period that ended at the previous call (null if audio has
   * not closed it yet, e.g. a stalled device), and starts the next one:
   * call it at the meter rate.
   */
  readMeters(): MeterReading | null {
    const health = this.#meters.read(this.#readBank);
    const fresh = health !== null && health.period !== this.#lastPeriod;
    if (fresh || !this.#meters.periodRequested) this.#meters.requestPeriod();
    if (!fresh) return null;
    this.#lastPeriod = health.period;
    this.#lastXruns = health.xruns;
    return {
      ...channelLevels(this.#readBank),
      xruns: this.#xrunsBefore + health.xruns,
      cpu: Math.round(health.cpuPercent * 100) / 100,
      // Lookahead plus the device's queues, as the audio layer counts them.
      latency_ms: Math.round((health.latencyFrames / health.sampleRate) * 100000) / 100,
      sample_rate: health.sampleRate,
      block_size: health.blockFrames,
      worker_gcs: health.gcCount,
    };
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    const worker = this.#worker;
    this.#worker = null;
    if (!worker) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => { void worker.terminate().then(() => resolve()); }, 3000);
      worker.once('exit', () => { clearTimeout(force); resolve(); });
      // The word wakes a clock-paced worker at once; the message stops a device-driven one.
      this.#control?.requestStop();
      worker.postMessage({ type: 'stop' });
    });
  }

  async #spawn(): Promise<RunningInfo> {
    const { opts } = this;
    // The previous worker must be gone first: it may still hold the device,
    // and naudiodon's native parts (segfault-handler among them) cannot be
    // loaded by a second thread while the first still has them.
    const previous = this.#previousExit;
    if (previous.pending) {
      opts.log.info('waiting for the stopped audio thread to let go of the device.');
      await previous.done;
      if (this.#stopping) throw new Error('the engine was stopped.');
    }
    // V8's memory reducer shrinks a heap that looks idle with full garbage
    // collections (3–5 ms pauses, longer than a block). The audio worker
    // allocates nothing in steady state, so its heap looks idle and the
    // reducer is all harm there. V8 reads the flag when it sets up a heap,
    // so it holds for the workers started from here on.
    setFlagsFromString('--no-memory-reducer');
    const control = new WorkerControl();
    const config: WorkerConfig = {
      ...audioSetup(opts), paramsBuffer: this.#params.buffer, metersBuffer: this.#meters.buffer,
      controlBuffer: control.buffer,
    };
    const worker = new Worker(new URL('./audio-worker.js', import.meta.url), { workerData: config, name: 'picomp-audio' });
    this.#worker = worker;
    this.#control = control;
    const exit = { pending: true, done: Promise.resolve() };
    exit.done = new Promise<void>((resolve) => worker.once('exit', () => { exit.pending = false; resolve(); }));
    this.#previousExit = exit;
    this.#lastPeriod = -1;
    return new Promise<RunningInfo>((resolve, reject) => {
      let ready = false;
      worker.on('message', (msg: FromWorker) => {
        switch (msg.type) {
          case 'ready':
            ready = true;
            this.#retryMs = opts.retryDelayMs ?? 1000;
            resolve(msg.info);
            break;
          case 'fatal':
            if (!ready) reject(msg.userError ? new UserError(msg.message) : new Error(msg.message));
            else this.#recover(worker, msg.message);
            void worker.terminate();
            break;
          case 'device-error':
            this.#recover(worker, msg.message);
            break;
          case 'stopped':
            break;
        }
      });
      worker.on('error', (e) => {
        if (!ready) reject(e);
        else this.#recover(worker, e.message);
      });
      worker.on('exit', (code) => {
        if (!ready) reject(new Error(`the audio worker exited (code ${code}) before audio started.`));
        else if (!this.#stopping && this.#worker === worker) this.#recover(worker, `the audio worker exited (code ${code}).`);
      });
    });
  }

  /** Replaces a failed worker after a growing delay; never lets the process die. */
  #recover(failed: Worker, reason: string): void {
    if (this.#stopping || this.#worker !== failed) return;
    this.#worker = null;
    this.#control?.requestStop();
    this.#control = null;
    this.#xrunsBefore += this.#lastXruns;
    this.#lastXruns = 0;
    void failed.terminate();
    this.emit('device-error', reason);
    this.#scheduleRetry(reason);
  }

  #scheduleRetry(reason: string): void {
    const delay = this.#retryMs;
    this.#retryMs = Math.min(MAX_RETRY_MS, this.#retryMs * 2);
    this.opts.log.warn(`audio stopped: ${reason} Retrying in ${(delay / 1000).toFixed(1)} s.`);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      if (this.#stopping) return;
      this.#spawn().then((info) => {
        this.#info = info;
        this.opts.log.info(`audio running again: ${info.input} → ${info.output}.`);
        this.emit('restarted', info);
      }, (e: Error) => {
        // A restart that failed before audio ran: try again, through the same back-off.
        this.#worker = null;
        if (!this.#stopping) this.#scheduleRetry(e.message);
      });
    }, delay);
  }
}
