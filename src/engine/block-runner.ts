/**
 * The audio layer's per-block work, whatever drives it (a device callback
 * or a clock): pick up new parameters, run the chain, measure the DSP
 * time, publish meters at period boundaries. Allocates nothing per block.
 */
import { clockUs, elapsedUs } from './monotonic-clock.js';
import { PARAM_COUNT } from '../params/schema.js';
import { CompressorChain } from './chain.js';
import { SharedParams } from './shared-params.js';
import { SharedMeters } from './shared-meters.js';
import type { GraphNode } from './graph.js';

export class BlockRunner {
  readonly chain: CompressorChain;
  readonly #params: SharedParams;
  readonly #meters: SharedMeters;
  readonly #vector = new Float64Array(PARAM_COUNT);
  #paramSeq = -1;
  #busyUs = 0;
  #budgetFrames = 0;
  /** Added to the lookahead when reporting latency (the device's own). */
  deviceLatencyFrames = 0;
  xruns = 0;
  /** Counted by the worker's GC observer (a user-layer callback, not the block path). */
  gcCount = 0;
  readonly #health = { xruns: 0, cpuPercent: 0, latencyFrames: 0, sampleRate: 0, blockFrames: 0, gcCount: 0 };

  constructor(source: GraphNode, readonly channels: number, readonly sampleRate: number, readonly blockFrames: number,
    paramsBuffer: SharedArrayBuffer, metersBuffer: SharedArrayBuffer) {
    this.chain = new CompressorChain(source, channels);
    this.chain.prepare({ sampleRate, maxBlockFrames: blockFrames });
    this.#params = new SharedParams(paramsBuffer);
    this.#meters = new SharedMeters(channels, metersBuffer);
    this.#pickUpParams();
  }

  /** Runs one block; the returned channels are valid until the next call. */
  step(frames: number): readonly Float32Array[] {
    this.#pickUpParams();
    const startedUs = clockUs();
    const out = this.chain.process(frames);
    this.#busyUs += elapsedUs(startedUs, clockUs());
    this.#budgetFrames += frames;
    const bank = this.chain.meters;
    if (this.#meters.periodRequested) {
      const h = this.#health;
      h.xruns = this.xruns;
      h.cpuPercent = this.#budgetFrames > 0 ? (this.#busyUs / ((this.#budgetFrames / this.sampleRate) * 1e6)) * 100 : 0;
      h.latencyFrames = this.chain.latencyFrames + this.deviceLatencyFrames;
      h.sampleRate = this.sampleRate;
      h.blockFrames = this.blockFrames;
      h.gcCount = this.gcCount;
      this.#meters.publish(bank, h);
      bank.clear();
      this.#busyUs = 0;
      this.#budgetFrames = 0;
    }
    return out;
  }

  #pickUpParams(): void {
    const seq = this.#params.readIfChanged(this.#vector, this.#paramSeq);
    if (seq !== this.#paramSeq) {
      const first = this.#paramSeq === -1;
      this.#paramSeq = seq;
      this.chain.setParams(this.#vector, first);
    }
  }
}
