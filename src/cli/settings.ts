/**
 * The settings schema of the long-running commands (`picomp start`,
 * `picomp dashboard`, and more later), in the style of the parameter
 * schema: each setting's kind, default, range, help, environment variable
 * and config-file key are here, once. Flags, --help, PICOMP_* variables,
 * config-file keys and validation are all derived from this list.
 *
 * Sources, later wins: built-in default < config file (--config, JSON or
 * YAML) < environment (PICOMP_*) < command-line flag. A 'secret' is never
 * a flag: the process list would show it.
 */
import { readFile } from 'node:fs/promises';
import { MAX_CHANNELS, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE } from '../dsp/kernel.js';
import { BLOCK_RANGE_FRAMES, DEFAULT_QUEUE_BLOCKS, QUEUE_BLOCKS_RANGE } from '../io/audio-device.js';
import { METER_RATE_HZ } from '../unit/meter-pump.js';
import { DEFAULTS as BROKER_DEFAULTS } from '../mqtt/broker-auth.js';
import { DEFAULT_BASE_TOPIC } from '../mqtt/topics.js';
import { UserError } from '../errors.js';
import type { ParseArgsOptions } from './param-flags.js';

/** The commands that take settings. */
export type SettingsCommand = 'start' | 'dashboard' | 'classroom';

interface SettingBase {
  /** The flag's name (`--sample-rate`); the config key is its snake_case form, the variable PICOMP_ + upper case. */
  readonly name: string;
  /** What the flag takes, as help shows it ('' for a flag that stands alone, like --dashboard). */
  readonly arg: string;
  /** One line of help (a second line after \n is indented under it). */
  readonly help: string;
  /** The commands that take it as a flag (a config file or the environment may carry any setting). */
  readonly commands: readonly SettingsCommand[];
  /** How help names a default computed at run time (the hostname, the state dir). */
  readonly defaultHelp?: string;
  /** Help of one command where the setting means something more specific there. */
  readonly helpFor?: Partial<Record<SettingsCommand, string>>;
}

export interface IntSettingDef extends SettingBase {
  readonly kind: 'int';
  readonly min: number;
  readonly max: number;
  readonly default: number;
}

export interface BoolSettingDef extends SettingBase {
  readonly kind: 'bool';
  readonly default: boolean;
  /** Help also shows `--no-<name>`. */
  readonly negatable?: boolean;
}

export interface TextSettingDef extends SettingBase {
  readonly kind: 'text';
  /** null: none unless given (or computed at run time, see defaultHelp). */
  readonly default: string | null;
}

/** A password: from the environment or the config file only. */
export interface SecretSettingDef extends SettingBase {
  readonly kind: 'secret';
  readonly default: null;
}

export type SettingDef = IntSettingDef | BoolSettingDef | TextSettingDef | SecretSettingDef;

const PORT = { min: 0, max: 65535 } as const;
const BOTH = ['start', 'dashboard'] as const;
const START = ['start'] as const;
const CLASSROOM = ['classroom'] as const;
/** Node-RED's customary HTTP port: the unit dashboard's and the teacher's console's default. */
const NODE_RED_PORT = 1880;

