/**
 * The embedded broker's sockets: MQTT over TCP, over WebSocket for
 * browsers, and over TLS. Each hands its connections to the broker; who
 * may do what is decided in the broker's hooks (broker-auth.ts), not here.
 */
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer } from 'node:tls';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { UserError } from '../errors.js';
import type { Logger } from '../log.js';
import { portTakenError } from './port-taken.js';
import type { GateTicket } from './broker-limits.js';

export interface ListenerOptions {
  readonly host: string;
  readonly mqttPort: number;
  /** null: no WebSocket listener. */
  readonly wsPort: number | null;
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly port: number };
  /** Largest WebSocket message accepted. */
  readonly wsMaxPayloadBytes: number;
  readonly log: Logger;
}

/**
 * Where connections go: `admit` sees every raw socket as it arrives (before
 * a TLS handshake or a WebSocket upgrade) and may close it; `handle` gets
 * the MQTT stream of each admitted one with its ticket.
 */
export interface ConnectionHandler {
  admit(socket: Socket): GateTicket | null;
  handle(stream: Duplex, ticket: GateTicket, req?: IncomingMessage): void;
}

/** The same connection seen by the raw and the TLS or HTTP layer. */
const socketKey = (s: { remoteAddress?: string | undefined; remotePort?: number | undefined }): string => `${s.remoteAddress}|${s.remotePort}`;

export interface RunningListeners {
  readonly mqttPort: number;
  readonly wsPort: number | null;
  readonly tlsPort: number | null;
  /** Closes every socket; call after the broker closed its clients. */
  close(): Promise<void>;
}

/**
 * Admits each raw socket as it reaches `server` (before its TLS handshake or
 * WebSocket upgrade); the tickets wait here, by address and port, for the
 * layer above to hand the connection on.
 */
function admitOnArrival(server: NetServer | HttpServer, handler: ConnectionHandler): Map<string, GateTicket> {
  const waiting = new Map<string, GateTicket>();
  server.on('connection', (socket: Socket) => {
    const ticket = handler.admit(socket);
    if (!ticket) return;
    const key = socketKey(socket);
    waiting.set(key, ticket);
    socket.once('close', () => waiting.delete(key));
  });
  return waiting;
}

function listen(server: NetServer | HttpServer, port: number, host: string, flag: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      if (e.code === 'EADDRINUSE' && (flag === '--mqtt-port' || flag === '--ws-port')) void portTakenError(host, port, flag).then(reject);
      else if (e.code === 'EADDRINUSE') reject(new UserError(`port ${port} is already in use; pick another with ${flag} or stop the other program.`));
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

/** Opens every listener; on failure closes those already open and throws a UserError. */
export async function startListeners(opts: ListenerOptions, handler: ConnectionHandler): Promise<RunningListeners> {
  const { host, log } = opts;
  const servers: (NetServer | HttpServer)[] = [];
  let wss: WebSocketServer | null = null;
  const close = async (): Promise<void> => {
    wss?.clients.forEach((ws) => ws.terminate());
    wss?.close();
    await Promise.all(servers.map(closeServer));
  };
  try {
    // Commands and echoes are tiny packets: without noDelay, Nagle's algorithm
    // meeting delayed ACKs adds ~40 ms to every set → state round trip.
    const tcp = createNetServer({ noDelay: true }, (socket) => {
      const ticket = handler.admit(socket);
      if (ticket) handler.handle(socket, ticket);
    });
    servers.push(tcp);
    const mqttPort = await listen(tcp, opts.mqttPort, host, '--mqtt-port');

    let wsPort: number | null = null;
    if (opts.wsPort !== null) {
      const http = createHttpServer((_req, res) => {
        res.writeHead(426, { 'content-type': 'text/plain' }).end('This port speaks MQTT over WebSocket.\n');
      });
      servers.push(http);
      // Admitted before the upgrade: idle sockets that never upgrade count like ones that never send CONNECT.
      const waitingUpgrade = admitOnArrival(http, handler);
      const ws = new WebSocketServer({ server: http, maxPayload: opts.wsMaxPayloadBytes });
      wss = ws;
      // The server's own errors (e.g. port in use) are handled by listen(); ws re-emits them here.
      ws.on('error', (e) => log.debug(`WebSocket server: ${e.message}`));
      ws.on('connection', (socket, req) => {
        const ticket = waitingUpgrade.get(socketKey(req.socket));
        if (!ticket) { socket.terminate(); return; }
        const stream = createWebSocketStream(socket);
        stream.on('error', () => socket.terminate());
        handler.handle(stream, ticket, req);
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
      let tlsServer;
      try {
        tlsServer = createTlsServer({ cert, key }, (socket) => {
          const ticket = waitingHandshake.get(socketKey(socket));
          if (!ticket) { socket.destroy(); return; }
          socket.setNoDelay(true);
          handler.handle(socket, ticket);
        });
      } catch (e) {
        // OpenSSL's own words ("PEM routines::no start line") do not say which file or what to do.
        throw new UserError(`the TLS certificate ${opts.tls.certFile} or key ${opts.tls.keyFile} is not a usable PEM pair (${(e as Error).message.replace(/^error:[0-9A-F]+:/, '')}); give PEM files (they start with -----BEGIN).`);
      }
      // Admitted before the handshake, as above.
      const waitingHandshake = admitOnArrival(tlsServer, handler);
      servers.push(tlsServer);
      tlsPort = await listen(tlsServer, opts.tls.port, host, 'the TLS port setting');
    }
    return { mqttPort, wsPort, tlsPort, close };
  } catch (e) {
    await close();
    throw e;
  }
}
