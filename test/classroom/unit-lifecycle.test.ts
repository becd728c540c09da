/**
 * Real `picomp start` processes on a Mosquitto hub: convergence after
 * kill -9 and restart, a duplicate id refused without marking the first
 * offline, retry after the hub refused a unit (on the shipped hub config),
 * and retiring a unit.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Mosquitto, Probe } from '../helpers/mosquitto.js';
import { unitTopics } from '../../src/mqtt/topics.js';
import { upsertUser } from '../../src/mqtt/users.js';
import { eventually, killUnit, picomp, spawnUnit, type UnitProcess } from '../helpers/classroom-room.js';
import { hub as hubCli, startHub } from '../helpers/classroom-hub.js';

const lastState = (p: Probe, topic: string): Record<string, unknown> | null => {
  const m = p.messages.filter((x) => x.topic === topic && x.text !== '').at(-1);
  return m ? JSON.parse(m.text) as Record<string, unknown> : null;
};

describe('classroom units as processes (SPEC §5)', function () {
  this.timeout(90_000);
  let hub: Mosquitto;
  let watcher: Probe;
  let dir: string;
  const procs: UnitProcess[] = [];
  const start = (args: string[], env: NodeJS.ProcessEnv = {}): UnitProcess => {
    const p = spawnUnit(args, env);
    procs.push(p);
    return p;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'picomp-lifecycle-'));
    hub = await Mosquitto.start();
    watcher = await Probe.connect(hub.url);
    await watcher.subscribe('picomp/#');
  });
  afterEach(async () => {
    for (const p of procs.splice(0)) await killUnit(p);
  });
  after(async () => {
    await watcher?.close();
    await hub?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('a unit killed with -9 misses a class change, and converges when it starts again', async () => {
    const t = unitTopics('picomp', 'bench-1');
    const args = ['--unit', 'bench-1', '--broker', hub.url, '--state-dir', join(dir, 'bench-1')];
    const first = start(args);
    await eventually(() => lastState(watcher, t.state) !== null && watcher.messages.some((m) => m.topic === t.availability && m.text === 'online'), 'bench-1 online');
    await killUnit(first, 'SIGKILL');
    const r = await picomp(['class', 'set', '--broker', hub.url, '--threshold', '-41', '--wait', '0']);
    assert.equal(r.code, 0, r.stderr);
    const since = watcher.messages.length;
    const again = start(args);
    // Its own retained `online` is stale: the liveness probe finds nobody answering, and the unit starts.
    await watcher.next((m) => m.topic === t.state && JSON.parse(m.text).threshold === -41 && JSON.parse(m.text).class_rev === 1, 20_000, since);
    assert.equal(again.child.exitCode, null, again.output());
    // The dead connection's last will may still come (when Mosquitto notices); the unit answers it with online.
    // (The unit puts its own back at most once a second, so the will that Mosquitto sent when the
    // old process died may just have used that; a later overwrite is answered.)
    let answered = false;
    for (let attempt = 0; attempt < 5 && !answered; attempt++) {
      const from = watcher.messages.length;
      await watcher.publish(t.availability, 'offline', { retain: true });
      answered = await watcher.next((m) => m.topic === t.availability && m.text === 'online', 1500, from).then(() => true, () => false);
    }
    assert.ok(answered, 'the unit put its online back');
  });

  it('a second unit with an id already online refuses to start (exit 2, one line) and never marks the first offline', async () => {
    const t = unitTopics('picomp', 'bench-2');
    start(['--unit', 'bench-2', '--broker', hub.url, '--state-dir', join(dir, 'bench-2a')]);
    await eventually(() => watcher.messages.some((m) => m.topic === t.availability && m.text === 'online'), 'bench-2 online');
    const since = watcher.messages.length;
    const twin = start(['--unit', 'bench-2', '--broker', hub.url, '--state-dir', join(dir, 'bench-2b')]);
    assert.equal(await twin.exited, 2, twin.output());
    const lines = twin.output().trim().split('\n').filter((l) => /error|already running/i.test(l));
    assert.equal(lines.length, 1, twin.output());
    assert.match(lines[0]!, /a unit with the id "bench-2" is already running on mqtt:\/\/127\.0\.0\.1:\d+; give this one another --unit id/);
    // The first is still there and never looked offline.
    const probe = await Probe.connect(hub.url);
    try {
      await probe.subscribe(t.availability);
      assert.equal((await probe.onTopic(t.availability)).text, 'online');
    } finally {
      await probe.close();
    }
    assert.ok(!watcher.messages.slice(since).some((m) => m.topic === t.availability && m.text === 'offline'));
  });

  it('retire clears a stopped unit\'s retained topics and Home Assistant configs, and refuses a running one', async () => {
    const t = unitTopics('picomp', 'bench-3');
    const p = start(['--unit', 'bench-3', '--broker', hub.url, '--state-dir', join(dir, 'bench-3'), '--ha-discovery']);
    await eventually(() => watcher.messages.some((m) => m.topic === t.availability && m.text === 'online'), 'bench-3 online');
    const running = await picomp(['class', 'retire', '--unit', 'bench-3', '--broker', hub.url]);
    assert.equal(running.code, 2);
    assert.match(running.stderr, /^picomp class: unit "bench-3" is running and answering on the hub; stop it first/);
    await killUnit(p, 'SIGTERM');
    const r = await picomp(['class', 'retire', '--unit', 'bench-3', '--broker', hub.url]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Retired "bench-3": cleared \d+ retained topics/);
    const probe = await Probe.connect(hub.url);
    try {
      await probe.subscribe(['picomp/bench-3/#', 'homeassistant/+/bench-3/#']);
      await probe.publish('picomp/bench-3/get', 'marker');
      await probe.onTopic('picomp/bench-3/get');
      assert.deepEqual(probe.messages.filter((m) => m.retain).map((m) => m.topic), []);
    } finally {
      await probe.close();
    }
  });

  it('a unit the hub refuses (its account not there yet) keeps retrying with back-off and joins once it may', async function () {
    const PASSWORD = 'correct-horse-2';
    const shipped = await startHub([{ name: 'admin', role: 'admin', password: PASSWORD }]);
    try {
      const t = unitTopics('picomp', 'bench-4');
      const p = start(['--unit', 'bench-4', '--broker', shipped.url, '--broker-username', 'bench-4', '--state-dir', join(dir, 'bench-4')],
        { PICOMP_BROKER_PASSWORD: PASSWORD });
      await eventually(() => /refused the unit \(.*\); retrying with back-off/.test(p.output()), 'the refusal logged');
      assert.equal(p.child.exitCode, null, 'still running');
      // The admin adds the unit's account and remakes the hub's files; Mosquitto reloads them on SIGHUP.
      const users = join(shipped.dir, 'users.json');
      await upsertUser(users, { name: 'bench-4', role: 'operator', unit: 'bench-4', password: PASSWORD });
      assert.equal((await hubCli(['acl', '--users', users, '--out', join(shipped.dir, 'acl')])).code, 0);
      assert.equal((await hubCli(['passwd', '--users', users, '--out', join(shipped.dir, 'passwd'), '--user', 'bench-4', '--password-stdin'], `bench-4:${PASSWORD}`)).code, 0);
      shipped.reload();
      const admin = await Probe.connect(shipped.url, { username: 'admin', password: PASSWORD });
      try {
        await admin.subscribe(t.availability);
        await admin.next((m) => m.topic === t.availability && m.text === 'online', 45_000);
      } finally {
        await admin.close();
      }
    } finally {
      await shipped.stop();
    }
  });
});
