/**
 * The product's standard patch: source → input meter → compressor strip →
 * output meter → sink. Both `picomp render` and the real-time worker run
 * exactly this, so a render is the reference for what the device does.
 */
import { CompressorStrip } from '../dsp/strip.js';
import { MeterBank } from '../dsp/meters.js';
import type { ProcessSpec } from '../dsp/kernel.js';
import { Graph, type GraphNode } from './graph.js';
import { HostSink, MeterTapNode, StripNode } from './nodes.js';

export class CompressorChain {
  readonly graph = new Graph();
  readonly strip = new CompressorStrip();
  readonly meters: MeterBank;
  readonly sink: HostSink;
  readonly #stripNode: StripNode;

  /**
   * `meterTaps: false` leaves out the input and output level taps (the
   * strip still reports gain reduction): for a host that measures levels
   * itself elsewhere, as the render's I/O thread does. The audio is the same.
   */
  constructor(readonly source: GraphNode, readonly channels: number, opts: { meterTaps?: boolean } = {}) {
    this.meters = new MeterBank(channels);
    this.#stripNode = new StripNode(this.strip, this.meters, channels);
    this.sink = new HostSink(channels);
    if (opts.meterTaps ?? true) {
      const inTap = new MeterTapNode(this.meters, 'in', channels);
      const outTap = new MeterTapNode(this.meters, 'out', channels);
      this.graph.connect(source, inTap).connect(inTap, this.#stripNode).connect(this.#stripNode, outTap).connect(outTap, this.sink);
    } else {
      this.graph.connect(source, this.#stripNode).connect(this.#stripNode, this.sink);
    }
  }

  prepare(spec: Omit<ProcessSpec, 'channels'>): void {
    this.graph.prepare({ ...spec, channels: this.channels });
  }

  /**
   * Takes a parameter vector (PARAM_INDEX layout). The strip glides to it;
   * `immediate` starts there instead (start-up values, a render's settings),
   * so the first samples are not a fade from the defaults.
   */
  setParams(vector: Float64Array, immediate = false): void {
    this.strip.setParams(vector);
    if (immediate) this.strip.reset();
  }

  /** Processes one block; the returned channels are valid until the next call. */
  process(frames: number): readonly Float32Array[] {
    this.graph.process(frames);
    return this.sink.block;
  }

  get latencyFrames(): number {
    return this.graph.latencyTo(this.sink);
  }
}
