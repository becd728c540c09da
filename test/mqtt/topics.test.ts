import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandTarget, mayPublish } from '../../src/mqtt/acl.js';
import {
  LEAVES, RESERVED_IDS, allSetTopic, classDesiredTopic, commandFilters, groupDesiredTopic, groupSetTopic, isReservedId,
  parseTopic, topicOf, unitTopics, type ParsedTopic,
} from '../../src/mqtt/topics.js';

describe('topic grammar', () => {
  const base = 'school/picomp';

  it('parses what it builds, for every kind of address', () => {
    const t = unitTopics(base, 'lab-1');
    const cases: [string, Partial<ParsedTopic>][] = [
      [t.state, { kind: 'unit', unit: 'lab-1', leaf: 'state' }],
      [t.set, { kind: 'unit', unit: 'lab-1', leaf: 'set' }],
      [t.setParam('ratio'), { kind: 'unit', unit: 'lab-1', leaf: 'set', param: 'ratio' }],
      [t.desired, { kind: 'unit', unit: 'lab-1', leaf: 'desired' }],
      [t.ack, { kind: 'unit', unit: 'lab-1', leaf: 'ack' }],
      [allSetTopic(base), { kind: 'all', leaf: 'set' }],
      [groupSetTopic(base, 'row-2'), { kind: 'group', group: 'row-2', leaf: 'set' }],
      [groupDesiredTopic(base, 'row-2'), { kind: 'group', group: 'row-2', leaf: 'desired' }],
      [classDesiredTopic(base), { kind: 'class', leaf: 'desired' }],
    ];
    for (const [topic, want] of cases) {
      const got = parseTopic(base, topic);
      assert.ok(got, topic);
      assert.deepEqual(got, { deeper: false, ...want }, topic);
      assert.equal(topicOf(base, got, got.leaf, got.param), topic);
    }
  });

  it('marks topics below what it knows, and refuses unknown leaves and other bases', () => {
    assert.equal(parseTopic(base, `${base}/lab-1/set/ratio/x`)?.deeper, true);
    assert.equal(parseTopic(base, `${base}/lab-1/state/x`)?.deeper, true);
    for (const topic of [`${base}/lab-1/nope`, `${base}/all/state`, `${base}/class/set`, `${base}/group//set`, `${base}//set`, 'picomp/lab-1/set', base]) {
      assert.equal(parseTopic(base, topic), null, topic);
    }
  });

  it('reserves the ids that address many units', () => {
    for (const id of RESERVED_IDS) assert.ok(isReservedId(id));
    assert.ok(!isReservedId('lab-1'));
  });

  it('subscribes a unit to its own, the all-units and its groups\' command topics', () => {
    assert.deepEqual(commandFilters('picomp', 'u1', ['g']), [
      'picomp/u1/set', 'picomp/u1/set/+/#', 'picomp/u1/get', 'picomp/u1/preset/#',
      'picomp/all/set', 'picomp/all/set/+/#', 'picomp/group/g/set', 'picomp/group/g/set/+/#',
    ]);
  });
});

describe('ACL on the topic grammar', () => {
  it('tells command topics and their target', () => {
    assert.deepEqual(commandTarget('picomp', 'picomp/u1/set/ratio'), { unit: 'u1' });
    assert.deepEqual(commandTarget('picomp', 'picomp/u1/get'), { unit: 'u1' });
    assert.deepEqual(commandTarget('picomp', 'picomp/group/g/set'), { shared: true });
    assert.deepEqual(commandTarget('picomp', 'picomp/all/set/ratio'), { shared: true });
    for (const t of ['picomp/u1/state', 'picomp/u1/set/', 'picomp/u1/set/a/b', 'picomp/u1/get/x', 'picomp/all/get', 'picomp/class/desired']) {
      assert.equal(commandTarget('picomp', t), null, t);
    }
  });

  it('lets an operator command only its own unit', () => {
    const op = { name: 'o', role: 'operator' as const, unit: 'u1' };
    assert.ok(mayPublish(op, 'picomp', 'picomp/u1/set'));
    assert.ok(!mayPublish(op, 'picomp', 'picomp/u2/set'));
    assert.ok(!mayPublish(op, 'picomp', 'picomp/all/set'));
  });
});

describe('topics written once', () => {
  const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
  const files = (dir: string, ext: RegExp): string[] => readdirSync(join(ROOT, dir)).flatMap((name) => {
    const rel = join(dir, name);
    return statSync(join(ROOT, rel)).isDirectory() ? files(rel, ext) : ext.test(name) ? [rel] : [];
  });
  /**
   * Messages between the dashboard flow's own nodes (never sent over MQTT):
   * the unit model hands the panels `picomp/unit` and `picomp/meters`.
   */
  const FLOW_INTERNAL = ['picomp/unit', 'picomp/meters'];

  it('builds no MQTT topic by hand outside src/mqtt/topics.ts', () => {
    const leaves = [...new Set(Object.values(LEAVES).flat())].join('|');
    // A string or template holding `/<leaf>` as the last level or before a
    // filled-in one (`/set/${name}`); not a path (`state/picomp`, `meters.js`).
    const topicLike = new RegExp(`['"\`][^'"\`\\n]*/(${leaves})(?![\\w-]|\\.[jt]s\\b|/\\w)[^'"\`\\n]*['"\`]`);
    const found: string[] = [];
    for (const file of [...files('src', /\.ts$/), ...files('flows/functions', /\.js$/)]) {
      if (file === join('src', 'mqtt', 'topics.ts')) continue;
      readFileSync(join(ROOT, file), 'utf8').split('\n').forEach((line, i) => {
        const code = line.trim();
        // Comments, imports and prose (`<base>/<unit>/set` in help) are not topics.
        if (/^(\/\/|\*|\/\*|import |export .* from )/.test(code) || code.includes('<')) return;
        const m = topicLike.exec(code);
        if (m && !FLOW_INTERNAL.some((t) => m[0].includes(t))) found.push(`${relative('.', file)}:${i + 1}: ${m[0]}`);
      });
    }
    assert.deepEqual(found, [], 'build topics with src/mqtt/topics.ts (the flow gets it injected as topicGrammar)');
  });
});
