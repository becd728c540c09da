/**
 * A real NATS cluster with MQTT for tests: `nats-server` nodes on loopback
 * ports from freePort(), configs and JetStream stores in a temp dir, each
 * node with a server_name (NATS's MQTT needs JetStream, and JetStream in a
 * cluster needs names). Every node is killed by its pid at stop().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { freePort } from './free-port.js';

export const NATS_BIN = process.env.NATS_BIN ?? '/usr/sbin/nats-server';

/** A cluster forms in seconds; a loaded machine gets a minute before start() gives up (and cleans up). */
const READY_TIMEOUT_MS = 60_000;

interface NatsNode {
  readonly name: string;
  readonly clientPort: number;
  readonly clusterPort: number;
  readonly mqttPort: number;
  child: ChildProcess | null;
  output: string;
}

export class NatsCluster {
  private constructor(readonly dir: string, readonly nodes: NatsNode[]) {}

  /** mqtt://127.0.0.1:<port> of node i. */
  url(i: number): string { return `mqtt://127.0.0.1:${this.nodes[i]!.mqttPort}`; }

  static async start(size = 3): Promise<NatsCluster> {
    const dir = await mkdtemp(join(tmpdir(), 'picomp-nats-'));
    const nodes: NatsNode[] = [];
    for (let i = 0; i < size; i++) {
      nodes.push({ name: `n${i + 1}`, clientPort: await freePort(), clusterPort: await freePort(), mqttPort: await freePort(), child: null, output: '' });
    }
    const cluster = new NatsCluster(dir, nodes);
    try {
      for (const n of nodes) {
        const routes = nodes.filter((o) => o !== n).map((o) => `nats-route://127.0.0.1:${o.clusterPort}`);
        await writeFile(join(dir, `${n.name}.conf`), [
          `server_name: ${n.name}`,
          `listen: 127.0.0.1:${n.clientPort}`,
          `jetstream { store_dir: "${join(dir, n.name)}", max_memory_store: 64MB, max_file_store: 256MB }`,
          `cluster { name: picomp-test, listen: 127.0.0.1:${n.clusterPort}, routes: [${routes.join(', ')}] }`,
          // Retained messages and sessions live in JetStream streams replicated on every node.
          `mqtt { listen: 127.0.0.1:${n.mqttPort}, stream_replicas: ${size} }`,
          '',
        ].join('\n'));
      }
      for (let i = 0; i < size; i++) cluster.#spawn(i);
      const deadline = Date.now() + READY_TIMEOUT_MS;
      for (let i = 0; i < size; i++) await cluster.waitReady(i, deadline);
    } catch (e) {
      await cluster.stop();
      throw e;
    }
    return cluster;
  }

  #spawn(i: number): void {
    const n = this.nodes[i]!;
    const child = spawn(NATS_BIN, ['-c', join(this.dir, `${n.name}.conf`)], { stdio: ['ignore', 'pipe', 'pipe'] });
    n.output = '';
    const keep = (d: Buffer): void => { n.output = (n.output + d.toString()).slice(-20_000); };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    n.child = child;
  }

  /**
   * Waits until node i accepts an MQTT client and a subscription (its
   * JetStream assets exist, which needs a cluster quorum).
   */
  async waitReady(i: number, deadline = Date.now() + READY_TIMEOUT_MS): Promise<void> {
    const n = this.nodes[i]!;
    let last = '';
    while (Date.now() < deadline) {
      if (n.child?.exitCode !== null && n.child?.exitCode !== undefined) throw new Error(`nats-server ${n.name} exited (${n.child.exitCode}): ${n.output.slice(-2000)}`);
      try {
        const c = await mqtt.connectAsync(this.url(i), { reconnectPeriod: 0, connectTimeout: 3000, clientId: `ready-${n.name}-${Date.now()}` });
        try {
          await c.subscribeAsync('ready/probe', { qos: 1 });
          return;
        } finally {
          await c.endAsync(true);
        }
      } catch (e) {
        last = (e as Error).message;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    throw new Error(`nats-server ${n.name} did not accept MQTT within ${READY_TIMEOUT_MS / 1000} s (${last}): ${n.output.slice(-2000)}`);
  }

  /**
   * Waits until node i stores and serves a retained message (NATS keeps
   * them in a JetStream stream whose leader may still be in election after
   * a node died, while plain subscriptions already work); clears it after.
   */
  async waitRetained(i: number, deadline = Date.now() + READY_TIMEOUT_MS): Promise<void> {
    const n = this.nodes[i]!;
    const topic = `ready/retained/${n.name}`;
    let last = '';
    while (Date.now() < deadline) {
      const token = `${Date.now()}-${Math.random()}`;
      const clients: mqtt.MqttClient[] = [];
      try {
        const pub = await mqtt.connectAsync(this.url(i), { reconnectPeriod: 0, connectTimeout: 3000 });
        clients.push(pub);
        // A stream without a leader leaves the PUBACK out: give up on this try after 3 s.
        const acked = await Promise.race([pub.publishAsync(topic, token, { qos: 1, retain: true }).then(() => true),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 3000))]);
        if (!acked) throw new Error('the retained message was not acknowledged');
        const sub = await mqtt.connectAsync(this.url(i), { reconnectPeriod: 0, connectTimeout: 3000 });
        clients.push(sub);
        const seen = new Promise<boolean>((resolve) => {
          sub.on('message', (_t, payload) => { if (payload.toString() === token) resolve(true); });
          setTimeout(() => resolve(false), 3000);
        });
        await sub.subscribeAsync(topic, { qos: 0 });
        if (await seen) {
          await pub.publishAsync(topic, '', { qos: 1, retain: true });
          return;
        }
        last = 'the retained message did not come back';
      } catch (e) {
        last = (e as Error).message;
      } finally {
        for (const c of clients) await c.endAsync(true).catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`nats-server ${n.name} did not keep a retained message within ${READY_TIMEOUT_MS / 1000} s (${last}): ${n.output.slice(-2000)}`);
  }

  /** SIGKILL node i: no goodbye to its clients or peers. */
  async kill(i: number): Promise<void> {
    const child = this.nodes[i]!.child;
    this.nodes[i]!.child = null;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  async stop(): Promise<void> {
    for (let i = 0; i < this.nodes.length; i++) await this.kill(i);
    await rm(this.dir, { recursive: true, force: true });
  }
}
