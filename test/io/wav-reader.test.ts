import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readWavFile, WavReader } from '../../src/io/wav-reader.js';
import { writeWavFile } from '../../src/io/wav-writer.js';
import { UserError } from '../../src/errors.js';

function has(tool: string): boolean {
  return spawnSync(tool, [tool === 'ffmpeg' ? '-version' : '--version'], { stdio: 'ignore' }).status === 0;
}

/** Interleaved raw float32 little-endian → planar, the reference decoding from sox/ffmpeg. */
function planarFromRaw(raw: Buffer, channels: number): Float32Array[] {
  const frames = raw.length / 4 / channels;
  const out = Array.from({ length: channels }, () => new Float32Array(frames));
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++) out[c]![i] = raw.readFloatLE(4 * (i * channels + c));
  }
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** A WAV made of the given chunks, for hand-built edge cases. */
function riff(chunks: [string, Buffer][], riffSize?: number): Buffer {
  const parts: Buffer[] = [];
  for (const [id, body] of chunks) {
    const head = Buffer.alloc(8);
    head.write(id, 0, 'latin1');
    head.writeUInt32LE(body.length, 4);
    parts.push(head, body);
    if (body.length % 2 && id !== 'data') parts.push(Buffer.alloc(1));
  }
  const bodyLen = parts.reduce((n, p) => n + p.length, 0);
  const head = Buffer.alloc(12);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(riffSize ?? bodyLen + 4, 4);
  head.write('WAVE', 8, 'latin1');
  return Buffer.concat([head, ...parts]);
}

function fmtChunk(tag: number, channels: number, rate: number, bits: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt16LE(tag, 0);
  b.writeUInt16LE(channels, 2);
  b.writeUInt32LE(rate, 4);
  b.writeUInt32LE(rate * channels * bits / 8, 8);
  b.writeUInt16LE(channels * bits / 8, 12);
  b.writeUInt16LE(bits, 14);
  return b;
}

function int16Data(values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => b.writeInt16LE(v, 2 * i));
  return b;
}

