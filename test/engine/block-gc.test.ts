import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';

/** Garbage collections while the block path runs `blocks` blocks, in a fresh worker. */
function gcsOverBlocks(blocks: number, params: Record<string, unknown> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('../fixtures/block-gc-probe.js', import.meta.url), { workerData: { blocks, params } });
    w.once('message', (m: { gcs: number }) => { resolve(m.gcs); void w.terminate(); });
    w.once('error', reject);
  });
}

describe('audio layer garbage', () => {
  // A young-generation collection comes every megabyte or so allocated; 200 000
  // blocks (about 9 minutes of audio) would fill that many times over even at
  // a few bytes a block, so zero here means the block path allocates nothing.
  it('the block path (parameters, chain, meters, timing) allocates nothing: no GC over 200 000 blocks', async () => {
    assert.equal(await gcsOverBlocks(200_000), 0);
  });

  it('nor with every feature on (lookahead, RMS, side-chain filter, limiter, parallel mix)', async () => {
    assert.equal(await gcsOverBlocks(200_000, {
      lookahead: 5, detector: 'rms', sidechain_hpf: 120, limiter: true, mix: 50, auto_makeup: true, link: 'average',
    }), 0);
  });
});
