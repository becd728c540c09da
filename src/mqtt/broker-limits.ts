/**
 * Memory limits of the embedded broker, whoever sends what (as Mosquitto's
 * max_packet_size, max_queued_messages, persistent_client_expiration and
 * retain limits): a packet's announced length is checked before its bytes
 * are buffered; sockets that have not logged in yet are bounded per
 * address and overall; queues of persistent sessions, their number and
 * their age are bounded; so are retained messages. Every limit is in
 * DEFAULTS (broker-auth.ts).
 */
import type { Aedes, Client } from 'aedes';
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../log.js';

/** The parts of mqtt-packet's parser (inside each Aedes client) that the length cap hooks into. */
interface PacketParser {
  packet: { length: number; cmd?: string };
  _parseLength(): boolean;
  parse(buf: Buffer): number;
  _list: { length: number; consume(n: number): void };
}

/** The address a connection comes from (TCP, TLS, or the HTTP upgrade of a WebSocket). */
export function remoteAddress(stream: Duplex, req?: IncomingMessage): string {
  const s = (req?.socket ?? stream) as { remoteAddress?: string };
  return (s.remoteAddress ?? 'unknown').replace(/^::ffff:/, '');
}

/**
 * Caps the length of each MQTT packet this client may send, checked as
 * soon as the length field is parsed, before the body is buffered: an
 * announced 250 MB PUBLISH closes the connection at once (it used to be
 * held in full). Before the login is through the cap is smaller, so the
 * sockets that have not logged in (bounded by ConnectionGate) cannot hold
 * much either. Returns false if this Aedes build has no parser to hook
 * (then the caller should not run: the limit would be missing).
 */
export function capPacketLength(client: Client, caps: { connectedBytes: number; connectingBytes: number; subscribeBytes: number },
  onOversize: (bytes: number, cap: number, cmd: string) => void): boolean {
  const parser = (client as unknown as { _parser?: PacketParser })._parser;
  if (!parser || typeof parser._parseLength !== 'function') return false;
  const parseLength = parser._parseLength;
  parser._parseLength = function (this: PacketParser): boolean {
    const ok = parseLength.call(this);
    let cap = (client as unknown as { connackSent?: boolean }).connackSent ? caps.connectedBytes : caps.connectingBytes;
    // Filters are short (512 characters at most): a SUBSCRIBE the size of a PUBLISH only carries ones that would be refused.
    if (this.packet.cmd === 'subscribe' || this.packet.cmd === 'unsubscribe') cap = Math.min(cap, caps.subscribeBytes);
    if (!ok || this.packet.length <= cap) return ok;
    const bytes = this.packet.length;
    // Nothing more from this socket is read into memory.
    this.parse = () => 0;
    this._list.consume(this._list.length);
    onOversize(bytes, cap, this.packet.cmd ?? 'packet');
    (client as unknown as { conn: Duplex }).conn.destroy();
    return false;
  };
  return true;
}

/**
 * Caps what may wait in one connection's send buffer: a subscriber that
 * reads more slowly than messages arrive (a laptop on weak Wi-Fi, or a
 * script that stops reading) is closed once this much is waiting, as
 * Mosquitto bounds each client's queue. Aedes' drain timeout alone never
 * fired while such a reader still read a little: ten of them held up to
 * 100 messages each, and the unit passed 1 GB under 250 KB publishes.
 */
export function capOutgoingBytes(stream: Duplex, maxBytes: number, onOver: (bytes: number) => void): void {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  let closed = false;
  stream.write = ((...args: unknown[]): boolean => {
    if (closed) return false;
    if (stream.writableLength > maxBytes) {
      closed = true;
      onOver(stream.writableLength);
      stream.destroy();
      return false;
    }
    return write(...args);
  }) as typeof stream.write;
}

/** Nested deliveries beyond which the next one waits for a fresh stack. */
const MAX_NESTED_DELIVERIES = 64;

/**
 * Aedes hands each message to its emitter (mqemitter), which runs at most
 * 100 at a time and queues the rest; when a message has no subscriber left
 * it completes at once, and the emitter starts the next queued one inside
 * that call. A few thousand such messages (five senders bursting a
 * thousand each while their one subscriber left) overflowed the stack with
 * an uncaught RangeError that killed the unit, audio and all. Past a depth
 * of nested deliveries, the next one starts on a fresh stack.
 */
