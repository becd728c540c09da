/**
 * A unit killed with kill -9 (power management, the OOM killer, a
 * student's `sudo kill`) must not leave Node-RED running on the dashboard
 * port, nor its temporary directory behind: the next start must work.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { freePort } from '../helpers/free-port.js';
import { sleep } from '../helpers/mosquitto.js';

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

describe('security: Node-RED ends with its parent', function () {
  this.timeout(90_000);

  it('after kill -9 of the parent, Node-RED exits, frees the port and removes its temp dir', async function () {
    const port = await freePort();
    const parent = spawn(process.execPath, [join('dist', 'test', 'fixtures', 'dashboard-parent.js'), String(port), String(await freePort())], { stdio: ['ignore', 'pipe', 'pipe'] });
    let redPid = 0;
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '', err = '';
        parent.stdout!.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('\n')) resolve(out.split('\n')[0]!); });
        parent.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
        parent.once('exit', (code) => reject(new Error(`the parent exited (${code}): ${err}`)));
      });
      const { pid, userDir } = JSON.parse(line) as { pid: number; userDir: string };
      redPid = pid;
      assert.ok(alive(pid) && existsSync(userDir));
      parent.kill('SIGKILL');
      for (let i = 0; i < 200 && alive(pid); i++) await sleep(100);
      assert.equal(alive(pid), false, 'Node-RED is gone');
      assert.equal(existsSync(userDir), false, 'its temp dir is gone');
      assert.equal(await portFree(port), true, 'the dashboard port is free again');
    } finally {
      if (parent.exitCode === null && parent.signalCode === null) parent.kill('SIGKILL');
      if (redPid && alive(redPid)) process.kill(redPid, 'SIGKILL');
    }
  });
});
