/**
 * The only fakes of the knob tests, at the lowest GPIO layer (no GPIO
 * exists on a build machine): a /sys/class/gpio tree in a temp folder, and
 * a stand-in for onoff's Gpio class that keeps line levels in memory.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GpioFactory, GpioLine } from '../../src/knobs/sysfs-gpio.js';

export interface FakeChip {
  readonly base: number;
  readonly label: string;
  readonly ngpio: number;
}

/** A folder laid out like /sys/class/gpio with these chips. */
export async function fakeSysfsGpio(chips: readonly FakeChip[]): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'picomp-gpio-'));
  for (const c of chips) {
    const dir = join(root, `gpiochip${c.base}`);
    await mkdir(dir);
    await writeFile(join(dir, 'label'), `${c.label}\n`);
    await writeFile(join(dir, 'base'), `${c.base}\n`);
    await writeFile(join(dir, 'ngpio'), `${c.ngpio}\n`);
  }
  await writeFile(join(root, 'export'), '');
  await writeFile(join(root, 'unexport'), '');
  return root;
}

/** Pi 3 on a kernel before 6.6: header chip at base 0, firmware expander above it. */
export const OLD_KERNEL_PI3: readonly FakeChip[] = [
  { base: 0, label: 'pinctrl-bcm2835', ngpio: 54 },
  { base: 504, label: 'raspberrypi-exp-gpio', ngpio: 8 },
];

/** Pi 4 on kernel 6.6+: chips numbered from 512. */
export const NEW_KERNEL_PI4: readonly FakeChip[] = [
  { base: 512, label: 'pinctrl-bcm2711', ngpio: 58 },
  { base: 570, label: 'raspberrypi-exp-gpio', ngpio: 8 },
];

/** Pi 5: the header is on RP1 at 571; the SoC's own chips come first. */
export const PI5: readonly FakeChip[] = [
  { base: 512, label: 'gpio-brcmstb@107d508500', ngpio: 32 },
  { base: 544, label: 'gpio-brcmstb@107d508520', ngpio: 4 },
  { base: 548, label: 'gpio-brcmstb@107d517c00', ngpio: 17 },
  { base: 565, label: 'gpio-brcmstb@107d517c20', ngpio: 6 },
  { base: 571, label: 'pinctrl-rp1', ngpio: 54 },
];

interface Opened {
  readonly direction: 'in' | 'out';
  readonly edge: 'none' | 'both';
  unexported: boolean;
}

/**
 * Line levels by sysfs number, and the lines the backend opened. Setting a
 * level fires the watchers of that line, as the kernel's edge interrupt
 * does through onoff's epoll.
 */
export class FakeGpioBoard {
  readonly levels = new Map<number, 0 | 1>();
  readonly opened = new Map<number, Opened>();
  /** Every value written to an output, in order, by sysfs number. */
  readonly writes = new Map<number, (0 | 1)[]>();
  readonly #watchers = new Map<number, ((err: Error | null | undefined, value: number) => void)[]>();
  /** sysfs numbers whose opening fails with this errno code. */
  readonly failing = new Map<number, string>();

  readonly factory: GpioFactory = (n, direction, edge) => {
    const code = this.failing.get(n);
    if (code) throw Object.assign(new Error(`${code}: cannot export gpio ${n}`), { code });
    if (this.opened.has(n) && !this.opened.get(n)!.unexported) throw Object.assign(new Error(`EBUSY: gpio ${n} already exported`), { code: 'EBUSY' });
    const record: Opened = { direction, edge, unexported: false };
    this.opened.set(n, record);
    if (!this.levels.has(n)) this.levels.set(n, 1);
    const line: GpioLine = {
      readSync: () => this.levels.get(n)!,
      writeSync: (v) => {
        this.levels.set(n, v);
        const list = this.writes.get(n) ?? [];
        list.push(v);
        this.writes.set(n, list);
      },
      watch: (cb) => {
        const list = this.#watchers.get(n) ?? [];
        list.push(cb);
        this.#watchers.set(n, list);
      },
      unwatchAll: () => { this.#watchers.delete(n); },
      unexport: () => { record.unexported = true; },
    };
    return line;
  };

  /** Sets a line as the outside world would, firing its edge watchers. */
  set(n: number, level: 0 | 1): void {
    if (this.levels.get(n) === level) return;
    this.levels.set(n, level);
    for (const cb of this.#watchers.get(n) ?? []) cb(null, level);
  }

  watcherCount(n: number): number {
    return this.#watchers.get(n)?.length ?? 0;
  }

  /**
   * Turns an encoder on lines a and b by whole detents (full-step Gray
   * code, clockwise for positive), one line change at a time.
   */
  turn(a: number, b: number, detents: number): void {
    const cw: readonly (readonly [0 | 1, 0 | 1])[] = [[1, 1], [0, 1], [0, 0], [1, 0]];
    let i = cw.findIndex(([x, y]) => x === this.levels.get(a) && y === this.levels.get(b));
    for (let n = 0; n < Math.abs(detents) * 4; n++) {
      i = (i + Math.sign(detents) + 4) % 4;
      const [x, y] = cw[i]!;
      if (this.levels.get(a) !== x) this.set(a, x);
      if (this.levels.get(b) !== y) this.set(b, y);
    }
  }
}
