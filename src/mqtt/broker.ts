/**
 * The embedded MQTT broker (Aedes) that a unit runs so LAN clients have a
 * meeting point: TCP, WebSocket for browsers, optional TLS; users and
 * roles from the users file; limits so one bad client cannot hurt others.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type Client } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { UserError } from '../errors.js';
import type { Logger } from '../log.js';
import { mayPublish, maySubscribe, commandTarget, type Identity } from './acl.js';
import { readUsers, verifyPassword, type UserRecord } from './users.js';

export interface BrokerOptions {
  /** TCP port; 0 picks a free one (tests). */
  readonly mqttPort: number;
  /** WebSocket port for browser clients; null for none. */
  readonly wsPort: number | null;
  /** Interface to listen on; default every interface (the LAN). */
  readonly host?: string;
  /** Users file; null or missing → no users. */
  readonly usersFile?: string | null;
  /** Without users, anonymous clients get full access; with users, anonymous ones are refused unless this is true (then as viewers). */
  readonly allowAnonymous: boolean;
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly port: number };
  /** Largest PUBLISH payload accepted; bigger ones close the sender's connection. */
  readonly maxPayloadBytes?: number;
  readonly maxClients?: number;
  /** Topic levels beyond which a PUBLISH/SUBSCRIBE is refused. */
  readonly maxTopicLevels?: number;
  /** Base topic of the units, for the ACL; default `picomp`. */
  readonly baseTopic?: string;
  /** How often the users file is looked at for changes that close connections; default 2 s. */
  readonly usersRecheckMs?: number;
  readonly log: Logger;
}

export interface RunningBroker {
  readonly mqttPort: number;
  readonly wsPort: number | null;
  readonly tlsPort: number | null;
  /** mqtt://host:port a local client can use. */
  readonly url: string;
  /**
   * Credentials of the unit's own engine client: an admin account that
   * lives only in memory for this run, valid whatever the users file says.
   */
  readonly serviceAccount: { readonly username: string; readonly password: string };
  /** Whether clients must log in right now (the users file has users, or cannot be read). */
  usersRequired(): Promise<boolean>;
  close(): Promise<void>;
}

export const DEFAULT_MAX_PAYLOAD_BYTES = 256 * 1024;
export const DEFAULT_MAX_CLIENTS = 200;
export const DEFAULT_MAX_TOPIC_LEVELS = 16;

/** Aedes keeps per-client state on the client object; ours is who they are. */
const identities = new WeakMap<Client, Identity>();
/** The password hash a user's connection logged in with, to notice a changed password. */
const loginHashes = new WeakMap<Client, string>();
/** Connections closed because their login no longer holds: not even their last will is published. */
const revoked = new WeakSet<Client>();

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

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function listen(server: NetServer | HttpServer, port: number, host: string, flag: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      if (e.code === 'EADDRINUSE') reject(new UserError(`port ${port} is already in use; pick another with ${flag} or stop the other broker.`));
      else if (e.code === 'EACCES') reject(new UserError(`port ${port} needs privileges on this system; pick one above 1023 with ${flag}.`));
      else reject(new UserError(`cannot listen on ${host}:${port} (${e.message}); check ${flag} and the address.`));
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

function closeServer(server: NetServer | HttpServer): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) { resolve(); return; }
    server.close(() => resolve());
    // close() waits for open sockets; Aedes has ended the MQTT ones already.
    if ('closeAllConnections' in server) (server as HttpServer).closeAllConnections();
  });
}

/**
 * What the users file says right now: no file or no users (the broker is
 * open), users (log in required), or unreadable (nobody but the unit's own
 * client gets in until it is fixed: a broken file must never open the door).
 */
type UsersState = { kind: 'open' } | { kind: 'users'; users: UserRecord[] } | { kind: 'locked' };

