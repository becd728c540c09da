/**
 * The embedded broker's gatekeeping: who logs in (users file, the unit's
 * own service account, anonymous access), what each connection may publish
 * and subscribe to (acl.ts), and which connections lose their rights when
 * the users file changes. Every limit and timing the broker applies is in
 * DEFAULTS, one place, as aedes keeps its own.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { AedesOptions, Client } from 'aedes';
import type { Logger } from '../log.js';
import { mayPublish, maySubscribe, commandTarget, type Identity } from './acl.js';
import { DEFAULT_BASE_TOPIC } from './topics.js';
import { USER_NAME_PATTERN, checkUnknownUser, readUsers, verifyPassword, type UserRecord } from './users.js';
import { LoginBusyError } from './password-thread.js';
import { LoginGuard } from './login-guard.js';
import { PublishRate, cut, remoteAddress } from './broker-limits.js';
import { unitOfClientId, unitOfDashboardClientId } from './client-ids.js';
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';

/** The broker's limits and timings; BrokerOptions may override some per run. */
export const DEFAULTS = {
  /** Interface the listeners bind: every one (the LAN). */
  host: '0.0.0.0',
  baseTopic: DEFAULT_BASE_TOPIC,
  /** Largest PUBLISH payload accepted; bigger ones close the sender's connection. */
  maxPayloadBytes: 256 * 1024,
  /** Room for the MQTT header around the largest payload in one WebSocket message. */
  wsFrameOverheadBytes: 1024,
  maxClients: 200,
  /** Topic filters one connection may hold (a dashboard or console needs a few dozen); more are refused in the SUBACK. */
  maxSubscriptionsPerClient: 1000,
  /**
   * Longest topic filter, and the characters of all filters one connection
   * holds: 1000 legal filters of 60 KB each took 75 MB per connection. The
   * unit's own topics are under 100 characters.
   */
  maxFilterChars: 512,
  maxFilterCharsPerClient: 128 * 1024,
  /**
   * Largest SUBSCRIBE or UNSUBSCRIBE packet (60 filters of the longest kind,
   * hundreds of usual ones), checked before it is buffered: one the size of
   * a PUBLISH only carries filters that would be refused.
   */
  maxSubscribePacketBytes: 32 * 1024,
  /** Topic levels beyond which a PUBLISH/SUBSCRIBE is refused. */
  maxTopicLevels: 16,
  /** A client that stops reading must not stall delivery to everyone else. */
  drainTimeoutMs: 10_000,
  /** Bytes that may wait to be sent to one client (a few of the largest packets); beyond, it is closed as too slow a reader. */
  maxOutgoingBytes: 1024 * 1024,
  /** Time a new connection has to send CONNECT. */
  connectTimeoutMs: 10_000,
  /** How often the users file is looked at for changes that close connections. */
  usersRecheckMs: 2000,
  /** Largest MQTT packet (its announced length, checked before buffering): the largest payload plus room for a long topic. */
  maxPacketBytes: 256 * 1024 + 16 * 1024,
  /** Largest packet before the login is through (CONNECT with its will, and what a client sends ahead of CONNACK). */
  maxConnectingPacketBytes: 16 * 1024,
  /**
   * QoS 2 messages one client may leave waiting for its PUBREL (Aedes holds
   * each, up to the packet limit; its default of 1000 let one connection
   * pin 250 MB). A real client has one or two; as the hub's max_inflight_messages.
   */
  maxInflightInbound: 20,
  /** Packets Aedes holds per client while its login is checked. */
  queueLimit: 8,
  /** Sockets that have not logged in yet, per address and in all (the rest are closed at once). */
  maxConnectingPerAddress: 16,
  maxConnecting: 128,
  /** QoS 1/2 messages kept for one persistent session (Mosquitto's max_queued_messages). */
  maxQueuedPerSession: 100,
  /** A persistent session offline this long is forgotten (Mosquitto's persistent_client_expiration). */
  sessionExpiryMs: 60 * 60_000,
  maxOfflineSessions: 100,
  /** Payload bytes waiting for all persistent sessions together. */
  maxQueuedBytes: 4 * 1024 * 1024,
  /** Topics holding a retained message, and the largest retained payload. */
  maxRetained: 1000,
  maxRetainedPayloadBytes: 64 * 1024,
  /** Payload bytes of all retained messages together (a unit's own documents take a few tens of KB). */
  maxRetainedBytes: 2 * 1024 * 1024,
  /** Back-off after failed logins (login-guard.ts). */
  login: {
    freeFailures: 3, firstDelayMs: 1000, maxAddressDelayMs: 5 * 60_000, maxUserDelayMs: 30_000,
    forgetAfterMs: 15 * 60_000, maxKeys: 4096, summaryEveryMs: 60_000,
  },
  /** Messages and payload bytes a second one address may publish, and the bursts it may send at once; beyond, the connection is closed. */
  publishRate: { perSecond: 500, burst: 1000, bytesPerSecond: 1024 * 1024, burstBytes: 4 * 1024 * 1024 },
  /** How often refused connections and failed logins are summed up in one log line. */
  summaryEveryMs: 60_000,
} as const;

