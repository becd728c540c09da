/**
 * User presets over MQTT: `picomp/<unit>/preset/save|rename|delete`, for
 * teachers and admins only (the embedded broker's ACL), validated, with an
 * `error` on refusal, persisted in the state dir's presets folder and shown
 * in the retained `info` (and Home Assistant's preset list).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker, type RunningBroker } from '../../src/mqtt/broker.js';
import { mayPublish } from '../../src/mqtt/acl.js';
import { MeterPump } from '../../src/unit/meter-pump.js';
import { startUnitClient, type UnitClient } from '../../src/mqtt/unit-client.js';
import { UnitState } from '../../src/unit/unit-state.js';
import { usersFile, userPresetDir } from '../../src/unit/state-dir.js';
import { parseTopic, isPresetCommand, unitTopics } from '../../src/mqtt/topics.js';
import { upsertUser } from '../../src/mqtt/users.js';
import { decodePresetPayload } from '../../src/mqtt/mqtt-command.js';
import { memoryLogger } from '../../src/log.js';
import { Probe, sleep } from '../helpers/mosquitto.js';

const PASSWORDS = { otto: 'operator-pass-1', tess: 'teacher-pass-1', ada: 'admin-pass-01' };

describe('preset commands over MQTT', function () {
  this.timeout(60_000);
  let dir: string;
  let broker: RunningBroker;
  let state: UnitState;
  let client: UnitClient;
  let tess: Probe;
  const t = unitTopics('picomp', 'room-1');

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'picomp-presets-mqtt-'));
    await upsertUser(usersFile(dir), { name: 'otto', role: 'operator', unit: 'room-1', password: PASSWORDS.otto });
    await upsertUser(usersFile(dir), { name: 'tess', role: 'teacher', password: PASSWORDS.tess });
    await upsertUser(usersFile(dir), { name: 'ada', role: 'admin', password: PASSWORDS.ada });
    broker = await startBroker({ mqttPort: 0, wsPort: null, host: '127.0.0.1', usersFile: usersFile(dir), allowAnonymous: false, log: memoryLogger() });
    state = await UnitState.load({ stateDir: dir, log: memoryLogger(), persistDelayMs: 10 });
    client = await startUnitClient({
      url: broker.url, username: broker.serviceAccount!.username, password: broker.serviceAccount!.password,
      baseTopic: 'picomp', unitId: 'room-1', state, log: memoryLogger(), haDiscovery: true,
      info: () => ({ version: 'test' }), meters: new MeterPump({ rateHz: 5, read: () => null, log: memoryLogger() }),
    });
    tess = await Probe.connect(broker.url, { username: 'tess', password: PASSWORDS.tess });
    await tess.subscribe(['picomp/room-1/#', 'homeassistant/select/room-1/preset/config']);
    await tess.onTopic(t.info);
  });

  after(async function () {
    await tess?.close();
    await client?.stop();
    await broker?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const presetsInInfo = (text: string): { name: string; built_in: boolean; params: Record<string, unknown>; description: string }[] =>
    (JSON.parse(text) as { presets: never[] }).presets;

  /** Publishes as the teacher and waits for the retained info that satisfies pred. */
  async function expectInfo(topic: string, payload: string, pred: (p: ReturnType<typeof presetsInInfo>) => boolean): Promise<ReturnType<typeof presetsInInfo>> {
    const since = tess.messages.length;
    await tess.publish(topic, payload);
    const m = await tess.next((x) => x.topic === t.info && pred(presetsInInfo(x.text)), 5000, since);
    return presetsInInfo(m.text);
  }

  async function expectError(topic: string, payload: string, why: RegExp, as?: Probe): Promise<void> {
    const since = tess.messages.length;
    await (as ?? tess).publish(topic, payload);
    const e = await tess.next((x) => x.topic === t.error, 5000, since);
    const doc = JSON.parse(e.text) as { topic: string; error: string };
    assert.equal(doc.topic, topic);
    assert.match(doc.error, why);
  }

  it('saves the current settings under a name (plain or JSON), on disk, in info and in Home Assistant\'s list', async function () {
    state.apply({ threshold: -33, ratio: 7 }, 'api');
    const presets = await expectInfo(t.preset('save'), 'my-vocal', (p) => p.some((x) => x.name === 'my-vocal'));
    const mine = presets.find((x) => x.name === 'my-vocal')!;
    assert.deepEqual([mine.built_in, mine.params], [false, { threshold: -33, ratio: 7 }]);
    assert.equal(state.snapshot.preset, 'my-vocal', 'the saved preset is the current one');
    const file = JSON.parse(await readFile(join(userPresetDir(dir), 'my-vocal.json'), 'utf8')) as { params: unknown };
    assert.deepEqual(file.params, { threshold: -33, ratio: 7 });
    await tess.next((x) => x.topic === 'homeassistant/select/room-1/preset/config'
      && (JSON.parse(x.text) as { options: string[] }).options.includes('my-vocal'), 5000);
    const withText = await expectInfo(t.preset('save'), '{"name": "drums-2", "description": "For the cajón."}', (p) => p.some((x) => x.name === 'drums-2'));
    assert.equal(withText.find((x) => x.name === 'drums-2')!.description, 'For the cajón.');
  });

  it('renames and deletes, the current preset following', async function () {
    state.apply({ preset: 'my-vocal' }, 'api');
    await expectInfo(t.preset('rename'), '{"from": "my-vocal", "to": "lead-vocal"}',
      (p) => p.some((x) => x.name === 'lead-vocal') && !p.some((x) => x.name === 'my-vocal'));
    assert.equal(state.snapshot.preset, 'lead-vocal');
    await expectInfo(t.preset('delete'), 'lead-vocal', (p) => !p.some((x) => x.name === 'lead-vocal'));
    assert.equal(state.snapshot.preset, null, 'a deleted preset no longer names the sound');
    assert.equal(state.params.threshold, -33, 'the sound stays');
    assert.deepEqual(await readdir(userPresetDir(dir)), ['drums-2.json']);
    // A restart finds what is on disk.
    const again = await UnitState.load({ stateDir: dir, log: memoryLogger() });
    assert.deepEqual(again.presets().filter((p) => !p.builtIn).map((p) => p.name), ['drums-2']);
  });

  it('refuses bad commands with one error each, changing nothing', async function () {
    const before = await readdir(userPresetDir(dir));
    await expectError(t.preset('save'), 'Bad Name!', /^cannot save "Bad Name!": a preset name is/);
    await expectError(t.preset('save'), 'bass', /built-in preset and cannot be overwritten/);
    await expectError(t.preset('rename'), 'drums-2', /^preset\/rename needs the old and the new name; send \{"from"/);
    await expectError(t.preset('rename'), '{"from": "drums-2", "to": "bass"}', /already exists/);
    await expectError(t.preset('delete'), 'gentle-vocal', /built-in preset; only user presets can be changed/);
    await expectError(t.preset('delete'), 'nope', /no such user preset \(user presets: drums-2\)/);
    await expectError(t.preset('save'), '{"name": "x", "colour": "red"}', /does not know "colour"/);
    await expectError(t.preset('save'), '{"name": ', /not valid JSON/);
    await expectError(t.preset('save'), '', /empty payload/);
    // Only an admin may publish to topics that are no command at all (a teacher would be disconnected).
    const ada = await Probe.connect(broker.url, { username: 'ada', password: PASSWORDS.ada });
    try {
      await expectError(`${t.preset('save')}/x`, 'y', /is not a preset command; publish to picomp\/room-1\/preset\/save, /, ada);
      await expectError('picomp/room-1/preset', 'y', /is not a preset command/, ada);
    } finally {
      await ada.close();
    }
    assert.deepEqual(await readdir(userPresetDir(dir)), before);
  });

  it('lets teachers and admins manage presets, not operators (who are disconnected, as for any forbidden publish)', async function () {
    const op = { name: 'otto', role: 'operator' as const, unit: 'room-1' };
    assert.ok(!mayPublish(op, 'picomp', t.preset('save')));
    assert.ok(mayPublish(op, 'picomp', t.set), 'operators still set their unit');
    assert.ok(mayPublish({ name: 'tess', role: 'teacher' }, 'picomp', t.preset('delete')));
    const otto = await Probe.connect(broker.url, { username: 'otto', password: PASSWORDS.otto });
    const closed = new Promise<void>((r) => otto.client.once('close', () => r()));
    await otto.client.publishAsync(t.preset('save'), 'sneaky', { qos: 0 }).catch(() => undefined);
    await closed;
    await otto.close();
    await sleep(200);
    assert.ok(!state.presets().some((p) => p.name === 'sneaky'));
  });

  it('reads the grammar and payloads as documented', function () {
    assert.equal(t.preset('rename'), 'picomp/room-1/preset/rename');
    assert.ok(isPresetCommand(parseTopic('picomp', 'picomp/room-1/preset/save')!));
    assert.ok(!isPresetCommand(parseTopic('picomp', 'picomp/room-1/preset/load')!));
    assert.ok(!isPresetCommand(parseTopic('picomp', 'picomp/room-1/preset')!));
    assert.equal(parseTopic('picomp', 'picomp/all/preset/save'), null, 'presets are one unit\'s');
    assert.deepEqual(decodePresetPayload('delete', Buffer.from('{"name": "a"}')), { ok: true, value: { action: 'delete', name: 'a' } });
    assert.deepEqual(decodePresetPayload('save', Buffer.from(' a ')), { ok: true, value: { action: 'save', name: 'a' } });
  });
});
