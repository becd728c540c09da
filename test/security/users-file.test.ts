/**
 * Attacks on the users file and the password check: a damaged or
 * hand-edited record must lock that one user out (never accept any
 * password, never crash the unit), and a login flood must not grow memory.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startBroker } from '../../src/mqtt/broker.js';
import { checkUnknownUser, hashPassword, readUsers, upsertUser, verifyPassword, hashProblem, type PasswordHash } from '../../src/mqtt/users.js';
import { MAX_QUEUED_PASSWORD_CHECKS, LoginBusyError, passwordThreadId, setPasswordThreadIdleMs, PASSWORD_THREAD_IDLE_MS, largeBlocksReturned, scryptCount } from '../../src/mqtt/password-thread.js';
import { usersFile } from '../../src/unit/state-dir.js';
import { memoryLogger } from '../../src/log.js';
import { picomp, runNode, tryLogin, withTempDir, oneLine } from '../helpers/attack.js';

const RIGHT = 'the-right-password';

/** Each damage a stray edit, a bad merge or an attacker with write access could do to one record. */
const DAMAGES: [string, (good: Record<string, unknown>, pw: PasswordHash) => unknown][] = [
  ['an empty hash (would match any password)', (g, pw) => ({ ...g, password: { ...pw, hash: '' } })],
  ['a one-byte hash (1 in 256 would match)', (g, pw) => ({ ...g, password: { ...pw, hash: 'AA==' } })],
  ['N = 1000, not a power of two (RangeError)', (g, pw) => ({ ...g, password: { ...pw, N: 1000 } })],
  ['N = 2^30 (gigabytes per login)', (g, pw) => ({ ...g, password: { ...pw, N: 2 ** 30 } })],
  ['N = 2 (no cost at all)', (g, pw) => ({ ...g, password: { ...pw, N: 2 } })],
  ['a huge r', (g, pw) => ({ ...g, password: { ...pw, r: 1_000_000 } })],
  ['p = 0', (g, pw) => ({ ...g, password: { ...pw, p: 0 } })],
  ['N as a string', (g, pw) => ({ ...g, password: { ...pw, N: String(pw.N) } })],
  ['a salt that is not base64', (g, pw) => ({ ...g, password: { ...pw, salt: '!!not base64!!' } })],
  ['an empty salt', (g, pw) => ({ ...g, password: { ...pw, salt: '' } })],
  ['no salt', (g, pw) => ({ ...g, password: { ...pw, salt: undefined } })],
  ['another algorithm', (g, pw) => ({ ...g, password: { ...pw, algo: 'md5' } })],
  ['no password at all', (g) => ({ ...g, password: null })],
  ['an unknown role', (g) => ({ ...g, role: 'root' })],
  ['an operator without a unit', (g) => ({ ...g, role: 'operator' })],
];

