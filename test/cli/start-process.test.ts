import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { freePort } from '../helpers/free-port.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));


interface Unit { child: ChildProcess; port: number; stderr: () => string; exited: Promise<number | null> }

/** Every unit a test started, so a failing test cannot leave one running (holding ports, burning CPU). */
const running = new Set<ChildProcess>();
afterEach(() => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  running.clear();
});

async function startUnit(stateDir: string, extra: string[] = []): Promise<Unit> {
  const port = await freePort();
  const ws = await freePort();
  const child = spawn(process.execPath, [CLI, 'start', '--unit', 'lab-1', '--mqtt-port', String(port), '--ws-port', String(ws),
    '--listen', '127.0.0.1', '--state-dir', stateDir, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const deadline = Date.now() + 20_000;
  while (!/running picomp/.test(err)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`unit did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, port, stderr: () => err, exited };
}

/** The first message on `topic` on a fresh subscription (the retained one, if any). */
async function firstMessage(port: number, topic: string): Promise<Record<string, unknown>> {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`);
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nothing arrived on ${topic}`)), 10_000);
      c.on('message', (_t, p) => { clearTimeout(timer); resolve(JSON.parse(p.toString()) as Record<string, unknown>); });
      void c.subscribeAsync(topic);
    });
  } finally { await c.endAsync(); }
}

const retainedState = (port: number): Promise<Record<string, unknown>> => firstMessage(port, 'picomp/lab-1/state');

describe('picomp start (whole process)', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'picomp-start-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  it('says in one line that it runs the demo into null when no device exists', async () => {
    const unit = await startUnit(join(dir, 'a'), ['--input', 'auto', '--output', 'auto']);
    unit.child.kill('SIGTERM');
    assert.equal(await unit.exited, 0);
    const lines = unit.stderr().split('\n').filter((l) => /demo/.test(l));
    assert.equal(lines.length, 1, unit.stderr());
    assert.match(lines[0]!, /demo → null .*paced in real time/);
  });

  it('persists run-time changes across SIGTERM and restores them at the next start', async () => {
    const stateDir = join(dir, 'b');
    const unit = await startUnit(stateDir);
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${unit.port}`);
    const echoed = new Promise<void>((resolve) => {
      c.on('message', (_t, p) => { if ((JSON.parse(p.toString()) as { threshold: number }).threshold === -33) resolve(); });
    });
    await c.subscribeAsync('picomp/lab-1/state');
    await c.publishAsync('picomp/lab-1/set', JSON.stringify({ threshold: -33, detector: 'rms' }));
    await echoed;
    await c.endAsync();
    unit.child.kill('SIGTERM');
    assert.equal(await unit.exited, 0, unit.stderr());
    const saved = JSON.parse(await readFile(join(stateDir, 'state.json'), 'utf8')) as { params: Record<string, unknown> };
    assert.deepEqual(saved.params, { threshold: -33, detector: 'rms' });

    const again = await startUnit(stateDir);
    const state = await retainedState(again.port);
    assert.equal(state.threshold, -33);
    assert.equal(state.detector, 'rms');
    again.child.kill('SIGINT');
    assert.equal(await again.exited, 0);
  });

  it('reports a corrupt state file and starts from defaults', async () => {
    const stateDir = join(dir, 'c');
    await import('node:fs/promises').then((fs) => fs.mkdir(stateDir, { recursive: true }));
    await writeFile(join(stateDir, 'state.json'), '{ not json');
    const unit = await startUnit(stateDir);
    assert.match(unit.stderr(), /state\.json is unusable \(it is not valid JSON\); starting from defaults/);
    assert.equal((await retainedState(unit.port)).threshold, -18);
    unit.child.kill('SIGTERM');
    assert.equal(await unit.exited, 0);
  });

  it('publishes the engine\'s real meters with health figures', async () => {
    const unit = await startUnit(join(dir, 'e'));
    const m = await firstMessage(unit.port, 'picomp/lab-1/meters');
    for (const key of ['t', 'in_peak', 'in_rms', 'out_peak', 'out_rms', 'gr', 'clip_in', 'clip_out', 'out_true_peak', 'overs_out', 'det_level', 'xruns', 'cpu']) assert.ok(key in m, key);
    assert.equal((m.in_peak as number[]).length, 2);
    assert.ok((m.gr as number[]).every((g) => g <= 0));
    assert.ok(typeof m.cpu === 'number' && m.cpu > 0);
    unit.child.kill('SIGTERM');
    assert.equal(await unit.exited, 0);
  });

  it('with users, the dashboard is not started on the unit\'s own account', async () => {
    const stateDir = join(dir, 'f');
    await import('node:fs/promises').then((fs) => fs.mkdir(stateDir, { recursive: true }));
    const { upsertUser } = await import('../../src/mqtt/users.js');
    await upsertUser(join(stateDir, 'users.json'), { name: 'tess', role: 'teacher', password: 'teacher-pass-1' });
    const unit = await startUnit(stateDir, ['--dashboard']);
    assert.match(unit.stderr(), /the dashboard is not started: the broker requires users/);
    assert.doesNotMatch(unit.stderr(), /dashboard at http/);
    unit.child.kill('SIGTERM');
    assert.equal(await unit.exited, 0);
  });

  it('refuses a password given as a flag', async () => {
    const child = spawn(process.execPath, [CLI, 'start', '--broker', 'mqtt://127.0.0.1:1', '--broker-password', 'secret'], { stdio: ['ignore', 'ignore', 'pipe'] });
    running.add(child);
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    assert.equal(await new Promise((r) => child.once('exit', r)), 2);
    assert.match(err, /--broker-password would show the password to anyone listing processes; set PICOMP_BROKER_PASSWORD/);
  });

  it('a port already in use is one clear line and exit code 2', async () => {
    const blocker = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const port = (blocker.address() as { port: number }).port;
    const child = spawn(process.execPath, [CLI, 'start', '--unit', 'lab-2', '--mqtt-port', String(port), '--ws-port', '0',
      '--listen', '127.0.0.1', '--state-dir', join(dir, 'd')], { stdio: ['ignore', 'ignore', 'pipe'] });
    running.add(child);
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const code = await new Promise((r) => child.once('exit', r));
    blocker.close();
    assert.equal(code, 2, err);
    assert.match(err, new RegExp(`port ${port} is already in use`));
    assert.doesNotMatch(err, /\n\s+at /);
  });
});
