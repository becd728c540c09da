/**
 * The strict-host figures of SPEC §6 (docs/realtime.md): picomp started as
 * a unit (`picomp start --input system --output system`) on a JACK dummy
 * server, for a soak at 128- and 64-frame periods, with a busy second core,
 * and under a CPU quota of 10 % of one core standing in for a Pi. For each:
 * xruns as picomp counts them and as jackd logs them, the engine's CPU, and
 * the round trip measured with jack_iodelay beside the latency picomp
 * reports, with jack_thru (a client that copies input to output in the same
 * period) measured in the same run as the peer.
 *
 * Each troubled callback is logged by the unit (PICOMP_XRUN_LOG) and
 * summed here by kind, with the unit's wake-up figures; the load average
 * before and after each soak says what else the machine was doing.
 * BENCH_JACK_SOAKS picks soaks (e.g. "128,64"; default
 * "128,64,busy,quota").
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { jackdAvailable, measureRoundTrip, startJackServer, stopChild, type JackServer } from '../test/helpers/jack.js';
import { freePort } from '../test/helpers/free-port.js';

const MAIN_JS = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const SAMPLE_RATE = 48000;
const SETTLE_MS = 3000;
/** The quota standing in for a Pi: this share of one core. */
const QUOTA_PERCENT = 10;
const CLOCK_TICKS_PER_S = 100;

type Add = (figure: string, value: string) => void;

interface Unit {
  readonly child: ChildProcess;
  readonly port: number;
  readonly reported: { queueFrames: number; lookaheadFrames: number; deviceFrames: number };
  readonly promoted: boolean;
}

/** CPU seconds (user + system, all threads) a process has used so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
}

async function startUnit(server: JackServer, dir: string, block: number, cgroupProcs: string | null): Promise<Unit> {
  const port = await freePort();
  const env = { ...server.env, PICOMP_XRUN_LOG: join(dir, 'xruns.jsonl') };
  const args = [MAIN_JS, 'start', '--unit', 'bench', '--input', 'system', '--output', 'system', '--block', String(block),
    '--mqtt-port', String(port), '--ws-port', '0', '--listen', '127.0.0.1', '--state-dir', join(dir, 'state'), '--no-dashboard'];
  // In a cgroup from its first instruction: the shell joins it, then becomes node.
  const child = cgroupProcs
    ? spawn('sh', ['-c', `echo $$ > "${cgroupProcs}" && exec "$0" "$@"`, process.execPath, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => { log += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
  const deadline = Date.now() + 30_000;
  while (!/running picomp/.test(log)) {
    if (Date.now() > deadline || child.exitCode !== null) { await stopChild(child); throw new Error(`picomp did not start: ${log.slice(-300)}`); }
    await new Promise((r) => setTimeout(r, 100));
  }
  const m = /queue (\d+) × (\d+) frames, lookahead (\d+), device in (\d+) \+ out (\d+)/.exec(log);
  if (!m) { await stopChild(child); throw new Error('picomp printed no latency line'); }
  const [q, b, la, di, dout] = m.slice(1).map(Number) as [number, number, number, number, number];
  return { child, port, reported: { queueFrames: q * b, lookaheadFrames: la, deviceFrames: di + dout }, promoted: !/real-time priority/.test(log) };
}

/** The xrun count of the unit's next meters message. */
function xruns(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(`mqtt://127.0.0.1:${port}`);
    const timer = setTimeout(() => { c.end(true); reject(new Error('no meters')); }, 10_000);
    c.on('connect', () => c.subscribe('picomp/bench/meters'));
    c.on('message', (_t, payload) => { clearTimeout(timer); c.end(true); resolve((JSON.parse(payload.toString()) as { xruns: number }).xruns); });
  });
}

async function jackLoopFrames(server: JackServer): Promise<number> {
  const thru = spawn('jack_thru', [], { env: server.env, stdio: 'ignore' });
  try {
    return await measureRoundTrip(server, 'jack_thru:input_1', 'jack_thru:output_1');
  } finally {
    await stopChild(thru);
  }
}

