/**
 * The unit under MQTT load: a real `picomp start` (demo → null, embedded
 * broker) in a child process, N clients subscribed to its meters. Reports
 * how steady the meter rate is as each subscriber sees it, and the unit
 * process's CPU (engine + broker + MQTT client) from /proc, with and
 * without the subscribers, so the broker's share can be read off.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { freePort } from '../test/helpers/free-port.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

export interface MeterLoadFigures {
  subscribers: number;
  seconds: number;
  /** Meter messages per second, mean over subscribers. */
  rateHz: number;
  /** Gaps between meter messages at one subscriber, ms. */
  gapP50Ms: number;
  gapP99Ms: number;
  gapMaxMs: number;
  /** Unit process CPU, % of one core, while idle of subscribers and while loaded. */
  unitCpuIdlePercent: number;
  unitCpuLoadedPercent: number;
}


function cpuTicks(pid: number): number {
  // Fields after the parenthesised command name; utime and stime are 14th and 15th overall.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

async function cpuPercentOver(pid: number, seconds: number): Promise<number> {
  const t0 = cpuTicks(pid), w0 = Date.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  return ((cpuTicks(pid) - t0) / TICKS_PER_SECOND) / ((Date.now() - w0) / 1000) * 100;
}

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

export async function benchMeterLoad(seconds = 60, subscribers = 10): Promise<MeterLoadFigures> {
  const dir = await mkdtemp(join(tmpdir(), 'picomp-bench-mqtt-'));
  const port = await freePort();
  const unit = spawn(process.execPath, [CLI, 'start', '--unit', 'bench', '--input', 'demo', '--output', 'null',
    '--mqtt-port', String(port), '--ws-port', '0', '--listen', '127.0.0.1', '--state-dir', dir, '--ha-discovery', 'false'],
  { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  unit.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  try {
    const deadline = Date.now() + 20_000;
    while (!/running picomp/.test(err)) {
      if (Date.now() > deadline || unit.exitCode !== null) throw new Error(`the unit did not start: ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const idle = await cpuPercentOver(unit.pid!, Math.min(10, seconds));
    const clients = await Promise.all(Array.from({ length: subscribers }, () => mqtt.connectAsync(`mqtt://127.0.0.1:${port}`)));
    const arrivals: number[][] = clients.map(() => []);
    clients.forEach((c, i) => c.on('message', () => arrivals[i]!.push(performance.now())));
    await Promise.all(clients.map((c) => c.subscribeAsync('picomp/bench/meters')));
    const loaded = await cpuPercentOver(unit.pid!, seconds);
    await Promise.all(clients.map((c) => c.endAsync()));
    const gaps = arrivals.flatMap((a) => a.slice(1).map((t, k) => t - a[k]!)).sort((a, b) => a - b);
    const rates = arrivals.map((a) => (a.length > 1 ? ((a.length - 1) / (a.at(-1)! - a[0]!)) * 1000 : 0));
    return {
      subscribers, seconds,
      rateHz: rates.reduce((s, x) => s + x, 0) / rates.length,
      gapP50Ms: quantile(gaps, 0.5), gapP99Ms: quantile(gaps, 0.99), gapMaxMs: gaps.at(-1) ?? NaN,
      unitCpuIdlePercent: idle, unitCpuLoadedPercent: loaded,
    };
  } finally {
    unit.kill('SIGTERM');
    await new Promise((r) => unit.once('exit', r));
    await rm(dir, { recursive: true, force: true });
  }
}