describe('WavReader', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'picomp-wavr-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  describe('files from other tools', () => {
    const soxCases: [string, string[], string][] = [
      ['16-bit stereo', ['-b', '16', '-e', 'signed-integer', '-c', '2'], 'int16'],
      ['24-bit mono', ['-b', '24', '-e', 'signed-integer', '-c', '1'], 'int24'],
      ['32-bit integer 6 channels', ['-b', '32', '-e', 'signed-integer', '-c', '6'], 'int32'],
      ['32-bit float stereo', ['-b', '32', '-e', 'floating-point', '-c', '2'], 'float32'],
    ];
    for (const [label, args, format] of soxCases) {
      it(`reads a sox ${label} file like sox decodes it`, async function () {
        if (!has('sox')) this.skip();
        const path = join(dir, `sox-${format}.wav`);
        execFileSync('sox', ['-n', '-r', '32000', ...args, path, 'synth', '0.3', 'sine', '300-2000', 'vol', '0.8']);
        const raw = execFileSync('sox', [path, '-t', 'f32', '-e', 'floating-point', '-']);
        const channels = Number(args[args.indexOf('-c') + 1]);
        const ref = planarFromRaw(raw, channels);
        const got = await readWavFile(path);
        assert.deepEqual(got.info, { sampleRate: 32000, channels, format, frames: 9600 });
        for (let c = 0; c < channels; c++) assert.ok(maxAbsDiff(got.channels[c]!, ref[c]!) < 1e-6);
      });
    }

    const ffmpegCases: [string, number, string][] = [
      ['pcm_s16le', 2, 'int16'], ['pcm_s24le', 6, 'int24'], ['pcm_s32le', 1, 'int32'], ['pcm_f32le', 6, 'float32'],
    ];
    for (const [codec, channels, format] of ffmpegCases) {
      it(`reads an ffmpeg ${codec} × ${channels} file (LIST chunk, extensible header)`, async function () {
        if (!has('ffmpeg')) this.skip();
        const path = join(dir, `ff-${codec}-${channels}.wav`);
        execFileSync('ffmpeg', ['-y', '-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=0.25',
          '-ac', String(channels), '-c:a', codec, path]);
        const raw = execFileSync('ffmpeg', ['-loglevel', 'error', '-i', path, '-f', 'f32le', '-c:a', 'pcm_f32le', '-']);
        const ref = planarFromRaw(raw, channels);
        const got = await readWavFile(path);
        assert.deepEqual(got.info, { sampleRate: 48000, channels, format, frames: 12000 });
        for (let c = 0; c < channels; c++) assert.ok(maxAbsDiff(got.channels[c]!, ref[c]!) < 1e-6);
      });
    }

    it('reads ffmpeg output written to a pipe (data size 0xFFFFFFFF) up to the end of the file', async function () {
      if (!has('ffmpeg')) this.skip();
      const bytes = execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=sample_rate=8000:duration=0.5',
        '-c:a', 'pcm_s16le', '-f', 'wav', 'pipe:1']);
      assert.equal(bytes.readUInt32LE(bytes.indexOf('data') + 4), 0xffffffff);
      const path = join(dir, 'ff-pipe.wav');
      await writeFile(path, bytes);
      const reader = await WavReader.open(path);
      assert.equal(reader.info.frames, 4000);
      assert.equal(reader.truncated, false);
      await reader.close();
    });

    it('reads sox output written to a pipe (data size too large) and flags it truncated', async function () {
      if (!has('sox')) this.skip();
      const bytes = execFileSync('sox', ['-V1', '-n', '-r', '8000', '-c', '1', '-b', '16', '-t', 'wav', '-', 'synth', '0.5', 'sine', '440']);
      const path = join(dir, 'sox-pipe.wav');
      await writeFile(path, bytes);
      const reader = await WavReader.open(path);
      assert.equal(reader.info.frames, 4000);
      assert.equal(reader.truncated, true);
      await reader.close();
    });
  });

  describe('chunk layout', () => {
    it('skips LIST and odd-sized chunks (with their pad byte) before the data', async () => {
      const path = join(dir, 'chunks.wav');
      await writeFile(path, riff([
        ['fmt ', fmtChunk(1, 1, 8000, 16)],
        ['LIST', Buffer.from('INFOISFT\x05\x00\x00\x00abcde\x00', 'latin1')],
        ['junk', Buffer.from([1, 2, 3])],
        ['data', int16Data([16384, -16384, 32767])],
      ]));
      const got = await readWavFile(path);
      assert.deepEqual(got.info, { sampleRate: 8000, channels: 1, format: 'int16', frames: 3 });
      assert.deepEqual(Array.from(got.channels[0]!), [0.5, -0.5, 32767 / 32768]);
    });

    it('ignores chunks after the data chunk', async () => {
      const path = join(dir, 'trailing.wav');
      await writeFile(path, riff([
        ['fmt ', fmtChunk(1, 2, 8000, 16)],
        ['data', int16Data([1, 2, 3, 4])],
        ['LIST', Buffer.from('INFOISFT\x04\x00\x00\x00abcd', 'latin1')],
      ]));
      const got = await readWavFile(path);
      assert.equal(got.info.frames, 2);
      assert.deepEqual(Array.from(got.channels[1]!), [2 / 32768, 4 / 32768]);
    });

    it('a truncated data chunk reads the whole frames that are there and says truncated', async () => {
      const path = join(dir, 'cut.wav');
      const full = riff([['fmt ', fmtChunk(1, 2, 8000, 16)], ['data', int16Data([1, 2, 3, 4, 5, 6, 7, 8])]]);
      await writeFile(path, full.subarray(0, full.length - 6)); // 2½ of 4 frames left
      const reader = await WavReader.open(path);
      assert.equal(reader.truncated, true);
      assert.equal(reader.info.frames, 2);
      const block = [new Float32Array(10), new Float32Array(10)];
      assert.equal(await reader.read(block, 10), 2);
      assert.equal(await reader.read(block, 10), 0);
      await reader.close();
    });

    it('data size 0 in a streamed header (RIFF size 0) means "up to the end of the file"', async () => {
      const path = join(dir, 'streamed0.wav');
      const bytes = riff([['fmt ', fmtChunk(1, 1, 8000, 16)], ['data', int16Data([5, 6, 7])]], 0);
      bytes.writeUInt32LE(0, bytes.indexOf('data') + 4);
      await writeFile(path, bytes);
      assert.equal((await readWavFile(path)).info.frames, 3);
    });

    it('a header-only file has zero frames', async () => {
      const path = join(dir, 'zero.wav');
      await writeWavFile(path, { sampleRate: 48000, format: 'int16', channels: [new Float32Array(0), new Float32Array(0)] });
      const got = await readWavFile(path);
      assert.equal(got.info.frames, 0);
      assert.equal(got.channels.length, 2);
    });

    it('reads WAVE_FORMAT_EXTENSIBLE float written by picomp for 6 channels with the float subformat', async () => {
      const path = join(dir, 'ext.wav');
      await writeWavFile(path, { sampleRate: 48000, format: 'float32', channels: Array.from({ length: 6 }, () => new Float32Array([0.5])) });
      const bytes = await readFile(path);
      assert.equal(bytes.readUInt16LE(20), 0xfffe);
      assert.equal(bytes.readUInt32LE(44), 3); // KSDATAFORMAT_SUBTYPE_IEEE_FLOAT
      assert.equal((await readWavFile(path)).channels[5]![0], 0.5);
    });
  });

  describe('bad input is a UserError a student can act on', () => {
    async function rejectsWith(path: string, ...parts: string[]): Promise<void> {
      await assert.rejects(WavReader.open(path), (e: unknown) => {
        assert.ok(e instanceof UserError, `expected UserError, got ${String(e)}`);
        for (const p of parts) assert.ok(e.message.includes(p), `"${e.message}" should mention "${p}"`);
        assert.ok(!e.message.includes('\n'));
        return true;
      });
    }

    it('missing file', async () => {
      await rejectsWith(join(dir, 'nope.wav'), 'nope.wav', 'does not exist');
    });

    it('a folder', async () => {
      await rejectsWith(dir, 'folder');
    });

    it('empty file', async () => {
      const path = join(dir, 'empty.wav');
      await writeFile(path, '');
      await rejectsWith(path, 'empty.wav', 'empty');
    });

    it('a text file', async () => {
      const path = join(dir, 'notes.wav');
      await writeFile(path, 'these are my lecture notes, not audio\n');
      await rejectsWith(path, 'notes.wav', 'is not a WAV file');
    });

    it('8-bit samples', async () => {
      const path = join(dir, 'eight.wav');
      await writeFile(path, riff([['fmt ', fmtChunk(1, 1, 8000, 8)], ['data', Buffer.from([128, 129])]]));
      await rejectsWith(path, `${path} uses 8-bit samples; picomp reads 16-, 24-, 32-bit integer and 32-bit float WAV.`);
    });

    it('64-bit float samples', async () => {
      const path = join(dir, 'double.wav');
      await writeFile(path, riff([['fmt ', fmtChunk(3, 1, 8000, 64)], ['data', Buffer.alloc(16)]]));
      await rejectsWith(path, 'double.wav', '64-bit float');
    });

    it('µ-law', async () => {
      const path = join(dir, 'ulaw.wav');
      await writeFile(path, riff([['fmt ', fmtChunk(7, 1, 8000, 8)], ['data', Buffer.alloc(4)]]));
      await rejectsWith(path, 'ulaw.wav', 'compressed audio');
    });

    it('no data chunk', async () => {
      const path = join(dir, 'nodata.wav');
      await writeFile(path, riff([['fmt ', fmtChunk(1, 1, 8000, 16)]]));
      await rejectsWith(path, 'nodata.wav', "no 'data' chunk");
    });

    it('no fmt chunk', async () => {
      const path = join(dir, 'nofmt.wav');
      await writeFile(path, riff([['data', int16Data([1, 2])]]));
      await rejectsWith(path, 'nofmt.wav', "no 'fmt' chunk");
    });

    it('a header cut off in the middle', async () => {
      const path = join(dir, 'stub.wav');
      await writeFile(path, riff([['fmt ', fmtChunk(1, 1, 8000, 16)], ['data', int16Data([1])]]).subarray(0, 30));
      await rejectsWith(path, 'stub.wav', 'corrupt');
    });

    it('a frame size that does not match the channels', async () => {
      const path = join(dir, 'align.wav');
      const fmt = fmtChunk(1, 2, 8000, 16);
      fmt.writeUInt16LE(3, 12);
      await writeFile(path, riff([['fmt ', fmt], ['data', int16Data([1, 2])]]));
      await rejectsWith(path, 'align.wav', 'corrupt');
    });
  });
});
