/**
 * The sentence for a taken MQTT port. Usually it is a Mosquitto (or Home
 * Assistant's broker add-on) already on 1883: then the unit can simply use
 * it, so the error says how (--broker), after asking the port whether it
 * speaks MQTT; otherwise, and in any case, it names a free port nearby
 * (nearbyFreePort() serves the dashboard's port, 1880 = Node-RED's, too).
 */
import { createServer } from 'node:net';
import mqtt from 'mqtt';
import { UserError } from '../errors.js';

/** How far above a taken port to look for a free one to suggest. */
const SEARCH_SPAN = 20;

function isFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

/** The first free port after `port` (within a few), or null when none is. */
export async function nearbyFreePort(host: string, port: number): Promise<number | null> {
  for (let p = port + 1; p <= Math.min(65535, port + SEARCH_SPAN); p++) {
    if (await isFree(host, p)) return p;
  }
  return null;
}

/** The loopback address other programs on this machine reach a listener on `host` at. */
export function localAddressOf(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/** How long the port gets to answer an MQTT CONNECT. */
const PROBE_TIMEOUT_MS = 1500;

/** Whether something at url answers MQTT (a CONNACK, even one refusing us). */
export async function speaksMqtt(url: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: timeoutMs, clientId: `picomp-probe-${process.pid}` });
    // A program that accepts and never answers gets no say from mqtt.js: decide on our own clock.
    const timer = setTimeout(() => done(false), timeoutMs);
    const done = (yes: boolean): void => {
      clearTimeout(timer);
      client.removeAllListeners();
      client.on('error', () => undefined);
      client.end(true);
      // end() leaves a socket that never got a CONNACK open; the other program must not keep it.
      client.stream?.destroy();
      resolve(yes);
    };
    client.once('connect', () => done(true));
    // A refused CONNACK carries a return code: a broker that wants a login is still a broker.
    client.once('error', (e: Error & { code?: unknown }) => done(typeof e.code === 'number'));
    client.once('close', () => done(false));
  });
}

/** The UserError for `flag`'s port being in use on `host`. */
export async function portTakenError(host: string, port: number, flag: '--mqtt-port' | '--ws-port'): Promise<UserError> {
  const free = await nearbyFreePort(host, port);
  const other = free === null ? `another port with ${flag} N` : `another port, e.g. ${flag} ${free}`;
  if (flag === '--mqtt-port') {
    const address = `mqtt://${localAddressOf(host)}:${port}`;
    if (await speaksMqtt(address)) {
      return new UserError(`port ${port} is already in use by an MQTT broker (Mosquitto?): use it with --broker ${address} (no embedded broker then), or give the embedded broker ${other}.`);
    }
  }
  return new UserError(`port ${port} is already in use by another program; give the embedded broker ${other} (or stop that program).`);
}
