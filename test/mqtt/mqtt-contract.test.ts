/**
 * The SPEC §4 topic contract, run twice: against the embedded Aedes broker
 * and against a real Mosquitto. Real brokers, real clients; waits use
 * timeouts, nothing asserts latency.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startBroker } from '../../src/mqtt/broker.js';
import { startUnitClient, stateDocument, type UnitClient } from '../../src/mqtt/unit-client.js';
import { MeterPump } from '../../src/unit/meter-pump.js';
import type { MeterReading } from '../../src/engine/audio-engine.js';
import { UnitState } from '../../src/unit/unit-state.js';
import { unitTopics } from '../../src/mqtt/topics.js';
import { PARAMS } from '../../src/params/schema.js';
import { BUILT_IN_PRESETS, presetValues } from '../../src/params/presets.js';
import { memoryLogger } from '../../src/log.js';
import { Mosquitto, Probe, sleep } from '../helpers/mosquitto.js';

interface TestBroker { url: string; close(): Promise<void>; mosquitto?: Mosquitto }

const BROKERS: { name: string; start: () => Promise<TestBroker> }[] = [
  {
    name: 'the embedded Aedes broker',
    start: async () => {
      const b = await startBroker({ mqttPort: 0, wsPort: null, host: '127.0.0.1', allowAnonymous: true, log: memoryLogger() });
      return { url: b.url, close: () => b.close() };
    },
  },
  {
    name: 'a spawned Mosquitto',
    start: async () => {
      const m = await Mosquitto.start();
      return { url: m.url, close: () => m.stop(), mosquitto: m };
    },
  },
];

function fakeMeters(): () => MeterReading {
  let n = 0;
  return () => {
    n++;
    return {
      in_peak: [-6, -7], in_rms: [-18, -19], out_peak: [-3, -4], out_rms: [-15, -16],
      gr: [-(n % 10), -(n % 10)], clip_in: [0, 0], clip_out: [0, 0], out_true_peak: [-2.5, -3.5], overs_out: [0, 0], det_level: [-6, -6], xruns: 0, cpu: 1.5,
    } as MeterReading;
  };
}

const deep = (levels: number): string => '{"threshold":'.repeat(1) + '{"a":'.repeat(levels) + '1' + '}'.repeat(levels) + '}';

/** Bad commands: [description, topic suffix, payload]. Each must give one error and change nothing. */
const BAD_INPUTS: [string, string, string | Buffer][] = [
  ['a non-number', 'set/threshold', 'loud'],
  ['NaN', 'set/threshold', 'NaN'],
  ['Infinity as JSON overflow', 'set/threshold', '1e999'],
  ['a value below the range', 'set/threshold', '-100'],
  ['a value above the range', 'set', '{"ratio": 21}'],
  ['an unknown parameter (plain)', 'set/loudness', '3'],
  ['an unknown parameter (JSON)', 'set', '{"loudness": 3}'],
  ['one bad entry among good ones (all-or-nothing)', 'set', '{"threshold": -30, "ratio": 2, "knee": 99}'],
  ['not JSON', 'set', 'threshold=-20'],
  ['a JSON array', 'set', '[{"threshold": -20}]'],
  ['a JSON number', 'set', '42'],
  ['JSON null', 'set', 'null'],
  ['an array as a plain value', 'set/threshold', '[-20]'],
  ['a deeply nested object', 'set', deep(500)],
  ['a deeply nested array', 'set', '['.repeat(1500) + ']'.repeat(1500)],
  ['a huge payload', 'set', JSON.stringify({ threshold: -20, pad: 'x'.repeat(100_000) })],
  ['a wrong enum value', 'set/detector', 'loud'],
  ['an enum value in the wrong case', 'set', '{"link": "MAX"}'],
  ['a word for a boolean', 'set/limiter', 'yes'],
  ['a number sent as text in JSON (wrong type)', 'set', '{"threshold": "-20"}'],
  ['a switch sent as text in JSON (wrong type)', 'set', '{"bypass": "true"}'],
  ['a quoted number as a plain value', 'set/ratio', '"4"'],
  ['a topic deeper than set/<parameter>', 'set/threshold/extra', '-20'],
  ['an empty JSON payload', 'set', ''],
  ['an empty plain payload', 'set/threshold', ''],
  ['an object naming nothing', 'set', '{}'],
  ['an unknown preset', 'set', '{"preset": "no-such-preset"}'],
  ['invalid UTF-8', 'set', Buffer.from([0xff, 0xfe, 0x7b, 0x7d])],
];

