/**
 * Options the classroom tools share: the base topic, the hub's URL(s)
 * (several = failover) and the login, each checked into one sentence.
 */
import { UserError } from '../errors.js';
import { BASE_TOPIC_PATTERN, DEFAULT_BASE_TOPIC } from '../mqtt/topics.js';
import { checkBrokerUrl } from './start-options.js';

export const BASE_TOPIC_HELP = `MQTT base topic (default ${DEFAULT_BASE_TOPIC})`;

export function checkBaseTopic(raw: string | undefined): string {
  const t = raw ?? DEFAULT_BASE_TOPIC;
  if (!BASE_TOPIC_PATTERN.test(t)) throw new UserError(`--base-topic must be MQTT topic levels without wildcards, e.g. picomp or school/picomp, got ${JSON.stringify(t)}.`);
  return t;
}

/**
 * `--broker a,b` or repeated flags → the servers in the order given, tried
 * in turn (failover). Each is checked as `picomp start` checks its own.
 */
export function parseBrokerList(raw: string | readonly string[]): string[] {
  const items = (typeof raw === 'string' ? [raw] : raw).flatMap((r) => r.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new UserError('--broker needs a URL such as mqtt://teacher-pi.local:1883.');
  for (const url of items) checkBrokerUrl(url);
  return items;
}
