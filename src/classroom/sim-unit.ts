/**
 * Simulated classroom units, for the teacher's console demo, its tests and
 * the classroom bench: the real unit core (UnitState) and the real unit
 * MQTT client, so every topic, retained document, command, desired setting
 * and ack is exactly a unit's, with a synthetic meter source instead of the
 * audio engine (no sound card, a few hundred per process).
 *
 *   node dist/src/classroom/sim-unit.js --broker URL --count N [--prefix sim-] [--group-size 10]
 *
 * prints "ready N" once every unit is announced and runs until SIGTERM/SIGINT.
 */
import { parseArgs } from 'node:util';
import { staticGainDb } from '../dsp/gain-computer.js';
import { transferDb } from '../dsp/transfer.js';
import { memoryLogger, type Logger } from '../log.js';
import { startUnitClient, type UnitClient } from '../mqtt/unit-client.js';
import type { MeterReading } from '../engine/audio-engine.js';
import { MeterPump } from '../unit/meter-pump.js';
import { UnitState } from '../unit/unit-state.js';

export interface SimUnitOptions {
  readonly url: string;
  readonly unitId: string;
  readonly baseTopic?: string;
  readonly groups?: readonly string[];
  readonly meterRateHz?: number;
  readonly username?: string;
  readonly password?: string;
  /** Shifts this unit's programme in time, so a room of them does not move in step. */
  readonly phase?: number;
  readonly log?: Logger;
}

export interface SimUnit {
  readonly unitId: string;
  readonly state: UnitState;
  readonly client: UnitClient;
  /** Meter frames made so far. */
  frames(): number;
  stop(): Promise<void>;
}

/**
 * A stereo programme whose level swells between about -40 and -6 dBFS with
 * short accents; gain reduction and output follow the unit's current
 * settings through the engine's own curves, so a class setting shows on
 * the meters and the dot sits on the console's transfer curve.
 */
export function simulatedMeters(state: UnitState, rateHz: number, phase = 0): () => MeterReading {
  let t = phase * 6;
  let grDb = 0;
  return () => {
    t += 1 / rateHz;
    const p = state.params;
    const level = Math.min(0, -23 + 17 * Math.sin((2 * Math.PI * t) / 6) + ((t % 1.5) < 0.15 ? 8 : 0));
    const detectedDb = p.detector === 'rms' ? level - 9 : level;
    const target = p.bypass ? 0 : staticGainDb(detectedDb + p.input_gain, p.threshold, p.ratio, p.knee);
    // A one-pole attack/release at the meter rate: enough to look like a compressor.
    const tauS = Math.max(1e-4, (target < grDb ? p.attack : p.release) / 1000);
    grDb += (target - grDb) * (1 - Math.exp(-1 / (tauS * rateHz)));
    // The whole chain's gain at the detected level (the steady-state curve),
    // off it by how far the gain reduction lags its target (attack, release).
    const gainDb = transferDb(detectedDb, p) - detectedDb + (p.bypass ? 0 : grDb - target);
    const out = Math.min(p.limiter && !p.bypass ? p.ceiling : 0, level + gainDb);
    const r1 = (x: number): number => Math.round(x * 10) / 10;
    const gr = r1(grDb) || 0;
    // The accents that reach full scale clip a few input samples, so a card has clips to show.
    const clipped = level >= 0 ? 3 : 0;
    return {
      in_peak: [r1(level), r1(level - 1.5)], in_rms: [r1(level - 9), r1(level - 10.5)],
      out_peak: [r1(out), r1(out - 1.5)], out_rms: [r1(level - 9 + gainDb), r1(level - 10.5 + gainDb)],
      gr: [gr, gr], clip_in: [clipped, 0], clip_out: [0, 0],
      // A sine-like programme's true peak sits close to its sample peak.
      out_true_peak: [r1(out + 0.1), r1(out - 1.4)], overs_out: [0, 0],
      det_level: [r1(detectedDb + p.input_gain), r1(detectedDb + p.input_gain - 1.5)], xruns: 0, cpu: 3,
      latency_ms: 2.7, sample_rate: 48000, block_size: 128, worker_gcs: 0,
    };
  };
}

