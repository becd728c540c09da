/**
 * A block-based processing graph wired like analog gear: sources feed
 * processors feed sinks, with meter taps anywhere. Every node declares how
 * many channels it takes and gives; connect() checks them like a patch bay
 * (mono may feed any count: it is copied to every channel, as a Y-cable
 * would). prepare() allocates every buffer; process() then runs the nodes
 * in order without allocating, so the same graph serves `picomp render`
 * and the real-time worker.
 */
import type { ProcessSpec } from '../dsp/kernel.js';
import { UserError } from '../errors.js';

export interface GraphNode {
  readonly name: string;
  /** Channels taken at the input (0 for a source). */
  readonly inputChannels: number;
  /** Channels given at the output (0 for a sink). */
  readonly outputChannels: number;
  prepare(spec: ProcessSpec): void;
  reset(): void;
  /** inputs has inputChannels arrays, outputs outputChannels arrays. */
  process(inputs: readonly Float32Array[], outputs: readonly Float32Array[], frames: number): void;
  /** Delay this node adds between its input and its output, in frames. */
  readonly latencyFrames: number;
  /**
   * A node that only observes (a meter tap): its output is its input, the
   * same arrays, so nothing is copied. It must not write to them.
   */
  readonly passThrough?: boolean;
  /** A source that fills buffers of its own (e.g. from a file): used as its outputs, not copied. */
  ownOutputs?(): Float32Array[];
}

interface Slot {
  readonly node: GraphNode;
  readonly upstream: GraphNode[];
  inputs: Float32Array[];
  outputs: Float32Array[];
  /** True when the input is the sum or copy of upstream outputs (needs mixing). */
  mixes: boolean;
}

export class Graph {
  readonly #slots = new Map<GraphNode, Slot>();
  #order: Slot[] = [];
  #spec: ProcessSpec | null = null;

  add<N extends GraphNode>(node: N): N {
    if (!this.#slots.has(node)) {
      this.#slots.set(node, { node, upstream: [], inputs: [], outputs: [], mixes: false });
      this.#spec = null;
    }
    return node;
  }

  /** Patches from's output into to's input; several feeds into one input are summed. */
  connect(from: GraphNode, to: GraphNode): this {
    this.add(from); this.add(to);
    if (from.outputChannels === 0) throw new UserError(`${from.name} has no output to connect to ${to.name}.`);
    if (to.inputChannels === 0) throw new UserError(`${to.name} has no input; ${from.name} cannot feed it.`);
    if (from.outputChannels !== to.inputChannels && from.outputChannels !== 1) {
      throw new UserError(`${from.name} gives ${from.outputChannels} channels but ${to.name} takes ${to.inputChannels}.`);
    }
    this.#slots.get(to)!.upstream.push(from);
    this.#spec = null;
    return this;
  }

  /** Allocates every buffer for blocks up to spec.maxBlockFrames. */
  prepare(spec: ProcessSpec): void {
    this.#order = this.#sorted();
    const alloc = (n: number): Float32Array[] =>
      Array.from({ length: n }, () => new Float32Array(spec.maxBlockFrames));
    for (const slot of this.#order) {
      const { node } = slot;
      node.prepare({ ...spec, channels: Math.max(node.inputChannels, node.outputChannels) });
      const only = slot.upstream.length === 1 ? slot.upstream[0]! : null;
      // A single upstream with matching channels is read in place: no copy.
      slot.mixes = !(only && only.outputChannels === node.inputChannels);
      slot.inputs = slot.mixes ? alloc(node.inputChannels) : this.#slots.get(only!)!.outputs;
      slot.outputs = node.passThrough && node.inputChannels === node.outputChannels ? slot.inputs
        : node.ownOutputs?.() ?? alloc(node.outputChannels);
    }
    this.#spec = spec;
  }

  reset(): void {
    for (const slot of this.#order) slot.node.reset();
  }

  /** Runs one block through every node, sources first. */
  process(frames: number): void {
    const spec = this.#spec;
    if (!spec) throw new Error('Graph.process() called before prepare() (or after the graph changed).');
    if (frames > spec.maxBlockFrames) throw new Error(`block of ${frames} frames exceeds the prepared ${spec.maxBlockFrames}.`);
    for (let s = 0; s < this.#order.length; s++) {
      const slot = this.#order[s]!;
      if (slot.mixes) this.#mix(slot, frames);
      slot.node.process(slot.inputs, slot.outputs, frames);
    }
  }

  /** The latency along the longest path into `node`, including its own. */
  latencyTo(node: GraphNode): number {
    const slot = this.#slots.get(node);
    if (!slot) return 0;
    let upstream = 0;
    for (const u of slot.upstream) upstream = Math.max(upstream, this.latencyTo(u));
    return upstream + node.latencyFrames;
  }

  #mix(slot: Slot, frames: number): void {
    const ins = slot.inputs;
    for (let c = 0; c < ins.length; c++) ins[c]!.fill(0, 0, frames);
    for (let u = 0; u < slot.upstream.length; u++) {
      const outs = this.#slots.get(slot.upstream[u]!)!.outputs;
      for (let c = 0; c < ins.length; c++) {
        const src = outs.length === 1 ? outs[0]! : outs[c]!;
        const dst = ins[c]!;
        for (let i = 0; i < frames; i++) dst[i] += src[i];
      }
    }
  }

  #sorted(): Slot[] {
    const order: Slot[] = [];
    const state = new Map<GraphNode, 'visiting' | 'done'>();
    const visit = (slot: Slot): void => {
      const st = state.get(slot.node);
      if (st === 'done') return;
      if (st === 'visiting') throw new UserError(`the graph has a loop through ${slot.node.name}; audio must flow one way.`);
      state.set(slot.node, 'visiting');
      for (const u of slot.upstream) visit(this.#slots.get(u)!);
      state.set(slot.node, 'done');
      order.push(slot);
    };
    for (const slot of this.#slots.values()) visit(slot);
    return order;
  }
}
