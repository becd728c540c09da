/**
 * Streaming WAV writer. The header comes from `wavefile`; samples are
 * encoded block by block. Everything goes to a temporary file beside the
 * target and is renamed into place by finish(), so a failed render never
 * leaves a partial output file.
 */
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import wavefile from 'wavefile';
import { UserError } from '../errors.js';
import {
  MAX_WAV_CHANNELS, bytesPerSample, encodeInterleaved, isSampleFormat, wavefileBitDepth, type SampleFormat,
} from './wav-format.js';

export interface WavWriterOptions {
  sampleRate: number;
  channels: number;
  format: SampleFormat;
}

/** KSDATAFORMAT_SUBTYPE_* GUIDs as wavefile stores them: four little-endian uint32s. */
const GUID_TAIL = [1048576, 2852126848, 1905997824];
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** A RIFF size field is 32 bits. */
const MAX_RIFF_BYTES = 0xffffffff;

export class WavWriter {
  private fh: FileHandle | undefined;
  private readonly headerBytes: number;
  private readonly blockAlign: number;
  private dataBytes = 0;
  private bytes = new Uint8Array(0);
  private done = false;

  private constructor(
    fh: FileHandle,
    private readonly path: string,
    private readonly tmpPath: string,
    private readonly opts: WavWriterOptions,
    headerBytes: number,
  ) {
    this.fh = fh;
    this.headerBytes = headerBytes;
    this.blockAlign = opts.channels * bytesPerSample(opts.format);
  }

  static async create(path: string, opts: WavWriterOptions): Promise<WavWriter> {
    const { sampleRate, channels, format } = opts;
    if (!isSampleFormat(format)) throw new UserError(`Cannot write ${path}: unknown sample format '${format}'; use int16, int24, int32 or float32.`);
    if (!Number.isInteger(channels) || channels < 1 || channels > MAX_WAV_CHANNELS) {
      throw new UserError(`Cannot write ${path}: ${channels} channels; WAV output takes 1 to ${MAX_WAV_CHANNELS}.`);
    }
    if (!Number.isInteger(sampleRate) || sampleRate < 1) {
      throw new UserError(`Cannot write ${path}: the sample rate must be a whole number of Hz, not ${sampleRate}.`);
    }
    const header = makeHeader(opts);
    // Hidden, unique name in the same folder, so the final rename stays on one filesystem.
    const tmpPath = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    let fh: FileHandle;
    try {
      fh = await open(tmpPath, 'wx');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new UserError(`Cannot write ${path}: the folder ${dirname(path)} does not exist.`);
      if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
        throw new UserError(`Cannot write ${path}: no permission to create files in ${dirname(path)}.`);
      }
      throw new UserError(`Cannot write ${path} (${code ?? (e as Error).message}).`);
    }
    const writer = new WavWriter(fh, path, tmpPath, opts, header.length);
    try {
      await fh.write(header, 0, header.length, 0);
    } catch (e) {
      await writer.abort();
      throw e;
    }
    return writer;
  }

  /**
   * Appends `frames` frames from the start of each channel of `block`.
   * `block` is encoded before the first await, so the caller may refill it
   * as soon as this returns; the next write() must wait for this one.
   */
  async write(block: readonly Float32Array[], frames: number): Promise<void> {
    const fh = this.fh;
    if (!fh || this.done) throw new Error('WavWriter.write() after finish() or abort()');
    if (block.length < this.opts.channels) throw new Error(`WavWriter.write() needs ${this.opts.channels} channels, got ${block.length}`);
    if (frames <= 0) return;
    const byteCount = frames * this.blockAlign;
    if (this.headerBytes + this.dataBytes + byteCount + 1 > MAX_RIFF_BYTES) {
      throw new UserError(`Cannot write ${this.path}: the output would be larger than the 4 GB a WAV file can hold.`);
    }
    if (this.bytes.byteLength < byteCount) this.bytes = new Uint8Array(new ArrayBuffer(byteCount));
    encodeInterleaved(block, 0, frames, this.opts.format, this.opts.channels, this.bytes);
    let written = 0;
    while (written < byteCount) {
      const { bytesWritten } = await fh.write(this.bytes, written, byteCount - written, this.headerBytes + this.dataBytes + written);
      written += bytesWritten;
    }
    this.dataBytes += byteCount;
  }

  /** Fixes the header sizes, closes and renames the temp file to the target path. */
  async finish(): Promise<void> {
    const fh = this.fh;
    if (!fh || this.done) throw new Error('WavWriter.finish() called twice or after abort()');
    this.done = true;
    try {
      let fileBytes = this.headerBytes + this.dataBytes;
      if (this.dataBytes & 1) {
        // RIFF chunks are word aligned; the pad byte is not part of the data size.
        await fh.write(new Uint8Array(1), 0, 1, fileBytes);
        fileBytes += 1;
      }
      const sizes = new Uint8Array(4);
      const view = new DataView(sizes.buffer);
      view.setUint32(0, fileBytes - 8, true);
      await fh.write(sizes, 0, 4, 4);
      view.setUint32(0, this.dataBytes, true);
      await fh.write(sizes, 0, 4, this.headerBytes - 4);
      if (this.opts.format === 'float32') {
        // makeHeader put the fact chunk right before the data chunk header.
        view.setUint32(0, this.dataBytes / this.blockAlign, true);
        await fh.write(sizes, 0, 4, this.headerBytes - 12);
      }
      // No fsync: the temp file + rename already means a failed or killed
      // render never leaves a partial OUT. fsync would add only durability
      // across a power cut or kernel crash — for a file the user can render
      // again — and cost ~2.5 s of a 10-minute render here (ffmpeg and sox
      // do not sync either).
      await fh.close();
      this.fh = undefined;
      await rename(this.tmpPath, this.path);
    } catch (e) {
      await this.abort();
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC') throw new UserError(`Cannot write ${this.path}: the disk is full.`);
      throw e;
    }
  }

  /** Deletes the temporary file; the target path is left as it was. Safe to call more than once. */
  async abort(): Promise<void> {
    this.done = true;
    const fh = this.fh;
    this.fh = undefined;
    if (fh) await fh.close().catch(() => undefined);
    await unlink(this.tmpPath).catch(() => undefined);
  }
}

