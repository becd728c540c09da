/**
 * Shared pieces of the security suite: a login that never retries, a
 * temp dir per test, and running picomp as a separate process.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';

export const PICOMP = join(process.cwd(), 'dist', 'src', 'cli', 'main.js');

/** Connects once, without retrying: 'ok', or the broker's refusal as text. */
export function tryLogin(url: string, opts: mqtt.IClientOptions = {}): Promise<'ok' | string> {
  return new Promise((resolve) => {
    const c = mqtt.connect(url, { connectTimeout: 10_000, ...opts, reconnectPeriod: 0 });
    c.once('connect', () => { c.end(true); resolve('ok'); });
    c.once('error', (e) => { c.end(true); resolve(e.message || 'refused'); });
    c.once('close', () => resolve('closed'));
  });
}

export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), `picomp-sec-${prefix}-`));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface Run { code: number | null; signal: NodeJS.Signals | null; out: string; err: string }

/** Runs `picomp ARGS` (or another script) to its end, killing it after `timeoutMs`. */
export function runNode(args: string[], opts: { stdin?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '', err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.once('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, out, err }); });
    child.stdin.end(opts.stdin ?? '');
  });
}

export const picomp = (args: string[], opts?: Parameters<typeof runNode>[1]): Promise<Run> => runNode([PICOMP, ...args], opts);

/** stderr is exactly one line (the sentence a user acts on), no stack trace. */
export function oneLine(r: Run): boolean {
  return r.err.trim().split('\n').length === 1 && !/\n\s+at /.test(r.err);
}
