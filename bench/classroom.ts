/**
 * Classroom scale (SPEC §5, §6): simulated units (the real unit core and
 * MQTT client, synthetic meters at 20 Hz; src/classroom/sim-unit.ts) in
 * child processes on one hub, and a teacher client in this process.
 *
 * - class setting → every unit's `ack` (and a one-off all/set → every
 *   unit's `state`), p50/p99 over all units and rounds, at N = 30, 100, 300;
 * - the hub's CPU (share of one core) and RSS with 300 units sending 20 Hz
 *   meters, from /proc/<pid>/stat and status;
 * - the teacher's console page in Chromium with 30 units (the room view, and
 *   with one unit shown large at 20 Hz);
 * - the same on the embedded Aedes broker (src/mqtt/broker.ts), run alone in
 *   a child process (`node dist/bench/classroom.js aedes-hub`).
 *
 * The hub is the shipped hub/mosquitto.conf when it exists (its listener
 * moved to a free loopback port, persistence to a temporary folder and, as
 * the simulated units have no accounts, logins off), else a Mosquitto with
 * set_tcp_nodelay. BENCH_CLASSROOM_SIZES=30,100 picks the room sizes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { startBroker } from '../src/mqtt/broker.js';
import { exitWithParent } from '../src/classroom/sim-unit.js';
import { memoryLogger } from '../src/log.js';
import { freePort } from '../test/helpers/free-port.js';
import { MOSQUITTO_BIN } from '../test/helpers/mosquitto.js';
import { openPage } from '../test/helpers/browser.js';
import { startConsole } from '../test/helpers/classroom-console.js';

const here = dirname(fileURLToPath(import.meta.url));
const SIM_JS = resolve(here, '../src/classroom/sim-unit.js');
const SELF_JS = fileURLToPath(import.meta.url);
const HUB_CONF = resolve(here, '../../hub/mosquitto.conf');
const UNITS_PER_PROCESS = 100;
const CLK_TCK = 100;

export type Row = [figure: string, value: string];

interface Hub {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function waitForLine(child: ChildProcess, re: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolveLine, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no "${re.source}" within ${timeoutMs} ms: ${out.slice(-300)}`)), timeoutMs);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = re.exec(out);
      if (m) { clearTimeout(timer); child.stdout!.off('data', onData); resolveLine(m[0]); }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`exited with ${code}: ${out.slice(-300)}`)); });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(timer);
}

/** The shipped hub configuration, made runnable here; or a minimal one with Nagle off. */
function mosquittoConf(port: number, dataDir: string): { text: string; shipped: boolean } {
  if (existsSync(HUB_CONF)) {
    const lines = readFileSync(HUB_CONF, 'utf8').split('\n').filter((l) => !/^\s*(listener|protocol|password_file|acl_file|allow_anonymous|persistence_location|log_dest|log_type|connection_messages)\b/.test(l));
    return {
      text: [`listener ${port} 127.0.0.1`, 'allow_anonymous true', `persistence_location ${dataDir}/`, 'log_dest stderr', 'log_type error', ...lines, ''].join('\n'),
      shipped: true,
    };
  }
  return { text: [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'set_tcp_nodelay true', 'persistence false', 'log_dest stderr', 'log_type error', ''].join('\n'), shipped: false };
}

async function startMosquittoHub(): Promise<Hub & { shipped: boolean }> {
  const dir = await mkdtemp(join(tmpdir(), 'picomp-bench-hub-'));
  const port = await freePort();
  const conf = mosquittoConf(port, dir);
  await writeFile(join(dir, 'mosquitto.conf'), conf.text);
  const child = spawn(MOSQUITTO_BIN, ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const url = `mqtt://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try { await (await mqtt.connectAsync(url, { reconnectPeriod: 0 })).endAsync(); break; } catch (e) {
      if (i > 200 || child.exitCode !== null) throw new Error(`mosquitto did not start: ${(e as Error).message}`);
      await sleep(25);
    }
  }
  return {
    name: conf.shipped ? 'Mosquitto (hub/mosquitto.conf)' : 'Mosquitto (nodelay)', shipped: conf.shipped, url, port, pid: child.pid!,
    async stop() { await stopChild(child); await rm(dir, { recursive: true, force: true }); },
  };
}

async function startAedesHub(): Promise<Hub> {
  const child = spawn(process.execPath, [SELF_JS, 'aedes-hub'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const line = await waitForLine(child, /listening (\d+)/, 20_000);
  const port = Number(/(\d+)/.exec(line)![1]);
  return {
    name: 'Aedes (embedded broker)', url: `mqtt://127.0.0.1:${port}`, port, pid: child.pid!,
    stop: () => stopChild(child),
  };
}

/** CPU seconds (user + system) and RSS of a process, from /proc. */
function procUsage(pid: number): { cpuS: number; rssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuS = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuS, rssMb: rss ? Number(rss[1]) / 1024 : NaN };
}