for (const kind of BROKERS) {
  describe(`MQTT contract against ${kind.name}`, function () {
    const unitId = `unit-${kind.name.includes('Aedes') ? 'aedes' : 'mosquitto'}-${process.pid}`;
    const t = unitTopics('picomp', unitId);
    let broker: TestBroker;
    let state: UnitState;
    let unit: UnitClient;
    let pump: MeterPump;
    let probe: Probe;

    before(async function () {
      broker = await kind.start();
      state = await UnitState.load({ stateDir: null, log: memoryLogger() });
      pump = new MeterPump({ rateHz: 20, read: fakeMeters(), log: memoryLogger() });
      pump.start();
      unit = await startUnitClient({
        url: broker.url, baseTopic: 'picomp', unitId, state, log: memoryLogger(), haDiscovery: true,
        info: () => ({ version: '0.1.0-test', sample_rate: 48000, block_size: 128, channels: 2, devices: { input: 'demo', output: 'null' } }),
        meters: pump,
      });
      probe = await Probe.connect(broker.url);
      await probe.subscribe([`picomp/${unitId}/#`]);
      await probe.onTopic(t.state);
    });

    after(async function () {
      await probe?.close();
      await unit?.stop();
      pump?.stop();
      await broker?.close();
    });

    /** Sends `get` and returns the state echo that follows: a fence after earlier commands. */
    async function fence(): Promise<{ doc: Record<string, unknown>; since: number }> {
      const since = probe.messages.length;
      await probe.publish(t.get, '');
      const m = await probe.next((x) => x.topic === t.state && !x.retain, 3000, since);
      return { doc: JSON.parse(m.text) as Record<string, unknown>, since };
    }

    it('publishes availability, info and state as retained documents', async function () {
      const late = await Probe.connect(broker.url);
      try {
        await late.subscribe([t.availability, t.info, t.state]);
        const [avail, info, st] = await Promise.all([late.onTopic(t.availability), late.onTopic(t.info), late.onTopic(t.state)]);
        assert.equal(avail.text, 'online');
        assert.ok(avail.retain && info.retain && st.retain, 'all three arrive as retained messages');
        const infoDoc = JSON.parse(info.text) as { unit: string; version: string; sample_rate: number; params: { name: string }[]; presets: { name: string }[] };
        assert.equal(infoDoc.unit, unitId);
        assert.equal(infoDoc.version, '0.1.0-test');
        assert.equal(infoDoc.sample_rate, 48000);
        assert.deepEqual(infoDoc.params.map((p) => p.name), PARAMS.map((p) => p.name));
        assert.deepEqual(infoDoc.presets.map((p) => p.name), BUILT_IN_PRESETS.map((p) => p.name));
        const stDoc = JSON.parse(st.text) as Record<string, unknown>;
        assert.deepEqual(Object.keys(stDoc).sort(), [...PARAMS.map((p) => p.name), 'preset', 'class_rev', 'locked', 'groups'].sort());
        assert.deepEqual(stDoc, stateDocument(state.snapshot));
      } finally {
        await late.close();
      }
    });

    it('applies a plain value on set/<param> and echoes state', async function () {
      const since = probe.messages.length;
      await probe.publish(t.setParam('threshold'), '-20');
      const m = await probe.next((x) => x.topic === t.state && JSON.parse(x.text).threshold === -20, 3000, since);
      assert.equal(JSON.parse(m.text).threshold, -20);
      assert.equal(state.params.threshold, -20);
      await probe.publish(t.setParam('detector'), 'rms');
      await probe.publish(t.setParam('auto_makeup'), 'true');
      await probe.publish(t.setParam('link'), '"average"');
      // Each set has its own echo; the last one carries all three.
      await probe.next((x) => {
        if (x.topic !== t.state) return false;
        const doc = JSON.parse(x.text);
        return doc.detector === 'rms' && doc.auto_makeup === true && doc.link === 'average';
      }, 3000, since);
    });

    it('applies a partial JSON set all at once', async function () {
      const since = probe.messages.length;
      await probe.publish(t.set, JSON.stringify({ ratio: 8, knee: 3, bypass: true }));
      const m = await probe.next((x) => x.topic === t.state && JSON.parse(x.text).ratio === 8, 3000, since);
      const doc = JSON.parse(m.text);
      assert.equal(doc.knee, 3);
      assert.equal(doc.bypass, true);
      assert.equal(doc.preset, null);
    });

    it('loads a preset, and a preset with overrides', async function () {
      const bass = BUILT_IN_PRESETS.find((p) => p.name === 'bass')!;
      let since = probe.messages.length;
      await probe.publish(t.set, '{"preset": "bass"}');
      let m = await probe.next((x) => x.topic === t.state && JSON.parse(x.text).preset === 'bass', 3000, since);
      assert.deepEqual(JSON.parse(m.text), { ...presetValues(bass), preset: 'bass', class_rev: null, locked: false, groups: [] });
      since = probe.messages.length;
      await probe.publish(t.set, '{"preset": "drum-bus", "makeup": 6}');
      m = await probe.next((x) => x.topic === t.state && JSON.parse(x.text).makeup === 6, 3000, since);
      assert.equal(JSON.parse(m.text).sidechain_hpf, 60, 'the preset was laid down under the override');
    });

    it('republishes state on get, whatever the payload', async function () {
      const since = probe.messages.length;
      await probe.publish(t.get, 'please');
      const m = await probe.next((x) => x.topic === t.state, 3000, since);
      assert.deepEqual(JSON.parse(m.text), stateDocument(state.snapshot));
    });

    it('echoes changes made elsewhere (a knob) on state', async function () {
      const since = probe.messages.length;
      state.apply({ mix: 42 }, 'knob');
      const m = await probe.next((x) => x.topic === t.state && JSON.parse(x.text).mix === 42, 3000, since);
      assert.ok(m);
    });

    it('applies a flood of sets in order and ends on the last value', async function () {
      const since = probe.messages.length;
      for (let i = 0; i < 100; i++) probe.client.publish(t.setParam('release'), String(100 + i), { qos: 0 });
      await probe.next((x) => x.topic === t.state && JSON.parse(x.text).release === 199, 5000, since);
      assert.equal(state.params.release, 199);
      assert.equal(probe.messages.slice(since).filter((x) => x.topic === t.error).length, 0);
    });

    it('publishes meters with every field', async function () {
      const since = probe.messages.length;
      await probe.onTopic(t.meters, 3000, since);
      await sleep(500);
      const frames = probe.messages.slice(since).filter((x) => x.topic === t.meters);
      assert.ok(frames.length >= 2, `several meter frames arrived (got ${frames.length})`);
      for (const f of frames) {
        assert.equal(f.retain, false);
        const doc = JSON.parse(f.text) as Record<string, unknown>;
        assert.deepEqual(Object.keys(doc).sort(), ['clip_in', 'clip_out', 'cpu', 'det_level', 'gr', 'in_peak', 'in_rms', 'out_peak', 'out_rms', 'out_true_peak', 'overs_out', 't', 'xruns']);
        assert.equal(typeof doc.t, 'number');
        assert.ok(Math.abs((doc.t as number) - Date.now()) < 60_000, 't is a millisecond epoch');
        assert.equal((doc.in_peak as number[]).length, 2);
      }
    });

    it('publishes the Home Assistant discovery documents', async function () {
      const ha = await Probe.connect(broker.url);
      try {
        await ha.subscribe(`homeassistant/+/${unitId}/+/config`);
        const m = await ha.onTopic(`homeassistant/number/${unitId}/threshold/config`);
        const doc = JSON.parse(m.text);
        assert.equal(doc.command_topic, t.setParam('threshold'));
        assert.equal(doc.min, -60);
        assert.equal(doc.availability_topic, t.availability);
        await ha.onTopic(`homeassistant/select/${unitId}/detector/config`);
        await ha.onTopic(`homeassistant/switch/${unitId}/bypass/config`);
        await ha.onTopic(`homeassistant/sensor/${unitId}/gr/config`);
      } finally {
        await ha.close();
      }
    });

    it('publishes a gentle level summary for Home Assistant sensors', async function () {
      const m = await probe.onTopic(t.levels, 5000, probe.messages.length);
      const doc = JSON.parse(m.text) as Record<string, number>;
      assert.deepEqual(Object.keys(doc).sort(), ['clips', 'cpu', 'gr', 'in_peak', 'out_peak', 'xruns']);
      assert.ok(doc.gr! <= 0 && doc.gr! >= -9, 'the deepest gain reduction of the second');
      assert.equal(doc.out_peak, -3, 'the loudest channel');
      assert.equal(m.retain, false);
    });

    describe('rejects bad commands with exactly one error and no change', function () {
      for (const [what, suffix, payload] of BAD_INPUTS) {
        it(what, async function () {
          const before = (await fence()).doc;
          const topic = `picomp/${unitId}/${suffix}`;
          const since = probe.messages.length;
          await probe.publish(topic, payload);
          const err = await probe.onTopic(t.error, 3000, since);
          const after = await fence();
          const errors = probe.messages.slice(since).filter((x) => x.topic === t.error);
          assert.equal(errors.length, 1, 'exactly one error message');
          const doc = JSON.parse(err.text) as { topic: string; payload: string; error: string };
          assert.equal(doc.topic, topic);
          assert.equal(doc.payload, Buffer.from(payload).subarray(0, 200).toString('utf8'));
          assert.ok(Buffer.byteLength(doc.payload) <= 200 * 3, 'the payload excerpt is short');
          assert.match(doc.error, /\.$/, 'the error is a sentence');
          assert.deepEqual(after.doc, before, 'state is unchanged');
          assert.deepEqual(stateDocument(state.snapshot), before);
        });
      }
    });

    it('keeps serving after all of that', async function () {
      const since = probe.messages.length;
      await probe.publish(t.setParam('threshold'), '-12.5');
      await probe.next((x) => x.topic === t.state && JSON.parse(x.text).threshold === -12.5, 3000, since);
    });
  });
}

