/**
 * Attacks on a running unit's embedded broker, as a curious student on the
 * classroom LAN would try them (here on loopback, bounded in count and
 * time). Each row says what is tried and asserts the outcome: refused or
 * cut off, nothing changed, and the unit still metering.
 */
import assert from 'node:assert/strict';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt from 'mqtt';
import WebSocket from 'ws';
import { startBroker, type RunningBroker } from '../../src/mqtt/broker.js';
import { DEFAULTS } from '../../src/mqtt/broker-auth.js';
import { startUnitClient, type UnitClient } from '../../src/mqtt/unit-client.js';
import { MeterPump } from '../../src/unit/meter-pump.js';
import { UnitState } from '../../src/unit/unit-state.js';
import { unitTopics } from '../../src/mqtt/topics.js';
import { upsertUser } from '../../src/mqtt/users.js';
import { dashboardClientId, unitClientId } from '../../src/mqtt/client-ids.js';
import { usersFile } from '../../src/unit/state-dir.js';
import { memoryLogger, type Logger } from '../../src/log.js';
import type { MeterReading } from '../../src/engine/audio-engine.js';
import { Probe, sleep } from '../helpers/mosquitto.js';
import { tryLogin, withTempDir } from '../helpers/attack.js';

const UNIT = 'lab-1';
const T = unitTopics('picomp', UNIT);

function meters(): () => MeterReading {
  return () => ({
    in_peak: [-6, -6], in_rms: [-18, -18], out_peak: [-3, -3], out_rms: [-15, -15],
    gr: [-2, -2], clip_in: [0, 0], clip_out: [0, 0], xruns: 0, cpu: 1,
  } as MeterReading);
}

interface Rig { broker: RunningBroker; unit: UnitClient; state: UnitState; pump: MeterPump; log: Logger & { lines: string[] }; close(): Promise<void> }

async function startRig(opts: { usersFile?: string } = {}): Promise<Rig> {
  const log = memoryLogger();
  const broker = await startBroker({
    mqttPort: 0, wsPort: 0, host: '127.0.0.1', allowAnonymous: false, unitId: UNIT, log,
    ...(opts.usersFile ? { usersFile: opts.usersFile } : {}),
  });
  const state = await UnitState.load({ stateDir: null, log: memoryLogger() });
  const pump = new MeterPump({ rateHz: 20, read: meters(), log: memoryLogger() });
  pump.start();
  const unit = await startUnitClient({
    url: broker.url, ...broker.serviceAccount, baseTopic: 'picomp', unitId: UNIT, state, log, haDiscovery: false,
    info: () => ({ version: 'test' }), meters: pump,
  });
  return {
    broker, unit, state, pump, log,
    close: async () => { pump.stop(); await unit.stop(); await broker.close(); },
  };
}

/** The unit is online, meters flow and its state is as before. */
async function stillMetering(rig: Rig, before: string, creds: mqtt.IClientOptions = {}): Promise<void> {
  const p = await Probe.connect(rig.broker.url, creds);
  try {
    await p.subscribe([T.meters, T.availability]);
    assert.equal((await p.onTopic(T.availability)).text, 'online');
    await p.onTopic(T.meters, 3000);
    assert.equal(JSON.stringify(rig.state.snapshot), before, 'nothing changed');
  } finally {
    await p.close();
  }
}

/** An MQTT fixed header announcing a PUBLISH of `length` bytes (the body never follows). */
function announcePublish(length: number): Buffer {
  const bytes = [0x30];
  let n = length;
  do { let b = n % 128; n = Math.floor(n / 128); if (n > 0) b |= 0x80; bytes.push(b); } while (n > 0);
  return Buffer.from(bytes);
}

/** A minimal MQTT 3.1.1 CONNECT (clean session, no login). */
function connectPacket(clientId: string): Buffer {
  const id = Buffer.from(clientId);
  const body = Buffer.concat([Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 2, 0, 30, id.length >> 8, id.length & 0xff]), id]);
  return Buffer.concat([Buffer.from([0x10, body.length]), body]);
}

function rawSocket(port: number, localAddress = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ port, host: '127.0.0.1', localAddress }, () => resolve(s));
    s.once('error', reject);
  });
}

function closedWithin(s: Socket | WebSocket, ms: number): Promise<boolean> {
  if ((s as Socket).closed || (s as WebSocket).readyState === WebSocket.CLOSED) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    s.once('close', () => { clearTimeout(timer); resolve(true); });
  });
}

