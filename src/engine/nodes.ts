/**
 * The graph's standard parts: a source the host fills from a device or a
 * file, generator sources, the compressor strip, meter taps and a sink the
 * host reads from. Each is a thin adapter: the DSP lives in src/dsp/.
 */
import type { ProcessSpec } from '../dsp/kernel.js';
import type { Source } from '../dsp/generators.js';
import type { CompressorStrip } from '../dsp/strip.js';
import type { MeterBank } from '../dsp/meters.js';
import type { GraphNode } from './graph.js';

/** A source whose samples the host writes into `buffers` before each block (read in place by the graph). */
export class HostSource implements GraphNode {
  readonly inputChannels = 0;
  readonly latencyFrames = 0;
  buffers: Float32Array[] = [];
  constructor(readonly outputChannels: number, readonly name = 'input') {}
  prepare(spec: ProcessSpec): void {
    this.buffers = Array.from({ length: this.outputChannels }, () => new Float32Array(spec.maxBlockFrames));
  }
  ownOutputs(): Float32Array[] { return this.buffers; }
  reset(): void { for (const b of this.buffers) b.fill(0); }
  process(): void { /* the host already wrote the block into `buffers` */ }
}

/** A teaching generator (sine, noise, bursts, sweep, demo drums) as a source. */
export class GeneratorNode implements GraphNode {
  readonly inputChannels = 0;
  readonly latencyFrames = 0;
  constructor(private readonly generator: Source, readonly outputChannels: number, readonly name = 'generator') {}
  prepare(spec: ProcessSpec): void { this.generator.prepare({ ...spec, channels: this.outputChannels }); }
  reset(): void { this.generator.reset(); }
  process(_inputs: readonly Float32Array[], outputs: readonly Float32Array[], frames: number): void {
    this.generator.process(outputs, frames);
  }
}

/** The compressor chain of src/dsp/strip.ts, reporting gain reduction to a meter bank. */
export class StripNode implements GraphNode {
  constructor(private readonly strip: CompressorStrip, private readonly meters: MeterBank, readonly inputChannels: number, readonly name = 'compressor') {}
  get outputChannels(): number { return this.inputChannels; }
  get latencyFrames(): number { return this.strip.latencyFrames; }
  prepare(spec: ProcessSpec): void { this.strip.prepare(spec); }
  reset(): void { this.strip.reset(); }
  process(inputs: readonly Float32Array[], outputs: readonly Float32Array[], frames: number): void {
    this.strip.process(inputs, outputs, frames, this.meters);
  }
}

/** Measures what flows by (SPEC §2.8), like an insert meter; the signal passes untouched, uncopied. */
export class MeterTapNode implements GraphNode {
  readonly latencyFrames = 0;
  readonly passThrough = true;
  constructor(private readonly meters: MeterBank, private readonly side: 'in' | 'out', readonly inputChannels: number, readonly name = `${side} meter`) {}
  get outputChannels(): number { return this.inputChannels; }
  prepare(): void {}
  reset(): void {}
  process(inputs: readonly Float32Array[], _outputs: readonly Float32Array[], frames: number): void {
    this.meters.tap(this.side, inputs, frames);
  }
}

/** The end of the chain: keeps a reference to the last block for the host to send on. */
export class HostSink implements GraphNode {
  readonly outputChannels = 0;
  readonly latencyFrames = 0;
  block: readonly Float32Array[] = [];
  constructor(readonly inputChannels: number, readonly name = 'output') {}
  prepare(): void {}
  reset(): void {}
  process(inputs: readonly Float32Array[]): void { this.block = inputs; }
}

/** Plays a loaded recording over and over (the `file:PATH` input). */
export class LoopingBufferSource implements GraphNode {
  readonly inputChannels = 0;
  readonly latencyFrames = 0;
  #position = 0;
  /** recording: planar channels; a mono recording feeds every output channel. */
  constructor(private readonly recording: readonly Float32Array[], readonly outputChannels: number, readonly name = 'file') {}
  prepare(): void {}
  reset(): void { this.#position = 0; }
  process(_inputs: readonly Float32Array[], outputs: readonly Float32Array[], frames: number): void {
    const length = this.recording[0]!.length;
    if (length === 0) { for (const o of outputs) o.fill(0, 0, frames); return; }
    let done = 0;
    while (done < frames) {
      const n = Math.min(frames - done, length - this.#position);
      for (let c = 0; c < outputs.length; c++) {
        const src = this.recording[Math.min(c, this.recording.length - 1)]!;
        const dst = outputs[c]!;
        // An index loop, not set(subarray()): a view per block is an allocation.
        for (let i = 0, p = this.#position; i < n; i++, p++) dst[done + i] = src[p]!;
      }
      done += n;
      this.#position = (this.#position + n) % length;
    }
  }
}
