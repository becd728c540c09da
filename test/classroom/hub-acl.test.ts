/**
 * The shipped hub (hub/mosquitto.conf + files made by `picomp hub`) on a
 * real Mosquitto: who may publish where is decided by the hub itself.
 * Mosquitto drops a refused publish silently (MQTT 3.1.1), so each check
 * publishes the refused message and then an allowed marker from the same
 * client: the watcher receives the marker, and must not have received the
 * refused one before it (a connection's messages keep their order).
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Probe, type Mosquitto } from '../helpers/mosquitto.js';
import { classDesiredTopic, groupDesiredTopic, groupSetTopic, allSetTopic, unitTopics } from '../../src/mqtt/topics.js';
import { hub, startHub, type HubUser } from '../helpers/classroom-hub.js';

const PASSWORD = 'correct-horse-1';
const USERS: HubUser[] = [
  { name: 'admin', role: 'admin', password: PASSWORD },
  { name: 'teacher', role: 'teacher', password: PASSWORD },
  { name: 'alice', role: 'operator', unit: 'u1', password: PASSWORD },
  { name: 'u1', role: 'operator', unit: 'u1', password: PASSWORD },
  { name: 'u2', role: 'operator', unit: 'u2', password: PASSWORD },
  { name: 'vera', role: 'viewer', password: PASSWORD },
];
const B = 'picomp';
const u1 = unitTopics(B, 'u1');
const u2 = unitTopics(B, 'u2');

describe('the classroom hub (hub/mosquitto.conf on a real Mosquitto)', function () {
  this.timeout(60_000);
  let m: Mosquitto;
  let watcher: Probe;
  const clients: Probe[] = [];
  const login = async (name: string, password = PASSWORD): Promise<Probe> => {
    const p = await Probe.connect(m.url, { username: name, password, clientId: `${name}-${clients.length}` });
    clients.push(p);
    return p;
  };

  before(async () => {
    m = await startHub(USERS);
    watcher = await login('admin');
    await watcher.subscribe(`${B}/#`);
  });
  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await m?.stop();
  });

  let markers = 0;
  /** Publishes `topic` as `who`, then a marker it may publish; says whether the hub passed `topic` on. */
  async function passes(who: Probe, topic: string, marker: string): Promise<boolean> {
    const since = watcher.messages.length;
    const tag = `marker-${++markers}`;
    await who.publish(topic, `{"probe":"${tag}"}`);
    await who.publish(marker, tag);
    await watcher.next((x) => x.topic === marker && x.text === tag, 5000, since);
    return watcher.messages.slice(since).some((x) => x.topic === topic && x.text.includes(tag));
  }

  it('a student (operator) may set only their own unit: class/desired, all/set, group topics and other units are refused', async () => {
    const alice = await login('alice');
    assert.equal(await passes(alice, u1.set, u1.setParam('ratio')), true);
    for (const denied of [classDesiredTopic(B), allSetTopic(B), `${allSetTopic(B)}/threshold`, groupSetTopic(B, 'row-1'),
      groupDesiredTopic(B, 'row-1'), u1.desired, u2.set, u1.state, u1.availability]) {
      assert.equal(await passes(alice, denied, u1.set), false, `alice must not publish ${denied}`);
    }
  });

  it('the teacher writes the class, group and unit desired settings and the all/group/unit commands, not unit status', async () => {
    const teacher = await login('teacher');
    for (const allowed of [classDesiredTopic(B), groupDesiredTopic(B, 'row-1'), u2.desired, allSetTopic(B), `${allSetTopic(B)}/ratio`,
      groupSetTopic(B, 'row-1'), u2.set, u2.get]) {
      assert.equal(await passes(teacher, allowed, u1.set), true, `teacher may publish ${allowed}`);
    }
    for (const denied of [u1.state, u1.availability, `${B}/u1/info`]) {
      assert.equal(await passes(teacher, denied, u1.set), false, `teacher must not publish ${denied}`);
    }
  });

  it('a unit writes only its own status topics; never another unit\'s, nor desired settings or shared commands', async () => {
    const unit = await login('u1');
    for (const allowed of [u1.state, u1.availability, u1.ack, u1.meters, u1.error]) {
      assert.equal(await passes(unit, allowed, u1.get), true, `u1 may publish ${allowed}`);
    }
    for (const denied of [u2.state, u2.availability, u1.desired, classDesiredTopic(B), allSetTopic(B), u2.set]) {
      assert.equal(await passes(unit, denied, u1.get), false, `u1 must not publish ${denied}`);
    }
  });

  it('a viewer reads everything and publishes nothing', async () => {
    const vera = await login('vera');
    await vera.subscribe(`${B}/#`);
    const teacher = await login('teacher');
    await teacher.publish(u1.set, '{"ratio": 3}');
    await vera.next((x) => x.topic === u1.set);
    // A viewer has no topic it may write, so the marker is the teacher's after the viewer's attempt.
    const since = watcher.messages.length;
    await vera.publish(u1.set, 'viewer-was-here');
    await vera.publish(allSetTopic(B), 'viewer-was-here');
    await vera.client.endAsync(); // flushes the viewer's packets before the marker goes out
    await teacher.publish(u1.get, 'marker-viewer');
    await watcher.next((x) => x.text === 'marker-viewer', 5000, since);
    assert.ok(!watcher.messages.slice(since).some((x) => x.text === 'viewer-was-here'));
  });

  it('refuses wrong passwords and unknown users', async () => {
    await assert.rejects(login('alice', 'not-the-password'));
    await assert.rejects(login('mallory'));
  });

  it('picomp hub passwd checks each password against the users file and writes nothing on a mismatch', async () => {
    const usersPath = join(m.dir, 'users.json');
    const passwd = join(m.dir, 'passwd');
    const before = await readFile(passwd, 'utf8');
    const r = await hub(['passwd', '--users', usersPath, '--out', passwd, '--password-stdin'], 'alice:wrong-password\n');
    assert.equal(r.code, 2);
    assert.match(r.err, /^picomp hub: that is not alice's password in the users file; nothing was written/);
    assert.equal(await readFile(passwd, 'utf8'), before);
    // One user's password again; the others' entries stay.
    const one = await hub(['passwd', '--users', usersPath, '--out', passwd, '--user', 'alice', '--password-stdin'], `alice:${PASSWORD}\n`);
    assert.equal(one.code, 0, one.err);
    assert.match(one.out, /Wrote 6 logins/);
  });

  it('picomp hub: help, one-line errors for missing users files and unknown subcommands', async () => {
    const help = await hub(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.out, /picomp hub acl/);
    const empty = join(m.dir, 'no-users.json');
    await writeFile(empty, '{"version":1,"users":[]}');
    const r = await hub(['acl', '--users', empty]);
    assert.equal(r.code, 2);
    assert.match(r.err, /no users in .*no-users\.json/);
    const bad = await hub(['frobnicate', '--users', join(m.dir, 'users.json')]);
    assert.equal(bad.code, 2);
    assert.ok(!bad.err.trim().includes('\n'));
  });
});