describe('MQTT unit client and a Mosquitto that goes away', function () {
  let mosq: Mosquitto;
  before(async () => { mosq = await Mosquitto.start(); });
  after(async () => { await mosq?.stop(); });

  it('has the broker publish offline when the unit process is killed with -9', async function () {
    const unitId = `killed-${process.pid}`;
    const t = unitTopics('picomp', unitId);
    const probe = await Probe.connect(mosq.url);
    const fixture = fileURLToPath(new URL('../fixtures/unit-client-process.js', import.meta.url));
    const child = spawn(process.execPath, [fixture, mosq.url, unitId], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await probe.subscribe(t.availability);
      await probe.next((m) => m.topic === t.availability && m.text === 'online', 10_000);
      const since = probe.messages.length;
      child.kill('SIGKILL');
      const m = await probe.next((x) => x.topic === t.availability, 10_000, since);
      assert.equal(m.text, 'offline');
    } finally {
      child.kill('SIGKILL');
      await probe.close();
    }
  });

  it('reconnects after a broker restart, republishes, and sends no stale meters', async function () {
    const unitId = `restart-${process.pid}`;
    const t = unitTopics('picomp', unitId);
    const state = await UnitState.load({ stateDir: null, log: memoryLogger() });
    state.apply({ threshold: -33 }, 'api');
    const pump = new MeterPump({ rateHz: 20, read: fakeMeters(), log: memoryLogger() });
    pump.start();
    const unit = await startUnitClient({
      url: mosq.url, baseTopic: 'picomp', unitId, state, log: memoryLogger(), haDiscovery: false,
      info: () => ({ version: 'test' }), meters: pump,
    });
    try {
      await mosq.kill();
      await sleep(1500);
      const restartedAt = Date.now();
      await mosq.restart();
      // Mosquitto kept nothing (no persistence): whatever is retained now, the unit republished.
      const probe = await Probe.connect(mosq.url);
      try {
        await probe.subscribe([t.availability, t.info, t.state, t.meters]);
        const [avail, info, st] = await Promise.all([
          probe.onTopic(t.availability, 10_000), probe.onTopic(t.info, 10_000), probe.onTopic(t.state, 10_000),
        ]);
        assert.equal(avail.text, 'online');
        assert.equal(JSON.parse(info.text).unit, unitId);
        assert.equal(JSON.parse(st.text).threshold, -33);
        await probe.onTopic(t.meters, 5000);
        await sleep(300);
        for (const m of probe.messages.filter((x) => x.topic === t.meters)) {
          assert.ok(JSON.parse(m.text).t >= restartedAt, 'no meter frame from the outage was queued and sent later');
        }
        const since = probe.messages.length;
        await probe.publish(t.setParam('ratio'), '3');
        await probe.next((x) => x.topic === t.state && JSON.parse(x.text).ratio === 3, 5000, since);
      } finally {
        await probe.close();
      }
    } finally {
      await unit.stop();
      pump.stop();
    }
  });

  it('starts without a reachable broker and connects once there is one', async function () {
    const late = await Mosquitto.start();
    await late.kill();
    const unitId = `early-${process.pid}`;
    const log = memoryLogger();
    const state = await UnitState.load({ stateDir: null, log });
    const unit = await startUnitClient({
      url: late.url, baseTopic: 'picomp', unitId, state, log, haDiscovery: false,
      info: () => ({}), meters: new MeterPump({ rateHz: 5, read: () => null, log: log }),
    });
    try {
      assert.equal(unit.connected, false);
      assert.ok(log.lines.some((l) => l.startsWith('warn:') && l.includes('keeps retrying')));
      await late.restart();
      const probe = await Probe.connect(late.url);
      try {
        await probe.subscribe(unitTopics('picomp', unitId).availability);
        await probe.next((m) => m.text === 'online', 10_000);
      } finally {
        await probe.close();
      }
    } finally {
      await unit.stop();
      await late.stop();
    }
  });

  it('publishes offline on a clean stop', async function () {
    const unitId = `stopped-${process.pid}`;
    const t = unitTopics('picomp', unitId);
    const state = await UnitState.load({ stateDir: null, log: memoryLogger() });
    const unit = await startUnitClient({
      url: mosq.url, baseTopic: 'picomp', unitId, state, log: memoryLogger(), haDiscovery: false,
      info: () => ({}), meters: new MeterPump({ rateHz: 1, read: () => null, log: memoryLogger() }),
    });
    const probe = await Probe.connect(mosq.url);
    try {
      await probe.subscribe(t.availability);
      await probe.next((m) => m.text === 'online');
      const since = probe.messages.length;
      await unit.stop();
      const m = await probe.onTopic(t.availability, 5000, since);
      assert.equal(m.text, 'offline');
    } finally {
      await probe.close();
    }
  });
});
