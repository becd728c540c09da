/**
 * Home Assistant discovery documents: derived from the parameter schema, and
 * checked against Home Assistant's documented discovery schema — the
 * configuration variables of home-assistant.io/integrations/<component>.mqtt/
 * and the device/origin blocks of home-assistant.io/integrations/mqtt/
 * ("Discovery payload"), as of the release that replaced `object_id` with
 * `default_entity_id`. Full key names only (no abbreviations are used).
 */
import assert from 'node:assert/strict';
import {
  discoveryMessages, haStatusTopic, lanUrl, LEVEL_SENSORS, type HaComponent,
} from '../../src/mqtt/ha-discovery.js';
import { unitTopics } from '../../src/mqtt/topics.js';
import { PARAMS } from '../../src/params/schema.js';

/** Keys every MQTT entity component documents (availability, identity, device, origin). */
const COMMON_KEYS = [
  'availability', 'availability_mode', 'availability_template', 'availability_topic',
  'payload_available', 'payload_not_available', 'default_entity_id', 'device', 'enabled_by_default',
  'encoding', 'entity_category', 'entity_picture', 'icon', 'json_attributes_template',
  'json_attributes_topic', 'name', 'origin', 'qos', 'unique_id',
];

/** Per component: documented keys beyond the common ones, and the required ones. */
const DOCUMENTED: Record<HaComponent, { keys: string[]; required: string[] }> = {
  number: {
    keys: ['command_template', 'command_topic', 'device_class', 'max', 'min', 'mode', 'optimistic',
      'payload_reset', 'retain', 'state_topic', 'step', 'unit_of_measurement', 'value_template'],
    required: ['command_topic'],
  },
  select: {
    keys: ['command_template', 'command_topic', 'optimistic', 'options', 'retain', 'state_topic', 'value_template'],
    required: ['command_topic', 'options'],
  },
  switch: {
    keys: ['command_template', 'command_topic', 'device_class', 'optimistic', 'payload_off', 'payload_on',
      'retain', 'state_off', 'state_on', 'state_topic', 'value_template'],
    required: [],
  },
  sensor: {
    keys: ['device_class', 'expire_after', 'force_update', 'last_reset_value_template', 'options',
      'suggested_display_precision', 'state_class', 'state_topic', 'unit_of_measurement', 'value_template'],
    required: ['state_topic'],
  },
  binary_sensor: {
    keys: ['device_class', 'expire_after', 'force_update', 'off_delay', 'payload_off', 'payload_on',
      'state_topic', 'value_template'],
    required: ['state_topic'],
  },
};
const DEVICE_KEYS = ['configuration_url', 'connections', 'hw_version', 'identifiers', 'manufacturer', 'model',
  'model_id', 'name', 'serial_number', 'suggested_area', 'sw_version', 'via_device'];
const ORIGIN_KEYS = ['name', 'sw_version', 'support_url'];
/** Documented device classes / state classes / categories used here. */
const ENTITY_CATEGORIES = ['config', 'diagnostic'];
const SENSOR_STATE_CLASSES = ['measurement', 'total', 'total_increasing'];
/** Home Assistant's entity id rule: domain.object with [a-z0-9_], no doubled or edge underscore. */
const ENTITY_ID = /^(?!.+__)(?!_)[\da-z_]+(?<!_)\.(?!_)[\da-z_]+(?<!_)$/;
/** Discovery topic: <prefix>/<component>/[<node_id>/]<object_id>/config, ids of [a-zA-Z0-9_-]. */
const DISCOVERY_TOPIC = /^homeassistant\/([a-z_]+)\/([a-zA-Z0-9_-]+)\/([a-zA-Z0-9_-]+)\/config$/;

