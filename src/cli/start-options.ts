/**
 * Everything `picomp start` needs to know, merged in this order (later
 * wins): built-in defaults < config file (--config, JSON or YAML) <
 * environment (PICOMP_*) < command-line flags. Parameters given here are
 * the start-up baseline; values set at run time and persisted in the
 * state dir override the config file but not explicit flags.
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { defaultStateDir } from '../unit/state-dir.js';
import { validatePartial } from '../params/validate.js';
import type { ParamValues } from '../params/schema.js';
import type { AudioSetup, InputSpec, OutputSpec } from '../engine/worker-protocol.js';
import { UserError } from '../errors.js';
import { intFlag } from './args.js';
import { BASE_TOPIC_PATTERN, DEFAULT_BASE_TOPIC, UNIT_ID_PATTERN, isReservedId } from '../mqtt/topics.js';
import { METER_RATE_HZ } from '../unit/meter-pump.js';
import { MAX_CHANNELS, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE } from '../dsp/kernel.js';
import { BLOCK_RANGE_FRAMES } from '../io/audio-device.js';

export interface StartOptions extends AudioSetup {
  unitId: string;
  mqttPort: number;
  wsPort: number | null;
  /** External broker URL; null runs the embedded broker. */
  brokerUrl: string | null;
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
  knobs: unknown;
}

/**
 * The settings a config file, PICOMP_* variable or flag may carry, by flag
 * name. A 'secret' is never a flag: the process list would show it.
 */
export const START_SETTINGS = {
  unit: 'string', input: 'string', output: 'string', 'sample-rate': 'int', block: 'int', channels: 'int',
  'mqtt-port': 'int', 'ws-port': 'int', broker: 'string', 'broker-username': 'string', 'broker-password': 'secret',
  'dashboard-username': 'string', 'dashboard-password': 'secret',
  'base-topic': 'string', groups: 'string', 'meter-rate': 'int', 'ha-discovery': 'bool', dashboard: 'bool', 'dashboard-port': 'int',
  'state-dir': 'string', listen: 'string', 'allow-anonymous': 'bool', 'tls-cert': 'string', 'tls-key': 'string', 'tls-port': 'int',
} as const;
export type StartSetting = keyof typeof START_SETTINGS;

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

/** Reads --config FILE: settings by flag or snake_case name, `params`, `knobs`. */
export async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read config file ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}.`);
  }
  let doc: unknown;
  try {
    doc = /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new UserError(`config file ${path} is not valid ${/\.json$/i.test(path) ? 'JSON' : 'YAML'}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new UserError(`config file ${path} must hold a mapping of settings, e.g. "unit: studio-1".`);
  return doc as Record<string, unknown>;
}

function settingFrom(raw: unknown, name: StartSetting, origin: string): string | number | boolean {
  const kind = START_SETTINGS[name];
  const text = typeof raw === 'string' ? raw : typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : null;
  if (text === null) throw new UserError(`${origin} ${name} must be a ${kind === 'int' ? 'whole number' : kind === 'bool' ? 'true or false' : 'text value'}.`);
  if (kind === 'bool') {
    if (text !== 'true' && text !== 'false') throw new UserError(`${origin} ${name} must be true or false, got ${JSON.stringify(text)}.`);
    return text === 'true';
  }
  if (kind === 'int') {
    if (!/^\d+$/.test(text)) throw new UserError(`${origin} ${name} must be a whole number, got ${JSON.stringify(text)}.`);
    return Number(text);
  }
  return text;
}

/**
 * Merges defaults, config file, environment and flags. `flags` holds the
 * parsed command-line values by flag name (strings/booleans).
 */
