import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { injectedSource, type FlowNode } from '../../src/dashboard/flow.js';
import {
  CLASSROOM_BROKER_NODE_ID, CLASSROOM_FLOW_FILE, buildClassroomFlow, classroomFlowJson,
} from '../../src/classroom/console-flow.js';
import { resolveClassroomOptions } from '../../src/cli/classroom-command.js';
import { isUserError } from '../../src/errors.js';

const flow = JSON.parse(readFileSync(CLASSROOM_FLOW_FILE, 'utf8')) as FlowNode[];
const byId = new Map(flow.map((n) => [n.id, n]));

describe('classroom console flow file', () => {
  it('is exactly what the builder makes from flows/classroom (rebuild with node dist/src/classroom/console-flow.js)', () => {
    assert.equal(readFileSync(CLASSROOM_FLOW_FILE, 'utf8'), classroomFlowJson());
  });

  it('is a Node-RED flow whose wires and references all resolve', () => {
    assert.equal(byId.size, flow.length, 'ids are unique');
    for (const n of flow) for (const out of n.wires ?? []) for (const to of out) assert.ok(byId.has(to), `${n.id} is wired to missing ${to}`);
    assert.equal(byId.get(CLASSROOM_BROKER_NODE_ID)?.type, 'mqtt-broker');
    for (const n of flow.filter((x) => x.type === 'mqtt in' || x.type === 'mqtt out')) assert.equal(n.broker, CLASSROOM_BROKER_NODE_ID);
  });

  it('draws with the engine\'s own transfer function and never subscribes to every unit\'s meters', () => {
    const page = flow.find((n) => n.type === 'ui-template' && n.name === 'Classroom console')!;
    const vue = page.format as string;
    assert.ok(vue.includes(injectedSource('transferDb')));
    for (const f of flow.filter((n) => n.type === 'function')) assert.ok((f.func as string).includes(injectedSource('topicGrammar')), `${f.name as string} carries the topic grammar`);
    assert.ok(!vue.includes('@inject') && !vue.includes('@include'));
    const code = flow.filter((n) => n.type === 'function').map((n) => n.func as string).join('\n');
    assert.ok(!/\+\/meters|'meters'\s*\]/.test(code), 'no wildcard meters subscription');
    assert.deepEqual(buildClassroomFlow(), flow);
  });
});

describe('picomp classroom options', () => {
  const refuses = async (values: Record<string, unknown>, env: NodeJS.ProcessEnv, re: RegExp): Promise<void> => {
    await assert.rejects(resolveClassroomOptions(values, env), (e: unknown) => isUserError(e) && re.test((e as Error).message));
  };

  it('takes flags over PICOMP_* variables over the schema\'s defaults', async () => {
    const o = await resolveClassroomOptions({ 'classroom-port': '1990' }, { PICOMP_CLASSROOM_PORT: '1999', PICOMP_BROKER: 'mqtt://10.0.0.5:1884' });
    assert.equal(o.port, 1990);
    assert.equal(o.broker.hostname, '10.0.0.5');
    assert.equal(o.broker.port, '1884');
    assert.equal(o.baseTopic, 'picomp');
    assert.equal(o.username, null);
    const defaults = await resolveClassroomOptions({}, {});
    assert.equal(defaults.port, 1880);
    assert.equal(defaults.listen, '127.0.0.1', 'the page stays on this machine unless asked');
  });

  it('refuses a bad broker, port, base topic or a user without a password, in one sentence', async () => {
    await refuses({ broker: 'not a url' }, {}, /--broker must be a URL/);
    await refuses({ broker: 'ws://x:9001' }, {}, /mqtt:\/\//);
    await refuses({ 'classroom-port': '70000' }, {}, /--classroom-port must be a whole number from 1 to 65535/);
    await refuses({ 'base-topic': 'a/+' }, {}, /--base-topic/);
    await refuses({ 'classroom-username': 'teacher' }, {}, /PICOMP_CLASSROOM_PASSWORD/);
    // Credentials in the URL would show in `ps`: refused as picomp start refuses them.
    await refuses({ broker: 'mqtt://teacher:secret@127.0.0.1:1883' }, {}, /must not hold a user name or password/);
    const o = await resolveClassroomOptions({ 'classroom-username': 'teacher' }, { PICOMP_CLASSROOM_PASSWORD: 's3cret' });
    assert.equal(o.password, 's3cret');
  });
});
