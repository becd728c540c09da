/**
 * `picomp classroom`: the teacher's console (SPEC §5), a Node-RED
 * Dashboard 2.0 page at /dashboard/classroom that shows every unit on the
 * hub and sets the class, a group or one unit. Runs Node-RED as a child
 * process, like `picomp dashboard`.
 */
import { serveUntilSignal, startDashboard } from '../dashboard/node-red.js';
import { createLogger } from '../log.js';
import { UserError } from '../errors.js';
import { CLASSROOM_BROKER_NODE_ID, CLASSROOM_FLOW_FILE, CLASSROOM_PAGE_PATH } from '../classroom/console-flow.js';
import { parseCommandArgs } from './args.js';
import { checkBrokerUrl } from './start-options.js';
import { readSettings, settingDef, settingOptions, settingsHelp } from './settings.js';
import { BASE_TOPIC_PATTERN } from '../mqtt/topics.js';

export const classroomHelp = `Usage: picomp classroom [options]

Runs the teacher's console: every unit on the hub as a card, the class
setting (presets, parameters, locks) for all units, a group or one unit,
one unit large for the projector and two units side by side. Open
http://<this machine>:<port>/dashboard/classroom in a browser.

Options (also PICOMP_<NAME> variables or keys of --config FILE):
  --config FILE          settings file shared with picomp start
${settingsHelp('classroom')}
  -h, --help             show this help`;

/** The short flags the console also takes: --port, --listen and --username. */
const SHORT_FLAGS: Record<string, string> = { '--port': '--classroom-port', '--listen': '--classroom-listen', '--username': '--classroom-username' };

function expandShortFlags(argv: string[]): string[] {
  return argv.map((a) => {
    const [flag, ...rest] = a.split('=');
    const long = SHORT_FLAGS[flag!];
    return long ? [long, ...rest].join('=') : a;
  });
}

export interface ClassroomOptions {
  readonly broker: URL;
  readonly username: string | null;
  readonly password: string | null;
  readonly baseTopic: string;
  readonly port: number;
  readonly listen: string;
}

/** Flags, PICOMP_* variables and the config file, through the settings schema. */
export async function resolveClassroomOptions(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): Promise<ClassroomOptions> {
  const { values: v } = await readSettings(flags, env);
  const rawBroker = v.broker ?? `mqtt://127.0.0.1:${settingDef('mqtt-port').default}`;
  // The unit's own check (a URL, a host, no credentials to leak into `ps`), then the console's narrower need.
  checkBrokerUrl(rawBroker);
  const broker = new URL(rawBroker);
  if (broker.protocol !== 'mqtt:') {
    throw new UserError(`--broker must be an mqtt:// URL such as mqtt://hub.local:${settingDef('mqtt-port').default} (the console speaks plain MQTT to the hub), got ${JSON.stringify(rawBroker)}.`);
  }
  if (!BASE_TOPIC_PATTERN.test(v['base-topic'])) {
    throw new UserError(`--base-topic must be topic levels of letters, digits, - and _ (no + or #), got ${JSON.stringify(v['base-topic'])}.`);
  }
  const username = v['classroom-username'];
  const password = v['classroom-password'];
  if (username !== null && password === null) {
    throw new UserError(`--classroom-username ${username} needs its password in PICOMP_CLASSROOM_PASSWORD (or classroom_password in the config file).`);
  }
  return { broker, username, password, baseTopic: v['base-topic'], port: v['classroom-port'], listen: v['classroom-listen'] };
}

export async function runClassroom(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('classroom', expandShortFlags(argv), {
    ...settingOptions('classroom'), config: { type: 'string' },
  }, false);
  if (values.help) { process.stdout.write(classroomHelp + '\n'); return 0; }
  const opts = await resolveClassroomOptions(values);
  const log = createLogger('classroom');
  const page = await startDashboard({
    port: opts.port, host: opts.listen, mqttHost: opts.broker.hostname, mqttPort: Number(opts.broker.port || settingDef('mqtt-port').default),
    unitId: '', baseTopic: opts.baseTopic,
    ...(opts.username !== null ? { username: opts.username, password: opts.password ?? '' } : {}),
    flow: { file: CLASSROOM_FLOW_FILE, brokerNodeId: CLASSROOM_BROKER_NODE_ID },
    log,
  });
  log.info(`teacher's console for ${opts.broker.host} at ${page.url}${CLASSROOM_PAGE_PATH.slice(1)}`);
  return serveUntilSignal(page, log);
}