/** What the auth hooks need to know; everything else is in DEFAULTS. */
export interface AuthOptions {
  readonly usersFile?: string | null;
  /** Without users, anonymous clients get full access; with users, anonymous ones are refused unless this is true (then as viewers). */
  readonly allowAnonymous: boolean;
  readonly baseTopic: string;
  readonly maxPayloadBytes: number;
  readonly maxClients: number;
  /** This unit's id: client ids shaped like its own are for its service account only. */
  readonly unitId?: string;
  /** The account this unit's dashboard logs in with: its client id is kept for it. */
  readonly dashboardUser?: string;
  readonly log: Logger;
}

/**
 * What the users file says right now: no file or no users (the broker is
 * open), users (log in required), or unreadable (nobody but the unit's own
 * client gets in until it is fixed: a broken file must never open the door).
 */
export type UsersState = { kind: 'open' } | { kind: 'users'; users: UserRecord[] } | { kind: 'locked' };

const OPEN: Identity = { name: 'anonymous', role: 'admin' };
const ANONYMOUS_VIEWER: Identity = { name: 'anonymous', role: 'viewer' };
/** A client we have no record of (should not happen): may do nothing. */
const NOBODY = null;
const SERVICE_NAME = '$picomp-engine';

/** Compares digests, so neither length nor content leaks through timing. */
function sameSecret(a: string, b: string): boolean {
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** The users file, re-read when it changes so `picomp user add` applies without a restart. */
export function usersSource(path: string | null | undefined, log: Logger): () => Promise<UsersState> {
  let cache: { version: string; state: UsersState } | null = null;
  return async () => {
    if (!path) return { kind: 'open' };
    let version: string;
    try {
      // The file is replaced by rename on every change, so the inode tells a new version even within one mtime tick.
      const s = await stat(path);
      version = `${s.ino}:${s.mtimeMs}:${s.size}`;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'open' };
      log.error(`cannot read the users file ${path} (${(e as Error).message}); only this unit's own client can connect until it is fixed.`);
      return { kind: 'locked' };
    }
    if (cache && cache.version === version) return cache.state;
    try {
      const users = await readUsers(path, log);
      cache = { version, state: users.length > 0 ? { kind: 'users', users } : { kind: 'open' } };
    } catch (e) {
      log.error(`${(e as Error).message} Only this unit's own client can connect until it is fixed.`);
      cache = { version, state: { kind: 'locked' } };
    }
    return cache.state;
  };
}

/**
 * Whether a connection made as `who` would still be let in as `who` under
 * the users file as it is now. Fewer rights than a new login would get
 * (an earlier user once the file is emptied) still hold.
 */
function loginStillHolds(who: Identity, loginHash: string | undefined, state: UsersState, allowAnonymous: boolean): boolean {
  if (who.name === SERVICE_NAME) return true;
  if (state.kind === 'open') return true;
  if (state.kind === 'locked') return false;
  if (who === OPEN) return false;
  if (who === ANONYMOUS_VIEWER) return allowAnonymous;
  const user = state.users.find((u) => u.name === who.name);
  return !!user && user.role === who.role && user.unit === who.unit && user.password.hash === loginHash;
}

type Hooks = Required<Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe'>>;

/**
 * The broker's auth hooks and the state behind them: who each connection
 * is, the users file as last seen, and the in-memory service account of
 * the unit's own client.
 */
