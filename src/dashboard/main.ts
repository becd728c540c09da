/**
 * The dashboard on its own (a container, or a service apart from the
 * engine): Node-RED with the picomp flow, configured by environment.
 *   PICOMP_UNIT=lab-1 PICOMP_MQTT_HOST=unit node dist/src/dashboard/main.js
 * Variables: PICOMP_UNIT (required), PICOMP_MQTT_HOST (127.0.0.1),
 * PICOMP_MQTT_PORT (1883), PICOMP_MQTT_USER, PICOMP_MQTT_PASSWORD,
 * PICOMP_BASE_TOPIC (picomp), PICOMP_DASHBOARD_PORT (1880).
 */
import { isUserError } from '../errors.js';
import { createLogger } from '../log.js';
import { startDashboard } from './node-red.js';

const env = process.env;
const log = createLogger('dashboard');

async function main(): Promise<number> {
  const unitId = env.PICOMP_UNIT;
  if (!unitId) {
    log.error('set PICOMP_UNIT to the id of the unit to show (as in picomp/<unit>/state).');
    return 2;
  }
  const dash = await startDashboard({
    port: Number(env.PICOMP_DASHBOARD_PORT || 1880),
    mqttHost: env.PICOMP_MQTT_HOST || '127.0.0.1',
    mqttPort: Number(env.PICOMP_MQTT_PORT || 1883),
    unitId,
    baseTopic: env.PICOMP_BASE_TOPIC || 'picomp',
    ...(env.PICOMP_MQTT_USER ? { username: env.PICOMP_MQTT_USER, password: env.PICOMP_MQTT_PASSWORD ?? '' } : {}),
    log,
  });
  log.info(`dashboard for unit "${unitId}" at ${dash.url}`);
  let stopping = false;
  const stop = (): void => { stopping = true; void dash.stop(); };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await dash.exited;
  if (stopping) return 0;
  log.error('Node-RED stopped by itself; see the lines above.');
  return 1;
}

main().then((code) => { process.exitCode = code; }, (e: unknown) => {
  log.error(isUserError(e) ? e.message : String((e as Error).stack ?? e));
  process.exitCode = isUserError(e) ? 2 : 1;
});
