/**
 * The sentence for a taken MQTT port. Usually it is a Mosquitto (or Home
 * Assistant's broker add-on) already on 1883: then the unit can simply use
 * it, so the error says how (--broker), after asking the port whether it
 * speaks MQTT; otherwise, and in any case, it names a free port nearby.
 */
import mqtt from 'mqtt';
import { UserError } from '../errors.js';
import { localAddressOf, nearbyFreePort } from '../ports.js';

/** How long the port gets to answer an MQTT CONNECT. */
const PROBE_TIMEOUT_MS = 1500;

/** Whether something at url answers MQTT (a CONNACK, even one refusing us). */
export async function speaksMqtt(url: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: timeoutMs, clientId: `picomp-probe-${process.pid}` });
    const done = (yes: boolean): void => {
      client.removeAllListeners();
      client.on('error', () => undefined);
      client.end(true);
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
