/**
 * The unit side of the dashboard tests, built from the real parts: the
 * embedded broker, UnitState and the unit's MQTT client, with a synthetic
 * meter source (levels that swell and fall, gain reduction computed from
 * the unit's current settings) instead of the audio engine. Plus Node-RED
 * with the dashboard flow on free ports.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { startBroker, type RunningBroker } from '../../src/mqtt/broker.js';
import { startUnitClient, type UnitClient } from '../../src/mqtt/unit-client.js';
import { MeterPump } from '../../src/unit/meter-pump.js';
import type { MeterReading } from '../../src/engine/audio-engine.js';
import { UnitState } from '../../src/unit/unit-state.js';
import { autoMakeupDb, staticGainDb } from '../../src/dsp/gain-computer.js';
import { memoryLogger, type Logger } from '../../src/log.js';
import { startDashboard, type RunningDashboard } from '../../src/dashboard/node-red.js';
import { freePort } from './free-port.js';
export { freePort };


export interface UnitSide {
  readonly unitId: string;
  readonly baseTopic: string;
  readonly broker: RunningBroker;
  readonly state: UnitState;
  readonly client: UnitClient;
  readonly log: Logger & { lines: string[] };
  /** Meter frames published so far. */
  frames(): number;
  stop(): Promise<void>;
}

/**
 * A stereo "programme": a level that swells between about -40 and -6 dBFS
 * every few seconds with short accents, so every panel has something to show.
 */
function syntheticMeters(state: UnitState, rateHz: number): () => MeterReading {
  let t = 0;
  let grDb = 0;
  let xruns = 0;
  return () => {
    t += 1 / rateHz;
    const p = state.params;
    const swell = -23 + 17 * Math.sin((2 * Math.PI * t) / 6);
    const accent = (t % 1.5) < 0.15 ? 8 : 0;
    const inPeak = Math.min(0, swell + accent);
    const inRms = inPeak - 9;
    const det = (p.detector === 'rms' ? inRms : inPeak) + p.input_gain;
    const target = staticGainDb(det, p.threshold, p.ratio, p.knee);
    // One-pole attack/release at the meter rate: enough to see both on the history.
    const tau = (target < grDb ? p.attack : p.release) / 1000;
    grDb += (target - grDb) * (1 - Math.exp(-1 / (Math.max(tau, 1e-4) * rateHz)));
    const makeup = p.makeup + (p.auto_makeup ? autoMakeupDb(p.threshold, p.ratio) : 0);
    const gain = p.bypass ? 0 : p.input_gain + grDb + makeup;
    const ceiling = p.limiter && !p.bypass ? p.ceiling : 0;
    const outPeak = Math.min(ceiling, inPeak + gain);
    const r1 = (x: number): number => Math.round(x * 10) / 10;
    if (t % 7 < 1 / rateHz) xruns++;
    const gr = p.bypass ? 0 : r1(grDb) || 0;
    return {
      in_peak: [r1(inPeak), r1(inPeak - 1.5)], in_rms: [r1(inRms), r1(inRms - 1.5)],
      out_peak: [r1(outPeak), r1(outPeak - 1.5)], out_rms: [r1(outPeak - 9), r1(outPeak - 10.5)],
      gr: [gr, gr], clip_in: [0, 0], clip_out: [0, 0], xruns, cpu: 2.5 + Math.abs(Math.sin(t)) * 1.5,
    } as MeterReading;
  };
}

export async function startUnitSide(opts: { unitId?: string; baseTopic?: string; meterRateHz?: number } = {}): Promise<UnitSide> {
  const unitId = opts.unitId ?? 'lab-1';
  const baseTopic = opts.baseTopic ?? 'picomp';
  const rateHz = opts.meterRateHz ?? 20;
  const log = memoryLogger();
  const broker = await startBroker({ mqttPort: 0, wsPort: null, host: '127.0.0.1', allowAnonymous: true, baseTopic, log });
  const state = await UnitState.load({ stateDir: null, log });
  const meters = syntheticMeters(state, rateHz);
  let frames = 0;
  const pump = new MeterPump({ rateHz, read: () => { frames++; return meters(); }, log });
  pump.start();
  const client = await startUnitClient({
    url: broker.url, baseTopic, unitId, state, haDiscovery: false, log,
    info: () => ({ version: 'test', sample_rate: 48000, block_size: 128, channels: 2, devices: { input: 'demo', output: 'null' } }),
    meters: pump,
  });
  return {
    unitId, baseTopic, broker, state, client, log,
    frames: () => frames,
    async stop() {
      await client.stop();
      pump.stop();
      await broker.close();
    },
  };
}

export async function startTestDashboard(unit: UnitSide): Promise<RunningDashboard> {
  return startDashboard({
    port: await freePort(), host: '127.0.0.1',
    mqttHost: '127.0.0.1', mqttPort: unit.broker.mqttPort,
    unitId: unit.unitId, baseTopic: unit.baseTopic, log: memoryLogger(),
  });
}

/** A plain MQTT client, as another user (or Home Assistant) would be. */
export async function outsideClient(unit: UnitSide): Promise<MqttClient> {
  return mqtt.connectAsync(unit.broker.url, { clientId: 'outside-' + Math.random().toString(16).slice(2, 8) });
}

/** Resolves with the first retained/new state document that satisfies `pred`. */
export async function waitForState(client: MqttClient, unit: UnitSide, pred: (s: Record<string, unknown>) => boolean, timeoutMs = 10_000): Promise<Record<string, unknown>> {
  const topic = `${unit.baseTopic}/${unit.unitId}/state`;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { client.off('message', onMsg); reject(new Error(`no state matching within ${timeoutMs} ms`)); }, timeoutMs);
    const onMsg = (t: string, payload: Buffer): void => {
      if (t !== topic) return;
      const s = JSON.parse(payload.toString()) as Record<string, unknown>;
      if (!pred(s)) return;
      clearTimeout(timer);
      client.off('message', onMsg);
      resolve(s);
    };
    client.on('message', onMsg);
    void client.subscribeAsync(topic);
  });
}
