/**
 * "Is a unit with this id running on the broker right now?" (SPEC §5: a
 * unit id is one device). Asked over a connection that has NO last will,
 * before a unit connects with its own: so a second unit that finds the id
 * taken can leave without ever having published `offline` for the first.
 *
 * The retained `availability` alone cannot tell: a unit killed with -9
 * stays `online` until the broker notices (1.5 keepalives). So when it
 * says `online`, the probe asks the unit (`get`) and waits for a live
 * `state` echo, which only a running unit sends (a retained copy arrives
 * with the retain flag; a live one without).
 */
import type { MqttClient } from 'mqtt';
import { AVAILABILITY_ONLINE, unitTopics } from './topics.js';

/**
 * Subscriptions ask for QoS 0: delivery over a live connection is what TCP
 * gives anyway, and a unit with a clean session gets the retained desired
 * settings again at every connect. On a clustered broker it matters: NATS
 * backs each QoS 1 subscription with a JetStream consumer, which stalls for
 * a while after a node dies (new subscriptions are refused, existing ones
 * stop delivering); QoS 0 ones are plain routed subscriptions.
 */
export const SUBSCRIPTION_QOS = 0;

export type UnitPresence = 'absent' | 'stale' | 'alive';

/** How long a running unit gets to answer `get` (it answers within a tick; the rest is the LAN). */
export const LIVENESS_TIMEOUT_MS = 2000;

export async function probeUnit(client: MqttClient, baseTopic: string, unitId: string, timeoutMs = LIVENESS_TIMEOUT_MS): Promise<UnitPresence> {
  const t = unitTopics(baseTopic, unitId);
  let availability: string | null = null;
  let liveState = false;
  let getEcho = false;
  let wake: (() => void) | null = null;
  const onMessage = (topic: string, payload: Buffer, packet: { retain: boolean }): void => {
    if (topic === t.availability) availability = payload.toString();
    else if (topic === t.state && !packet.retain) liveState = true;
    else if (topic === t.get) getEcho = true;
    wake?.();
  };
  const until = (cond: () => boolean, ms: number): Promise<boolean> => new Promise((resolve) => {
    if (cond()) { resolve(true); return; }
    const timer = setTimeout(() => { wake = null; resolve(cond()); }, ms);
    wake = () => { if (cond()) { clearTimeout(timer); wake = null; resolve(true); } };
  });
  client.on('message', onMessage);
  try {
    await client.subscribeAsync([t.availability, t.state, t.get], { qos: SUBSCRIPTION_QOS });
    // A broker handles one connection's packets in order: by the time our own
    // `get` comes back, any retained availability has been delivered before it.
    await client.publishAsync(t.get, '', { qos: 1 });
    await until(() => getEcho, timeoutMs);
    if (availability !== AVAILABILITY_ONLINE) return 'absent';
    return (await until(() => liveState, timeoutMs)) ? 'alive' : 'stale';
  } finally {
    client.off('message', onMessage);
    await client.unsubscribeAsync([t.availability, t.state, t.get]).catch(() => undefined);
  }
}
