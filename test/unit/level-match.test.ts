/** Level-matched A/B: the bypass gain comes from the loudness measured while processing. */
import assert from 'node:assert/strict';
import { LevelMatch } from '../../src/unit/level-match.js';
import { MeterPump } from '../../src/unit/meter-pump.js';
import { UnitState } from '../../src/unit/unit-state.js';
import type { MeterReading } from '../../src/engine/audio-engine.js';
import { memoryLogger } from '../../src/log.js';

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
