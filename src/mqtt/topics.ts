/**
 * The MQTT topic tree of SPEC §4, built in one place so the unit client,
 * the broker's ACL, Home Assistant discovery and the docs agree.
 */

/** Unit ids and group names travel as single topic levels. */
export const UNIT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

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
  setParam(name: string): string;
}

export function unitTopics(baseTopic: string, unitId: string): UnitTopics {
  const root = `${baseTopic}/${unitId}`;
  return {
    availability: `${root}/availability`,
    info: `${root}/info`,
    state: `${root}/state`,
    set: `${root}/set`,
    // `+/#` also takes deeper topics (set/threshold/x), so a typo gets an error rather than silence.
    setParamFilter: `${root}/set/+/#`,
    get: `${root}/get`,
    meters: `${root}/meters`,
    error: `${root}/error`,
    levels: `${root}/levels`,
    setParam: (name) => `${root}/set/${name}`,
  };
}

/** `picomp/all/set`: a teacher's command to every unit on the broker. */
export const allSetTopic = (baseTopic: string): string => `${baseTopic}/all/set`;

/** `picomp/group/<g>/set`: a teacher's command to the units of one group. */
export const groupSetTopic = (baseTopic: string, group: string): string => `${baseTopic}/group/${group}/set`;

/**
 * Every command topic a unit listens to: its own, the all-units one and
 * those of its groups, each as `set`, `set/<param>` (and anything deeper,
 * to answer it with an error) and (own only) `get`.
 */
export function commandFilters(baseTopic: string, unitId: string, groups: readonly string[] = []): string[] {
  const own = unitTopics(baseTopic, unitId);
  const shared = [allSetTopic(baseTopic), ...groups.map((g) => groupSetTopic(baseTopic, g))];
  return [own.set, own.setParamFilter, own.get, ...shared.flatMap((t) => [t, `${t}/+/#`])];
}

/** Splits a topic into levels; an MQTT filter's `+` matches exactly one. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
