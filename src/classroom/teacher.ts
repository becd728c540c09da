/**
 * The teacher's side of the hub: log in (trying each hub URL in turn),
 * read what is retained, publish desired settings and collect the units'
 * acks. Used by `picomp class`; the console can use it too.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { UserError } from '../errors.js';
import { redactUrl } from '../mqtt/redact-url.js';
import { everyUnitFilter, parseTopic, unitTopics } from '../mqtt/topics.js';
import { SUBSCRIPTION_QOS } from '../mqtt/unit-identity.js';
import { desiredToJson, type DesiredLevel, type DesiredSetting } from '../unit/desired.js';

export interface HubLogin {
  /** Hub URLs, tried in turn. */
  readonly servers: readonly string[];
  readonly username?: string;
  readonly password?: string;
}

const REFUSED = /not authori[sz]ed|bad user ?name or password/i;

/** Connects to the first hub that answers; one sentence when none does. */
export async function connectHub(login: HubLogin, role = 'teacher'): Promise<MqttClient> {
  const problems: string[] = [];
  for (const url of login.servers) {
    try {
      return await mqtt.connectAsync(url, {
        reconnectPeriod: 0, connectTimeout: 5000, clean: true,
        // Not `picomp-<word>-<hex>`: a unit's broker keeps that shape for unit `<word>`'s own clients.
        clientId: `picomp.${role}-${Math.random().toString(16).slice(2, 10)}`,
        ...(login.username !== undefined ? { username: login.username, password: login.password ?? '' } : {}),
      });
    } catch (e) {
      const msg = (e as Error).message;
      if (REFUSED.test(msg)) {
        throw new UserError(`the hub at ${redactUrl(url)} refused the login${login.username ? ` of "${login.username}"` : ''}; give --username and the password in PICOMP_BROKER_PASSWORD.`);
      }
      problems.push(`${redactUrl(url)} (${msg})`);
    }
  }
  throw new UserError(`cannot reach the hub: ${problems.join('; ')}.`);
}

/**
 * How long to keep trying a refused subscription: a clustered broker
 * refuses them while it elects new leaders after losing a node (about 10 s
 * for NATS, whose MQTT subscriptions are JetStream consumers).
 */
const SUBSCRIBE_PATIENCE_MS = 30_000;

/** Subscribes, trying again a second apart while the hub refuses; then one sentence. */
export async function subscribeHub(client: MqttClient, filters: string | string[]): Promise<void> {
  const deadline = Date.now() + SUBSCRIBE_PATIENCE_MS;
  for (;;) {
    try {
      await client.subscribeAsync(filters, { qos: SUBSCRIPTION_QOS });
      return;
    } catch (e) {
      if (Date.now() > deadline || !client.connected) {
        throw new UserError(`the hub refused to subscribe to ${[filters].flat().join(', ')} (${(e as Error).message}); check this login's rights, or try again if a cluster node just failed.`);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/**
 * Everything retained under these filters now. The end is known without
 * waiting on a clock: after subscribing, we send a message to a `get`
 * topic no unit has (a teacher may write `<unit>/get`) and subscribe to it;
 * the broker handles our packets in order, so the retained messages it
 * queued for our subscriptions come before that echo.
 */
export async function retainedSnapshot(client: MqttClient, baseTopic: string, filters: readonly string[], timeoutMs = 5000): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const sync = unitTopics(baseTopic, `sync-${Math.random().toString(16).slice(2, 12)}`).get;
  let done: (() => void) | null = null;
  const onMessage = (topic: string, payload: Buffer, packet: { retain: boolean }): void => {
    if (topic === sync) { done?.(); return; }
    if (!packet.retain) return;
    if (payload.length === 0) out.delete(topic); else out.set(topic, payload.toString('utf8'));
  };
  client.on('message', onMessage);
  try {
    await subscribeHub(client, [...filters, sync]);
    const echoed = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new UserError(`the hub did not answer within ${timeoutMs / 1000} s: it may be overloaded, or it silently drops what this login may not write (Mosquitto does; picomp class needs a teacher or admin login, --username).`)), timeoutMs);
      // A login that may not write `get` (a viewer, a student) is disconnected by the hub; the publish below then never settles.
      const closed = (): void => { clearTimeout(timer); reject(new UserError('the hub closed the connection while reading the room; picomp class needs a teacher or admin login (--username).')); };
      client.once('close', closed);
      done = () => { clearTimeout(timer); client.off('close', closed); resolve(); };
    });
    await Promise.race([client.publishAsync(sync, '', { qos: 1 }), echoed]);
    await echoed;
    return out;
  } finally {
    client.off('message', onMessage);
    // On a closed connection this would never settle (and Node would exit 0 with nothing said).
    if (client.connected) await client.unsubscribeAsync([...filters, sync]).catch(() => undefined);
  }
}

