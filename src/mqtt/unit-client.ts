/**
 * The unit's own MQTT client (SPEC §4): publishes availability, info,
 * state, meters and errors, and turns `set` / `set/<param>` / `get`
 * messages into UnitState commands. It talks to the audio side only
 * through UnitState and the unit's meter pump.
 */
import type { Socket } from 'node:net';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { PARAMS } from '../params/schema.js';
import { UserError } from '../errors.js';
import type { Logger } from '../log.js';
import type { UnitSnapshot, UnitState } from '../unit/unit-state.js';
import { LevelSummaries, MeterListener, type Extension, type LevelSummary, type MeterFrame, type MeterPump } from '../unit/meter-pump.js';
import { DEFAULT_DISCOVERY_PREFIX, HA_BIRTH_PAYLOAD, discoveryMessages, haStatusTopic } from './ha-discovery.js';
import {
  DEFAULT_MAX_COMMAND_BYTES, decodeParamPayload, decodePresetPayload, decodeSetPayload, payloadExcerpt, type PresetCommand,
} from './mqtt-command.js';
import { unitClientId } from './client-ids.js';
import { redactUrl } from './redact-url.js';
import {
  PRESET_ACTIONS, addressesUnit, commandFilters, isPresetCommand, parseTopic, topicOf, unitTopics,
  type PresetAction, type UnitTopics,
} from './topics.js';

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
  /** The unit's meter clock; the client publishes its frames (and the HA levels) while it runs. */
  readonly meters: MeterPump;
  readonly haDiscovery: boolean;
  readonly haPrefix?: string;
  /** Where users get help with picomp: Home Assistant's origin support_url. */
  readonly supportUrl?: string;
  readonly maxCommandBytes?: number;
  readonly log: Logger;
}

/** How often the Home Assistant level sensors update: gentle on its recorder. */
const LEVELS_PERIOD_MS = 1000;

export function stateDocument(s: UnitSnapshot): Record<string, unknown> {
  return { ...s.params, preset: s.preset };
}

const RETAINED = { qos: 1 as const, retain: true };
const REASSERT_EVERY_MS = 1000;
/** Characters of a rejected topic repeated in an `error` echo (as the payload's 200 bytes). */
const ECHO_TOPIC_CHARS = 200;

function topicExcerpt(topic: string): string {
  return topic.length <= ECHO_TOPIC_CHARS ? topic : `${topic.slice(0, ECHO_TOPIC_CHARS)}…`;
}

export class UnitClient {
  readonly #opts: UnitClientOptions;
  readonly #t: UnitTopics;
  readonly #groups: readonly string[];
  readonly #client: MqttClient;
  /** Meter subscribers that publish through this client. */
  readonly #extensions: Extension[];
  readonly #onChange = (): void => this.publishStateSoon();
  /** Presets saved, renamed or deleted: `info` and Home Assistant's preset list say so. */
  readonly #onPresets = (): void => { void this.#republishPresets(); };
  #statePending = false;
  #stopped = false;
  #wasOffline = false;
  #announced: Promise<void> = Promise.resolve();
  /** The unit's dashboard page as the LAN reaches it, once it runs: HA's device configuration_url. */
  #dashboardUrl: string | undefined;
  /** Home Assistant's status topic, when discovery is on. */
  readonly #haStatus: string | null;
  /** When availability/info were last put back after someone overwrote them. */
  readonly #reasserted = new Map<string, number>();

