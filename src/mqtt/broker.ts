/**
 * The embedded MQTT broker (Aedes) that a unit runs so LAN clients have a
 * meeting point: TCP, WebSocket for browsers, optional TLS (listeners.ts);
 * users, roles and limits so one bad client cannot hurt others
 * (broker-auth.ts, whose DEFAULTS hold every limit and timing).
 */
import { Aedes, type Client } from 'aedes';
import type { Logger } from '../log.js';
import { BrokerAuth, DEFAULTS } from './broker-auth.js';
import { startListeners } from './listeners.js';
import { writePacketsWithoutNumberTable } from './packet-writer.js';
import { ConnectionGate, type GateTicket, capOutgoingBytes, capPacketLength, cut, deliverOnFreshStacks, limitPersistence, remoteAddress } from './broker-limits.js';
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';

export interface BrokerOptions {
  /** TCP port; 0 picks a free one (tests). */
  readonly mqttPort: number;
  /** WebSocket port for browser clients; null for none. */
  readonly wsPort: number | null;
  /** Interface to listen on; default every interface (the LAN). Defaults of the optional fields: DEFAULTS. */
  readonly host?: string;
  /** Users file; null or missing → no users. */
  readonly usersFile?: string | null;
  /** Without users, anonymous clients get full access; with users, anonymous ones are refused unless this is true (then as viewers). */
  readonly allowAnonymous: boolean;
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly port: number };
  readonly maxPayloadBytes?: number;
  readonly maxClients?: number;
  readonly maxTopicLevels?: number;
  /** Base topic of the units, for the ACL. */
  readonly baseTopic?: string;
  readonly usersRecheckMs?: number;
  /** This unit's id: client ids shaped like its own are kept for its own client (client-ids.ts). */
  readonly unitId?: string;
  /** The account the unit's dashboard logs in with, whose client id is kept for it. */
  readonly dashboardUser?: string;
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

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

