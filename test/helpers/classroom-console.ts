/**
 * A classroom on this machine for the console's tests and bench: a real
 * Mosquitto hub, simulated units on the real unit client, and Node-RED with
 * the console flow, all on free loopback ports and all stopped by stop().
 */
import { startDashboard, type RunningDashboard } from '../../src/dashboard/node-red.js';
import { CLASSROOM_BROKER_NODE_ID, CLASSROOM_FLOW_FILE, CLASSROOM_PAGE_PATH } from '../../src/classroom/console-flow.js';
import { startSimRoom, type SimUnit } from '../../src/classroom/sim-unit.js';
import { memoryLogger } from '../../src/log.js';
import { freePort } from './free-port.js';
import { Mosquitto } from './mosquitto.js';

export interface Classroom {
  readonly hub: Mosquitto;
  readonly units: SimUnit[];
  readonly console: RunningDashboard;
  /** The console page. */
  readonly url: string;
  stop(): Promise<void>;
}

/** The console for the hub at `port` (Mosquitto's or another broker's). */
export async function startConsole(mqttPort: number): Promise<{ console: RunningDashboard; url: string }> {
  const c = await startDashboard({
    port: await freePort(), host: '127.0.0.1', mqttHost: '127.0.0.1', mqttPort, unitId: '', baseTopic: 'picomp',
    flow: { file: CLASSROOM_FLOW_FILE, brokerNodeId: CLASSROOM_BROKER_NODE_ID }, log: memoryLogger(),
  });
  return { console: c, url: c.url + CLASSROOM_PAGE_PATH.slice(1) };
}

export async function startClassroom(opts: { count: number; groupSize?: number; meterRateHz?: number }): Promise<Classroom> {
  const hub = await Mosquitto.start();
  const units: SimUnit[] = [];
  try {
    units.push(...await startSimRoom({ url: hub.url, count: opts.count, groupSize: opts.groupSize ?? 0, meterRateHz: opts.meterRateHz ?? 20 }));
    const { console: c, url } = await startConsole(hub.port);
    return {
      hub, units, console: c, url,
      async stop() {
        await c.stop();
        await Promise.all(units.map((u) => u.stop()));
        await hub.stop();
      },
    };
  } catch (e) {
    await Promise.all(units.map((u) => u.stop()));
    await hub.stop();
    throw e;
  }
}
