/**
 * Sample formats picomp reads and writes, and the conversions between
 * interleaved little-endian WAV bytes and planar Float32 blocks.
 * The codecs work on whole blocks with typed-array views: a per-sample
 * DataView call would dominate `picomp render` on long files.
 */

export type SampleFormat = 'int16' | 'int24' | 'int32' | 'float32';

export const SAMPLE_FORMATS: readonly SampleFormat[] = ['int16', 'int24', 'int32', 'float32'];

export interface WavInfo {
  sampleRate: number;
  channels: number;
  format: SampleFormat;
  /** Whole frames of audio in the data chunk (what read() will deliver). */
  frames: number;
}

/** The most channels picomp accepts in a file (the DSP itself handles 1..8 in real time). */
export const MAX_WAV_CHANNELS = 32;

export function bytesPerSample(format: SampleFormat): number {
  switch (format) {
    case 'int16': return 2;
    case 'int24': return 3;
    case 'int32': return 4;
    case 'float32': return 4;
  }
}

/** wavefile's bit-depth code for a format. */
export function wavefileBitDepth(format: SampleFormat): string {
  switch (format) {
    case 'int16': return '16';
    case 'int24': return '24';
    case 'int32': return '32';
    case 'float32': return '32f';
  }
}

export function isSampleFormat(s: string): s is SampleFormat {
  return (SAMPLE_FORMATS as readonly string[]).includes(s);
}

// Typed-array views read in platform byte order; WAV is little-endian.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const INT16_SCALE = 1 / 32768;
const INT24_SCALE = 1 / 8388608;
const INT32_SCALE = 1 / 2147483648;

/**
 * Decodes `frames` interleaved frames from `bytes` (starting at byte 0,
 * which must be 4-byte aligned in its ArrayBuffer) into planar `out`
 * starting at frame `outOffset`.
 */
export function decodeInterleaved(
  bytes: Uint8Array, format: SampleFormat, channels: number,
  out: readonly Float32Array[], outOffset: number, frames: number,
): void {
  const n = frames * channels;
  const buf = bytes.buffer;
  const base = bytes.byteOffset;
  if (format === 'int24' || !LITTLE_ENDIAN) {
    decodeWithDataView(bytes, format, channels, out, outOffset, frames);
    return;
  }
  if (format === 'int16') {
    const src = new Int16Array(buf, base, n);
    for (let c = 0; c < channels; c++) {
      const dst = out[c]!;
      for (let i = 0, s = c; i < frames; i++, s += channels) dst[outOffset + i] = src[s]! * INT16_SCALE;
    }
  } else if (format === 'int32') {
    const src = new Int32Array(buf, base, n);
    for (let c = 0; c < channels; c++) {
      const dst = out[c]!;
      for (let i = 0, s = c; i < frames; i++, s += channels) dst[outOffset + i] = src[s]! * INT32_SCALE;
    }
  } else {
    const src = new Float32Array(buf, base, n);
    if (channels === 1) {
      out[0]!.set(src, outOffset);
      return;
    }
    if (channels === 2) {
      // The common case in one pass over the bytes instead of one per channel.
      const l = out[0]!, r = out[1]!;
      for (let i = 0, s = 0; i < frames; i++, s += 2) {
        l[outOffset + i] = src[s]!;
        r[outOffset + i] = src[s + 1]!;
      }
      return;
    }
    for (let c = 0; c < channels; c++) {
      const dst = out[c]!;
      for (let i = 0, s = c; i < frames; i++, s += channels) dst[outOffset + i] = src[s]!;
    }
  }
}

