/**
 * Which knob drives which parameter, as written in the config file, and
 * how a detent moves a value. The config is checked up front: every
 * mistake (a physical pin number where a BCM number belongs, a parameter
 * name with a typo, a pin used twice) stops the start with one sentence.
 */
import { UserError } from '../errors.js';
import { PARAMS, isParamName, type ParamDef, type ParamName } from '../params/schema.js';
import { DEFAULT_ACCELERATION, NO_ACCELERATION, type AccelerationCurve } from './acceleration.js';
import { DEFAULT_DEBOUNCE_MS, DEFAULT_LONG_PRESS_MS } from './button.js';
import { KEY_CODES, REL_AXES } from './input-codes.js';
import { MAX_BCM_GPIO, describePin } from './pinout.js';
import type { StepMode } from './quadrature.js';

/** What a long press does: put the knob's parameter back to its default, or toggle bypass. */
export type LongPressAction = 'reset' | 'bypass';

interface KnobCommon {
  /** "knob 1" unless the config names it; used in log lines. */
  readonly name: string;
  /** One parameter, or several that a short press of the button cycles through. */
  readonly params: readonly ParamName[];
  readonly acceleration: AccelerationCurve;
  readonly longPress: LongPressAction;
  readonly debounceMs: number;
  readonly longPressMs: number;
  /** Turn the other way round: for encoders whose A and B are wired crossed. */
  readonly reverse: boolean;
}

export interface GpioKnobConfig extends KnobCommon {
  readonly backend: 'gpio';
  /** BCM GPIO numbers. */
  readonly pins: { readonly a: number; readonly b: number; readonly button: number | null };
  readonly steps: StepMode;
}

export interface InputButtonConfig {
  /** Input device name (as in /proc/bus/input/devices) or a /dev/input path. */
  readonly device: string;
  readonly code: number;
}

export interface InputKnobConfig extends KnobCommon {
  readonly backend: 'input';
  readonly device: string;
  /** EV_REL code the rotary-encoder overlay reports on (its `linux_axis`). */
  readonly axis: number;
  readonly button: InputButtonConfig | null;
}

export type KnobConfig = GpioKnobConfig | InputKnobConfig;

/** The backend of a knob whose config names none. */
export const DEFAULT_KNOB_BACKEND = 'input' satisfies KnobConfig['backend'];

/** The status LED is a kernel LED (gpio-led overlay) by name, or else a BCM pin picomp drives through onoff. */
export type LedConfig = LedBehaviour & ({ readonly device: string; readonly pin: null } | { readonly device: null; readonly pin: number });

interface LedBehaviour {
  /** Lit while gain reduction is deeper than this many dB. */
  readonly grThresholdDb: number;
  /** Keeps blinking this long after the last clipped output sample. */
  readonly clipHoldMs: number;
  /** Half a blink period: on this long, off this long. */
  readonly blinkHalfPeriodMs: number;
}

export interface KnobsConfig {
  readonly knobs: readonly KnobConfig[];
  readonly led: LedConfig | null;
}

const KNOB_KEYS = ['name', 'backend', 'param', 'cycle', 'acceleration', 'long_press', 'longPress',
  'debounce_ms', 'debounceMs', 'long_press_ms', 'longPressMs', 'reverse',
  'pins', 'steps', 'device', 'axis', 'button'] as const;
const LED_KEYS = ['pin', 'device', 'gr_threshold_db', 'grThresholdDb', 'clip_hold_ms', 'clipHoldMs', 'blink_ms', 'blinkMs'] as const;

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function shown(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'a list';
  if (isObject(v)) return 'an object';
  return String(v);
}

function checkKeys(o: Obj, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) {
      throw new UserError(`${where} has an unknown setting "${key}"; allowed are ${allowed.filter((k) => !/[A-Z]/.test(k)).join(', ')}.`);
    }
  }
}

/** Accepts snake_case (config-file style) and camelCase spellings of a key. */
function pick(o: Obj, snake: string, camel?: string): unknown {
  return o[snake] !== undefined ? o[snake] : camel !== undefined ? o[camel] : undefined;
}

function number(v: unknown, where: string, min: number, max: number, integer: boolean): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new UserError(`${where} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got ${shown(v)}.`);
  }
  return v;
}