export class BrokerAuth {
  /** Aedes keeps per-client state on the client object; ours is who they are. */
  readonly #identities = new WeakMap<Client, Identity>();
  /** The password hash a user's connection logged in with, to notice a changed password. */
  readonly #loginHashes = new WeakMap<Client, string>();
  /**
   * The filters each connection holds: Aedes keeps every one (20 000 long
   * filters took 40 MB), so their number is bounded. Seeded from what a
   * persistent session brought back, and shrunk on UNSUBSCRIBE.
   */
  readonly #filters = new WeakMap<Client, Set<string>>();
  /** Connections closed because their login no longer holds: not even their last will is published. */
  readonly #revoked = new WeakSet<Client>();
  readonly #warnedFilters = new WeakSet<Client>();
  /** Characters of the filters in #filters, per connection. */
  readonly #filterChars = new WeakMap<Client, number>();
  readonly #opts: AuthOptions;
  readonly users: () => Promise<UsersState>;
  /** Back-off for failed logins, per address and per user name. */
  readonly guard: LoginGuard;
  readonly #rate = new PublishRate(DEFAULTS.publishRate);
  /**
   * Credentials of the unit's own engine client: an admin account that
   * lives only in memory for this run, valid whatever the users file says.
   */
  readonly serviceAccount = { username: SERVICE_NAME, password: randomBytes(24).toString('base64url') };
  #seenUsers: UsersState = { kind: 'open' };
  /** Payloads the unit's own client publishes retained (Aedes passes the same Buffer on to the retained store). */
  readonly #ownRetained = new WeakSet<Buffer>();

  /** Whether a retained message is the unit's own document (never refused by the retained limits). */
  isOwnRetained(packet: { payload: Buffer }): boolean {
    return this.#ownRetained.has(packet.payload);
  }

  constructor(opts: AuthOptions) {
    this.#opts = opts;
    this.users = usersSource(opts.usersFile, opts.log);
    this.guard = new LoginGuard(DEFAULTS.login, opts.log);
  }

  /** Reads the users file once; returns whether clients must log in now. */
  async init(): Promise<boolean> {
    this.#seenUsers = await this.users();
    return this.#seenUsers.kind !== 'open';
  }

  /** Whether clients must log in right now (the users file has users, or cannot be read). */
  async usersRequired(): Promise<boolean> {
    return (await this.users()).kind !== 'open';
  }

  /** The hooks for Aedes.createBroker; `connectedClients` counts the broker's current clients. */
  hooks(connectedClients: () => number): Hooks {
    return {
      authenticate: (client, username, password, done) => this.#authenticate(client, username, password, connectedClients(), done),
      authorizePublish: (client, packet, done) => this.#authorizePublish(client, packet, done),
      authorizeSubscribe: (client, sub, done) => {
        const who = this.#identities.get(client) ?? NOBODY;
        if (!who || !maySubscribe(who, sub.topic)) {
          this.#opts.log.warn(`${who?.role ?? 'unknown client'} "${who?.name ?? cut(client.id)}" may not subscribe to ${cut(sub.topic)}.`);
          done(null, null);
          return;
        }
        if (!this.#mayAddFilter(client, sub.topic)) {
          done(null, null);
          return;
        }
        done(null, sub);
      },
    };
  }

