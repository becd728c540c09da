/**
 * Users and roles on the embedded broker, with real clients: passwords are
 * checked, a viewer cannot command, an operator commands only its unit, a
 * teacher commands every unit and the shared topics; the users file never
 * holds a plain password; `picomp user` manages it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import mqtt from 'mqtt';
import { runUserCommand } from '../../src/cli/user.js';
import { startBroker, type RunningBroker } from '../../src/mqtt/broker.js';
import { commandTarget, mayPublish } from '../../src/mqtt/acl.js';
import { MeterPump } from '../../src/unit/meter-pump.js';
import { startUnitClient, type UnitClient } from '../../src/mqtt/unit-client.js';
import { UnitState } from '../../src/unit/unit-state.js';
import { usersFile } from '../../src/unit/state-dir.js';
import { allSetTopic, unitTopics } from '../../src/mqtt/topics.js';
import { readUsers, upsertUser, verifyPassword } from '../../src/mqtt/users.js';
import { memoryLogger } from '../../src/log.js';
import { Probe } from '../helpers/mosquitto.js';

const PASSWORDS = { vera: 'viewer-pass-1', otto: 'operator-pass-1', tess: 'teacher-pass-1', ada: 'admin-pass-01' };

function sink(): Writable & { text: string } {
  const w = new Writable({ write(chunk, _enc, cb) { w.text += String(chunk); cb(); } }) as Writable & { text: string };
  w.text = '';
  return w;
}

async function user(argv: string[], stdinText = ''): Promise<{ code: number; out: string; err: string }> {
  const stdout = sink(), stderr = sink();
  const code = await runUserCommand(argv, { stdin: Readable.from([Buffer.from(stdinText)]), stdout, stderr });
  return { code, out: stdout.text, err: stderr.text };
}

describe('MQTT users and roles', function () {
  let dir: string;
  let broker: RunningBroker;
  const units: { state: UnitState; client: UnitClient }[] = [];
  const t1 = unitTopics('picomp', 'room-1');
  const t2 = unitTopics('picomp', 'room-2');

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'picomp-auth-'));
    assert.equal((await user(['add', 'vera', '--role', 'viewer', '--password-stdin', '--state-dir', dir], PASSWORDS.vera + '\n')).code, 0);
    assert.equal((await user(['add', 'otto', '--role', 'operator', '--unit', 'room-1', '--password-stdin', '--state-dir', dir], PASSWORDS.otto)).code, 0);
    await upsertUser(usersFile(dir), { name: 'tess', role: 'teacher', password: PASSWORDS.tess });
    await upsertUser(usersFile(dir), { name: 'ada', role: 'admin', password: PASSWORDS.ada });
    broker = await startBroker({ mqttPort: 0, wsPort: null, host: '127.0.0.1', usersFile: usersFile(dir), allowAnonymous: false, log: memoryLogger() });
    assert.ok(broker.serviceAccount, 'auth on: the unit gets a service account');
    for (const unitId of ['room-1', 'room-2']) {
      const state = await UnitState.load({ stateDir: null, log: memoryLogger() });
      const client = await startUnitClient({
        url: broker.url, username: broker.serviceAccount!.username, password: broker.serviceAccount!.password,
        baseTopic: 'picomp', unitId, state, log: memoryLogger(), haDiscovery: false,
        info: () => ({}), meters: new MeterPump({ rateHz: 5, read: () => null, log: memoryLogger() }),
      });
      units.push({ state, client });
    }
  });

  after(async function () {
    for (const u of units) await u.client.stop();
    await broker?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const login = (name: keyof typeof PASSWORDS): Promise<Probe> =>
    Probe.connect(broker.url, { username: name, password: PASSWORDS[name] });

  /** Waits for a unit's state echo with the given value, seen by a teacher. */
  async function expectEcho(topics: ReturnType<typeof unitTopics>, send: (p: Probe) => Promise<void>, pred: (doc: Record<string, unknown>) => boolean): Promise<void> {
    const watcher = await login('tess');
    try {
      await watcher.subscribe(topics.state);
      await watcher.onTopic(topics.state);
      const since = watcher.messages.length;
      await send(watcher);
      await watcher.next((m) => m.topic === topics.state && pred(JSON.parse(m.text)), 3000, since);
    } finally {
      await watcher.close();
    }
  }

  it('refuses a wrong password, an unknown user and anonymous clients', async function () {
    await assert.rejects(mqtt.connectAsync(broker.url, { username: 'vera', password: 'wrong-password', reconnectPeriod: 0 }), /Bad username or password/i);
    await assert.rejects(mqtt.connectAsync(broker.url, { username: 'mallory', password: 'whatever1', reconnectPeriod: 0 }), /Bad username or password/i);
    await assert.rejects(mqtt.connectAsync(broker.url, { reconnectPeriod: 0 }), /Bad username or password/i);
    await assert.rejects(mqtt.connectAsync(broker.url, { username: broker.serviceAccount!.username, password: 'guess', reconnectPeriod: 0 }), /Bad username or password/i);
  });

  it('starts a unit with refused credentials anyway, says so in a sentence and keeps retrying (SPEC §5)', async function () {
    const state = await UnitState.load({ stateDir: null, log: memoryLogger() });
    const log = memoryLogger();
    const client = await startUnitClient({
      url: broker.url, username: 'vera', password: 'not-her-password',
      baseTopic: 'picomp', unitId: 'room-9', state, log, haDiscovery: false,
      info: () => ({}), meters: new MeterPump({ rateHz: 5, read: () => null, log: memoryLogger() }),
    });
    try {
      assert.equal(client.connected, false);
      assert.ok(log.lines.some((l) => /^warn: the MQTT broker at .* refused the unit \(.*\); retrying with back-off/.test(l)), log.lines.join('\n'));
    } finally {
      await client.stop();
    }
  });

  it('lets a viewer watch, drops its set and changes nothing', async function () {
    const vera = await login('vera');
    const before = units[0]!.state.snapshot;
    await vera.subscribe(t1.state);
    const retained = await vera.onTopic(t1.state);
    assert.equal(JSON.parse(retained.text).threshold, before.params.threshold);
    const closed = new Promise<void>((r) => vera.client.once('close', () => r()));
    vera.client.publish(t1.setParam('threshold'), '-40', { qos: 0 });
    await closed;
    await vera.close();
    // A later, allowed command is the fence: once its echo is seen, the viewer's message is long handled.
    await expectEcho(t1, (p) => p.publish(t1.setParam('ratio'), '2'), (d) => d.ratio === 2);
    assert.equal(units[0]!.state.params.threshold, before.params.threshold);
  });

  it('lets an operator set its own unit but not another', async function () {
    await expectEcho(t1, async () => {
      const otto = await login('otto');
      await otto.publish(t1.setParam('knee'), '9');
      await otto.close();
    }, (d) => d.knee === 9);
    const otto = await login('otto');
    const before = units[1]!.state.snapshot;
    const closed = new Promise<void>((r) => otto.client.once('close', () => r()));
    otto.client.publish(t2.setParam('knee'), '3', { qos: 0 });
    await closed;
    await otto.close();
    await expectEcho(t2, (p) => p.publish(t2.get, ''), () => true);
    assert.deepEqual(units[1]!.state.snapshot, before);
  });

  it('lets a teacher set any unit and all units at once', async function () {
    await expectEcho(t2, (p) => p.publish(t2.setParam('mix'), '50'), (d) => d.mix === 50);
    const tess = await login('tess');
    try {
      await tess.subscribe([t1.state, t2.state]);
      const since = tess.messages.length;
      await tess.publish(allSetTopic('picomp'), '{"preset": "classroom-demo"}');
      await tess.next((m) => m.topic === t1.state && JSON.parse(m.text).preset === 'classroom-demo', 3000, since);
      await tess.next((m) => m.topic === t2.state && JSON.parse(m.text).preset === 'classroom-demo', 3000, since);
    } finally {
      await tess.close();
    }
  });

  it('keeps only salted scrypt hashes in the users file, readable by its owner only', async function () {
    const text = await readFile(usersFile(dir), 'utf8');
    for (const pw of Object.values(PASSWORDS)) assert.ok(!text.includes(pw), 'no plain password on disk');
    const users = await readUsers(usersFile(dir));
    assert.deepEqual(users.map((u) => u.name), ['vera', 'otto', 'tess', 'ada']);
    assert.equal(new Set(users.map((u) => u.password.salt)).size, users.length, 'every user has its own salt');
    assert.ok(await verifyPassword(PASSWORDS.otto, users[1]!.password));
    assert.ok(!(await verifyPassword('operator-pass-2', users[1]!.password)));
    assert.equal((await stat(usersFile(dir))).mode & 0o777, 0o600);
  });

  it('picks up a user added while running, and drops a removed one', async function () {
    const add = await user(['add', 'newbie', '--role', 'viewer', '--password-stdin', '--state-dir', dir], 'newbie-pass-1\n');
    assert.equal(add.code, 0, add.err);
    const c = await mqtt.connectAsync(broker.url, { username: 'newbie', password: 'newbie-pass-1', reconnectPeriod: 0 });
    await c.endAsync(true);
    assert.equal((await user(['remove', 'newbie', '--state-dir', dir])).code, 0);
    await assert.rejects(mqtt.connectAsync(broker.url, { username: 'newbie', password: 'newbie-pass-1', reconnectPeriod: 0 }), /Bad username or password/i);
  });
});