function bcmPin(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_BCM_GPIO) {
    throw new UserError(`${where} must be a BCM GPIO number from 0 to ${MAX_BCM_GPIO}, got ${shown(v)} `
      + '(BCM numbers are not physical pin numbers: see the wiring table in hardware/README.md).');
  }
  return v;
}

function knobParam(v: unknown, where: string): ParamName {
  if (typeof v !== 'string' || !isParamName(v)) {
    throw new UserError(`${where} must be a parameter name such as "threshold", got ${shown(v)}; known parameters are ${PARAMS.map((p) => p.name).join(', ')}.`);
  }
  return v;
}

function parseAcceleration(v: unknown, where: string): AccelerationCurve {
  if (v === undefined || v === true) return DEFAULT_ACCELERATION;
  if (v === false) return NO_ACCELERATION;
  if (!Array.isArray(v)) {
    throw new UserError(`${where} must be true, false or a list such as [{below_ms: 50, multiplier: 5}], got ${shown(v)}.`);
  }
  return v.map((stage, i) => {
    const at = `${where}[${i}]`;
    if (!isObject(stage)) throw new UserError(`${at} must be an object such as {below_ms: 50, multiplier: 5}, got ${shown(stage)}.`);
    checkKeys(stage, ['below_ms', 'belowMs', 'multiplier'], at);
    return {
      belowMs: number(pick(stage, 'below_ms', 'belowMs'), `${at}.below_ms`, 1, 10_000, false),
      multiplier: number(stage.multiplier, `${at}.multiplier`, 1, 1000, false),
    };
  });
}

function keyCode(v: unknown, where: string): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0x2ff) return v;
  if (typeof v === 'string' && KEY_CODES[v] !== undefined) return KEY_CODES[v]!;
  throw new UserError(`${where} must be a key code number or one of ${Object.keys(KEY_CODES).join(', ')}, got ${shown(v)}.`);
}

function axisCode(v: unknown, where: string): number {
  if (v === undefined) return REL_AXES.REL_X!;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0x0f) return v;
  if (typeof v === 'string' && REL_AXES[v] !== undefined) return REL_AXES[v]!;
  throw new UserError(`${where} must be one of ${Object.keys(REL_AXES).join(', ')} (the overlay's linux_axis), got ${shown(v)}.`);
}

function deviceName(v: unknown, where: string): string {
  if (typeof v !== 'string' || v.trim() === '') {
    throw new UserError(`${where} must be an input device name such as "rotary@11" (see /proc/bus/input/devices) or a /dev/input path, got ${shown(v)}.`);
  }
  return v;
}