export async function startSimUnit(opts: SimUnitOptions): Promise<SimUnit> {
  const log = opts.log ?? memoryLogger();
  const rateHz = opts.meterRateHz ?? 20;
  const state = await UnitState.load({ stateDir: null, log });
  const read = simulatedMeters(state, rateHz, opts.phase ?? Math.random());
  let frames = 0;
  // The unit's own meter clock, fed by the programme above instead of the engine.
  const pump = new MeterPump({ rateHz, read: () => { frames++; return read(); }, log });
  pump.start();
  const client = await startUnitClient({
    url: opts.url, baseTopic: opts.baseTopic ?? 'picomp', unitId: opts.unitId, groups: opts.groups ?? [],
    state, log, haDiscovery: false,
    ...(opts.username !== undefined ? { username: opts.username } : {}),
    ...(opts.password !== undefined ? { password: opts.password } : {}),
    info: () => ({ version: 'simulated', sample_rate: 48000, block_size: 128, channels: 2, devices: { input: 'simulated', output: 'null' } }),
    meters: pump,
  }).catch((e: unknown) => { pump.stop(); throw e; });
  return {
    unitId: opts.unitId, state, client, frames: () => frames,
    async stop() { await client.stop(); pump.stop(); },
  };
}

export interface SimRoomOptions extends Omit<SimUnitOptions, 'unitId' | 'groups' | 'phase'> {
  readonly count: number;
  /** Unit ids are prefix + 1..count (default "sim-"). */
  readonly prefix?: string;
  /** Units per group ("g1", "g2", …); 0 or absent: no groups. */
  readonly groupSize?: number;
}

/** N simulated units in this process, started a few at a time so the hub is not hit by all at once. */
export async function startSimRoom(opts: SimRoomOptions): Promise<SimUnit[]> {
  const units: SimUnit[] = [];
  const prefix = opts.prefix ?? 'sim-';
  const batch = 20;
  try {
    for (let i = 0; i < opts.count; i += batch) {
      const next = await Promise.all(Array.from({ length: Math.min(batch, opts.count - i) }, (_, k) => {
        const n = i + k + 1;
        const groups = opts.groupSize ? ['g' + Math.ceil(n / opts.groupSize)] : [];
        return startSimUnit({ ...opts, unitId: prefix + n, groups, phase: n / opts.count });
      }));
      units.push(...next);
    }
  } catch (e) {
    await Promise.all(units.map((u) => u.stop()));
    throw e;
  }
  return units;
}

/**
 * For a process another one started (a bench): stop when that parent is
 * gone, so a killed parent never leaves a room of units behind.
 */
export function exitWithParent(stop: () => void, checkMs = 1000): void {
  const parent = process.ppid;
  setInterval(() => { if (process.ppid !== parent) stop(); }, checkMs).unref();
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      broker: { type: 'string' }, count: { type: 'string' }, prefix: { type: 'string' },
      'group-size': { type: 'string' }, 'meter-rate': { type: 'string' }, 'base-topic': { type: 'string' },
      'exit-with-parent': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
  const usage = 'usage: sim-unit.js --broker URL --count N [--prefix sim-] [--group-size N] [--meter-rate HZ] [--base-topic T] [--exit-with-parent]';
  if (values.help) { process.stdout.write(usage + '\n'); return; }
  if (!values.broker) throw new Error(usage);
  const units = await startSimRoom({
    url: values.broker, count: Number(values.count ?? 1), prefix: values.prefix ?? 'sim-',
    groupSize: Number(values['group-size'] ?? 0), meterRateHz: Number(values['meter-rate'] ?? 20),
    ...(values['base-topic'] ? { baseTopic: values['base-topic'] } : {}),
  });
  process.stdout.write(`ready ${units.length}\n`);
  const stop = (): void => { void Promise.all(units.map((u) => u.stop())).then(() => process.exit(0)); };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  if (values['exit-with-parent']) exitWithParent(stop);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e: Error) => { process.stderr.write(`sim-unit: ${e.message}\n`); process.exit(2); });
}
