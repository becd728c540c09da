/**
 * The client side of the attacks, where the broker is not ours: a unit on
 * a classroom Mosquitto hub puts back its availability and info when a
 * student overwrites them, and never echoes a huge topic in full.
 */
import assert from 'node:assert/strict';
import { startUnitClient, type UnitClient } from '../../src/mqtt/unit-client.js';
import { MeterPump } from '../../src/unit/meter-pump.js';
import { UnitState } from '../../src/unit/unit-state.js';
import { unitTopics } from '../../src/mqtt/topics.js';
import { memoryLogger } from '../../src/log.js';
import type { MeterReading } from '../../src/engine/audio-engine.js';
import { Mosquitto, Probe, sleep } from '../helpers/mosquitto.js';

const UNIT = 'hub-unit';
const T = unitTopics('picomp', UNIT);

describe('security: a unit on a Mosquitto hub under attack', function () {
  this.timeout(60_000);
  let mosq: Mosquitto;
  let unit: UnitClient;
  let pump: MeterPump;
  let state: UnitState;
  before(async () => {
    mosq = await Mosquitto.start();
    state = await UnitState.load({ stateDir: null, log: memoryLogger() });
    pump = new MeterPump({ rateHz: 20, read: () => ({ in_peak: [-6], in_rms: [-9], out_peak: [-6], out_rms: [-9], gr: [0], clip_in: [0], clip_out: [0], xruns: 0, cpu: 1 } as MeterReading), log: memoryLogger() });
    pump.start();
    unit = await startUnitClient({ url: mosq.url, baseTopic: 'picomp', unitId: UNIT, state, log: memoryLogger(), haDiscovery: false, info: () => ({ version: 'test' }), meters: pump });
  });
  after(async () => { pump.stop(); await unit.stop(); await mosq.stop(); });

  it('puts back an overwritten availability and info', async function () {
    const p = await Probe.connect(mosq.url);
    try {
      await p.publish(T.availability, 'offline', { retain: true });
      await p.publish(T.info, 'defaced', { retain: true });
      await sleep(500);
      const q = await Probe.connect(mosq.url);
      await q.subscribe([T.availability, T.info, T.meters]);
      assert.equal((await q.onTopic(T.availability)).text, 'online');
      assert.notEqual((await q.onTopic(T.info)).text, 'defaced');
      await q.onTopic(T.meters, 3000);
      await q.close();
    } finally {
      await p.close();
    }
  });

  it('cuts a 60 KB topic in its error echo, and changes nothing', async function () {
    const before = JSON.stringify(state.snapshot);
    const p = await Probe.connect(mosq.url);
    try {
      await p.subscribe(T.error);
      await p.publish(`${T.set}/${'y'.repeat(60_000)}`, '1');
      const echo = await p.onTopic(T.error, 3000);
      assert.ok(echo.text.length < 2000, `${echo.text.length} bytes`);
      assert.equal(JSON.stringify(state.snapshot), before);
    } finally {
      await p.close();
    }
  });
});
