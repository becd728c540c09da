/**
 * `picomp dashboard`: the Node-RED dashboard on its own, for a unit whose
 * engine runs elsewhere or as a separate service (so Node-RED never shares
 * the engine's real-time priority). Takes the same settings as `start`
 * (flags, PICOMP_* variables, --config), of which it uses the unit, the
 * broker and the dashboard port.
 */
import { startDashboard } from '../dashboard/node-red.js';
import { createLogger } from '../log.js';
import { parseCommandArgs } from './args.js';
import { resolveStartOptions } from './start-options.js';
import { normaliseBooleanFlags } from './start.js';
import { UserError } from '../errors.js';

export const dashboardHelp = `Usage: picomp dashboard [options]

Runs the Node-RED dashboard for one unit, connecting to its MQTT broker.

Options (also PICOMP_<NAME> variables or keys of --config FILE):
  --unit ID              the unit to show (default: this machine's hostname)
  --broker URL           the unit's broker (default mqtt://127.0.0.1:1883)
  --dashboard-username U the dashboard's MQTT user when the broker has users
                         (password: PICOMP_DASHBOARD_PASSWORD or dashboard_password)
  --base-topic T         MQTT base topic (default picomp)
  --dashboard-port N     HTTP port (default 1880)
  --listen ADDR          address the page listens on (default 0.0.0.0, the LAN;
                         127.0.0.1 keeps it on this machine)
  --config FILE          settings file shared with picomp start
  -h, --help             show this help`;

export async function runDashboard(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('dashboard', normaliseBooleanFlags(argv), {
    unit: { type: 'string' }, broker: { type: 'string' }, 'dashboard-username': { type: 'string' },
    'base-topic': { type: 'string' }, 'dashboard-port': { type: 'string' }, listen: { type: 'string' },
    config: { type: 'string' },
  }, false);
  if (values.help) { process.stdout.write(dashboardHelp + '\n'); return 0; }
  const opts = await resolveStartOptions(values);
  let broker: URL;
  try {
    broker = new URL(opts.brokerUrl ?? `mqtt://127.0.0.1:${opts.mqttPort}`);
  } catch {
    throw new UserError(`--broker must be a URL such as mqtt://192.168.1.20:1883, got ${JSON.stringify(opts.brokerUrl)}.`);
  }
  const log = createLogger('dashboard');
  const dash = await startDashboard({
    port: opts.dashboardPort, mqttHost: broker.hostname, mqttPort: Number(broker.port || 1883),
    unitId: opts.unitId, baseTopic: opts.baseTopic, host: opts.listenHost,
    ...(opts.dashboardUsername ? { username: opts.dashboardUsername, password: opts.dashboardPassword ?? '' } : {}),
    log,
  });
  log.info(`dashboard for unit "${opts.unitId}" at ${dash.url}`);
  let stopping = false;
  const stop = (): void => { stopping = true; void dash.stop(); };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await dash.exited;
  if (stopping) return 0;
  log.error('Node-RED stopped by itself; see the lines above.');
  return 1;
}
