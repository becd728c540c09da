import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { SharedParams } from '../../src/engine/shared-params.js';
import { SharedMeters } from '../../src/engine/shared-meters.js';
import { MeterBank } from '../../src/dsp/meters.js';
import { PARAM_COUNT } from '../../src/params/schema.js';

describe('shared parameter and meter buffers', () => {
  it('a reader sees a new parameter vector once, and nothing when unchanged', () => {
    const shared = new SharedParams();
    const into = new Float64Array(PARAM_COUNT);
    const v = new Float64Array(PARAM_COUNT).fill(3);
    shared.write(v);
    const seq = shared.readIfChanged(into, -1);
    assert.deepEqual([...into], [...v]);
    assert.equal(shared.readIfChanged(into, seq), seq);
    shared.write(new Float64Array(PARAM_COUNT).fill(4));
    assert.notEqual(shared.readIfChanged(into, seq), seq);
    assert.equal(into[0], 4);
  });

  it('never hands over a torn vector while another thread writes', async () => {
    const shared = new SharedParams();
    // The writer thread writes vectors whose entries are all equal; a torn
    // read would mix two of them.
    const src = `
      const { workerData } = require('node:worker_threads');
      const seq = new Int32Array(workerData, 0, 1);
      const values = new Float64Array(workerData, 8);
      for (let n = 1; n <= 200000; n++) { Atomics.add(seq, 0, 1); values.fill(n); Atomics.add(seq, 0, 1); }`;
    const w = new Worker(src, { eval: true, workerData: shared.buffer });
    const done = new Promise((r) => w.once('exit', r));
    const into = new Float64Array(PARAM_COUNT);
    let seq = -1, reads = 0, finished = false;
    void done.then(() => { finished = true; });
    while (!finished) {
      const next = shared.readIfChanged(into, seq);
      if (next !== seq) {
        reads++;
        assert.ok(into.every((x) => x === into[0]), `torn read: ${into.join(',')}`);
        seq = next;
      }
      await new Promise((r) => setImmediate(r));
    }
    assert.ok(reads > 0);
  });

  it('meter snapshots carry every figure per channel and a period count', () => {
    const meters = new SharedMeters(2);
    const bank = new MeterBank(2);
    const out = new MeterBank(2);
    assert.equal(meters.read(out), null);
    bank.tap('in', [new Float32Array([0.5, -1]), new Float32Array([0.25, 0])], 2);
    bank.tap('out', [new Float32Array([0.1, 0.2]), new Float32Array([0, 0])], 2);
    bank.reportGainReduction(1, -6);
    meters.publish(bank, { xruns: 2, cpuPercent: 1.5, latencyFrames: 64, sampleRate: 48000, blockFrames: 128, gcCount: 3 });
    const h = meters.read(out)!;
    assert.equal(h.period, 1);
    assert.equal(h.xruns, 2);
    assert.equal(h.gcCount, 3);
    assert.equal(out.inPeak[0], 1);
    assert.equal(out.clipIn[0], 1);
    assert.equal(out.grDb[1], -6);
    assert.equal(out.frames, 2);
  });
});
