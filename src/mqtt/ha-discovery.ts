/**
 * Home Assistant MQTT discovery documents for one unit, derived from the
 * parameter schema (never restating a range), to HA's current documented
 * schema (home-assistant.io/integrations/mqtt, "Discovery"): `number` for
 * numeric parameters, `select` for enums and the preset, `switch` for
 * booleans, `sensor` for levels and health, `binary_sensor` for clipping.
 *
 * Every document carries `default_entity_id` (the replacement of the
 * deprecated `object_id`), an `origin` block and one shared `device` block;
 * parameters a student does not reach for first are `entity_category:
 * config`, health figures `diagnostic`. Full key names, no abbreviations:
 * the payloads stay readable in `mosquitto_sub`.
 *
 * Sensors read the unit's 1 Hz `levels` topic (a LevelSummary, whose
 * silent peaks of -Infinity travel as null) rather than the 20 Hz
 * `meters`, so Home Assistant's recorder is not flooded.
 */
import { hostname, networkInterfaces } from 'node:os';
import { PARAMS, type ParamDef, type ParamName } from '../params/schema.js';
import type { LevelSummary } from '../unit/meter-pump.js';
import { unitTopics } from './topics.js';

export const DEFAULT_DISCOVERY_PREFIX = 'homeassistant';

/** Home Assistant announces itself here (`online` after every start: its "birth message"). */
export const haStatusTopic = (prefix: string = DEFAULT_DISCOVERY_PREFIX): string => `${prefix}/status`;
/** The payload of HA's birth message: time to publish the configs again. */
export const HA_BIRTH_PAYLOAD = 'online';

export interface DiscoveryOptions {
  readonly baseTopic: string;
  readonly unitId: string;
  readonly presetNames: readonly string[];
  readonly version?: string;
  readonly prefix?: string;
  /** The unit's dashboard page, when it runs one: Home Assistant links the device to it. */
  readonly configurationUrl?: string;
  /** Where users get help with picomp (the `origin` block's support_url). */
  readonly supportUrl?: string;
}

export interface DiscoveryMessage {
  readonly topic: string;
  readonly payload: Record<string, unknown>;
}

/** The Home Assistant components picomp publishes. */
export type HaComponent = 'number' | 'select' | 'switch' | 'sensor' | 'binary_sensor';

/**
 * The controls a student reaches for first: shown among the device's
 * controls. Every other parameter is a setting (`entity_category: config`),
 * listed under "Configuration" in Home Assistant.
 */
const PRIMARY_CONTROLS: ReadonlySet<ParamName> = new Set<ParamName>([
  'input_gain', 'threshold', 'ratio', 'knee', 'attack', 'release', 'makeup', 'mix', 'bypass',
]);

/** The level and health sensors: key in the `levels` document, label, unit, HA options. */
export const LEVEL_SENSORS = [
  { key: 'gr', label: 'Gain reduction', unit: 'dB', diagnostic: false },
  { key: 'out_peak', label: 'Output peak', unit: 'dBFS', diagnostic: false },
  { key: 'in_peak', label: 'Input peak', unit: 'dBFS', diagnostic: false },
  { key: 'cpu', label: 'DSP load', unit: '%', diagnostic: true },
  { key: 'xruns', label: 'Audio dropouts', unit: null, diagnostic: true },
] as const satisfies readonly { key: keyof LevelSummary; label: string; unit: string | null; diagnostic: boolean }[];

/** Entity ids are [a-z0-9_] with no doubled or edge underscores; unit ids may hold '-'. */
function entitySlug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
}

/**
 * The user-facing name of a boolean's states on `set/<param>` and in the
 * switch: what Home Assistant, Tasmota and Zigbee2MQTT send by default.
 */
const SWITCH_ON = 'ON';
const SWITCH_OFF = 'OFF';

