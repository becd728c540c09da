import assert from 'node:assert/strict';
import {
  checkDesired, desiredToJson, differingParams, effectiveSetting, parseDesiredPayload, targetValues, changesNothing,
  type DesiredSetting,
} from '../../src/unit/desired.js';
import { isLocked, lockRefusal, lockedField } from '../../src/unit/lock.js';
import { defaultParams } from '../../src/params/schema.js';
import { BUILT_IN_PRESETS } from '../../src/params/presets.js';

const ok = (doc: unknown): DesiredSetting => {
  const r = checkDesired(doc);
  assert.ok(r.ok, r.ok ? '' : r.error);
  return r.value;
};
const err = (doc: unknown): string => {
  const r = checkDesired(doc);
  assert.ok(!r.ok, `expected ${JSON.stringify(doc)} to be refused`);
  return r.error;
};

describe('classroom desired documents', () => {
  it('accepts the SPEC §5 shape and round-trips it to the wire form', () => {
    const wire = { rev: 7, preset: 'my-voice', preset_def: { threshold: -25, ratio: 3 }, params: { makeup: 4 }, lock: ['ratio', 'threshold'] };
    const d = ok(wire);
    assert.deepEqual(d, { rev: 7, preset: 'my-voice', presetDef: { threshold: -25, ratio: 3 }, params: { makeup: 4 }, lock: ['threshold', 'ratio'] });
    assert.deepEqual(desiredToJson(d), { ...wire, lock: ['threshold', 'ratio'] });
    assert.deepEqual(ok({ rev: 0 }), { rev: 0 });
    assert.deepEqual(ok({ rev: 1, lock: [] }), { rev: 1, lock: false });
  });

  it('refuses every bad document with one sentence naming the problem', () => {
    const cases: [unknown, RegExp][] = [
      [null, /must be a JSON object/],
      [[1], /must be a JSON object/],
      [{}, /needs "rev"/],
      [{ rev: -1 }, /needs "rev"/],
      [{ rev: 1.5 }, /needs "rev"/],
      [{ rev: '3' }, /needs "rev".*"3"/],
      [{ rev: 1, colour: 'red' }, /"colour", which it does not know/],
      [{ rev: 1, preset: 'Bad Name' }, /"preset" must be a preset name/],
      [{ rev: 1, preset_def: { ratio: 2 } }, /"preset" must name it/],
      [{ rev: 1, preset: 'x', preset_def: { ratio: 99 } }, /^preset_def: ratio must be 1 to 20/],
      [{ rev: 1, params: { threshold: '-20' } }, /^params: threshold .* send it without quotes/],
      [{ rev: 1, params: { loudness: 3 } }, /^params: "loudness" is not a parameter/],
      [{ rev: 1, params: [] }, /^params: expected an object/],
      [{ rev: 1, lock: 'yes' }, /"lock" must be true, false or a list/],
      [{ rev: 1, lock: ['threshold', 4] }, /"lock" lists parameter names/],
      [{ rev: 1, lock: ['volume'] }, /^lock: "volume" is not a parameter/],
    ];
    for (const [doc, re] of cases) {
      const e = err(doc);
      assert.match(e, re, JSON.stringify(doc));
      assert.ok(!e.includes('\n'), 'one line');
    }
  });

  it('reads payloads: empty means cleared, bad JSON and oversize are sentences', () => {
    assert.deepEqual(parseDesiredPayload(Buffer.alloc(0)), { ok: true, value: null });
    assert.deepEqual(parseDesiredPayload('  '), { ok: true, value: null });
    assert.deepEqual(parseDesiredPayload('{"rev": 2, "lock": true}'), { ok: true, value: { rev: 2, lock: true } });
    const bad = parseDesiredPayload('{rev: 2}');
    assert.ok(!bad.ok && /not valid JSON/.test(bad.error));
    const big = parseDesiredPayload(Buffer.alloc(10_000, 32), 8192);
    assert.ok(!big.ok && /at most 8192 bytes/.test(big.error));
  });
});

