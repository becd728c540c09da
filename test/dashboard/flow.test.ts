import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PARAMS, defaultParams } from '../../src/params/schema.js';
import { FLOW_FILE, buildDashboardFlow, dashboardFlowJson, injectedSource, sharedMembers, type FlowNode } from '../../src/dashboard/flow.js';
import { transferDb } from '../../src/dsp/transfer.js';
import { parseTopic } from '../../src/mqtt/topics.js';

const flow = JSON.parse(readFileSync(FLOW_FILE, 'utf8')) as FlowNode[];
const byId = new Map(flow.map((n) => [n.id, n]));
const ofType = (t: string): FlowNode[] => flow.filter((n) => n.type === t);
const templates = ofType('ui-template').filter((n) => n.templateScope === 'local');
const template = (name: string): string => {
  const t = templates.find((n) => n.name === name);
  assert.ok(t, `no ui-template named ${name}`);
  return t.format as string;
};

describe('dashboard flow file', () => {
  it('is exactly what the builder makes from flows/templates and flows/functions (rebuild with node dist/src/dashboard/build-flow.js)', () => {
    assert.equal(readFileSync(FLOW_FILE, 'utf8'), dashboardFlowJson());
  });

  it('is a Node-RED flow: nodes with unique id and type, wires and references to existing nodes', () => {
    assert.ok(Array.isArray(flow) && flow.length > 0);
    for (const n of flow) {
      assert.equal(typeof n.id, 'string', JSON.stringify(n).slice(0, 80));
      assert.equal(typeof n.type, 'string', n.id);
    }
    assert.equal(byId.size, flow.length, 'ids are unique');
    const tabs = new Set(ofType('tab').map((n) => n.id));
    assert.equal(tabs.size, 1);
    for (const n of flow) {
      if (n.z !== undefined) assert.ok(tabs.has(n.z), `${n.type} ${n.id} is on a missing tab`);
      for (const out of n.wires ?? []) for (const to of out) assert.ok(byId.has(to), `${n.id} is wired to missing ${to}`);
    }
  });

  it('hangs every dashboard node on an existing group, page, base and theme', () => {
    const is = (id: unknown, type: string): boolean => typeof id === 'string' && byId.get(id)?.type === type;
    for (const t of ofType('ui-template')) {
      if (t.templateScope === 'local') assert.ok(is(t.group, 'ui-group'), `template ${t.name} has no group`);
      else assert.ok(is(t.page, 'ui-page'), `template ${t.name} has no page`);
    }
    for (const g of ofType('ui-group')) assert.ok(is(g.page, 'ui-page'), `group ${g.name} has no page`);
    for (const p of ofType('ui-page')) {
      assert.ok(is(p.ui, 'ui-base'), `page ${p.name} has no ui-base`);
      assert.ok(is(p.theme, 'ui-theme'), `page ${p.name} has no theme`);
    }
    const groups = new Set(templates.map((t) => t.group));
    assert.equal(groups.size, ofType('ui-group').length, 'every group shows something');
  });

  it('takes broker and unit from the environment', () => {
    const [broker, ...more] = ofType('mqtt-broker');
    assert.ok(broker);
    assert.equal(more.length, 0);
    assert.equal(broker.broker, '${PICOMP_MQTT_HOST}');
    assert.equal(broker.port, '${PICOMP_MQTT_PORT}');
    for (const n of [...ofType('mqtt in'), ...ofType('mqtt out')]) assert.equal(n.broker, broker.id);
    const code = ofType('function').map((f) => f.func as string).join('\n');
    assert.match(code, /env\.get\('PICOMP_UNIT'\)/);
    assert.match(code, /env\.get\('PICOMP_BASE_TOPIC'\)/);
  });

  it('has function nodes whose code compiles as Node-RED runs it', () => {
    for (const f of ofType('function')) {
      // Node-RED wraps the body in a function of these names.
      assert.doesNotThrow(() => new Function('msg', 'node', 'context', 'flow', 'global', 'env', 'RED', f.func as string), f.name as string);
    }
  });

  it('has panel templates in the single-export form ui-template accepts', () => {
    for (const t of templates) {
      const f = t.format as string;
      assert.match(f, /^<template>[\s\S]*<\/template>/, `${t.name}: template block`);
      const script = /<script>\s*([\s\S]*?)\s*<\/script>/.exec(f);
      assert.ok(script, `${t.name}: script block`);
      assert.match(script[1]!, /^export default \{[\s\S]*\};?$/, `${t.name}: one default export`);
      assert.equal(t.passthru, false, `${t.name} must not echo its input back into the model`);
    }
  });

  it('gives every panel the one shared lifecycle (flows/templates/shared/panel-lifecycle.js)', () => {
    const members = sharedMembers('panel-lifecycle').filter((l) => l.trim());
    assert.ok(members.some((l) => /^attachPanel\(/.test(l)) && members.some((l) => /^detachPanel\(/.test(l)));
    assert.equal(templates.length, 5);
    for (const t of templates) {
      const f = t.format as string;
      assert.ok(!f.includes('@include'), `${t.name}: marker left in`);
      for (const l of members) assert.ok(f.includes(l), `${t.name} lacks the shared line ${l}`);
      assert.match(f, /mounted\(\) \{[\s\S]*this\.attachPanel\(/, `${t.name} attaches in mounted()`);
      assert.match(f, /unmounted\(\) \{[\s\S]*this\.detachPanel\(\)/, `${t.name} detaches in unmounted()`);
    }
  });

  it('gives the canvas panels the one shared drawing frame (flows/templates/shared/canvas-panel.js)', () => {
    const members = sharedMembers('canvas-panel').filter((l) => l.trim());
    for (const name of ['Transfer curve', 'Last 10 seconds']) {
      const f = template(name);
      for (const l of members) assert.ok(f.includes(l), `${name} lacks the shared line ${l}`);
      assert.match(f, /this\.canvasWithBg\(/, `${name} draws through canvasWithBg`);
    }
  });

  it('restates no parameter range: the controls build from the unit\'s schema', () => {
    const controls = template('Controls');
    for (const p of PARAMS) {
      if (p.name === 'bypass') continue; // shown apart, found by name
      // As a key, a property or a quoted name ('ratio' as a unit word does not count).
      const used = new RegExp(`(\\.|\\[')${p.name}\\b|\\b${p.name}\\s*:|'${p.name}'\\s*\\)`);
      assert.doesNotMatch(controls, used, `controls mention ${p.name}`);
    }
    assert.match(controls, /i\.schema \|\| i\.params/);
  });

  it('draws the transfer curve with the engine\'s own transfer function', () => {
    const curve = template('Transfer curve');
    assert.ok(curve.includes(injectedSource('transferDb')), 'transferDb changed: rebuild the flow');
    assert.ok(!curve.includes('@inject'));
    // The copy computes what the original does.
    const copy = new Function(`return ${injectedSource('transferDb')};`)() as typeof transferDb;
    const p = { ...defaultParams(), threshold: -30, knee: 3, mix: 70, auto_makeup: true, input_gain: 4 };
    for (const x of [-60, -33, -30, -12, 0]) assert.equal(copy(x, p), transferDb(x, p));
  });

  it('reads and builds topics with the unit\'s own grammar', () => {
    const code = ofType('function').map((f) => f.func as string);
    for (const f of code) assert.ok(f.includes(injectedSource('topicGrammar')) && !f.includes('@inject'));
    const copy = new Function(`return ${injectedSource('topicGrammar')};`)()() as { parseTopic: typeof parseTopic };
    for (const t of ['picomp/u1/set/ratio', 'picomp/group/g/desired', 'picomp/u1/nope']) assert.deepEqual(copy.parseTopic('picomp', t), parseTopic('picomp', t));
  });

  it('sends meter frames to one panel, which shares them with the others in the page', () => {
    // Each ui-template a 20 Hz message is wired to is one more socket
    // message and store update per frame in every browser.
    const model = ofType('function').find((f) => f.name === 'unit model');
    assert.ok(model);
    const labels = model.outputLabels as string[];
    const meterOut = labels.findIndex((l) => /^meters/.test(l));
    assert.equal(labels.filter((l) => /^meters/.test(l)).length, 1, 'one meter output');
    const targets = model.wires![meterOut]!;
    assert.deepEqual(targets.map((id) => byId.get(id)?.name), ['Meters']);
    assert.match(template('Meters'), /window\.picompMeters/);
    for (const name of ['Transfer curve', 'Last 10 seconds', 'Unit']) {
      assert.match(template(name), /window\.picompMeters/, `${name} listens on the page's meter bus`);
    }
  });

  it('is rebuilt deterministically', () => {
    assert.deepEqual(buildDashboardFlow(), buildDashboardFlow());
  });
});
