/**
 * A room for tests: in-process units (the real UnitState and UnitClient,
 * no audio), `picomp class …` and `picomp start …` as child processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { memoryLogger } from '../../src/log.js';
import { startUnitClient, type UnitClient, type UnitClientOptions } from '../../src/mqtt/unit-client.js';
import { MeterPump } from '../../src/unit/meter-pump.js';
import { UnitState } from '../../src/unit/unit-state.js';

export const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface TestUnit {
  readonly id: string;
  readonly state: UnitState;
  readonly client: UnitClient;
  readonly log: ReturnType<typeof memoryLogger>;
  stop(): Promise<void>;
}

export async function startTestUnit(url: string, id: string, extra: Partial<UnitClientOptions> = {}): Promise<TestUnit> {
  const log = memoryLogger();
  const state = await UnitState.load({ stateDir: null, log });
  const meters = new MeterPump({ rateHz: 5, read: () => null, log });
  const client = await startUnitClient({
    url, unitId: id, baseTopic: 'picomp', state, log, haDiscovery: false, info: () => ({ version: 'test' }), meters, ...extra,
  });
  return { id, state, client, log, stop: () => client.stop() };
}

export interface Run { code: number; stdout: string; stderr: string }

/** Runs `picomp ARGS` to its end (bounded: 30 s). */
export function picomp(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, PICOMP_LOG: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`picomp ${args.join(' ')} did not finish: ${stderr}`)); }, 30_000);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code: code ?? -1, stdout, stderr }); });
  });
}

/** A running `picomp start` child; `lines` holds its stderr. */
export interface UnitProcess { readonly child: ChildProcess; output(): string; exited: Promise<number> }

export function spawnUnit(args: string[], env: NodeJS.ProcessEnv = {}): UnitProcess {
  const child = spawn(process.execPath, [MAIN, 'start', '--input', 'demo', '--output', 'null', '--no-ha-discovery', ...args], {
    env: { ...process.env, PICOMP_LOG: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : -1))));
  return { child, output: () => out, exited };
}

export async function killUnit(u: UnitProcess | null, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!u || u.child.exitCode !== null || u.child.signalCode !== null) return;
  u.child.kill(signal);
  await u.exited;
}

/** Polls `check` until true; bounded, with the last state in the failure message. */
export async function eventually(check: () => boolean, what: string | (() => string), timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
