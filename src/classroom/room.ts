/**
 * The room as the hub's retained messages describe it: every unit with its
 * availability, state and desired settings, and whether it matches what
 * the teacher asked for. Pure: a map of retained topics in, rows out, so
 * the CLI's `status` and the console read the room the same way.
 */
import { isParamName, type ParamName, type ParamValues } from '../params/schema.js';
import { AVAILABILITY_ONLINE, parseTopic, classDesiredTopic, groupDesiredTopic, unitTopics, UNIT_ID_PATTERN } from '../mqtt/topics.js';
import { differingParams, effectiveSetting, parseDesiredPayload, targetValues, type DesiredSetting } from '../unit/desired.js';

export interface UnitRow {
  readonly unit: string;
  readonly online: boolean;
  readonly groups: readonly string[];
  /** `class_rev` the unit reports, or null. */
  readonly classRev: number | null;
  readonly locked: boolean | readonly string[];
  /** 'matches', the differing parameters, or why it cannot be told. */
  readonly setting: { readonly matches: true } | { readonly matches: false; readonly differ: readonly ParamName[] } | { readonly unknown: string };
}

function json(text: string | undefined): Record<string, unknown> | null {
  if (!text) return null;
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : null;
  } catch {
    return null;
  }
}

function desired(text: string | undefined): DesiredSetting | null {
  if (text === undefined) return null;
  const r = parseDesiredPayload(text);
  return r.ok ? r.value : null;
}

/** Presets a unit announced in its `info` (name → params). */
function infoPresets(info: Record<string, unknown> | null): Map<string, Partial<ParamValues>> {
  const out = new Map<string, Partial<ParamValues>>();
  const list = info?.presets;
  if (!Array.isArray(list)) return out;
  for (const p of list as { name?: unknown; params?: unknown }[]) {
    if (typeof p?.name === 'string' && p.params && typeof p.params === 'object') out.set(p.name, p.params as Partial<ParamValues>);
  }
  return out;
}

/**
 * Every unit that has an availability, info or state retained, sorted by id.
 * Anyone who may write a unit's topics (its own account on the hub, anyone
 * on an open broker) decides what they hold, so only ids and group names
 * a unit could have, and locked names that are parameters, get into a row:
 * nothing else reaches the teacher's terminal (no escape sequences, no
 * newlines, no 50 KB names).
 */
export function roomRows(retained: ReadonlyMap<string, string>, baseTopic: string): UnitRow[] {
  const units = new Set<string>();
  for (const topic of retained.keys()) {
    const t = parseTopic(baseTopic, topic);
    if (t?.kind === 'unit' && !t.deeper && UNIT_ID_PATTERN.test(t.unit) && (t.leaf === 'availability' || t.leaf === 'state' || t.leaf === 'info')) units.add(t.unit);
  }
  const classDoc = desired(retained.get(classDesiredTopic(baseTopic)));
  return [...units].sort().map((unit) => {
    const ut = unitTopics(baseTopic, unit);
    const at = (leaf: 'availability' | 'state' | 'info' | 'desired'): string | undefined => retained.get(ut[leaf]);
    const state = json(at('state'));
    const groups = Array.isArray(state?.groups) ? (state.groups as unknown[]).filter((g): g is string => typeof g === 'string' && UNIT_ID_PATTERN.test(g)) : [];
    const locked = state?.locked === true ? true : Array.isArray(state?.locked) ? (state.locked as unknown[]).filter((n): n is ParamName => typeof n === 'string' && isParamName(n)) : false;
    const classRev = typeof state?.class_rev === 'number' ? state.class_rev : null;
    const row = { unit, online: at('availability') === AVAILABILITY_ONLINE, groups, classRev, locked };
    if (!state) return { ...row, setting: { unknown: 'no state yet' } };
    const effective = effectiveSetting({
      class: classDoc,
      groups: groups.map((g) => [g, desired(retained.get(groupDesiredTopic(baseTopic, g)))] as const),
      unit: desired(at('desired')),
    });
    const presets = infoPresets(json(at('info')));
    const target = targetValues(effective, (name) => presets.get(name) ?? null);
    if (!target.ok) return { ...row, setting: { unknown: target.error } };
    const current = Object.fromEntries(Object.entries(state).filter(([k]) => isParamName(k))) as Partial<ParamValues>;
    const differ = differingParams(target.value, current);
    return { ...row, setting: differ.length === 0 ? { matches: true as const } : { matches: false as const, differ } };
  });
}

/** The rows as a plain-text table for a terminal. */
export function formatRoom(rows: readonly UnitRow[]): string {
  if (rows.length === 0) return 'No units on this hub yet.\n';
  const lines = rows.map((r) => [
    r.unit,
    r.online ? 'online' : 'offline',
    r.groups.length ? r.groups.join(',') : '-',
    r.classRev === null ? '-' : String(r.classRev),
    r.locked === true ? 'all' : Array.isArray(r.locked) && r.locked.length ? r.locked.join(',') : '-',
    'unknown' in r.setting ? `? ${r.setting.unknown}` : r.setting.matches ? 'matches' : `differs: ${r.setting.differ.join(', ')}`,
  ]);
  const head = ['UNIT', 'ONLINE', 'GROUPS', 'CLASS REV', 'LOCKED', 'SETTING'];
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [fmt(head), ...lines.map(fmt)].join('\n') + '\n';
}