describe('picomp user', function () {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'picomp-user-')); });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  it('adds, lists, updates and removes users', async function () {
    assert.equal((await user(['list', '--state-dir', dir])).out.includes('anonymous'), true);
    let r = await user(['add', 'kim', '--role', 'operator', '--unit', 'pi-3', '--password-stdin', '--state-dir', dir], 'kims-password\n');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Added operator "kim"/);
    r = await user(['list', '--state-dir', dir]);
    assert.equal(r.out, 'kim\toperator\tunit pi-3\n');
    r = await user(['add', 'kim', '--role', 'teacher', '--password-stdin', '--state-dir', dir], 'other-password');
    assert.match(r.out, /Updated teacher "kim"/);
    assert.equal((await user(['list', '--state-dir', dir])).out, 'kim\tteacher\n');
    r = await user(['remove', 'kim', '--state-dir', dir]);
    assert.equal(r.code, 0);
    assert.deepEqual(await readUsers(usersFile(dir)), []);
  });

  it('prints help', async function () {
    const r = await user(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.out, /picomp user add NAME --role ROLE/);
    assert.match(r.out, /viewer/);
  });

  const BAD: [string, string[], string, RegExp][] = [
    ['no action', [], '', /add\|remove\|list/],
    ['an unknown action', ['rename', 'x'], '', /unknown user command "rename"/],
    ['an unknown flag', ['list', '--colour'], '', /--colour/],
    ['no role', ['add', 'kim', '--password-stdin'], 'long-enough', /--role/],
    ['a bad role', ['add', 'kim', '--role', 'boss', '--password-stdin'], 'long-enough', /viewer, operator, teacher, admin/],
    ['an operator without a unit', ['add', 'kim', '--role', 'operator', '--password-stdin'], 'long-enough', /--unit/],
    ['a unit for a non-operator', ['add', 'kim', '--role', 'viewer', '--unit', 'a', '--password-stdin'], 'long-enough', /--unit only applies/],
    ['a bad unit id', ['add', 'kim', '--role', 'operator', '--unit', 'Room 1', '--password-stdin'], 'long-enough', /unit id/],
    ['a bad user name', ['add', 'kim smith', '--role', 'viewer', '--password-stdin'], 'long-enough', /user name/],
    ['a short password', ['add', 'kim', '--role', 'viewer', '--password-stdin'], 'short', /at least 8/],
    ['no terminal and no --password-stdin', ['add', 'kim', '--role', 'viewer'], '', /--password-stdin/],
    ['removing nobody', ['remove', 'ghost'], '', /no user "ghost"/],
  ];
  for (const [what, argv, stdin, message] of BAD) {
    it(`exits 2 with one line on stderr for ${what}`, async function () {
      const r = await user([...argv, '--state-dir', dir], stdin);
      assert.equal(r.code, 2);
      assert.equal(r.err.split('\n').filter(Boolean).length, 1, r.err);
      assert.match(r.err, message);
      assert.deepEqual(await readUsers(usersFile(dir)), [], 'nothing was written');
    });
  }
});