function parseKnob(raw: unknown, index: number): KnobConfig {
  const where = `knobs[${index}]`;
  if (!isObject(raw)) throw new UserError(`${where} must be an object such as {device: "rotary@11", param: threshold}, got ${shown(raw)}.`);
  checkKeys(raw, KNOB_KEYS, where);

  let params: ParamName[];
  if (raw.param !== undefined && raw.cycle !== undefined) {
    throw new UserError(`${where} has both param and cycle; give param for one parameter, or cycle for a list the button steps through.`);
  } else if (raw.cycle !== undefined) {
    if (!Array.isArray(raw.cycle) || raw.cycle.length === 0) throw new UserError(`${where}.cycle must be a list of parameter names such as [threshold, ratio], got ${shown(raw.cycle)}.`);
    params = raw.cycle.map((p, i) => knobParam(p, `${where}.cycle[${i}]`));
    const dup = params.find((p, i) => params.indexOf(p) !== i);
    if (dup) throw new UserError(`${where}.cycle names ${dup} twice.`);
  } else if (raw.param !== undefined) {
    params = [knobParam(raw.param, `${where}.param`)];
  } else {
    throw new UserError(`${where} needs param (the parameter it turns) or cycle (a list the button steps through).`);
  }

  const longPress = pick(raw, 'long_press', 'longPress') ?? 'reset';
  if (longPress !== 'reset' && longPress !== 'bypass') {
    throw new UserError(`${where}.long_press must be "reset" (back to the default value) or "bypass" (toggle bypass), got ${shown(longPress)}.`);
  }
  const reverse = raw.reverse ?? false;
  if (typeof reverse !== 'boolean') throw new UserError(`${where}.reverse must be true or false, got ${shown(reverse)}.`);
  const debounce = pick(raw, 'debounce_ms', 'debounceMs');
  const longPressMs = pick(raw, 'long_press_ms', 'longPressMs');
  const common = {
    name: raw.name === undefined ? `knob ${index + 1}` : String(raw.name),
    params,
    acceleration: parseAcceleration(raw.acceleration, `${where}.acceleration`),
    longPress: longPress as LongPressAction,
    debounceMs: debounce === undefined ? DEFAULT_DEBOUNCE_MS : number(debounce, `${where}.debounce_ms`, 0, 500, false),
    longPressMs: longPressMs === undefined ? DEFAULT_LONG_PRESS_MS : number(longPressMs, `${where}.long_press_ms`, 100, 10_000, false),
    reverse,
  };

  // The kernel decodes the knobs (rotary-encoder and gpio-keys overlays)
  // unless the config asks for picomp's own decoding through onoff, which is
  // optional: sysfs GPIO is deprecated upstream (docs/knobs.md).
  const backend = raw.backend ?? DEFAULT_KNOB_BACKEND;
  if (backend === 'gpio') {
    for (const k of ['device', 'axis'] as const) {
      if (raw[k] !== undefined) throw new UserError(`${where}.${k} belongs to the input backend; a gpio knob takes pins: {a, b, button}.`);
    }
    if (raw.button !== undefined) throw new UserError(`${where}.button belongs to the input backend; a gpio knob's button is pins.button.`);
    if (!isObject(raw.pins)) throw new UserError(`${where}.pins must be an object such as {a: 17, b: 18, button: 27} (BCM numbers), got ${shown(raw.pins)}.`);
    checkKeys(raw.pins, ['a', 'b', 'button'], `${where}.pins`);
    const steps = raw.steps ?? 'full';
    if (steps !== 'full' && steps !== 'half') {
      throw new UserError(`${where}.steps must be "full" (one click per whole pulse, most KY-040) or "half" (two clicks per pulse), got ${shown(steps)}.`);
    }
    return {
      ...common,
      backend: 'gpio',
      pins: {
        a: bcmPin(raw.pins.a, `${where}.pins.a`),
        b: bcmPin(raw.pins.b, `${where}.pins.b`),
        button: raw.pins.button === undefined ? null : bcmPin(raw.pins.button, `${where}.pins.button`),
      },
      steps,
    };
  }
  if (backend === 'input') {
    for (const k of ['pins', 'steps'] as const) {
      if (raw[k] !== undefined) throw new UserError(`${where}.${k} belongs to the gpio backend; with the input backend the kernel overlay sets the pins in config.txt.`);
    }
    let button: InputButtonConfig | null = null;
    if (raw.button !== undefined) {
      if (!isObject(raw.button)) throw new UserError(`${where}.button must be an object such as {device: "button@1b", code: KEY_ENTER}, got ${shown(raw.button)}.`);
      checkKeys(raw.button, ['device', 'code'], `${where}.button`);
      button = {
        device: deviceName(raw.button.device, `${where}.button.device`),
        code: keyCode(raw.button.code ?? 'KEY_ENTER', `${where}.button.code`),
      };
    }
    return {
      ...common,
      backend: 'input',
      device: deviceName(raw.device, `${where}.device`),
      axis: axisCode(raw.axis, `${where}.axis`),
      button,
    };
  }
  throw new UserError(`${where}.backend must be "input" (kernel rotary-encoder overlay, the default) or "gpio" (pins read with the optional onoff package), got ${shown(raw.backend)}.`);
}