describe('Home Assistant discovery', function () {
  const opts = {
    baseTopic: 'picomp', unitId: 'pi-7', presetNames: ['bass', 'drum-bus'], version: '0.1.0',
    configurationUrl: 'http://pi-7.local:1880/dashboard/picomp', supportUrl: 'https://example.org/picomp',
  };
  const msgs = discoveryMessages(opts);
  const byTopic = new Map(msgs.map((m) => [m.topic, m.payload]));
  const t = unitTopics('picomp', 'pi-7');
  const componentOf = (topic: string): HaComponent => DISCOVERY_TOPIC.exec(topic)![1] as HaComponent;

  it('every document keeps to the documented keys of its component, with the required ones', function () {
    for (const m of msgs) {
      const match = DISCOVERY_TOPIC.exec(m.topic);
      assert.ok(match, `${m.topic} is a discovery topic`);
      const component = match[1] as HaComponent;
      const doc = DOCUMENTED[component];
      assert.ok(doc, `${component} is a component picomp documents`);
      const allowed = new Set([...COMMON_KEYS, ...doc.keys]);
      for (const key of Object.keys(m.payload)) assert.ok(allowed.has(key), `${m.topic}: "${key}" is not a documented ${component} key`);
      for (const key of doc.required) assert.ok(m.payload[key] !== undefined, `${m.topic} has ${key}`);
      assert.equal(m.payload.object_id, undefined, 'the deprecated object_id is gone');
      assert.equal(match[2], 'pi-7');
    }
  });

  it('names each entity with a default_entity_id of its own component, and unique ids are unique', function () {
    for (const m of msgs) {
      const id = String(m.payload.default_entity_id);
      assert.match(id, ENTITY_ID, `${m.topic}: ${id} is a valid entity id`);
      assert.equal(id.split('.')[0], componentOf(m.topic));
      assert.match(id, /\.picomp_pi_7_/);
    }
    assert.equal(new Set(msgs.map((m) => m.payload.unique_id)).size, msgs.length);
    assert.equal(new Set(msgs.map((m) => m.payload.default_entity_id)).size, msgs.length);
    // Unique ids keep their earlier form, so a Home Assistant that knew the unit keeps its entities.
    assert.equal(byTopic.get('homeassistant/number/pi-7/threshold/config')!.unique_id, 'picomp_pi-7_threshold');
  });

  it('puts every entity under one device linked to the dashboard, with one origin block', function () {
    const devices = new Set(msgs.map((m) => JSON.stringify(m.payload.device)));
    assert.equal(devices.size, 1);
    const device = msgs[0]!.payload.device as Record<string, unknown>;
    for (const key of Object.keys(device)) assert.ok(DEVICE_KEYS.includes(key), `device key ${key} is documented`);
    assert.deepEqual(device.identifiers, ['picomp_pi-7']);
    assert.equal(device.configuration_url, opts.configurationUrl);
    assert.match(String(device.configuration_url), /^https?:\/\//);
    assert.equal(device.sw_version, '0.1.0');
    for (const m of msgs) {
      const origin = m.payload.origin as Record<string, unknown>;
      for (const key of Object.keys(origin)) assert.ok(ORIGIN_KEYS.includes(key), `origin key ${key} is documented`);
      assert.deepEqual(origin, { name: 'picomp', sw_version: '0.1.0', support_url: opts.supportUrl });
      assert.equal(m.payload.availability_topic, t.availability);
    }
    const bare = discoveryMessages({ baseTopic: 'picomp', unitId: 'pi-7', presetNames: [] });
    assert.equal((bare[0]!.payload.device as Record<string, unknown>).configuration_url, undefined, 'no dashboard, no link');
    assert.deepEqual(bare[0]!.payload.origin, { name: 'picomp' }, 'origin needs only its name');
  });

  it('has every schema parameter exactly once, with its schema range, writing set/<param>', function () {
    for (const p of PARAMS) {
      const docs = msgs.filter((m) => m.payload.command_topic === t.setParam(p.name));
      assert.equal(docs.length, 1, `${p.name} appears once`);
      const doc = docs[0]!.payload;
      const component = p.kind === 'number' ? 'number' : p.kind === 'enum' ? 'select' : 'switch';
      assert.equal(componentOf(docs[0]!.topic), component, `${p.name} is a ${component}`);
      assert.equal(doc.state_topic, t.state);
      if (p.kind === 'number') assert.deepEqual([doc.min, doc.max, doc.step], [p.min, p.max, p.step]);
      if (p.kind === 'enum') assert.deepEqual(doc.options, p.options);
      if (p.kind === 'bool') {
        // What Home Assistant sends is what the unit takes on set/<param> (ON/OFF).
        assert.deepEqual([doc.payload_on, doc.payload_off, doc.state_on, doc.state_off], ['ON', 'OFF', 'ON', 'OFF']);
      }
    }
    assert.deepEqual(byTopic.get('homeassistant/select/pi-7/preset/config')!.options, ['bass', 'drum-bus']);
  });

  it('has the limiter\'s true_peak switch once', function () {
    assert.equal(msgs.filter((m) => m.topic === 'homeassistant/switch/pi-7/true_peak/config').length, 1);
    assert.equal(byTopic.get('homeassistant/switch/pi-7/true_peak/config')!.entity_category, 'config');
  });

  it('sorts entities: main controls, settings (config) and health (diagnostic)', function () {
    const category = (topic: string): unknown => byTopic.get(topic)!.entity_category;
    assert.equal(category('homeassistant/number/pi-7/threshold/config'), undefined);
    assert.equal(category('homeassistant/switch/pi-7/bypass/config'), undefined);
    assert.equal(category('homeassistant/select/pi-7/preset/config'), undefined);
    assert.equal(category('homeassistant/number/pi-7/rms_window/config'), 'config');
    assert.equal(category('homeassistant/select/pi-7/link/config'), 'config');
    assert.equal(category('homeassistant/sensor/pi-7/cpu/config'), 'diagnostic');
    assert.equal(category('homeassistant/sensor/pi-7/xruns/config'), 'diagnostic');
    for (const m of msgs) {
      const c = m.payload.entity_category;
      if (c !== undefined) assert.ok(ENTITY_CATEGORIES.includes(String(c)));
      // Home Assistant refuses `config` on sensors: they can only be diagnostic.
      if (componentOf(m.topic).endsWith('sensor') && c !== undefined) assert.equal(c, 'diagnostic');
      if (m.payload.state_class !== undefined) assert.ok(SENSOR_STATE_CLASSES.includes(String(m.payload.state_class)));
    }
  });

  it('reads levels, health and clipping from the 1 Hz levels topic', function () {
    for (const s of LEVEL_SENSORS) {
      const doc = byTopic.get(`homeassistant/sensor/pi-7/${s.key}/config`)!;
      assert.equal(doc.state_topic, t.levels);
      assert.equal(doc.value_template, `{{ value_json.${s.key} }}`);
    }
    assert.equal(byTopic.get('homeassistant/sensor/pi-7/xruns/config')!.state_class, 'total_increasing');
    const clip = byTopic.get('homeassistant/binary_sensor/pi-7/clip/config')!;
    assert.equal(clip.state_topic, t.levels);
    assert.equal(clip.device_class, 'problem');
    assert.equal(msgs.length, PARAMS.length + 1 + LEVEL_SENSORS.length + 1);
    assert.equal(haStatusTopic(), 'homeassistant/status');
    assert.equal(haStatusTopic('ha'), 'ha/status');
  });

  it('links the dashboard at an address the LAN reaches', function () {
    const nics = {
      lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
      eth0: [{ address: 'fe80::1', family: 'IPv6', internal: false }, { address: '192.168.1.20', family: 'IPv4', internal: false }],
    } as unknown as Parameters<typeof lanUrl>[2];
    const local = 'http://127.0.0.1:1880/dashboard/picomp';
    assert.equal(lanUrl(local, '0.0.0.0', nics), 'http://192.168.1.20:1880/dashboard/picomp');
    assert.equal(lanUrl(local, undefined, nics), 'http://192.168.1.20:1880/dashboard/picomp');
    assert.equal(lanUrl('http://10.0.0.5:1880/dashboard/picomp', '10.0.0.5', nics), 'http://10.0.0.5:1880/dashboard/picomp');
  });
});
