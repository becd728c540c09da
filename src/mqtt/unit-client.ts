/**
 * The unit's own MQTT client (SPEC §4): publishes availability, info,
 * state, meters and errors, and turns `set` / `set/<param>` / `get`
 * messages into UnitState commands. It talks to the audio side only
 * through UnitState and the unit's meter pump.
 *
 * In a classroom (SPEC §5) it also follows the teacher's retained desired
 * settings (class, its groups, its own; acked on `ack`), refuses to run
 * beside a live unit with the same id, tries several hubs in turn and
 * retries refused or lost connections with back-off.
 */
import type { Socket } from 'node:net';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { PARAMS } from '../params/schema.js';
import { UserError } from '../errors.js';
import { effectiveSetting, parseDesiredPayload, type DesiredLevel, type DesiredSetting } from '../unit/desired.js';
import type { Logger } from '../log.js';
import type { RefusedEvent, UnitSnapshot, UnitState } from '../unit/unit-state.js';
import { LevelSummaries, MeterListener, type Extension, type LevelSummary, type MeterFrame, type MeterPump } from '../unit/meter-pump.js';
import { DEFAULT_DISCOVERY_PREFIX, HA_BIRTH_PAYLOAD, discoveryMessages, haStatusTopic } from './ha-discovery.js';
import {
  DEFAULT_MAX_COMMAND_BYTES, decodeParamPayload, decodePresetPayload, decodeSetPayload, payloadExcerpt, type PresetCommand,
} from './mqtt-command.js';
import { unitClientId } from './client-ids.js';
import { redactUrl } from './redact-url.js';
import {
  AVAILABILITY_OFFLINE, AVAILABILITY_ONLINE, PRESET_ACTIONS, addressesUnit, classDesiredTopic, commandFilters, groupDesiredTopic,
  isPresetCommand, parseTopic, topicOf, unitTopics, type PresetAction, type UnitTopics,
} from './topics.js';
import { SUBSCRIPTION_QOS, probeUnit } from './unit-identity.js';