export async function startBroker(opts: BrokerOptions): Promise<RunningBroker> {
  const host = opts.host ?? DEFAULTS.host;
  const maxPayloadBytes = opts.maxPayloadBytes ?? DEFAULTS.maxPayloadBytes;
  const log = opts.log;
  const auth = new BrokerAuth({
    usersFile: opts.usersFile, allowAnonymous: opts.allowAnonymous, baseTopic: opts.baseTopic ?? DEFAULTS.baseTopic,
    maxPayloadBytes, maxClients: opts.maxClients ?? DEFAULTS.maxClients, log,
    ...(opts.unitId !== undefined ? { unitId: opts.unitId } : {}),
    ...(opts.dashboardUser !== undefined ? { dashboardUser: opts.dashboardUser } : {}),
  });
  // Decided per connection, so adding the first user takes effect at once
  // for new connections (and within usersRecheckMs for open ones).
  const authAtStart = await auth.init();
  writePacketsWithoutNumberTable();

  const broker: Aedes = await Aedes.createBroker({
    maxTopicLevels: opts.maxTopicLevels ?? DEFAULTS.maxTopicLevels,
    drainTimeout: DEFAULTS.drainTimeoutMs,
    connectTimeout: DEFAULTS.connectTimeoutMs,
    queueLimit: DEFAULTS.queueLimit,
    maxInflightInbound: DEFAULTS.maxInflightInbound,
    ...auth.hooks(() => broker.connectedClients),
  });
  deliverOnFreshStacks(broker);
  const stopPersistenceLimits = limitPersistence(broker, DEFAULTS, log, (packet) => auth.isOwnRetained(packet));
  const gate = new ConnectionGate({
    perAddress: DEFAULTS.maxConnectingPerAddress, total: DEFAULTS.maxConnecting, summaryEveryMs: DEFAULTS.summaryEveryMs, loginWithinMs: DEFAULTS.connectTimeoutMs,
  }, log);
  const tickets = new WeakMap<Client, GateTicket>();
  broker.on('client', (client) => tickets.get(client)?.loggedIn());
  broker.on('unsubscribe', (filters, client) => auth.unsubscribed(client, filters));
  const caps = { connectedBytes: Math.max(DEFAULTS.maxPacketBytes, maxPayloadBytes + 16 * 1024), connectingBytes: DEFAULTS.maxConnectingPacketBytes, subscribeBytes: DEFAULTS.maxSubscribePacketBytes };
  const handle = (stream: Duplex, ticket: GateTicket, req?: IncomingMessage): void => {
    const address = remoteAddress(stream, req);
    const client = broker.handle(stream, req);
    tickets.set(client, ticket);
    capOutgoingBytes(stream, Math.max(DEFAULTS.maxOutgoingBytes, 2 * caps.connectedBytes), (bytes) => {
      log.warn(`closed MQTT client${client.id ? ` "${cut(client.id)}"` : ''} from ${address}: ${bytes} bytes were waiting for it to read (too slow a reader).`);
    });
    const capped = capPacketLength(client, caps, (bytes, cap, cmd) => {
      log.warn(`closed MQTT connection${client.id ? ` "${cut(client.id)}"` : ''} from ${address}: it announced a ${bytes}-byte ${cmd.toUpperCase()}, over the ${cap}-byte limit.`);
    });
    if (!capped && !warnedUncapped) {
      warnedUncapped = true;
      log.error('this Aedes version has no packet parser to cap; packet lengths are not limited (update src/mqtt/broker-limits.ts).');
    }
  };
  let warnedUncapped = false;
  broker.on('clientError', (client, err) => log.debug(`MQTT client "${cut(client.id)}": ${cut(err.message, 300)}`));
  broker.on('connectionError', (client, err) => log.debug(`MQTT connection "${cut(client.id)}": ${cut(err.message, 300)}`));
  const clients = (): Client[] => Object.values((broker as unknown as { clients: Record<string, Client> }).clients);
  const recheckTimer = setInterval(() => { void auth.recheckLogins(clients()); }, opts.usersRecheckMs ?? DEFAULTS.usersRecheckMs);
  recheckTimer.unref();
  const closeBroker = async (): Promise<void> => {
    clearInterval(recheckTimer);
    stopPersistenceLimits();
    gate.stop();
    auth.guard.stop();
    await new Promise<void>((resolve) => broker.close(() => resolve()));
  };

  let listeners;
  try {
    listeners = await startListeners({
      host, mqttPort: opts.mqttPort, wsPort: opts.wsPort, ...(opts.tls ? { tls: opts.tls } : {}),
      wsMaxPayloadBytes: maxPayloadBytes + DEFAULTS.wsFrameOverheadBytes, log,
    }, { admit: (socket) => gate.admit(remoteAddress(socket), socket), handle });
  } catch (e) {
    await closeBroker();
    throw e;
  }
  const { mqttPort, wsPort, tlsPort } = listeners;
  if (!authAtStart && !isLoopback(host)) {
    log.warn(`the MQTT broker on port ${mqttPort} lets anyone on the network change this unit; add users with \`picomp user add\` to require passwords.`);
  } else if (authAtStart && opts.allowAnonymous && !isLoopback(host)) {
    log.warn(`anonymous clients on the network may watch this unit (as viewers); set allow_anonymous: false to require a login for that too.`);
  }
  log.info(`MQTT broker listening on ${host}:${mqttPort}${wsPort !== null ? `, WebSocket on ${wsPort}` : ''}${tlsPort !== null ? `, TLS on ${tlsPort}` : ''}${authAtStart ? ', users required' : ''}.`);
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const running = listeners;
  return {
    mqttPort, wsPort, tlsPort,
    url: `mqtt://${urlHost}:${mqttPort}`,
    serviceAccount: auth.serviceAccount,
    usersRequired: () => auth.usersRequired(),
    close: async () => { await closeBroker(); await running.close(); },
  };
}
