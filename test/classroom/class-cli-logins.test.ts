/**
 * `picomp class` against a unit's own broker with users (a unit can be a
 * small room's hub): a teacher runs `status`; a viewer or student is told
 * in one line that it needs a teacher's login (not a crash, not "cannot
 * reach the hub").
 */
import assert from 'node:assert/strict';
import { startBroker, type RunningBroker } from '../../src/mqtt/broker.js';
import { upsertUser } from '../../src/mqtt/users.js';
import { usersFile } from '../../src/unit/state-dir.js';
import { memoryLogger } from '../../src/log.js';
import { withTempDir } from '../helpers/attack.js';
import { picomp } from '../helpers/classroom-room.js';
import { startHub } from '../helpers/classroom-hub.js';

const PASSWORD = 'long-enough-1';

describe('picomp class on a unit\'s broker with users', function () {
  this.timeout(60_000);
  for (const role of ['viewer', 'operator', 'teacher'] as const) {
    it(`${role === 'operator' ? 'an' : 'a'} ${role} runs status`, async () => {
      await withTempDir('class-logins', async (dir) => {
        const path = usersFile(dir);
        await upsertUser(path, { name: 'sam', role, ...(role === 'operator' ? { unit: 'u1' } : {}), password: PASSWORD });
        let broker: RunningBroker | null = null;
        try {
          broker = await startBroker({ mqttPort: 0, wsPort: null, host: '127.0.0.1', usersFile: path, allowAnonymous: false, unitId: 'u1', log: memoryLogger() });
          const r = await picomp(['class', 'status', '--broker', broker.url, '--username', 'sam'], { PICOMP_BROKER_PASSWORD: PASSWORD });
          if (role === 'teacher') {
            assert.equal(r.code, 0, r.stderr);
            assert.match(r.stdout, /No units on this hub yet/);
          } else {
            assert.equal(r.code, 2, r.stderr);
            assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
            assert.match(r.stderr, /needs a teacher or admin login/);
          }
        } finally {
          await broker?.close();
        }
      });
    });
  }

  it('a viewer on the Mosquitto hub (which drops what it may not write, silently) is told it may lack the login, not only "overloaded"', async () => {
    const m = await startHub([{ name: 'vic', role: 'viewer', password: PASSWORD }]);
    try {
      const r = await picomp(['class', 'status', '--broker', m.url, '--username', 'vic'], { PICOMP_BROKER_PASSWORD: PASSWORD });
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /silently drops what this login may not write .*needs a teacher or admin login/);
    } finally {
      await m.stop();
    }
  });
});
