/**
 * The output true-peak meter and the inter-sample over count (SPEC §2.8
 * plus issue #13), on real blocks through MeterBank and across the shared
 * meter buffer the audio worker publishes through.
 */
import assert from 'node:assert/strict';
import { MeterBank, channelLevels } from '../../src/dsp/meters.js';
import { SharedMeters } from '../../src/engine/shared-meters.js';
import { makeStrip, runStrip, sine } from './strip-harness.test.js';

const FS = 48000;

/** A 12 kHz tone whose samples sit at ±0.707 of its crest (phase 45°). */
function offGrid(amp: number, frames: number): Float32Array {
  const x = new Float32Array(frames);
  for (let i = 0; i < frames; i++) x[i] = amp * Math.sin((2 * Math.PI * 12000 * i) / FS + Math.PI / 4);
  return x;
}

function tapInBlocks(bank: MeterBank, x: Float32Array, block: number): void {
  for (let off = 0; off < x.length; off += block) {
    const n = Math.min(block, x.length - off);
    bank.tap('out', [x.subarray(off, off + n), x.subarray(off, off + n)], n);
  }
}

describe('output true-peak meter', () => {
  it('reads the crest between the samples: 3 dB over the sample peak of a 12 kHz tone at 45°', () => {
    const bank = new MeterBank(2);
    tapInBlocks(bank, offGrid(0.5, 4800), 128);
    const m = channelLevels(bank);
    assert.ok(Math.abs(m.out_peak[0]! - 20 * Math.log10(0.5 * Math.SQRT1_2)) < 0.1, `sample peak ${m.out_peak[0]}`);
    assert.ok(Math.abs(m.out_true_peak[0]! - 20 * Math.log10(0.5)) <= 0.15, `true peak ${m.out_true_peak[0]}`);
    assert.deepEqual(m.overs_out, [0, 0]);
  });
  it('counts inter-sample overs where no sample reaches full scale', () => {
    const bank = new MeterBank(2);
    tapInBlocks(bank, offGrid(1.2, 4800), 100);
    const m = channelLevels(bank);
    assert.deepEqual(m.clip_out, [0, 0], 'the samples (±0.85) never clip');
    assert.ok(m.out_true_peak[0]! > 1.4 && m.out_true_peak[0]! < 1.8, `true peak ${m.out_true_peak[0]} dBTP`);
    // Every crest of the tone (24 000 a second) passes full scale.
    assert.ok(m.overs_out[0]! > 2000, `overs ${m.overs_out[0]}`);
  });
  it('gives the same figures whatever the block size (the history spans blocks)', () => {
    const x = offGrid(0.9, 3000);
    const figs = [7, 64, 1000, 3000].map((b) => { const bank = new MeterBank(2); tapInBlocks(bank, x, b); return [bank.outTruePeak[0], bank.oversOut[0]]; });
    for (const f of figs) assert.deepEqual(f, figs[0]);
  });
  it('a clear starts a new period; NaN and ±Inf samples are skipped', () => {
    const bank = new MeterBank(1);
    bank.tap('out', [offGrid(0.9, 512)], 512);
    bank.tap('out', [new Float32Array(64)], 64);
    bank.clear();
    bank.tap('out', [new Float32Array([NaN, Infinity, -Infinity, 0.25, 0.25])], 5);
    assert.ok(Number.isFinite(bank.outTruePeak[0]!) && bank.outTruePeak[0]! < 0.3, `${bank.outTruePeak[0]}`);
  });
  it('travels through the shared meter buffer with the other figures', () => {
    const bank = new MeterBank(2);
    tapInBlocks(bank, offGrid(1.2, 960), 128);
    const shared = new SharedMeters(2);
    shared.publish(bank, { xruns: 0, cpuPercent: 1, latencyFrames: 72, sampleRate: FS, blockFrames: 128, gcCount: 0 });
    const read = new MeterBank(2);
    assert.ok(shared.read(read));
    assert.deepEqual([...read.outTruePeak], [...bank.outTruePeak]);
    assert.deepEqual([...read.oversOut], [...bank.oversOut]);
  });
});

describe('detector level meter', () => {
  for (const [detector, expectDb] of [['peak', 0], ['rms', -3]] as const) {
    it(`${detector}: what the gain computer sees, input gain included (${expectDb} dBFS for a −6 dBFS sine + 6 dB)`, () => {
      const x = sine(FS / 2, 1000, 0.5);
      const strip = makeStrip({ detector, input_gain: 6, rms_window: 10 });
      const bank = new MeterBank(2);
      runStrip(strip, [x, x], 128, (f) => { if (f === FS / 4) bank.clear(); }, bank);
      const m = channelLevels(bank);
      assert.ok(Math.abs(m.det_level[0]! - expectDb) < 0.15, `detector ${m.det_level[0]} dBFS`);
      assert.deepEqual(m.det_level[0], m.det_level[1]);
    });
  }
});