/** A cgroup with `percent` of one core for ordinary and for real-time threads; null where this machine allows none. */
function makeCpuQuota(percent: number): { procs: string; remove(): void; describe: string } | null {
  const name = `picomp-bench-${process.pid}`;
  try {
    if (existsSync('/sys/fs/cgroup/cgroup.controllers')) {
      // cgroup v2: cpu.max (real-time threads are not limited by it in v2).
      const dir = join('/sys/fs/cgroup', name);
      mkdirSync(dir);
      writeFileSync(join(dir, 'cpu.max'), `${percent * 1000} 100000`);
      return { procs: join(dir, 'cgroup.procs'), remove: () => rmdirSync(dir), describe: `cgroup v2 cpu.max ${percent * 1000}/100000` };
    }
    const dir = join('/sys/fs/cgroup/cpu', name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'cpu.cfs_period_us'), '100000');
    writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(percent * 1000));
    // With real-time group scheduling a SCHED_FIFO thread needs its own budget: the same share.
    if (existsSync(join(dir, 'cpu.rt_runtime_us'))) writeFileSync(join(dir, 'cpu.rt_runtime_us'), String(percent * 10_000));
    return {
      procs: join(dir, 'cgroup.procs'), remove: () => rmdirSync(dir),
      describe: `cgroup v1 cfs_quota ${percent * 1000}/100000 µs + rt_runtime ${percent * 10_000}/1000000 µs`,
    };
  } catch {
    return null;
  }
}

interface XrunLog {
  /** Troubled callbacks in the soak, by kind (bits: 1 JACK's graph-wide notice, 2 output dry, 4 capture dropped, 8 late block dropped, 16 late start). */
  readonly byKind: Record<string, number>;
  readonly stats: { hostXruns: number; ownXruns: number; maxWakeUs: number; slowWakes: number; maxCallbackGapUs: number } | null;
}

/** The unit's xrun log (written once it has stopped), for the soak's window. */
function readXrunLog(path: string, fromMs: number, toMs: number): XrunLog {
  const byKind: Record<string, number> = {};
  let stats: XrunLog['stats'] = null;
  const names: [number, string][] = [[1, 'graph notice'], [2, 'output dry'], [4, 'capture dropped'], [8, 'late block dropped'], [16, 'late start']];
  if (!existsSync(path)) return { byKind, stats };
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line) continue;
    const e = JSON.parse(line) as { wallMs?: number; kinds?: number; stats?: XrunLog['stats'] };
    if (e.stats) { stats = e.stats; continue; }
    if (e.wallMs! < fromMs || e.wallMs! > toMs) continue;
    for (const [bit, name] of names) if (e.kinds! & bit) byKind[name] = (byKind[name] ?? 0) + 1;
  }
  return { byKind, stats };
}

interface SoakOptions {
  readonly periodFrames: number;
  readonly seconds: number;
  readonly busyCore?: boolean;
  readonly quotaPercent?: number;
}

