/**
 * Turns knob movements into parameter changes, and starts the knobs
 * described in the config file.
 *
 * Every change goes through UnitState.apply(…, 'knob'): the same
 * validation and persistence as an MQTT set, and the retained MQTT `state`
 * follows by itself because it listens to UnitState's 'change'.
 */
import { performance } from 'node:perf_hooks';
import type { UnitState } from '../unit/unit-state.js';
import type { Logger } from '../log.js';
import { paramDef, type ParamName } from '../params/schema.js';
import { Accelerator } from './acceleration.js';
import type { ButtonEvent } from './button.js';
import { InputDeviceReader, findInputDevice, inputEventSize, type InputEventSize } from './input-events.js';
import { InputKnob } from './input-knob.js';
import { parseKnobsConfig, stepValue, type KnobConfig, type KnobsConfig } from './mapping.js';
import { StatusLed, type LedFrame } from './status-led.js';
import { isLocked } from '../unit/lock.js';
import { openKernelLed } from './kernel-led.js';
import {
  DEFAULT_GPIO_ROOT, GpioKnob, findHeaderChip, loadOnoffGpio, openGpioOutput,
  type GpioChip, type GpioFactory, type GpioLine, type KnobSink,
} from './sysfs-gpio.js';

/** Holding the button while turning moves this many schema steps per detent. */
export const COARSE_FACTOR = 10;

/** The behaviour of one knob, whatever backend feeds it. */
export class KnobController implements KnobSink {
  readonly #cfg: KnobConfig;
  readonly #state: UnitState;
  readonly #log: Logger;
  readonly #accel: Accelerator;
  #index = 0;
  #held = false;
  #turnedWhileHeld = false;

  constructor(cfg: KnobConfig, state: UnitState, log: Logger) {
    this.#cfg = cfg;
    this.#state = state;
    this.#log = log;
    this.#accel = new Accelerator(cfg.acceleration);
  }

  /** The parameter the knob turns now. */
  get param(): ParamName {
    return this.#cfg.params[this.#index]!;
  }

