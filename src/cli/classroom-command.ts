/**
 * `picomp classroom`: the teacher's console (SPEC §5), a Node-RED
 * Dashboard 2.0 page at /dashboard/classroom that shows every unit on the
 * hub and sets the class, a group or one unit. Runs Node-RED as a child
 * process, like `picomp dashboard`.
 */
import { startDashboard } from '../dashboard/node-red.js';
import { createLogger } from '../log.js';
import { UserError } from '../errors.js';
import { CLASSROOM_BROKER_NODE_ID, CLASSROOM_FLOW_FILE, CLASSROOM_PAGE_PATH } from '../classroom/console-flow.js';
import { intFlag, parseCommandArgs } from './args.js';
import { BASE_TOPIC_PATTERN, DEFAULT_BASE_TOPIC } from '../mqtt/topics.js';

export const DEFAULT_CLASSROOM_PORT = 1880;
const PASSWORD_ENV = 'PICOMP_CLASSROOM_PASSWORD';

export const classroomHelp = `Usage: picomp classroom [options]

Runs the teacher's console: every unit on the hub as a card, the class
setting (presets, parameters, locks) for all units, a group or one unit,
one unit large for the projector and two units side by side. Open
http://<this machine>:<port>/dashboard/classroom in a browser.

Options (also PICOMP_CLASSROOM_<NAME> variables):
  --broker URL       the room's hub, mqtt://HOST:PORT (default mqtt://127.0.0.1:1883)
  --username U       the console's MQTT login, a teacher account, when the hub
                     has users (password: ${PASSWORD_ENV})
  --base-topic T     MQTT base topic (default picomp)
  --port N           HTTP port of the page (default ${DEFAULT_CLASSROOM_PORT})
  --listen ADDR      address the page listens on (default 0.0.0.0, the LAN;
                     127.0.0.1 keeps it on this machine)
  -h, --help         show this help`;

export interface ClassroomOptions {
  readonly broker: URL;
  readonly username: string | null;
  readonly password: string | null;
  readonly baseTopic: string;
  readonly port: number;
  readonly listen: string;
}

/** Flags win over PICOMP_CLASSROOM_* variables, which win over the defaults. */
export function resolveClassroomOptions(values: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): ClassroomOptions {
  const pick = (name: string): string | undefined => {
    const v = values[name] ?? env['PICOMP_CLASSROOM_' + name.toUpperCase().replace(/-/g, '_')];
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const rawBroker = pick('broker') ?? 'mqtt://127.0.0.1:1883';
  let broker: URL;
  try {
    broker = new URL(rawBroker);
  } catch {
    throw new UserError(`--broker must be a URL such as mqtt://192.168.1.20:1883, got ${JSON.stringify(rawBroker)}.`);
  }
  if (broker.protocol !== 'mqtt:' || !broker.hostname) {
    throw new UserError(`--broker must be an mqtt:// URL such as mqtt://192.168.1.20:1883 (the console speaks plain MQTT to the hub), got ${JSON.stringify(rawBroker)}.`);
  }
  const baseTopic = pick('base-topic') ?? DEFAULT_BASE_TOPIC;
  if (!BASE_TOPIC_PATTERN.test(baseTopic)) {
    throw new UserError(`--base-topic must be topic levels of letters, digits, - and _ (no + or #), got ${JSON.stringify(baseTopic)}.`);
  }
  const username = pick('username') ?? null;
  const password = env[PASSWORD_ENV] ?? null;
  if (username !== null && password === null) {
    throw new UserError(`--username ${username} needs its password in ${PASSWORD_ENV}.`);
  }
  if (username !== null && !/^[A-Za-z0-9_.@-]{1,64}$/.test(username)) {
    throw new UserError(`--username must be 1 to 64 letters, digits, and . _ @ -, got ${JSON.stringify(username)}.`);
  }
  return {
    broker, username, password, baseTopic,
    port: intFlag('port', pick('port'), 1, 65535) ?? DEFAULT_CLASSROOM_PORT,
    listen: pick('listen') ?? '0.0.0.0',
  };
}

export async function runClassroom(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('classroom', argv, {
    broker: { type: 'string' }, username: { type: 'string' }, 'base-topic': { type: 'string' },
    port: { type: 'string' }, listen: { type: 'string' },
  }, false);
  if (values.help) { process.stdout.write(classroomHelp + '\n'); return 0; }
  const opts = resolveClassroomOptions(values);
  const log = createLogger('classroom');
  const page = await startDashboard({
    port: opts.port, host: opts.listen, mqttHost: opts.broker.hostname, mqttPort: Number(opts.broker.port || 1883),
    unitId: '', baseTopic: opts.baseTopic,
    ...(opts.username !== null ? { username: opts.username, password: opts.password ?? '' } : {}),
    flow: { file: CLASSROOM_FLOW_FILE, brokerNodeId: CLASSROOM_BROKER_NODE_ID },
    log,
  });
  log.info(`teacher's console for ${opts.broker.host} at ${page.url}${CLASSROOM_PAGE_PATH.slice(1)}`);
  let stopping = false;
  const stop = (): void => { stopping = true; void page.stop(); };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await page.exited;
  if (stopping) return 0;
  log.error('Node-RED stopped by itself; see the lines above.');
  return 1;
}