export const SETTINGS = [
  { name: 'unit', kind: 'text', arg: 'ID', default: null, defaultHelp: 'the hostname', commands: BOTH,
    help: 'unit id in MQTT topics', helpFor: { dashboard: 'the unit to show' } },
  { name: 'input', kind: 'text', arg: 'SPEC', default: 'auto', commands: START,
    help: 'auto | default | DEVICE (name or index) | demo | file:PATH' },
  { name: 'output', kind: 'text', arg: 'SPEC', default: 'auto', commands: START, help: 'auto | default | DEVICE | null' },
  { name: 'sample-rate', kind: 'int', arg: 'N', min: MIN_SAMPLE_RATE, max: MAX_SAMPLE_RATE, default: 48000, commands: START,
    help: 'sample rate in Hz' },
  { name: 'block', kind: 'int', arg: 'N', min: BLOCK_RANGE_FRAMES.min, max: BLOCK_RANGE_FRAMES.max, default: 128, commands: START,
    help: 'frames per block' },
  { name: 'channels', kind: 'int', arg: 'N', min: 1, max: MAX_CHANNELS, default: 2, commands: START, help: 'audio channels' },
  { name: 'queue-blocks', kind: 'int', arg: 'N', min: QUEUE_BLOCKS_RANGE.min, max: QUEUE_BLOCKS_RANGE.max, default: DEFAULT_QUEUE_BLOCKS,
    commands: START, help: 'blocks queued between the device and the chain: the slack against xruns,\nand latency (docs/realtime.md)' },
  { name: 'mqtt-port', kind: 'int', arg: 'N', ...PORT, default: 1883, commands: START, help: 'embedded broker TCP port' },
  { name: 'ws-port', kind: 'int', arg: 'N', ...PORT, default: 9001, commands: START, help: 'embedded broker WebSocket port' },
  { name: 'listen', kind: 'text', arg: 'HOST', default: BROKER_DEFAULTS.host, commands: BOTH,
    help: 'address the broker and the dashboard bind; 127.0.0.1 keeps them local',
    helpFor: { dashboard: 'address the page listens on; 127.0.0.1 keeps it local' } },
  { name: 'broker', kind: 'text', arg: 'URL', default: null, commands: [...BOTH, ...CLASSROOM],
    help: 'use an external broker (mqtt://host:1883); no embedded one;\nseveral, comma-separated, are tried in turn (failover)',
    helpFor: { dashboard: 'the unit\'s broker (default: the one on this machine)', classroom: 'the room\'s hub, mqtt://HOST:PORT (default: the one on this machine)' } },
  { name: 'broker-username', kind: 'text', arg: 'U', default: null, commands: START,
    help: 'user for --broker (its password: PICOMP_BROKER_PASSWORD\nor broker_password in the config file, never a flag)' },
  { name: 'broker-password', kind: 'secret', arg: '', default: null, commands: [], help: 'password for --broker-username' },
  { name: 'base-topic', kind: 'text', arg: 'T', default: DEFAULT_BASE_TOPIC, commands: [...BOTH, ...CLASSROOM], help: 'MQTT base topic' },
  { name: 'groups', kind: 'text', arg: 'G1,G2', default: '', commands: START,
    help: 'classroom groups: obey <base>/group/<g>/set as well as <base>/all/set' },
  { name: 'meter-rate', kind: 'int', arg: 'N', min: METER_RATE_HZ.min, max: METER_RATE_HZ.max, default: METER_RATE_HZ.default, commands: START,
    help: 'meter messages per second' },
  { name: 'ha-discovery', kind: 'bool', arg: 'BOOL', default: true, negatable: true, commands: START,
    help: 'publish Home Assistant discovery' },
  { name: 'allow-anonymous', kind: 'bool', arg: 'BOOL', default: false, commands: START,
    help: 'with a users file, let anonymous clients in as viewers' },
  { name: 'tls-cert', kind: 'text', arg: 'FILE', default: null, commands: START, help: 'TLS certificate for an mqtts listener (with --tls-key)' },
  { name: 'tls-key', kind: 'text', arg: 'FILE', default: null, commands: START, help: 'TLS private key' },
  { name: 'tls-port', kind: 'int', arg: 'N', ...PORT, default: 8883, commands: START, help: 'mqtts port' },
  { name: 'dashboard', kind: 'bool', arg: '', default: false, commands: START, help: 'also run the Node-RED dashboard' },
  { name: 'dashboard-port', kind: 'int', arg: 'N', min: 1, max: PORT.max, default: NODE_RED_PORT, commands: BOTH, help: 'dashboard HTTP port' },
  { name: 'dashboard-username', kind: 'text', arg: 'U', default: null, commands: BOTH,
    help: 'the dashboard\'s MQTT user when the broker has users\n(password: PICOMP_DASHBOARD_PASSWORD or dashboard_password)' },
  { name: 'dashboard-password', kind: 'secret', arg: '', default: null, commands: [], help: 'password for --dashboard-username' },
  { name: 'classroom-listen', kind: 'text', arg: 'HOST', default: '127.0.0.1', commands: CLASSROOM,
    help: 'address the console page listens on (short: --listen); 0.0.0.0 opens it\nto the LAN, where whoever opens it acts as the teacher' },
  { name: 'classroom-port', kind: 'int', arg: 'N', min: 1, max: PORT.max, default: NODE_RED_PORT, commands: CLASSROOM,
    help: 'the teacher\'s console HTTP port (short: --port)' },
  { name: 'classroom-username', kind: 'text', arg: 'U', default: null, commands: CLASSROOM,
    help: 'the console\'s MQTT user, a teacher account, when the hub has users\n(password: PICOMP_CLASSROOM_PASSWORD or classroom_password; short: --username)' },
  { name: 'classroom-password', kind: 'secret', arg: '', default: null, commands: [], help: 'password for --classroom-username' },
  { name: 'state-dir', kind: 'text', arg: 'DIR', default: null, defaultHelp: '~/.local/state/picomp', commands: START,
    help: 'where parameters, presets and users persist' },
] as const satisfies readonly SettingDef[];

