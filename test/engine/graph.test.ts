import assert from 'node:assert/strict';
import { Graph, type GraphNode } from '../../src/engine/graph.js';
import { HostSink, HostSource, LoopingBufferSource, MeterTapNode } from '../../src/engine/nodes.js';
import { MeterBank } from '../../src/dsp/meters.js';
import { UserError } from '../../src/errors.js';

/** A processor that scales by a constant and delays by `latencyFrames` (reported only). */
class Scale implements GraphNode {
  readonly latencyFrames: number;
  constructor(readonly factor: number, readonly inputChannels: number, latency = 0, readonly name = 'scale') { this.latencyFrames = latency; }
  get outputChannels(): number { return this.inputChannels; }
  prepare(): void {}
  reset(): void {}
  process(inputs: readonly Float32Array[], outputs: readonly Float32Array[], frames: number): void {
    for (let c = 0; c < outputs.length; c++) for (let i = 0; i < frames; i++) outputs[c]![i] = inputs[c]![i]! * this.factor;
  }
}

describe('processing graph', () => {
  const spec = { sampleRate: 48000, maxBlockFrames: 4, channels: 2 };

  it('runs sources, processors and sinks in order, whatever order they were added', () => {
    const g = new Graph();
    const src = new HostSource(2);
    const sink = new HostSink(2);
    const a = new Scale(2, 2), b = new Scale(3, 2);
    g.add(sink); g.add(b);
    g.connect(a, b).connect(src, a).connect(b, sink);
    g.prepare(spec);
    src.buffers[0]!.set([1, 2, 3, 4]); src.buffers[1]!.set([-1, 0, 1, 0]);
    g.process(4);
    assert.deepEqual([...sink.block[0]!], [6, 12, 18, 24]);
    assert.deepEqual([...sink.block[1]!.subarray(0, 3)], [-6, 0, 6]);
  });

  it('sums several feeds into one input and copies mono to every channel', () => {
    const g = new Graph();
    const mono = new HostSource(1, 'mic');
    const stereo = new HostSource(2, 'line');
    const sink = new HostSink(2);
    g.connect(mono, sink).connect(stereo, sink);
    g.prepare(spec);
    mono.buffers[0]!.set([1, 1, 1, 1]);
    stereo.buffers[0]!.set([0.5, 0, 0, 0]); stereo.buffers[1]!.set([0, 0.25, 0, 0]);
    g.process(4);
    assert.deepEqual([...sink.block[0]!], [1.5, 1, 1, 1]);
    assert.deepEqual([...sink.block[1]!], [1, 1.25, 1, 1]);
  });

  it('refuses mismatched channels, loops and wrong directions with a sentence', () => {
    const g = new Graph();
    assert.throws(() => g.connect(new HostSource(2), new Scale(1, 6)), (e: Error) => e instanceof UserError && /gives 2 channels but scale takes 6/.test(e.message));
    assert.throws(() => g.connect(new HostSink(2), new Scale(1, 2)), /has no output/);
    const a = new Scale(1, 2, 0, 'a'), b = new Scale(1, 2, 0, 'b');
    g.connect(a, b).connect(b, a);
    assert.throws(() => g.prepare(spec), /loop through/);
  });

  it('adds up latency along the longest path', () => {
    const g = new Graph();
    const src = new HostSource(2), sink = new HostSink(2);
    const slow = new Scale(1, 2, 10), fast = new Scale(1, 2, 3);
    g.connect(src, slow).connect(src, fast).connect(slow, sink).connect(fast, sink);
    assert.equal(g.latencyTo(sink), 10);
  });

  it('meter taps measure what passes and leave it unchanged', () => {
    const g = new Graph();
    const bank = new MeterBank(2);
    const src = new HostSource(2), tap = new MeterTapNode(bank, 'in', 2), sink = new HostSink(2);
    g.connect(src, tap).connect(tap, sink);
    g.prepare(spec);
    src.buffers[0]!.set([0.5, -1, 0, 0]);
    g.process(4);
    assert.deepEqual([...sink.block[0]!], [0.5, -1, 0, 0]);
    assert.equal(bank.inPeak[0], 1);
    assert.equal(bank.clipIn[0], 1);
  });

  it('a looping file source wraps around without a gap', () => {
    const g = new Graph();
    const loop = new LoopingBufferSource([new Float32Array([1, 2, 3])], 2);
    const sink = new HostSink(2);
    g.connect(loop, sink);
    g.prepare(spec);
    g.process(4);
    assert.deepEqual([...sink.block[1]!], [1, 2, 3, 1]);
    g.process(4);
    assert.deepEqual([...sink.block[0]!], [2, 3, 1, 2]);
  });
});
