/**
 * The `gpio` backend: encoder lines read through the kernel's sysfs GPIO
 * interface with the `onoff` package, decoded in Node.
 *
 * sysfs numbers are not BCM numbers on current kernels: from Linux 6.6
 * (Raspberry Pi OS Bookworm, every Pi 5) the GPIO chips are numbered
 * dynamically from 512 up, so BCM 17 is sysfs 529 on a Pi 4 and 588 on a
 * Pi 5 (whose header sits on the RP1 chip at base 571). The base is read
 * from /sys/class/gpio/gpiochip*\/{label,base,ngpio}, never guessed.
 *
 * onoff is loaded only when a gpio knob or the LED is configured, so
 * machines without GPIO (laptops, CI) never load its native addon.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { Logger } from '../log.js';
import { ButtonDebouncer, type ButtonEvent } from './button.js';
import type { GpioKnobConfig } from './mapping.js';
import { describePin } from './pinout.js';
import { QuadratureDecoder } from './quadrature.js';

export const DEFAULT_GPIO_ROOT = '/sys/class/gpio';

/** The part of onoff's `Gpio` this backend uses: the lowest layer, replaced by a stand-in in tests. */
export interface GpioLine {
  readSync(): number;
  writeSync(value: 0 | 1): void;
  watch(callback: (err: Error | null | undefined, value: number) => void): void;
  unwatchAll(): void;
  unexport(): void;
}

export type GpioFactory = (sysfsNumber: number, direction: 'in' | 'out', edge: 'none' | 'both') => GpioLine;

/**
 * The part of onoff's module this backend uses. onoff is an optional
 * dependency (its epoll addon needs a compiler, and the input backend needs
 * none of it), so its types cannot be imported: it may not be installed.
 */
interface OnoffModule {
  readonly Gpio: { new (gpio: number, direction: 'in' | 'out', edge: 'none' | 'both'): GpioLine; readonly accessible: boolean };
}

/** A variable, so the compiler does not look for the optional package. */
const ONOFF = 'onoff';

/** onoff's Gpio class as a factory, imported on first use. */
export async function loadOnoffGpio(): Promise<GpioFactory> {
  let mod: OnoffModule;
  try {
    mod = (await import(ONOFF)) as OnoffModule;
  } catch (e) {
    throw new UserError(`the gpio knob backend needs the optional onoff package, which could not be loaded (${(e as Error).message.split('\n')[0]}); use the input backend (the default: leave out backend and pins, see docs/knobs.md), or install build-essential python3 and run npm install on the Pi.`);
  }
  const { Gpio } = mod;
  if (!Gpio.accessible) {
    throw new UserError('GPIO is not accessible on this machine: the gpio knob backend needs a Raspberry Pi with /sys/class/gpio and a user in the gpio group (sudo usermod -aG gpio $USER, then log in again).');
  }
  // No debounceTimeout: it would drop the intermediate transitions the decoder needs.
  return (n, direction, edge) => new Gpio(n, direction, edge);
}

export interface GpioChip {
  readonly name: string;
  readonly label: string;
  readonly base: number;
  readonly ngpio: number;
}

/** Labels of the chip carrying the 40-pin header, preferred first: Pi 5, Pi 4, Pi 1–3 and Zero. */
export const HEADER_CHIP_LABELS = ['pinctrl-rp1', 'pinctrl-bcm2711', 'pinctrl-bcm2835'] as const;

export async function listGpioChips(root: string = DEFAULT_GPIO_ROOT): Promise<GpioChip[]> {
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch {
    throw new UserError(`${root} does not exist, so the gpio knob backend cannot work here; on a Raspberry Pi check that the kernel has sysfs GPIO, otherwise use backend: input.`);
  }
  const chips: GpioChip[] = [];
  for (const name of entries.filter((e) => /^gpiochip\d+$/.test(e)).sort()) {
    const read = async (f: string): Promise<string> => (await readFile(join(root, name, f), 'utf8')).trim();
    try {
      chips.push({ name, label: await read('label'), base: Number(await read('base')), ngpio: Number(await read('ngpio')) });
    } catch {
      // A chip whose files cannot be read is not one we could use anyway.
    }
  }
  return chips;
}

/** The GPIO chip wired to the header, with the base that turns BCM numbers into sysfs numbers. */
export async function findHeaderChip(root: string = DEFAULT_GPIO_ROOT): Promise<GpioChip> {
  const chips = await listGpioChips(root);
  for (const label of HEADER_CHIP_LABELS) {
    const chip = chips.find((c) => c.label === label);
    if (chip) return chip;
  }
  const seen = chips.length ? chips.map((c) => `${c.name} "${c.label}"`).join(', ') : 'none';
  throw new UserError(`no Raspberry Pi header GPIO chip (${HEADER_CHIP_LABELS.join(', ')}) found in ${root} (chips there: ${seen}); is this a Raspberry Pi? Otherwise use backend: input.`);
}

