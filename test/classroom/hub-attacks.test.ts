/**
 * A curious student on the classroom hub (hub/mosquitto.conf + the ACL made
 * by `picomp hub acl`, on a real Mosquitto), beyond who may publish where
 * (hub-acl.test.ts): what they can make the hub keep.
 */
import assert from 'node:assert/strict';
import { Probe, type Mosquitto } from '../helpers/mosquitto.js';
import { unitTopics } from '../../src/mqtt/topics.js';
import { startHub, type HubUser } from '../helpers/classroom-hub.js';

const PASSWORD = 'correct-horse-1';
const USERS: HubUser[] = [
  { name: 'admin', role: 'admin', password: PASSWORD },
  { name: 'alice', role: 'operator', unit: 'u1', password: PASSWORD },
];
const B = 'picomp';
const u1 = unitTopics(B, 'u1');

describe('the classroom hub against a student', function () {
  this.timeout(60_000);
  let m: Mosquitto;
  const clients: Probe[] = [];
  const login = async (name: string): Promise<Probe> => {
    const p = await Probe.connect(m.url, { username: name, password: PASSWORD, clientId: `${name}-${clients.length}` });
    clients.push(p);
    return p;
  };

  before(async () => { m = await startHub(USERS); });
  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await m?.stop();
  });

  it('a student cannot make the hub keep retained messages on made-up topics under their unit\'s set (only its parameters)', async () => {
    const alice = await login('alice');
    const junk = Array.from({ length: 20 }, (_, i) => `${u1.set}/junk-${i}`);
    for (const t of [...junk, `${u1.set}/a/b/c`]) await alice.publish(t, 'x'.repeat(1000), { retain: true });
    const admin = await login('admin');
    await admin.publish(`${B}/zz-marker`, 'end', { retain: true });
    const fresh = await login('admin');
    // Retained messages come in subscription order: once the marker's is in, the set topics' have been sent.
    await fresh.subscribe(`${u1.set}/#`);
    await fresh.subscribe(`${B}/zz-marker`);
    await fresh.onTopic(`${B}/zz-marker`, 5000);
    assert.deepEqual(fresh.messages.filter((x) => x.retain && x.topic.startsWith(u1.set)).map((x) => x.topic), []);
  });
});
