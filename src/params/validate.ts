/**
 * Validation of parameter values from any source (CLI, MQTT, files, knobs).
 * Values are rejected, never clamped; errors name the parameter and its
 * allowed range in a sentence a student can act on.
 */
import {
  PARAMS, describeRange, isParamName, paramDef,
  type ParamDef, type ParamName, type ParamValues,
} from './schema.js';

export type Result<T> = { ok: true; value: T } | { ok: false; error: string };

function fail<T>(error: string): Result<T> {
  return { ok: false, error };
}

function rangeError(def: ParamDef, got: string): string {
  return `${def.name} must be ${def.kind === 'enum' ? 'one of ' : ''}${describeRange(def)}, got ${got}.`;
}

function show(raw: unknown): string {
  if (typeof raw === 'string') {
    if (raw === '') return 'an empty value';
    return JSON.stringify(raw.length > 40 ? raw.slice(0, 40) + '…' : raw);
  }
  if (raw === null) return 'null';
  if (Array.isArray(raw)) return 'a list';
  if (typeof raw === 'object') return 'an object';
  return String(raw);
}

const NUMBER_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * Checks one typed value, as JSON, YAML, a preset file or a knob gives it:
 * a number for a number, true/false for a switch, an option's name for a
 * choice. A number or switch sent as text ("-20", "true") is refused, as
 * SPEC §1 asks of wrong types; text is read only at the edges where
 * everything is text (command-line flags, plain MQTT values): see
 * validateText.
 */
export function validateValue<N extends ParamName>(name: N, raw: unknown): Result<ParamValues[N]> {
  const def = paramDef(name);
  const quoted = (): string => `${rangeError(def, `the text ${show(raw)}`).slice(0, -1)}; send it without quotes.`;
  switch (def.kind) {
    case 'number': {
      if (typeof raw === 'string' && NUMBER_TEXT.test(raw.trim())) return fail(quoted());
      if (typeof raw !== 'number' || !Number.isFinite(raw) || raw < def.min || raw > def.max) return fail(rangeError(def, show(raw)));
      return { ok: true, value: raw as ParamValues[N] };
    }
    case 'bool': {
      if (typeof raw === 'boolean') return { ok: true, value: raw as ParamValues[N] };
      if (raw === 'true' || raw === 'false') return fail(quoted());
      return fail(rangeError(def, show(raw)));
    }
    case 'enum': {
      if (typeof raw === 'string' && def.options.includes(raw)) return { ok: true, value: raw as ParamValues[N] };
      return fail(rangeError(def, show(raw)));
    }
  }
}

/** The word that flips a switch on `set/<param>` (a footswitch's A/B). */
export const TOGGLE_WORD = 'TOGGLE';

/**
 * A switch as people type it on a plain MQTT value (SPEC §4): `true`/`false`,
 * `ON`/`OFF` (Tasmota, Zigbee2MQTT, Home Assistant), `1`/`0`, in any case,
 * or `TOGGLE`. Null for anything else. Command-line flags keep
 * `true|false` (SPEC §3) and typed JSON keeps true/false (SPEC §1).
 */
export function switchFromText(text: string): boolean | 'toggle' | null {
  switch (text.trim().toLowerCase()) {
    case 'true': case 'on': case '1': return true;
    case 'false': case 'off': case '0': return false;
    case 'toggle': return 'toggle';
    default: return null;
  }
}

/** How the switch words read in a message: "true or false (also ON, OFF, 1, 0 or TOGGLE)". */
export const SWITCH_WORDS = `true or false (also ON, OFF, 1, 0 or ${TOGGLE_WORD})`;

/**
 * The typed value a text stands for, where everything arrives as text
 * (command-line flags, plain MQTT values): "-20" is a number for a number
 * parameter, "true" a switch for a switch. Anything else stays text, for
 * validation to judge.
 */
export function typedFromText(name: ParamName, text: string): unknown {
  const def = paramDef(name);
  const t = text.trim();
  if (def.kind === 'number' && NUMBER_TEXT.test(t)) return Number(t);
  if (def.kind === 'bool' && (t === 'true' || t === 'false')) return t === 'true';
  return t;
}

/** Reads and checks one value given as text (a command-line flag): "-20", "true", "rms". */
export function validateText<N extends ParamName>(name: N, text: string): Result<ParamValues[N]> {
  return validateValue(name, typedFromText(name, text));
}

export function unknownParamError(name: string): string {
  const shown = name.length > 40 ? name.slice(0, 40) + '…' : name;
  return `"${shown}" is not a parameter; known parameters are ${PARAMS.map((p) => p.name).join(', ')}.`;
}

/**
 * Validates a partial set of parameters all-or-nothing: either every entry
 * is valid and the checked values come back, or the first problem does.
 */
export function validatePartial(input: unknown): Result<Partial<ParamValues>> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return fail(`expected an object of parameters such as {"threshold": -20}, got ${show(input)}.`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(input as Record<string, unknown>)) {
    if (!isParamName(key)) return fail(unknownParamError(key));
    const r = validateValue(key, raw);
    if (!r.ok) return r;
    out[key] = r.value;
  }
  return { ok: true, value: out as Partial<ParamValues> };
}
