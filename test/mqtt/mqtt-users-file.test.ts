/**
 * The users file as it changes under a running broker: a broken file must
 * lock the door (never open it), the first user added while the unit
 * runs must be required from the next connection on, and connections whose
 * login no longer holds are closed.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startBroker, type RunningBroker } from '../../src/mqtt/broker.js';
import { usersFile } from '../../src/unit/state-dir.js';
import { removeUser, upsertUser } from '../../src/mqtt/users.js';
import { memoryLogger } from '../../src/log.js';

/** Connects once, without retrying: resolves 'ok' or the refusal. */
async function tryConnect(url: string, opts: mqtt.IClientOptions = {}): Promise<'ok' | 'refused'> {
  return new Promise((resolve) => {
    const c = mqtt.connect(url, { ...opts, reconnectPeriod: 0, connectTimeout: 5000 });
    c.once('connect', () => { c.end(true); resolve('ok'); });
    c.once('error', () => { c.end(true); resolve('refused'); });
  });
}

/** A client that connects once and never retries; `closed` settles when the broker closes it. */
async function stayConnected(url: string, opts: mqtt.IClientOptions = {}): Promise<{ client: mqtt.MqttClient; closed: Promise<void> }> {
  const client = mqtt.connect(url, { ...opts, reconnectPeriod: 0, connectTimeout: 5000 });
  await new Promise<void>((resolve, reject) => { client.once('connect', () => resolve()); client.once('error', reject); });
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  return { client, closed };
}

describe('MQTT users file changes under a running broker', () => {
  let dir: string;
  let broker: RunningBroker | null = null;
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'picomp-usersfile-')); });
  afterEach(async () => { await broker?.close(); broker = null; await rm(dir, { recursive: true, force: true }); });

  it('an unreadable users file refuses everyone but the unit itself', async () => {
    await writeFile(usersFile(dir), '{"version": 1, "users": [');
    const log = memoryLogger();
    broker = await startBroker({ mqttPort: 0, wsPort: null, host: '127.0.0.1', usersFile: usersFile(dir), allowAnonymous: true, log });
    assert.equal(await broker.usersRequired(), true);
    assert.equal(await tryConnect(broker.url), 'refused', 'anonymous');
    assert.equal(await tryConnect(broker.url, { username: 'admin', password: 'whatever' }), 'refused', 'a guessed user');
    assert.equal(await tryConnect(broker.url, { username: broker.serviceAccount.username, password: broker.serviceAccount.password }), 'ok');
    assert.ok(log.lines.some((l) => /Only this unit's own client can connect until it is fixed/.test(l)), log.lines.join('\n'));
  });

  it('the first user added while running is required from the next connection on', async () => {
    broker = await startBroker({ mqttPort: 0, wsPort: null, host: '127.0.0.1', usersFile: usersFile(dir), allowAnonymous: false, log: memoryLogger() });
    assert.equal(await tryConnect(broker.url), 'ok', 'open before any user exists');
    await upsertUser(usersFile(dir), { name: 'tess', role: 'teacher', password: 'teacher-pass-1' });
    assert.equal((await stat(usersFile(dir))).mode & 0o777, 0o600, 'the users file is private');
    assert.equal(await broker.usersRequired(), true);
    assert.equal(await tryConnect(broker.url), 'refused', 'anonymous after the first user');
    assert.equal(await tryConnect(broker.url, { username: 'tess', password: 'teacher-pass-1' }), 'ok');
  });

  it('closes the open connections once the first user is added: they must log in again', async () => {
    const log = memoryLogger();
    broker = await startBroker({ mqttPort: 0, wsPort: null, host: '127.0.0.1', usersFile: usersFile(dir), allowAnonymous: false, usersRecheckMs: 50, log });
    // Its last will would bypass the unit: the rights it loses go for the will too.
    const anon = await stayConnected(broker.url, { will: { topic: 'picomp/lab-1/set/bypass', payload: Buffer.from('true'), qos: 0, retain: false } });
    const unit = await stayConnected(broker.url, { username: broker.serviceAccount.username, password: broker.serviceAccount.password });
    const commands: string[] = [];
    await unit.client.subscribeAsync('picomp/lab-1/set/#');
    unit.client.on('message', (topic) => commands.push(topic));
    await upsertUser(usersFile(dir), { name: 'tess', role: 'teacher', password: 'teacher-pass-1' });
    await anon.closed;
    // A marker published after the close arrives after any will would have.
    await unit.client.publishAsync('picomp/lab-1/set/marker', 'x');
    while (!commands.includes('picomp/lab-1/set/marker')) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(commands, ['picomp/lab-1/set/marker'], 'the revoked client\'s last will was not published');
    assert.equal(unit.client.connected, true, "the unit's own client stays");
    assert.ok(log.lines.some((l) => /closed 1 connection\(s\) whose login no longer holds, anonymous/.test(l)), log.lines.join('\n'));
    unit.client.end(true);
  });

  it('closes the connections of a user removed or given a new password, and keeps the others', async () => {
    const file = usersFile(dir);
    await upsertUser(file, { name: 'tess', role: 'teacher', password: 'teacher-pass-1' });
    await upsertUser(file, { name: 'olly', role: 'operator', unit: 'lab-1', password: 'operator-pass-1' });
    await upsertUser(file, { name: 'vic', role: 'viewer', password: 'viewer-pass-1' });
    broker = await startBroker({ mqttPort: 0, wsPort: null, host: '127.0.0.1', usersFile: file, allowAnonymous: false, usersRecheckMs: 50, log: memoryLogger() });
    const tess = await stayConnected(broker.url, { username: 'tess', password: 'teacher-pass-1' });
    const olly = await stayConnected(broker.url, { username: 'olly', password: 'operator-pass-1' });
    const vic = await stayConnected(broker.url, { username: 'vic', password: 'viewer-pass-1' });
    assert.equal(await removeUser(file, 'olly'), true);
    await olly.closed;
    await upsertUser(file, { name: 'vic', role: 'viewer', password: 'viewer-pass-2' });
    await vic.closed;
    assert.equal(tess.client.connected, true, 'an unchanged user stays connected');
    assert.equal(await tryConnect(broker.url, { username: 'vic', password: 'viewer-pass-1' }), 'refused', 'the old password');
    assert.equal(await tryConnect(broker.url, { username: 'vic', password: 'viewer-pass-2' }), 'ok', 'the new password');
    tess.client.end(true);
  });
});
