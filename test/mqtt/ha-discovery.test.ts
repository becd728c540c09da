/** Home Assistant discovery documents are derived from the parameter schema. */
import assert from 'node:assert/strict';
import { discoveryMessages, LEVEL_SENSORS } from '../../src/mqtt/ha-discovery.js';
import { unitTopics } from '../../src/mqtt/topics.js';
import { PARAMS } from '../../src/params/schema.js';

describe('Home Assistant discovery', function () {
  const msgs = discoveryMessages({ baseTopic: 'picomp', unitId: 'pi-7', presetNames: ['bass', 'drum-bus'], version: '0.1.0' });
  const byTopic = new Map(msgs.map((m) => [m.topic, m.payload]));
  const t = unitTopics('picomp', 'pi-7');

  it('has one entity per parameter with the schema ranges, plus preset and level sensors', function () {
    assert.equal(msgs.length, PARAMS.length + 1 + LEVEL_SENSORS.length);
    for (const p of PARAMS) {
      const component = p.kind === 'number' ? 'number' : p.kind === 'enum' ? 'select' : 'switch';
      const doc = byTopic.get(`homeassistant/${component}/pi-7/${p.name}/config`);
      assert.ok(doc, `${p.name} has a ${component}`);
      assert.equal(doc.command_topic, t.setParam(p.name));
      assert.equal(doc.state_topic, t.state);
      if (p.kind === 'number') {
        assert.deepEqual([doc.min, doc.max, doc.step], [p.min, p.max, p.step]);
      }
      if (p.kind === 'enum') assert.deepEqual(doc.options, p.options);
    }
    assert.deepEqual(byTopic.get('homeassistant/select/pi-7/preset/config')!.options, ['bass', 'drum-bus']);
    assert.equal(byTopic.get('homeassistant/sensor/pi-7/gr/config')!.state_topic, t.levels);
  });

  it('puts every entity under one device with the unit availability', function () {
    const ids = new Set(msgs.map((m) => JSON.stringify(m.payload.device)));
    assert.equal(ids.size, 1);
    assert.match([...ids][0]!, /"sw_version":"0.1.0"/);
    for (const m of msgs) {
      assert.equal(m.payload.availability_topic, t.availability);
      assert.match(String(m.payload.unique_id), /^picomp_pi-7_/);
    }
    assert.equal(new Set(msgs.map((m) => m.payload.unique_id)).size, msgs.length, 'unique ids are unique');
  });
});
