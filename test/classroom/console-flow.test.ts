import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { formulaSource, type FlowNode } from '../../src/dashboard/flow.js';
import { autoMakeupDb, staticCurveDb } from '../../src/dsp/gain-computer.js';
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

  it('draws with the engine\'s own curve formulas and never subscribes to every unit\'s meters', () => {
    const page = flow.find((n) => n.type === 'ui-template' && n.name === 'Classroom console')!;
    const vue = page.format as string;
    assert.ok(vue.includes(formulaSource(staticCurveDb)) && vue.includes(formulaSource(autoMakeupDb)));
    assert.ok(!vue.includes('@inject') && !vue.includes('@include'));
    const code = flow.filter((n) => n.type === 'function').map((n) => n.func as string).join('\n');
    assert.ok(!/\+\/meters|'meters'\s*\]/.test(code), 'no wildcard meters subscription');
    assert.deepEqual(buildClassroomFlow(), flow);
  });
});

describe('picomp classroom options', () => {
  const refuses = (values: Record<string, unknown>, env: NodeJS.ProcessEnv, re: RegExp): void => {
    assert.throws(() => resolveClassroomOptions(values, env), (e: unknown) => isUserError(e) && re.test((e as Error).message));
  };

  it('takes flags over PICOMP_CLASSROOM_* variables over defaults', () => {
    const o = resolveClassroomOptions({ port: '1990' }, { PICOMP_CLASSROOM_PORT: '1999', PICOMP_CLASSROOM_BROKER: 'mqtt://10.0.0.5:1884' });
    assert.equal(o.port, 1990);
    assert.equal(o.broker.hostname, '10.0.0.5');
    assert.equal(o.broker.port, '1884');
    assert.equal(o.baseTopic, 'picomp');
    assert.equal(o.listen, '0.0.0.0');
    assert.equal(o.username, null);
  });

  it('refuses a bad broker, port, base topic or a user without a password, in one sentence', () => {
    refuses({ broker: 'not a url' }, {}, /--broker must be a URL/);
    refuses({ broker: 'ws://x:9001' }, {}, /mqtt:\/\//);
    refuses({ port: '70000' }, {}, /--port must be a whole number from 1 to 65535/);
    refuses({ 'base-topic': 'a/+' }, {}, /--base-topic/);
    refuses({ username: 'teacher' }, {}, /PICOMP_CLASSROOM_PASSWORD/);
    const o = resolveClassroomOptions({ username: 'teacher' }, { PICOMP_CLASSROOM_PASSWORD: 's3cret' });
    assert.equal(o.password, 's3cret');
  });
});
