/**
 * picomp's default ports are Mosquitto's (1883) and Node-RED's (1880), which
 * many Home Assistant users already run. A taken port is one line, exit 2,
 * saying what to do: use that broker (--broker), or a free port nearby.
 * Real listeners hold the ports: a spawned Mosquitto, a plain TCP server.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBroker } from '../../src/mqtt/broker.js';
import { nearbyFreePort, speaksMqtt } from '../../src/mqtt/port-taken.js';
import { startDashboard } from '../../src/dashboard/node-red.js';
import { UserError } from '../../src/errors.js';
import { memoryLogger } from '../../src/log.js';
import { Mosquitto } from '../helpers/mosquitto.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function holdPort(): Promise<Server> {
  const s = createServer((sock) => sock.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(s)));
}
const portOf = (s: Server): number => (s.address() as { port: number }).port;

describe('taken ports', function () {
  this.timeout(60_000);
  let mosquitto: Mosquitto;
  let other: Server;
  let dir: string;

  before(async () => {
    mosquitto = await Mosquitto.start();
    other = await holdPort();
    dir = await mkdtemp(join(tmpdir(), 'picomp-ports-'));
  });
  after(async () => {
    await mosquitto?.stop();
    other?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('tells an MQTT broker from another program on the port, even one that never answers', async () => {
    assert.equal(await speaksMqtt(mosquitto.url), true);
    assert.equal(await speaksMqtt(`mqtt://127.0.0.1:${portOf(other)}`), false);
    // Reads (so it sees the probe leave) but never answers.
    const silent = createServer((socket) => socket.resume());
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    try {
      assert.equal(await speaksMqtt(`mqtt://127.0.0.1:${portOf(silent)}`, 300), false);
    } finally {
      await new Promise((r) => silent.close(r));
    }
  });

  it('finds a free port above a taken one', async () => {
    const free = await nearbyFreePort('127.0.0.1', portOf(other));
    assert.ok(free !== null && free > portOf(other));
  });

  it('a broker on the MQTT port: use it with --broker, or another --mqtt-port', async () => {
    await assert.rejects(
      startBroker({ mqttPort: mosquitto.port, wsPort: null, host: '127.0.0.1', allowAnonymous: true, log: memoryLogger() }),
      (e: Error) => {
        assert.ok(e instanceof UserError);
        assert.match(e.message, new RegExp(`^port ${mosquitto.port} is already in use by an MQTT broker \\(Mosquitto\\?\\): `
          + `use it with --broker mqtt://127\\.0\\.0\\.1:${mosquitto.port} \\(no embedded broker then\\), `
          + 'or give the embedded broker another port, e\\.g\\. --mqtt-port \\d+\\.$'));
        return true;
      });
  });

  it('another program on the MQTT or WebSocket port: a free port to use instead, and no --broker', async () => {
    await assert.rejects(
      startBroker({ mqttPort: portOf(other), wsPort: null, host: '127.0.0.1', allowAnonymous: true, log: memoryLogger() }),
      (e: Error) => e instanceof UserError && !e.message.includes('--broker')
        && new RegExp(`^port ${portOf(other)} is already in use by another program; give the embedded broker another port, e\\.g\\. --mqtt-port \\d+`).test(e.message));
    await assert.rejects(
      startBroker({ mqttPort: 0, wsPort: portOf(other), host: '127.0.0.1', allowAnonymous: true, log: memoryLogger() }),
      (e: Error) => e instanceof UserError && /--ws-port \d+/.test(e.message));
  });

  it('a taken dashboard port: a free --dashboard-port, or import the flow into that Node-RED', async () => {
    await assert.rejects(
      startDashboard({ port: portOf(other), host: '127.0.0.1', mqttHost: '127.0.0.1', mqttPort: 1883, unitId: 'x', baseTopic: 'picomp', log: memoryLogger() }),
      (e: Error) => e instanceof UserError
        && new RegExp(`^port ${portOf(other)} is already in use \\(another dashboard or Node-RED\\?\\); pick a free one with --dashboard-port \\d+, `
          + 'or import flows/picomp-dashboard.json into that Node-RED \\(see flows/README\\.md\\)\\.$').test(e.message));
  });

  it('picomp start beside a running Mosquitto: exit 2 and one line naming --broker', async () => {
    const child = spawn(process.execPath, [CLI, 'start', '--unit', 'lab-3', '--mqtt-port', String(mosquitto.port), '--ws-port', '0',
      '--listen', '127.0.0.1', '--input', 'demo', '--output', 'null', '--state-dir', join(dir, 's')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    try {
      const code = await new Promise((r) => child.once('exit', r));
      assert.equal(code, 2, err);
      const errorLines = err.trim().split('\n').filter((l) => /already in use/.test(l));
      assert.equal(errorLines.length, 1, err);
      assert.match(errorLines[0]!, new RegExp(`--broker mqtt://127\\.0\\.0\\.1:${mosquitto.port}`));
      assert.doesNotMatch(err, /\n\s+at /);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
