/**
 * Switches on `set/<param>` take the words Home Assistant, Tasmota and
 * Zigbee2MQTT users type (SPEC §4): ON/OFF, 1/0, true/false and TOGGLE;
 * typed JSON stays strict (SPEC §1); command-line flags stay true|false.
 */
import assert from 'node:assert/strict';
import { decodeParamPayload, decodeSetPayload } from '../../src/mqtt/mqtt-command.js';
import { validatePartial, validateText } from '../../src/params/validate.js';
import { defaultParams, type ParamName } from '../../src/params/schema.js';

const decode = (name: string, text: string, current?: (n: ParamName) => unknown) =>
  decodeParamPayload(name, Buffer.from(text), undefined, current);

describe('switch words on set/<param>', function () {
  const current = (n: ParamName): unknown => defaultParams()[n];

  for (const [text, value] of [
    ['ON', true], ['OFF', false], ['on', true], ['Off', false], ['1', true], ['0', false],
    ['true', true], ['false', false], [' ON\n', true],
  ] as const) {
    it(`reads ${JSON.stringify(text)} as ${value}`, function () {
      assert.deepEqual(decode('bypass', text), { ok: true, value: { bypass: value } });
    });
  }

  it('TOGGLE flips the current value (any case)', function () {
    // Defaults: bypass false, limiter true.
    assert.deepEqual(decode('bypass', 'TOGGLE', current), { ok: true, value: { bypass: true } });
    assert.deepEqual(decode('limiter', 'toggle', current), { ok: true, value: { limiter: false } });
  });

  it('TOGGLE without a current value is refused, not guessed', function () {
    const r = decode('bypass', 'TOGGLE');
    assert.equal(r.ok, false);
  });

  it('refuses other words, naming every accepted one', function () {
    const r = decode('bypass', 'yes', current);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.error, 'bypass must be true or false (also ON, OFF, 1, 0 or TOGGLE), got "yes".');
    assert.equal(decode('bypass', '2', current).ok, false);
    assert.equal(decode('bypass', 'ONN', current).ok, false);
  });

  it('leaves numbers and choices as they were: TOGGLE or ON is no number', function () {
    assert.deepEqual(decode('threshold', '-20'), { ok: true, value: { threshold: -20 } });
    const r = decode('threshold', 'TOGGLE', current);
    assert.ok(r.ok && validatePartial(r.value).ok === false);
    const e = decode('detector', 'ON', current);
    assert.ok(e.ok && validatePartial(e.value).ok === false);
  });

  it('keeps typed JSON strict: "ON", "1", 1 and "TOGGLE" are not switches in a JSON set', function () {
    for (const payload of ['{"bypass": "ON"}', '{"bypass": 1}', '{"bypass": "TOGGLE"}', '{"bypass": "true"}']) {
      const d = decodeSetPayload(Buffer.from(payload));
      assert.ok(d.ok);
      const r = validatePartial(d.value);
      assert.equal(r.ok, false, payload);
      assert.match(!r.ok ? r.error : '', /^bypass must be true or false/);
    }
    // A quoted JSON string on set/<param> is JSON, so typed as well.
    const q = decode('bypass', '"ON"', current);
    assert.ok(q.ok && validatePartial(q.value).ok === false);
  });

  it('keeps command-line flags to true|false (SPEC §3)', function () {
    assert.deepEqual(validateText('bypass', 'true'), { ok: true, value: true });
    assert.equal(validateText('bypass', 'ON').ok, false);
  });
});
