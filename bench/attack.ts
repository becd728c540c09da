/**
 * The unit under attack (SPEC §6: RSS under 100 MB and flat under every
 * flood): a real `picomp start` (demo → null, embedded broker, users
 * required) in a child process, with the node flags and allocator settings
 * of hardware/picomp.service, hit by one flood at a time from loopback,
 * as a student on the LAN would. For each: the unit's RSS (peak and at the
 * end, from /proc) and the meter rate a logged-in subscriber sees.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { freePort } from '../test/helpers/free-port.js';
import { upsertUser } from '../src/mqtt/users.js';
import { usersFile } from '../src/unit/state-dir.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const UNIT = 'bench-attack';
const ADMIN = { username: 'ada', password: 'bench-admin-pass' };
/** A student's account: may subscribe to anything, publish nothing. */
const VIEWER = { username: 'vic', password: 'bench-viewer-pass' };

export interface AttackFigures {
  flood: string;
  rssPeakMb: number;
  rssEndMb: number;
  meterHz: number;
  /** What the flood managed to send, in its own unit. */
  sent: string;
}

function statusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
const rssMb = (pid: number): number => statusMb(pid, 'VmRSS');

/**
 * Restarts the kernel's peak-RSS mark (VmHWM), so a peak shorter than the
 * sampling period (one 30 ms scrypt) is still seen; false where not allowed.
 */
function resetPeakMark(pid: number): boolean {
  try { writeFileSync(`/proc/${pid}/clear_refs`, '5'); return true; } catch { return false; }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function announcePublish(length: number): Buffer {
  const bytes = [0x30];
  let n = length;
  do { let b = n % 128; n = Math.floor(n / 128); if (n > 0) b |= 0x80; bytes.push(b); } while (n > 0);
  return Buffer.from(bytes);
}

function rawSocket(port: number, localAddress: string): Promise<Socket | null> {
  return new Promise((resolve) => {
    const s = netConnect({ port, host: '127.0.0.1', localAddress }, () => resolve(s));
    s.once('error', () => resolve(null));
  });
}

type Flood = (port: number, until: number) => Promise<string>;

/**
 * A flooding client: publish() settles when the broker acknowledged, or
 * once the broker has cut the client off (its rate limit), whichever comes first.
 */
async function flooder(port: number): Promise<{ publish(topic: string, payload: string | Buffer, retain?: boolean): Promise<void>; readonly cutOff: boolean; end(): Promise<void> }> {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { ...ADMIN, reconnectPeriod: 0 });
  let cutOff = false;
  const closed = new Promise<void>((resolve) => c.once('close', () => { cutOff = true; resolve(); }));
  return {
    publish: async (topic, payload, retain = false) => { await Promise.race([c.publishAsync(topic, payload, { qos: 1, retain }).catch(() => undefined), closed]); },
    get cutOff() { return cutOff; },
    end: async () => { c.end(true); },
  };
}

