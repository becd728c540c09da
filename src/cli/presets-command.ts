/**
 * `picomp presets`: built-in and user presets, with what each one changes
 * from the defaults.
 */
import { loadPresets } from '../unit/unit-state.js';
import { defaultStateDir, userPresetDir } from '../unit/state-dir.js';
import { createLogger } from '../log.js';
import { parseCommandArgs } from './args.js';

export const presetsHelp = `Usage: picomp presets [--json] [--state-dir DIR]

Lists the built-in presets and the user presets found in DIR/presets/*.json
(default DIR: ${defaultStateDir()}). A user preset file looks like
  {"description": "My vocal chain", "params": {"threshold": -24, "ratio": 3}}`;

export async function runPresets(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('presets', argv, { json: { type: 'boolean' }, 'state-dir': { type: 'string' } }, false);
  if (values.help) { process.stdout.write(presetsHelp + '\n'); return 0; }
  const stateDir = (values['state-dir'] as string | undefined) ?? defaultStateDir();
  const presets = [...(await loadPresets(stateDir, createLogger('presets'))).values()];
  if (values.json) { process.stdout.write(JSON.stringify(presets, null, 2) + '\n'); return 0; }
  for (const p of presets) {
    const settings = Object.entries(p.params).map(([k, v]) => `${k}=${v}`).join(' ');
    process.stdout.write(`${p.name}${p.builtIn ? '' : ' (user)'}\n  ${p.description}\n  ${settings}\n`);
  }
  process.stdout.write(`\nUser presets go in ${userPresetDir(stateDir)}/NAME.json.\n`);
  return 0;
}