/** The users file, re-read when it changes so `picomp user add` applies without a restart. */
function usersSource(path: string | null | undefined, log: Logger): () => Promise<UsersState> {
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
      const users = await readUsers(path);
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

export async function startBroker(opts: BrokerOptions): Promise<RunningBroker> {
  const host = opts.host ?? '0.0.0.0';
  const baseTopic = opts.baseTopic ?? 'picomp';
  const maxPayload = opts.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const maxClients = opts.maxClients ?? DEFAULT_MAX_CLIENTS;
  const log = opts.log;
  const users = usersSource(opts.usersFile, log);
  // Decided per connection, so adding the first user takes effect at once
  // for new connections (and within usersRecheckMs for open ones).
  const authAtStart = (await users()).kind !== 'open';
  // The unit's own client always logs in with this in-memory account, so it
  // keeps working whatever happens to the users file.
  const service = { username: SERVICE_NAME, password: randomBytes(24).toString('base64url') };

  const broker = await Aedes.createBroker({
    maxTopicLevels: opts.maxTopicLevels ?? DEFAULT_MAX_TOPIC_LEVELS,
    // A client that stops reading must not stall delivery to everyone else.
    drainTimeout: 10_000,
    connectTimeout: 10_000,
    authenticate: (client, username, password, done) => {
      const refuse = (why: string): void => {
        log.warn(`refused MQTT client "${client.id}": ${why}`);
        done(Object.assign(new Error(why), { returnCode: 4 as const }), false);
      };
      // Checked here rather than in preConnect so the client gets a CONNACK
      // ("server unavailable") instead of a silently closed socket.
      if (broker.connectedClients >= maxClients) {
        log.warn(`refused MQTT client "${client.id}": ${maxClients} clients are already connected (the limit).`);
        done(Object.assign(new Error('too many clients'), { returnCode: 3 as const }), false);
        return;
      }
      const pw = password?.toString('utf8') ?? '';
      if (username === service.username) {
        if (sameSecret(pw, service.password)) { identities.set(client, { name: SERVICE_NAME, role: 'admin' }); done(null, true); }
        else refuse(`wrong password for "${username}".`);
        return;
      }
      users().then(async (state) => {
        if (state.kind === 'open') { identities.set(client, OPEN); done(null, true); return; }
        if (state.kind === 'locked') { refuse('the users file cannot be read, so nobody can log in until it is fixed.'); return; }
        if (username === undefined) {
          if (opts.allowAnonymous) { identities.set(client, ANONYMOUS_VIEWER); done(null, true); return; }
          refuse('no user name given and anonymous access is off.');
          return;
        }
        const user = state.users.find((u) => u.name === username);
        // Hash even for unknown names, so timing does not tell which names exist.
        const ok = user ? await verifyPassword(pw, user.password) : (await verifyPassword(pw, DUMMY_HASH), false);
        if (!user || !ok) { refuse(`wrong user name or password for "${username}".`); return; }
        identities.set(client, { name: user.name, role: user.role, ...(user.unit ? { unit: user.unit } : {}) });
        loginHashes.set(client, user.password.hash);
        done(null, true);
      }, (e: Error) => refuse(e.message));
    },
    authorizePublish: (client, packet, done) => {
      if (packet.payload && packet.payload.length > maxPayload) {
        log.warn(`closed MQTT client "${client?.id ?? '?'}": it sent ${packet.payload.length} bytes to ${packet.topic}, over the ${maxPayload}-byte limit.`);
        done(new Error(`payload of ${packet.payload.length} bytes on ${packet.topic} exceeds the ${maxPayload}-byte limit`));
        return;
      }
      // A closed connection's will comes with the client it belonged to; one
      // closed for a revoked login must not act with the rights it lost.
      if (client && revoked.has(client)) {
        log.debug(`dropped the last will of "${client.id}" on ${packet.topic}: its login was revoked.`);
        done(new Error('login revoked'));
        return;
      }
      // client is null for wills published after their client left; those were checked at connect.
      if (client) {
        const who = identities.get(client) ?? NOBODY;
        if (!who || !mayPublish(who, baseTopic, packet.topic)) {
          log.warn(`${who?.role ?? 'unknown client'} "${who?.name ?? client.id}" may not publish to ${packet.topic}; the message is dropped and the client disconnected.`);
          done(new Error(`not authorized to publish to ${packet.topic}`));
          return;
        }
      }
      // A retained command would be replayed into the unit at every reconnect.
      if (packet.retain && commandTarget(baseTopic, packet.topic)) packet.retain = false;
      done(null);
    },
    authorizeSubscribe: (client, sub, done) => {
      const who = identities.get(client) ?? NOBODY;
      if (!who || !maySubscribe(who, sub.topic)) {
        log.warn(`${who?.role ?? 'unknown client'} "${who?.name ?? client.id}" may not subscribe to ${sub.topic}.`);
        done(null, null);
        return;
      }
      done(null, sub);
    },
  });
  broker.on('clientError', (client, err) => log.debug(`MQTT client "${client.id}": ${err.message}`));

  // A connection keeps the rights it logged in with until it closes, so
  // when the users file changes (the first user added, a user removed, a
  // password or role changed), connections whose login no longer holds are
  // closed; they may log in again under the new rules.
  let seenUsers = await users();
  const recheckLogins = async (): Promise<void> => {
    const state = await users();
    const unchanged = state === seenUsers || (state.kind === 'open' && seenUsers.kind === 'open');
    seenUsers = state;
    if (unchanged) return;
    const clients = Object.values((broker as unknown as { clients: Record<string, Client> }).clients);
    const dropped: string[] = [];
    for (const client of clients) {
      const who = identities.get(client);
      if (!who || loginStillHolds(who, loginHashes.get(client), state, opts.allowAnonymous)) continue;
      dropped.push(`${who.name} (${client.id})`);
      revoked.add(client);
      client.close();
    }
    if (dropped.length > 0) log.info(`the users file changed: closed ${dropped.length} connection(s) whose login no longer holds, ${dropped.join(', ')}; they may log in again.`);
  };
  const recheckTimer = setInterval(() => { void recheckLogins(); }, opts.usersRecheckMs ?? 2000);
  recheckTimer.unref();
  broker.on('connectionError', (client, err) => log.debug(`MQTT connection "${client.id}": ${err.message}`));

  const servers: (NetServer | HttpServer)[] = [];
  let wss: WebSocketServer | null = null;
  const closeAll = async (): Promise<void> => {
    clearInterval(recheckTimer);
    wss?.clients.forEach((ws) => ws.terminate());
    wss?.close();
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await Promise.all(servers.map(closeServer));
  };

  try {
    // Commands and echoes are tiny packets: without noDelay, Nagle's algorithm
    // meeting delayed ACKs adds ~40 ms to every set → state round trip.
    const tcp = createNetServer({ noDelay: true }, (socket) => broker.handle(socket));
    servers.push(tcp);
    const mqttPort = await listen(tcp, opts.mqttPort, host, '--mqtt-port');

    let wsPort: number | null = null;
    if (opts.wsPort !== null) {
      const http = createHttpServer((_req, res) => {
        res.writeHead(426, { 'content-type': 'text/plain' }).end('This port speaks MQTT over WebSocket.\n');
      });
      servers.push(http);
      wss = new WebSocketServer({ server: http, maxPayload: maxPayload + 1024 });
      // The server's own errors (e.g. port in use) are handled by listen(); ws re-emits them here.
      wss.on('error', (e) => log.debug(`WebSocket server: ${e.message}`));
      wss.on('connection', (ws, req) => {
        const stream = createWebSocketStream(ws);
        stream.on('error', () => ws.terminate());
        broker.handle(stream, req);
      });
      wsPort = await listen(http, opts.wsPort, host, '--ws-port');
    }

    let tlsPort: number | null = null;
    if (opts.tls) {
      let cert: Buffer, key: Buffer;
      try {
        [cert, key] = await Promise.all([readFile(opts.tls.certFile), readFile(opts.tls.keyFile)]);
      } catch (e) {
        throw new UserError(`cannot read the TLS certificate or key (${(e as Error).message}); check the paths in the config.`);
      }
      const tlsServer = createTlsServer({ cert, key }, (socket) => { socket.setNoDelay(true); broker.handle(socket); });
      servers.push(tlsServer);
      tlsPort = await listen(tlsServer, opts.tls.port, host, 'the TLS port setting');
    }

    if (!authAtStart && !isLoopback(host)) {
      log.warn(`the MQTT broker on port ${mqttPort} lets anyone on the network change this unit; add users with \`picomp user add\` to require passwords.`);
    } else if (authAtStart && opts.allowAnonymous && !isLoopback(host)) {
      log.warn(`anonymous clients on the network may watch this unit (as viewers); set allow_anonymous: false to require a login for that too.`);
    }
    log.info(`MQTT broker listening on ${host}:${mqttPort}${wsPort !== null ? `, WebSocket on ${wsPort}` : ''}${tlsPort !== null ? `, TLS on ${tlsPort}` : ''}${authAtStart ? ', users required' : ''}.`);
    const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    return {
      mqttPort, wsPort, tlsPort,
      url: `mqtt://${urlHost}:${mqttPort}`,
      serviceAccount: service,
      usersRequired: async () => (await users()).kind !== 'open',
      close: closeAll,
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}

/** A fixed hash checked against for unknown user names (its password is random and unknown). */
const DUMMY_HASH = {
  algo: 'scrypt', N: 16384, r: 8, p: 1,
  salt: 'cGljb21wLWR1bW15LXNhbHQ=',
  hash: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
} as const;
