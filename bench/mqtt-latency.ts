/**
 * MQTT `set` → `state` echo latency on loopback (SPEC §5: p99 under 20 ms):
 * the embedded broker on a free port, a unit client over a UnitState kept
 * in memory, and a second client sending sequential sets, each waiting for
 * the state echo that carries its value.
 */
import mqtt from 'mqtt';
import { startBroker } from '../src/mqtt/broker.js';
import { MeterPump } from '../src/unit/meter-pump.js';
import { startUnitClient } from '../src/mqtt/unit-client.js';
import { UnitState } from '../src/unit/unit-state.js';
import { unitTopics } from '../src/mqtt/topics.js';
import { memoryLogger } from '../src/log.js';

export interface EchoLatency {
  p50Ms: number;
  p99Ms: number;
  n: number;
}

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

export async function benchSetEcho(n = 400): Promise<EchoLatency> {
  const log = memoryLogger();
  const broker = await startBroker({ mqttPort: 0, wsPort: null, host: '127.0.0.1', allowAnonymous: true, log });
  const state = await UnitState.load({ stateDir: null, log });
  const unit = await startUnitClient({
    url: broker.url, baseTopic: 'picomp', unitId: 'bench', state, log, haDiscovery: false,
    info: () => ({}), meters: new MeterPump({ rateHz: 20, read: () => null, log: memoryLogger() }),
  });
  const t = unitTopics('picomp', 'bench');
  const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  try {
    await client.subscribeAsync(t.state, { qos: 0 });
    let waiting: { value: number; resolve: () => void } | null = null;
    client.on('message', (_topic, payload) => {
      if (waiting && (JSON.parse(payload.toString()) as { threshold: number }).threshold === waiting.value) waiting.resolve();
    });
    const samples: number[] = [];
    // Warm-up rounds are not counted: the first sets pay for JIT compilation.
    for (let i = -20; i < n; i++) {
      const value = -60 + ((i + 20) % 120) * 0.5;
      const echoed = new Promise<void>((resolve) => { waiting = { value, resolve }; });
      const t0 = process.hrtime.bigint();
      client.publish(t.setParam('threshold'), String(value), { qos: 0 });
      await echoed;
      if (i >= 0) samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    samples.sort((a, b) => a - b);
    return { p50Ms: percentile(samples, 0.5), p99Ms: percentile(samples, 0.99), n: samples.length };
  } finally {
    await client.endAsync(true);
    await unit.stop();
    await broker.close();
  }
}

// Run directly: node dist/bench/mqtt-latency.js
if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchSetEcho();
  process.stdout.write(`MQTT set → state echo over ${r.n} sets: p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms (goal p99 < 20 ms)\n`);
}