describe('MQTT ACL rules', function () {
  const op = { name: 'o', role: 'operator' as const, unit: 'a' };
  const teacher = { name: 't', role: 'teacher' as const };
  it('knows command topics', function () {
    assert.deepEqual(commandTarget('picomp', 'picomp/a/set'), { unit: 'a' });
    assert.deepEqual(commandTarget('picomp', 'picomp/a/set/threshold'), { unit: 'a' });
    assert.deepEqual(commandTarget('picomp', 'picomp/a/get'), { unit: 'a' });
    assert.deepEqual(commandTarget('picomp', 'picomp/all/set'), { shared: true });
    assert.deepEqual(commandTarget('picomp', 'picomp/group/lab/set/ratio'), { shared: true });
    for (const t of ['picomp/a/state', 'picomp/a/set/x/y', 'picomp/a', 'other/a/set', 'picomp/all/get', 'picomp/a/availability']) {
      assert.equal(commandTarget('picomp', t), null, t);
    }
  });
  it('limits operators to their unit and keeps everyone off unit outputs', function () {
    assert.ok(mayPublish(op, 'picomp', 'picomp/a/set'));
    assert.ok(!mayPublish(op, 'picomp', 'picomp/b/set'));
    assert.ok(!mayPublish(op, 'picomp', 'picomp/all/set'));
    assert.ok(!mayPublish(op, 'picomp', 'picomp/a/state'), 'nobody but admins may forge a unit state');
    assert.ok(mayPublish(teacher, 'picomp', 'picomp/all/set'));
    assert.ok(mayPublish(teacher, 'picomp', 'picomp/b/set/ratio'));
    assert.ok(!mayPublish(teacher, 'picomp', 'picomp/b/availability'));
  });
});
