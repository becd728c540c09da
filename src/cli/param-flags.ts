/**
 * Command-line flags for every parameter, derived from the schema:
 * `--rms-window 20`, `--auto-makeup true`, `--detector rms`.
 */
import { PARAMS, flagName, type ParamName, type ParamValues } from '../params/schema.js';
import { validateText } from '../params/validate.js';
import { UserError } from '../errors.js';

export type ParseArgsOptions = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

/** parseArgs options for every parameter (all strings: validated by the schema). */
export function paramOptions(): ParseArgsOptions {
  return Object.fromEntries(PARAMS.map((p) => [flagName(p.name), { type: 'string' as const }]));
}

/** Picks the parameter flags out of parseArgs values and validates them. */
export function collectParamFlags(values: Record<string, unknown>): Partial<ParamValues> {
  const out: Record<string, unknown> = {};
  for (const p of PARAMS) {
    const raw = values[flagName(p.name)];
    if (raw === undefined) continue;
    const r = validateText(p.name as ParamName, String(raw));
    if (!r.ok) throw new UserError(`--${flagName(p.name)}: ${r.error}`);
    out[p.name] = r.value;
  }
  return out as Partial<ParamValues>;
}

/** Help lines for the parameter flags, one per parameter. */
export function paramFlagsHelp(): string {
  return PARAMS.map((p) => {
    const arg = p.kind === 'number' ? `${p.min}..${p.max}` : p.kind === 'bool' ? 'true|false' : p.options.join('|');
    return `  --${flagName(p.name).padEnd(15)} ${arg.padEnd(16)} ${p.label} (default ${p.default}${p.kind === 'number' && p.unit !== ':1' ? ' ' + p.unit : ''})`;
  }).join('\n');
}
