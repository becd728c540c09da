/**
 * Everything `picomp start` (and `picomp dashboard`) needs to know, from
 * the settings schema (settings.ts: defaults < config file < environment
 * < flags) plus the checks that need more than one setting. Parameters
 * given here are the start-up baseline; values set at run time and
 * persisted in the state dir override the config file but not explicit
 * flags.
 */
import { hostname } from 'node:os';
import { defaultStateDir } from '../unit/state-dir.js';
import { validatePartial } from '../params/validate.js';
import type { ParamValues } from '../params/schema.js';
import type { AudioSetup, InputSpec, OutputSpec } from '../engine/worker-protocol.js';
import { UserError } from '../errors.js';
import { redactUrl } from '../mqtt/redact-url.js';
import { BASE_TOPIC_PATTERN, DEFAULT_BASE_TOPIC, RESERVED_IDS, UNIT_ID_PATTERN, isReservedId } from '../mqtt/topics.js';
import { parseKnobsConfig, type KnobsConfig } from '../knobs/mapping.js';
import { readSettings, settingDef, type ReadSettings } from './settings.js';

export interface StartOptions extends AudioSetup {
  unitId: string;
  mqttPort: number;
  wsPort: number | null;
  /** External broker URL; null runs the embedded broker. */
  brokerUrl: string | null;
  /** More hubs tried in turn when the connection fails (`--broker a,b,c`). */
  brokerFallbackUrls: string[];
  brokerUsername: string | null;
  brokerPassword: string | null;
  /** The dashboard's own MQTT login (an operator or viewer account), when the broker has users. */
  dashboardUsername: string | null;
  dashboardPassword: string | null;
  baseTopic: string;
  /** Classroom groups whose `<base>/group/<g>/set` commands this unit obeys. */
  groups: string[];
  meterRateHz: number;
  haDiscovery: boolean;
  dashboard: boolean;
  dashboardPort: number;
  stateDir: string;
  /** Bind address of the embedded broker. */
  listenHost: string;
  allowAnonymous: boolean;
  tls: { certFile: string; keyFile: string; port: number } | null;
  config: Partial<ParamValues>;
  /** The knobs and LED of the config file, checked; null when it has none. */
  knobs: KnobsConfig | null;
}

export function unitIdFromHostname(name: string = hostname()): string {
  const id = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);
  return id || 'picomp';
}

export function parseInputSpec(raw: string): InputSpec {
  if (raw === 'demo') return { kind: 'demo' };
  if (raw === 'auto' || raw === 'default') return raw === 'auto' ? { kind: 'auto' } : { kind: 'device', device: null };
  if (raw.startsWith('file:')) {
    const path = raw.slice(5);
    if (!path) throw new UserError('--input file: needs a path, e.g. --input file:drums.wav.');
    return { kind: 'file', path };
  }
  if (raw.trim() === '') throw new UserError('--input needs a device name or index, demo, or file:PATH.');
  return { kind: 'device', device: raw };
}

export function parseOutputSpec(raw: string): OutputSpec {
  if (raw === 'null') return { kind: 'null' };
  if (raw === 'auto') return { kind: 'auto' };
  if (raw === 'default') return { kind: 'device', device: null };
  if (raw.trim() === '') throw new UserError('--output needs a device name or index, or null.');
  return { kind: 'device', device: raw };
}

/** `origin` names where the id was written (see ReadSettings.origin). */
function checkUnitId(unitId: string, origin: string): void {
  if (!UNIT_ID_PATTERN.test(unitId)) {
    throw new UserError(`${origin} must be lowercase letters, digits and dashes (e.g. studio-1), got ${JSON.stringify(unitId)}.`);
  }
  if (isReservedId(unitId)) {
    throw new UserError(`${origin} cannot be "${unitId}": ${RESERVED_IDS.join(', ')} are reserved for topics that address many units.`);
  }
}

function parseGroups(text: string, origin: string): string[] {
  const groups = text.split(',').map((g) => g.trim()).filter((g) => g !== '');
  for (const g of groups) {
    if (!UNIT_ID_PATTERN.test(g)) throw new UserError(`${origin} takes names of lowercase letters, digits and dashes separated by commas (e.g. row-1,row-2), got ${JSON.stringify(g)}.`);
  }
  return groups;
}

