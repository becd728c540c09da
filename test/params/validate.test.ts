import assert from 'node:assert/strict';
import { PARAMS, defaultParams, PARAM_INDEX, PARAM_COUNT } from '../../src/params/schema.js';
import { validatePartial, validateText, validateValue } from '../../src/params/validate.js';
import { encodeParams, decodeParams } from '../../src/params/vector.js';
import { BUILT_IN_PRESETS, presetValues } from '../../src/params/presets.js';

describe('parameter schema and validation', () => {
  it('defaults match SPEC §1 and lie inside their ranges', () => {
    const d = defaultParams();
    assert.equal(d.threshold, -18); assert.equal(d.ratio, 4); assert.equal(d.knee, 6);
    assert.equal(d.attack, 10); assert.equal(d.release, 150); assert.equal(d.detector, 'peak');
    assert.equal(d.link, 'max'); assert.equal(d.limiter, true); assert.equal(d.ceiling, -1); assert.equal(d.bypass, false);
    assert.equal(d.true_peak, true);
    // Bypass is the untouched original unless a lesson turns level matching on.
    assert.equal(d.level_match, false); assert.equal(d.bypass_gain, 0);
    for (const p of PARAMS) {
      if (p.kind === 'number') assert.ok(p.default >= p.min && p.default <= p.max, p.name);
      assert.ok(p.help.length > 20, `${p.name} has a student-facing explanation`);
    }
    // SPEC §1's parameters, plus level_match and bypass_gain (level-matched A/B, issue 15).
    assert.equal(PARAMS.length, 18 + 2);
  });

  it('accepts typed numbers, booleans and enum names', () => {
    assert.deepEqual(validateValue('threshold', -20), { ok: true, value: -20 });
    assert.deepEqual(validateValue('bypass', true), { ok: true, value: true });
    assert.deepEqual(validateValue('detector', 'rms'), { ok: true, value: 'rms' });
  });

  it('refuses numbers and switches sent as text in typed input (SPEC §1 wrong type), saying how to send them', () => {
    assert.deepEqual(validateValue('threshold', '-20'), { ok: false, error: 'threshold must be -60 to 0 dBFS, got the text "-20"; send it without quotes.' });
    assert.deepEqual(validateValue('bypass', 'true'), { ok: false, error: 'bypass must be true or false, got the text "true"; send it without quotes.' });
  });

  it('reads text where everything is text (flags, plain MQTT values)', () => {
    assert.deepEqual(validateText('threshold', '-20.5'), { ok: true, value: -20.5 });
    assert.deepEqual(validateText('input_gain', '+6'), { ok: true, value: 6 });
    assert.deepEqual(validateText('bypass', 'true'), { ok: true, value: true });
    assert.deepEqual(validateText('detector', 'rms'), { ok: true, value: 'rms' });
    assert.deepEqual(validateText('ratio', '50'), { ok: false, error: 'ratio must be 1 to 20, got 50.' });
    assert.deepEqual(validateText('detector', 'loud'), { ok: false, error: 'detector must be one of peak, rms, got "loud".' });
  });

  const bad: [string, unknown][] = [
    ['threshold', 5], ['threshold', 'NaN'], ['threshold', Number.NaN], ['threshold', ''], ['threshold', 'abc'], ['threshold', '-20'],
    ['threshold', Infinity], ['threshold', null], ['threshold', [1]], ['threshold', { v: 1 }], ['threshold', '1e999'],
    ['ratio', 0.5], ['attack', 0], ['bypass', 1], ['bypass', 'yes'], ['bypass', 'true'], ['detector', 'RMS'], ['link', ''],
  ];
  for (const [name, raw] of bad) {
    it(`rejects ${name} = ${JSON.stringify(raw)} with a message naming the parameter and its range`, () => {
      const r = validateValue(name as never, raw);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.error, new RegExp(`^${name} must be `));
    });
  }

  it('is all-or-nothing over a partial set', () => {
    const r = validatePartial({ threshold: -30, ratio: 99 });
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.error, /ratio must be 1 to 20/);
    const u = validatePartial({ threshold: -30, loudness: 3 });
    assert.equal(u.ok, false);
    if (!u.ok) assert.match(u.error, /"loudness" is not a parameter/);
    assert.equal(validatePartial([1, 2]).ok, false);
    assert.equal(validatePartial('x').ok, false);
  });

  it('round-trips every parameter through the numeric vector', () => {
    const v = { ...defaultParams(), detector: 'rms' as const, link: 'none' as const, bypass: true, threshold: -33.5 };
    const vec = encodeParams(v);
    assert.equal(vec.length, PARAM_COUNT);
    assert.equal(vec[PARAM_INDEX.detector], 1);
    assert.equal(vec[PARAM_INDEX.link], 2);
    assert.deepEqual(decodeParams(vec), v);
  });

  it('built-in presets are valid and include the teaching set', () => {
    const names = BUILT_IN_PRESETS.map((p) => p.name);
    for (const n of ['gentle-vocal', 'drum-bus', 'bass', 'broadcast-voice', 'brickwall-limiter', 'new-york', 'classroom-demo']) assert.ok(names.includes(n), n);
    for (const p of BUILT_IN_PRESETS) assert.equal(validatePartial(presetValues(p)).ok, true, p.name);
  });
});