export function discoveryMessages(opts: DiscoveryOptions): DiscoveryMessage[] {
  const prefix = opts.prefix ?? DEFAULT_DISCOVERY_PREFIX;
  const t = unitTopics(opts.baseTopic, opts.unitId);
  const device = {
    identifiers: [`picomp_${opts.unitId}`],
    name: `picomp ${opts.unitId}`,
    manufacturer: 'picomp',
    model: 'Teaching audio compressor',
    ...(opts.version ? { sw_version: opts.version } : {}),
    ...(opts.configurationUrl ? { configuration_url: opts.configurationUrl } : {}),
  };
  const origin = {
    name: 'picomp',
    ...(opts.version ? { sw_version: opts.version } : {}),
    ...(opts.supportUrl ? { support_url: opts.supportUrl } : {}),
  };
  const message = (component: HaComponent, key: string, name: string, category: 'config' | 'diagnostic' | null,
    fields: Record<string, unknown>): DiscoveryMessage => ({
    topic: `${prefix}/${component}/${opts.unitId}/${key}/config`,
    payload: {
      name,
      unique_id: `picomp_${opts.unitId}_${key}`,
      // Used only when Home Assistant first adds the entity; a user's rename stays.
      default_entity_id: `${component}.${entitySlug(`picomp_${opts.unitId}_${key}`)}`,
      ...(category ? { entity_category: category } : {}),
      device,
      origin,
      availability_topic: t.availability,
      payload_available: 'online',
      payload_not_available: 'offline',
      ...fields,
    },
  });

  const out: DiscoveryMessage[] = PARAMS.map((p: ParamDef) => {
    const category = PRIMARY_CONTROLS.has(p.name as ParamName) ? null : 'config';
    const io = { command_topic: t.setParam(p.name), state_topic: t.state };
    switch (p.kind) {
      case 'number':
        return message('number', p.name, p.label, category, {
          ...io,
          value_template: `{{ value_json.${p.name} }}`,
          min: p.min, max: p.max, step: p.step,
          // ":1" reads oddly as a unit in Home Assistant; a ratio is unitless there.
          ...(p.unit === ':1' ? {} : { unit_of_measurement: p.unit }),
          mode: 'slider',
        });
      case 'enum':
        return message('select', p.name, p.label, category, {
          ...io, value_template: `{{ value_json.${p.name} }}`, options: [...p.options],
        });
      case 'bool':
        return message('switch', p.name, p.label, category, {
          ...io,
          value_template: `{{ '${SWITCH_ON}' if value_json.${p.name} else '${SWITCH_OFF}' }}`,
          payload_on: SWITCH_ON, payload_off: SWITCH_OFF, state_on: SWITCH_ON, state_off: SWITCH_OFF,
        });
    }
  });

  out.push(message('select', 'preset', 'Preset', null, {
    command_topic: t.setParam('preset'),
    state_topic: t.state,
    // HA's select reads "None" as unknown: a detached preset shows no stale name.
    value_template: `{{ value_json.preset if value_json.preset else 'None' }}`,
    options: [...opts.presetNames],
  }));

  for (const s of LEVEL_SENSORS) {
    out.push(message('sensor', s.key, s.label, s.diagnostic ? 'diagnostic' : null, {
      state_topic: t.levels,
      value_template: `{{ value_json.${s.key} }}`,
      ...(s.unit ? { unit_of_measurement: s.unit, suggested_display_precision: 1 } : {}),
      // A dropout count only grows (until a restart), so HA can chart its rate.
      state_class: s.key === 'xruns' ? 'total_increasing' : 'measurement',
      ...(s.key === 'cpu' ? { icon: 'mdi:cpu-64-bit' } : {}),
    }));
  }

  out.push(message('binary_sensor', 'clip', 'Clipping', null, {
    state_topic: t.levels,
    value_template: `{{ '${SWITCH_ON}' if value_json.clips > 0 else '${SWITCH_OFF}' }}`,
    payload_on: SWITCH_ON, payload_off: SWITCH_OFF,
    // "Problem" reads as Problem / OK in Home Assistant: clipping is one.
    device_class: 'problem',
  }));
  return out;
}

/**
 * A local URL (http://127.0.0.1:1880/…) as another machine on the LAN
 * (Home Assistant) reaches it: the listen address when it is one, else the
 * first non-internal IPv4 address, else the host name. Published again at
 * each connect and each HA start, so a new DHCP lease catches up.
 */
export function lanUrl(localUrl: string, listenHost: string | undefined,
  interfaces: ReturnType<typeof networkInterfaces> = networkInterfaces()): string {
  const url = new URL(localUrl);
  const wildcard = !listenHost || listenHost === '0.0.0.0' || listenHost === '::';
  if (!wildcard) return localUrl;
  const lan = Object.values(interfaces).flat().find((a) => a && a.family === 'IPv4' && !a.internal);
  url.hostname = lan?.address ?? hostname();
  return url.toString();
}
