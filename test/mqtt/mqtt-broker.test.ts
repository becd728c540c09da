/**
 * The embedded broker on its own: ports, WebSocket, warnings, limits, and
 * interop with Mosquitto's command-line clients (software nobody here wrote).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { startBroker, type RunningBroker } from '../../src/mqtt/broker.js';
import { MeterPump } from '../../src/unit/meter-pump.js';
import { startUnitClient } from '../../src/mqtt/unit-client.js';
import { UnitState } from '../../src/unit/unit-state.js';
import { unitTopics } from '../../src/mqtt/topics.js';
import { isUserError } from '../../src/errors.js';
import { memoryLogger } from '../../src/log.js';
import { Probe } from '../helpers/mosquitto.js';

const run = promisify(execFile);

describe('embedded MQTT broker', function () {
  it('picks a free port for port 0 and reports it', async function () {
    const b = await startBroker({ mqttPort: 0, wsPort: 0, host: '127.0.0.1', allowAnonymous: true, log: memoryLogger() });
    try {
      assert.ok(b.mqttPort > 0);
      assert.ok(b.wsPort !== null && b.wsPort > 0 && b.wsPort !== b.mqttPort);
      assert.equal(b.url, `mqtt://127.0.0.1:${b.mqttPort}`);
      assert.ok(b.serviceAccount.username.length > 0, 'the unit always has its own account');
      assert.equal(await b.usersRequired(), false, 'no users file: open');
    } finally {
      await b.close();
    }
  });

  it('refuses a port in use with one sentence naming the port and the flag', async function () {
    // Another program (not a broker): the unit asks the port whether it speaks MQTT, and it hangs up.
    const blocker: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as AddressInfo).port;
    try {
      await assert.rejects(
        startBroker({ mqttPort: port, wsPort: null, host: '127.0.0.1', allowAnonymous: true, log: memoryLogger() }),
        (e: Error) => isUserError(e) && e.message.startsWith(`port ${port} is already in use by another program; give the embedded broker another port, e.g. --mqtt-port `),
      );
      await assert.rejects(
        startBroker({ mqttPort: 0, wsPort: port, host: '127.0.0.1', allowAnonymous: true, log: memoryLogger() }),
        (e: Error) => isUserError(e) && e.message.includes('--ws-port'),
      );
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it('warns once when anonymous clients can reach it from the network, not on loopback', async function () {
    const lan = memoryLogger();
    const b1 = await startBroker({ mqttPort: 0, wsPort: null, allowAnonymous: true, log: lan });
    await b1.close();
    assert.equal(lan.lines.filter((l) => l.startsWith('warn:')).length, 1);
    assert.match(lan.lines.find((l) => l.startsWith('warn:'))!, /picomp user add/);
    const local = memoryLogger();
    const b2 = await startBroker({ mqttPort: 0, wsPort: null, host: '127.0.0.1', allowAnonymous: true, log: local });
    await b2.close();
    assert.equal(local.lines.filter((l) => l.startsWith('warn:')).length, 0);
  });

  it('listens with TLS when given a certificate and key', async function () {
    const dir = await mkdtemp(join(tmpdir(), 'picomp-tls-'));
    try {
      const certFile = join(dir, 'cert.pem'), keyFile = join(dir, 'key.pem');
      await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=DNS:localhost', '-keyout', keyFile, '-out', certFile]);
      const b = await startBroker({ mqttPort: 0, wsPort: null, host: '127.0.0.1', allowAnonymous: true, tls: { certFile, keyFile, port: 0 }, log: memoryLogger() });
      try {
        assert.ok(b.tlsPort !== null && b.tlsPort > 0);
        const c = await mqtt.connectAsync(`mqtts://localhost:${b.tlsPort}`, { ca: await readFile(certFile), reconnectPeriod: 0 });
        await c.endAsync();
      } finally {
        await b.close();
      }
      await assert.rejects(
        startBroker({ mqttPort: 0, wsPort: null, host: '127.0.0.1', allowAnonymous: true, tls: { certFile: join(dir, 'missing.pem'), keyFile, port: 0 }, log: memoryLogger() }),
        (e: Error) => isUserError(e) && /TLS certificate/.test(e.message),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('delivers group commands to the units of that group only', async function () {
    const b = await startBroker({ mqttPort: 0, wsPort: null, host: '127.0.0.1', allowAnonymous: true, log: memoryLogger() });
    const units: { state: UnitState; stop: () => Promise<void> }[] = [];
    try {
      for (const [unitId, groups] of [['lab-a', ['lab']], ['hall-b', ['hall']]] as const) {
        const state = await UnitState.load({ stateDir: null, log: memoryLogger() });
        const u = await startUnitClient({
          url: b.url, baseTopic: 'picomp', unitId, groups, state, log: memoryLogger(), haDiscovery: false,
          info: () => ({}), meters: new MeterPump({ rateHz: 5, read: () => null, log: memoryLogger() }),
        });
        units.push({ state, stop: () => u.stop() });
      }
      const probe = await Probe.connect(b.url);
      try {
        await probe.subscribe(['picomp/+/state']);
        await probe.publish('picomp/group/lab/set/ratio', '6');
        await probe.next((m) => m.topic === 'picomp/lab-a/state' && JSON.parse(m.text).ratio === 6);
        // hall-b ignored it: a command to its own group is the fence.
        await probe.publish('picomp/group/hall/set', '{"knee": 1}');
        await probe.next((m) => m.topic === 'picomp/hall-b/state' && JSON.parse(m.text).knee === 1);
        assert.equal(units[1]!.state.params.ratio, 4);
        assert.equal(units[0]!.state.params.knee, 6);
      } finally {
        await probe.close();
      }
    } finally {
      for (const u of units) await u.stop();
      await b.close();
    }
  });

  describe('with a unit attached', function () {
    let broker: RunningBroker;
    let state: UnitState;
    let stopUnit: () => Promise<void>;
    const t = unitTopics('picomp', 'bench-1');
    const brokerLog = memoryLogger();

    before(async function () {
      broker = await startBroker({ mqttPort: 0, wsPort: 0, host: '127.0.0.1', allowAnonymous: true, maxPayloadBytes: 64 * 1024, maxClients: 6, log: brokerLog });
      state = await UnitState.load({ stateDir: null, log: memoryLogger() });
      const unit = await startUnitClient({
        url: broker.url, baseTopic: 'picomp', unitId: 'bench-1', state, log: memoryLogger(), haDiscovery: false,
        info: () => ({}), meters: new MeterPump({ rateHz: 10, read: () => null, log: memoryLogger() }),
      });
      stopUnit = () => unit.stop();
    });
    after(async function () {
      await stopUnit?.();
      await broker?.close();
    });

    it('serves browser clients over WebSocket', async function () {
      const ws = await Probe.connect(`ws://127.0.0.1:${broker.wsPort}`);
      try {
        await ws.subscribe(t.state);
        const retained = await ws.onTopic(t.state);
        assert.equal(JSON.parse(retained.text).threshold, state.params.threshold);
        const since = ws.messages.length;
        await ws.publish(t.setParam('makeup'), '4.5');
        const m = await ws.next((x) => x.topic === t.state && JSON.parse(x.text).makeup === 4.5, 3000, since);
        assert.ok(m);
      } finally {
        await ws.close();
      }
    });

    it('interoperates with mosquitto_sub and mosquitto_pub', async function () {
      const args = ['-h', '127.0.0.1', '-p', String(broker.mqttPort)];
      const sub = await run('mosquitto_sub', [...args, '-t', t.state, '-C', '1', '-W', '5']);
      assert.equal(JSON.parse(sub.stdout).ratio, state.params.ratio);
      const echo = run('mosquitto_sub', [...args, '-t', t.state, '-C', '2', '-W', '5', '-F', '%r %p']);
      // Let the subscriber take its retained copy first; the second line is the echo.
      await new Promise((r) => setTimeout(r, 200));
      await run('mosquitto_pub', [...args, '-t', t.setParam('threshold'), '-m', '-27.5']);
      const lines = (await echo).stdout.trim().split('\n');
      assert.equal(lines.length, 2);
      assert.match(lines[1]!, /^0 /, 'the echo is live, not retained');
      assert.equal(JSON.parse(lines[1]!.slice(2)).threshold, -27.5);
      assert.equal(state.params.threshold, -27.5);
      await run('mosquitto_pub', [...args, '-t', t.set, '-m', '{"preset":"bass"}']);
      const after = await run('mosquitto_sub', [...args, '-t', t.state, '-C', '1', '-W', '5']);
      assert.equal(JSON.parse(after.stdout).preset, 'bass');
    });

    it('drops a retained flag on commands so they are not replayed later', async function () {
      await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.mqttPort), '-r', '-t', t.setParam('knee'), '-m', '12']);
      const probe = await Probe.connect(broker.url);
      try {
        // A marker published after subscribing arrives after any retained copies would have.
        await probe.subscribe([`${t.set}/#`, 'test/marker']);
        await probe.publish('test/marker', 'x');
        await probe.onTopic('test/marker');
        assert.equal(probe.count(t.setParam('knee')), 0, 'no retained command was kept');
      } finally {
        await probe.close();
      }
    });

    it('disconnects a client whose payload exceeds the limit and keeps serving the others', async function () {
      const big = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
      const closed = new Promise<void>((r) => big.once('close', () => r()));
      big.publish(t.set, Buffer.alloc(100 * 1024, 0x20), { qos: 0 });
      await closed;
      await big.endAsync(true);
      assert.ok(brokerLog.lines.some((l) => /it sent 102400 bytes to picomp\/bench-1\/set, over the 65536-byte limit/.test(l)), brokerLog.lines.join('\n'));
      const probe = await Probe.connect(broker.url);
      try {
        await probe.subscribe(t.state);
        const since = probe.messages.length;
        await probe.publish(t.setParam('mix'), '77');
        await probe.next((x) => x.topic === t.state && JSON.parse(x.text).mix === 77, 3000, since);
      } finally {
        await probe.close();
      }
    });

    it('refuses clients beyond the limit', async function () {
      const extra: mqtt.MqttClient[] = [];
      try {
        // The unit is one client; fill up to the limit of 6.
        for (let i = 0; i < 5; i++) extra.push(await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 }));
        await assert.rejects(mqtt.connectAsync(broker.url, { reconnectPeriod: 0, connectTimeout: 3000 }));
      } finally {
        await Promise.all(extra.map((c) => c.endAsync(true)));
      }
    });
  });
});
