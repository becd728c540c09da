import assert from 'node:assert/strict';
import { memoryLogger } from '../../src/log.js';
import type { MeterReading } from '../../src/engine/audio-engine.js';
import { LevelSummaries, MeterListener, MeterPump, type LevelSummary, type MeterFrame } from '../../src/unit/meter-pump.js';

const reading = (gr: number, peak: number): MeterReading => ({
  in_peak: [peak, peak - 1], in_rms: [-20, -20], out_peak: [peak - 3, peak - 4], out_rms: [-23, -23],
  gr: [gr, gr / 2], clip_in: [0, 0], clip_out: [0, 0], out_true_peak: [peak - 2.5, peak - 3.5], overs_out: [0, 0], det_level: [peak, peak], xruns: 0, cpu: 1, latency_ms: 3, sample_rate: 48000, block_size: 128, worker_gcs: 0,
});

describe('meter pump', () => {
  it('refuses a meter rate outside 1 to 60 Hz with a sentence', () => {
    for (const rateHz of [0, 61, NaN]) {
      assert.throws(() => new MeterPump({ rateHz, read: () => null, log: memoryLogger() }), /meter_rate must be 1 to 60 Hz/);
    }
  });

  it('stamps each fresh reading and hands it to every started extension, none after stop()', () => {
    let now = 1000;
    const readings: (MeterReading | null)[] = [reading(-3, -6), null, reading(-5, -2)];
    const pump = new MeterPump({ rateHz: 20, read: () => readings.shift() ?? null, log: memoryLogger(), now: () => now });
    const a: MeterFrame[] = [], b: MeterFrame[] = [];
    const ea = new MeterListener(pump, (f) => a.push(f));
    const eb = new MeterListener(pump, (f) => b.push(f));
    ea.start(); eb.start();
    pump.tick(); now += 50; pump.tick(); now += 50;
    eb.stop();
    pump.tick();
    assert.deepEqual(a.map((f) => f.t), [1000, 1100]);
    assert.deepEqual(b.map((f) => f.t), [1000]);
    assert.deepEqual(a[0]!.gr, [-3, -1.5]);
    ea.stop();
    assert.equal(pump.listenerCount('frame'), 0);
  });

  it('logs a failing read once and keeps going', () => {
    const log = memoryLogger();
    let fail = true;
    const pump = new MeterPump({ rateHz: 20, read: () => { if (fail) throw new Error('boom'); return reading(0, -10); }, log });
    const got: MeterFrame[] = [];
    new MeterListener(pump, (f) => got.push(f)).start();
    pump.tick(); pump.tick();
    fail = false;
    pump.tick();
    assert.equal(log.lines.filter((l) => l.includes('reading the meters failed')).length, 1);
    assert.equal(got.length, 1);
  });

  it('keeps feeding the other extensions when one throws, logging it once until it works again', () => {
    const log = memoryLogger();
    const pump = new MeterPump({ rateHz: 20, read: () => reading(-3, -6), log });
    let broken = true;
    const before: MeterFrame[] = [], after: MeterFrame[] = [];
    new MeterListener(pump, (f) => before.push(f)).start();
    new MeterListener(pump, () => { if (broken) throw new Error('GPIO write failed'); }).start();
    new MeterListener(pump, (f) => after.push(f)).start();
    pump.tick(); pump.tick();
    broken = false;
    pump.tick();
    broken = true;
    pump.tick();
    assert.equal(before.length, 4);
    assert.equal(after.length, 4);
    assert.equal(log.lines.filter((l) => l.includes('GPIO write failed')).length, 2);
  });

  it('leaves no listener behind however often its extensions start and stop', () => {
    const pump = new MeterPump({ rateHz: 20, read: () => reading(-3, -6), log: memoryLogger() });
    const got: MeterFrame[] = [];
    const listener = new MeterListener(pump, (f) => got.push(f));
    const levels = new LevelSummaries(pump, 1000, () => undefined);
    for (let round = 0; round < 5; round++) {
      listener.start(); listener.start(); levels.start();
      assert.equal(pump.listenerCount('frame'), 2);
      pump.tick();
      listener.stop(); levels.stop();
      assert.equal(pump.listenerCount('frame'), 0);
    }
    assert.equal(got.length, 5);
  });

  it('folds frames into one level summary per period, by the frames\' own time', () => {
    let now = 0;
    const queue = [reading(-2, -10), reading(-6, -4), reading(-1, -12), reading(-3, -8)];
    const pump = new MeterPump({ rateHz: 20, read: () => queue.shift() ?? null, log: memoryLogger(), now: () => now });
    const sums: LevelSummary[] = [];
    const levels = new LevelSummaries(pump, 1000, (s) => sums.push(s));
    levels.start();
    for (let i = 0; i < 4; i++) { pump.tick(); now += 500; }
    assert.deepEqual(sums, [{ gr: -6, in_peak: -4, out_peak: -7, clips: 0, cpu: 1, xruns: 0 }]);
    levels.stop();
    assert.equal(pump.listenerCount('frame'), 0);
  });
});
