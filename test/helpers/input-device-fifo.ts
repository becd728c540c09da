/**
 * A stand-in for an evdev device that is real all the way down to the
 * kernel's byte stream: a FIFO fed with `struct input_event` records, and
 * a /sys/class/input tree naming it. Reusable by any end-to-end test that
 * turns a knob (e.g. through to the MQTT `state` of a running engine).
 */
import { execFileSync } from 'node:child_process';
import { open, mkdir, mkdtemp, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EV_KEY, EV_REL, EV_SYN } from '../../src/knobs/input-codes.js';
import { encodeInputEvent, type InputEvent, type InputEventSize } from '../../src/knobs/input-events.js';

export interface FakeInputTree {
  /** Use as KnobEnvironment.inputSysRoot. */
  readonly sysRoot: string;
  /** Use as KnobEnvironment.inputDevRoot. */
  readonly devRoot: string;
  readonly size: InputEventSize;
  /** Adds /sys/class/input/eventN/device/name and a FIFO at devRoot/eventN. */
  addDevice(name: string): Promise<FakeInputDevice>;
  remove(): Promise<void>;
}

export interface FakeInputDevice {
  readonly path: string;
  /** Opens the writing end; resolves once the reader has opened its end too. */
  connect(): Promise<void>;
  /** Writes records as one write(), as the kernel hands them out per read. */
  write(events: readonly InputEvent[]): Promise<void>;
  /** Writes bytes as they are, e.g. half a record. */
  writeRaw(bytes: Uint8Array): Promise<void>;
  /** One detent report of the rotary-encoder driver: EV_REL then EV_SYN. */
  turn(steps: number, tMs: number, axis?: number): Promise<void>;
  /** A gpio-keys report: EV_KEY press (1) or release (0), then EV_SYN. */
  key(code: number, pressed: boolean, tMs: number): Promise<void>;
  close(): Promise<void>;
}

export async function fakeInputTree(size: InputEventSize): Promise<FakeInputTree> {
  const root = await mkdtemp(join(tmpdir(), 'picomp-input-'));
  const sysRoot = join(root, 'sys', 'class', 'input');
  const devRoot = join(root, 'dev', 'input');
  await mkdir(sysRoot, { recursive: true });
  await mkdir(devRoot, { recursive: true });
  const devices: FakeInputDevice[] = [];
  let next = 0;
  // Some other device first, so lookup by name is really exercised.
  await mkdir(join(sysRoot, 'event0', 'device'), { recursive: true });
  await writeFile(join(sysRoot, 'event0', 'device', 'name'), 'vc4-hdmi-0\n');
  next = 1;

  return {
    sysRoot, devRoot, size,
    async addDevice(name: string): Promise<FakeInputDevice> {
      const entry = `event${next++}`;
      await mkdir(join(sysRoot, entry, 'device'), { recursive: true });
      await writeFile(join(sysRoot, entry, 'device', 'name'), `${name}\n`);
      const path = join(devRoot, entry);
      execFileSync('mkfifo', [path]);
      let fh: FileHandle | null = null;
      const device: FakeInputDevice = {
        path,
        async connect() {
          // Opening a FIFO for writing waits for the reader, like a device waits for events.
          fh ??= await open(path, 'w');
        },
        async write(events) {
          await device.writeRaw(Buffer.concat(events.map((e) => encodeInputEvent(e, size))));
        },
        async writeRaw(bytes) {
          await device.connect();
          await fh!.write(bytes);
        },
        async turn(steps, tMs, axis = 0) {
          await device.write([{ tMs, type: EV_REL, code: axis, value: steps }, { tMs, type: EV_SYN, code: 0, value: 0 }]);
        },
        async key(code, pressed, tMs) {
          await device.write([{ tMs, type: EV_KEY, code, value: pressed ? 1 : 0 }, { tMs, type: EV_SYN, code: 0, value: 0 }]);
        },
        async close() {
          await fh?.close();
          fh = null;
        },
      };
      devices.push(device);
      return device;
    },
    async remove() {
      for (const d of devices) await d.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Resolves when `predicate` holds, checking after every event loop turn; rejects after `timeoutMs`. */
export async function until(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