/** How long the hub has to acknowledge a desired setting. */
export const PUBLISH_ACK_TIMEOUT_MS = 10_000;

/**
 * Publishes a desired setting retained, or clears it (null), and waits for
 * the hub's acknowledgement. A clustered hub that just lost a node may hold
 * it back while it elects a new leader for its retained messages (NATS, for
 * ~10 s), and a connection that closes meanwhile would leave the publish
 * pending forever (Node would exit 0 with nothing said): both are a sentence.
 */
export async function publishDesired(client: MqttClient, topic: string, doc: DesiredSetting | null,
  timeoutMs = PUBLISH_ACK_TIMEOUT_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let onClose: (() => void) | undefined;
  const givenUp = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new UserError(`the hub did not acknowledge the class setting within ${timeoutMs / 1000} s (a clustered hub that just lost a node may still be recovering); nothing is known to have changed, try again in a moment.`)), timeoutMs);
    onClose = () => reject(new UserError('the hub closed the connection before it acknowledged the class setting; nothing is known to have changed, try again.'));
    client.once('close', onClose);
  });
  try {
    await Promise.race([client.publishAsync(topic, doc ? JSON.stringify(desiredToJson(doc)) : '', { qos: 1, retain: true }), givenUp]);
  } finally {
    clearTimeout(timer);
    client.off('close', onClose!);
  }
}

export interface AckReport {
  readonly ok: boolean;
  readonly error?: string;
}

/** Longest refusal shown for one unit; a unit's own errors are one sentence. */
const MAX_ACK_ERROR_CHARS = 300;

/**
 * An ack's error as one line for the teacher's terminal: whoever may write
 * a unit's `ack` decides its text, so control characters (escape
 * sequences, newlines) become spaces and the length is bounded.
 */
function printableLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  const line = text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ');
  return line.length <= MAX_ACK_ERROR_CHARS ? line : `${line.slice(0, MAX_ACK_ERROR_CHARS)}…`;
}

/**
 * Starts listening for acks of `rev`; `collect(units, ms)` resolves once
 * every named unit answered or the time is up. Start it before publishing,
 * so no ack can slip past.
 */
export async function listenForAcks(client: MqttClient, baseTopic: string, rev: number, level: DesiredLevel): Promise<{
  collect(units: readonly string[], timeoutMs: number): Promise<Map<string, AckReport>>;
}> {
  const acks = new Map<string, AckReport>();
  let check: (() => void) | null = null;
  const onMessage = (topic: string, payload: Buffer): void => {
    const t = parseTopic(baseTopic, topic);
    if (t?.kind !== 'unit' || t.leaf !== 'ack') return;
    try {
      const a = JSON.parse(payload.toString('utf8')) as { rev?: unknown; ok?: unknown; error?: unknown; level?: unknown };
      if (a.rev !== rev || typeof a.ok !== 'boolean' || (a.level !== undefined && a.level !== level)) return;
      acks.set(t.unit, { ok: a.ok, ...(typeof a.error === 'string' ? { error: printableLine(a.error) } : {}) });
      check?.();
    } catch { /* not an ack we can read: ignore */ }
  };
  client.on('message', onMessage);
  await subscribeHub(client, everyUnitFilter(baseTopic, 'ack'));
  return {
    collect: (units, timeoutMs) => new Promise((resolve) => {
      const finish = (): void => { clearTimeout(timer); check = null; client.off('message', onMessage); resolve(acks); };
      const timer = setTimeout(finish, timeoutMs);
      check = () => { if (units.every((u) => acks.has(u))) finish(); };
      check();
    }),
  };
}
