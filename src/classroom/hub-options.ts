/**
 * Options the classroom tools share: the base topic, the hub's URL(s)
 * (several = failover) and the login, each checked into one sentence.
 */
import { UserError } from '../errors.js';
import { BASE_TOPIC_PATTERN, DEFAULT_BASE_TOPIC } from '../mqtt/topics.js';

export const BASE_TOPIC_HELP = `MQTT base topic (default ${DEFAULT_BASE_TOPIC})`;

export function checkBaseTopic(raw: string | undefined): string {
  const t = raw ?? DEFAULT_BASE_TOPIC;
  if (!BASE_TOPIC_PATTERN.test(t)) throw new UserError(`--base-topic must be MQTT topic levels without wildcards, e.g. picomp or school/picomp, got ${JSON.stringify(t)}.`);
  return t;
}

/** What MQTT.js can connect to; anything else would fail later, retrying for ever. */
const BROKER_PROTOCOLS = ['mqtt:', 'mqtts:', 'ws:', 'wss:'];

export interface BrokerServer {
  readonly url: string;
  readonly protocol: 'mqtt' | 'mqtts' | 'ws' | 'wss';
  readonly host: string;
  readonly port: number;
}

const DEFAULT_PORTS: Record<BrokerServer['protocol'], number> = { mqtt: 1883, mqtts: 8883, ws: 80, wss: 443 };

/**
 * `--broker a,b` or repeated flags → the servers in the order given, tried
 * in turn (failover). Each must be an MQTT URL with a host.
 */
export function parseBrokerList(raw: string | readonly string[], flag = '--broker'): BrokerServer[] {
  const items = (typeof raw === 'string' ? [raw] : raw).flatMap((r) => r.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new UserError(`${flag} needs a URL such as mqtt://teacher-pi.local:1883.`);
  return items.map((url) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UserError(`${flag} must be a URL such as mqtt://teacher-pi.local:1883, got ${JSON.stringify(url)}.`);
    }
    if (!BROKER_PROTOCOLS.includes(parsed.protocol)) {
      throw new UserError(`${flag} must start with ${BROKER_PROTOCOLS.map((p) => p + '//').join(', ')} (e.g. mqtt://teacher-pi.local:1883), got ${JSON.stringify(url)}.`);
    }
    if (!parsed.hostname) throw new UserError(`${flag} ${JSON.stringify(url)} names no host; e.g. mqtt://teacher-pi.local:1883.`);
    const protocol = parsed.protocol.slice(0, -1) as BrokerServer['protocol'];
    return { url, protocol, host: parsed.hostname, port: parsed.port ? Number(parsed.port) : DEFAULT_PORTS[protocol] };
  });
}
