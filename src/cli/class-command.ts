/**
 * `picomp class set|lock|unlock|reset|status|retire`: the teacher's actions
 * on the hub for scripts and for teachers without a browser (SPEC §5).
 */
import type { MqttClient } from 'mqtt';
import { UserError } from '../errors.js';
import { createLogger } from '../log.js';
import { isParamName, type ParamName } from '../params/schema.js';
import { PRESET_NAME_PATTERN } from '../params/presets.js';
import { unknownParamError } from '../params/validate.js';
import { loadPresets } from '../unit/unit-state.js';
import { defaultStateDir } from '../unit/state-dir.js';
import {
  UNIT_ID_PATTERN, classDesiredTopic, everyUnitFilter, groupDesiredTopic, isReservedId, unitTopics,
} from '../mqtt/topics.js';
import { DEFAULT_DISCOVERY_PREFIX, discoveryMessages } from '../mqtt/ha-discovery.js';
import { probeUnit } from '../mqtt/unit-identity.js';
import { checkDesired, desiredToJson, parseDesiredPayload, type DesiredLevel, type DesiredSetting, type LockSpec } from '../unit/desired.js';
import { BASE_TOPIC_HELP, checkBaseTopic, parseBrokerList } from './hub-options.js';
import { formatRoom, roomRows } from '../classroom/room.js';
import { connectHub, listenForAcks, publishDesired, retainedSnapshot } from '../classroom/teacher.js';
import { parseCommandArgs, intFlag } from './args.js';
import { collectParamFlags, paramFlagsHelp, paramOptions } from './param-flags.js';

const HELP = `Usage: picomp class <action> --broker URL [options] [parameters]

The teacher's actions on the classroom hub. Settings are retained on the hub,
so units that are off or join late converge by themselves.

Actions:
  set      add to the desired setting: --preset NAME and/or parameters
           (a preset starts over from that preset; --replace drops the rest)
  lock     lock the units' own controls (set topics, knobs, dashboard):
           all of them, or --params a,b
  unlock   unlock (at unit level this unlocks one unit inside a locked class)
  reset    clear a unit's (or group's) own desired setting: back to the class
  status   a table of units: online, groups, class rev, lock, and whether the
           setting matches or which parameters differ
  retire   clear a unit's retained topics and Home Assistant configs (the unit
           must be stopped; on a hub with users this needs an admin login)

Where (default: the whole class):
  --group G            one group (units started with --groups G)
  --unit ID            one unit

Options:
  --broker URL         the hub; several (a,b or repeated) are tried in turn
                       (also PICOMP_BROKER)
  --username U         login (also PICOMP_BROKER_USERNAME; the password only in
                       PICOMP_BROKER_PASSWORD)
  --base-topic T       ${BASE_TOPIC_HELP}
  --preset NAME        set: load this preset; its definition (built-in or in
                       --state-dir) travels along, so units without it apply it
  --replace            set: replace the level's setting instead of adding to it
  --params A,B         lock: only these parameters
  --wait SECONDS       set/lock/unlock: wait this long for the units' acks (default 3, 0 = no wait)
  --ha-prefix P        retire: Home Assistant discovery prefix (default ${DEFAULT_DISCOVERY_PREFIX})
  --state-dir DIR      where your user presets are (default ~/.local/state/picomp)
  -h, --help           show this help

Parameters (set):
${paramFlagsHelp()}`;

const ACTIONS = ['set', 'lock', 'unlock', 'reset', 'status', 'retire'] as const;
type Action = (typeof ACTIONS)[number];

interface Where { readonly level: DesiredLevel; readonly name?: string; readonly topic: string }

function where(values: Record<string, unknown>, base: string): Where {
  const group = values.group as string | undefined;
  const unit = values.unit as string | undefined;
  if (group !== undefined && unit !== undefined) throw new UserError('give --group or --unit, not both.');
  for (const [flag, v] of [['--group', group], ['--unit', unit]] as const) {
    if (v !== undefined && (!UNIT_ID_PATTERN.test(v) || isReservedId(v))) {
      throw new UserError(`${flag} takes a name of lowercase letters, digits and dashes (not all, group or class), got ${JSON.stringify(v)}.`);
    }
  }
  if (group !== undefined) return { level: 'group', name: group, topic: groupDesiredTopic(base, group) };
  if (unit !== undefined) return { level: 'unit', name: unit, topic: unitTopics(base, unit).desired };
  return { level: 'class', topic: classDesiredTopic(base) };
}