/** The config file's knobs and led sections, checked now so a bad knob fails before anything starts. */
function parseKnobSections(sections: ReadSettings['sections'], configPath: string | null): KnobsConfig | null {
  if (sections.knobs === undefined && sections.led === undefined) return null;
  const raw = {
    ...(sections.knobs !== undefined ? { knobs: sections.knobs } : {}),
    ...(sections.led !== undefined ? { led: sections.led } : {}),
  };
  try {
    return parseKnobsConfig(raw);
  } catch (e) {
    if (e instanceof UserError) throw new UserError(`config file ${configPath}: ${e.message}`);
    throw e;
  }
}

/**
 * Merges defaults, config file, environment and flags (see settings.ts)
 * and checks what the schema alone cannot. `flags` holds the parsed
 * command-line values by flag name (strings/booleans).
 */
export async function resolveStartOptions(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): Promise<StartOptions> {
  const read = await readSettings(flags, env);
  const v = read.values;
  const params = validatePartial(read.sections.params ?? {});
  if (!params.ok) throw new UserError(`config file ${read.configPath}: in params, ${params.error}`);
  const knobs = parseKnobSections(read.sections, read.configPath);

  const unitId = v.unit ?? unitIdFromHostname();
  checkUnitId(unitId, read.origin('unit'));
  if (!BASE_TOPIC_PATTERN.test(v['base-topic'])) {
    throw new UserError(`${read.origin('base-topic')} must be MQTT topic levels without wildcards, e.g. ${DEFAULT_BASE_TOPIC} or school/${DEFAULT_BASE_TOPIC}, got ${JSON.stringify(v['base-topic'])}.`);
  }
  // Several hubs, comma-separated, are tried in turn (a classroom's failover).
  const brokers = (v.broker ?? '').split(',').map((b) => b.trim()).filter((b) => b !== '');
  if (v.broker !== null && brokers.length === 0) checkBrokerUrl(v.broker, read.origin('broker'));
  for (const b of brokers) checkBrokerUrl(b, read.origin('broker'));
  const cert = v['tls-cert'], key = v['tls-key'];
  if ((cert === null) !== (key === null)) {
    throw new UserError(`TLS needs both --tls-cert and --tls-key; only ${read.origin(cert !== null ? 'tls-cert' : 'tls-key')} is set.`);
  }
  return {
    unitId,
    input: parseInputSpec(v.input),
    output: parseOutputSpec(v.output),
    sampleRate: v['sample-rate'],
    blockFrames: v.block,
    channels: v.channels,
    queueBlocks: v['queue-blocks'],
    mqttPort: v['mqtt-port'],
    wsPort: v['ws-port'],
    brokerUrl: brokers[0] ?? null,
    brokerFallbackUrls: brokers.slice(1),
    brokerUsername: v['broker-username'],
    brokerPassword: v['broker-password'],
    dashboardUsername: v['dashboard-username'],
    dashboardPassword: v['dashboard-password'],
    baseTopic: v['base-topic'],
    groups: parseGroups(v.groups, read.origin('groups')),
    meterRateHz: v['meter-rate'],
    haDiscovery: v['ha-discovery'],
    dashboard: v.dashboard,
    dashboardPort: v['dashboard-port'],
    stateDir: v['state-dir'] ?? defaultStateDir(env),
    listenHost: v.listen,
    allowAnonymous: v['allow-anonymous'],
    tls: cert !== null && key !== null ? { certFile: cert, keyFile: key, port: v['tls-port'] } : null,
    config: params.value,
    knobs,
  };
}

/** What MQTT.js can connect to; anything else would fail later, retrying for ever. */
const BROKER_PROTOCOLS = ['mqtt:', 'mqtts:', 'ws:', 'wss:'];

/** Checks one --broker URL (also the classroom tools'); a sentence for anything MQTT.js could not use. */
export function checkBrokerUrl(url: string, origin = '--broker'): void {
  const example = `mqtt://teacher-pi.local:${settingDef('mqtt-port').default}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UserError(`${origin} must be a URL such as ${example}, got ${JSON.stringify(url)}.`);
  }
  if (!BROKER_PROTOCOLS.includes(parsed.protocol)) {
    throw new UserError(`${origin} must start with ${BROKER_PROTOCOLS.map((p) => p + '//').join(', ')} (e.g. ${example}), got ${JSON.stringify(url)}.`);
  }
  if (!parsed.hostname) throw new UserError(`${origin} ${JSON.stringify(url)} names no host; e.g. ${example}.`);
  // A password in the URL shows in `ps`, shell history and every log line that names the broker.
  if (parsed.username || parsed.password) {
    throw new UserError(`${origin} must not hold a user name or password (anyone can read them in \`ps\`); give ${redactUrl(url).replace('***@', '')} with --broker-username, and the password in PICOMP_BROKER_PASSWORD or broker_password in the config file.`);
  }
}
