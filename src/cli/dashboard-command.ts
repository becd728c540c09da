/**
 * `picomp dashboard`: the Node-RED dashboard on its own, for a unit whose
 * engine runs elsewhere or as a separate service (so Node-RED never shares
 * the engine's real-time priority). Takes the same settings as `start`
 * (flags, PICOMP_* variables, --config), of which it uses the unit, the
 * broker and the dashboard port.
 */
import { serveUntilSignal, startDashboard } from '../dashboard/node-red.js';
import { createLogger } from '../log.js';
import { parseCommandArgs } from './args.js';
import { resolveStartOptions } from './start-options.js';
import { normaliseBooleanFlags, settingDef, settingOptions, settingsHelp } from './settings.js';
import { UserError } from '../errors.js';

export const dashboardHelp = `Usage: picomp dashboard [options]

Runs the Node-RED dashboard for one unit, connecting to its MQTT broker.

Options (also PICOMP_<NAME> variables or keys of --config FILE; without
--broker it connects to the embedded broker of a unit on this machine):
  --config FILE          settings file shared with picomp start
${settingsHelp('dashboard')}
  -h, --help             show this help`;

export async function runDashboard(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('dashboard', normaliseBooleanFlags(argv), {
    ...settingOptions('dashboard'), config: { type: 'string' },
  }, false);
  if (values.help) { process.stdout.write(dashboardHelp + '\n'); return 0; }
  const opts = await resolveStartOptions(values);
  // resolveStartOptions has checked the URL (checkBrokerUrl); the flow's broker node speaks plain MQTT only.
  const broker = new URL(opts.brokerUrl ?? `mqtt://127.0.0.1:${opts.mqttPort}`);
  if (broker.protocol !== 'mqtt:') {
    throw new UserError(`picomp dashboard connects with plain MQTT (mqtt://host:port), got ${JSON.stringify(broker.protocol.slice(0, -1))}; run it on the unit itself, where it needs no TLS, with --broker mqtt://127.0.0.1:${settingDef('mqtt-port').default}.`);
  }
  const log = createLogger('dashboard');
  const dash = await startDashboard({
    port: opts.dashboardPort, mqttHost: broker.hostname, mqttPort: Number(broker.port || settingDef('mqtt-port').default),
    unitId: opts.unitId, baseTopic: opts.baseTopic, host: opts.listenHost,
    ...(opts.dashboardUsername ? { username: opts.dashboardUsername, password: opts.dashboardPassword ?? '' } : {}),
    log,
  });
  log.info(`dashboard for unit "${opts.unitId}" at ${dash.url}`);
  return serveUntilSignal(dash, log);
}