describe('classroom precedence: unit > group > class', () => {
  const cls = ok({ rev: 4, preset: 'bass', params: { makeup: 3 }, lock: true });
  const group = ok({ rev: 2, params: { ratio: 8 } });
  const unitLayer = ok({ rev: 9, params: { threshold: -30 }, lock: false });

  it('lays class, groups, unit over each other in order', () => {
    const e = effectiveSetting({ class: cls, groups: [['row-1', group]], unit: unitLayer });
    assert.deepEqual(e, { preset: { name: 'bass' }, params: { makeup: 3, ratio: 8, threshold: -30 }, lock: false, classRev: 4 });
  });

  it('a more specific preset starts over: parameters of the class do not leak into it', () => {
    const e = effectiveSetting({ class: cls, groups: [], unit: ok({ rev: 1, preset: 'new-york' }) });
    assert.deepEqual(e.preset, { name: 'new-york' });
    assert.deepEqual(e.params, {});
    assert.equal(e.lock, true, 'the class lock holds while the unit layer says nothing about it');
  });

  it('later groups win over earlier ones; cleared layers count as absent', () => {
    const e = effectiveSetting({ class: null, groups: [['a', ok({ rev: 1, params: { ratio: 2 } })], ['b', null], ['c', ok({ rev: 1, params: { ratio: 3 } })]], unit: null });
    assert.deepEqual(e, { preset: null, params: { ratio: 3 }, lock: false, classRev: null });
    assert.ok(!changesNothing(e));
    assert.ok(changesNothing(effectiveSetting({ class: ok({ rev: 1, lock: true }), groups: [], unit: null })));
  });

  it('target values: a preset sets every parameter; preset_def wins over the unit lookup; unknown presets are a sentence', () => {
    const bass = BUILT_IN_PRESETS.find((p) => p.name === 'bass')!;
    const lookup = (n: string) => BUILT_IN_PRESETS.find((p) => p.name === n)?.params ?? null;
    const t = targetValues(effectiveSetting({ class: cls, groups: [], unit: null }), lookup);
    assert.ok(t.ok);
    assert.deepEqual(t.value, { ...defaultParams(), ...bass.params, makeup: 3 });
    const withDef = targetValues(effectiveSetting({ class: ok({ rev: 1, preset: 'bass', preset_def: { ratio: 2 } }), groups: [], unit: null }), lookup);
    assert.ok(withDef.ok && withDef.value.ratio === 2 && withDef.value.threshold === defaultParams().threshold);
    const missing = targetValues(effectiveSetting({ class: ok({ rev: 1, preset: 'teachers-own' }), groups: [], unit: null }), lookup);
    assert.ok(!missing.ok && /not on this unit .* no preset_def/.test(missing.error));
    const onlyParams = targetValues(effectiveSetting({ class: group, groups: [], unit: null }), lookup);
    assert.deepEqual(onlyParams, { ok: true, value: { ratio: 8 } });
  });

  it('names the parameters that differ from the target', () => {
    assert.deepEqual(differingParams({ ratio: 8, threshold: -30 }, { ...defaultParams(), ratio: 8 }), ['threshold']);
    assert.deepEqual(differingParams({}, defaultParams()), []);
  });
});

describe('classroom lock policy', () => {
  it('unlocked: everything passes', () => {
    assert.equal(lockRefusal(false, ['threshold'], true), null);
    assert.equal(isLocked(false), false);
    assert.equal(lockedField(false), false);
  });

  it('locked entirely: every change is refused in one sentence about the teacher', () => {
    const why = lockRefusal(true, ['threshold'], false)!;
    assert.match(why, /^the teacher locked this unit/);
    assert.equal(isLocked(true), true);
  });

  it('locked parameters: only commands touching them (or loading a preset) are refused', () => {
    assert.equal(lockRefusal(['threshold', 'ratio'], ['makeup'], false), null);
    assert.match(lockRefusal(['threshold', 'ratio'], ['ratio', 'makeup'], false)!, /the teacher locked ratio on this unit; ask the teacher to unlock it/);
    assert.match(lockRefusal(['threshold', 'ratio'], [], true)!, /loading a preset would change threshold and ratio, which the teacher locked/);
    assert.deepEqual(lockedField(['ratio', 'threshold']), ['threshold', 'ratio']);
    assert.equal(lockedField([]), false);
    assert.equal(isLocked([]), false);
  });
});