describe('security: a damaged users file fails closed', function () {
  let good: PasswordHash;
  before(async () => { good = await hashPassword(RIGHT); });

  for (const [what, damage] of DAMAGES) {
    it(`locks out a user with ${what}, without throwing`, async function () {
      const bad = damage({ name: 'mallory', role: 'admin' }, good) as { password: PasswordHash };
      await withTempDir('users', async (dir) => {
        await writeFile(usersFile(dir), JSON.stringify({ version: 1, users: [bad] }));
        const log = memoryLogger();
        const [rec] = await readUsers(usersFile(dir), log);
        assert.ok(rec!.broken, 'the record is marked broken');
        assert.equal(log.lines.filter((l) => l.includes('mallory')).length, 1, log.lines.join('\n'));
        for (const pw of [RIGHT, '', 'x', 'guess-1']) {
          assert.equal(await verifyPassword(pw, rec!.password), false);
          // The raw damaged hash is refused just the same (callers that skip readUsers).
          if (bad.password) assert.equal(await verifyPassword(pw, bad.password), false);
        }
      });
    });
  }

  it('hashProblem accepts what hashPassword writes', function () {
    assert.equal(hashProblem(good), null);
  });

  it('the embedded broker keeps running and lets the sound users in', async function () {
    await withTempDir('users-broker', async (dir) => {
      const path = usersFile(dir);
      await upsertUser(path, { name: 'tess', role: 'teacher', password: 'teacher-pass-1' });
      const doc = JSON.parse(await readFile(path, 'utf8')) as { users: Record<string, unknown>[] };
      DAMAGES.forEach(([, damage], i) => doc.users.push(damage({ name: `broken-${i}`, role: 'admin' }, good) as Record<string, unknown>));
      await writeFile(path, JSON.stringify(doc));
      const broker = await startBroker({ mqttPort: 0, wsPort: null, host: '127.0.0.1', usersFile: path, allowAnonymous: false, log: memoryLogger() });
      try {
        for (let i = 0; i < DAMAGES.length; i++) {
          assert.notEqual(await tryLogin(broker.url, { username: `broken-${i}`, password: RIGHT }), 'ok', DAMAGES[i]![0]);
        }
        assert.notEqual(await tryLogin(broker.url), 'ok', 'anonymous: a damaged file never opens the door');
        assert.equal(await tryLogin(broker.url, { username: 'tess', password: 'teacher-pass-1' }), 'ok');
        // user add keeps the damaged records as they were, for their owner to repair.
        await upsertUser(path, { name: 'vera', role: 'viewer', password: 'viewer-pass-1' });
        const after = JSON.parse(await readFile(path, 'utf8')) as { users: unknown[] };
        assert.equal(after.users.length, doc.users.length + 1);
      } finally {
        await broker.close();
      }
    });
  });

  it('picomp user list shows the locked records', async function () {
    await withTempDir('users-list', async (dir) => {
      await writeFile(usersFile(dir), JSON.stringify({ version: 1, users: [{ name: 'eve', role: 'admin', password: { ...good, hash: '' } }] }));
      const r = await picomp(['user', 'list', '--state-dir', dir]);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /^eve\tLOCKED: has a hash/);
    });
  });

  for (const [what, name] of [['a path', '../x'], ['a newline', 'a\nb'], ['an escape sequence', 'x\u001b[2Jy'], ['unicode', 'ü'], ['5000 characters', 'a'.repeat(5000)]] as const) {
    it(`refuses a user name with ${what} in one short line, writing nothing`, async function () {
      await withTempDir('users-name', async (dir) => {
        const r = await picomp(['user', 'add', name, '--role', 'viewer', '--password-stdin', '--state-dir', dir], { stdin: 'long-enough-password\n' });
        assert.equal(r.code, 2, r.err);
        assert.ok(oneLine(r), r.err);
        // eslint-disable-next-line no-control-regex
        assert.doesNotMatch(r.err.trim(), /[\u0000-\u001f]/);
        assert.ok(r.err.length < 400, `${r.err.length} characters`);
        assert.deepEqual(await readUsers(usersFile(dir)), []);
      });
    });
  }

  it('refuses a password of only spaces', async function () {
    await withTempDir('users-space', async (dir) => {
      const r = await picomp(['user', 'add', 'sam', '--role', 'viewer', '--password-stdin', '--state-dir', dir], { stdin: ' \t        \n' });
      assert.equal(r.code, 2);
      assert.ok(oneLine(r), r.err);
      assert.match(r.err, /only spaces/);
      assert.deepEqual(await readUsers(usersFile(dir)), []);
    });
  });
});