async function soak(o: SoakOptions, add: Add): Promise<void> {
  const label = `JACK ${o.periodFrames}${o.busyCore ? ', busy core' : ''}${o.quotaPercent ? `, ${o.quotaPercent} % CPU` : ''}`;
  const quota = o.quotaPercent ? makeCpuQuota(o.quotaPercent) : null;
  if (o.quotaPercent && !quota) { add(`${label}`, 'skipped: no writable cgroup cpu controller here'); return; }
  const server = await startJackServer({ periodFrames: o.periodFrames, sampleRate: SAMPLE_RATE });
  const dir = mkdtempSync(join(tmpdir(), 'picomp-bench-jack-'));
  let unit: Unit | null = null;
  let burner: ChildProcess | null = null;
  let control: ChildProcess | null = null;
  try {
    unit = await startUnit(server, dir, o.periodFrames, quota?.procs ?? null);
    const reportedShare = unit.reported.queueFrames + unit.reported.lookaheadFrames;
    const loop = await jackLoopFrames(server);
    const before = await measureRoundTrip(server, 'picomp:in_0', 'picomp:out_0');
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    if (o.busyCore) burner = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
    // The control: a C client that only copies input to output, in the same server and soak.
    control = spawn('jack_thru', [], { env: server.env, stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 500));
    const load0 = loadavg()[0]!;
    const k0 = server.lateClients('jack_thru');
    const x0 = await xruns(unit.port), j0 = server.lateClients('picomp'), s0 = server.lateServer(), c0 = cpuSeconds(unit.child.pid!), t0 = Date.now();
    await new Promise((r) => setTimeout(r, o.seconds * 1000));
    const x1 = await xruns(unit.port), j1 = server.lateClients('picomp'), s1 = server.lateServer(), c1 = cpuSeconds(unit.child.pid!), t1 = Date.now();
    const k1 = server.lateClients('jack_thru');
    const load1 = loadavg()[0]!;
    await stopChild(control);
    if (burner) await stopChild(burner);
    const after = await measureRoundTrip(server, 'picomp:in_0', 'picomp:out_0');
    await stopChild(unit.child);
    const xlog = readXrunLog(join(dir, 'xruns.jsonl'), t0, t1);
    const cpuPercent = ((c1 - c0) / ((t1 - t0) / 1000)) * 100;
    add(`${label}: xruns over ${o.seconds} s: picomp's count / jackd's 'picomp was not finished'`, `${x1 - x0} / ${j1 - j0}` +
      `${unit.promoted ? '' : ' (no real-time priority)'}`);
    add(`${label}: … in the same soak, jack_thru late / the server itself late`, `${k1 - k0} / ${s1 - s0} periods`);
    add(`${label}: … picomp's troubled callbacks by kind`, Object.entries(xlog.byKind).map(([k, n]) => `${k} ${n}`).join(', ') || 'none');
    if (xlog.stats) {
      add(`${label}: … JACK's graph-wide xrun notices / picomp's own misses (whole run)`, `${xlog.stats.hostXruns} / ${xlog.stats.ownXruns}`);
      add(`${label}: … processing thread's longest wake-up / wake-ups over a block; longest callback gap`,
        `${(xlog.stats.maxWakeUs / 1000).toFixed(2)} ms / ${xlog.stats.slowWakes}; ${(xlog.stats.maxCallbackGapUs / 1000).toFixed(2)} ms`);
    }
    add(`${label}: … load average (1 min) before / after the soak`, `${load0.toFixed(2)} / ${load1.toFixed(2)}`);
    add(`${label}: unit process CPU, % of one core (${cpus().length} here)`, `${cpuPercent.toFixed(2)} %${quota ? ` under ${quota.describe}` : ''}`);
    add(`${label}: round trip measured (jack_iodelay), frames`, `${after} = ${((after / SAMPLE_RATE) * 1000).toFixed(2)} ms (${(after / o.periodFrames).toFixed(2)} blocks)` +
      (after === before ? ', same as before the soak' : `, was ${before} before the soak`));
    add(`${label}: … of which JACK's own loop (jack_thru, the peer)`, `${loop} frames`);
    add(`${label}: … picomp's share measured / reported (queue + lookahead)`, `${after - loop} / ${reportedShare} frames` +
      `; reported total with PortAudio's device figures ${reportedShare + unit.reported.deviceFrames}`);
  } finally {
    if (control) await stopChild(control);
    if (burner) await stopChild(burner);
    if (unit) await stopChild(unit.child);
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
    quota?.remove();
  }
}

export async function benchJack(soakSeconds: number, add: Add): Promise<void> {
  if (!jackdAvailable()) throw new Error('jackd2 (jackd, jack_iodelay) is not installed');
  const soaks = new Set((process.env.BENCH_JACK_SOAKS ?? '128,64,busy,quota').split(',').map((x) => x.trim()));
  if (soaks.has('128')) await soak({ periodFrames: 128, seconds: soakSeconds }, add);
  if (soaks.has('64')) await soak({ periodFrames: 64, seconds: soakSeconds }, add);
  if (soaks.has('busy')) await soak({ periodFrames: 128, seconds: Math.min(soakSeconds, 60), busyCore: true }, add);
  if (soaks.has('quota')) await soak({ periodFrames: 128, seconds: Math.min(soakSeconds, 120), quotaPercent: QUOTA_PERCENT }, add);
}
