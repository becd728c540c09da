/**
 * The unit's own MQTT client (SPEC §4): publishes availability, info,
 * state, meters and errors, and turns `set` / `set/<param>` / `get`
 * messages into UnitState commands. It talks to the audio side only
 * through UnitState and the meters read() callback.
 */
import type { Socket } from 'node:net';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { PARAMS } from '../params/schema.js';
import type { MeterFrame } from '../dsp/meters.js';
import { UserError } from '../errors.js';
import type { Logger } from '../log.js';
import type { UnitSnapshot, UnitState } from '../unit/unit-state.js';
import { discoveryMessages } from './ha-discovery.js';
import {
  DEFAULT_MAX_COMMAND_BYTES, decodeParamPayload, decodeSetPayload, payloadExcerpt,
} from './mqtt-command.js';
import { allSetTopic, commandFilters, groupSetTopic, unitTopics } from './topics.js';

export type MeterReading = MeterFrame & { xruns: number; cpu: number };

export interface UnitClientOptions {
  /** mqtt://, mqtts://, ws:// or wss:// */
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  readonly baseTopic: string;
  readonly unitId: string;
  /** Groups whose `picomp/group/<g>/set` commands this unit obeys. */
  readonly groups?: readonly string[];
  readonly state: UnitState;
  /** Extra fields of the `info` document (version, audio setup, devices); called at each (re)connect. */
  readonly info: () => object;
  readonly meters: {
    /** Publications per second, 1–60. */
    readonly rateHz: number;
    /** The latest meter period, or null when there is nothing new. */
    readonly read: () => MeterReading | null;
  };
  readonly haDiscovery: boolean;
  readonly haPrefix?: string;
  readonly maxCommandBytes?: number;
  readonly log: Logger;
}

export interface UnitClient {
  readonly connected: boolean;
  stop(): Promise<void>;
}

/** How often the Home Assistant level sensors update: gentle on its recorder. */
const LEVELS_PERIOD_MS = 1000;

export function stateDocument(s: UnitSnapshot): Record<string, unknown> {
  return { ...s.params, preset: s.preset };
}

/**
 * Connects and resolves once the unit is subscribed and has published its
 * retained documents, or once the first attempt failed for a network reason
 * (it keeps retrying in the background; audio must not wait for the LAN).
 * Refused credentials reject with a UserError.
 */