describe('security: attacks on the embedded broker', function () {
  this.timeout(60_000);
  let rig: Rig;
  let before: string;
  beforeEach(async () => { rig = await startRig(); before = JSON.stringify(rig.state.snapshot); });
  afterEach(async () => { await rig.close(); });

  it('an announced 250 MB PUBLISH over TCP closes that socket at once, logged once', async function () {
    const sockets = await Promise.all([0, 1, 2].map(() => rawSocket(rig.broker.mqttPort)));
    for (const s of sockets) { s.write(connectPacket(`big-${s.localPort}`)); s.write(announcePublish(250_000_000)); s.write(Buffer.alloc(64 * 1024)); }
    for (const s of sockets) assert.equal(await closedWithin(s, 5000), true, 'the broker closed it');
    const lines = rig.log.lines.filter((l) => /announced a 250000000-byte PUBLISH/.test(l));
    assert.equal(lines.length, 3, rig.log.lines.join('\n'));
    await stillMetering(rig, before);
  });

  it('an oversized packet before CONNECT is cut off too', async function () {
    const s = await rawSocket(rig.broker.mqttPort);
    s.write(Buffer.concat([Buffer.from([0x10]), announcePublish(DEFAULTS.maxConnectingPacketBytes + 1).subarray(1)]));
    assert.equal(await closedWithin(s, 5000), true);
    assert.ok(rig.log.lines.some((l) => /-byte CONNECT, over the/.test(l)), rig.log.lines.join('\n'));
  });

  it('an announced huge PUBLISH over WebSocket closes that connection', async function () {
    const ws = new WebSocket(`ws://127.0.0.1:${rig.broker.wsPort}`, 'mqtt');
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    ws.send(connectPacket('ws-big'));
    await sleep(200);
    ws.send(announcePublish(250_000_000));
    assert.equal(await closedWithin(ws, 5000), true);
    assert.ok(rig.log.lines.some((l) => /announced a 250000000-byte PUBLISH/.test(l)), rig.log.lines.join('\n'));
    await stillMetering(rig, before);
  });

  it('idle sockets that never send CONNECT are bounded per address; others still get in', async function () {
    const idle: Socket[] = [];
    try {
      for (let i = 0; i < DEFAULTS.maxConnectingPerAddress + 8; i++) idle.push(await rawSocket(rig.broker.mqttPort, '127.0.0.9'));
      const closed = await Promise.all(idle.map((s) => closedWithin(s, 1500)));
      assert.equal(closed.filter(Boolean).length, 8, 'those over the per-address limit are closed at once');
      await stillMetering(rig, before);
    } finally {
      for (const s of idle) s.destroy();
    }
  });

  it('idle sockets on the WebSocket port that never upgrade count against the same limit, across both ports', async function () {
    const idle: Socket[] = [];
    try {
      // Half on each port from one address: the limit is the address's, whichever door it knocks on.
      for (let i = 0; i < DEFAULTS.maxConnectingPerAddress + 8; i++) {
        idle.push(await rawSocket(i % 2 ? rig.broker.mqttPort : rig.broker.wsPort!, '127.0.0.10'));
      }
      const closed = await Promise.all(idle.map((s) => closedWithin(s, 1500)));
      assert.equal(closed.filter(Boolean).length, 8, 'those over the per-address limit are closed at once');
      // A browser from another address still gets in over WebSocket.
      const c = await mqtt.connectAsync(`ws://127.0.0.1:${rig.broker.wsPort}`, { reconnectPeriod: 0 });
      await c.endAsync(true);
      await stillMetering(rig, before);
    } finally {
      for (const s of idle) s.destroy();
    }
  });

  it('a persistent session that stays away keeps at most its queue limit', async function () {
    const id = 'sleepy-viewer';
    const sleepy = await mqtt.connectAsync(rig.broker.url, { clientId: id, clean: false, reconnectPeriod: 0 });
    await sleepy.subscribeAsync('flood/#', { qos: 1 });
    await sleepy.endAsync();
    const flood = await Probe.connect(rig.broker.url);
    for (let i = 0; i < DEFAULTS.maxQueuedPerSession + 50; i++) await flood.publish(`flood/${i}`, 'x', { qos: 1 });
    await flood.close();
    const back = await mqtt.connectAsync(rig.broker.url, { clientId: id, clean: false, reconnectPeriod: 0 });
    let got = 0;
    back.on('message', () => { got++; });
    await sleep(1000);
    await back.endAsync();
    assert.ok(got > 0 && got <= DEFAULTS.maxQueuedPerSession, `${got} queued messages delivered`);
    assert.ok(rig.log.lines.some((l) => /sleepy-viewer" has \d+ messages waiting/.test(l)));
  });

  it('persistent sessions left behind are bounded in number, the oldest forgotten first', async function () {
    for (let i = 0; i <= DEFAULTS.maxOfflineSessions; i++) {
      const c = await mqtt.connectAsync(rig.broker.url, { clientId: `ghost-${i}`, clean: false, reconnectPeriod: 0 });
      await c.subscribeAsync('ghost/#', { qos: 1 });
      await c.endAsync();
    }
    await sleep(300);
    assert.ok(rig.log.lines.some((l) => /forgot the offline session of MQTT client "ghost-0"/.test(l)), rig.log.lines.slice(-3).join('\n'));
    // ghost-0 comes back to an empty session: nothing was kept for it.
    const flood = await Probe.connect(rig.broker.url);
    await flood.publish('ghost/x', 'for the ghosts', { qos: 1 });
    await flood.close();
    const back = await mqtt.connectAsync(rig.broker.url, { clientId: 'ghost-0', clean: false, reconnectPeriod: 0 });
    assert.ok(back.connected);
    let got = 0;
    back.on('message', () => { got++; });
    await sleep(500);
    await back.endAsync();
    assert.equal(got, 0, 'the forgotten session got nothing');
    await stillMetering(rig, before);
  });

  it('retained messages are limited in size', async function () {
    const p = await Probe.connect(rig.broker.url);
    try {
      await p.publish('junk/big', Buffer.alloc(DEFAULTS.maxRetainedPayloadBytes + 1, 0x41), { retain: true });
      await p.publish('junk/small', 'ok', { retain: true });
      const q = await Probe.connect(rig.broker.url);
      await q.subscribe('junk/#');
      await q.onTopic('junk/small');
      await sleep(300);
      assert.equal(q.count('junk/big'), 0, 'the big one was not retained');
      await q.close();
    } finally {
      await p.close();
    }
  });

  it('retained messages are limited in total bytes', async function () {
    const p = await Probe.connect(rig.broker.url);
    try {
      const size = 60 * 1024;
      const n = Math.ceil(DEFAULTS.maxRetainedBytes / size) + 5;
      for (let i = 0; i < n; i++) await p.publish(`junk/${i}`, Buffer.alloc(size, 0x41), { retain: true });
      const q = await Probe.connect(rig.broker.url);
      await q.subscribe('junk/#');
      await sleep(1500);
      const kept = q.messages.filter((m) => m.topic.startsWith('junk/')).length;
      assert.ok(kept > 0 && kept * size <= DEFAULTS.maxRetainedBytes, `${kept} kept`);
      await q.close();
      assert.ok(rig.log.lines.some((l) => /did not retain/.test(l)));
    } finally {
      await p.close();
    }
    await stillMetering(rig, before);
  });

  it('in open mode, junk filling the retained store cannot keep the unit\'s own documents out', async function () {
    const p = await Probe.connect(rig.broker.url);
    try {
      // Every retained topic taken, then the unit's availability cleared: putting it back needs a new topic...
      for (let i = 0; i < DEFAULTS.maxRetained; i++) await p.publish(`junk/${i}`, 'x', { retain: true });
      // ... and its place taken at once, before the unit can put it back.
      await Promise.all([p.publish(T.availability, '', { retain: true }), p.publish('junk/last', 'x', { retain: true })]);
      await sleep(1500);
      const q = await Probe.connect(rig.broker.url);
      try {
        await q.subscribe([T.availability, T.state]);
        assert.equal((await q.onTopic(T.availability, 3000)).text, 'online');
        await q.onTopic(T.state, 3000);
      } finally {
        await q.close();
      }
    } finally {
      await p.close();
    }
  });

  it('250 KB payloads at full speed exhaust the byte allowance and get their sender disconnected, long before the message allowance', async function () {
    const flood = await mqtt.connectAsync(rig.broker.url, { reconnectPeriod: 0 });
    const closed = new Promise<void>((resolve) => flood.once('close', () => resolve()));
    const payload = Buffer.alloc(250 * 1024, 0x44);
    let sent = 0;
    for (; sent < 200 && flood.connected; sent++) {
      flood.publish('junk/big', payload, { qos: 0 });
      await sleep(1);
    }
    await Promise.race([closed, sleep(10_000)]);
    assert.equal(flood.connected, false, 'the flood was cut off');
    flood.end(true);
    assert.ok(sent < 100, `cut off after ${sent} payloads of 250 KB (4 MiB burst), not at the message limit`);
    assert.ok(rig.log.lines.some((l) => /published more than \d+ messages or 1 MiB a second/.test(l)), rig.log.lines.slice(-3).join('\n'));
  });

  it('a set storm over the publish rate limit gets its sender disconnected; the unit keeps metering', async function () {
    const storm = await mqtt.connectAsync(rig.broker.url, { reconnectPeriod: 0 });
    const closed = new Promise<void>((resolve) => storm.once('close', () => resolve()));
    const n = DEFAULTS.publishRate.burst + 1000;
    for (let i = 0; i < n && storm.connected; i++) storm.publish(`${T.set}/threshold`, String(-(i % 60)), { qos: 0 });
    await Promise.race([closed, sleep(10_000)]);
    assert.equal(storm.connected, false, 'the storm was cut off');
    storm.end(true);
    assert.ok(rig.log.lines.some((l) => /published more than \d+ messages or \d+ MiB a second/.test(l)), rig.log.lines.slice(-3).join('\n'));
    const p = await Probe.connect(rig.broker.url);
    try {
      await p.subscribe(T.meters);
      await p.onTopic(T.meters, 3000);
    } finally {
      await p.close();
    }
  });

  it('thousands of subscriptions on one connection: beyond the limit they are refused in the SUBACK; unsubscribing makes room', async function () {
    const max = DEFAULTS.maxSubscriptionsPerClient;
    const c = await mqtt.connectAsync(rig.broker.url, { reconnectPeriod: 0 });
    try {
      const filters = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => `junk/${'z'.repeat(100)}/${from + i}/#`);
      // mqtt.js rejects a subscribe with any refused filter; the SUBACK's codes come with the error.
      const subscribe = (topics: string[]): Promise<number[]> => c.subscribeAsync(topics, { qos: 1 }).then(
        (granted) => granted.map((g) => g.qos),
        (e: { packet?: { granted?: number[] } }) => { if (!e.packet?.granted) throw e; return e.packet.granted; });
      // Packets of 200 filters (about 24 KB each, under the SUBSCRIBE packet cap), 1500 filters in all.
      const codes: number[] = [];
      for (let from = 0; from < max + 500; from += 200) codes.push(...await subscribe(filters(from, 200)));
      const granted = codes.filter((qos) => qos !== 128).length;
      assert.equal(granted, max);
      assert.equal(rig.log.lines.filter((l) => l.includes('subscriptions (the limit)')).length, 1, 'logged once');
      await c.unsubscribeAsync(filters(0, 10));
      assert.deepEqual(await subscribe(filters(5000, 10)), Array(10).fill(1));
      assert.deepEqual(await subscribe(filters(6000, 1)), [128]);
    } finally {
      await c.endAsync(true);
    }
    await stillMetering(rig, before);
  });

  it('long topic filters are refused in the SUBACK, and one connection holds a bounded number of characters of filters', async function () {
    // 1000 legal filters of 60 KB (16 levels) took 75 MB per connection.
    const c = await mqtt.connectAsync(rig.broker.url, { reconnectPeriod: 0 });
    try {
      const subscribe = (topics: string[]): Promise<number[]> => c.subscribeAsync(topics, { qos: 0 }).then(
        (granted) => granted.map((g) => g.qos),
        (e: { packet?: { granted?: number[] } }) => { if (!e.packet?.granted) throw e; return e.packet.granted; });
      const long = `junk/${Array.from({ length: 15 }, () => 'w'.repeat(100)).join('/')}`;
      assert.deepEqual(await subscribe([long, `${long.slice(0, -1)}y`, T.meters]), [128, 128, 0]);
      const word = 'v'.repeat(DEFAULTS.maxFilterChars - 20);
      let granted = 0;
      for (let i = 0; i < DEFAULTS.maxSubscriptionsPerClient; i += 50) {
        granted += (await subscribe(Array.from({ length: 50 }, (_, k) => `junk/${i + k}/${word}`))).filter((q) => q !== 128).length;
      }
      assert.ok(granted * (DEFAULTS.maxFilterChars - 10) <= DEFAULTS.maxFilterCharsPerClient + DEFAULTS.maxFilterChars, `${granted} filters granted`);
      assert.ok(granted > 0);
      assert.equal(rig.log.lines.filter((l) => /topic filter of \d+ characters/.test(l)).length, 1, 'logged once');
    } finally {
      await c.endAsync(true);
    }
    await stillMetering(rig, before);
  });

  it('a SUBSCRIBE the size of a PUBLISH (filters of 60 KB) closes its connection before it is buffered, logged', async function () {
    const c = await mqtt.connectAsync(rig.broker.url, { reconnectPeriod: 0 });
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    const long = `junk/${Array.from({ length: 15 }, () => 'w'.repeat(3800)).join('/')}`;
    c.subscribe([long, `${long.slice(0, -1)}y`], { qos: 0 }, () => undefined);
    await Promise.race([closed, sleep(5000)]);
    assert.equal(c.connected, false, 'closed');
    c.end(true);
    assert.ok(rig.log.lines.some((l) => new RegExp(`announced a \\d+-byte SUBSCRIBE, over the ${DEFAULTS.maxSubscribePacketBytes}-byte limit`).test(l)), rig.log.lines.slice(-3).join('\n'));
    await stillMetering(rig, before);
  });

  it('a subscriber that stops reading is closed once its send buffer is full; others and the unit carry on', async function () {
    // Ten such readers held up to 100 messages each and took the unit past 1 GB under 250 KB publishes.
    const s = await rawSocket(rig.broker.mqttPort);
    s.on('error', () => undefined);
    const topic = Buffer.from('big/#');
    const subscribe = Buffer.concat([Buffer.from([0x82, 2 + 2 + topic.length + 1, 0, 1, 0, topic.length]), topic, Buffer.from([0])]);
    s.write(Buffer.concat([connectPacket('slow-reader'), subscribe]));
    await sleep(300);
    s.pause();
    // Several addresses, each within its byte allowance (4 MiB at once), as a class publishing together.
    const { port } = new URL(rig.broker.url);
    let sender = 0;
    const publisher = (): Promise<mqtt.MqttClient> => new Promise((resolve, reject) => {
      const c = new mqtt.MqttClient(() => netConnect({ port: Number(port), host: '127.0.0.1', localAddress: `127.0.6.${++sender}` }), { reconnectPeriod: 0 });
      c.once('connect', () => resolve(c));
      c.once('error', reject);
    });
    let pub = await publisher();
    const used = [pub];
    try {
      const payload = Buffer.alloc(250 * 1024, 0x44);
      // Far more than the kernel's socket buffers hold on both sides.
      for (let i = 0; i < 120 && !s.destroyed; i++) {
        if (i % 12 === 11) { pub = await publisher(); used.push(pub); }
        await Promise.race([pub.publishAsync(`big/${i % 5}`, payload, { qos: 1 }), sleep(2000)]);
        if (rig.log.lines.some((l) => /too slow a reader/.test(l))) break;
      }
      assert.ok(rig.log.lines.some((l) => /"slow-reader".*too slow a reader/.test(l)), rig.log.lines.slice(-3).join('\n'));
    } finally {
      s.destroy();
      for (const c of used) c.end(true);
    }
    await stillMetering(rig, before);
  });

  it('bursts from many senders whose one subscriber leaves do not overflow the broker\'s stack', async function () {
    // Twenty addresses (a class, or one student with aliases), each within its burst allowance, and a subscriber that leaves early: the queued rest
    // had no subscriber, completed at once and nested until an uncaught RangeError killed the unit.
    const sub = await mqtt.connectAsync(rig.broker.url, { reconnectPeriod: 0 });
    await sub.subscribeAsync('burst/#', { qos: 0 });
    let got = 0;
    sub.on('message', () => { if (++got === 100) sub.end(true); });
    const { port } = new URL(rig.broker.url);
    const senders = await Promise.all(Array.from({ length: 20 }, (_, a) => new Promise<mqtt.MqttClient>((resolve, reject) => {
      const c = new mqtt.MqttClient(() => netConnect({ port: Number(port), host: '127.0.0.1', localAddress: `127.0.5.${a + 1}` }), { reconnectPeriod: 0 });
      c.once('connect', () => resolve(c));
      c.once('error', reject);
    })));
    try {
      for (const c of senders) for (let i = 0; i < DEFAULTS.publishRate.burst - 10; i++) c.publish('burst/x', 'x', { qos: 0 });
      await sleep(2000);
    } finally {
      senders.forEach((c) => c.end(true));
      sub.end(true);
    }
    await stillMetering(rig, before);
  });

  it('a client id, user name or topic holding newlines cannot forge a log line', async function () {
    const forged = '\npicomp lab-1: info: FORGED';
    const c = await mqtt.connectAsync(rig.broker.url, { reconnectPeriod: 0, clientId: `evil${forged}` });
    c.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    // '$' topics are refused to everyone but the broker, so this is logged as refused.
    c.publish(`$x${forged}`, 'x');
    c.subscribe(`$x${forged}/#`);
    await tryLogin(rig.broker.url, { clientId: `picomp-${UNIT}-00${forged}`, username: `u${forged}`, password: 'x' });
    await closed;
    assert.ok(rig.log.lines.some((l) => l.includes('may not publish')), rig.log.lines.join('\n'));
    for (const line of rig.log.lines) assert.doesNotMatch(line, /[\n\r]/, line);
    await stillMetering(rig, before);
  });

  it('QoS 2 publishes that never get their PUBREL: beyond the inflight limit the connection is closed', async function () {
    const s = await rawSocket(rig.broker.mqttPort);
    try {
      s.write(connectPacket('qos2-hoarder'));
      const topic = Buffer.from('junk/q2');
      const payload = Buffer.alloc(1000, 0x41);
      const qos2Publish = (messageId: number): Buffer => {
        const body = Buffer.concat([Buffer.from([topic.length >> 8, topic.length & 0xff]), topic, Buffer.from([messageId >> 8, messageId & 0xff]), payload]);
        let n = body.length;
        const len: number[] = [];
        do { let b = n % 128; n = Math.floor(n / 128); if (n > 0) b |= 0x80; len.push(b); } while (n > 0);
        return Buffer.concat([Buffer.from([0x34, ...len]), body]);
      };
      for (let id = 1; id <= DEFAULTS.maxInflightInbound + 5; id++) s.write(qos2Publish(id));
      assert.equal(await closedWithin(s, 10_000), true, 'closed');
    } finally {
      s.destroy();
    }
    await stillMetering(rig, before);
  });

  it('a client reusing the unit\'s own client id is refused, and the unit stays online', async function () {
    const unitId = `picomp-${UNIT}-0badc0de`;
    const r = await tryLogin(rig.broker.url, { clientId: unitId });
    assert.match(r, /Identifier rejected/i);
    await stillMetering(rig, before);
  });

  it('an error echo cuts a 60 KB topic', async function () {
    const p = await Probe.connect(rig.broker.url);
    try {
      await p.subscribe(T.error);
      const topic = `${T.set}/${'x'.repeat(60_000)}`;
      await p.publish(topic, '1');
      const echo = await p.onTopic(T.error, 3000);
      assert.ok(echo.text.length < 2000, `echo of ${echo.text.length} bytes`);
      const doc = JSON.parse(echo.text) as { topic: string };
      assert.ok(doc.topic.length <= 201);
    } finally {
      await p.close();
    }
    await stillMetering(rig, before);
  });

  it('in open mode, an overwritten availability or info is put back by the unit', async function () {
    const p = await Probe.connect(rig.broker.url);
    try {
      await p.publish(T.availability, 'offline', { retain: true });
      await p.publish(T.info, '{"hacked":true}', { retain: true });
      await sleep(500);
      const q = await Probe.connect(rig.broker.url);
      await q.subscribe([T.availability, T.info]);
      assert.equal((await q.onTopic(T.availability)).text, 'online');
      assert.doesNotMatch((await q.onTopic(T.info)).text, /hacked/);
      await q.close();
    } finally {
      await p.close();
    }
  });
});

describe('security: password guessing against the embedded broker', function () {
  this.timeout(60_000);

  /** Logs in once from a chosen loopback address, as a LAN host would. */
  function loginFrom(url: string, localAddress: string, opts: mqtt.IClientOptions): Promise<string> {
    const { port } = new URL(url);
    return new Promise((resolve) => {
      const c = new mqtt.MqttClient(() => netConnect({ port: Number(port), host: '127.0.0.1', localAddress }), { ...opts, reconnectPeriod: 0, connectTimeout: 10_000 });
      c.once('connect', () => { c.end(true); resolve('ok'); });
      c.once('error', (e) => { c.end(true); resolve(e.message); });
    });
  }

  it('slows guesses per address and per user, and lets others in', async function () {
    await withTempDir('guess', async (dir) => {
      const path = usersFile(dir);
      await upsertUser(path, { name: 'tess', role: 'teacher', password: 'teacher-pass-1' });
      await upsertUser(path, { name: 'vera', role: 'viewer', password: 'viewer-pass-1' });
      const rig = await startRig({ usersFile: path });
      try {
        const before = JSON.stringify(rig.state.snapshot);
        const results: string[] = [];
        for (let i = 0; i < 8; i++) results.push(await loginFrom(rig.broker.url, '127.0.0.23', { username: 'tess', password: `guess-${i}` }));
        // A few guesses are checked; after them, tries are refused unchecked.
        assert.ok(results.slice(0, DEFAULTS.login.freeFailures).every((r) => /Bad username or password/i.test(r)), results.join(' | '));
        assert.ok(results.slice(DEFAULTS.login.freeFailures + 1).every((r) => /Not authorized/i.test(r)), results.join(' | '));
        // Even the right password waits from that address, and for that user.
        assert.match(await loginFrom(rig.broker.url, '127.0.0.23', { username: 'vera', password: 'viewer-pass-1' }), /Not authorized/i);
        assert.match(await loginFrom(rig.broker.url, '127.0.0.24', { username: 'tess', password: 'teacher-pass-1' }), /Not authorized/i);
        // Someone else, from elsewhere, is not affected; nor is the unit.
        assert.equal(await loginFrom(rig.broker.url, '127.0.0.24', { username: 'vera', password: 'viewer-pass-1' }), 'ok');
        await stillMetering(rig, before, { username: 'vera', password: 'viewer-pass-1' });
        assert.equal(rig.log.lines.filter((l) => /guess-/.test(l)).length, 0, 'no per-guess log lines with passwords');
      } finally {
        await rig.close();
      }
    });
  });
});

describe('security: a login flood against the embedded broker', function () {
  this.timeout(60_000);
  it('logins refused because the checker is busy are summed up, not logged one line each', async function () {
    await withTempDir('busy', async (dir) => {
      const path = usersFile(dir);
      await upsertUser(path, { name: 'vera', role: 'viewer', password: 'viewer-pass-1' });
      const log = memoryLogger();
      const broker = await startBroker({ mqttPort: 0, wsPort: null, host: '127.0.0.1', usersFile: path, allowAnonymous: false, log });
      try {
        const { port } = new URL(broker.url);
        // Made-up names from many addresses at once: more than the checker's queue holds.
        const results = await Promise.all(Array.from({ length: 120 }, (_, i) => new Promise<string>((resolve) => {
          const c = new mqtt.MqttClient(() => netConnect({ port: Number(port), host: '127.0.0.1', localAddress: `127.0.4.${1 + (i % 8)}` }),
            { username: `nobody-${i}`, password: 'x', reconnectPeriod: 0, connectTimeout: 20_000 });
          c.once('connect', () => { c.end(true); resolve('ok'); });
          c.once('error', (e) => { c.end(true); resolve(e.message); });
          c.once('close', () => resolve('closed'));
        })));
        assert.ok(results.some((r) => /Server unavailable/i.test(r)), 'the queue filled');
        assert.equal(log.lines.filter((l) => /already being checked/.test(l) && !/debug/.test(l)).length, 0, 'no line per refusal');
      } finally {
        await broker.close();
      }
    });
  });
});

describe('security: client ids of the unit and its dashboard', function () {
  it('are kept for their own accounts when the broker has users', async function () {
    await withTempDir('ids', async (dir) => {
      const path = usersFile(dir);
      await upsertUser(path, { name: 'vera', role: 'viewer', password: 'viewer-pass-1' });
      await upsertUser(path, { name: 'dash', role: 'operator', unit: UNIT, password: 'dashboard-pass-1' });
      const broker = await startBroker({ mqttPort: 0, wsPort: null, host: '127.0.0.1', usersFile: path, allowAnonymous: false, unitId: UNIT, dashboardUser: 'dash', log: memoryLogger() });
      try {
        const vera = { username: 'vera', password: 'viewer-pass-1' };
        const dashboardId = dashboardClientId(UNIT);
        assert.match(await tryLogin(broker.url, { ...vera, clientId: dashboardId }), /Identifier rejected/i);
        assert.match(await tryLogin(broker.url, { ...vera, clientId: unitClientId(UNIT) }), /Identifier rejected/i);
        assert.equal(await tryLogin(broker.url, { username: 'dash', password: 'dashboard-pass-1', clientId: dashboardId }), 'ok');
        assert.equal(await tryLogin(broker.url, { ...vera, clientId: 'vera-laptop' }), 'ok');
      } finally {
        await broker.close();
      }
    });
  });
});

describe('security: desired settings on a unit\'s broker with users (SPEC §5: teacher only)', function () {
  this.timeout(60_000);
  it('a teacher publishes the class, group and unit settings; an operator or viewer is cut off', async function () {
    await withTempDir('desired', async (dir) => {
      const path = usersFile(dir);
      const pw = 'long-enough-1';
      for (const [name, role] of [['tess', 'teacher'], ['otto', 'operator'], ['vera', 'viewer'], ['ada', 'admin']] as const) {
        await upsertUser(path, { name, role, ...(role === 'operator' ? { unit: UNIT } : {}), password: pw });
      }
      const broker = await startBroker({ mqttPort: 0, wsPort: null, host: '127.0.0.1', usersFile: path, allowAnonymous: false, unitId: UNIT, log: memoryLogger() });
      const probes: Probe[] = [];
      try {
        const watcher = await Probe.connect(broker.url, { username: 'ada', password: pw });
        probes.push(watcher);
        await watcher.subscribe('picomp/#');
        const topics = ['picomp/class/desired', 'picomp/group/row-1/desired', T.desired];
        const tess = await Probe.connect(broker.url, { username: 'tess', password: pw });
        probes.push(tess);
        for (const t of topics) {
          await tess.publish(t, '{"rev":1}', { retain: true });
          assert.equal((await watcher.onTopic(t)).retain, false, `${t} reached the watcher`);
        }
        for (const name of ['otto', 'vera']) {
          const p = await Probe.connect(broker.url, { username: name, password: pw });
          probes.push(p);
          const closed = new Promise<void>((resolve) => p.client.once('close', () => resolve()));
          p.client.publish('picomp/class/desired', '{"rev":99,"lock":true}', { retain: true });
          await closed;
        }
        const fresh = await Probe.connect(broker.url, { username: 'ada', password: pw });
        probes.push(fresh);
        await fresh.subscribe('picomp/class/desired');
        assert.equal((await fresh.onTopic('picomp/class/desired')).text, '{"rev":1}', 'the teacher\'s setting is retained, nobody else\'s');
      } finally {
        for (const p of probes) await p.close().catch(() => undefined);
        await broker.close();
      }
    });
  });
});

describe('security: oversized packets over TLS', function () {
  this.timeout(60_000);
  it('an announced 250 MB PUBLISH over TLS closes that connection, logged', async function () {
    if (spawnSync('openssl', ['version']).status !== 0) { this.skip(); return; }
    await withTempDir('tls-big', async (dir) => {
      const cert = join(dir, 'cert.pem'), key = join(dir, 'key.pem');
      const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
        '-subj', '/CN=127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore', timeout: 30_000 });
      if (r.status !== 0) { this.skip(); return; }
      const log = memoryLogger();
      const broker = await startBroker({ mqttPort: 0, wsPort: null, host: '127.0.0.1', allowAnonymous: false, log, tls: { certFile: cert, keyFile: key, port: 0 } });
      try {
        const s = tlsConnect({ port: broker.tlsPort!, host: '127.0.0.1', rejectUnauthorized: false });
        await new Promise((resolve, reject) => { s.once('secureConnect', resolve); s.once('error', reject); });
        s.on('error', () => undefined);
        // Reading, so the client notices the broker hanging up.
        s.resume();
        s.write(connectPacket('tls-big'));
        s.write(announcePublish(250_000_000));
        assert.equal(await closedWithin(s, 5000), true);
        assert.ok(log.lines.some((l) => /announced a 250000000-byte PUBLISH/.test(l)), log.lines.join('\n'));
        // Sockets that never even start the handshake hold a place among those waiting for a login, like any other.
        const idle: Socket[] = [];
        try {
          for (let i = 0; i < DEFAULTS.maxConnectingPerAddress + 4; i++) idle.push(await rawSocket(broker.tlsPort!, '127.0.0.11'));
          const closed = await Promise.all(idle.map((x) => closedWithin(x, 1500)));
          assert.equal(closed.filter(Boolean).length, 4, 'those over the per-address limit are closed before any handshake');
        } finally {
          for (const x of idle) x.destroy();
        }
      } finally {
        await broker.close();
      }
    });
  });
});

describe('security: TLS files that are not PEM', function () {
  it('say so in one sentence', async function () {
    await withTempDir('tls', async (dir) => {
      await writeFile(join(dir, 'cert.pem'), 'this is not a certificate\n');
      await writeFile(join(dir, 'key.pem'), 'nor a key\n');
      await assert.rejects(
        startBroker({ mqttPort: 0, wsPort: null, host: '127.0.0.1', allowAnonymous: false, log: memoryLogger(), tls: { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem'), port: 0 } }),
        (e: Error) => e.name === 'UserError' && /not a usable PEM pair/.test(e.message) && !e.message.includes('\n'),
      );
    });
  });
});
