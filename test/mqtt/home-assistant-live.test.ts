/**
 * The unit as Home Assistant and a footswitch meet it, on a real Mosquitto:
 * configs published again when HA announces `homeassistant/status online`,
 * the dashboard linked as the device's configuration_url, the 1 Hz levels
 * with clipping and health, and ON/OFF/TOGGLE on set/<param>.
 */
import assert from 'node:assert/strict';
import { startUnitClient, type UnitClient } from '../../src/mqtt/unit-client.js';
import { UnitState } from '../../src/unit/unit-state.js';
import { MeterPump } from '../../src/unit/meter-pump.js';
import type { MeterReading } from '../../src/engine/audio-engine.js';
import { unitTopics } from '../../src/mqtt/topics.js';
import { memoryLogger } from '../../src/log.js';
import { Mosquitto, Probe } from '../helpers/mosquitto.js';

function clippingMeters(): () => MeterReading {
  let n = 0;
  return () => {
    n++;
    return {
      in_peak: [-6, -7], in_rms: [-18, -19], out_peak: [-3, -4], out_rms: [-15, -16], gr: [-2, -2],
      clip_in: [0, 0], clip_out: [n % 5 === 0 ? 2 : 0, 0], out_true_peak: [-3, -4], overs_out: [0, 0], det_level: [-6, -7],
      xruns: 3, cpu: n % 2 ? 1.5 : 2.25,
      latency_ms: 3, sample_rate: 48000, block_size: 128, worker_gcs: 0,
    };
  };
}

describe('a unit as Home Assistant and a footswitch see it', function () {
  this.timeout(60_000);
  const unitId = `ha-${process.pid}`;
  const t = unitTopics('picomp', unitId);
  const configTopic = `homeassistant/number/${unitId}/threshold/config`;
  let mosquitto: Mosquitto;
  let state: UnitState;
  let pump: MeterPump;
  let unit: UnitClient;
  let ha: Probe;

  before(async function () {
    mosquitto = await Mosquitto.start();
    state = await UnitState.load({ stateDir: null, log: memoryLogger() });
    pump = new MeterPump({ rateHz: 20, read: clippingMeters(), log: memoryLogger() });
    pump.start();
    unit = await startUnitClient({
      url: mosquitto.url, baseTopic: 'picomp', unitId, state, log: memoryLogger(), haDiscovery: true,
      supportUrl: 'https://example.org/picomp',
      info: () => ({ version: '9.9.9' }), meters: pump,
    });
    ha = await Probe.connect(mosquitto.url);
    await ha.subscribe([`homeassistant/+/${unitId}/+/config`, `picomp/${unitId}/#`]);
    await ha.onTopic(configTopic, 5000);
  });

  after(async function () {
    await ha?.close();
    await unit?.stop();
    pump?.stop();
    await mosquitto?.stop();
  });

  it('publishes the configs again when Home Assistant announces itself online (and not for other payloads)', async function () {
    // Home Assistant restarted on a broker that lost its retained messages.
    await ha.publish(configTopic, '', { retain: true });
    const since = ha.messages.length;
    await ha.publish('homeassistant/status', 'offline');
    await ha.publish('homeassistant/status', 'online');
    const m = await ha.next((x) => x.topic === configTopic && x.text !== '', 5000, since);
    const doc = JSON.parse(m.text) as Record<string, unknown>;
    assert.equal(doc.default_entity_id, `number.picomp_${unitId.replace(/-/g, '_')}_threshold`);
    assert.deepEqual(doc.origin, { name: 'picomp', sw_version: '9.9.9', support_url: 'https://example.org/picomp' });
    // One re-publication per "online": every entity once, nothing for "offline".
    await ha.next((x) => x.topic === `homeassistant/binary_sensor/${unitId}/clip/config`, 5000, since);
    assert.equal(ha.messages.slice(since).filter((x) => x.topic === configTopic && x.text !== '').length, 1);
  });

  it('links the dashboard once it runs, as the device configuration_url', async function () {
    const since = ha.messages.length;
    await unit.linkDashboard('http://192.0.2.7:1880/dashboard/picomp');
    const m = await ha.next((x) => x.topic === configTopic && x.text.includes('configuration_url'), 5000, since);
    assert.equal((JSON.parse(m.text) as { device: { configuration_url: string } }).device.configuration_url, 'http://192.0.2.7:1880/dashboard/picomp');
  });

  it('publishes levels once a second with clipping, the highest DSP load and the dropout count', async function () {
    const since = ha.messages.length;
    const m = await ha.next((x) => x.topic === t.levels, 5000, since);
    const doc = JSON.parse(m.text) as Record<string, number>;
    assert.deepEqual({ ...doc, clips: doc.clips! > 0 }, { gr: -2, out_peak: -3, in_peak: -6, clips: true, cpu: 2.25, xruns: 3 });
  });

  it('takes ON, OFF, 1, 0 and TOGGLE on set/<switch>, each with its state echo', async function () {
    const expect = async (payload: string, bypass: boolean): Promise<void> => {
      const since = ha.messages.length;
      await ha.publish(t.setParam('bypass'), payload);
      const m = await ha.next((x) => x.topic === t.state && (JSON.parse(x.text) as { bypass: boolean }).bypass === bypass && !x.retain, 5000, since);
      assert.ok(m);
      assert.equal(state.params.bypass, bypass, payload);
    };
    await expect('ON', true);
    await expect('OFF', false);
    await expect('TOGGLE', true);
    await expect('toggle', false);
    await expect('1', true);
    await expect('0', false);
    await expect('TOGGLE', true);
  });

  it('answers a word that is no switch with one error and changes nothing', async function () {
    const before = state.params.bypass;
    const since = ha.messages.length;
    await ha.publish(t.setParam('bypass'), 'maybe');
    const e = await ha.next((x) => x.topic === t.error, 5000, since);
    assert.match(JSON.parse(e.text).error as string, /^bypass must be true or false \(also ON, OFF, 1, 0 or TOGGLE\), got "maybe"\.$/);
    assert.equal(state.params.bypass, before);
  });
});
