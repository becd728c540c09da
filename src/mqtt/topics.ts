/**
 * The MQTT topic grammar of SPEC §4 and §5: every topic a unit, the
 * broker's ACL, Home Assistant discovery, the classroom and the Node-RED
 * flow use is built and parsed here, and only here.
 *
 *   <base>/<unit>/<leaf>[/<param>]     one unit (leaf: set, get, state, …)
 *   <base>/<unit>/preset/<action>      save, rename or delete a user preset
 *   <base>/all/set[/<param>]           every unit
 *   <base>/group/<g>/<leaf>[/<param>]  the units of one group (set, desired)
 *   <base>/class/desired               the class setting
 *
 * The grammar is one self-contained function so the dashboard flow can
 * carry a copy of exactly this code (src/dashboard/flow.ts injects its
 * source into the function nodes): nothing inside may refer to anything
 * outside it.
 */
export function topicGrammar() {
  /** Unit ids and group names travel as single topic levels. */
  const UNIT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
  /** A base topic: plain levels, no wildcards. */
  const BASE_TOPIC_PATTERN = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/;
  const DEFAULT_BASE_TOPIC = 'picomp';
  /** First levels under the base that address many units (or the class) rather than one: never a unit id. */
  const RESERVED_IDS = ['all', 'group', 'class'] as const;

  /** The leaves each kind of address takes. `levels` is the 1 Hz Home Assistant summary (not in SPEC §4). */
  const LEAVES = {
    unit: ['availability', 'info', 'state', 'set', 'get', 'meters', 'error', 'levels', 'desired', 'ack', 'preset'],
    all: ['set'],
    group: ['set', 'desired'],
    class: ['desired'],
  } as const;
  /** Leaves that carry commands into units (the rest are the units' own, or desired settings). */
  const COMMAND_LEAVES = ['set', 'get', 'preset'] as const;
  /** What `<unit>/preset/<action>` does to the unit's user presets (teachers and admins only). */
  const PRESET_ACTIONS = ['save', 'rename', 'delete'] as const;

  type Leaf = (typeof LEAVES.unit)[number];
  type Target = { kind: 'unit'; unit: string } | { kind: 'all' } | { kind: 'group'; group: string } | { kind: 'class' };
  /**
   * A topic taken apart. `param` is the level after `set` (`set/threshold`)
   * or `preset` (`preset/save`, the action); `deeper` says the topic goes on
   * below what the grammar knows (`set/threshold/x`).
   */
  type ParsedTopic = Target & { leaf: Leaf; param?: string; deeper: boolean };

  /** The levels in front of a target's leaf. */
  function targetRoot(base: string, target: Target): string {
    switch (target.kind) {
      case 'unit': return base + '/' + target.unit;
      case 'group': return base + '/group/' + target.group;
      default: return base + '/' + target.kind;
    }
  }

  /** Builds `<root>/<leaf>` or `<root>/set/<param>`. */
  function topicOf(base: string, target: Target, leaf: Leaf, param?: string): string {
    return targetRoot(base, target) + '/' + leaf + (param === undefined ? '' : '/' + param);
  }

  /** A filter for every leaf of one target, `<root>/+` (one level: set/<param> is not included). */
  function anyLeafFilter(base: string, target: Target): string {
    return targetRoot(base, target) + '/+';
  }

  /** Takes a topic apart, or null when it is not one of the grammar's (another base, an unknown leaf). */
  function parseTopic(base: string, topic: string): ParsedTopic | null {
    if (!topic.startsWith(base + '/')) return null;
    const rest = topic.slice(base.length + 1).split('/');
    let target: Target;
    let at = 1;
    const first = rest[0]!;
    if (first === 'all' || first === 'class') target = { kind: first };
    else if (first === 'group') {
      if (!rest[1]) return null;
      target = { kind: 'group', group: rest[1] };
      at = 2;
    } else if (first === '') return null;
    else target = { kind: 'unit', unit: first };
    const leaf = rest[at] as Leaf | undefined;
    if (leaf === undefined || !(LEAVES[target.kind] as readonly string[]).includes(leaf)) return null;
    const below = rest.slice(at + 1);
    const parsed: ParsedTopic = { ...target, leaf, deeper: false };
    if ((leaf === 'set' || leaf === 'preset') && below.length > 0) {
      parsed.param = below[0]!;
      parsed.deeper = below.length > 1;
    } else {
      parsed.deeper = below.length > 0;
    }
    return parsed;
  }

  /** A preset command: `<unit>/preset/<action>` with a known action, nothing deeper. */
  function isPresetCommand(t: ParsedTopic): boolean {
    return t.kind === 'unit' && t.leaf === 'preset' && !t.deeper && (PRESET_ACTIONS as readonly string[]).includes(t.param ?? '');
  }

  /** A command a unit may act on: set, set/<param> (named), a unit's own get, a preset command; nothing deeper. */
  function isCommand(t: ParsedTopic): boolean {
    if (t.leaf === 'preset') return isPresetCommand(t);
    return (COMMAND_LEAVES as readonly string[]).includes(t.leaf) && !t.deeper && t.param !== '';
  }

  return {
    UNIT_ID_PATTERN, BASE_TOPIC_PATTERN, DEFAULT_BASE_TOPIC, RESERVED_IDS, LEAVES, COMMAND_LEAVES, PRESET_ACTIONS,
    targetRoot, topicOf, anyLeafFilter, parseTopic, isCommand, isPresetCommand,
  };
}

