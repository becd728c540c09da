/**
 * Streaming WAV reader: parses the header with `wavefile`, then reads the
 * data chunk block by block into planar Float32 arrays, so a long file is
 * never held in memory as JS arrays.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import wavefile from 'wavefile';
import { UserError } from '../errors.js';
import {
  MAX_WAV_CHANNELS, bytesPerSample, decodeInterleaved, type SampleFormat, type WavInfo,
} from './wav-format.js';

const SUPPORTED = 'picomp reads 16-, 24-, 32-bit integer and 32-bit float WAV.';

/** Where the audio lives in the file, found by walking the RIFF chunks. */
interface DataLayout {
  info: WavInfo;
  dataStart: number;
  blockAlign: number;
  /** The data chunk claims more bytes than the file holds (a recording cut short). */
  truncated: boolean;
}

/** The fields of wavefile's parsed fmt chunk that picomp looks at. */
interface FmtFields {
  audioFormat: number;
  numChannels: number;
  sampleRate: number;
  blockAlign: number;
  bitsPerSample: number;
  subformat: number[];
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** Header chunks (fmt, ds64) bigger than this are corruption, not metadata. */
const MAX_HEADER_CHUNK_BYTES = 4096;

export class WavReader {
  readonly info: WavInfo;
  /** True when the file ended before its data chunk did; read() delivers what is there. */
  readonly truncated: boolean;
  private fh: FileHandle | undefined;
  private readonly dataStart: number;
  private readonly blockAlign: number;
  private framesRead = 0;
  private bytes = new Uint8Array(0);

  private constructor(fh: FileHandle, layout: DataLayout) {
    this.fh = fh;
    this.info = layout.info;
    this.truncated = layout.truncated;
    this.dataStart = layout.dataStart;
    this.blockAlign = layout.blockAlign;
  }