export async function startUnitClient(opts: UnitClientOptions): Promise<UnitClient> {
  const { state, log } = opts;
  const t = unitTopics(opts.baseTopic, opts.unitId);
  const maxBytes = opts.maxCommandBytes ?? DEFAULT_MAX_COMMAND_BYTES;
  const rateHz = opts.meters.rateHz;
  if (!(rateHz >= 1 && rateHz <= 60)) throw new UserError(`meter_rate must be 1 to 60 Hz, got ${rateHz}.`);
  const sharedSet = new Set([allSetTopic(opts.baseTopic), ...(opts.groups ?? []).map((g) => groupSetTopic(opts.baseTopic, g))]);

  const clientOpts: IClientOptions = {
    clientId: `picomp-${opts.unitId}-${Math.random().toString(16).slice(2, 10)}`,
    clean: true,
    reconnectPeriod: 1000,
    connectTimeout: 5000,
    keepalive: 10,
    // Meters are QoS 0: a frame that cannot go now is stale by the time it could.
    queueQoSZero: false,
    will: { topic: t.availability, payload: Buffer.from('offline'), qos: 1, retain: true },
    ...(opts.username !== undefined ? { username: opts.username } : {}),
    ...(opts.password !== undefined ? { password: opts.password } : {}),
  };
  const client: MqttClient = mqtt.connect(opts.url, clientOpts);
  let stopped = false;
  // The state echo is a small packet right after a small packet: Nagle's
  // algorithm would hold it for a delayed ACK (~40 ms). Each reconnect makes a new socket.
  const noDelay = (): void => { (client.stream as Partial<Socket> | undefined)?.setNoDelay?.(true); };
  noDelay();
  client.on('connect', noDelay);

  // ---- state echo, coalesced: one publication per tick however many sets arrived.
  let statePending = false;
  const publishStateSoon = (): void => {
    if (statePending) return;
    statePending = true;
    setImmediate(() => {
      statePending = false;
      if (client.connected) client.publish(t.state, JSON.stringify(stateDocument(state.snapshot)), { qos: 1, retain: true });
    });
  };
  const onChange = (): void => publishStateSoon();
  state.on('change', onChange);

  const infoDocument = (): string => JSON.stringify({
    unit: opts.unitId,
    params: PARAMS,
    presets: state.presets().map((p) => ({ name: p.name, description: p.description, built_in: p.builtIn, params: p.params })),
    meter_rate: rateHz,
    ...opts.info(),
  });

  const publishError = (topic: string, payload: Buffer, error: string): void => {
    log.debug(`rejected ${topic}: ${error}`);
    if (!client.connected) return;
    client.publish(t.error, JSON.stringify({ topic, payload: payloadExcerpt(payload), error }), { qos: 0 });
  };

  client.on('message', (topic, payload, packet) => {
    if (topic === t.get) { publishStateSoon(); return; }
    if (packet.retain) {
      publishError(topic, payload, 'retained commands are ignored (they would replay at every reconnect); publish without the retain flag, and clear the old one with `mosquitto_pub -r -n -t ' + topic + '`.');
      return;
    }
    let decoded;
    if (topic === t.set || sharedSet.has(topic)) {
      decoded = decodeSetPayload(payload, maxBytes);
    } else {
      const slash = topic.lastIndexOf('/');
      const parent = topic.slice(0, slash);
      if (parent !== t.set && !sharedSet.has(parent)) {
        const base = [t.set, ...sharedSet].find((s) => topic.startsWith(s + '/'));
        if (base) publishError(topic, payload, `${topic} is not a command topic; publish to ${base} (a JSON object) or ${base}/<parameter> (a plain value).`);
        return;
      }
      decoded = decodeParamPayload(topic.slice(slash + 1), payload, maxBytes);
    }
    const r = decoded.ok ? state.apply(decoded.value, 'mqtt') : decoded;
    if (!r.ok) { publishError(topic, payload, r.error); return; }
    // An accepted command that changed nothing still gets its echo.
    publishStateSoon();
  });

  // ---- (re)connect: subscribe, then the retained documents, so a client seeing `online` can command at once.
  const announce = async (): Promise<void> => {
    await client.subscribeAsync(commandFilters(opts.baseTopic, opts.unitId, opts.groups), { qos: 1 });
    const retained = { qos: 1 as const, retain: true };
    const pubs: Promise<unknown>[] = [
      client.publishAsync(t.availability, 'online', retained),
      client.publishAsync(t.info, infoDocument(), retained),
      client.publishAsync(t.state, JSON.stringify(stateDocument(state.snapshot)), retained),
    ];
    if (opts.haDiscovery) {
      const version = (opts.info() as { version?: unknown }).version;
      const docs = discoveryMessages({
        baseTopic: opts.baseTopic, unitId: opts.unitId, prefix: opts.haPrefix,
        presetNames: state.presets().map((p) => p.name),
        ...(typeof version === 'string' ? { version } : {}),
      });
      for (const m of docs) pubs.push(client.publishAsync(m.topic, JSON.stringify(m.payload), retained));
    }
    await Promise.all(pubs);
  };

  let announced: Promise<void> = Promise.resolve();
  let wasOffline = false;
  client.on('connect', () => {
    if (wasOffline) log.info(`MQTT connection to ${opts.url} is back.`);
    wasOffline = false;
    announced = announce().catch((e: Error) => log.warn(`could not announce the unit on MQTT: ${e.message}`));
  });
  client.on('offline', () => {
    if (!wasOffline && !stopped) log.warn(`MQTT connection to ${opts.url} lost; retrying every second (audio keeps running).`);
    wasOffline = true;
  });
  client.on('error', (e) => log.debug(`MQTT: ${e.message}`));

  // ---- meters: sent only while connected, never queued.
  const levels = { gr: 0, out_peak: -Infinity, in_peak: -Infinity, seen: false };
  let meterFailureLogged = false;
  const meterTimer = setInterval(() => {
    let frame: MeterReading | null;
    try {
      frame = opts.meters.read();
    } catch (e) {
      // A meter glitch must not take the control plane (or the process) down with it.
      if (!meterFailureLogged) log.error(`reading the meters failed: ${(e as Error).message}; meters are skipped until it works again.`);
      meterFailureLogged = true;
      return;
    }
    meterFailureLogged = false;
    if (!frame) return;
    if (opts.haDiscovery) {
      levels.gr = Math.min(levels.gr, ...frame.gr);
      levels.out_peak = Math.max(levels.out_peak, ...frame.out_peak);
      levels.in_peak = Math.max(levels.in_peak, ...frame.in_peak);
      levels.seen = true;
    }
    if (!client.connected) return;
    client.publish(t.meters, JSON.stringify({ t: Date.now(), ...frame }), { qos: 0 });
  }, 1000 / rateHz);
  const levelsTimer = opts.haDiscovery ? setInterval(() => {
    if (!levels.seen) return;
    if (client.connected) {
      client.publish(t.levels, JSON.stringify({ gr: levels.gr, out_peak: levels.out_peak, in_peak: levels.in_peak }), { qos: 0 });
    }
    Object.assign(levels, { gr: 0, out_peak: -Infinity, in_peak: -Infinity, seen: false });
  }, LEVELS_PERIOD_MS) : null;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    clearInterval(meterTimer);
    if (levelsTimer) clearInterval(levelsTimer);
    state.off('change', onChange);
    if (client.connected) {
      await client.publishAsync(t.availability, 'offline', { qos: 1, retain: true }).catch(() => undefined);
      await client.endAsync();
    } else {
      await client.endAsync(true);
    }
  };

  // ---- first connection: wait for it, but not forever and not for ever-retrying.
  await new Promise<void>((resolve, reject) => {
    const done = (): void => {
      client.off('connect', onConnect); client.off('error', onError); client.off('offline', onOffline);
    };
    const onConnect = (): void => { done(); announced.then(resolve, resolve); };
    const onOffline = (): void => {
      done();
      log.warn(`cannot reach the MQTT broker at ${opts.url} yet; the unit keeps retrying.`);
      resolve();
    };
    const onError = (e: Error & { code?: number }): void => {
      if (e.code === 4 || e.code === 5 || /not authorized|bad user/i.test(e.message)) {
        done();
        void stop();
        reject(new UserError(`the MQTT broker at ${opts.url} refused the unit's credentials; check the user name and password for --broker.`));
      }
    };
    client.on('connect', onConnect);
    client.on('error', onError);
    client.on('offline', onOffline);
  });

  return {
    get connected() { return client.connected; },
    stop,
  };
}
