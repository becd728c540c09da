/**
 * Where a unit keeps what must survive a restart: current parameters,
 * user presets and the MQTT users file.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PICOMP_STATE_DIR) return env.PICOMP_STATE_DIR;
  const base = env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(base, 'picomp');
}

export const stateFile = (dir: string): string => join(dir, 'state.json');
export const userPresetDir = (dir: string): string => join(dir, 'presets');
export const usersFile = (dir: string): string => join(dir, 'users.json');