/** Each flood runs until `until` (ms epoch), bounded in connections, and says how much it sent. */
const FLOODS: [string, Flood][] = [
  ['none (baseline)', async (_port, until) => { await sleep(until - Date.now()); return '-'; }],
  ['announced 250 MB PUBLISH packets', async (port, until) => {
    let n = 0;
    const junk = Buffer.alloc(64 * 1024, 0x41);
    while (Date.now() < until) {
      const batch = await Promise.all(Array.from({ length: 20 }, (_, i) => rawSocket(port, `127.0.0.${20 + i}`)));
      for (const s of batch) { s?.on('error', () => undefined); s?.write(announcePublish(250_000_000)); s?.write(junk); n++; }
      await sleep(50);
      for (const s of batch) s?.destroy();
    }
    return `${n} packets`;
  }],
  ['idle sockets that never send CONNECT', async (port, until) => {
    const held: Socket[] = [];
    for (let i = 0; i < 1000 && Date.now() < until; i++) {
      const s = await rawSocket(port, `127.0.1.${i % 250}`);
      if (s) { s.on('error', () => undefined); held.push(s); }
    }
    const open = (): number => held.filter((s) => !s.destroyed).length;
    await sleep(500);
    const kept = open();
    await sleep(until - Date.now());
    held.forEach((s) => s.destroy());
    return `1000 opened, ${kept} kept waiting`;
  }],
  ['persistent sessions left behind + QoS 1 flood', async (port, until) => {
    const url = `mqtt://127.0.0.1:${port}`;
    for (let i = 0; i < 50; i++) {
      const c = await mqtt.connectAsync(url, { ...ADMIN, clientId: `sleeper-${i}`, clean: false, reconnectPeriod: 0 });
      await c.subscribeAsync('flood/#', { qos: 1 });
      await c.endAsync();
    }
    const pub = await flooder(port);
    const payload = Buffer.alloc(4096, 0x42);
    let n = 0;
    while (Date.now() < until && !pub.cutOff) { await pub.publish(`flood/${n % 100}`, payload); n++; }
    await pub.end();
    return `50 sessions, ${n} messages of 4 KB${pub.cutOff ? ', then cut off' : ''}`;
  }],
  ['retained messages (60 KB each, new topics)', async (port, until) => {
    const pub = await flooder(port);
    const payload = Buffer.alloc(60 * 1024, 0x43);
    let n = 0;
    while (Date.now() < until && n < 5000 && !pub.cutOff) { await pub.publish(`junk/${n}`, payload, true); n++; }
    await pub.end();
    return `${n} topics${pub.cutOff ? ', then cut off' : ''}`;
  }],
  ['set storm (random thresholds, QoS 0)', async (port, until) => {
    // Reconnects whenever the broker cuts it off, as a determined script would.
    let n = 0, cuts = 0;
    while (Date.now() < until) {
      const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { ...ADMIN, reconnectPeriod: 0 });
      while (Date.now() < until && pub.connected) {
        for (let i = 0; i < 100; i++, n++) pub.publish(`picomp/${UNIT}/set/threshold`, String(-Math.round(Math.random() * 60)), { qos: 0 });
        await sleep(10);
      }
      if (!pub.connected) cuts++;
      pub.end(true);
    }
    return `${n} sets, cut off ${cuts} times`;
  }],
  ['login flood (made-up names, 20 at a time)', async (port, until) => {
    let n = 0;
    while (Date.now() < until) {
      await Promise.all(Array.from({ length: 20 }, (_, i) => new Promise<void>((resolve) => {
        // Unknown names from the unit's own address: each takes a check's turn (no back-off key matches twice).
        const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { username: `guess-${n}-${i}`, password: 'x', reconnectPeriod: 0, connectTimeout: 5000 });
        const done = (): void => { c.end(true); resolve(); };
        c.once('connect', done); c.once('error', done); c.once('close', done);
      })));
      n += 20;
    }
    return `${n} logins`;
  }],
  ['login flood (wrong passwords for a real user, 20 at a time)', async (port, until) => {
    let n = 0;
    while (Date.now() < until) {
      await Promise.all(Array.from({ length: 20 }, (_, i) => new Promise<void>((resolve) => {
        // Guesses at the admin's password: each one that the back-off lets through is a real scrypt.
        const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { username: ADMIN.username, password: `guess-${n}-${i}`, reconnectPeriod: 0, connectTimeout: 5000 });
        const done = (): void => { c.end(true); resolve(); };
        c.once('connect', done); c.once('error', done); c.once('close', done);
      })));
      n += 20;
    }
    return `${n} logins`;
  }],
  ['long subscription filters (viewers, 60 KB filters, 4 at a time, reconnecting when cut off)', async (port, until) => {
    // Each filter is legal (16 levels, no wildcard abuse); only its length is large.
    const word = 'x'.repeat(3800);
    let held = 0, refused = 0, cuts = 0, c = 0;
    const conns: mqtt.MqttClient[] = [];
    while (Date.now() < until) {
      const cl = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { ...VIEWER, reconnectPeriod: 0 });
      conns.push(cl);
      c++;
      for (let i = 0; i < 1000 && Date.now() < until && cl.connected; i += 4) {
        const filters = Array.from({ length: 4 }, (_, k) => `f${c}-${i + k}/${Array.from({ length: 15 }, () => word).join('/')}`);
        // mqtt.js rejects a SUBACK with a refused filter; its codes come with the error. A closed connection settles it too.
        const codes = await Promise.race([
          cl.subscribeAsync(filters, { qos: 0 }).then((g) => g.map((x) => x.qos), (e: { packet?: { granted?: number[] } }) => e.packet?.granted ?? []),
          new Promise<number[]>((resolve) => cl.once('close', () => resolve([]))),
        ]);
        for (const q of codes) { if (q === 128) refused++; else held++; }
      }
      if (!cl.connected) cuts++;
      cl.end(true);
      if (conns.length > 200) break;
    }
    await sleep(Math.max(0, until - Date.now()));
    for (const cl of conns) cl.end(true);
    return `${held} filters of ${(16 * 3801 / 1024).toFixed(0)} KB held, ${refused} refused, ${cuts} connections cut`;
  }],
  ['login flood (made-up 16 KB user names, 20 addresses, own login between tries)', async (port, until) => {
    // Each address tries 3 made-up names (the back-off's free failures), then logs in with its own account, which clears the back-off.
    let n = 0, ok = 0;
    const login = (address: string, opts: mqtt.IClientOptions): Promise<boolean> => new Promise((resolve) => {
      const c = new mqtt.MqttClient(() => netConnect({ port, host: '127.0.0.1', localAddress: address }), { ...opts, reconnectPeriod: 0, connectTimeout: 5000 });
      const done = (r: boolean): void => { c.end(true); resolve(r); };
      c.once('connect', () => done(true)); c.once('error', () => done(false)); c.once('close', () => done(false));
    });
    await Promise.all(Array.from({ length: 20 }, async (_, a) => {
      const address = `127.0.3.${10 + a}`;
      while (Date.now() < until) {
        await Promise.all(Array.from({ length: 3 }, () => login(address, { username: `${n++}-${'u'.repeat(16_000)}`, password: 'x' })));
        if (await login(address, VIEWER)) ok++;
      }
    }));
    return `${n} made-up names, ${ok} own logins between`;
  }],
  ['slow readers (never read) under 256 KB publishes', async (port, until) => {
    // Subscribers that stop reading their socket, and a client (here the admin; in open mode anyone) publishing large messages they receive.
    const readers: Socket[] = [];
    for (let i = 0; i < 10; i++) {
      const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { ...VIEWER, reconnectPeriod: 0, clientId: `slow-${i}` });
      await c.subscribeAsync('big/#', { qos: 0 });
      const s = (c as unknown as { stream: Socket }).stream;
      s.pause();
      readers.push(s);
    }
    const payload = Buffer.alloc(250 * 1024, 0x44);
    let n = 0, cuts = 0;
    while (Date.now() < until) {
      const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { ...ADMIN, reconnectPeriod: 0 });
      while (Date.now() < until && pub.connected) {
        for (let i = 0; i < 20; i++, n++) pub.publish(`big/${n % 10}`, payload, { qos: 0 });
        await sleep(50);
      }
      if (!pub.connected) cuts++;
      pub.end(true);
    }
    // A paused socket never reads the broker's hang-up, so whether the readers were closed is in the unit's log, not here.
    readers.forEach((s) => s.destroy());
    return `${n} messages of 250 KB, publisher cut ${cuts} times`;
  }],
];