function parseLed(raw: unknown): LedConfig {
  if (!isObject(raw)) throw new UserError(`led must be an object such as {device: picomp, gr_threshold_db: 6} or {pin: 22}, got ${shown(raw)}.`);
  checkKeys(raw, LED_KEYS, 'led');
  const threshold = pick(raw, 'gr_threshold_db', 'grThresholdDb');
  const hold = pick(raw, 'clip_hold_ms', 'clipHoldMs');
  const blink = pick(raw, 'blink_ms', 'blinkMs');
  if (raw.pin !== undefined && raw.device !== undefined) {
    throw new UserError('led takes device (a kernel LED from the gpio-led overlay) or pin (driven with onoff), not both.');
  }
  if (raw.device !== undefined && (typeof raw.device !== 'string' || !/^[\w:@.+-]+$/.test(raw.device))) {
    throw new UserError(`led.device must be the name of a kernel LED such as "picomp" (the label of dtoverlay=gpio-led, see /sys/class/leds), got ${shown(raw.device)}.`);
  }
  return {
    ...(raw.device !== undefined ? { device: raw.device as string, pin: null } : { device: null, pin: bcmPin(raw.pin, 'led.pin') }),
    grThresholdDb: threshold === undefined ? 6 : number(threshold, 'led.gr_threshold_db', 0, 60, false),
    clipHoldMs: hold === undefined ? 1000 : number(hold, 'led.clip_hold_ms', 0, 60_000, false),
    blinkHalfPeriodMs: blink === undefined ? 100 : number(blink, 'led.blink_ms', 10, 5000, false),
  };
}

/**
 * Checks the `knobs` section of the config file. Accepts either
 * `{knobs: [...], led: {...}}` or just the list of knobs.
 */
export function parseKnobsConfig(raw: unknown): KnobsConfig {
  if (!Array.isArray(raw) && !isObject(raw)) {
    throw new UserError(`the knobs section must be an object such as {knobs: [...], led: {pin: 22}}, got ${shown(raw)}.`);
  }
  const section: Obj = Array.isArray(raw) ? { knobs: raw } : raw;
  checkKeys(section, ['knobs', 'led'], 'the knobs section');
  const list = section.knobs ?? [];
  if (!Array.isArray(list)) throw new UserError(`knobs must be a list of knobs, got ${shown(list)}.`);
  const knobs = list.map((k, i) => parseKnob(k, i));
  const led = section.led === undefined || section.led === null ? null : parseLed(section.led);

  // Two functions on one pin would fight over it; name both places.
  const used = new Map<number, string>();
  const claim = (pin: number, what: string): void => {
    const other = used.get(pin);
    if (other) throw new UserError(`${describePin(pin)} is used twice, by ${other} and by ${what}; give each line its own pin.`);
    used.set(pin, what);
  };
  knobs.forEach((k, i) => {
    if (k.backend !== 'gpio') return;
    claim(k.pins.a, `knobs[${i}].pins.a`);
    claim(k.pins.b, `knobs[${i}].pins.b`);
    if (k.pins.button !== null) claim(k.pins.button, `knobs[${i}].pins.button`);
  });
  if (led?.pin != null) claim(led.pin, 'led.pin');
  return { knobs, led };
}

function decimals(x: number): number {
  const s = String(x);
  const e = s.indexOf('e-');
  if (e >= 0) return Number(s.slice(e + 2));
  const dot = s.indexOf('.');
  return dot < 0 ? 0 : s.length - dot - 1;
}

/**
 * Moves a value by `detents` clicks, each worth `stepsPerDetent` schema
 * steps (coarse mode and acceleration raise it). Numbers land on the step
 * grid counted from the minimum and stop at the ends of the range, as a
 * physical knob does; from a value between grid points the first click
 * lands on the next grid point in the direction turned. Enums move one
 * option per click; booleans turn on to the right and off to the left.
 */
export function stepValue(def: ParamDef, current: number | boolean | string, detents: number, stepsPerDetent: number): number | boolean | string {
  if (detents === 0) return current;
  switch (def.kind) {
    case 'bool':
      return detents > 0;
    case 'enum': {
      const i = def.options.indexOf(current as string);
      const next = Math.min(def.options.length - 1, Math.max(0, (i < 0 ? 0 : i) + Math.sign(detents) * Math.min(Math.abs(detents), def.options.length)));
      return def.options[next]!;
    }
    case 'number': {
      const cur = current as number;
      // Grid index of the value, tolerant of float noise such as 0.30000000000000004.
      const exact = (cur - def.min) / def.step;
      const eps = 1e-6;
      const base = detents > 0 ? Math.floor(exact + eps) : Math.ceil(exact - eps);
      const move = Math.sign(detents) * Math.max(1, Math.round(Math.abs(detents) * stepsPerDetent));
      const index = base + move;
      const raw = def.min + index * def.step;
      const places = Math.max(decimals(def.step), decimals(def.min));
      const snapped = Number(raw.toFixed(places));
      return Math.min(def.max, Math.max(def.min, snapped));
    }
  }
}
