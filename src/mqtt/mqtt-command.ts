/**
 * Turns the payload of a `set` or `set/<param>` message into a command for
 * UnitState.apply(), or into an error sentence. Only decoding happens here;
 * validation of values stays in one place (UnitState / params/validate).
 */
import { SWITCH_WORDS, switchFromText, typedFromText, type Result } from '../params/validate.js';
import { isParamName, paramDef, type ParamName } from '../params/schema.js';

/** A full `set` with every parameter is about 400 bytes; 4 KiB leaves room and bounds the work. */
export const DEFAULT_MAX_COMMAND_BYTES = 4096;

const fail = (error: string): Result<Record<string, unknown>> => ({ ok: false, error });

/** An empty command is what clearing a retained one (`mosquitto_pub -r -n`) delivers to a unit online. */
const CLEARED_RETAINED = 'if you were clearing a retained command, that worked';

function checkSize(payload: Buffer, maxBytes: number): string | null {
  if (payload.length > maxBytes) {
    return `the payload is ${payload.length} bytes; a command may be at most ${maxBytes} bytes.`;
  }
  return null;
}

/** `picomp/<unit>/set`: a JSON object such as {"threshold": -20, "preset": "bass"}. */
export function decodeSetPayload(payload: Buffer, maxBytes = DEFAULT_MAX_COMMAND_BYTES): Result<Record<string, unknown>> {
  const tooBig = checkSize(payload, maxBytes);
  if (tooBig) return fail(tooBig);
  const text = payload.toString('utf8').trim();
  if (text === '') return fail(`the payload is empty, so nothing changed (${CLEARED_RETAINED}); send a JSON object such as {"threshold": -20}.`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fail('the payload is not valid JSON; send an object such as {"threshold": -20} (names and strings in double quotes).');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    const got = Array.isArray(parsed) ? 'a list' : parsed === null ? 'null' : `a ${typeof parsed}`;
    return fail(`expected a JSON object such as {"threshold": -20}, got ${got}; to set one parameter, publish its plain value to set/<name>.`);
  }
  return { ok: true, value: parsed as Record<string, unknown> };
}

/** Text that is JSON rather than a plain value: a quoted string, an object, a list, null. */
const LOOKS_LIKE_JSON = /^(?:["{[]|null$)/;

/** The unit's current value of a parameter: what `TOGGLE` flips. */
export type CurrentValue = (name: ParamName) => unknown;

/**
 * A switch on `set/<name>`: the words Home Assistant, Tasmota and
 * Zigbee2MQTT users type (ON/OFF, 1/0, true/false; TOGGLE flips the
 * current value). Anything else is refused here, naming them all.
 */
function decodeSwitch(name: ParamName, text: string, current: CurrentValue | undefined): Result<Record<string, unknown>> {
  const word = switchFromText(text);
  if (word === null) {
    const shown = JSON.stringify(text.length > 40 ? text.slice(0, 40) + '…' : text);
    return fail(`${name} must be ${SWITCH_WORDS}, got ${shown}.`);
  }
  if (word !== 'toggle') return { ok: true, value: { [name]: word } };
  const now = current?.(name);
  if (typeof now !== 'boolean') return fail(`${name} cannot be toggled here; send ON or OFF.`);
  return { ok: true, value: { [name]: !now } };
}

/**
 * `picomp/<unit>/set/<name>`: one plain value (`-20`, `true`, `rms`), read
 * by the parameter's kind as on the command line; switches also take the
 * words of decodeSwitch(); JSON-looking text (such as `"rms"`) is parsed as
 * JSON. What reads as neither is left as text for validation to judge.
 * `current` gives the unit's values, for TOGGLE.
 */
export function decodeParamPayload(name: string, payload: Buffer, maxBytes = DEFAULT_MAX_COMMAND_BYTES,
  current?: CurrentValue): Result<Record<string, unknown>> {
  const tooBig = checkSize(payload, maxBytes);
  if (tooBig) return fail(tooBig);
  const text = payload.toString('utf8').trim();
  if (text === '' && isParamName(name)) return fail(`the payload is empty, so nothing changed (${CLEARED_RETAINED}); send a value such as -20.`);
  if (isParamName(name) && paramDef(name).kind === 'bool' && !LOOKS_LIKE_JSON.test(text)) return decodeSwitch(name, text, current);
  let value: unknown = isParamName(name) ? typedFromText(name, text) : text;
  if (LOOKS_LIKE_JSON.test(text)) {
    try {
      value = JSON.parse(text);
    } catch {
      value = text;
    }
  }
  return { ok: true, value: { [name]: value } };
}

/** The `payload` field of an `error` message: the first 200 bytes as text. */
export function payloadExcerpt(payload: Buffer): string {
  return payload.subarray(0, 200).toString('utf8');
}

/** A preset command, decoded: what `<unit>/preset/<action>` asks for. */
export type PresetCommand =
  | { readonly action: 'save'; readonly name: unknown; readonly description?: unknown }
  | { readonly action: 'rename'; readonly from: unknown; readonly to: unknown }
  | { readonly action: 'delete'; readonly name: unknown };

const PRESET_EXAMPLES = {
  save: 'a name (my-vocal) or {"name": "my-vocal", "description": "…"}',
  rename: '{"from": "old-name", "to": "new-name"}',
  delete: 'a name (my-vocal) or {"name": "my-vocal"}',
} as const;

/**
 * `picomp/<unit>/preset/save|rename|delete`: a plain name where one name
 * says it all (save, delete), or a JSON object (rename; save with a
 * description). Names and descriptions are judged by the preset store.
 */
export function decodePresetPayload(action: 'save' | 'rename' | 'delete', payload: Buffer,
  maxBytes = DEFAULT_MAX_COMMAND_BYTES): Result<PresetCommand> {
  const tooBig = checkSize(payload, maxBytes);
  if (tooBig) return { ok: false, error: tooBig };
  const text = payload.toString('utf8').trim();
  const refuse = (why: string): Result<PresetCommand> => ({ ok: false, error: `preset/${action} ${why}; send ${PRESET_EXAMPLES[action]}.` });
  if (text === '') return refuse(`got an empty payload, so nothing changed (${CLEARED_RETAINED})`);
  if (!text.startsWith('{')) {
    if (action === 'rename') return refuse('needs the old and the new name');
    return { ok: true, value: { action, name: text } };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return refuse('got text that is not valid JSON');
  }
  const obj = doc as Record<string, unknown>;
  const keys = action === 'save' ? ['name', 'description'] : action === 'rename' ? ['from', 'to'] : ['name'];
  const stray = Object.keys(obj).filter((k) => !keys.includes(k));
  if (stray.length > 0) return refuse(`does not know ${stray.map((k) => JSON.stringify(k.slice(0, 40))).join(', ')}`);
  switch (action) {
    case 'save': return { ok: true, value: { action, name: obj.name, ...(obj.description !== undefined ? { description: obj.description } : {}) } };
    case 'rename': return { ok: true, value: { action, from: obj.from, to: obj.to } };
    case 'delete': return { ok: true, value: { action, name: obj.name } };
  }
}
