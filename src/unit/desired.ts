/**
 * The class setting of SPEC §5: one `desired` document per level (class,
 * group, unit), retained on the hub, which every unit converges to.
 *
 * Pure domain logic on top of src/params only (no I/O, no MQTT), like
 * the parameter schema itself, so the unit core, the unit's MQTT client,
 * the teacher's CLI and console all read documents the same way.
 */
import { PARAM_NAMES, defaultParams, isParamName, type ParamName, type ParamValues } from '../params/schema.js';
import { PRESET_NAME_PATTERN } from '../params/presets.js';
import { unknownParamError, validatePartial, type Result } from '../params/validate.js';

/** false, true (every parameter) or the locked parameters. */
export type LockSpec = boolean | readonly ParamName[];

export interface DesiredSetting {
  /** The teacher's revision number, echoed in `ack` and `state.class_rev`. */
  readonly rev: number;
  readonly preset?: string;
  /** The preset's parameters, so units that lack the preset apply it too. */
  readonly presetDef?: Partial<ParamValues>;
  readonly params?: Partial<ParamValues>;
  readonly lock?: LockSpec;
}

/** A document with every parameter, a preset definition and a long lock list is under 2 KiB. */
export const MAX_DESIRED_BYTES = 8192;

const KEYS = ['rev', 'preset', 'preset_def', 'params', 'lock'] as const;
const EXAMPLE = '{"rev": 3, "preset": "bass", "params": {"ratio": 6}, "lock": ["threshold"]}';

const fail = <T>(error: string): Result<T> => ({ ok: false, error });

/**
 * Reads a `desired` payload as it arrives from the broker. An empty payload
 * is the retained document being cleared (`ok` with null): at unit level
 * that is "reset to the class setting".
 */
export function parseDesiredPayload(payload: Uint8Array | string, maxBytes = MAX_DESIRED_BYTES): Result<DesiredSetting | null> {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (size > maxBytes) return fail(`the desired setting is ${size} bytes; it may be at most ${maxBytes} bytes.`);
  const text = (typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8')).trim();
  if (text === '') return { ok: true, value: null };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return fail(`the desired setting is not valid JSON; send an object such as ${EXAMPLE}.`);
  }
  return checkDesired(doc);
}

/** Checks a whole desired document: all or nothing, the first problem as one sentence. */
export function checkDesired(doc: unknown): Result<DesiredSetting> {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return fail(`the desired setting must be a JSON object such as ${EXAMPLE}.`);
  }
  const d = doc as Record<string, unknown>;
  const stray = Object.keys(d).filter((k) => !(KEYS as readonly string[]).includes(k));
  if (stray.length > 0) {
    return fail(`the desired setting has ${stray.slice(0, 3).map((k) => JSON.stringify(k.slice(0, 40))).join(', ')}, which it does not know; its keys are ${KEYS.join(', ')}.`);
  }
  const rev = d.rev;
  if (typeof rev !== 'number' || !Number.isSafeInteger(rev) || rev < 0) {
    return fail(`the desired setting needs "rev", a whole number from 0 up, got ${rev === undefined ? 'none' : JSON.stringify(rev)}.`);
  }
  const out: { -readonly [K in keyof DesiredSetting]: DesiredSetting[K] } = { rev };
  if (d.preset !== undefined) {
    if (typeof d.preset !== 'string' || !PRESET_NAME_PATTERN.test(d.preset)) {
      return fail(`"preset" must be a preset name (a-z, 0-9, - and _), got ${JSON.stringify(d.preset)}.`);
    }
    out.preset = d.preset;
  }
  if (d.preset_def !== undefined) {
    if (out.preset === undefined) return fail('"preset_def" defines a preset, so "preset" must name it.');
    const r = validatePartial(d.preset_def);
    if (!r.ok) return fail(`preset_def: ${r.error}`);
    out.presetDef = r.value;
  }
  if (d.params !== undefined) {
    const r = validatePartial(d.params);
    if (!r.ok) return fail(`params: ${r.error}`);
    out.params = r.value;
  }
  if (d.lock !== undefined) {
    const r = checkLock(d.lock);
    if (!r.ok) return r;
    out.lock = r.value;
  }
  return { ok: true, value: out };
}