export function bcmToSysfs(bcm: number, chip: GpioChip): number {
  if (bcm < 0 || bcm >= chip.ngpio) {
    throw new UserError(`${describePin(bcm)} does not exist on ${chip.label}, which has ${chip.ngpio} lines.`);
  }
  return chip.base + bcm;
}

/** Receives what a knob's lines mean: whole detents and button events. */
export interface KnobSink {
  turn(detents: number, tMs: number): void;
  button(event: ButtonEvent): void;
}

export interface GpioKnobDeps {
  readonly chip: GpioChip;
  readonly gpio: GpioFactory;
  readonly sink: KnobSink;
  readonly log: Logger;
  /** Monotonic milliseconds; performance.now in production. */
  readonly now: () => number;
}

type LineOpener = Pick<GpioKnobDeps, 'chip' | 'gpio'>;

function open(deps: LineOpener, bcm: number, direction: 'in' | 'out', edge: 'none' | 'both'): GpioLine {
  const n = bcmToSysfs(bcm, deps.chip);
  try {
    return deps.gpio(n, direction, edge);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const hint = err.code === 'EACCES' || err.code === 'EPERM'
      ? ' The user needs to be in the gpio group (sudo usermod -aG gpio $USER, then log in again).'
      : err.code === 'EBUSY' ? ' Another program or a config.txt overlay already uses it.' : '';
    throw new UserError(`could not open ${describePin(bcm)} as sysfs GPIO ${n}: ${err.message}.${hint}`);
  }
}

/** One encoder (and optional push button) on three GPIO inputs. */
export class GpioKnob {
  readonly #cfg: GpioKnobConfig;
  readonly #deps: GpioKnobDeps;
  readonly #decoder: QuadratureDecoder;
  readonly #button: ButtonDebouncer;
  readonly #lines: GpioLine[] = [];
  #settleTimer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(cfg: GpioKnobConfig, deps: GpioKnobDeps) {
    this.#cfg = cfg;
    this.#deps = deps;
    this.#decoder = new QuadratureDecoder({ mode: cfg.steps, reverse: cfg.reverse });
    this.#button = new ButtonDebouncer({ debounceMs: cfg.debounceMs, longPressMs: cfg.longPressMs });
  }

  get decoder(): QuadratureDecoder {
    return this.#decoder;
  }

  start(): void {
    const { pins } = this.#cfg;
    try {
      const a = open(this.#deps, pins.a, 'in', 'both');
      this.#lines.push(a);
      const b = open(this.#deps, pins.b, 'in', 'both');
      this.#lines.push(b);
      // Both lines are read on every edge of either: the edge's own value
      // may be stale by the time the callback runs, the pair read now is not.
      const onEdge = (err: Error | null | undefined): void => {
        if (this.#stopped) return;
        if (err) { this.#deps.log.warn(`${this.#cfg.name}: reading the encoder failed: ${err.message}`); return; }
        const step = this.#decoder.update(a.readSync(), b.readSync(), this.#deps.now());
        if (step) this.#deps.sink.turn(step.detents, step.tMs);
      };
      this.#decoder.update(a.readSync(), b.readSync(), this.#deps.now());
      a.watch(onEdge);
      b.watch(onEdge);
      if (pins.button !== null) {
        const sw = open(this.#deps, pins.button, 'in', 'both');
        this.#lines.push(sw);
        sw.watch((err) => {
          if (this.#stopped) return;
          if (err) { this.#deps.log.warn(`${this.#cfg.name}: reading the button failed: ${err.message}`); return; }
          this.#readButton(sw);
        });
      }
    } catch (e) {
      this.stop();
      throw e;
    }
  }

  #readButton(sw: GpioLine): void {
    // The switch closes to ground against a pull-up: 0 means pressed.
    const event = this.#button.update(sw.readSync() === 0, this.#deps.now());
    if (event) this.#deps.sink.button(event);
    if (this.#button.needsSettle && !this.#settleTimer) {
      // A level change inside the debounce lock-out; look again once it is over.
      this.#settleTimer = setTimeout(() => {
        this.#settleTimer = null;
        if (!this.#stopped) this.#readButton(sw);
      }, this.#button.debounceMs + 1);
    }
  }

  stop(): void {
    this.#stopped = true;
    if (this.#settleTimer) clearTimeout(this.#settleTimer);
    this.#settleTimer = null;
    for (const line of this.#lines.splice(0)) {
      try {
        line.unwatchAll();
        line.unexport();
      } catch (e) {
        this.#deps.log.warn(`${this.#cfg.name}: releasing a GPIO line failed: ${(e as Error).message}`);
      }
    }
  }
}

/** A GPIO output (the status LED), off at start. */
export function openGpioOutput(bcm: number, deps: LineOpener): GpioLine {
  const line = open(deps, bcm, 'out', 'none');
  line.writeSync(0);
  return line;
}