  constructor(opts: UnitClientOptions) {
    this.#opts = opts;
    this.#t = unitTopics(opts.baseTopic, opts.unitId);
    this.#groups = opts.groups ?? [];
    this.#haStatus = opts.haDiscovery ? haStatusTopic(opts.haPrefix ?? DEFAULT_DISCOVERY_PREFIX) : null;
    this.#extensions = [new MeterListener(opts.meters, (f) => this.publishMeters(f))];
    // Always: Home Assistant's level sensors and the classroom console's cards read them.
    this.#extensions.push(new LevelSummaries(opts.meters, LEVELS_PERIOD_MS, (s) => this.publishLevels(s)));
    const clientOpts: IClientOptions = {
      clientId: unitClientId(opts.unitId),
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
      keepalive: 10,
      // Meters are QoS 0: a frame that cannot go now is stale by the time it could.
      queueQoSZero: false,
      will: { topic: this.#t.availability, payload: Buffer.from('offline'), qos: 1, retain: true },
      ...(opts.username !== undefined ? { username: opts.username } : {}),
      ...(opts.password !== undefined ? { password: opts.password } : {}),
    };
    this.#client = mqtt.connect(opts.url, clientOpts);
    const client = this.#client;
    // The state echo is a small packet right after a small packet: Nagle's
    // algorithm would hold it for a delayed ACK (~40 ms). Each reconnect makes a new socket.
    const noDelay = (): void => { (client.stream as Partial<Socket> | undefined)?.setNoDelay?.(true); };
    noDelay();
    client.on('connect', noDelay);
    opts.state.on('change', this.#onChange);
    opts.state.on('presets', this.#onPresets);
    client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet));
    client.on('connect', () => {
      if (this.#wasOffline) opts.log.info(`MQTT connection to ${redactUrl(opts.url)} is back.`);
      this.#wasOffline = false;
      this.#announced = this.announce().catch((e: Error) => opts.log.warn(`could not announce the unit on MQTT: ${e.message}`));
    });
    client.on('offline', () => {
      if (!this.#wasOffline && !this.#stopped) opts.log.warn(`MQTT connection to ${redactUrl(opts.url)} lost; retrying every second (audio keeps running).`);
      this.#wasOffline = true;
    });
    client.on('error', (e) => opts.log.debug(`MQTT: ${e.message}`));
    for (const e of this.#extensions) e.start();
  }

  get connected(): boolean {
    return this.#client.connected;
  }

  /** The state echo, coalesced: one publication per tick however many sets arrived. */
  publishStateSoon(): void {
    if (this.#statePending) return;
    this.#statePending = true;
    setImmediate(() => {
      this.#statePending = false;
      if (this.#client.connected) this.#client.publish(this.#t.state, this.#stateJson(), RETAINED);
    });
  }

  /** One meter frame, sent only while connected and never queued. */
  publishMeters(frame: MeterFrame): void {
    if (this.#client.connected) this.#client.publish(this.#t.meters, JSON.stringify(frame), { qos: 0 });
  }

  /** The 1 Hz summary the Home Assistant level sensors and the teacher's console read. */
  publishLevels(s: LevelSummary): void {
    // A silent period's -Infinity peaks go out as null: "unknown" in Home Assistant.
    if (this.#client.connected) this.#client.publish(this.#t.levels, JSON.stringify(s), { qos: 0 });
  }

  publishError(topic: string, payload: Buffer, error: string): void {
    this.#opts.log.debug(`rejected ${topic}: ${error}`);
    if (!this.#client.connected) return;
    // A 60 KB topic must not come back in full (nor twice, inside the sentence).
    const shortTopic = topicExcerpt(topic);
    const sentence = shortTopic === topic ? error : error.split(topic).join(shortTopic);
    this.#client.publish(this.#t.error, JSON.stringify({ topic: shortTopic, payload: payloadExcerpt(payload), error: sentence }), { qos: 0 });
  }

  /**
   * Someone overwrote this unit's retained `availability` or `info` (any
   * client may, on an open broker): put ours back, at most once per
   * REASSERT_EVERY_MS per topic so two clients cannot ping-pong forever.
   */
  #reassert(topic: string, payload: Buffer): boolean {
    const ours = topic === this.#t.availability ? 'online' : topic === this.#t.info ? this.#infoJson() : null;
    if (ours === null) return false;
    if (this.#stopped || payload.toString('utf8') === ours) return true;
    const now = Date.now();
    if (now - (this.#reasserted.get(topic) ?? 0) < REASSERT_EVERY_MS) return true;
    this.#reasserted.set(topic, now);
    this.#opts.log.warn(`another client overwrote ${topic}; published this unit's own again (add users to stop that: picomp user add).`);
    if (this.#client.connected) this.#client.publish(topic, ours, RETAINED);
    return true;
  }

  /** A message on one of the command filters: a command, or an error saying why not. */
  onMessage(topic: string, payload: Buffer, packet: Pick<IPublishPacket, 'retain'>): void {
    const { baseTopic, unitId, state } = this.#opts;
    if (topic === this.#haStatus) {
      // Home Assistant (re)started: it may have lost what it knew, so tell it again.
      if (payload.toString('utf8').trim() === HA_BIRTH_PAYLOAD) void this.#publishDiscovery().catch((e: Error) => this.#opts.log.warn(`could not publish the Home Assistant discovery: ${e.message}`));
      return;
    }
    if (this.#reassert(topic, payload)) return;
    const t = parseTopic(baseTopic, topic);
    if (!t || !addressesUnit(t, unitId, this.#groups)) return;
    if (t.leaf === 'get') {
      if (t.kind === 'unit' && !t.deeper) this.publishStateSoon();
      return;
    }
    if (t.leaf !== 'set' && t.leaf !== 'preset') return;
    if (packet.retain) {
      this.publishError(topic, payload, 'retained commands are ignored (they would replay at every reconnect); publish without the retain flag, and clear the old one with `mosquitto_pub -r -n -t ' + topic + '`.');
      return;
    }
    if (t.leaf === 'preset') {
      if (t.kind === 'unit') this.#onPresetCommand(topic, payload, isPresetCommand(t) ? t.param as PresetAction : null);
      return;
    }
    if (t.deeper) {
      const set = topicOf(baseTopic, t, 'set');
      this.publishError(topic, payload, `${topic} is not a command topic; publish to ${set} (a JSON object) or ${set}/<parameter> (a plain value).`);
      return;
    }
    const maxBytes = this.#opts.maxCommandBytes ?? DEFAULT_MAX_COMMAND_BYTES;
    const decoded = t.param === undefined ? decodeSetPayload(payload, maxBytes) : decodeParamPayload(t.param, payload, maxBytes, (name) => state.params[name]);
    const r = decoded.ok ? state.apply(decoded.value, 'mqtt') : decoded;
    if (!r.ok) { this.publishError(topic, payload, r.error); return; }
    // An accepted command that changed nothing still gets its echo.
    this.publishStateSoon();
  }

  /** `<unit>/preset/<action>`: save, rename or delete a user preset; an `error` when refused. */
  #onPresetCommand(topic: string, payload: Buffer, action: PresetAction | null): void {
    const { state } = this.#opts;
    if (action === null) {
      const choices = PRESET_ACTIONS.map((a) => this.#t.preset(a)).join(', ');
      this.publishError(topic, payload, `${topic} is not a preset command; publish to ${choices}.`);
      return;
    }
    const decoded = decodePresetPayload(action, payload, this.#opts.maxCommandBytes ?? DEFAULT_MAX_COMMAND_BYTES);
    if (!decoded.ok) { this.publishError(topic, payload, decoded.error); return; }
    const c: PresetCommand = decoded.value;
    const done = c.action === 'save' ? state.savePreset(c.name, c.description, 'mqtt')
      : c.action === 'rename' ? state.renamePreset(c.from, c.to, 'mqtt')
        : state.deletePreset(c.name, 'mqtt');
    void done.then((r) => { if (!r.ok) this.publishError(topic, payload, r.error); });
  }

  /** The preset list changed: `info` again, and Home Assistant's preset select with it. */
  async #republishPresets(): Promise<void> {
    if (!this.#client.connected) return;
    try {
      await Promise.all([this.#client.publishAsync(this.#t.info, this.#infoJson(), RETAINED), this.#publishDiscovery()]);
    } catch (e) {
      this.#opts.log.warn(`could not publish the new preset list: ${(e as Error).message}`);
    }
  }

  /** On every (re)connect: subscribe, then the retained documents, so a client seeing `online` can command at once. */
  async announce(): Promise<void> {
    const { baseTopic, unitId } = this.#opts;
    const client = this.#client;
    await client.subscribeAsync(commandFilters(baseTopic, unitId, this.#groups), { qos: 1 });
    // HA's birth message is not retained: subscribing now catches its next start.
    if (this.#haStatus) await client.subscribeAsync(this.#haStatus, { qos: 1 });
    await Promise.all([
      client.publishAsync(this.#t.availability, 'online', RETAINED),
      client.publishAsync(this.#t.info, this.#infoJson(), RETAINED),
      client.publishAsync(this.#t.state, this.#stateJson(), RETAINED),
      this.#publishDiscovery(),
    ]);
    // Watched after publishing, so the retained ones that come back are ours.
    await client.subscribeAsync([this.#t.availability, this.#t.info], { qos: 0 });
  }

  /**
   * Links the unit's dashboard page (as the LAN reaches it) in Home
   * Assistant's device card, once the dashboard runs.
   */
  async linkDashboard(url: string): Promise<void> {
    this.#dashboardUrl = url;
    if (this.#client.connected) await this.#publishDiscovery();
  }

  /** The Home Assistant discovery configs, retained (nothing when discovery is off). */
  async #publishDiscovery(): Promise<void> {
    if (!this.#opts.haDiscovery) return;
    const { baseTopic, unitId, state } = this.#opts;
    const version = (this.#opts.info() as { version?: unknown }).version;
    const docs = discoveryMessages({
      baseTopic, unitId, prefix: this.#opts.haPrefix,
      presetNames: state.presets().map((p) => p.name),
      ...(typeof version === 'string' ? { version } : {}),
      ...(this.#dashboardUrl ? { configurationUrl: this.#dashboardUrl } : {}),
      ...(this.#opts.supportUrl ? { supportUrl: this.#opts.supportUrl } : {}),
    });
    await Promise.all(docs.map((m) => this.#client.publishAsync(m.topic, JSON.stringify(m.payload), RETAINED)));
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const e of this.#extensions) e.stop();
    this.#opts.state.off('change', this.#onChange);
    this.#opts.state.off('presets', this.#onPresets);
    if (this.#client.connected) {
      await this.#client.publishAsync(this.#t.availability, 'offline', RETAINED).catch(() => undefined);
      await this.#client.endAsync();
    } else {
      await this.#client.endAsync(true);
    }
  }

  /**
   * Resolves once the unit is subscribed and has published its retained
   * documents, or once the first attempt failed for a network reason (it
   * keeps retrying in the background; audio must not wait for the LAN).
   * Refused credentials reject with a UserError.
   */
  firstConnection(): Promise<void> {
    const client = this.#client;
    const { url, log } = this.#opts;
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        client.off('connect', onConnect); client.off('error', onError); client.off('offline', onOffline);
      };
      // Registered after the constructor's own 'connect' listener, so #announced is this connection's.
      const onConnect = (): void => { done(); this.#announced.then(resolve, resolve); };
      const onOffline = (): void => {
        done();
        log.warn(`cannot reach the MQTT broker at ${redactUrl(url)} yet; the unit keeps retrying.`);
        resolve();
      };
      const onError = (e: Error & { code?: number }): void => {
        if (e.code === 4 || e.code === 5 || /not authorized|bad user/i.test(e.message)) {
          done();
          void this.stop();
          reject(new UserError(`the MQTT broker at ${redactUrl(url)} refused the unit's credentials; check the user name and password for --broker.`));
        }
      };
      client.on('connect', onConnect);
      client.on('error', onError);
      client.on('offline', onOffline);
    });
  }

  #stateJson(): string {
    return JSON.stringify(stateDocument(this.#opts.state.snapshot));
  }

  #infoJson(): string {
    const { state } = this.#opts;
    return JSON.stringify({
      unit: this.#opts.unitId,
      params: PARAMS,
      presets: state.presets().map((p) => ({ name: p.name, description: p.description, built_in: p.builtIn, params: p.params })),
      meter_rate: this.#opts.meters.rateHz,
      ...this.#opts.info(),
    });
  }
}

/** Connects a unit client and waits for its first connection (see UnitClient.firstConnection). */
export async function startUnitClient(opts: UnitClientOptions): Promise<UnitClient> {
  const client = new UnitClient(opts);
  await client.firstConnection();
  return client;
}