const grammar = topicGrammar();
export const {
  UNIT_ID_PATTERN, BASE_TOPIC_PATTERN, DEFAULT_BASE_TOPIC, RESERVED_IDS, LEAVES, COMMAND_LEAVES, PRESET_ACTIONS,
  targetRoot, topicOf, anyLeafFilter, parseTopic, isCommand, isPresetCommand,
} = grammar;
export type PresetAction = (typeof PRESET_ACTIONS)[number];
export type Leaf = (typeof LEAVES.unit)[number];
export type TopicTarget = Parameters<typeof topicOf>[1];
export type ParsedTopic = NonNullable<ReturnType<typeof parseTopic>>;

/** Whether a first topic level is a unit's own (not reserved for many units, the class or groups). */
export function isReservedId(id: string): boolean {
  return (RESERVED_IDS as readonly string[]).includes(id);
}

export interface UnitTopics {
  readonly availability: string;
  readonly info: string;
  readonly state: string;
  readonly set: string;
  /** Subscription filter for `set/<param>`. */
  readonly setParamFilter: string;
  readonly get: string;
  readonly meters: string;
  readonly error: string;
  /** Gentle (1 Hz) level summary for Home Assistant sensors; not in SPEC §4. */
  readonly levels: string;
  /** The unit's own desired setting (SPEC §5), retained, from the teacher. */
  readonly desired: string;
  /** The unit's answer to a desired setting (SPEC §5). */
  readonly ack: string;
  /** Subscription filter for preset commands (and anything else below `preset`, to answer it). */
  readonly presetFilter: string;
  setParam(name: string): string;
  /** `<unit>/preset/save|rename|delete`. */
  preset(action: PresetAction): string;
}

export function unitTopics(baseTopic: string, unitId: string): UnitTopics {
  const me: TopicTarget = { kind: 'unit', unit: unitId };
  const of = (leaf: Leaf): string => topicOf(baseTopic, me, leaf);
  return {
    availability: of('availability'),
    info: of('info'),
    state: of('state'),
    set: of('set'),
    // `+/#` also takes deeper topics (set/threshold/x), so a typo gets an error rather than silence.
    setParamFilter: of('set') + '/+/#',
    get: of('get'),
    meters: of('meters'),
    error: of('error'),
    levels: of('levels'),
    desired: of('desired'),
    ack: of('ack'),
    presetFilter: of('preset') + '/#',
    setParam: (name) => topicOf(baseTopic, me, 'set', name),
    preset: (action) => topicOf(baseTopic, me, 'preset', action),
  };
}

/** `picomp/all/set`: a teacher's command to every unit on the broker. */
export const allSetTopic = (baseTopic: string): string => topicOf(baseTopic, { kind: 'all' }, 'set');

/** `picomp/group/<g>/set`: a teacher's command to the units of one group. */
export const groupSetTopic = (baseTopic: string, group: string): string => topicOf(baseTopic, { kind: 'group', group }, 'set');

/** `picomp/class/desired`: the class setting (SPEC §5). */
export const classDesiredTopic = (baseTopic: string): string => topicOf(baseTopic, { kind: 'class' }, 'desired');

/** `picomp/group/<g>/desired`: one group's desired setting (SPEC §5). */
export const groupDesiredTopic = (baseTopic: string, group: string): string => topicOf(baseTopic, { kind: 'group', group }, 'desired');

/** A filter for one leaf of every unit, `<base>/+/<leaf>`: how a console watches a room. */
export const everyUnitFilter = (baseTopic: string, leaf: Leaf): string => `${baseTopic}/+/${leaf}`;

/**
 * Every command topic a unit listens to: its own, the all-units one and
 * those of its groups, each as `set`, `set/<param>` (and anything deeper,
 * to answer it with an error) and (own only) `get` and `preset/…`.
 */
export function commandFilters(baseTopic: string, unitId: string, groups: readonly string[] = []): string[] {
  const own = unitTopics(baseTopic, unitId);
  const shared = [allSetTopic(baseTopic), ...groups.map((g) => groupSetTopic(baseTopic, g))];
  return [own.set, own.setParamFilter, own.get, own.presetFilter, ...shared.flatMap((t) => [t, `${t}/+/#`])];
}

/** Whether a parsed topic is addressed to this unit: its own, all units, or one of its groups. */
export function addressesUnit(t: TopicTarget, unitId: string, groups: readonly string[]): boolean {
  switch (t.kind) {
    case 'unit': return t.unit === unitId;
    case 'all': return true;
    case 'group': return groups.includes(t.group);
    case 'class': return true;
  }
}
