/** Level-matched A/B: the bypass gain comes from the loudness measured while processing. */
import assert from 'node:assert/strict';
import { LevelMatch } from '../../src/unit/level-match.js';
import { MeterPump } from '../../src/unit/meter-pump.js';
import { UnitState } from '../../src/unit/unit-state.js';
import type { MeterReading } from '../../src/engine/audio-engine.js';
import { memoryLogger } from '../../src/log.js';
import { makeStrip, paramVector, runStrip, sine } from '../dsp/strip-harness.test.js';
import { transferDb } from '../../src/dsp/transfer.js';
import { defaultParams } from '../../src/params/schema.js';

const RATE_HZ = 20;

function reading(inRms: number, outRms: number, inPeak = inRms + 6): MeterReading {
  return {
    in_peak: [inPeak, inPeak], in_rms: [inRms, inRms], out_peak: [outRms + 6, outRms + 6], out_rms: [outRms, outRms],
    gr: [-3, -3], clip_in: [0, 0], clip_out: [0, 0], out_true_peak: [outRms + 6, outRms + 6], overs_out: [0, 0], det_level: [inPeak, inPeak], xruns: 0, cpu: 1, latency_ms: 3, sample_rate: 48000, block_size: 128, worker_gcs: 0,
  };
}

describe('level-matched A/B', () => {
  let state: UnitState;
  let next: MeterReading | null;
  let pump: MeterPump;
  let match: LevelMatch;
  const play = (r: MeterReading, seconds: number): void => {
    for (let i = 0; i < seconds * RATE_HZ; i++) { next = r; pump.tick(); }
  };

  beforeEach(async () => {
    state = await UnitState.load({ stateDir: null, log: memoryLogger() });
    // Off by default (SPEC §1's bypass leaves the original untouched); these tests turn it on.
    state.apply({ level_match: true }, 'mqtt');
    next = null;
    pump = new MeterPump({ rateHz: RATE_HZ, read: () => next, log: memoryLogger() });
    match = new LevelMatch(pump, state);
    match.start();
  });
  afterEach(() => match.stop());

  it('sets the bypass gain to the measured loudness difference when bypass turns on', () => {
    play(reading(-20, -14), 10);
    assert.equal(match.matchDb, 6);
    state.apply({ bypass: true }, 'mqtt');
    assert.equal(state.params.bypass_gain, 6);
    state.apply({ bypass: false }, 'mqtt');
    play(reading(-20, -27.5), 40);
    state.apply({ bypass: true }, 'mqtt');
    assert.equal(state.params.bypass_gain, -7.5, 'a quieter compressed sound turns the original down');
  });

  it('offers nothing before a second of programme was heard, and ignores silence', () => {
    play(reading(-70, -70), 5);
    assert.equal(match.matchDb, null);
    play(reading(-20, -14), 0.5);
    state.apply({ bypass: true }, 'mqtt');
    assert.equal(state.params.bypass_gain, 0, 'unchanged without a measurement');
  });

  it('learns nothing while bypassed (the output is the original then)', () => {
    play(reading(-20, -14), 10);
    state.apply({ bypass: true }, 'mqtt');
    play(reading(-20, -20), 10);
    assert.equal(match.matchDb, 6);
  });

  it('keeps the original\'s peaks under full scale', () => {
    play(reading(-12, -2, -4), 10);
    assert.equal(match.matchDb, 4, 'not +10: the input peaks at -4 dBFS');
  });

  it('leaves the bypass gain alone with level_match off, and matches when it is turned on while bypassed', () => {
    state.apply({ level_match: false }, 'mqtt');
    play(reading(-20, -14), 10);
    state.apply({ bypass: true }, 'mqtt');
    assert.equal(state.params.bypass_gain, 0);
    state.apply({ level_match: true }, 'mqtt');
    assert.equal(state.params.bypass_gain, 6);
  });

  it('works from a footswitch TOGGLE as from any other bypass', async () => {
    const { decodeParamPayload } = await import('../../src/mqtt/mqtt-command.js');
    play(reading(-20, -16), 10);
    const d = decodeParamPayload('bypass', Buffer.from('TOGGLE'), undefined, (n) => state.params[n]);
    assert.ok(d.ok);
    state.apply(d.value, 'mqtt');
    assert.deepEqual([state.params.bypass, state.params.bypass_gain], [true, 4]);
  });

  it('stops listening on stop()', () => {
    match.stop();
    assert.equal(pump.listenerCount('frame'), 0);
    assert.equal(state.listenerCount('change'), 0);
    match.start();
  });
});

describe('the strip plays the original at bypass_gain (level-matched A/B)', () => {
  const FS = 48000;
  const rms = (y: Float32Array, from: number, to: number): number => {
    let s = 0;
    for (let i = from; i < to; i++) s += y[i]! * y[i]!;
    return Math.sqrt(s / (to - from));
  };

  it('bypassed with bypass_gain +6 dB: the original, 6 dB louder, reached without a jump', () => {
    const x = sine(FS, 1000, 0.25);
    const at = 9600;
    const [y] = runStrip(makeStrip({ bypass_gain: 6 }), [x, x], 128, (f, s) => {
      if (f === at) s.setParams(paramVector({ bypass: true, bypass_gain: 6 }));
    });
    const gain = 20 * Math.log10(rms(y!, FS / 2, FS) / rms(x, FS / 2, FS));
    assert.ok(Math.abs(gain - 6) < 0.05, `bypassed at ${gain.toFixed(3)} dB, want 6`);
    // Never a step larger than the louder sine's own steepest one.
    const natural = 2 * Math.PI * 1000 / FS * 0.25 * 10 ** (6 / 20);
    for (let i = 1; i < y!.length; i++) assert.ok(Math.abs(y![i]! - y![i - 1]!) <= natural * 1.05, `step at ${i}`);
  });

  it('a new bypass_gain while bypassed glides, not jumps', () => {
    const x = sine(FS, 1000, 0.25);
    const [y] = runStrip(makeStrip({ bypass: true, bypass_gain: 0 }), [x, x], 128, (f, s) => {
      if (f === 9600) s.setParams(paramVector({ bypass: true, bypass_gain: -12 }));
    });
    const natural = 2 * Math.PI * 1000 / FS * 0.25;
    for (let i = 1; i < y!.length; i++) assert.ok(Math.abs(y![i]! - y![i - 1]!) <= natural * 1.05, `step at ${i}`);
    const gain = 20 * Math.log10(rms(y!, FS / 2, FS) / rms(x, FS / 2, FS));
    assert.ok(Math.abs(gain + 12) < 0.05, `${gain.toFixed(3)} dB, want -12`);
  });

  it('the transfer curve (plot, dashboard) shows the bypassed original at its gain', () => {
    assert.equal(transferDb(-20, { ...defaultParams(), bypass: true, bypass_gain: 6 }), -14);
    const { bypass_gain: _unused, ...older } = { ...defaultParams(), bypass: true };
    assert.equal(transferDb(-20, older), -20, 'a unit without bypass_gain');
  });

  it('bypass_gain does nothing while the compressor runs', () => {
    const x = sine(FS / 2, 1000, 0.5);
    const [a] = runStrip(makeStrip({}), [x, x]);
    const [b] = runStrip(makeStrip({ bypass_gain: 12 }), [x, x]);
    assert.deepEqual(b, a);
  });
});
