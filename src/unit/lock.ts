/**
 * The teacher's lock (SPEC §5): while locked, the unit's own controls (its
 * `set` topics, knobs and dashboard) are refused; the teacher's desired
 * settings and `all`/`group` commands still apply. Pure: the unit core asks
 * here before applying a command from a student's control.
 */
import { PARAM_NAMES, type ParamName } from '../params/schema.js';
import type { LockSpec } from './desired.js';

/**
 * Why a student's change is refused, or null when the lock allows it.
 * `touched` are the parameters the command names; `loadsPreset` is true
 * when it loads a preset, which sets every parameter.
 */
export function lockRefusal(lock: LockSpec, touched: readonly string[], loadsPreset: boolean): string | null {
  if (lock === false) return null;
  if (lock === true) {
    return 'the teacher locked this unit, so its own controls (set, knobs, dashboard) change nothing; ask the teacher to unlock it.';
  }
  const hit = loadsPreset ? [...lock] : lock.filter((n) => touched.includes(n));
  if (hit.length === 0) return null;
  const what = loadsPreset ? `loading a preset would change ${listNames(hit)}, which the teacher locked` : `the teacher locked ${listNames(hit)} on this unit`;
  return `${what}; ask the teacher to unlock ${hit.length === 1 && !loadsPreset ? 'it' : 'them'} (other parameters still work).`;
}

/** The `locked` field of `state`: false, true or the locked parameters in schema order. */
export function lockedField(lock: LockSpec): boolean | ParamName[] {
  if (typeof lock === 'boolean') return lock;
  return lock.length === 0 ? false : PARAM_NAMES.filter((n) => lock.includes(n));
}

/** Is anything locked (for the status LED and the dashboard). */
export function isLocked(lock: LockSpec): boolean {
  return lock === true || (Array.isArray(lock) && lock.length > 0);
}

function listNames(names: readonly string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}
