/**
 * Real time on a strict host: a JACK dummy server (no sound card) started
 * for these tests, picomp's real naudiodon → PortAudio → JACK path on it,
 * and round trips measured with jack_iodelay. Behaviour only: audio
 * passes, xruns are reported as counts, the measured round trip matches
 * what picomp reports. Speed figures live in `npm run bench` (bench/jack.ts).
 */
import assert from 'node:assert/strict';
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { connectWhenReady, jackdAvailable, measureRoundTrip, startJackServer, stopChild, type JackServer } from '../helpers/jack.js';
import { freePort } from '../helpers/free-port.js';
import { requireAudioDriver } from '../helpers/audio-driver.js';
import { anyAudioHost, describeAudioHosts, probeAudioHosts, type ProbeRoots } from '../../src/io/audio-hosts.js';
import type { RealtimeStats } from '../../src/io/audio-device.js';
import { LIMITER_LOOKAHEAD_MS } from '../../src/dsp/limiter.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const STALL_CHILD = fileURLToPath(new URL('../fixtures/rt-stall-child.js', import.meta.url));

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('audio hosts found without asking PortAudio', () => {
  let dir: string;
  let roots: ProbeRoots;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'picomp-hosts-'));
    for (const d of ['asound', 'shm', 'run']) mkdirSync(join(dir, d));
    roots = { procAsound: join(dir, 'asound'), devShm: join(dir, 'shm'), etcAsoundConf: join(dir, 'asound.conf'), uid: 1000 };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const bare = (): NodeJS.ProcessEnv => ({ HOME: join(dir, 'home'), XDG_RUNTIME_DIR: join(dir, 'run') });

  it('finds nothing on a machine with no card, no configuration, no server', () => {
    writeFileSync(join(roots.procAsound, 'cards'), '--- no soundcards ---\n');
    const h = probeAudioHosts(bare(), roots);
    assert.deepEqual(h, { alsaCards: 0, alsaConfig: null, jackServer: null, pipewire: null, pulse: null });
    assert.equal(anyAudioHost(h), false);
    assert.match(describeAudioHosts(h), /no ALSA sound card.*no JACK server/);
  });

  it('counts kernel sound cards', () => {
    writeFileSync(join(roots.procAsound, 'cards'),
      ' 0 [PCH            ]: HDA-Intel - HDA Intel PCH\n                      HDA Intel PCH at 0xf7f10000 irq 32\n 1 [CODEC          ]: USB-Audio - USB Audio CODEC\n');
    assert.equal(probeAudioHosts(bare(), roots).alsaCards, 2);
  });

  it('sees the JACK server JACK_DEFAULT_SERVER names (else "default"), and only that one', () => {
    writeFileSync(join(roots.devShm, 'jack_studio_1000_0'), '');
    assert.equal(probeAudioHosts(bare(), roots).jackServer, null);
    assert.equal(probeAudioHosts({ ...bare(), JACK_DEFAULT_SERVER: 'studio' }, roots).jackServer, 'studio');
    writeFileSync(join(roots.devShm, 'jack_default_1000_0'), '');
    const h = probeAudioHosts(bare(), roots);
    assert.equal(h.jackServer, 'default');
    assert.equal(anyAudioHost(h), true);
  });

  it('sees PipeWire and PulseAudio by their sockets in the runtime directory', () => {
    writeFileSync(join(dir, 'run', 'pipewire-0'), '');
    mkdirSync(join(dir, 'run', 'pulse'));
    writeFileSync(join(dir, 'run', 'pulse', 'native'), '');
    const h = probeAudioHosts(bare(), roots);
    assert.equal(h.pipewire, join(dir, 'run', 'pipewire-0'));
    assert.equal(h.pulse, join(dir, 'run', 'pulse', 'native'));
    assert.match(describeAudioHosts(h), /PipeWire, PulseAudio/);
  });
});