type Defs = typeof SETTINGS;
export type SettingName = Defs[number]['name'];

type ValueOf<D> = D extends { kind: 'int' } ? number
  : D extends { kind: 'bool' } ? boolean
  : D extends { default: string } ? string
  : string | null;

/** Every setting's value after merging, typed per setting. */
export type SettingValues = { -readonly [D in Defs[number] as D['name']]: ValueOf<D> };

const byName = new Map<string, SettingDef>(SETTINGS.map((s) => [s.name, s]));

export function settingDef(name: SettingName): SettingDef {
  return byName.get(name)!;
}

/** `sample-rate` → `sample_rate`, its key in a config file. */
export const configKey = (def: SettingDef): string => def.name.replace(/-/g, '_');

/** `sample-rate` → `PICOMP_SAMPLE_RATE`. */
export const envName = (def: SettingDef): string => 'PICOMP_' + def.name.toUpperCase().replace(/-/g, '_');

/** The keys of a config file besides the settings: the start-up parameters and the knobs. */
export const CONFIG_SECTIONS = ['params', 'knobs', 'led'] as const;

/** parseArgs options for a command's settings (secrets too, so naming one gets its own refusal). */
export function settingOptions(command: SettingsCommand): ParseArgsOptions {
  return Object.fromEntries(SETTINGS.filter((s) => s.kind === 'secret' || (s.commands as readonly string[]).includes(command))
    .map((s) => [s.name, { type: 'string' as const }]));
}

/** The option lines of a command's --help, from the schema. */
export function settingsHelp(command: SettingsCommand): string {
  const lines: string[] = [];
  const row = (left: string, text: string): void => {
    const [first, ...more] = text.split('\n');
    lines.push(`  ${left.padEnd(22)} ${first}`);
    for (const m of more) lines.push(`  ${''.padEnd(22)} ${m}`);
  };
  for (const s of SETTINGS as readonly SettingDef[]) {
    if (!(s.commands as readonly string[]).includes(command)) continue;
    const def = s.defaultHelp ?? (s.kind === 'int' ? `${s.default}` : s.kind === 'bool' ? (s.arg ? String(s.default) : null)
      : s.default !== null && s.default !== '' ? s.default : null);
    const range = s.kind === 'int' ? ` (${s.min}..${s.max}, default ${def})` : def !== null ? ` (default ${def})` : '';
    row(`--${s.name}${s.arg ? ' ' + s.arg : ''}`, (s.helpFor?.[command] ?? s.help) + range);
    if (s.kind === 'bool' && s.negatable) row(`--no-${s.name}`, `same as --${s.name} false`);
  }
  return lines.join('\n');
}

const BOOLEAN_FLAGS = new Map<string, BoolSettingDef>((SETTINGS as readonly SettingDef[]).flatMap((s) => s.kind === 'bool' ? [[s.name, s]] : []));

/**
 * `--dashboard` → `--dashboard true`, `--no-ha-discovery` → `--ha-discovery false`.
 * A word after a boolean that takes a value (`--ha-discovery maybe`) stays its
 * value, so the user hears what the flag takes rather than of a stray argument.
 */
export function normaliseBooleanFlags(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^--(no-)?([a-z-]+)$/.exec(arg);
    const def = m ? BOOLEAN_FLAGS.get(m[2]!) : undefined;
    if (m && def) {
      const next = argv[i + 1];
      if (m[1]) { out.push(`--${m[2]}`, 'false'); continue; }
      const isValue = next === 'true' || next === 'false' || (def.arg !== '' && next !== undefined && !next.startsWith('-'));
      if (!isValue) { out.push(arg, 'true'); continue; }
    }
    out.push(arg);
  }
  return out;
}

