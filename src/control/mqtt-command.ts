/**
 * Turns the payload of a `set` or `set/<param>` message into a command for
 * UnitState.apply(), or into an error sentence. Only decoding happens here;
 * validation of values stays in one place (UnitState / params/validate).
 */
import type { Result } from '../params/validate.js';

/** A full `set` with every parameter is about 400 bytes; 4 KiB leaves room and bounds the work. */
export const DEFAULT_MAX_COMMAND_BYTES = 4096;

const fail = (error: string): Result<Record<string, unknown>> => ({ ok: false, error });

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
  if (text === '') return fail('the payload is empty; send a JSON object such as {"threshold": -20}.');
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

/** Text that reads as a JSON value rather than a bare word. */
const LOOKS_LIKE_JSON = /^(?:[{["]|-?\d|true$|false$|null$)/;

/**
 * `picomp/<unit>/set/<name>`: one plain value (`-20`, `true`, `rms`).
 * JSON-looking text is parsed as JSON (so `"rms"` and `-20` both work);
 * anything else is taken as a raw string and left for validation to judge.
 */
export function decodeParamPayload(name: string, payload: Buffer, maxBytes = DEFAULT_MAX_COMMAND_BYTES): Result<Record<string, unknown>> {
  const tooBig = checkSize(payload, maxBytes);
  if (tooBig) return fail(tooBig);
  const text = payload.toString('utf8').trim();
  let value: unknown = text;
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