export function deliverOnFreshStacks(broker: Aedes): void {
  const mq = (broker as unknown as { mq: { _do(message: unknown, callback: unknown): unknown } }).mq;
  const deliver = mq._do.bind(mq);
  let depth = 0;
  mq._do = (message, callback) => {
    if (depth >= MAX_NESTED_DELIVERIES) {
      setImmediate(() => deliver(message, callback));
      return mq;
    }
    depth++;
    try { return deliver(message, callback); } finally { depth--; }
  };
}

/** A socket's place among those waiting for their login. */
export interface GateTicket { loggedIn(): void }

/**
 * Sockets that have not (yet) sent a CONNECT that was accepted: bounded
 * per address and overall, so a thousand idle sockets cannot lock real
 * users out until the connect timeout, nor hold memory. Refused sockets
 * are closed at once and counted in a summary line a minute.
 */
export class ConnectionGate {
  readonly #perAddress = new Map<string, number>();
  #total = 0;
  #refused = new Map<string, number>();
  readonly #timer: NodeJS.Timeout;

  constructor(private readonly limits: { perAddress: number; total: number; summaryEveryMs: number; loginWithinMs: number }, private readonly log: Logger) {
    this.#timer = setInterval(() => this.#summary(), limits.summaryEveryMs);
    this.#timer.unref();
  }