function decodeWithDataView(
  bytes: Uint8Array, format: SampleFormat, channels: number,
  out: readonly Float32Array[], outOffset: number, frames: number,
): void {
  if (format === 'int24') {
    const stride = 3 * channels;
    for (let c = 0; c < channels; c++) {
      const dst = out[c]!;
      for (let i = 0, p = 3 * c; i < frames; i++, p += stride) {
        // Put the 24 bits at the top of an int32 and shift back down to sign-extend.
        const v = ((bytes[p + 2]! << 24) | (bytes[p + 1]! << 16) | (bytes[p]! << 8)) >> 8;
        dst[outOffset + i] = v * INT24_SCALE;
      }
    }
    return;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = bytesPerSample(format);
  for (let c = 0; c < channels; c++) {
    const dst = out[c]!;
    for (let i = 0, p = size * c; i < frames; i++, p += size * channels) {
      dst[outOffset + i] = format === 'int16' ? view.getInt16(p, true) * INT16_SCALE
        : format === 'int32' ? view.getInt32(p, true) * INT32_SCALE
        : view.getFloat32(p, true);
    }
  }
}

/** Float → integer code: clamp to [−1, 1], scale, round, and keep +1.0 representable. */
function toInt(x: number, scale: number, max: number): number {
  // NaN compares false everywhere; map it to silence rather than to a full-scale click.
  if (!(x === x)) return 0;
  const v = Math.round((x > 1 ? 1 : x < -1 ? -1 : x) * scale);
  return v > max ? max : v;
}

/**
 * Encodes `frames` planar frames (from frame `inOffset`) into interleaved
 * bytes at byte 0 of `bytes` (4-byte aligned).
 */
export function encodeInterleaved(
  input: readonly Float32Array[], inOffset: number, frames: number,
  format: SampleFormat, channels: number, bytes: Uint8Array,
): void {
  const n = frames * channels;
  if (format === 'int24' || !LITTLE_ENDIAN) {
    encodeWithDataView(input, inOffset, frames, format, channels, bytes);
    return;
  }
  const buf = bytes.buffer;
  const base = bytes.byteOffset;
  if (format === 'int16') {
    const dst = new Int16Array(buf, base, n);
    for (let c = 0; c < channels; c++) {
      const src = input[c]!;
      for (let i = 0, d = c; i < frames; i++, d += channels) dst[d] = toInt(src[inOffset + i]!, 32768, 32767);
    }
  } else if (format === 'int32') {
    const dst = new Int32Array(buf, base, n);
    for (let c = 0; c < channels; c++) {
      const src = input[c]!;
      for (let i = 0, d = c; i < frames; i++, d += channels) {
        dst[d] = toInt(src[inOffset + i]!, 2147483648, 2147483647);
      }
    }
  } else {
    const dst = new Float32Array(buf, base, n);
    if (channels === 1) {
      dst.set(input[0]!.subarray(inOffset, inOffset + frames));
      return;
    }
    if (channels === 2) {
      const l = input[0]!, r = input[1]!;
      for (let i = 0, d = 0; i < frames; i++, d += 2) {
        dst[d] = l[inOffset + i]!;
        dst[d + 1] = r[inOffset + i]!;
      }
      return;
    }
    for (let c = 0; c < channels; c++) {
      const src = input[c]!;
      for (let i = 0, d = c; i < frames; i++, d += channels) dst[d] = src[inOffset + i]!;
    }
  }
}

function encodeWithDataView(
  input: readonly Float32Array[], inOffset: number, frames: number,
  format: SampleFormat, channels: number, bytes: Uint8Array,
): void {
  if (format === 'int24') {
    const stride = 3 * channels;
    for (let c = 0; c < channels; c++) {
      const src = input[c]!;
      for (let i = 0, p = 3 * c; i < frames; i++, p += stride) {
        const v = toInt(src[inOffset + i]!, 8388608, 8388607);
        bytes[p] = v & 0xff;
        bytes[p + 1] = (v >> 8) & 0xff;
        bytes[p + 2] = (v >> 16) & 0xff;
      }
    }
    return;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = bytesPerSample(format);
  for (let c = 0; c < channels; c++) {
    const src = input[c]!;
    for (let i = 0, p = size * c; i < frames; i++, p += size * channels) {
      const x = src[inOffset + i]!;
      if (format === 'int16') view.setInt16(p, toInt(x, 32768, 32767), true);
      else if (format === 'int32') view.setInt32(p, toInt(x, 2147483648, 2147483647), true);
      else view.setFloat32(p, x, true);
    }
  }
}