export async function resolveStartOptions(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): Promise<StartOptions> {
  const merged = new Map<StartSetting, string | number | boolean>();
  let fileParams: unknown = {};
  let knobs: unknown = null;
  const configPath = (flags.config as string | undefined) ?? env.PICOMP_CONFIG;
  if (configPath) {
    const doc = await readConfigFile(configPath);
    for (const [key, raw] of Object.entries(doc)) {
      const name = key.replace(/_/g, '-') as StartSetting;
      if (key === 'params') { fileParams = raw; continue; }
      if (key === 'knobs' || key === 'led') { knobs = { ...(knobs as object ?? {}), [key]: raw }; continue; }
      if (!(name in START_SETTINGS)) {
        throw new UserError(`config file ${configPath}: unknown setting "${key}"; settings are ${Object.keys(START_SETTINGS).join(', ')}, params, knobs, led.`);
      }
      merged.set(name, settingFrom(raw, name, `config file ${configPath}:`));
    }
  }
  for (const name of Object.keys(START_SETTINGS) as StartSetting[]) {
    const envName = 'PICOMP_' + name.toUpperCase().replace(/-/g, '_');
    if (env[envName] !== undefined && env[envName] !== '') merged.set(name, settingFrom(env[envName], name, `environment variable ${envName}:`));
    if (flags[name] !== undefined) {
      if (START_SETTINGS[name] === 'secret') {
        throw new UserError(`--${name} would show the password to anyone listing processes; set ${envName} or ${name.replace(/-/g, '_')} in the config file instead.`);
      }
      merged.set(name, settingFrom(flags[name], name, `--${name}`));
    }
  }
  const params = validatePartial(fileParams ?? {});
  if (!params.ok) throw new UserError(`config file ${configPath} params: ${params.error}`);

  const str = (n: StartSetting): string | undefined => merged.get(n) as string | undefined;
  const int = (n: StartSetting, def: number, min: number, max: number): number =>
    intFlag(n, merged.has(n) ? String(merged.get(n)) : undefined, min, max) ?? def;
  const bool = (n: StartSetting, def: boolean): boolean => (merged.has(n) ? merged.get(n) as boolean : def);

  const unitId = str('unit') ?? unitIdFromHostname();
  if (!UNIT_ID_PATTERN.test(unitId)) {
    throw new UserError(`--unit must be lowercase letters, digits and dashes (e.g. studio-1), got ${JSON.stringify(unitId)}.`);
  }
  const baseTopic = str('base-topic') ?? DEFAULT_BASE_TOPIC;
  if (isReservedId(unitId)) {
    throw new UserError(`--unit cannot be "${unitId}": ${baseTopic}/${unitId}/… is reserved for commands to many units.`);
  }
  if (!BASE_TOPIC_PATTERN.test(baseTopic)) {
    throw new UserError(`--base-topic must be MQTT topic levels without wildcards, e.g. picomp or school/picomp, got ${JSON.stringify(baseTopic)}.`);
  }
  const groups = (str('groups') ?? '').split(',').map((g) => g.trim()).filter((g) => g !== '');
  for (const g of groups) {
    if (!UNIT_ID_PATTERN.test(g)) throw new UserError(`--groups takes names of lowercase letters, digits and dashes separated by commas (e.g. row-1,row-2), got ${JSON.stringify(g)}.`);
  }
  const brokerUrl = str('broker') ?? null;
  if (brokerUrl !== null) checkBrokerUrl(brokerUrl);
  const wsPort = int('ws-port', 9001, 0, 65535);
  const cert = str('tls-cert'), key = str('tls-key');
  if ((cert === undefined) !== (key === undefined)) throw new UserError('TLS needs both --tls-cert and --tls-key.');
  return {
    unitId,
    input: parseInputSpec(str('input') ?? 'auto'),
    output: parseOutputSpec(str('output') ?? 'auto'),
    sampleRate: int('sample-rate', 48000, MIN_SAMPLE_RATE, MAX_SAMPLE_RATE),
    blockFrames: int('block', 128, BLOCK_RANGE_FRAMES.min, BLOCK_RANGE_FRAMES.max),
    channels: int('channels', 2, 1, MAX_CHANNELS),
    mqttPort: int('mqtt-port', 1883, 0, 65535),
    wsPort,
    brokerUrl,
    brokerUsername: str('broker-username') ?? null,
    brokerPassword: str('broker-password') ?? null,
    dashboardUsername: str('dashboard-username') ?? null,
    dashboardPassword: str('dashboard-password') ?? null,
    baseTopic,
    groups,
    meterRateHz: int('meter-rate', METER_RATE_HZ.default, METER_RATE_HZ.min, METER_RATE_HZ.max),
    haDiscovery: bool('ha-discovery', true),
    dashboard: bool('dashboard', false),
    dashboardPort: int('dashboard-port', 1880, 1, 65535),
    stateDir: str('state-dir') ?? defaultStateDir(env),
    listenHost: str('listen') ?? '0.0.0.0',
    allowAnonymous: bool('allow-anonymous', false),
    tls: cert && key ? { certFile: cert, keyFile: key, port: int('tls-port', 8883, 0, 65535) } : null,
    config: params.value,
    knobs,
  };
}

/** What MQTT.js can connect to; anything else would fail later, retrying for ever. */
const BROKER_PROTOCOLS = ['mqtt:', 'mqtts:', 'ws:', 'wss:'];

function checkBrokerUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UserError(`--broker must be a URL such as mqtt://teacher-pi.local:1883, got ${JSON.stringify(url)}.`);
  }
  if (!BROKER_PROTOCOLS.includes(parsed.protocol)) {
    throw new UserError(`--broker must start with ${BROKER_PROTOCOLS.map((p) => p + '//').join(', ')} (e.g. mqtt://teacher-pi.local:1883), got ${JSON.stringify(url)}.`);
  }
  if (!parsed.hostname) throw new UserError(`--broker ${JSON.stringify(url)} names no host; e.g. mqtt://teacher-pi.local:1883.`);
}
