/**
 * Strict argument parsing for every command: unknown flags and bad values
 * become one-line UserErrors (exit code 2), never stack traces.
 */
import { parseArgs } from 'node:util';
import { UserError } from '../errors.js';
import type { ParseArgsOptions } from './param-flags.js';
import { PARAMS, flagName } from '../params/schema.js';

const PARAM_FLAGS = new Set(PARAMS.map((p) => flagName(p.name)));

export function parseCommandArgs(command: string, argv: string[], options: ParseArgsOptions, allowPositionals = true): { values: Record<string, unknown>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: joinNegativeValues(argv, options), options: { help: { type: 'boolean', short: 'h' }, ...options }, allowPositionals, strict: true });
    rejectEmpty(command, values, positionals);
    return { values: values as Record<string, unknown>, positionals };
  } catch (e) {
    if (e instanceof UserError) throw e;
    // Node's messages are long and mention internals; keep the useful part.
    const msg = (e as Error).message.split('. ')[0]!.replace(/^Unknown option '([^']+)'.*$/, 'unknown option $1');
    throw new UserError(`${msg}; see picomp ${command} --help.`);
  }
}

/**
 * An empty value is never meant (a shell variable that was not set): say
 * so rather than guess. Parameter flags are left to the schema, whose
 * message also gives the range.
 */
function rejectEmpty(command: string, values: Record<string, unknown>, positionals: string[]): void {
  for (const [name, v] of Object.entries(values)) {
    if (v === '' && !PARAM_FLAGS.has(name)) throw new UserError(`--${name} was given an empty value; see picomp ${command} --help.`);
  }
  if (positionals.includes('')) throw new UserError(`an empty argument was given where a name belongs; see picomp ${command} --help.`);
}

/**
 * `--threshold -30` → `--threshold=-30`: parseArgs would otherwise take
 * "-30" for an option, and negative dB values are everywhere here.
 */
function joinNegativeValues(argv: string[], options: ParseArgsOptions): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    const name = arg.startsWith('--') ? arg.slice(2) : null;
    if (name && options[name]?.type === 'string' && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** Parses a positive integer flag within [min, max]. */
export function intFlag(name: string, raw: unknown, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const s = String(raw);
  const n = Number(s);
  if (!/^\d+$/.test(s) || n < min || n > max) throw new UserError(`--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(s)}.`);
  return n;
}
