/**
 * Test brokers and clients: a real Mosquitto spawned on a free loopback
 * port (generated config in a temp dir, anonymous, no persistence), and a
 * Probe client that records messages and waits for them with a timeout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { freePort } from './free-port.js';
export { freePort };

export const MOSQUITTO_BIN = process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto';


function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ port, host: '127.0.0.1' });
    sock.once('connect', () => { sock.destroy(); resolve(true); });
    sock.once('error', () => resolve(false));
  });
}

export class Mosquitto {
  #child: ChildProcess | null = null;
  #output = '';

  private constructor(readonly dir: string, readonly port: number) {}

  get url(): string { return `mqtt://127.0.0.1:${this.port}`; }

  /** `config` writes another configuration (e.g. the shipped hub's) for this port and dir. */
  static async start(config?: (port: number, dir: string) => Promise<string> | string): Promise<Mosquitto> {
    const dir = await mkdtemp(join(tmpdir(), 'picomp-mosquitto-'));
    const m = new Mosquitto(dir, await freePort());
    await writeFile(join(dir, 'mosquitto.conf'), config ? await config(m.port, dir) : [
      `listener ${m.port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n'));
    await m.restart();
    return m;
  }

  /** Starts (again) on the same port; retained messages from before are gone. */
  async restart(): Promise<void> {
    await this.kill();
    const child = spawn(MOSQUITTO_BIN, ['-c', join(this.dir, 'mosquitto.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => { this.#output += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { this.#output += d.toString(); });
    this.#child = child;
    for (let i = 0; i < 200; i++) {
      if (child.exitCode !== null) throw new Error(`mosquitto exited at start (code ${child.exitCode}): ${this.#output}`);
      if (await canConnect(this.port)) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`mosquitto did not listen on ${this.port}: ${this.#output}`);
  }

  /** SIGHUP: Mosquitto reads its password and ACL files again. */
  reload(): void {
    this.#child?.kill('SIGHUP');
  }

  async kill(): Promise<void> {
    const child = this.#child;
    this.#child = null;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  async stop(): Promise<void> {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }
}


export interface Received {
  readonly topic: string;
  readonly text: string;
  readonly retain: boolean;
}

export class Probe {
  readonly messages: Received[] = [];
  #waiters: { pred: (m: Received) => boolean; resolve: (m: Received) => void }[] = [];

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const m = { topic, text: payload.toString('utf8'), retain: packet.retain };
      this.messages.push(m);
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.pred(m)) return true;
        w.resolve(m);
        return false;
      });
    });
  }

  static async connect(url: string, opts: IClientOptions = {}): Promise<Probe> {
    const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
    return new Probe(client);
  }

  async subscribe(filter: string | string[]): Promise<void> {
    await this.client.subscribeAsync(filter, { qos: 1 });
  }

  /**
   * Resolves with the first message matching pred among those recorded from
   * index `since` on (default: all, since retained messages may land before
   * subscribe() returns), or the next one to arrive.
   */
  next(pred: (m: Received) => boolean, timeoutMs = 3000, since = 0): Promise<Received> {
    const seen = this.messages.slice(since).find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.resolve !== done);
        reject(new Error(`no matching MQTT message within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (m: Received): void => { clearTimeout(timer); resolve(m); };
      this.#waiters.push({ pred, resolve: done });
    });
  }

  onTopic(topic: string, timeoutMs?: number, since?: number): Promise<Received> {
    return this.next((m) => m.topic === topic, timeoutMs, since);
  }

  count(topic: string, since = 0): number {
    return this.messages.slice(since).filter((m) => m.topic === topic).length;
  }

  async publish(topic: string, payload: string | Buffer, opts: { retain?: boolean; qos?: 0 | 1 } = {}): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: opts.qos ?? 1, retain: opts.retain ?? false });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