  #mayAddFilter(client: Client, filter: string): boolean {
    let held = this.#filters.get(client);
    if (!held) {
      held = new Set(Object.keys((client as unknown as { subscriptions?: Record<string, unknown> }).subscriptions ?? {}));
      this.#filters.set(client, held);
      this.#filterChars.set(client, [...held].reduce((n, f) => n + f.length, 0));
    }
    if (held.has(filter)) return true;
    const chars = this.#filterChars.get(client) ?? 0;
    const why = filter.length > DEFAULTS.maxFilterChars ? `sent a topic filter of ${filter.length} characters (at most ${DEFAULTS.maxFilterChars})`
      : held.size >= DEFAULTS.maxSubscriptionsPerClient ? `holds ${DEFAULTS.maxSubscriptionsPerClient} subscriptions (the limit)`
        : chars + filter.length > DEFAULTS.maxFilterCharsPerClient ? `holds ${DEFAULTS.maxFilterCharsPerClient} characters of topic filters (the limit)`
          : null;
    if (why) {
      if (!this.#warnedFilters.has(client)) {
        this.#warnedFilters.add(client);
        this.#opts.log.warn(`MQTT client "${cut(client.id)}" ${why}; such subscriptions are refused (unsubscribing makes room).`);
      }
      return false;
    }
    held.add(filter);
    this.#filterChars.set(client, chars + filter.length);
    return true;
  }

  /** Aedes' 'unsubscribe' event: these filters no longer count against the connection's limit. */
  unsubscribed(client: Client, filters: readonly string[]): void {
    const held = this.#filters.get(client);
    if (!held) return;
    for (const f of filters) {
      if (held.delete(f)) this.#filterChars.set(client, (this.#filterChars.get(client) ?? f.length) - f.length);
    }
  }

  #authenticate(client: Client, username: string | undefined, password: Buffer | undefined, connected: number,
    done: Parameters<Hooks['authenticate']>[3]): void {
    const { log, maxClients, allowAnonymous } = this.#opts;
    const address = remoteAddress((client as unknown as { conn: Duplex }).conn, client.req as IncomingMessage | undefined);
    const refuse = (why: string, returnCode: 2 | 3 | 4 | 5 = 4, quiet = false): void => {
      (quiet ? log.debug : log.warn)(`refused MQTT client "${cut(client.id)}" from ${address}: ${why}`);
      done(Object.assign(new Error(why), { returnCode }), false);
    };
    // Checked here rather than in preConnect so the client gets a CONNACK
    // ("server unavailable") instead of a silently closed socket.
    if (connected >= maxClients) {
      refuse(`${maxClients} clients are already connected (the limit).`, 3);
      return;
    }
    const wait = this.guard.waitMs(address, username);
    if (wait > 0) {
      refuse(`too many failed logins from ${address}${username !== undefined ? ` or for "${cut(username)}"` : ''}; try again in ${Math.ceil(wait / 1000)} s.`, 5, true);
      return;
    }
    const failed = (why: string): void => {
      this.guard.failed(address, username);
      refuse(why, 4, true);
    };
    const admit = (who: Identity, loginHash?: string): void => {
      if (!this.#mayUseClientId(who, client.id)) {
        refuse(`the client id "${cut(client.id)}" belongs to ${unitOfDashboardClientId(client.id) !== null ? 'a unit\'s dashboard' : unitOfClientId(client.id) === this.#opts.unitId ? 'this unit' : `unit ${unitOfClientId(client.id)}`}; connect with another id (or none).`, 2);
        return;
      }
      if (loginHash !== undefined) {
        this.guard.succeeded(address, username);
        this.#loginHashes.set(client, loginHash);
      }
      this.#identities.set(client, who);
      done(null, true);
    };
    const pw = password?.toString('utf8') ?? '';
    if (username === this.serviceAccount.username) {
      if (sameSecret(pw, this.serviceAccount.password)) admit({ name: SERVICE_NAME, role: 'admin' });
      else failed(`wrong password for "${username}".`);
      return;
    }
    this.users().then(async (state) => {
      if (state.kind === 'open') { admit(OPEN); return; }
      if (state.kind === 'locked') { refuse('the users file cannot be read, so nobody can log in until it is fixed.'); return; }
      if (username === undefined) {
        if (allowAnonymous) { admit(ANONYMOUS_VIEWER); return; }
        refuse('no user name given and anonymous access is off.');
        return;
      }
      // No user can have a name outside the file's pattern (the rule is public): refused without a check.
      if (!USER_NAME_PATTERN.test(username)) { failed(`wrong user name or password for "${cut(username)}".`); return; }
      const user = state.users.find((u) => u.name === username);
      // Unknown names run a check too, so timing does not tell which names exist.
      const ok = user ? await verifyPassword(pw, user.password) : await checkUnknownUser();
      if (!user || !ok) { failed(`wrong user name or password for "${cut(username)}".`); return; }
      admit({ name: user.name, role: user.role, ...(user.unit ? { unit: user.unit } : {}) }, user.password.hash);
    }).catch((e: Error) => {
      // A login flood fills the checker's queue: its refusals go in the guard's summary line, not one line each.
      if (e instanceof LoginBusyError) { this.guard.busy(); refuse(e.message, 3, true); } else refuse(e.message, 4);
    });
  }

  /**
   * A client id shaped like a unit's own (`picomp-<unit>-…`) takes that
   * unit's place if it matches, so it is kept for that unit's accounts:
   * this unit's id for its service account only; another unit's (one that
   * uses this broker as its hub) for an operator of that unit, a teacher,
   * an admin, or anyone when the broker is open.
   */
  #mayUseClientId(who: Identity, clientId: string): boolean {
    const dashboardOf = unitOfDashboardClientId(clientId);
    if (dashboardOf !== null) {
      // The dashboard logs in as its own account (or anonymously on an open broker).
      return who.name === SERVICE_NAME || who === OPEN || (dashboardOf === this.#opts.unitId ? who.name === this.#opts.dashboardUser : who.role === 'admin');
    }
    const unit = unitOfClientId(clientId);
    if (unit === null || who.name === SERVICE_NAME) return true;
    if (unit === this.#opts.unitId) return false;
    return who === OPEN || who.role === 'admin' || who.role === 'teacher' || (who.role === 'operator' && who.unit === unit);
  }

  #authorizePublish(...[client, packet, done]: Parameters<Hooks['authorizePublish']>): void {
    const { log, maxPayloadBytes, baseTopic } = this.#opts;
    // The unit's own client publishes meters and echoes; it is not limited.
    if (client && this.#identities.get(client)?.name !== SERVICE_NAME
      && !this.#rate.take(remoteAddress((client as unknown as { conn: Duplex }).conn, client.req as IncomingMessage | undefined), packet.payload?.length ?? 0)) {
      log.warn(`closed MQTT client "${cut(client.id)}": it published more than ${DEFAULTS.publishRate.perSecond} messages or ${DEFAULTS.publishRate.bytesPerSecond >> 20} MiB a second.`);
      done(new Error('publish rate limit exceeded'));
      return;
    }
    if (packet.payload && packet.payload.length > maxPayloadBytes) {
      log.warn(`closed MQTT client "${cut(client?.id ?? '?')}": it sent ${packet.payload.length} bytes to ${cut(packet.topic)}, over the ${maxPayloadBytes}-byte limit.`);
      done(new Error(`payload of ${packet.payload.length} bytes on ${packet.topic} exceeds the ${maxPayloadBytes}-byte limit`));
      return;
    }
    // A closed connection's will comes with the client it belonged to; one
    // closed for a revoked login must not act with the rights it lost.
    if (client && this.#revoked.has(client)) {
      log.debug(`dropped the last will of "${cut(client.id)}" on ${cut(packet.topic)}: its login was revoked.`);
      done(new Error('login revoked'));
      return;
    }
    // client is null for wills published after their client left; those were checked at connect.
    if (client) {
      const who = this.#identities.get(client) ?? NOBODY;
      if (!who || !mayPublish(who, baseTopic, packet.topic)) {
        log.warn(`${who?.role ?? 'unknown client'} "${who?.name ?? cut(client.id)}" may not publish to ${cut(packet.topic)}; the message is dropped and the client disconnected.`);
        done(new Error(`not authorized to publish to ${packet.topic}`));
        return;
      }
    }
    // A retained command would be replayed into the unit at every reconnect.
    if (packet.retain && commandTarget(baseTopic, packet.topic)) packet.retain = false;
    if (packet.retain && client && this.#identities.get(client)?.name === SERVICE_NAME && Buffer.isBuffer(packet.payload)) this.#ownRetained.add(packet.payload);
    done(null);
  }

  /**
   * A connection keeps the rights it logged in with until it closes, so
   * when the users file changes (the first user added, a user removed, a
   * password or role changed), connections whose login no longer holds are
   * closed; they may log in again under the new rules.
   */
  async recheckLogins(clients: readonly Client[]): Promise<void> {
    const state = await this.users();
    const seen = this.#seenUsers;
    const unchanged = state === seen || (state.kind === 'open' && seen.kind === 'open');
    this.#seenUsers = state;
    if (unchanged) return;
    const dropped: string[] = [];
    for (const client of clients) {
      const who = this.#identities.get(client);
      if (!who || loginStillHolds(who, this.#loginHashes.get(client), state, this.#opts.allowAnonymous)) continue;
      dropped.push(`${who.name} (${cut(client.id)})`);
      this.#revoked.add(client);
      client.close();
    }
    if (dropped.length > 0) this.#opts.log.info(`the users file changed: closed ${dropped.length} connection(s) whose login no longer holds, ${dropped.join(', ')}; they may log in again.`);
  }
}
