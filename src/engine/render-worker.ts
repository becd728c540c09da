/**
 * The render's audio layer: runs the product's `CompressorChain` (the same
 * chain the real-time worker runs) over the slots of the shared ring, in
 * order, blocking in `Atomics.wait` between them. See render-pipeline.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CompressorChain } from './chain.js';
import { HostSource } from './nodes.js';
import {
  META_DEEPEST_GR, META_PER_STEP, META_STEPS, RenderRing, SLOT_INPUT, SLOT_OUTPUT, SLOT_STOP,
  type FromRenderWorker, type RenderWorkerConfig,
} from './render-pipeline.js';

const config = workerData as RenderWorkerConfig;
const ring = new RenderRing(config.buffer, config.layout);
const { channels, slots } = config.layout;
const { step } = config;

const source = new HostSource(channels);
// No meter taps here: they only measure, and the main thread measures the
// slots itself while this thread does the DSP (the render's critical path).
const chain = new CompressorChain(source, channels, { meterTaps: false });
chain.prepare({ sampleRate: config.sampleRate, maxBlockFrames: config.blockFrames });
// Immediate: a render starts at its settings, not with a glide from the defaults.
chain.setParams(config.params, true);
const meters = chain.meters;
/**
 * The host writes each step into the source's own buffers. (Pointing them
 * at the slot instead, to save the copy, measured slower: the chain then
 * reads lines the main thread has just written, straight from the other
 * core, in its inner loops; a copy fetches them faster.)
 */
const inputs = source.buffers;
parentPort!.postMessage({ type: 'ready', latencyFrames: chain.latencyFrames } satisfies FromRenderWorker);

/** Runs slot s through the chain in steps, as the single-threaded render did, and records the gain reduction. */
function processSlot(s: number): void {
  const n = ring.frames[s]!;
  // The file has ended: what follows is flush silence, not signal.
  if (ring.flush[s] === 1) chain.strip.holdLevel();
  const slotIn = ring.inputs[s]!, slotOut = ring.outputs[s]!, meta = ring.meta[s]!;
  let deepestGr = 0, k = META_STEPS;
  for (let off = 0; off < n; off += step) {
    const m = Math.min(step, n - off);
    for (let c = 0; c < channels; c++) inputs[c]!.set(slotIn[c]!.subarray(off, off + m));
    meters.clear();
    const out = chain.process(m);
    let blockGr = 0;
    for (let c = 0; c < channels; c++) {
      blockGr = Math.min(blockGr, meters.grDb[c]!);
      slotOut[c]!.set(out[c]!.subarray(0, m), off);
    }
    meta[k] = blockGr;
    k += META_PER_STEP;
    deepestGr = Math.min(deepestGr, blockGr);
  }
  meta[META_DEEPEST_GR] = deepestGr;
}

const state = ring.state;
for (let k = 0; ; k = (k + 1) % slots) {
  let st = Atomics.load(state, k);
  while (st !== SLOT_INPUT && st !== SLOT_STOP) {
    Atomics.wait(state, k, st);
    st = Atomics.load(state, k);
  }
  if (st === SLOT_STOP) break;
  processSlot(k);
  // Not over a STOP the main thread wrote meanwhile.
  if (Atomics.compareExchange(state, k, SLOT_INPUT, SLOT_OUTPUT) !== SLOT_INPUT) break;
  Atomics.notify(state, k);
}
// Nothing listens on parentPort, so the worker exits here.
