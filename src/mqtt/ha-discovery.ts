/**
 * Home Assistant MQTT discovery documents for one unit, derived from the
 * parameter schema (never restating a range): `number` for numeric
 * parameters, `select` for enums and the preset, `switch` for booleans and
 * `sensor` for levels. Sensors read the unit's 1 Hz `levels` topic rather
 * than the 20 Hz `meters`, so Home Assistant's recorder is not flooded.
 */
import { PARAMS, type ParamDef } from '../params/schema.js';
import { unitTopics } from './topics.js';

export const DEFAULT_DISCOVERY_PREFIX = 'homeassistant';

export interface DiscoveryOptions {
  readonly baseTopic: string;
  readonly unitId: string;
  readonly presetNames: readonly string[];
  readonly version?: string;
  readonly prefix?: string;
}

export interface DiscoveryMessage {
  readonly topic: string;
  readonly payload: Record<string, unknown>;
}

/** The level sensors: key in the `levels` document, label, unit. */
export const LEVEL_SENSORS = [
  { key: 'gr', label: 'Gain reduction', unit: 'dB' },
  { key: 'out_peak', label: 'Output peak', unit: 'dBFS' },
  { key: 'in_peak', label: 'Input peak', unit: 'dBFS' },
] as const;

export function discoveryMessages(opts: DiscoveryOptions): DiscoveryMessage[] {
  const prefix = opts.prefix ?? DEFAULT_DISCOVERY_PREFIX;
  const t = unitTopics(opts.baseTopic, opts.unitId);
  const device = {
    identifiers: [`picomp_${opts.unitId}`],
    name: `picomp ${opts.unitId}`,
    manufacturer: 'picomp',
    model: 'Teaching audio compressor',
    ...(opts.version ? { sw_version: opts.version } : {}),
  };
  const common = (objectId: string, name: string): Record<string, unknown> => ({
    name,
    unique_id: `picomp_${opts.unitId}_${objectId}`,
    object_id: `picomp_${opts.unitId}_${objectId}`,
    device,
    availability_topic: t.availability,
    payload_available: 'online',
    payload_not_available: 'offline',
  });
  const topic = (component: string, objectId: string): string => `${prefix}/${component}/${opts.unitId}/${objectId}/config`;

  const out: DiscoveryMessage[] = PARAMS.map((p: ParamDef) => {
    const base = {
      ...common(p.name, p.label),
      command_topic: t.setParam(p.name),
      state_topic: t.state,
    };
    switch (p.kind) {
      case 'number':
        return {
          topic: topic('number', p.name),
          payload: {
            ...base,
            value_template: `{{ value_json.${p.name} }}`,
            min: p.min, max: p.max, step: p.step,
            // ":1" reads oddly as a unit in Home Assistant; a ratio is unitless there.
            ...(p.unit === ':1' ? {} : { unit_of_measurement: p.unit }),
            mode: 'slider',
          },
        };
      case 'enum':
        return {
          topic: topic('select', p.name),
          payload: { ...base, value_template: `{{ value_json.${p.name} }}`, options: [...p.options] },
        };
      case 'bool':
        return {
          topic: topic('switch', p.name),
          payload: {
            ...base,
            value_template: `{{ 'true' if value_json.${p.name} else 'false' }}`,
            payload_on: 'true', payload_off: 'false', state_on: 'true', state_off: 'false',
          },
        };
    }
  });

  out.push({
    topic: topic('select', 'preset'),
    payload: {
      ...common('preset', 'Preset'),
      command_topic: t.setParam('preset'),
      state_topic: t.state,
      // A detached preset (null) shows as "unknown" rather than a stale name.
      value_template: `{{ value_json.preset if value_json.preset else 'None' }}`,
      options: [...opts.presetNames],
    },
  });

  for (const s of LEVEL_SENSORS) {
    out.push({
      topic: topic('sensor', s.key),
      payload: {
        ...common(s.key, s.label),
        state_topic: t.levels,
        value_template: `{{ value_json.${s.key} }}`,
        unit_of_measurement: s.unit,
        state_class: 'measurement',
      },
    });
  }
  return out;
}