describe('real time on a strict host (JACK dummy server, 128-frame periods)', function () {
  // Round trips settle in seconds, more on a loaded machine.
  this.timeout(120_000);
  let server: JackServer;
  let dir: string;
  const children: ChildProcess[] = [];

  before(async function () {
    requireAudioDriver(this);
    if (!jackdAvailable()) this.skip(); // .ci/run installs jackd2
    server = await startJackServer({ periodFrames: 128 });
    dir = mkdtempSync(join(tmpdir(), 'picomp-jack-'));
  });
  afterEach(async () => {
    for (const c of children.splice(0)) await stopChild(c);
  });
  after(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('picomp devices lists the JACK server\'s device and prints nothing on stderr', async () => {
    const listed = await runCli(['devices'], server.env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`JACK server "${server.name}"`));
    assert.match(listed.stdout, /system \(JACK Audio Connection Kit\)/);
    assert.equal(listed.stderr, '');
    const json = await runCli(['devices', '--json'], server.env);
    const devices = JSON.parse(json.stdout) as { name: string; hostApi: string; maxInputChannels: number }[];
    assert.ok(devices.some((d) => d.name === 'system' && /JACK/.test(d.hostApi) && d.maxInputChannels >= 2));
  });

  it('picomp start on JACK: audio passes, xruns are a count, the measured round trip is the reported latency', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, 'start', '--unit', 'jack-1', '--input', 'system', '--output', 'system', '--lookahead', '2',
      '--mqtt-port', String(port), '--ws-port', '0', '--listen', '127.0.0.1', '--state-dir', join(dir, 'state'), '--no-dashboard'],
    { env: server.env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let log = '';
    child.stdout.on('data', (d: Buffer) => { log += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { log += d.toString(); });
    const deadline = Date.now() + 30_000;
    while (!/running picomp/.test(log)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`picomp did not start:\n${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(log, /audio system → system at 48000 Hz, 128-frame blocks/);
    const m = /latency [\d.]+ ms \((\d+) frames\): queue (\d+) × (\d+) frames, lookahead (\d+), device in (\d+) \+ out (\d+)/.exec(log);
    assert.ok(m, `a latency line in:\n${log}`);
    const [total, queueBlocks, block, lookahead, devIn, devOut] = m.slice(1).map(Number) as [number, number, number, number, number, number];
    assert.equal(block, 128);
    // The DSP's own latency: the 2 ms lookahead (96 frames) and the output limiter's.
    assert.equal(lookahead, 96 + Math.round((LIMITER_LOOKAHEAD_MS / 1000) * 48000), '2 ms + 1.5 ms at 48 kHz');
    assert.equal(total, queueBlocks * block + lookahead + devIn + devOut);

    // jack_thru copies input to output in the same period: what JACK itself adds to a loop between two clients.
    const thru = spawn('jack_thru', [], { env: server.env, stdio: 'ignore' });
    children.push(thru);
    const jackLoop = await measureRoundTrip(server, 'jack_thru:input_1', 'jack_thru:output_1');
    await stopChild(thru);
    const measured = await measureRoundTrip(server, 'picomp:in_0', 'picomp:out_0');
    const picompShare = measured - jackLoop;
    assert.ok(Math.abs(picompShare - (queueBlocks * block + lookahead)) <= block,
      `measured ${measured} frames (JACK's loop ${jackLoop}); picomp reports queue ${queueBlocks} × ${block} + lookahead ${lookahead}`);

    // While jack_iodelay's tones play through it, the meters show them going in and out.
    const iodelay = spawn('jack_iodelay', [], { env: server.env, stdio: 'ignore' });
    children.push(iodelay);
    await connectWhenReady(server, 'jack_delay:out', 'picomp:in_0');
    const meters = await new Promise<{ in_peak: number[]; out_peak: number[]; xruns: number }>((resolve, reject) => {
      const c = mqtt.connect(`mqtt://127.0.0.1:${port}`);
      const timer = setTimeout(() => { c.end(true); reject(new Error('no meters with the signal')); }, 10_000);
      c.on('connect', () => { c.subscribe('picomp/jack-1/meters'); });
      c.on('message', (_topic, payload) => {
        const frame = JSON.parse(payload.toString()) as { in_peak: number[]; out_peak: number[]; xruns: number };
        // The output follows the input by the latency: a period can end between the two.
        if (frame.in_peak[0]! > -100 && frame.out_peak[0]! > -100) { clearTimeout(timer); c.end(true); resolve(frame); }
      });
    });
    assert.ok(meters.in_peak[0]! > -100 && meters.out_peak[0]! > -100, JSON.stringify(meters));
    assert.ok(Number.isInteger(meters.xruns) && meters.xruns >= 0, `xruns ${meters.xruns} is a count`);
  });

  /** A child process with a duplex RtStream on the server ('picomp-stall'), once it runs. */
  async function streamChild(): Promise<{ child: ChildProcess; stats: () => Promise<RealtimeStats> }> {
    const child = fork(STALL_CHILD, [], { env: server.env, stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
    children.push(child);
    const next = <T>(type: string): Promise<T> => new Promise((resolve, reject) => {
      const onMessage = (m: { type: string }): void => { if (m.type === type) { child.off('exit', onExit); child.off('message', onMessage); resolve(m as T); } };
      const onExit = (code: number | null): void => reject(new Error(`the stream child exited (${code})`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
    await next('ready');
    return { child, stats: async () => { child.send({ type: 'stats' }); return (await next<{ stats: RealtimeStats }>('stats')).stats; } };
  }

  it('a processing thread stalled past the queue: the misses are counted and the round trip comes back to the same figure', async () => {
    const { child, stats } = await streamChild();
    const before = await measureRoundTrip(server, 'picomp-stall:in_0', 'picomp-stall:out_0');
    const xrunsBefore = (await stats()).xruns;
    for (const ms of [30, 60, 100]) {
      child.send({ type: 'stall', ms });
      await new Promise((r) => setTimeout(r, 300));
    }
    const after = await stats();
    assert.ok(after.xruns > xrunsBefore, `the stalls were counted: ${JSON.stringify(after)}`);
    assert.ok(after.outputUnderflows > 0 && after.outputDropped > 0, `late blocks were replaced by silence and dropped when they came: ${JSON.stringify(after)}`);
    assert.equal(await measureRoundTrip(server, 'picomp-stall:in_0', 'picomp-stall:out_0'), before, 'the latency did not drift');
    child.send({ type: 'stop' });
  });

  it('another client\'s late periods are JACK\'s notices to picomp, not picomp\'s xruns', async () => {
    const { child, stats } = await streamChild();
    const before = await stats();
    // jack_zombie sleeps in its process callback: jackd finds it late period after period and tells every client.
    const zombie = spawn('jack_zombie', [], { env: server.env, stdio: 'ignore' });
    children.push(zombie);
    const deadline = Date.now() + 30_000;
    let after = await stats();
    while (server.lateClients('zombie') < 3 || after.hostXruns <= before.hostXruns) {
      if (Date.now() > deadline) throw new Error(`no late zombie periods seen: jackd logged ${server.lateClients('zombie')}, picomp ${JSON.stringify(after)}`);
      await new Promise((r) => setTimeout(r, 200));
      after = await stats();
    }
    await stopChild(zombie);
    after = await stats();
    assert.ok(after.hostXruns > before.hostXruns, `JACK's notices reached the stream: ${JSON.stringify(after)}`);
    assert.equal(after.xruns - before.xruns, after.ownXruns - before.ownXruns,
      `only the stream's own misses count as its xruns: ${JSON.stringify({ before, after })}`);
    child.send({ type: 'stop' });
  });
});

describe('picomp start on JACK when the JACK server goes away', function () {
  // Each case waits for picomp to notice the server is gone (a 2 s watchdog) and to exit.
  this.timeout(90_000);
  let dir: string;
  const children: ChildProcess[] = [];

  before(function () {
    requireAudioDriver(this);
    if (!jackdAvailable()) this.skip(); // .ci/run installs jackd2
    dir = mkdtempSync(join(tmpdir(), 'picomp-jack-gone-'));
  });
  afterEach(async () => {
    for (const c of children.splice(0)) await stopChild(c);
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Starts a server and picomp on it; resolves with both and picomp's log so far. */
  async function unitOnServer(name: string): Promise<{ server: JackServer; child: ChildProcess; log: () => string }> {
    const server = await startJackServer({ periodFrames: 128 });
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, 'start', '--unit', name, '--input', 'system', '--output', 'system',
      '--mqtt-port', String(port), '--ws-port', '0', '--listen', '127.0.0.1', '--state-dir', join(dir, name), '--no-dashboard'],
    { env: server.env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let log = '';
    child.stdout!.on('data', (d: Buffer) => { log += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
    const deadline = Date.now() + 30_000;
    while (!/running picomp/.test(log)) {
      if (Date.now() > deadline || child.exitCode !== null) { await server.stop(); throw new Error(`picomp did not start:\n${log}`); }
      await new Promise((r) => setTimeout(r, 100));
    }
    return { server, child, log: () => log };
  }

  /** SIGTERM, then the exit code, or null if it had not exited within `withinMs` (PortAudio's JACK host waits 10 minutes). */
  async function terminate(child: ChildProcess, withinMs: number): Promise<number | null> {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    process.kill(child.pid!, 'SIGTERM');
    return Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), withinMs))]);
  }

  it('exits on SIGTERM after the watchdog has replaced its audio thread', async () => {
    const { server, child, log } = await unitOnServer('gone-late');
    await server.stop();
    // The watchdog notices and the engine retires the worker, then tries again.
    const deadline = Date.now() + 30_000;
    while (!/audio stopped: the audio device stopped delivering audio/.test(log())) {
      if (Date.now() > deadline) throw new Error(`picomp did not report the lost server:\n${log()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await terminate(child, 20_000), 0, `picomp exits with 0 on SIGTERM:\n${log()}`);
    assert.match(log(), /stopped; state saved/);
  });

  it('exits on SIGTERM right after the server went away', async () => {
    const { server, child, log } = await unitOnServer('gone-soon');
    await server.stop();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await terminate(child, 20_000), 0, `picomp exits with 0 on SIGTERM:\n${log()}`);
    assert.match(log(), /stopped; state saved/);
  });
});
