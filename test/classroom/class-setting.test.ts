/**
 * SPEC §5 on a real Mosquitto hub with real unit clients and the real
 * `picomp class` command: the class setting converges, precedence, acks,
 * preset_def, reset, status, and the teacher's lock from every source.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Mosquitto, Probe } from '../helpers/mosquitto.js';
import { FakeGpioBoard, NEW_KERNEL_PI4, fakeSysfsGpio } from '../helpers/fake-gpio.js';
import { startKnobs, type RunningKnobs } from '../../src/knobs/knob-controller.js';
import { LOCKED_FLASH } from '../../src/knobs/status-led.js';
import { allSetTopic, groupSetTopic, unitTopics } from '../../src/mqtt/topics.js';
import { eventually, picomp, startTestUnit, type TestUnit } from '../helpers/classroom-room.js';

describe('the class setting on a Mosquitto hub (SPEC §5)', function () {
  this.timeout(60_000);
  let hub: Mosquitto;
  let watcher: Probe;
  let dir: string;
  const units: TestUnit[] = [];
  const unit = (id: string): TestUnit => units.find((u) => u.id === id)!;
  const cls = (...args: string[]) => picomp(['class', ...args, '--broker', hub.url, '--state-dir', dir]);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'picomp-class-'));
    // The teacher's own preset, which no unit has.
    await mkdir(join(dir, 'presets'));
    await writeFile(join(dir, 'presets', 'teachers-own.json'), JSON.stringify({ description: 'mine', params: { threshold: -33, ratio: 7 } }));
    hub = await Mosquitto.start();
    watcher = await Probe.connect(hub.url);
    await watcher.subscribe('picomp/#');
    units.push(await startTestUnit(hub.url, 'desk-a', { groups: ['row-1'] }));
    units.push(await startTestUnit(hub.url, 'desk-b', { groups: ['row-1'] }));
    units.push(await startTestUnit(hub.url, 'desk-c', { groups: ['row-2'] }));
  });
  after(async () => {
    for (const u of units) await u.stop().catch(() => undefined);
    await watcher?.close();
    await hub?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('a class preset reaches every unit, even one it lacks (preset_def), with acks, class_rev and groups in state', async () => {
    const r = await cls('set', '--preset', 'teachers-own');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /class setting, rev 1: 3 of 3 online units applied it/);
    for (const u of units) {
      assert.equal(u.state.params.threshold, -33);
      assert.equal(u.state.params.ratio, 7);
      assert.equal(u.state.snapshot.preset, 'teachers-own');
      assert.equal(u.state.snapshot.classRev, 1);
    }
    const st = await watcher.next((m) => m.topic === unitTopics('picomp', 'desk-a').state && JSON.parse(m.text).class_rev === 1);
    const doc = JSON.parse(st.text) as Record<string, unknown>;
    assert.deepEqual([doc.locked, doc.groups], [false, ['row-1']]);
  });

  it('precedence: a group over the class, a unit over its group; reset brings the unit back', async () => {
    assert.equal((await cls('set', '--group', 'row-1', '--ratio', '3')).code, 0);
    await eventually(() => unit('desk-a').state.params.ratio === 3 && unit('desk-b').state.params.ratio === 3, 'row-1 at ratio 3');
    assert.equal(unit('desk-c').state.params.ratio, 7, 'row-2 keeps the class ratio');
    const one = await cls('set', '--unit', 'desk-a', '--ratio', '2');
    assert.match(one.stdout, /unit desk-a setting, rev 1: 1 of 1 online unit applied it/);
    assert.equal(unit('desk-a').state.params.ratio, 2);
    const status = await cls('status');
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^UNIT\s+ONLINE\s+GROUPS\s+CLASS REV\s+LOCKED\s+SETTING/);
    assert.match(status.stdout, /desk-a\s+online\s+row-1\s+1\s+-\s+matches/);
    // A student-free change to desk-c (a teacher's one-off all/set) shows as a difference.
    await watcher.publish(`${allSetTopic('picomp')}/makeup`, '5');
    await eventually(() => units.every((u) => u.state.params.makeup === 5), 'makeup 5 everywhere');
    assert.match((await cls('status', '--unit', 'desk-c')).stdout, /desk-c\s+online\s+row-2\s+1\s+-\s+differs: makeup/);
    assert.equal((await cls('reset', '--unit', 'desk-a')).code, 0);
    await eventually(() => unit('desk-a').state.params.ratio === 3, 'desk-a back to its group ratio');
  });

  it('a unit that was off converges when it joins, without anyone resending', async () => {
    const late = await startTestUnit(hub.url, 'desk-d', { groups: ['row-2'] });
    units.push(late);
    await eventually(() => late.state.params.threshold === -33 && late.state.snapshot.classRev === 1, 'the late unit on the class setting');
  });

  it('a bad desired document changes nothing and is acked with one sentence', async () => {
    const t = unitTopics('picomp', 'desk-b');
    const before = unit('desk-b').state.snapshot;
    const since = watcher.messages.length;
    await watcher.publish(t.desired, '{"rev": 9, "params": {"ratio": 99}}', { retain: true });
    const ack = JSON.parse((await watcher.next((m) => m.topic === t.ack, 5000, since)).text) as { rev: number; ok: boolean; error: string };
    assert.deepEqual([ack.rev, ack.ok], [9, false]);
    assert.match(ack.error, /^params: ratio must be 1 to 20, got 99\.$/);
    assert.deepEqual(unit('desk-b').state.snapshot, before);
    await watcher.publish(t.desired, '', { retain: true });
  });

  describe('the lock', () => {
    const a = unitTopics('picomp', 'desk-a');
    async function ownSetError(topic: string, payload: string, who: Probe = watcher): Promise<string | null> {
      const since = watcher.messages.length;
      await who.publish(topic, payload);
      // `get` after the set: its state echo marks the end of what the set caused.
      await who.publish(a.get, '');
      await watcher.next((m) => m.topic === a.state && !m.retain, 5000, since);
      const err = watcher.messages.slice(since).find((m) => m.topic === a.error);
      return err ? (JSON.parse(err.text) as { error: string }).error : null;
    }

    it('locked parameters: the unit\'s own set of them is refused with one error about the teacher; others still work', async () => {
      assert.equal((await cls('lock', '--params', 'threshold,ratio')).code, 0);
      await eventually(() => Array.isArray(unit('desk-a').state.snapshot.locked), 'desk-a locked');
      const before = unit('desk-a').state.params.threshold;
      assert.match((await ownSetError(a.setParam('threshold'), '-10'))!, /^the teacher locked threshold on this unit; ask the teacher to unlock it/);
      assert.equal(unit('desk-a').state.params.threshold, before);
      assert.equal(await ownSetError(a.setParam('knee'), '3'), null);
      assert.equal(unit('desk-a').state.params.knee, 3);
    });

    it('locked entirely: the dashboard\'s set is refused, while all/set, group/set and desired settings still apply', async () => {
      assert.equal((await cls('lock')).code, 0);
      await eventually(() => units.every((u) => u.state.snapshot.locked === true), 'every unit locked');
      // The unit's dashboard is an MQTT client publishing the unit's own set.
      const dashboard = await Probe.connect(hub.url, { clientId: 'picomp-dashboard-desk-a', username: 'dashboard' });
      try {
        assert.match((await ownSetError(a.set, '{"mix": 50}', dashboard))!, /^the teacher locked this unit/);
      } finally {
        await dashboard.close();
      }
      assert.equal(unit('desk-a').state.params.mix, 100);
      await watcher.publish(allSetTopic('picomp'), '{"mix": 80}');
      await eventually(() => units.every((u) => u.state.params.mix === 80), 'all/set applied while locked');
      await watcher.publish(groupSetTopic('picomp', 'row-1'), '{"mix": 60}');
      await eventually(() => unit('desk-a').state.params.mix === 60 && unit('desk-c').state.params.mix === 80, 'group/set applied while locked');
      assert.equal((await cls('set', '--knee', '9')).code, 0);
      await eventually(() => units.every((u) => u.state.params.knee === 9), 'desired setting applied while locked');
    });

    it('a knob on the fake GPIO lines is refused, says why on the unit\'s error topic, and the status LED flashes the lock', async () => {
      const board = new FakeGpioBoard();
      const u = unit('desk-a');
      let ledClock = 10_000;
      let knobs: RunningKnobs | null = null;
      try {
        knobs = await startKnobs({
          knobs: [{ backend: 'gpio', pins: { a: 17, b: 18, button: 27 }, param: 'ratio', acceleration: false }],
          led: { pin: 22 },
        }, u.state, u.log, { gpio: board.factory, gpioRoot: await fakeSysfsGpio(NEW_KERNEL_PI4), now: () => ledClock });
        const before = u.state.params.ratio;
        const since = watcher.messages.length;
        board.turn(529, 530, 3);
        assert.equal(u.state.params.ratio, before, 'the knob changed nothing');
        const err = await watcher.next((m) => m.topic === a.error, 5000, since);
        assert.deepEqual(JSON.parse(err.text), { topic: 'knob', payload: '', error: JSON.parse(err.text).error });
        assert.match(JSON.parse(err.text).error, /^the teacher locked this unit/);
        // The LED (pin 22 → sysfs 534): one short flash per second while locked, even under gain reduction.
        const frame = (t: number) => ({ t, gr: [-20, -20], clip_out: [0, 0] });
        const seen: boolean[] = [];
        for (let t = 0; t < 2 * LOCKED_FLASH.periodMs; t += 40) {
          knobs.updateMeters(frame(100_000 + t));
          seen.push(board.levels.get(534) === 1);
        }
        const onShare = seen.filter(Boolean).length / seen.length;
        assert.ok(onShare > 0 && onShare < 0.3, `flashes, not lit (${onShare})`);
        assert.equal((await cls('unlock')).code, 0);
        await eventually(() => u.state.snapshot.locked === false, 'unlocked');
        knobs.updateMeters(frame(200_000 + LOCKED_FLASH.onMs + 1));
        assert.equal(board.levels.get(534), 1, 'unlocked: the LED shows gain reduction again');
        ledClock += 1000;
        board.turn(529, 530, 1);
        assert.equal(u.state.params.ratio, before + 0.1);
      } finally {
        await knobs?.stop();
      }
    });
  });

  it('picomp class: --help, and one-line errors (exit 2)', async () => {
    const help = await picomp(['class', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /picomp class <action>/);
    for (const args of [['class'], ['class', 'fly'], ['class', 'set', '--broker', hub.url], ['class', 'set', '--broker', hub.url, '--ratio', '99'],
      ['class', 'reset', '--broker', hub.url], ['class', 'lock', '--broker', hub.url, '--params', 'volume'], ['class', 'set', '--broker', 'http://x']]) {
      const r = await picomp(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /^picomp class: /);
    }
  });
});
