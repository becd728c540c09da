/**
 * What a fake or hostile unit can make the teacher's `picomp class status`
 * print: its retained availability/state/info are whatever it publishes
 * (any unit account on the hub, anyone on an open broker). The table must
 * stay one line per real-looking unit, with no terminal control sequences.
 */
import assert from 'node:assert/strict';
import { formatRoom, roomRows } from '../../src/classroom/room.js';
import { listenForAcks } from '../../src/classroom/teacher.js';
import { unitTopics } from '../../src/mqtt/topics.js';
import { Mosquitto, Probe } from '../helpers/mosquitto.js';

const B = 'picomp';
const ESC = '\u001b';
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

function room(entries: Record<string, string>): string {
  return formatRoom(roomRows(new Map(Object.entries(entries)), B));
}

describe('picomp class status against fake units', () => {
  const good = unitTopics(B, 'u1');
  const state = (extra: Record<string, unknown>): string => JSON.stringify({ ratio: 4, ...extra });

  const attacks: [string, Record<string, string>][] = [
    ['a unit id with terminal escapes', { [`${B}/x${ESC}[2J${ESC}]0;pwned\u0007/availability`]: 'online' }],
    ['a unit id with a newline', { [`${B}/fake\nu9 online/availability`]: 'online' }],
    ['groups with escapes and newlines', { [good.state]: state({ groups: [`${ESC}[31mred`, 'a\nb'] }) }],
    ['a locked list of escapes', { [good.state]: state({ locked: [`${ESC}[2J`] }) }],
    ['a huge group name', { [good.state]: state({ groups: ['g'.repeat(50_000)] }) }],
  ];
  for (const [name, entries] of attacks) {
    it(`${name}: no control characters, no line longer than a screen's worth`, () => {
      const out = room({ [good.availability]: 'online', ...entries });
      for (const line of out.split('\n')) {
        assert.doesNotMatch(line, CONTROL, JSON.stringify(line.slice(0, 200)));
        assert.ok(line.length < 1000, `a line of ${line.length} characters`);
      }
      assert.ok(out.split('\n').length <= 4, out);
    });
  }

  it('a real unit still shows its groups and locked parameters', () => {
    const out = room({ [good.availability]: 'online', [good.state]: state({ groups: ['row-1'], locked: ['ratio'] }) });
    assert.match(out, /u1\s+online\s+row-1\s+-\s+ratio/);
  });
});

describe('picomp class set against a forged ack', function () {
  this.timeout(30_000);
  let m: Mosquitto | undefined;
  const probes: Probe[] = [];
  after(async () => {
    for (const p of probes) await p.close().catch(() => undefined);
    await m?.stop();
  });

  it('the refusal a unit reports reaches the teacher as one printable line of bounded length', async () => {
    m = await Mosquitto.start();
    const teacher = await Probe.connect(m.url);
    const fake = await Probe.connect(m.url);
    probes.push(teacher, fake);
    const acks = await listenForAcks(teacher.client, B, 7, 'class');
    const error = `${ESC}[2J${ESC}]0;owned\u0007line one\nline two ${'x'.repeat(20_000)}`;
    await fake.publish(unitTopics(B, 'u1').ack, JSON.stringify({ rev: 7, ok: false, level: 'class', error }));
    const got = (await acks.collect(['u1'], 10_000)).get('u1');
    assert.equal(got?.ok, false);
    assert.doesNotMatch(got!.error!, CONTROL);
    assert.match(got!.error!, /line one line two/);
    assert.ok(got!.error!.length <= 500, `${got!.error!.length} characters`);
  });
});