async function startUnits(hub: Hub, count: number, prefix: string): Promise<ChildProcess[]> {
  const children: ChildProcess[] = [];
  try {
    for (let i = 0; i < count; i += UNITS_PER_PROCESS) {
      const n = Math.min(UNITS_PER_PROCESS, count - i);
      const child = spawn(process.execPath, [SIM_JS, '--broker', hub.url, '--count', String(n), '--prefix', `${prefix}${i / UNITS_PER_PROCESS}-`, '--exit-with-parent'], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      await waitForLine(child, /ready \d+/, 120_000);
    }
  } catch (e) {
    await Promise.all(children.map(stopChild));
    throw e;
  }
  return children;
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

/**
 * Rounds of "teacher publishes, every unit answers": the time from the
 * publication to each unit's answer, over all units and rounds.
 */
async function rounds(teacher: MqttClient, ids: Set<string>, rounds: number, publish: (round: number) => Promise<void>,
  answered: (topic: string, doc: Record<string, unknown>, round: number) => string | null): Promise<{ samples: number[]; missing: number }> {
  const samples: number[] = [];
  let missing = 0;
  for (let r = 1; r <= rounds; r++) {
    const waiting = new Set(ids);
    let t0 = 0;
    const done = new Promise<void>((resolveRound) => {
      const onMsg = (topic: string, payload: Buffer): void => {
        if (!payload.length) return;
        let doc: Record<string, unknown>;
        try { doc = JSON.parse(payload.toString()) as Record<string, unknown>; } catch { return; }
        const unit = answered(topic, doc, r);
        if (unit && waiting.delete(unit)) samples.push(performance.now() - t0);
        if (waiting.size === 0) finish();
      };
      const timer = setTimeout(() => finish(), 5000);
      const finish = (): void => { clearTimeout(timer); teacher.off('message', onMsg); resolveRound(); };
      teacher.on('message', onMsg);
    });
    t0 = performance.now();
    await publish(r);
    await done;
    missing += waiting.size;
    await sleep(150);
  }
  return { samples, missing };
}

const ms = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');

async function latencyAt(hub: Hub, n: number, roundCount: number, add: (f: string, v: string) => void): Promise<ChildProcess[]> {
  const prefix = `n${n}x`;
  const children = await startUnits(hub, n, prefix);
  const teacher = await mqtt.connectAsync(hub.url, { reconnectPeriod: 0, clientId: `bench-teacher-${n}` });
  (teacher.stream as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
  try {
    const ids = new Set<string>();
    // Listening before subscribing: a broker may send the retained states before its SUBACK.
    teacher.on('message', (t) => { const u = t.split('/')[1]!; if (u.startsWith(prefix)) ids.add(u); });
    await teacher.subscribeAsync([`picomp/+/ack`, `picomp/+/state`], { qos: 1 });
    const deadline = Date.now() + 30_000;
    while (ids.size < n && Date.now() < deadline) await sleep(50);
    if (ids.size < n) throw new Error(`only ${ids.size} of ${n} units announced themselves`);
    const unitOf = (topic: string, leaf: string): string | null => {
      const [, unit, l] = topic.split('/');
      return l === leaf && unit!.startsWith(prefix) ? unit! : null;
    };
    const base = 1_000_000 + n * 1000;
    const value = (r: number): number => -20 - (r % 2);
    const desired = await rounds(teacher, ids, roundCount,
      (r) => teacher.publishAsync('picomp/class/desired', JSON.stringify({ rev: base + r, params: { threshold: value(r) } }), { qos: 1, retain: true }).then(() => undefined),
      (topic, doc, r) => (doc.rev === base + r ? unitOf(topic, 'ack') : null));
    const label = `${hub.name}, N = ${n}`;
    if (desired.samples.length === 0) add(`${label}: class setting → ack (ms p50 / p99)`, 'n/a: the units sent no ack');
    else add(`${label}: class setting → ack, ms p50 / p99 (goal p99 < 100 at 30)${desired.missing ? `, ${desired.missing} missing` : ''}`, `${ms(quantile(desired.samples, 0.5))} / ${ms(quantile(desired.samples, 0.99))}`);
    // Leave the room without a class setting, so the one-off commands are not fought by it.
    await teacher.publishAsync('picomp/class/desired', '', { qos: 1, retain: true });
    await sleep(300);
    const once = await rounds(teacher, ids, roundCount,
      (r) => teacher.publishAsync('picomp/all/set', JSON.stringify({ ratio: 2 + (r % 2) }), { qos: 1 }).then(() => undefined),
      (topic, doc, r) => (doc.ratio === 2 + (r % 2) ? unitOf(topic, 'state') : null));
    add(`${label}: all/set → every state, ms p50 / p99${once.missing ? `, ${once.missing} missing` : ''}`, `${ms(quantile(once.samples, 0.5))} / ${ms(quantile(once.samples, 0.99))}`);
  } catch (e) {
    await Promise.all(children.map(stopChild));
    throw e;
  } finally {
    await teacher.endAsync(true);
  }
  return children;
}

async function hubLoad(hub: Hub, seconds: number, add: (f: string, v: string) => void, n: number): Promise<void> {
  await sleep(2000);
  const u0 = procUsage(hub.pid);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const u1 = procUsage(hub.pid);
  const wallS = (performance.now() - t0) / 1000;
  add(`${hub.name}, ${n} units at 20 Hz meters: hub CPU % of one core / RSS MB`, `${((100 * (u1.cpuS - u0.cpuS)) / wallS).toFixed(1)} / ${u1.rssMb.toFixed(1)}`);
  // What the units really offered the hub meanwhile (a loaded machine may slow the simulated
  // units down): counted by a subscriber afterwards, apart from the CPU figure.
  const counter = await mqtt.connectAsync(hub.url, { reconnectPeriod: 0 });
  try {
    let count = 0;
    counter.on('message', () => { count++; });
    await counter.subscribeAsync('picomp/+/meters', { qos: 0 });
    await sleep(1000);
    count = 0;
    await sleep(3000);
    add(`${hub.name}, ${n} units: meter messages through the hub per second (${n * 20} offered at 20 Hz)`, (count / 3).toFixed(0));
  } finally {
    await counter.endAsync(true);
  }
}

/** The console page's cost with the room's units on the hub, measured as bench/dashboard.ts does. */
async function consoleCost(hub: Hub, n: number, seconds: number, add: (f: string, v: string) => void): Promise<void> {
  const { console: c, url } = await startConsole(hub.port);
  const open = await openPage(url);
  try {
    const { page, context } = open;
    await page.waitForSelector(`.cc[data-online="${n}"]`, { timeout: 60_000 });
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    const browserCdp = await open.browser.newBrowserCDPSession();
    const measure = async (): Promise<{ task: number; renderer: number }> => {
      const m = await cdp.send('Performance.getMetrics');
      const p = await browserCdp.send('SystemInfo.getProcessInfo') as { processInfo: { type: string; cpuTime: number }[] };
      return {
        task: m.metrics.find((x) => x.name === 'TaskDuration')?.value ?? 0,
        renderer: p.processInfo.filter((x) => x.type === 'renderer').reduce((s, x) => s + x.cpuTime, 0),
      };
    };
    const window = async (what: string): Promise<void> => {
      await page.waitForTimeout(2000);
      const a = await measure();
      const t0 = performance.now();
      await page.waitForTimeout(seconds * 1000);
      const b = await measure();
      const wallS = (performance.now() - t0) / 1000;
      add(`console page, ${n} units, ${what}: main thread / renderer CPU % of one core`, `${((100 * (b.task - a.task)) / wallS).toFixed(1)} / ${((100 * (b.renderer - a.renderer)) / wallS).toFixed(1)}`);
    };
    await window('room view (1 Hz levels)');
    await page.locator('.cc-card').first().getByRole('button', { name: 'Large', exact: true }).click();
    await page.waitForFunction(() => Number((globalThis as unknown as { document: { querySelector(s: string): { dataset: { frames?: string } } | null } })
      .document.querySelector('.cc-large')?.dataset.frames) > 5, undefined, { timeout: 30_000 });
    await window('one unit large (20 Hz meters)');
  } finally {
    await open.close();
    await c.stop();
  }
}

export async function benchClassroom(opts: { quick: boolean; sizes?: number[] }): Promise<Row[]> {
  const rows: Row[] = [];
  const add = (f: string, v: string): void => { rows.push([f, v]); process.stdout.write(`classroom  ${f.padEnd(58)} ${v}\n`); };
  const sizes = opts.sizes ?? (process.env.BENCH_CLASSROOM_SIZES ? process.env.BENCH_CLASSROOM_SIZES.split(',').map(Number) : [30, 100, 300]);
  const roundCount = opts.quick ? 5 : 20;
  const seconds = opts.quick ? 5 : 15;
  for (const start of [startMosquittoHub, startAedesHub]) {
    const hub = await start();
    try {
      for (const n of sizes) {
        let children: ChildProcess[] = [];
        try {
          children = await latencyAt(hub, n, roundCount, add);
          if (n === sizes[sizes.length - 1]) await hubLoad(hub, seconds, add, n);
          if (n === 30 && start === startMosquittoHub) await consoleCost(hub, n, seconds, add);
        } catch (e) {
          add(`${hub.name}, N = ${n}`, `failed: ${(e as Error).message.split('\n')[0]}`);
        } finally {
          await Promise.all(children.map(stopChild));
        }
      }
    } finally {
      await hub.stop();
    }
  }
  return rows;
}

// `node dist/bench/classroom.js aedes-hub` runs the embedded broker alone (the bench's Aedes hub);
// `node dist/bench/classroom.js [quick]` runs this section.
if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv[2] === 'aedes-hub') {
    const broker = await startBroker({ mqttPort: 0, wsPort: null, host: '127.0.0.1', allowAnonymous: true, maxClients: 2000, log: memoryLogger() });
    process.stdout.write(`listening ${broker.mqttPort}\n`);
    const stop = (): void => { void broker.close().then(() => process.exit(0)); };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    exitWithParent(stop);
  } else {
    await benchClassroom({ quick: process.argv[2] === 'quick' });
  }
}
