/**
 * The console on a hub that wants logins: `picomp classroom --username
 * teacher` with the password from PICOMP_CLASSROOM_PASSWORD logs in and
 * shows the room; the password never appears on the command line.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { startSimUnit, type SimUnit } from '../../src/classroom/sim-unit.js';
import { openPage, type OpenPage } from '../helpers/browser.js';
import { freePort } from '../helpers/free-port.js';
import { MOSQUITTO_BIN, sleep } from '../helpers/mosquitto.js';

const MAIN_JS = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

describe('teacher\'s console on a hub with logins', function () {
  this.timeout(90_000);
  let dir: string;
  let hub: ChildProcess | null = null;
  let consoleProc: ChildProcess | null = null;
  let unit: SimUnit | null = null;
  let open: OpenPage | null = null;
  let hubUrl: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'picomp-console-login-'));
    const passwd = join(dir, 'passwd');
    execFileSync('mosquitto_passwd', ['-b', '-c', passwd, 'teacher', 'teach-s3cret']);
    execFileSync('mosquitto_passwd', ['-b', passwd, 'lab-1', 'unit-s3cret']);
    // Mosquitto started as root reads its files as the mosquitto user.
    await chmod(dir, 0o755);
    await chmod(passwd, 0o644);
    const port = await freePort();
    hubUrl = `mqtt://127.0.0.1:${port}`;
    await writeFile(join(dir, 'mosquitto.conf'), [
      `listener ${port} 127.0.0.1`, 'allow_anonymous false', `password_file ${passwd}`, 'set_tcp_nodelay true', 'persistence false', '',
    ].join('\n'));
    hub = spawn(MOSQUITTO_BIN, ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
    for (let i = 0; ; i++) {
      try {
        await (await mqtt.connectAsync(hubUrl, { username: 'teacher', password: 'teach-s3cret', reconnectPeriod: 0 })).endAsync();
        break;
      } catch (e) {
        if (i > 200) throw e;
        await sleep(25);
      }
    }
    unit = await startSimUnit({ url: hubUrl, unitId: 'lab-1', username: 'lab-1', password: 'unit-s3cret' });
  });

  after(async () => {
    await open?.close();
    if (consoleProc && consoleProc.exitCode === null) {
      const gone = new Promise((r) => consoleProc!.once('exit', r));
      consoleProc.kill('SIGTERM');
      await gone;
    }
    await unit?.stop();
    if (hub && hub.exitCode === null) hub.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('logs in as the teacher with the password from the environment and shows the room', async () => {
    const port = await freePort();
    consoleProc = spawn(process.execPath, [MAIN_JS, 'classroom', '--broker', hubUrl, '--port', String(port), '--username', 'teacher'], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PICOMP_CLASSROOM_PASSWORD: 'teach-s3cret' },
    });
    let out = '';
    consoleProc.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    consoleProc.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    const url = `http://127.0.0.1:${port}/dashboard/classroom`;
    const deadline = Date.now() + 45_000;
    while (!out.includes(url)) {
      assert.equal(consoleProc.exitCode, null, `picomp classroom exited: ${out}`);
      if (Date.now() > deadline) throw new Error(`the console did not start: ${out}`);
      await sleep(100);
    }
    open = await openPage(url);
    await open.page.waitForSelector('.cc-card[data-unit="lab-1"][data-online="yes"]', { timeout: 20_000 });
    assert.ok(!out.includes('teach-s3cret'), 'the password is never printed');
  });
});
