import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AudioEngine, type MeterReading } from '../../src/engine/audio-engine.js';
import { defaultParams, type ParamValues } from '../../src/params/schema.js';
import { writeWavFile } from '../../src/io/wav-writer.js';
import { memoryLogger } from '../../src/log.js';
import { UserError } from '../../src/errors.js';

/** Waits for `count` fresh meter periods and returns them. */
async function meterPeriods(engine: AudioEngine, count: number): Promise<MeterReading[]> {
  const got: MeterReading[] = [];
  const deadline = Date.now() + 20_000;
  while (got.length < count) {
    if (Date.now() > deadline) throw new Error(`only ${got.length} meter periods arrived`);
    const m = engine.readMeters();
    if (m) got.push(m);
    await new Promise((r) => setTimeout(r, 10));
  }
  return got;
}

describe('real-time engine (worker thread, clock-paced)', () => {
  let dir: string;
  let engine: AudioEngine | null = null;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'picomp-engine-')); });
  afterEach(async () => { await engine?.stop(); engine = null; });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  const start = (params: Partial<ParamValues>, input: Parameters<typeof AudioEngine.start>[0]['input'] = { kind: 'demo' }) =>
    AudioEngine.start({ input, output: { kind: 'null' }, sampleRate: 48000, blockFrames: 128, channels: 2,
      params: { ...defaultParams(), ...params }, log: memoryLogger() });

  it('runs the demo into null and publishes meters with health figures', async () => {
    engine = await start({});
    assert.equal(engine.info.input, 'demo');
    assert.equal(engine.info.output, 'null');
    const periods = await meterPeriods(engine, 10);
    const loudest = Math.max(...periods.map((m) => m.in_peak[0]!));
    assert.ok(loudest > -20 && loudest <= 0, `demo peaks at ${loudest} dBFS`);
    for (const m of periods) {
      assert.equal(m.in_peak.length, 2);
      assert.equal(m.sample_rate, 48000);
      assert.equal(m.block_size, 128);
      assert.ok(m.cpu > 0 && Number.isFinite(m.cpu));
      assert.ok(m.gr.every((g) => g <= 0));
    }
  });

  it('parameter changes from the main thread reach the audio layer', async () => {
    engine = await start({ threshold: 0, ratio: 1, limiter: false });
    const before = await meterPeriods(engine, 5);
    assert.ok(before.every((m) => m.gr[0] === 0), 'no reduction at ratio 1');
    engine.setParams({ ...defaultParams(), threshold: -50, ratio: 20, knee: 0, attack: 0.1, limiter: false });
    await meterPeriods(engine, 5); // let the 20 ms ramps and the attack settle
    const after = await meterPeriods(engine, 10);
    const deepest = Math.min(...after.map((m) => m.gr[0]!));
    assert.ok(deepest < -20, `deepest gain reduction ${deepest} dB`);
    assert.ok(after.every((m) => m.out_peak[0]! < m.in_peak[0]! + 0.5));
  });

  it('loops a file input, and bypass passes it unchanged', async () => {
    const tone = new Float32Array(4800).map((_, i) => 0.5 * Math.sin((2 * Math.PI * 1000 * i) / 48000));
    const path = join(dir, 'tone.wav');
    await writeWavFile(path, { sampleRate: 48000, format: 'float32', channels: [tone] });
    engine = await start({ bypass: true }, { kind: 'file', path });
    assert.equal(engine.info.input, `file:${path}`);
    const periods = await meterPeriods(engine, 6);
    for (const m of periods.slice(1)) {
      assert.ok(Math.abs(m.in_peak[1]! - -6) < 0.2, `mono file feeds both channels (${m.in_peak[1]})`);
      assert.ok(Math.abs(m.out_peak[0]! - m.in_peak[0]!) < 0.05);
    }
  });

  it('refuses a file at another sample rate than the unit runs at, saying what to do', async () => {
    const path = join(dir, 'cd.wav');
    await writeWavFile(path, { sampleRate: 44100, format: 'int16', channels: [new Float32Array(4410)] });
    await assert.rejects(start({}, { kind: 'file', path }),
      (e: Error) => e instanceof UserError && /cd\.wav is at 44100 Hz but the unit runs at 48000 Hz; start it with --sample-rate 44100/.test(e.message));
  });

  it('a file input that cannot be read is a clear error, not a crash', async () => {
    await assert.rejects(start({}, { kind: 'file', path: join(dir, 'missing.wav') }),
      (e: Error) => e instanceof UserError && /missing\.wav/.test(e.message));
  });
});