  static async open(path: string): Promise<WavReader> {
    let fh: FileHandle;
    try {
      const st = await stat(path);
      if (st.isDirectory()) throw new UserError(`${path} is a folder, not a WAV file.`);
      fh = await open(path, 'r');
    } catch (e) {
      throw fileError(e, path);
    }
    try {
      const layout = await readLayout(fh, path);
      return new WavReader(fh, layout);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  /**
   * Reads up to maxFrames frames into the start of each `into` channel
   * (one array per file channel, each at least maxFrames long).
   * Returns the number of frames read; 0 at the end of the file.
   */
  async read(into: Float32Array[], maxFrames: number): Promise<number> {
    const fh = this.fh;
    if (!fh) throw new Error('WavReader.read() after close()');
    const { channels, format } = this.info;
    if (into.length < channels) throw new Error(`WavReader.read() needs ${channels} channel arrays, got ${into.length}`);
    const frames = Math.min(maxFrames, this.info.frames - this.framesRead);
    if (frames <= 0) return 0;
    const byteCount = frames * this.blockAlign;
    if (this.bytes.byteLength < byteCount) this.bytes = new Uint8Array(new ArrayBuffer(byteCount));
    const position = this.dataStart + this.framesRead * this.blockAlign;
    let got = 0;
    while (got < byteCount) {
      const { bytesRead } = await fh.read(this.bytes, got, byteCount - got, position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    // The file shrank under us (info.frames was measured at open): deliver the whole frames there are.
    const whole = Math.floor(got / this.blockAlign);
    decodeInterleaved(this.bytes, format, channels, into, 0, whole);
    this.framesRead += whole;
    return whole;
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    if (fh) await fh.close();
  }
}

/** Reads a whole file into planar Float32 channels (for tests and short loops). */
export async function readWavFile(path: string): Promise<{ info: WavInfo; channels: Float32Array[] }> {
  const reader = await WavReader.open(path);
  try {
    const { info } = reader;
    const channels = Array.from({ length: info.channels }, () => new Float32Array(info.frames));
    const blockFrames = 65536;
    let pos = 0;
    for (;;) {
      const into = channels.map((ch) => ch.subarray(pos));
      const n = await reader.read(into, Math.min(blockFrames, info.frames - pos));
      if (n === 0) break;
      pos += n;
    }
    return { info, channels: pos === info.frames ? channels : channels.map((ch) => ch.slice(0, pos)) };
  } finally {
    await reader.close();
  }
}

function fileError(e: unknown, path: string): Error {
  if (e instanceof UserError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new UserError(`${path} does not exist; check the input file name.`);
  if (code === 'EACCES' || code === 'EPERM') return new UserError(`${path} cannot be read (permission denied).`);
  if (code === 'EISDIR') return new UserError(`${path} is a folder, not a WAV file.`);
  return new UserError(`${path} cannot be read (${code ?? (e as Error).message}).`);
}

async function readExactly(fh: FileHandle, position: number, length: number): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === length ? buf : buf.subarray(0, got);
}

function fourcc(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);
}

function u32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x1000000;
}

/**
 * Walks the chunk headers up to `data` (skipping LIST, bext, JUNK, … and
 * their odd-size pad bytes), hands the header chunks to wavefile to parse,
 * and works out how many frames the data chunk really holds.
 */
async function readLayout(fh: FileHandle, name: string): Promise<DataLayout> {
  const fileSize = (await fh.stat()).size;
  if (fileSize === 0) throw new UserError(`${name} is empty (0 bytes), so it is not a WAV file.`);
  const riff = await readExactly(fh, 0, 12);
  const container = riff.length >= 4 ? fourcc(riff, 0) : '';
  if (container === 'RIFX') {
    throw new UserError(`${name} is a big-endian (RIFX) WAV; ${SUPPORTED.replace('WAV.', 'little-endian WAV.')}`);
  }
  if (riff.length < 12 || (container !== 'RIFF' && container !== 'RF64') || fourcc(riff, 8) !== 'WAVE') {
    throw new UserError(`${name} is not a WAV file (it does not start with a RIFF/WAVE header).`);
  }
  const riffSize = u32(riff, 4);

  const headerChunks: Uint8Array[] = [];
  let fmtSeen = false;
  let pos = 12;
  let dataStart = -1;
  let declaredDataBytes = 0;
  while (pos + 8 <= fileSize) {
    const head = await readExactly(fh, pos, 8);
    const id = fourcc(head, 0);
    const size = u32(head, 4);
    if (id === 'data') {
      dataStart = pos + 8;
      declaredDataBytes = size;
      break;
    }
    if (id === 'fmt ' || id === 'ds64') {
      if (size > MAX_HEADER_CHUNK_BYTES || pos + 8 + size > fileSize) {
        throw new UserError(`${name} is corrupt: its '${id.trim()}' chunk is ${size} bytes long.`);
      }
      const body = await readExactly(fh, pos, 8 + size + (size & 1));
      headerChunks.push(body);
      if (id === 'fmt ') fmtSeen = true;
    }
    pos += 8 + size + (size & 1);
  }
  if (!fmtSeen) throw new UserError(`${name} is corrupt: it has no 'fmt' chunk describing its samples.`);
  if (dataStart < 0) throw new UserError(`${name} is corrupt: it has no 'data' chunk holding audio.`);

  const fmt = parseFmt(headerChunks, container, name);
  const format = sampleFormatOf(fmt, name);
  const channels = fmt.numChannels;
  if (channels < 1 || channels > MAX_WAV_CHANNELS) {
    throw new UserError(`${name} has ${channels} channels; picomp reads 1 to ${MAX_WAV_CHANNELS}.`);
  }
  if (!(fmt.sampleRate > 0)) throw new UserError(`${name} is corrupt: its sample rate is ${fmt.sampleRate} Hz.`);
  const blockAlign = channels * bytesPerSample(format);
  if (fmt.blockAlign !== blockAlign) {
    throw new UserError(`${name} is corrupt: its frame size is ${fmt.blockAlign} bytes, expected ${blockAlign} for ${channels} channels of ${format}.`);
  }

  const available = fileSize - dataStart;
  // Writers that cannot seek back (pipes) leave 0 or 0xFFFFFFFF; RF64 keeps the real size in ds64,
  // but the file size says the same for the single data chunk picomp reads.
  const streamed = declaredDataBytes === 0xffffffff
    || (declaredDataBytes === 0 && available > 0 && (riffSize === 0 || riffSize === 0xffffffff || container === 'RF64'));
  let dataBytes: number;
  let truncated = false;
  if (streamed) {
    dataBytes = available;
  } else if (declaredDataBytes > available) {
    // Read what is there: a recorder that crashed, or `sox … -t wav -` into a pipe, leaves this.
    dataBytes = available;
    truncated = true;
  } else {
    dataBytes = declaredDataBytes;
  }
  const frames = Math.floor(dataBytes / blockAlign);
  return { info: { sampleRate: fmt.sampleRate, channels, format, frames }, dataStart, blockAlign, truncated };
}

/** Lets wavefile parse a minimal file made of the header chunks and an empty data chunk. */
function parseFmt(headerChunks: Uint8Array[], container: string, name: string): FmtFields {
  const bodyBytes = headerChunks.reduce((n, c) => n + c.length, 0);
  const buf = new Uint8Array(12 + bodyBytes + 8);
  const ascii = (s: string, at: number): void => { for (let i = 0; i < 4; i++) buf[at + i] = s.charCodeAt(i); };
  ascii(container, 0);
  new DataView(buf.buffer).setUint32(4, buf.length - 8, true);
  ascii('WAVE', 8);
  let at = 12;
  for (const c of headerChunks) { buf.set(c, at); at += c.length; }
  ascii('data', at);
  const wav = new wavefile.WaveFile();
  try {
    wav.fromBuffer(buf, false);
  } catch (e) {
    throw new UserError(`${name} is not a valid WAV file (${(e as Error).message}).`);
  }
  return wav.fmt as FmtFields;
}

function sampleFormatOf(fmt: FmtFields, name: string): SampleFormat {
  let code = fmt.audioFormat;
  // WAVE_FORMAT_EXTENSIBLE: the real format code is the first 32 bits of the subformat GUID.
  if (code === WAVE_FORMAT_EXTENSIBLE) code = fmt.subformat[0] ?? 0;
  const bits = fmt.bitsPerSample;
  if (code === WAVE_FORMAT_PCM) {
    if (bits === 16) return 'int16';
    if (bits === 24) return 'int24';
    if (bits === 32) return 'int32';
    throw new UserError(`${name} uses ${bits}-bit samples; ${SUPPORTED}`);
  }
  if (code === WAVE_FORMAT_IEEE_FLOAT) {
    if (bits === 32) return 'float32';
    throw new UserError(`${name} uses ${bits}-bit float samples; ${SUPPORTED}`);
  }
  const known: Record<number, string> = { 2: 'MS ADPCM', 6: 'A-law', 7: 'µ-law', 0x11: 'IMA ADPCM', 0x55: 'MP3' };
  const what = known[code] ?? `format code ${code}`;
  throw new UserError(`${name} holds compressed audio (${what}); ${SUPPORTED}`);
}