function checkLock(raw: unknown): Result<LockSpec> {
  if (typeof raw === 'boolean') return { ok: true, value: raw };
  if (!Array.isArray(raw)) return fail(`"lock" must be true, false or a list of parameter names, got ${JSON.stringify(raw)}.`);
  const names: ParamName[] = [];
  for (const n of raw) {
    if (typeof n !== 'string') return fail(`"lock" lists parameter names, got ${JSON.stringify(n)}.`);
    if (!isParamName(n)) return fail(`lock: ${unknownParamError(n)}`);
    if (!names.includes(n)) names.push(n);
  }
  // Schema order, so equal locks compare equal and read the same everywhere.
  return { ok: true, value: names.length === 0 ? false : PARAM_NAMES.filter((n) => names.includes(n)) };
}

/** The wire form (snake_case keys), as the teacher's tools publish it. */
export function desiredToJson(d: DesiredSetting): Record<string, unknown> {
  return {
    rev: d.rev,
    ...(d.preset !== undefined ? { preset: d.preset } : {}),
    ...(d.presetDef !== undefined ? { preset_def: d.presetDef } : {}),
    ...(d.params !== undefined ? { params: d.params } : {}),
    ...(d.lock !== undefined ? { lock: d.lock } : {}),
  };
}

/** Where a desired document lives; a unit's `ack` names it, as revs of different levels are counted apart. */
export type DesiredLevel = 'class' | 'group' | 'unit';

/** Every desired document one unit sees: class, then its groups in its own order, then its own. */
export interface DesiredLayers {
  readonly class: DesiredSetting | null;
  readonly groups: readonly (readonly [group: string, setting: DesiredSetting | null])[];
  readonly unit: DesiredSetting | null;
}

/** What the layers add up to for one unit. */
export interface EffectiveSetting {
  /** The preset laid down first (by the most specific layer naming one), with its definition when carried. */
  readonly preset: { readonly name: string; readonly def?: Partial<ParamValues> } | null;
  /** Parameters set on top of the preset (or of the unit's current values when no preset). */
  readonly params: Partial<ParamValues>;
  readonly lock: LockSpec;
  /** The class document's rev, or null when there is none. */
  readonly classRev: number | null;
}

/**
 * Precedence unit > group > class, as if each layer were sent as a command
 * in that order: a layer naming a preset starts over from that preset (so
 * parameters of a less specific layer do not leak into it), its `params`
 * go on top, and the most specific layer that says anything about `lock`
 * decides the lock (so a unit can be unlocked inside a locked class).
 */
export function effectiveSetting(layers: DesiredLayers): EffectiveSetting {
  let preset: EffectiveSetting['preset'] = null;
  let params: Partial<ParamValues> = {};
  let lock: LockSpec = false;
  const ordered = [layers.class, ...layers.groups.map(([, s]) => s), layers.unit];
  for (const layer of ordered) {
    if (!layer) continue;
    if (layer.preset !== undefined) {
      preset = { name: layer.preset, ...(layer.presetDef ? { def: layer.presetDef } : {}) };
      params = {};
    }
    if (layer.params) params = { ...params, ...layer.params };
    if (layer.lock !== undefined) lock = layer.lock;
  }
  return { preset, params, lock, classRev: layers.class?.rev ?? null };
}

/** True when the setting asks for no parameter change (a lock, or nothing at all). */
export function changesNothing(e: EffectiveSetting): boolean {
  return e.preset === null && Object.keys(e.params).length === 0;
}

/**
 * The values the setting asks for: every parameter when it names a preset
 * (defaults + the preset + params), otherwise only the listed ones.
 * `lookup` gives a preset's parameters by name when no definition travelled
 * with it; null when the preset is unknown.
 */
export function targetValues(e: EffectiveSetting, lookup: (name: string) => Partial<ParamValues> | null): Result<Partial<ParamValues>> {
  if (!e.preset) return { ok: true, value: { ...e.params } };
  const presetParams = e.preset.def ?? lookup(e.preset.name);
  if (!presetParams) return fail(`preset "${e.preset.name}" is not on this unit and the desired setting carries no preset_def for it.`);
  return { ok: true, value: { ...defaultParams(), ...presetParams, ...e.params } };
}

/** The parameters whose current value differs from the target, in schema order. */
export function differingParams(target: Partial<ParamValues>, current: Partial<ParamValues>): ParamName[] {
  return PARAM_NAMES.filter((n) => target[n] !== undefined && target[n] !== current[n]);
}