/** Writes a whole file of planar channels (for tests and generated material). */
export async function writeWavFile(
  path: string, data: { sampleRate: number; format: SampleFormat; channels: Float32Array[] },
): Promise<void> {
  const channels = data.channels.length;
  const frames = channels > 0 ? data.channels[0]!.length : 0;
  if (data.channels.some((ch) => ch.length !== frames)) throw new Error('writeWavFile: channels differ in length');
  const writer = await WavWriter.create(path, { sampleRate: data.sampleRate, channels, format: data.format });
  try {
    const blockFrames = 65536;
    for (let pos = 0; pos < frames; pos += blockFrames) {
      const n = Math.min(blockFrames, frames - pos);
      await writer.write(data.channels.map((ch) => ch.subarray(pos)), n);
    }
    await writer.finish();
  } catch (e) {
    await writer.abort();
    throw e;
  }
}

/** The header bytes up to and including the data chunk's size field, with sizes 0 for now. */
function makeHeader(opts: WavWriterOptions): Uint8Array {
  const wav = new wavefile.WaveFile();
  wav.fromScratch(opts.channels, opts.sampleRate, wavefileBitDepth(opts.format), []);
  if (opts.channels > 2) {
    // wavefile writes a 40-byte extensible fmt for >2 channels but keeps the plain format tag
    // and always a PCM subformat; readers need tag 0xFFFE and the float GUID for float32.
    const fmt = wav.fmt as { audioFormat: number; subformat: number[] };
    fmt.audioFormat = WAVE_FORMAT_EXTENSIBLE;
    fmt.subformat = [opts.format === 'float32' ? 3 : 1, ...GUID_TAIL];
  }
  if (opts.format === 'float32') {
    // Non-PCM formats carry cbSize (an 18-byte fmt) and a fact chunk with the frame count.
    const fmt = wav.fmt as { chunkSize: number; cbSize: number };
    if (fmt.chunkSize < 18) { fmt.chunkSize = 18; fmt.cbSize = 0; }
    wav.fact = { chunkId: 'fact', chunkSize: 4, dwSampleLength: 0 };
  }
  const header = wav.toBuffer();
  const n = header.length;
  const tag = String.fromCharCode(header[n - 8]!, header[n - 7]!, header[n - 6]!, header[n - 5]!);
  if (tag !== 'data') throw new Error('wavefile header does not end with the data chunk');
  return header;
}
