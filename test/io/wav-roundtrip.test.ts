import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readWavFile, WavReader } from '../../src/io/wav-reader.js';
import { WavWriter, writeWavFile } from '../../src/io/wav-writer.js';
import { SAMPLE_FORMATS, type SampleFormat } from '../../src/io/wav-format.js';
import { UserError } from '../../src/errors.js';

/** Largest round-trip error a format may add: half a step of its integer grid. */
const PRECISION: Record<SampleFormat, number> = {
  int16: 0.5 / 32768 + 1e-9,
  int24: 0.5 / 8388608 + 1e-9,
  int32: 1e-7, // float32 input cannot hold more than 24 bits anyway
  float32: 0,
};

function testSignal(channels: number, frames: number): Float32Array[] {
  return Array.from({ length: channels }, (_, c) =>
    Float32Array.from({ length: frames }, (_, i) => 0.95 * Math.sin(2 * Math.PI * (i * (c + 1)) / 97 + c)));
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('WAV round trips', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'picomp-wav-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  for (const format of SAMPLE_FORMATS) {
    for (const channels of [1, 2, 6]) {
      it(`${format} × ${channels} channel(s) reads back within ${PRECISION[format]}`, async () => {
        const frames = 70001; // odd, and more than one 65536-frame block
        const data = testSignal(channels, frames);
        const path = join(dir, `${format}-${channels}.wav`);
        await writeWavFile(path, { sampleRate: 44100, format, channels: data });
        const back = await readWavFile(path);
        assert.deepEqual(back.info, { sampleRate: 44100, channels, format, frames });
        for (let c = 0; c < channels; c++) {
          assert.ok(maxAbsDiff(back.channels[c]!, data[c]!) <= PRECISION[format], `channel ${c}`);
        }
      });
    }
  }

  it('clamps integer output to full scale and writes NaN as silence', async () => {
    const path = join(dir, 'clamp.wav');
    const samples = Float32Array.from([1.5, -2, 1, -1, NaN, 0.25]);
    await writeWavFile(path, { sampleRate: 8000, format: 'int16', channels: [samples] });
    const back = (await readWavFile(path)).channels[0]!;
    assert.deepEqual(Array.from(back), [32767 / 32768, -1, 32767 / 32768, -1, 0, 0.25]);
  });

  it('writes float32 samples as they are, even beyond ±1', async () => {
    const path = join(dir, 'float-hot.wav');
    const samples = Float32Array.from([1.5, -2, 0.1]);
    await writeWavFile(path, { sampleRate: 8000, format: 'float32', channels: [samples] });
    assert.deepEqual((await readWavFile(path)).channels[0], samples);
  });

  it('keeps any sample rate', async () => {
    const path = join(dir, 'rate.wav');
    await writeWavFile(path, { sampleRate: 22050, format: 'int24', channels: testSignal(2, 10) });
    assert.equal((await readWavFile(path)).info.sampleRate, 22050);
  });

  it('pads an odd-length data chunk and still reads the right frame count', async () => {
    const path = join(dir, 'odd.wav');
    await writeWavFile(path, { sampleRate: 8000, format: 'int24', channels: testSignal(1, 5) });
    const bytes = await readFile(path);
    assert.equal(bytes.length % 2, 0);
    assert.equal(bytes.readUInt32LE(4), bytes.length - 8);
    assert.equal((await readWavFile(path)).info.frames, 5);
  });

  it('streamed reads in odd-sized blocks equal the whole-file read', async () => {
    const path = join(dir, 'blocks.wav');
    const data = testSignal(2, 50000);
    await writeWavFile(path, { sampleRate: 48000, format: 'int24', channels: data });
    const whole = await readWavFile(path);
    const reader = await WavReader.open(path);
    const got = [new Float32Array(50000), new Float32Array(50000)];
    const block = [new Float32Array(4099), new Float32Array(4099)];
    let pos = 0;
    for (let n; (n = await reader.read(block, 4099)) > 0; pos += n) {
      for (let c = 0; c < 2; c++) got[c]!.set(block[c]!.subarray(0, n), pos);
    }
    await reader.close();
    assert.equal(pos, 50000);
    assert.deepEqual(got, whole.channels);
  });

  it('a streaming writer produces the same file as writeWavFile', async () => {
    const data = testSignal(2, 3000);
    const a = join(dir, 'whole.wav');
    const b = join(dir, 'streamed.wav');
    await writeWavFile(a, { sampleRate: 48000, format: 'float32', channels: data });
    const w = await WavWriter.create(b, { sampleRate: 48000, channels: 2, format: 'float32' });
    for (let pos = 0; pos < 3000; pos += 128) {
      await w.write(data.map((ch) => ch.subarray(pos)), Math.min(128, 3000 - pos));
    }
    await w.finish();
    assert.deepEqual(await readFile(b), await readFile(a));
  });

  describe('WavWriter temp file', () => {
    it('abort() leaves no file and no temp file behind', async () => {
      const sub = await mkdtemp(join(dir, 'abort-'));
      const path = join(sub, 'out.wav');
      const w = await WavWriter.create(path, { sampleRate: 48000, channels: 2, format: 'int16' });
      await w.write(testSignal(2, 1000), 1000);
      assert.equal((await readdir(sub)).length, 1, 'the temp file exists while writing');
      await w.abort();
      assert.deepEqual(await readdir(sub), []);
    });

    it('abort() leaves an existing output untouched; finish() replaces it', async () => {
      const sub = await mkdtemp(join(dir, 'keep-'));
      const path = join(sub, 'out.wav');
      await writeFile(path, 'previous contents');
      const w1 = await WavWriter.create(path, { sampleRate: 48000, channels: 1, format: 'int16' });
      await w1.write(testSignal(1, 100), 100);
      await w1.abort();
      assert.equal(await readFile(path, 'utf8'), 'previous contents');
      const w2 = await WavWriter.create(path, { sampleRate: 48000, channels: 1, format: 'int16' });
      await w2.write(testSignal(1, 100), 100);
      await w2.finish();
      assert.equal((await readWavFile(path)).info.frames, 100);
      assert.deepEqual(await readdir(sub), ['out.wav']);
    });

    it('a missing output folder is a UserError naming the file', async () => {
      const path = join(dir, 'no-such-folder', 'out.wav');
      await assert.rejects(WavWriter.create(path, { sampleRate: 48000, channels: 1, format: 'int16' }),
        (e: unknown) => e instanceof UserError && e.message.includes('out.wav') && e.message.includes('does not exist'));
    });

    it('rejects a channel count WAV cannot hold', async () => {
      await assert.rejects(WavWriter.create(join(dir, 'x.wav'), { sampleRate: 48000, channels: 0, format: 'int16' }), UserError);
    });
  });
});