  turn(detents: number, tMs: number): void {
    if (detents === 0) return;
    const multiplier = this.#accel.multiplier(detents, tMs);
    if (this.#held) this.#turnedWhileHeld = true;
    const name = this.param;
    const current = this.#state.params[name];
    const next = stepValue(paramDef(name), current, detents, multiplier * (this.#held ? COARSE_FACTOR : 1));
    // At the end of the range the knob simply stops, like a physical pot.
    if (next === current) return;
    this.#set(name, next);
  }

  button(event: ButtonEvent): void {
    if (event.type === 'press') {
      this.#held = true;
      this.#turnedWhileHeld = false;
      return;
    }
    this.#held = false;
    // Holding the button to turn in coarse steps is not a click.
    if (this.#turnedWhileHeld) return;
    if (event.press === 'short') {
      if (this.#cfg.params.length < 2) return;
      this.#index = (this.#index + 1) % this.#cfg.params.length;
      this.#accel.reset();
      this.#log.info(`${this.#cfg.name} now turns ${paramDef(this.param).label} (${this.param}).`);
      return;
    }
    if (this.#cfg.longPress === 'bypass') {
      this.#set('bypass', !this.#state.params.bypass);
    } else {
      this.#set(this.param, paramDef(this.param).default);
    }
  }

  #set(name: ParamName, value: unknown): void {
    const r = this.#state.apply({ [name]: value }, 'knob');
    if (!r.ok) this.#log.warn(`${this.#cfg.name}: ${r.error}`);
  }
}

/** Where the backends find the hardware; replaced in tests by temp dirs and a Gpio stand-in. */
export interface KnobEnvironment {
  /** onoff's Gpio as a factory; loaded lazily when not given. */
  readonly gpio?: GpioFactory;
  readonly gpioRoot?: string;
  readonly inputSysRoot?: string;
  readonly inputDevRoot?: string;
  readonly inputEventSize?: InputEventSize;
  /** Monotonic milliseconds for the gpio backend. */
  readonly now?: () => number;
  /** Clock of the status LED when meter frames carry no `t`. */
  readonly ledNow?: () => number;
  /** Where kernel LEDs are (/sys/class/leds). */
  readonly ledRoot?: string;
}

export interface RunningKnobs {
  readonly controllers: readonly KnobController[];
  stop(): Promise<void>;
  /** Feed each meter frame here (the unit's meter pump does); drives the status LED. */
  updateMeters(frame: LedFrame): void;
}

/**
 * Starts every configured knob and the status LED. `config` is the knobs
 * section of the config file as read (checked here, see parseKnobsConfig).
 */
export async function startKnobs(config: unknown, state: UnitState, log: Logger, env: KnobEnvironment = {}): Promise<RunningKnobs> {
  return openKnobs(parseKnobsConfig(config), state, log, env);
}

/**
 * Starts the knobs and LED of a checked config. Throws a UserError, with
 * everything already opened released, when a pin or device cannot be used.
 */
export async function openKnobs(cfg: KnobsConfig, state: UnitState, log: Logger, env: KnobEnvironment = {}): Promise<RunningKnobs> {
  const now = env.now ?? (() => performance.now());
  const stops: (() => void)[] = [];
  const controllers: KnobController[] = [];
  let led: StatusLed | null = null;

  let gpioPromise: Promise<{ chip: GpioChip; gpio: GpioFactory }> | null = null;
  const gpio = (): Promise<{ chip: GpioChip; gpio: GpioFactory }> => {
    gpioPromise ??= (async () => {
      const chip = await findHeaderChip(env.gpioRoot ?? DEFAULT_GPIO_ROOT);
      log.debug(`GPIO header chip ${chip.label} at sysfs base ${chip.base}.`);
      return { chip, gpio: env.gpio ?? await loadOnoffGpio() };
    })();
    return gpioPromise;
  };
  const readers = new Map<string, InputDeviceReader>();
  const reader = async (device: string): Promise<InputDeviceReader> => {
    const path = await findInputDevice(device, { sysRoot: env.inputSysRoot, devRoot: env.inputDevRoot });
    let r = readers.get(path);
    if (!r) {
      r = new InputDeviceReader(path, env.inputEventSize ?? inputEventSize(), log);
      readers.set(path, r);
    }
    return r;
  };

  try {
    for (const knob of cfg.knobs) {
      const controller = new KnobController(knob, state, log);
      if (knob.backend === 'gpio') {
        const hw = await gpio();
        const g = new GpioKnob(knob, { ...hw, sink: controller, log, now });
        g.start();
        stops.push(() => g.stop());
      } else {
        const encoder = await reader(knob.device);
        const button = knob.button ? await reader(knob.button.device) : null;
        const k = new InputKnob(knob, controller);
        k.attach(encoder, button);
        stops.push(() => k.detach());
      }
      controllers.push(controller);
      log.info(`${knob.name} turns ${knob.params.join(', then ')} (${knob.backend} backend).`);
    }
    if (cfg.led) {
      const where = cfg.led;
      let write: (on: boolean) => void;
      let release: () => void;
      if (where.device !== null) {
        const kernelLed = openKernelLed(where.device, env.ledRoot);
        write = (on) => kernelLed.set(on);
        release = () => kernelLed.close();
      } else {
        const line: GpioLine = openGpioOutput(where.pin, await gpio());
        write = (on) => line.writeSync(on ? 1 : 0);
        release = () => line.unexport();
      }
      led = new StatusLed(cfg.led, write, env.ledNow);
      const l = led;
      const showLock = (): void => l.setLocked(isLocked(state.snapshot.locked));
      showLock();
      state.on('change', showLock);
      stops.push(() => {
        state.off('change', showLock);
        l.off();
        release();
      });
    }
    for (const r of readers.values()) {
      r.start();
      stops.push(() => r.stop());
    }
  } catch (e) {
    for (const stop of stops.reverse()) stop();
    throw e;
  }

  let stopped = false;
  return {
    controllers,
    updateMeters(frame: LedFrame): void {
      if (!stopped) led?.update(frame);
    },
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      for (const stop of stops.reverse()) {
        try {
          stop();
        } catch (e) {
          log.warn(`stopping the knobs: ${(e as Error).message}`);
        }
      }
    },
  };
}