describe('security: password checks cannot grow the process', function () {
  it('runs every check in one dedicated thread, with a bounded queue', async function () {
    const stored = await hashPassword(RIGHT);
    const results = await Promise.allSettled(
      Array.from({ length: MAX_QUEUED_PASSWORD_CHECKS + 8 }, (_, i) => verifyPassword(`guess-${i}`, stored)));
    assert.ok(passwordThreadId() !== null, 'a checker thread exists');
    const busy = results.filter((r) => r.status === 'rejected');
    assert.ok(busy.length >= 8, `a full queue refuses at once (${busy.length} refused)`);
    assert.ok(busy.every((r) => (r as PromiseRejectedResult).reason instanceof LoginBusyError));
    assert.ok(results.every((r) => r.status === 'rejected' || r.value === false));
    assert.equal(await verifyPassword(RIGHT, stored), true, 'the right password still works after the flood');
  });

  it('the checker thread ends when idle (its isolate costs memory) and the next login starts a new one', async () => {
    const stored = await hashPassword(RIGHT);
    setPasswordThreadIdleMs(50);
    try {
      assert.equal(await verifyPassword('wrong-guess', stored), false);
      const first = passwordThreadId();
      assert.ok(first !== null, 'a checker thread exists after a login');
      for (let i = 0; i < 200 && passwordThreadId() !== null; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(passwordThreadId(), null, 'the idle checker ended');
      assert.equal(await verifyPassword(RIGHT, stored), true, 'a login after that still works');
      assert.ok(passwordThreadId() !== null && passwordThreadId() !== first, 'in a new thread');
    } finally {
      setPasswordThreadIdleMs(PASSWORD_THREAD_IDLE_MS);
    }
  });

  it('64 wrong passwords with the service\'s UV_THREADPOOL_SIZE=16 grow RSS by far less than 16 × 16 MiB', async function () {
    const r = await runNode([join('dist', 'test', 'fixtures', 'login-memory-probe.js'), 'picomp'], { env: { UV_THREADPOOL_SIZE: '16' }, timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.err);
    const [grown, where] = r.out.trim().split(' ');
    // Pool threads each keep their 16 MiB (≈ 350 MiB measured); one thread keeps one.
    assert.equal(where, 'thread', 'glibc at its defaults: the dedicated thread');
    assert.ok(Number(grown) < 120, `RSS grew by ${grown} MiB`);
  });

  it('with the service\'s allocator settings the checks run one at a time in the pool, no extra thread, and give their memory back', async function () {
    const r = await runNode([join('dist', 'test', 'fixtures', 'login-memory-probe.js'), 'picomp'],
      { env: { UV_THREADPOOL_SIZE: '16', MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '32768' }, timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.err);
    const [grown, where] = r.out.trim().split(' ');
    assert.equal(where, 'no-thread');
    // One area at a time, unmapped after each check: far below even one kept area plus an isolate.
    assert.ok(Number(grown) < 16, `RSS grew by ${grown} MiB`);
  });

  it('a made-up user name runs one real check in the same bounded queue (timing cannot tell it apart under any load)', async function () {
    const before = scryptCount();
    assert.equal(await checkUnknownUser(), false);
    assert.equal(scryptCount(), before + 1, 'one scrypt at the usual cost, as for a real name');
    const results = await Promise.allSettled(Array.from({ length: MAX_QUEUED_PASSWORD_CHECKS + 8 }, () => checkUnknownUser()));
    assert.ok(results.filter((r) => r.status === 'rejected' && r.reason instanceof LoginBusyError).length >= 8, 'they fill the same bounded queue');
  });

  it('a user name no user can have (16 KB, a slash) is refused at once, without a check; a made-up one of the allowed shape runs one', async function () {
    await withTempDir('users-shape', async (dir) => {
      const path = usersFile(dir);
      await upsertUser(path, { name: 'tess', role: 'teacher', password: 'teacher-pass-1' });
      const broker = await startBroker({ mqttPort: 0, wsPort: null, host: '127.0.0.1', usersFile: path, allowAnonymous: false, log: memoryLogger() });
      try {
        const before = scryptCount();
        for (const username of ['x'.repeat(16_000), 'a/b', 'tess\nforged line']) {
          assert.notEqual(await tryLogin(broker.url, { username, password: 'whatever-1' }), 'ok');
        }
        assert.equal(scryptCount(), before, 'no scrypt for names outside the users file\'s pattern');
        // A name that could exist but does not: one real check, as for a real name, so timing tells nothing.
        assert.notEqual(await tryLogin(broker.url, { username: 'nobody', password: 'whatever-1' }), 'ok');
        assert.equal(scryptCount(), before + 1, 'a made-up name of the allowed shape runs one scrypt');
        assert.equal(await tryLogin(broker.url, { username: 'tess', password: 'teacher-pass-1' }), 'ok');
      } finally {
        await broker.close();
      }
    });
  });

  it('knows when glibc gives scrypt-sized blocks back (a fixed mmap threshold up to 16 MiB)', function () {
    assert.equal(largeBlocksReturned({}), false);
    assert.equal(largeBlocksReturned({ MALLOC_MMAP_THRESHOLD_: '1048576' }), true);
    assert.equal(largeBlocksReturned({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2:glibc.malloc.mmap_threshold=131072' }), true);
    assert.equal(largeBlocksReturned({ MALLOC_MMAP_THRESHOLD_: '67108864' }), false, 'above scrypt\'s 16 MiB: kept in the arena');
    assert.equal(largeBlocksReturned({ MALLOC_MMAP_THRESHOLD_: 'lots' }), false);
  });
});
