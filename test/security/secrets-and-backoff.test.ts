/**
 * Secrets never sit where others can read them (a --broker URL shows in
 * `ps` and in logs), and the login back-off behaves as promised: a real
 * user who mistyped waits a few seconds at most, a guesser ever longer.
 */
import assert from 'node:assert/strict';
import { redactUrl } from '../../src/mqtt/redact-url.js';
import { LoginGuard } from '../../src/mqtt/login-guard.js';
import { DEFAULTS } from '../../src/mqtt/broker-auth.js';
import { memoryLogger } from '../../src/log.js';
import { oneLine, picomp, withTempDir } from '../helpers/attack.js';

describe('security: broker credentials stay out of URLs and logs', function () {
  for (const url of ['mqtt://tess:s3cret-pass@127.0.0.1:1', 'mqtt://tess@127.0.0.1:1', 'ws://:s3cret-pass@127.0.0.1:1/mqtt']) {
    it(`picomp start refuses --broker ${url.replace(/s3cret-pass/, '…')} in one line, without repeating the password`, async function () {
      await withTempDir('broker-url', async (dir) => {
        const r = await picomp(['start', '--broker', url, '--state-dir', dir], { timeoutMs: 20_000 });
        assert.equal(r.code, 2, r.err);
        assert.ok(oneLine(r), r.err);
        assert.match(r.err, /PICOMP_BROKER_PASSWORD/);
        assert.doesNotMatch(r.err, /s3cret-pass/);
      });
    });
  }

  it('redacts any URL it logs', function () {
    assert.equal(redactUrl('mqtt://tess:pw@hub.local:1883'), 'mqtt://***@hub.local:1883');
    assert.equal(redactUrl('mqtt://hub.local:1883'), 'mqtt://hub.local:1883');
    assert.doesNotMatch(redactUrl('not a url user:pw@host'), /pw/);
  });
});

describe('security: login back-off', function () {
  const limits = { ...DEFAULTS.login, summaryEveryMs: 3_600_000 };
  let now = 0;
  const guard = (log = memoryLogger()): LoginGuard => new LoginGuard(limits, log, () => now);

  it('a real user who mistyped once or twice waits a few seconds at most', function () {
    now = 0;
    const g = guard();
    g.failed('10.0.0.5', 'tess');
    assert.equal(g.waitMs('10.0.0.5', 'tess'), 0);
    for (let i = 1; i <= limits.freeFailures; i++) g.failed('10.0.0.5', 'tess');
    assert.ok(g.waitMs('10.0.0.5', 'tess') <= 5000, `${g.waitMs('10.0.0.5', 'tess')} ms`);
    g.stop();
  });

  it('a guesser waits exponentially longer, up to the caps; others are not affected', function () {
    now = 0;
    const g = guard();
    const waits: number[] = [];
    for (let i = 0; i < 20; i++) {
      now += g.waitMs('10.0.0.66', 'admin');
      g.failed('10.0.0.66', 'admin');
      waits.push(g.waitMs('10.0.0.66', 'admin'));
    }
    for (let i = limits.freeFailures + 1; i < 10; i++) assert.ok(waits[i]! >= 2 * waits[i - 1]! - 1 || waits[i] === limits.maxAddressDelayMs, waits.join(','));
    assert.equal(waits.at(-1), limits.maxAddressDelayMs);
    assert.equal(g.waitMs('10.0.0.7', 'vera'), 0, 'another address and user');
    assert.ok(g.waitMs('10.0.0.7', 'admin') <= limits.maxUserDelayMs, 'the user name alone waits less');
    g.stop();
  });

  it('success clears the back-off; old failures are forgotten', function () {
    now = 0;
    const g = guard();
    for (let i = 0; i < 6; i++) g.failed('10.0.0.8', 'otto');
    assert.ok(g.waitMs('10.0.0.8', 'otto') > 0);
    g.succeeded('10.0.0.8', 'otto');
    assert.equal(g.waitMs('10.0.0.8', 'otto'), 0);
    for (let i = 0; i < 6; i++) g.failed('10.0.0.8', 'otto');
    now += limits.forgetAfterMs + limits.maxAddressDelayMs;
    g.failed('10.0.0.8', 'otto');
    assert.equal(g.waitMs('10.0.0.8', 'otto'), 0, 'counting starts again');
    g.stop();
  });

  it('logging in with an account of one\'s own between guesses does not reset the address\'s back-off', function () {
    now = 0;
    const g = guard();
    // A student tries made-up names (each name once, so no user-name back-off builds up) and logs in as themselves in between.
    let refused = 0;
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < limits.freeFailures; i++) {
        if (g.waitMs('10.0.0.9', `guess-${round}-${i}`) > 0) { refused++; continue; }
        g.failed('10.0.0.9', `guess-${round}-${i}`);
      }
      if (g.waitMs('10.0.0.9', 'vera') === 0) g.succeeded('10.0.0.9', 'vera');
    }
    assert.ok(refused > 0, 'the address was never made to wait');
    // A user who only mistyped their own password is cleared by their success.
    for (let i = 0; i <= limits.freeFailures; i++) g.failed('10.0.0.10', 'otto');
    now += g.waitMs('10.0.0.10', 'otto');
    g.succeeded('10.0.0.10', 'otto');
    assert.equal(g.waitMs('10.0.0.10', 'otto'), 0);
    g.stop();
  });

  it('a made-up user name of 16 KB with newlines is neither kept nor logged in full', function () {
    now = 0;
    const log = memoryLogger();
    const g = guard(log);
    const name = `evil\n2026-11-27 WARN forged line\n${'x'.repeat(16_000)}`;
    g.failed('10.0.0.11', name);
    g.summary();
    assert.equal(log.lines.length, 1);
    assert.doesNotMatch(log.lines[0]!, /\n/, 'no forged line');
    assert.ok(log.lines[0]!.length < 400, `${log.lines[0]!.length} characters`);
    // The same long name is still recognised for its back-off.
    for (let i = 0; i < limits.freeFailures; i++) g.failed(`10.0.2.${i}`, name);
    assert.ok(g.waitMs('10.0.3.1', name) > 0);
    g.stop();
  });

  it('logs failures in one summary line, never per guess', function () {
    now = 0;
    const log = memoryLogger();
    const g = guard(log);
    for (let i = 0; i < 500; i++) { g.waitMs(`10.0.1.${i % 7}`, 'tess'); g.failed(`10.0.1.${i % 7}`, 'tess'); }
    assert.equal(log.lines.length, 0);
    g.summary();
    assert.equal(log.lines.length, 1);
    assert.match(log.lines[0]!, /500 failed MQTT login/);
    g.stop();
  });
});