  /**
   * Whether this new socket may wait for its login; if so, `loggedIn` or the
   * socket's close releases its place. Called on the raw socket of every
   * listener, before a TLS handshake or a WebSocket upgrade, and a socket
   * still not logged in after `loginWithinMs` is closed: whatever stalls
   * (no CONNECT, no handshake, no upgrade) holds a place for that long only.
   */
  admit(address: string, stream: Duplex): GateTicket | null {
    const mine = this.#perAddress.get(address) ?? 0;
    if (mine >= this.limits.perAddress || this.#total >= this.limits.total) {
      this.#refused.set(address, (this.#refused.get(address) ?? 0) + 1);
      stream.destroy();
      return null;
    }
    this.#perAddress.set(address, mine + 1);
    this.#total++;
    let held = true;
    const deadline = setTimeout(() => { if (held) stream.destroy(); }, this.limits.loginWithinMs);
    deadline.unref();
    const release = (): void => {
      if (!held) return;
      held = false;
      clearTimeout(deadline);
      this.#total--;
      const n = (this.#perAddress.get(address) ?? 1) - 1;
      if (n > 0) this.#perAddress.set(address, n); else this.#perAddress.delete(address);
    };
    stream.once('close', release);
    return { loggedIn: release };
  }

  /** Sockets waiting for their login right now. */
  get waiting(): number { return this.#total; }

  #summary(): void {
    if (this.#refused.size === 0) return;
    const all = [...this.#refused.entries()].sort((a, b) => b[1] - a[1]);
    const count = all.reduce((s, [, n]) => s + n, 0);
    this.log.warn(`closed ${count} connection(s) that had not logged in yet, over the limit of ${this.limits.perAddress} per address and ${this.limits.total} in all: ${all.slice(0, 5).map(([a, n]) => `${a} (${n})`).join(', ')}${all.length > 5 ? ', …' : ''}.`);
    this.#refused = new Map();
  }

  stop(): void { clearInterval(this.#timer); }
}

/** What the persistence limits bound (see DEFAULTS). */
export interface PersistenceLimits {
  /** QoS 1/2 messages kept per persistent session; newer ones are dropped (Mosquitto's max_queued_messages). */
  readonly maxQueuedPerSession: number;
  /** A persistent session offline longer than this is forgotten (Mosquitto's persistent_client_expiration). */
  readonly sessionExpiryMs: number;
  /** Persistent sessions kept while offline; the oldest is forgotten first. */
  readonly maxOfflineSessions: number;
  /** Payload bytes queued for all persistent sessions together; beyond it new messages are dropped. */
  readonly maxQueuedBytes: number;
  readonly maxRetained: number;
  readonly maxRetainedPayloadBytes: number;
  /** Payload bytes of all retained messages together. */
  readonly maxRetainedBytes: number;
}

interface Persistence {
  outgoingEnqueue(sub: { clientId: string }, packet: unknown): Promise<void>;
  outgoingEnqueueCombi(subs: { clientId: string }[], packet: unknown): Promise<void>;
  outgoingClearMessageId(client: { id: string }, packet: { messageId?: number }): Promise<{ payload?: Buffer } | undefined>;
  cleanSubscriptions(client: { id: string }): Promise<void>;
  storeRetained(packet: { topic: string; payload: Buffer }): Promise<void>;
}

/**
 * Wraps the broker's in-memory persistence (its methods are what Aedes
 * calls) so that queues, offline sessions and retained messages are
 * bounded. The unit's own retained documents (`isOwn`: availability, info,
 * state, discovery, its will) are always kept, though they count: junk
 * filling the store must not leave a stale state or a missing availability.
 * Returns a stop function for the expiry timer.
 */
export function limitPersistence(broker: Aedes, limits: PersistenceLimits, log: Logger,
  isOwn: (packet: { payload: Buffer }) => boolean = () => false): () => void {
  const p = (broker as unknown as { persistence: Persistence }).persistence;
  const queued = new Map<string, number>();
  const warnedFull = new Set<string>();
  /** Persistent sessions now offline, and since when (insertion order = oldest first). */
  const offline = new Map<string, number>();
  /** Payload bytes of each retained topic, and of all together. */
  const retained = new Map<string, number>();
  let retainedBytes = 0;
  let queuedBytes = 0;
  let warnedBytes = false;
  let lastRetainWarn = 0;
  let refusedRetains = 0;

  const enqueue = p.outgoingEnqueue.bind(p);
  const enqueueCombi = p.outgoingEnqueueCombi.bind(p);
  const clear = p.outgoingClearMessageId.bind(p);
  const storeRetained = p.storeRetained.bind(p);

  const sizeOf = (packet: unknown): number => (packet as { payload?: Buffer }).payload?.length ?? 0;
  const room = (clientId: string, bytes: number): boolean => {
    if (queuedBytes + bytes > limits.maxQueuedBytes) {
      if (!warnedBytes) {
        warnedBytes = true;
        log.warn(`messages waiting for persistent sessions reached ${limits.maxQueuedBytes >> 20} MiB (the limit); newer ones for sessions that are away are dropped.`);
      }
      return false;
    }
    const n = queued.get(clientId) ?? 0;
    if (n < limits.maxQueuedPerSession) { queued.set(clientId, n + 1); queuedBytes += bytes; return true; }
    if (!warnedFull.has(clientId)) {
      warnedFull.add(clientId);
      log.warn(`the session of MQTT client "${cut(clientId)}" has ${n} messages waiting (the limit); newer ones for it are dropped until it collects them.`);
    }
    return false;
  };
  p.outgoingEnqueue = (sub, packet) => (room(sub.clientId, sizeOf(packet)) ? enqueue(sub, packet) : Promise.resolve());
  p.outgoingEnqueueCombi = (subs, packet) => enqueueCombi(subs.filter((s) => room(s.clientId, sizeOf(packet))), packet);
  p.outgoingClearMessageId = async (client, packet) => {
    const cleared = await clear(client, packet);
    if (cleared) {
      queuedBytes = Math.max(0, queuedBytes - sizeOf(cleared));
      if (queuedBytes < limits.maxQueuedBytes / 2) warnedBytes = false;
      const n = (queued.get(client.id) ?? 1) - 1;
      if (n > 0) queued.set(client.id, n); else { queued.delete(client.id); warnedFull.delete(client.id); }
    }
    return cleared;
  };
  p.storeRetained = (packet) => {
    const size = packet.payload.length;
    const old = retained.get(packet.topic);
    if (size === 0) {
      if (old !== undefined) { retained.delete(packet.topic); retainedBytes -= old; }
      return storeRetained(packet);
    }
    const why = isOwn(packet) ? null
      : size > limits.maxRetainedPayloadBytes ? `retained messages hold at most ${limits.maxRetainedPayloadBytes} bytes`
      : old === undefined && retained.size >= limits.maxRetained ? `${limits.maxRetained} topics already hold retained messages (the limit)`
        : retainedBytes - (old ?? 0) + size > limits.maxRetainedBytes ? `retained messages already take ${limits.maxRetainedBytes >> 20} MiB (the limit)`
          : null;
    if (why) {
      // One line a minute, not one per message of a flood.
      refusedRetains++;
      const now = Date.now();
      if (now - lastRetainWarn >= 60_000) {
        lastRetainWarn = now;
        log.warn(`did not retain ${size} bytes on ${cut(packet.topic)}${refusedRetains > 1 ? ` (and ${refusedRetains - 1} more since the last such line)` : ''}: ${why}; clear old ones with an empty retained message.`);
        refusedRetains = 0;
      }
      return Promise.resolve();
    }
    retained.set(packet.topic, size);
    retainedBytes += size - (old ?? 0);
    return storeRetained(packet);
  };

  /** Forgets a persistent session: its subscriptions and everything queued for it. */
  const forget = async (clientId: string): Promise<void> => {
    offline.delete(clientId);
    const who = { id: clientId };
    await p.cleanSubscriptions(who);
    // Queued offline messages have no message id yet; clearing "no id" removes them one by one.
    while (await p.outgoingClearMessageId(who, {})) { /* until empty */ }
    queued.delete(clientId);
    warnedFull.delete(clientId);
  };

  broker.on('clientDisconnect', (client: Client) => {
    if (client.clean || !client.id) return;
    offline.set(client.id, Date.now());
    if (offline.size > limits.maxOfflineSessions) {
      const oldest = offline.keys().next().value!;
      log.warn(`forgot the offline session of MQTT client "${cut(oldest)}": ${limits.maxOfflineSessions} persistent sessions are kept at most.`);
      void forget(oldest);
    }
  });
  broker.on('client', (client: Client) => { offline.delete(client.id); });
  const timer = setInterval(() => {
    const now = Date.now();
    for (const [id, since] of offline) {
      if (now - since < limits.sessionExpiryMs) break;
      log.info(`forgot the session of MQTT client "${cut(id)}", offline for over ${Math.round(limits.sessionExpiryMs / 60_000)} min.`);
      void forget(id);
    }
  }, Math.min(60_000, limits.sessionExpiryMs));
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * A topic, client id or user name as it may appear in a log line: long
 * ones cut, and control characters written as \uXXXX, since whoever sent
 * it chose them (a newline would start a forged log line).
 */
export function cut(raw: string | null | undefined, max = 120): string {
  // A client's id is null in the events of a connection that has not sent CONNECT.
  const text = String(raw);
  const shown = text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
  // eslint-disable-next-line no-control-regex
  return shown.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Messages and payload bytes a second one address may publish (two token
 * buckets, as EMQX's message and byte rate limits), across its
 * connections, so reconnecting does not refill them: a slider dragged on
 * the dashboard sends a few dozen small messages; a set storm of thousands
 * a second, or 250 KB payloads at full speed to subscribers that read
 * slowly, would only pile up in the broker's buffers.
 */
export interface PublishLimits {
  readonly perSecond: number;
  readonly burst: number;
  readonly bytesPerSecond: number;
  readonly burstBytes: number;
}

export class PublishRate {
  readonly #buckets = new Map<string, { messages: number; bytes: number; at: number }>();
  constructor(private readonly limits: PublishLimits, private readonly now: () => number = Date.now) {}

  /** Whether this address may publish one more message of `bytes` payload now. */
  take(address: string, bytes = 0): boolean {
    const t = this.now();
    const l = this.limits;
    const b = this.#buckets.get(address) ?? { messages: l.burst, bytes: l.burstBytes, at: t };
    const s = (t - b.at) / 1000;
    b.messages = Math.min(l.burst, b.messages + s * l.perSecond);
    b.bytes = Math.min(l.burstBytes, b.bytes + s * l.bytesPerSecond);
    b.at = t;
    // Re-inserted so the oldest is first; the map stays small.
    this.#buckets.delete(address);
    this.#buckets.set(address, b);
    if (this.#buckets.size > 4096) this.#buckets.delete(this.#buckets.keys().next().value!);
    if (b.messages < 1 || b.bytes < bytes) return false;
    b.messages -= 1;
    b.bytes -= bytes;
    return true;
  }
}
