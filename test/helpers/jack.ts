/**
 * A JACK dummy server for tests and benches: `jackd -d dummy` needs no sound
 * card, yet runs the real JACK engine with its deadline (a client that is
 * not finished in its period is an xrun). Each server gets a unique name
 * (`jackd -n NAME`; clients find it through JACK_DEFAULT_SERVER), so
 * parallel runs never share one; it is started and stopped by pid, and its
 * socket and semaphores are removed afterwards.
 *
 * Round trips are measured with jack_iodelay (jackd2's tools): it plays a
 * multi-tone signal out of `jack_delay:out` and finds its delay at
 * `jack_delay:in`.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const DEV_SHM = '/dev/shm';
const UID = typeof process.getuid === 'function' ? process.getuid() : 0;
let serial = 0;

export interface JackServer {
  readonly name: string;
  readonly pid: number;
  readonly periodFrames: number;
  readonly sampleRate: number;
  /** Environment for a client of this server. */
  readonly env: NodeJS.ProcessEnv;
  /** What jackd printed so far (its xrun reports among it). */
  log(): string;
  /** Periods in which a client (or the one named) had not finished in time, as jackd logs them ("client = NAME was not finished"). */
  lateClients(client?: string): number;
  /** Periods the server itself started late (the dummy driver's timer woke late: the machine, not a client). */
  lateServer(): number;
  /** Runs a jack_* tool against this server. */
  tool(command: string, args: string[]): Promise<string>;
  stop(): Promise<void>;
}

export function jackdAvailable(): boolean {
  return existsSync('/usr/bin/jackd') && existsSync('/usr/bin/jack_iodelay');
}

function socketPath(name: string): string {
  return join(DEV_SHM, `jack_${name}_${UID}_0`);
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string, alive: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (!alive()) throw new Error(`${what}: the process exited`);
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

/** Stops a child by pid: SIGTERM, then SIGKILL if it has not gone after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => { if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL'); }, graceMs);
  await exited(child);
  clearTimeout(timer);
}

export async function startJackServer(o: { periodFrames?: number; sampleRate?: number } = {}): Promise<JackServer> {
  const periodFrames = o.periodFrames ?? 128;
  const sampleRate = o.sampleRate ?? 48000;
  const name = `picomp-${process.pid}-${++serial}-${Math.random().toString(36).slice(2, 8)}`;
  // No D-Bus device reservation: there is no card to reserve.
  const env = { ...process.env, JACK_DEFAULT_SERVER: name, JACK_NO_AUDIO_RESERVATION: '1' };
  const child = spawn('jackd', ['-n', name, '-d', 'dummy', '-r', String(sampleRate), '-p', String(periodFrames)],
    { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => { log += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  const cleanup = (): void => {
    rmSync(socketPath(name), { force: true });
    for (const f of readdirSync(DEV_SHM)) if (f.startsWith('jack_sem.') && f.includes(`_${name}_`)) rmSync(join(DEV_SHM, f), { force: true });
  };
  const server: JackServer = {
    name, pid: child.pid!, periodFrames, sampleRate, env,
    log: () => log,
    lateClients: (client) => [...log.matchAll(/client = (\S+) was not finished/g)].filter((m) => client === undefined || m[1] === client).length,
    lateServer: () => (log.match(/JackTimedDriver::Process XRun/g) ?? []).length,
    tool: async (command, args) => (await run(command, args, { env, timeout: 10_000 })).stdout,
    stop: async () => { await stopChild(child); cleanup(); },
  };
  try {
    await waitFor(() => existsSync(socketPath(name)), 10_000, `jackd -n ${name}`, alive);
    await server.tool('jack_wait', ['-w', '-t', '5']);
  } catch (e) {
    await server.stop();
    throw new Error(`${(e as Error).message}\n${log}`);
  }
  return server;
}

/** Connects two ports, retrying while a client that was just started registers them. */
export async function connectWhenReady(server: JackServer, from: string, to: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await server.tool('jack_connect', [from, to]);
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * The round trip from `jack_delay:out` through `into` … `from` back to
 * `jack_delay:in`, in frames, once jack_iodelay has given the same figure
 * three times running.
 */
export async function measureRoundTrip(server: JackServer, into: string, from: string, timeoutMs = 30_000): Promise<number> {
  // stdbuf: jack_iodelay writes its figures with printf, block-buffered into a pipe.
  const child = spawn('stdbuf', ['-o0', 'jack_iodelay'], { env: server.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  try {
    const alive = (): boolean => child.exitCode === null;
    await connectWhenReady(server, 'jack_delay:out', into);
    await connectWhenReady(server, from, 'jack_delay:in');
    const readings = (): number[] => [...out.matchAll(/([\d.]+) frames\s+[\d.]+ ms total roundtrip latency/g)].map((m) => Number(m[1]));
    const settled = (): boolean => {
      const r = readings();
      return r.length >= 3 && r.at(-1) === r.at(-2) && r.at(-2) === r.at(-3);
    };
    await waitFor(settled, timeoutMs, `a steady round trip through ${into} → ${from}\n${out}`, alive);
    return readings().at(-1)!;
  } finally {
    await stopChild(child);
  }
}
