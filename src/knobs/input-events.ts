/**
 * The `input` backend: the kernel decodes the knob (device-tree overlays
 * `rotary-encoder` and `gpio-key`) and we read its events from
 * /dev/input/eventN, plain binary records, no native addon.
 *
 * `struct input_event` is a timeval followed by type (u16), code (u16) and
 * value (s32). The timeval is two C longs, so a record is 24 bytes for a
 * 64-bit process and 16 bytes for a 32-bit one (armhf Raspberry Pi OS):
 * the kernel writes the layout of the reading process, whatever its time_t.
 */
import { EventEmitter } from 'node:events';
import { createReadStream, type ReadStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { Logger } from '../log.js';

export const DEFAULT_INPUT_SYS_ROOT = '/sys/class/input';
export const DEFAULT_INPUT_DEV_ROOT = '/dev/input';

export type InputEventSize = 16 | 24;

export interface InputEvent {
  /** Kernel timestamp in milliseconds (CLOCK_REALTIME unless the device was switched). */
  readonly tMs: number;
  readonly type: number;
  readonly code: number;
  readonly value: number;
}

/** Record size for a Node process of this architecture. */
export function inputEventSize(arch: string = process.arch): InputEventSize {
  return arch === 'arm' || arch === 'ia32' || arch === 'mips' || arch === 'mipsel' || arch === 'ppc' ? 16 : 24;
}

export function encodeInputEvent(ev: InputEvent, size: InputEventSize): Buffer {
  const buf = Buffer.alloc(size);
  const sec = Math.floor(ev.tMs / 1000);
  const usec = Math.round((ev.tMs - sec * 1000) * 1000);
  const at = size - 8;
  if (size === 24) {
    buf.writeBigInt64LE(BigInt(sec), 0);
    buf.writeBigInt64LE(BigInt(usec), 8);
  } else {
    buf.writeUInt32LE(sec >>> 0, 0);
    buf.writeUInt32LE(usec, 4);
  }
  buf.writeUInt16LE(ev.type, at);
  buf.writeUInt16LE(ev.code, at + 2);
  buf.writeInt32LE(ev.value, at + 4);
  return buf;
}

export function decodeInputEvent(buf: Buffer, offset: number, size: InputEventSize): InputEvent {
  const sec = size === 24 ? Number(buf.readBigInt64LE(offset)) : buf.readUInt32LE(offset);
  const usec = size === 24 ? Number(buf.readBigInt64LE(offset + 8)) : buf.readUInt32LE(offset + 4);
  const at = offset + size - 8;
  return {
    tMs: sec * 1000 + usec / 1000,
    type: buf.readUInt16LE(at),
    code: buf.readUInt16LE(at + 2),
    value: buf.readInt32LE(at + 4),
  };
}

export interface InputPaths {
  /** Where the kernel lists input devices (`/sys/class/input`). */
  readonly sysRoot?: string;
  /** Where their device nodes are (`/dev/input`). */
  readonly devRoot?: string;
}

/**
 * The /dev/input/eventN node of the device with this name, as listed in
 * /proc/bus/input/devices (e.g. "rotary@11" for an encoder whose A line
 * is GPIO 17 = 0x11). A path starting with / is taken as it is.
 */
export async function findInputDevice(nameOrPath: string, paths: InputPaths = {}): Promise<string> {
  if (nameOrPath.startsWith('/')) return nameOrPath;
  const sysRoot = paths.sysRoot ?? DEFAULT_INPUT_SYS_ROOT;
  const devRoot = paths.devRoot ?? DEFAULT_INPUT_DEV_ROOT;
  let entries: string[] = [];
  try {
    entries = (await readdir(sysRoot)).filter((e) => /^event\d+$/.test(e));
  } catch {
    // Reported below together with the names found (none).
  }
  entries.sort((x, y) => Number(x.slice(5)) - Number(y.slice(5)));
  const names: string[] = [];
  for (const entry of entries) {
    let name: string;
    try {
      name = (await readFile(join(sysRoot, entry, 'device', 'name'), 'utf8')).trim();
    } catch {
      continue;
    }
    if (name === nameOrPath) return join(devRoot, entry);
    names.push(name);
  }
  const seen = names.length ? names.map((n) => JSON.stringify(n)).join(', ') : 'none';
  throw new UserError(`no input device named "${nameOrPath}" (devices found: ${seen}); check the dtoverlay lines in /boot/firmware/config.txt, reboot, and copy the name from /proc/bus/input/devices.`);
}

/**
 * Streams the records of one event device. Uses an ordinary read stream,
 * which also works on a FIFO; each open device keeps one libuv thread
 * waiting in read(), hence UV_THREADPOOL_SIZE in the systemd unit.
 */
export class InputDeviceReader extends EventEmitter<{ event: [InputEvent] }> {
  readonly path: string;
  readonly size: InputEventSize;
  readonly #log: Logger;
  #stream: ReadStream | null = null;
  #pending: Buffer = Buffer.alloc(0);

  constructor(path: string, size: InputEventSize, log: Logger) {
    super();
    this.path = path;
    this.size = size;
    this.#log = log;
  }

  start(): void {
    const stream = createReadStream(this.path, { highWaterMark: this.size * 64 });
    this.#stream = stream;
    stream.on('data', (chunk) => this.#onData(chunk as Buffer));
    stream.on('error', (e: NodeJS.ErrnoException) => {
      const hint = e.code === 'EACCES'
        ? ' The user needs to be in the input group (sudo usermod -aG input $USER, then log in again).'
        : '';
      this.#log.error(`reading knob events from ${this.path} failed: ${e.message}.${hint}`);
    });
  }

  #onData(chunk: Buffer): void {
    const buf = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    const whole = buf.length - (buf.length % this.size);
    for (let off = 0; off < whole; off += this.size) {
      this.emit('event', decodeInputEvent(buf, off, this.size));
    }
    // A read may end inside a record (a FIFO writer is free to split them).
    this.#pending = Buffer.from(buf.subarray(whole));
  }

  /**
   * Stops delivering events. Does not wait for the stream to close: a read
   * blocked on a quiet device only returns with the next event.
   */
  stop(): void {
    this.removeAllListeners('event');
    this.#stream?.destroy();
    this.#stream = null;
  }
}