/** Reads --config FILE: a mapping of settings (by config key or flag name) and sections. */
export async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read config file ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}.`);
  }
  let doc: unknown;
  const json = /\.json$/i.test(path);
  try {
    // yaml is 70 modules (~2 MB of heap): loaded only when a YAML config file is read.
    doc = json ? JSON.parse(text) : (await import('yaml')).parse(text);
  } catch (e) {
    throw new UserError(`config file ${path} is not valid ${json ? 'JSON' : 'YAML'}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new UserError(`config file ${path} must hold a mapping of settings, e.g. "unit: studio-1".`);
  return doc as Record<string, unknown>;
}

/**
 * One raw value (text from a flag or the environment, or a YAML/JSON
 * scalar) checked against its setting. `origin` names where it was written
 * (`--mqtt-port`, `environment variable PICOMP_MQTT_PORT`, `config file
 * x.yaml: mqtt_port`), so the error sends the user to the right place.
 */
function settingValue(def: SettingDef, raw: unknown, origin: string): string | number | boolean {
  const text = typeof raw === 'string' ? raw : typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : null;
  if (text === null) throw new UserError(`${origin} must be ${def.kind === 'int' ? 'a whole number' : def.kind === 'bool' ? 'true or false' : 'a text value'}.`);
  switch (def.kind) {
    case 'bool':
      if (text !== 'true' && text !== 'false') throw new UserError(`${origin} must be true or false, got ${JSON.stringify(text)}.`);
      return text === 'true';
    case 'int': {
      const n = Number(text);
      if (!/^\d+$/.test(text) || n < def.min || n > def.max) {
        throw new UserError(`${origin} must be a whole number from ${def.min} to ${def.max}, got ${JSON.stringify(text)}.`);
      }
      return n;
    }
    default:
      return text;
  }
}

export interface ReadSettings {
  readonly values: SettingValues;
  /** Which settings were given (not defaults). */
  readonly given: ReadonlySet<SettingName>;
  /** Where a setting's value was written, for errors: `--unit`, `environment variable PICOMP_UNIT`, `config file x.yaml: unit`. */
  origin(name: SettingName): string;
  readonly configPath: string | null;
  /** The config file's sections (params, knobs, led), unchecked. */
  readonly sections: Partial<Record<(typeof CONFIG_SECTIONS)[number], unknown>>;
}

/**
 * Merges defaults, config file, environment and flags. `flags` holds the
 * parsed command-line values by flag name; `config` names the file.
 */
export async function readSettings(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): Promise<ReadSettings> {
  const merged = new Map<string, string | number | boolean>();
  const origins = new Map<string, string>();
  const take = (def: SettingDef, raw: unknown, origin: string): void => {
    merged.set(def.name, settingValue(def, raw, origin));
    origins.set(def.name, origin);
  };
  const sections: Record<string, unknown> = {};
  const configPath = (flags.config as string | undefined) ?? env.PICOMP_CONFIG ?? null;
  if (configPath) {
    for (const [key, raw] of Object.entries(await readConfigFile(configPath))) {
      if ((CONFIG_SECTIONS as readonly string[]).includes(key)) { sections[key] = raw; continue; }
      const def = byName.get(key.replace(/_/g, '-'));
      if (!def) {
        throw new UserError(`config file ${configPath}: unknown setting "${key}"; settings are ${SETTINGS.map(configKey).join(', ')}, ${CONFIG_SECTIONS.join(', ')}.`);
      }
      take(def, raw, `config file ${configPath}: ${key}`);
    }
  }
  for (const def of SETTINGS as readonly SettingDef[]) {
    const variable = envName(def);
    if (env[variable] !== undefined && env[variable] !== '') take(def, env[variable], `environment variable ${variable}`);
    if (flags[def.name] === undefined) continue;
    if (def.kind === 'secret') {
      throw new UserError(`--${def.name} would show the password to anyone listing processes; set ${variable} or ${configKey(def)} in the config file instead.`);
    }
    take(def, flags[def.name], `--${def.name}`);
  }
  const values = Object.fromEntries(SETTINGS.map((s) => [s.name, merged.has(s.name) ? merged.get(s.name) : s.default])) as SettingValues;
  return {
    values, given: new Set(merged.keys()) as Set<SettingName>, configPath, sections,
    origin: (name) => origins.get(name) ?? `--${name}`,
  };
}
