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
  return `${def.name} must be ${describeRange(def)}, got ${got}.`;
}

function show(raw: unknown): string {
  if (typeof raw === 'string') {
    if (raw === '') return 'an empty value';
    return /^[+-]?[\d.]+(e[+-]?\d+)?$/i.test(raw.trim()) ? raw.trim() : JSON.stringify(raw.length > 40 ? raw.slice(0, 40) + '…' : raw);
  }
  if (raw === null) return 'null';
  if (Array.isArray(raw)) return 'a list';
  if (typeof raw === 'object') return 'an object';
  return String(raw);
}

/**
 * Checks one value that arrived as JSON (number, boolean, string).
 * Numbers given as strings are accepted too ("-20"), as are "true"/"false",
 * because plain MQTT payloads and CLI flags are text.
 */
export function validateValue<N extends ParamName>(name: N, raw: unknown): Result<ParamValues[N]> {
  const def = paramDef(name);
  switch (def.kind) {
    case 'number': {
      let n: number;
      if (typeof raw === 'number') n = raw;
      else if (typeof raw === 'string' && raw.trim() !== '' && /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(raw.trim())) n = Number(raw);
      else return fail(rangeError(def, show(raw)));
      if (!Number.isFinite(n) || n < def.min || n > def.max) return fail(rangeError(def, show(raw)));
      return { ok: true, value: n as ParamValues[N] };
    }
    case 'bool': {
      if (typeof raw === 'boolean') return { ok: true, value: raw as ParamValues[N] };
      if (raw === 'true' || raw === 'false') return { ok: true, value: (raw === 'true') as ParamValues[N] };
      return fail(rangeError(def, show(raw)));
    }
    case 'enum': {
      if (typeof raw === 'string' && def.options.includes(raw)) return { ok: true, value: raw as ParamValues[N] };
      return fail(rangeError(def, show(raw)));
    }
  }
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

/** Validates a complete set (e.g. a state file): missing entries are filled from `base`. */
export function validateFull(input: unknown, base: ParamValues): Result<ParamValues> {
  const r = validatePartial(input);
  if (!r.ok) return r;
  return { ok: true, value: { ...base, ...r.value } };
}
