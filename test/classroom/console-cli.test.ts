/**
 * `picomp classroom` as a process: it serves the console page on the port
 * it was given, talks to the hub, and stops cleanly on SIGTERM.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/free-port.js';
import { Mosquitto } from '../helpers/mosquitto.js';

const MAIN_JS = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

describe('picomp classroom (the command)', function () {
  this.timeout(60_000);
  let hub: Mosquitto;
  let child: ChildProcess | null = null;

  before(async () => { hub = await Mosquitto.start(); });
  after(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await hub?.stop();
  });

  it('serves the console at /dashboard/classroom and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    child = spawn(process.execPath, [MAIN_JS, 'classroom', '--broker', hub.url, '--port', String(port), '--listen', '127.0.0.1'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PICOMP_LOG: 'info' } });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    const url = `http://127.0.0.1:${port}/dashboard/classroom`;
    const deadline = Date.now() + 45_000;
    for (;;) {
      assert.equal(child.exitCode, null, `picomp classroom exited: ${out}`);
      if (out.includes(url)) break;
      if (Date.now() > deadline) throw new Error(`no "${url}" in the output: ${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const page = await fetch(url);
    assert.equal(page.status, 200);
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  });

  it('refuses a broker that is not mqtt://, in one line with exit code 2', async () => {
    const r = spawn(process.execPath, [MAIN_JS, 'classroom', '--broker', 'ws://127.0.0.1:1', '--port', '1880'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    r.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    const code = await new Promise<number | null>((res) => r.once('exit', (c) => res(c)));
    assert.equal(code, 2);
    assert.equal(err.trim().split('\n').length, 1, err);
    assert.match(err, /mqtt:\/\//);
  });
});