function lockList(raw: unknown): LockSpec {
  if (raw === undefined) return true;
  const names = String(raw).split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) throw new UserError('--params needs parameter names, e.g. --params threshold,ratio.');
  for (const n of names) if (!isParamName(n)) throw new UserError(`--params: ${unknownParamError(n)}`);
  return names as ParamName[];
}

export async function runClass(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('class', argv, {
    ...paramOptions(),
    broker: { type: 'string', multiple: true }, username: { type: 'string' }, 'base-topic': { type: 'string' },
    group: { type: 'string' }, unit: { type: 'string' }, preset: { type: 'string' }, replace: { type: 'boolean' },
    params: { type: 'string' }, wait: { type: 'string' }, 'ha-prefix': { type: 'string' }, 'state-dir': { type: 'string' },
  });
  if (values.help) { process.stdout.write(HELP + '\n'); return 0; }
  const [actionName, ...extra] = positionals;
  if (actionName === undefined) throw new UserError(`say what to do: picomp class ${ACTIONS.join('|')}; see picomp class --help.`);
  if (!(ACTIONS as readonly string[]).includes(actionName)) throw new UserError(`unknown class action "${actionName}"; actions are ${ACTIONS.join(', ')}.`);
  if (extra.length > 0) throw new UserError(`unexpected "${extra[0]}"; see picomp class --help.`);
  const action = actionName as Action;
  const base = checkBaseTopic(values['base-topic'] as string | undefined);
  const brokerFlag = values.broker as string[] | undefined;
  const brokerRaw = brokerFlag ?? (process.env.PICOMP_BROKER ? [process.env.PICOMP_BROKER] : undefined);
  if (!brokerRaw) throw new UserError('give the hub with --broker URL (e.g. mqtt://hub.local:1883) or PICOMP_BROKER.');
  const servers = parseBrokerList(brokerRaw);
  const username = (values.username as string | undefined) ?? (process.env.PICOMP_BROKER_USERNAME || undefined);
  const waitMs = (intFlag('wait', values.wait, 0, 600) ?? 3) * 1000;
  const params = collectParamFlags(values);
  const preset = values.preset as string | undefined;
  if (preset !== undefined && !PRESET_NAME_PATTERN.test(preset)) throw new UserError(`--preset must be a preset name (a-z, 0-9, - and _), got ${JSON.stringify(preset)}.`);
  if (action !== 'set' && (preset !== undefined || Object.keys(params).length > 0 || values.replace)) {
    throw new UserError(`presets and parameters go with picomp class set, not ${action}.`);
  }
  if (action !== 'lock' && values.params !== undefined) throw new UserError('--params goes with picomp class lock.');
  const at = where(values, base);

  const client = await connectHub({ servers, ...(username !== undefined ? { username, password: process.env.PICOMP_BROKER_PASSWORD ?? '' } : {}) });
  try {
    switch (action) {
      case 'status': return await status(client, base, values.group as string | undefined, values.unit as string | undefined);
      case 'retire': return await retire(client, base, values.unit as string | undefined, (values['ha-prefix'] as string | undefined) ?? DEFAULT_DISCOVERY_PREFIX);
      case 'reset': {
        if (at.level === 'class') throw new UserError('reset brings a unit (--unit ID) or a group (--group G) back to the class setting; say which.');
        await publishDesired(client, at.topic, null);
        process.stdout.write(`${at.level} ${at.name} follows the class setting again (its own desired setting is cleared).\n`);
        return 0;
      }
      default: {
        const current = await currentDoc(client, base, at.topic);
        const next = await nextDoc(action, current, { preset, params, replace: values.replace === true, lock: action === 'lock' ? lockList(values.params) : false, stateDir: (values['state-dir'] as string | undefined) ?? defaultStateDir() });
        const checked = checkDesired(desiredToJson(next));
        if (!checked.ok) throw new UserError(checked.error);
        const units = await affectedOnlineUnits(client, base, at);
        const acks = await listenForAcks(client, base, next.rev, at.level);
        await publishDesired(client, at.topic, checked.value);
        const heard = waitMs > 0 && units.length > 0 ? await acks.collect(units, waitMs) : new Map();
        process.stdout.write(summary(at, next.rev, units, heard));
        return 0;
      }
    }
  } finally {
    // endAsync never settles once the hub has closed the connection (Node would then exit 0 with nothing said).
    if (client.connected) await client.endAsync().catch(() => undefined); else client.end(true);
  }
}

async function currentDoc(client: MqttClient, base: string, topic: string): Promise<DesiredSetting | null> {
  const text = (await retainedSnapshot(client, base, [topic])).get(topic);
  if (text === undefined) return null;
  const r = parseDesiredPayload(text);
  // A broken document on the hub is replaced rather than built upon.
  return r.ok ? r.value : null;
}

