/**
 * A newcomer's machine, Node and npm only: the README's two commands,
 * `npm install` then `npm start`, in a clean clone of this repository
 * (its last commit) with the system's PortAudio and C/C++ tool chain hidden:
 * a private mount namespace binds an empty file over PortAudio's header and
 * libraries and a failing stub over make and the compilers, so no native
 * addon (naudiodon, onoff's epoll) can build. The unit must come up with the
 * demo source into null, meter over MQTT, and stop on SIGTERM. Needs root
 * for the namespace (`unshare -m`); reuses the npm cache.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENABLE_SOUND_CARDS } from '../../src/io/naudiodon-loader.js';
import { unitTopics } from '../../src/mqtt/topics.js';
import { Probe } from '../helpers/mosquitto.js';
import { freePort } from '../helpers/free-port.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/** The shell commands of the README's five-minute path, as written there. */
function fiveMinuteCommands(readme: string): string[] {
  const section = readme.split('## Hear and see compression in five minutes')[1]?.split('\n## ')[0] ?? '';
  return section.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('npm run picomp -- '));
}
// Bounds, not expectations: about a minute each alone, much more on a loaded machine.
const INSTALL_TIMEOUT_MS = 360_000;
const START_TIMEOUT_MS = 60_000;

/** PortAudio's header and libraries as the Debian packages installed them (none when not installed). */
function portAudioFiles(): string[] {
  const r = spawnSync('dpkg', ['-L', 'portaudio19-dev', 'libportaudio2'], { encoding: 'utf8' });
  return (r.stdout ?? '').split('\n').filter((f) => /\/portaudio\.h$|\/libportaudio\.so/.test(f) && existsSync(f));
}