export interface UnitClientOptions {
  /** mqtt://, mqtts://, ws:// or wss:// */
  readonly url: string;
  /** More hubs, tried in turn after `url` when a connection fails (failover). */
  readonly fallbackUrls?: readonly string[];
  /**
   * Called when the unit must stop: another live unit has its id on the hub
   * (found at a first connection that came after start-up).
   */
  readonly onFatal?: (e: UserError) => void;
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

/** Reconnection back-off: the first retry after 1 s, doubling up to 30 s, ±20 % so a room does not retry in step. */
export const RECONNECT_BACKOFF = { firstMs: 1000, maxMs: 30_000, jitter: 0.2 } as const;

export function backoffDelayMs(failures: number, random: number = Math.random()): number {
  const { firstMs, maxMs, jitter } = RECONNECT_BACKOFF;
  const base = Math.min(maxMs, firstMs * 2 ** Math.max(0, failures - 1));
  return Math.round(base * (1 - jitter + 2 * jitter * random));
}

/** The retained `state` (SPEC §4, §5): every parameter, the preset, the class rev, the lock and the unit's groups. */
export function stateDocument(s: UnitSnapshot, groups: readonly string[] = []): Record<string, unknown> {
  return { ...s.params, preset: s.preset, class_rev: s.classRev, locked: s.locked, groups: [...groups] };
}

function describeUrls(urls: readonly string[]): string {
  return urls.length === 1 ? redactUrl(urls[0]!) : `${urls.map(redactUrl).join(', ')} (in turn)`;
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
  /** Knob turns the lock refused go to `error` too (an MQTT set gets its own error where it is handled), at most one a second. */
  readonly #onRefused = (e: RefusedEvent): void => {
    const now = Date.now();
    if (e.source !== 'knob' || now - this.#lastKnobErrorMs < 1000) return;
    this.#lastKnobErrorMs = now;
    this.publishError('knob', Buffer.alloc(0), e.error);
  };
  #lastKnobErrorMs = -Infinity;
  #statePending = false;
  #stopped = false;
  #wasOffline = false;
  #announced: Promise<void> = Promise.resolve();
  /** The unit's dashboard page as the LAN reaches it, once it runs: HA's device configuration_url. */
  #dashboardUrl: string | undefined;
  /** Home Assistant's status topic, when discovery is on. */
  readonly #haStatus: string | null;
  readonly #urls: readonly string[];
  #failures = 0;
  #retryTimer: NodeJS.Timeout | null = null;
  #lastRefusal: string | null = null;
  /** The identity check happens once, at the first connection (later ones see this unit's own `online`). */
  #identityChecked = false;
  /** Set when another live unit has this id: the client has left the hub and must not come back. */
  #duplicate: UserError | null = null;
  /** firstConnection() has resolved: start-up is over. */
  #running = false;
  readonly #desired: { class: DesiredSetting | null; groups: Map<string, DesiredSetting | null>; unit: DesiredSetting | null } =
    { class: null, groups: new Map(), unit: null };
  /** When availability/info were last put back after someone overwrote them. */
  readonly #reasserted = new Map<string, number>();

  constructor(opts: UnitClientOptions) {
    this.#opts = opts;
    this.#urls = [opts.url, ...(opts.fallbackUrls ?? [])];
    this.#t = unitTopics(opts.baseTopic, opts.unitId);
    this.#groups = opts.groups ?? [];
    this.#haStatus = opts.haDiscovery ? haStatusTopic(opts.haPrefix ?? DEFAULT_DISCOVERY_PREFIX) : null;
    this.#extensions = [new MeterListener(opts.meters, (f) => this.publishMeters(f))];
    // Always: Home Assistant's level sensors and the classroom console's cards read them.
    this.#extensions.push(new LevelSummaries(opts.meters, LEVELS_PERIOD_MS, (s) => this.publishLevels(s)));
    const clientOpts: IClientOptions = {
      clientId: unitClientId(opts.unitId),
      clean: true,
      // Reconnection is ours (#scheduleRetry): with back-off, after refusals too
      // (mqtt.js gives up after a CONNACK refusal), and through every hub in turn.
      reconnectPeriod: 0,
      connectTimeout: 5000,
      keepalive: 10,
      // Meters are QoS 0: a frame that cannot go now is stale by the time it could.
      queueQoSZero: false,
      // No table of every two-byte number (6 MB of heap; packet-writer.ts).
      writeCache: false,
      will: { topic: this.#t.availability, payload: Buffer.from(AVAILABILITY_OFFLINE), qos: 1, retain: true },
      ...(opts.username !== undefined ? { username: opts.username } : {}),
      ...(opts.password !== undefined ? { password: opts.password } : {}),
    };
    if (this.#urls.length > 1) {
      clientOpts.servers = this.#urls.map((u) => {
        const url = new URL(u);
        const protocol = url.protocol.slice(0, -1) as 'mqtt';
        return { host: url.hostname, port: Number(url.port || (protocol === 'mqtt' ? 1883 : protocol === 'mqtts' ? 8883 : 80)), protocol };
      });
    }
    this.#client = mqtt.connect(opts.url, clientOpts);
    const client = this.#client;
    // The state echo is a small packet right after a small packet: Nagle's
    // algorithm would hold it for a delayed ACK (~40 ms). Each reconnect makes a new socket.
    const noDelay = (): void => { (client.stream as Partial<Socket> | undefined)?.setNoDelay?.(true); };
    noDelay();
    client.on('connect', noDelay);
    opts.state.on('change', this.#onChange);
    opts.state.on('presets', this.#onPresets);
    opts.state.on('refused', this.#onRefused);
    client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet));
    client.on('connect', () => {
      if (this.#wasOffline) opts.log.info(`MQTT connection to ${this.#currentUrl()} is back.`);
      this.#wasOffline = false;
      this.#failures = 0;
      this.#lastRefusal = null;
      this.#announced = this.#announceUntilDone();
    });
    client.on('close', () => this.#scheduleRetry());
    client.on('error', (e: Error & { code?: number }) => {
      // A CONNACK refusal (hub full, account not there yet, bad password): say it once per reason, then keep trying.
      if (typeof e.code === 'number' && e.code > 0 && /refused/i.test(e.message) && e.message !== this.#lastRefusal) {
        this.#lastRefusal = e.message;
        opts.log.warn(`the MQTT broker at ${this.#currentUrl()} refused the unit (${e.message.replace(/^Connection refused: /, '')}); retrying with back-off until it lets the unit in (check --broker-username and its password if this persists).`);
      } else {
        opts.log.debug(`MQTT: ${e.message}`);
      }
    });
    for (const e of this.#extensions) e.start();
  }

  get connected(): boolean {
    return this.#client.connected;
  }

  get topics(): UnitTopics {
    return this.#t;
  }

  #currentUrl(): string {
    const c = this.#client as unknown as { options: { protocol?: string; host?: string; port?: number } };
    return redactUrl(this.#urls.length === 1 ? this.#urls[0]! : `${c.options.protocol}://${c.options.host}:${c.options.port}`);
  }

  /**
   * announce() on this connection until it works: a clustered broker may
   * refuse subscriptions for a moment while it elects new leaders after a
   * node died, and a unit that is connected but not subscribed would hear
   * nothing.
   */
  async #announceUntilDone(): Promise<void> {
    for (let failures = 1; ; failures++) {
      try {
        await this.announce();
        return;
      } catch (e) {
        if (this.#stopped || !this.#client.connected) return;
        this.#opts.log.warn(`could not announce the unit on MQTT (${(e as Error).message}); trying again.`);
        await new Promise((r) => setTimeout(r, backoffDelayMs(failures)));
        if (this.#stopped || !this.#client.connected) return;
      }
    }
  }

  /** After a lost, failed or refused connection: try again (the next hub, with failover) after a growing pause. */
  #scheduleRetry(): void {
    if (this.#stopped || this.#duplicate || this.#retryTimer) return;
    this.#failures++;
    if (!this.#wasOffline) this.#opts.log.warn(`MQTT connection to ${describeUrls(this.#urls)} lost or not made; retrying with back-off (audio keeps running).`);
    this.#wasOffline = true;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      if (!this.#stopped && !this.#duplicate) this.#client.reconnect();
    }, backoffDelayMs(this.#failures));
  }

  /** The state echo, coalesced: one publication per tick however many sets arrived. */
  publishStateSoon(): void {
    if (this.#statePending) return;
    this.#statePending = true;
    setImmediate(() => {
      this.#statePending = false;
      if (this.#client.connected && this.#identityChecked) this.#client.publish(this.#t.state, this.#stateJson(), RETAINED);
    });
  }

  /** One meter frame, sent only while connected and never queued. */
  publishMeters(frame: MeterFrame): void {
    if (this.#client.connected && this.#identityChecked) this.#client.publish(this.#t.meters, JSON.stringify(frame), { qos: 0 });
  }

  /** The 1 Hz summary the Home Assistant level sensors and the teacher's console read. */
  publishLevels(s: LevelSummary): void {
    // A silent period's -Infinity peaks go out as null: "unknown" in Home Assistant.
    if (this.#client.connected && this.#identityChecked) this.#client.publish(this.#t.levels, JSON.stringify(s), { qos: 0 });
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
    const ours = topic === this.#t.availability ? AVAILABILITY_ONLINE : topic === this.#t.info ? this.#infoJson() : null;
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
    if (t.leaf === 'desired') { if (!t.deeper) this.#onDesired(t, payload); return; }
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
    // The unit's own set (and so its dashboard) is what a teacher's lock holds; all/group are the teacher's.
    const r = decoded.ok ? state.apply(decoded.value, t.kind === 'unit' ? 'mqtt' : 'teacher') : decoded;
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

  /** A retained desired setting arrived (or was cleared): apply what all of them add up to, and ack it. */
  #onDesired(t: { kind: string; group?: string }, payload: Buffer): void {
    const level: DesiredLevel = t.kind === 'group' ? 'group' : t.kind === 'unit' ? 'unit' : 'class';
    const parsed = parseDesiredPayload(payload);
    const ack = (rev: number | null, r: { ok: true } | { ok: false; error: string }): void => {
      if (!r.ok) this.#opts.log.warn(`the ${level} desired setting was not applied: ${r.error}`);
      if (this.#client.connected) {
        this.#client.publish(this.#t.ack, JSON.stringify({ rev, ok: r.ok, ...(r.ok ? {} : { error: r.error }), level, ...(t.group ? { group: t.group } : {}) }), { qos: 1 });
      }
    };
    if (!parsed.ok) {
      // Nothing changes on a bad document; the previous one at that level still holds.
      const rev = /"rev"\s*:\s*(\d{1,15})/.exec(payload.subarray(0, 200).toString())?.[1];
      ack(rev === undefined ? null : Number(rev), parsed);
      return;
    }
    const layers = this.#desired;
    const previous = level === 'class' ? layers.class : level === 'unit' ? layers.unit : layers.groups.get(t.group!) ?? null;
    const set = (d: DesiredSetting | null): void => {
      if (level === 'class') layers.class = d; else if (level === 'unit') layers.unit = d; else layers.groups.set(t.group!, d);
    };
    set(parsed.value);
    const r = this.#opts.state.applyDesired(effectiveSetting({
      class: layers.class, unit: layers.unit, groups: this.#groups.map((g) => [g, layers.groups.get(g) ?? null] as const),
    }));
    if (!r.ok) set(previous);
    ack(parsed.value?.rev ?? null, r);
    this.publishStateSoon();
  }

  /** On every (re)connect: subscribe, then the retained documents, so a client seeing `online` can command at once. */
  async announce(): Promise<void> {
    const { baseTopic, unitId } = this.#opts;
    const client = this.#client;
    if (!this.#identityChecked) {
      // Over this connection, before anything is published: if the id is
      // taken, a clean DISCONNECT drops our last will, so the running unit
      // is never marked offline.
      if (await probeUnit(client, baseTopic, unitId) === 'alive') {
        this.#duplicate = new UserError(`a unit with the id "${unitId}" is already running on ${this.#currentUrl()}; give this one another --unit id (or stop the other one first).`);
        await client.endAsync(false).catch(() => undefined);
        // During start-up firstConnection() reports it; later, the owner must stop the unit.
        if (this.#running) this.#opts.onFatal?.(this.#duplicate);
        return;
      }
      this.#identityChecked = true;
    }
    await client.subscribeAsync([
      ...commandFilters(baseTopic, unitId, this.#groups),
      this.#t.desired, classDesiredTopic(baseTopic), ...this.#groups.map((g) => groupDesiredTopic(baseTopic, g)),
    ], { qos: SUBSCRIPTION_QOS });
    // HA's birth message is not retained: subscribing now catches its next start.
    if (this.#haStatus) await client.subscribeAsync(this.#haStatus, { qos: SUBSCRIPTION_QOS });
    await Promise.all([
      client.publishAsync(this.#t.availability, AVAILABILITY_ONLINE, RETAINED),
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
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    for (const e of this.#extensions) e.stop();
    this.#opts.state.off('change', this.#onChange);
    this.#opts.state.off('presets', this.#onPresets);
    this.#opts.state.off('refused', this.#onRefused);
    if (this.#client.connected) {
      // Only a unit that announced itself says goodbye; the clean DISCONNECT drops the last will either way.
      if (this.#identityChecked) await this.#client.publishAsync(this.#t.availability, AVAILABILITY_OFFLINE, RETAINED).catch(() => undefined);
      await this.#client.endAsync();
    } else {
      await this.#client.endAsync(true);
    }
  }

  /**
   * Resolves once the unit is subscribed and has published its retained
   * documents, or once the first attempt failed or was refused (it keeps
   * retrying in the background; audio must not wait for the LAN). Rejects
   * with a UserError when another live unit has this id.
   */
  firstConnection(): Promise<void> {
    const client = this.#client;
    const { log } = this.#opts;
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        client.off('connect', onConnect); client.off('close', onClose);
      };
      // Registered after the constructor's own 'connect' listener, so #announced is this connection's.
      const onConnect = (): void => {
        done();
        this.#announced.then(() => {
          if (this.#duplicate) {
            const e = this.#duplicate;
            void this.stop().finally(() => reject(e));
          } else {
            this.#running = true;
            resolve();
          }
        }, resolve);
      };
      const onClose = (): void => {
        done();
        if (!this.#lastRefusal) log.warn(`cannot reach the MQTT broker at ${describeUrls(this.#urls)} yet; the unit keeps retrying.`);
        this.#running = true;
        resolve();
      };
      client.on('connect', onConnect);
      client.on('close', onClose);
    });
  }

  #stateJson(): string {
    return JSON.stringify(stateDocument(this.#opts.state.snapshot, this.#groups));
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