async function nextDoc(action: Action, current: DesiredSetting | null, o: {
  preset?: string; params: DesiredSetting['params'] & object; replace: boolean; lock: LockSpec; stateDir: string;
}): Promise<DesiredSetting> {
  const rev = (current?.rev ?? 0) + 1;
  const keep: DesiredSetting = o.replace || !current ? { rev } : { ...current, rev };
  if (action === 'lock' || action === 'unlock') return { ...keep, lock: o.lock };
  if (o.preset === undefined && Object.keys(o.params).length === 0) {
    throw new UserError('picomp class set needs --preset NAME or parameters such as --threshold -20.');
  }
  let next: DesiredSetting = keep;
  if (o.preset !== undefined) {
    const known = (await loadPresets(o.stateDir, createLogger('class', 'error'))).get(o.preset);
    if (!known) process.stderr.write(`picomp class: preset "${o.preset}" is not known here, so only units that have it will apply it.\n`);
    const { params: _dropped, presetDef: _old, ...rest } = next;
    next = { ...rest, preset: o.preset, ...(known ? { presetDef: known.params } : {}) };
  }
  if (Object.keys(o.params).length > 0) next = { ...next, params: { ...next.params, ...o.params } };
  return next;
}

/** The units a setting at `at` reaches that are online now (whose acks are worth waiting for). */
async function affectedOnlineUnits(client: MqttClient, base: string, at: Where): Promise<string[]> {
  const rows = roomRows(await retainedSnapshot(client, base, [everyUnitFilter(base, 'availability'), everyUnitFilter(base, 'state')]), base);
  return rows.filter((r) => r.online && (at.level === 'class' || (at.level === 'unit' ? r.unit === at.name : r.groups.includes(at.name!)))).map((r) => r.unit);
}

function summary(at: Where, rev: number, units: readonly string[], acks: ReadonlyMap<string, { ok: boolean; error?: string }>): string {
  const label = at.level === 'class' ? 'class' : `${at.level} ${at.name}`;
  const applied = units.filter((u) => acks.get(u)?.ok);
  const refused = units.filter((u) => acks.get(u)?.ok === false);
  const silent = units.filter((u) => !acks.has(u));
  const lines = [`Published the ${label} setting, rev ${rev}: ${applied.length} of ${units.length} online unit${units.length === 1 ? '' : 's'} applied it.`];
  for (const u of refused) lines.push(`  ${u} refused: ${acks.get(u)!.error ?? 'no reason given'}`);
  if (silent.length) lines.push(`  no answer yet from ${silent.join(', ')} (they apply it when they hear it; picomp class status shows where they are).`);
  return lines.join('\n') + '\n';
}

async function status(client: MqttClient, base: string, group: string | undefined, unit: string | undefined): Promise<number> {
  const filters = ['availability', 'state', 'info', 'desired'].map((leaf) => everyUnitFilter(base, leaf as 'state'));
  filters.push(classDesiredTopic(base), groupDesiredTopic(base, '+'));
  const rows = roomRows(await retainedSnapshot(client, base, filters), base)
    .filter((r) => (group === undefined || r.groups.includes(group)) && (unit === undefined || r.unit === unit));
  process.stdout.write(formatRoom(rows));
  return 0;
}

async function retire(client: MqttClient, base: string, unit: string | undefined, haPrefix: string): Promise<number> {
  if (unit === undefined) throw new UserError('say which unit to retire with --unit ID.');
  const presence = await probeUnit(client, base, unit);
  if (presence === 'alive') throw new UserError(`unit "${unit}" is running and answering on the hub; stop it first (it would announce itself again).`);
  const t = unitTopics(base, unit);
  const topics = [t.availability, t.info, t.state, t.desired,
    ...discoveryMessages({ baseTopic: base, unitId: unit, prefix: haPrefix, presetNames: [] }).map((m) => m.topic)];
  for (const topic of topics) await client.publishAsync(topic, '', { qos: 1, retain: true });
  // A hub that refuses a publish (no admin rights) does so silently: look whether they are gone.
  const left = await retainedSnapshot(client, base, [t.availability, t.info, t.state]);
  if (left.size > 0) throw new UserError(`the hub kept ${unit}'s retained topics: this login may not clear them; retire needs an admin login on a hub with users.`);
  process.stdout.write(`Retired "${unit}": cleared ${topics.length} retained topics (availability, info, state, desired and its Home Assistant configs).\n`);
  return 0;
}