/** The build tools node-gyp would use, where they are installed. */
function toolChain(): string[] {
  return ['make', 'cc', 'gcc', 'g++', 'c++'].map((tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim())
    .filter((path) => path !== '');
}

/** Files that stand in for what a fresh machine lacks. */
interface StandIns { readonly empty: string; readonly failing: string }

/** argv that runs `command` in a mount namespace private to it, without PortAudio and compilers. */
function onFreshMachine(stand: StandIns, command: string[]): string[] {
  const binds = [
    ...portAudioFiles().map((f) => `mount --bind '${stand.empty}' '${f}'`),
    ...toolChain().map((f) => `mount --bind '${stand.failing}' '${f}'`),
  ].join(' && ');
  return ['unshare', '-m', 'sh', '-c', `${binds || 'true'} && exec "$@"`, 'sh', ...command];
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function unmet(): string | null {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return 'a mount namespace needs root on Linux';
  for (const tool of ['unshare', 'git', 'npm']) {
    if (spawnSync(tool, ['--version']).error) return `${tool} is not installed`;
  }
  return null;
}

describe('a fresh clone with no PortAudio: the README\'s npm install and npm start', function () {
  this.timeout(INSTALL_TIMEOUT_MS + START_TIMEOUT_MS + 30_000);
  let dir = '';
  let unit: ChildProcess | undefined;

  before(function () {
    const why = unmet();
    if (why) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'picomp-fresh-'));
  });

  after(() => {
    // npm start runs in its own process group: end whatever is left of it (npm, picomp, Node-RED).
    if (unit?.pid) {
      try { process.kill(-unit.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('installs without the audio driver, runs the five-minute path, then meters demo → null over MQTT until SIGTERM', async () => {
    const clone = join(dir, 'picomp');
    const stand = { empty: join(dir, 'empty'), failing: join(dir, 'not-installed') };
    writeFileSync(stand.empty, '');
    writeFileSync(stand.failing, '#!/bin/sh\necho "$0: not installed (hidden by the fresh-machine test)" >&2\nexit 127\n', { mode: 0o755 });
    execFileSync('git', ['clone', '--quiet', REPO, clone], { timeout: 60_000 });

    const [cmd, ...args] = onFreshMachine(stand, ['npm', 'install', '--prefer-offline', '--no-audit', '--no-fund']);
    const install = spawnSync(cmd!, args, { cwd: clone, encoding: 'utf8', timeout: INSTALL_TIMEOUT_MS, killSignal: 'SIGKILL' });
    assert.equal(install.status, 0, `npm install failed:\n${install.stdout}\n${install.stderr}`);
    for (const optional of ['naudiodon', 'onoff']) {
      assert.ok(!existsSync(join(clone, 'node_modules', optional)), `npm skipped ${optional}, which it could not build`);
    }
    assert.ok(existsSync(join(clone, 'dist', 'src', 'cli', 'main.js')), 'npm install built picomp');

    // The five-minute path, command by command as the README gives it.
    const commands = fiveMinuteCommands(readFileSync(join(clone, 'README.md'), 'utf8'));
    assert.ok(commands.length >= 2, `five-minute commands found in the README: ${commands.join(' | ')}`);
    for (const line of commands) {
      const [c, ...a] = onFreshMachine(stand, ['sh', '-c', line]);
      const r = spawnSync(c!, a, { cwd: clone, encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL' });
      assert.equal(r.status, 0, `${line}:\n${r.stdout}\n${r.stderr}`);
    }
    for (const made of ['drums.wav', 'squashed.wav', 'squashed.svg']) assert.ok(existsSync(join(clone, made)), made);

    const unitId = 'fresh-1';
    const baseTopic = 'picomp-fresh';
    const mqttPort = await freePort();
    const env = {
      ...process.env,
      PICOMP_UNIT: unitId, PICOMP_BASE_TOPIC: baseTopic, PICOMP_MQTT_PORT: String(mqttPort), PICOMP_WS_PORT: '0',
      PICOMP_DASHBOARD_PORT: String(await freePort()), PICOMP_LISTEN: '127.0.0.1', PICOMP_STATE_DIR: join(dir, 'state'),
    };
    const [startCmd, ...startArgs] = onFreshMachine(stand, ['npm', 'start']);
    unit = spawn(startCmd!, startArgs, { cwd: clone, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    const exited = new Promise<number | null>((resolve) => unit!.once('exit', (code) => resolve(code)));
    const running = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npm start did not come up within ${START_TIMEOUT_MS} ms:\n${log}`)), START_TIMEOUT_MS);
      const onData = (d: Buffer): void => {
        log += d.toString();
        if (log.includes(`unit "${unitId}" running`)) { clearTimeout(timer); resolve(); }
      };
      unit!.stdout!.on('data', onData);
      unit!.stderr!.on('data', onData);
      void exited.then(() => { clearTimeout(timer); reject(new Error(`npm start exited:\n${log}`)); });
    });
    await running;
    // One line says it all: demo → null, and how to turn sound cards on.
    const hinted = log.split('\n').filter((l) => l.includes(ENABLE_SOUND_CARDS));
    assert.equal(hinted.length, 1, log);
    assert.match(hinted[0]!, /audio demo → null at \d+ Hz.*the audio driver is not installed/);

    const probe = await Probe.connect(`mqtt://127.0.0.1:${mqttPort}`);
    try {
      await probe.subscribe(unitTopics(baseTopic, unitId).meters);
      // The demo drums: a frame whose input peak is well above silence.
      const frame = await probe.next((m) => Math.max(...(JSON.parse(m.text) as { in_peak: number[] }).in_peak) > -40, 10_000);
      assert.ok(frame);
    } finally {
      await probe.close();
    }

    process.kill(unit.pid!, 'SIGTERM');
    const code = await exited;
    assert.equal(code, 0, `npm start after SIGTERM:\n${log}`);
    assert.match(log, /SIGTERM received, stopping/);
    // npm passed the signal on to picomp, which stopped Node-RED too: nothing of the group is left.
    const deadline = Date.now() + 15_000;
    while (groupAlive(unit.pid!) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.ok(!groupAlive(unit.pid!), 'a process of npm start outlived it');
  });
});