/** The node flags and allocator settings the shipped service runs the unit with (hardware/picomp.service). */
function serviceRuntime(): { nodeFlags: string[]; env: Record<string, string> } {
  const unitFile = readFileSync(fileURLToPath(new URL('../../hardware/picomp.service', import.meta.url)), 'utf8');
  const exec = /^ExecStart=\S+node((?:\s+--\S+)*)\s/m.exec(unitFile);
  const env: Record<string, string> = {};
  for (const m of unitFile.matchAll(/^Environment=(.+)$/gm)) {
    for (const kv of m[1]!.split(/\s+/)) {
      const [k, v] = kv.split('=');
      if (k && v && /^(UV_|MALLOC_)/.test(k)) env[k] = v;
    }
  }
  return { nodeFlags: exec?.[1]?.trim().split(/\s+/).filter(Boolean) ?? [], env };
}

export async function benchAttacks(secondsEach = 10): Promise<AttackFigures[]> {
  const dir = await mkdtemp(join(tmpdir(), 'picomp-bench-attack-'));
  await upsertUser(usersFile(dir), { name: ADMIN.username, role: 'admin', password: ADMIN.password });
  await upsertUser(usersFile(dir), { name: VIEWER.username, role: 'viewer', password: VIEWER.password });
  const port = await freePort();
  const runtime = serviceRuntime();
  const unit = spawn(process.execPath, [...runtime.nodeFlags, CLI, 'start', '--unit', UNIT, '--input', 'demo', '--output', 'null',
    '--mqtt-port', String(port), '--ws-port', '0', '--listen', '127.0.0.1', '--state-dir', dir, '--ha-discovery', 'false'],
  { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...runtime.env, PICOMP_LOG: 'warn' } });
  let err = '';
  unit.stderr.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000); });
  const figures: AttackFigures[] = [];
  try {
    const deadline = Date.now() + 20_000;
    const watcherUp = async (): Promise<mqtt.MqttClient> => {
      for (;;) {
        try { return await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { ...ADMIN, reconnectPeriod: 0 }); } catch (e) {
          if (Date.now() > deadline || unit.exitCode !== null) throw new Error(`the unit did not start: ${err || (e as Error).message}`);
          await sleep(200);
        }
      }
    };
    const watcher = await watcherUp();
    let meters = 0;
    watcher.on('message', () => { meters++; });
    await watcher.subscribeAsync(`picomp/${UNIT}/meters`);
    await sleep(2000);
    // BENCH_FLOODS=250,login runs only the floods whose names contain one of those words.
    const only = process.env.BENCH_FLOODS?.split(',');
    for (const [name, flood] of FLOODS.filter(([n], i) => i === 0 || !only || only.some((w) => n.includes(w)))) {
      const exactPeak = resetPeakMark(unit.pid!);
      let peak = rssMb(unit.pid!);
      const sampler = setInterval(() => { peak = Math.max(peak, rssMb(unit.pid!)); }, 200);
      const m0 = meters, t0 = Date.now();
      const sent = await flood(port, t0 + secondsEach * 1000).catch((e: Error) => `failed: ${e.message}`);
      // A flood that was cut off early still gets its whole period, so the meter rate is over the same span.
      await sleep(t0 + secondsEach * 1000 - Date.now());
      const hz = (meters - m0) / ((Date.now() - t0) / 1000);
      clearInterval(sampler);
      await sleep(1000);
      if (exactPeak) peak = Math.max(peak, statusMb(unit.pid!, 'VmHWM'));
      figures.push({ flood: name, rssPeakMb: Math.max(peak, rssMb(unit.pid!)), rssEndMb: rssMb(unit.pid!), meterHz: hz, sent });
    }
    await watcher.endAsync(true);
    return figures;
  } finally {
    unit.kill('SIGTERM');
    await new Promise((r) => unit.once('exit', r));
    await rm(dir, { recursive: true, force: true });
  }
}
