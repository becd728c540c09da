/** `picomp dashboard` refuses a broker its flow cannot speak to, in one sentence, before starting Node-RED. */
import assert from 'node:assert/strict';
import { picomp } from '../helpers/attack.js';

describe('picomp dashboard', function () {
  for (const url of ['mqtts://127.0.0.1:8883', 'ws://127.0.0.1:9001']) {
    it(`refuses --broker ${url} (its flow speaks plain MQTT) in one line, exit 2`, async function () {
      const r = await picomp(['dashboard', '--broker', url], { timeoutMs: 20_000 });
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, /picomp dashboard connects with plain MQTT \(mqtt:\/\/host:port\)/);
      assert.equal(r.err.trim().split('\n').length, 1, r.err);
    });
  }
});
