/**
 * `picomp params`: the schema for students — every parameter with its
 * unit, range, default and what it does. `--json` prints the schema itself.
 */
import { PARAMS, describeRange } from '../params/schema.js';
import { parseCommandArgs } from './args.js';

export const paramsHelp = `Usage: picomp params [--json]

Lists every parameter of the compressor with its unit, range, default and
a one-line explanation. --json prints the machine-readable schema.`;

export async function runParams(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('params', argv, { json: { type: 'boolean' } }, false);
  if (values.help) { process.stdout.write(paramsHelp + '\n'); return 0; }
  if (values.json) { process.stdout.write(JSON.stringify(PARAMS, null, 2) + '\n'); return 0; }
  const lines = PARAMS.map((p) => {
    const range = describeRange(p);
    return `${p.name.padEnd(14)} ${range.padEnd(22)} default ${String(p.default).padEnd(6)} ${p.help}`;
  });
  process.stdout.write(`${'name'.padEnd(14)} ${'range'.padEnd(22)} ${'default'.padEnd(14)} meaning\n${lines.join('\n')}\n`);
  return 0;
}
