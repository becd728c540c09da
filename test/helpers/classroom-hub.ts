/**
 * The shipped classroom hub (hub/mosquitto.conf) on a spawned Mosquitto:
 * the config as shipped, with only its listeners moved to a free loopback
 * port and its file paths to a temp dir; ACL and password files made by
 * `picomp hub acl|passwd` from a picomp users file.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { runHub } from '../../src/cli/hub-command.js';
import { isUserError } from '../../src/errors.js';
import { upsertUser, type Role } from '../../src/mqtt/users.js';
import { Mosquitto } from './mosquitto.js';

export const HUB_CONF = fileURLToPath(new URL('../../../hub/mosquitto.conf', import.meta.url));

export interface HubUser { name: string; role: Role; unit?: string; password: string }

/** A Writable that keeps what is written. */
export function sink(): Writable & { text: () => string } {
  const chunks: string[] = [];
  const w = new Writable({ write(c: Buffer, _e, cb) { chunks.push(c.toString()); cb(); } });
  return Object.assign(w, { text: () => chunks.join('') });
}

/** Runs `picomp hub …` in-process with the given stdin text. */
export async function hub(argv: string[], stdinText = ''): Promise<{ code: number; out: string; err: string }> {
  const stdin = new PassThrough();
  stdin.end(stdinText);
  const stdout = sink(), stderr = sink();
  try {
    const code = await runHub(argv, { stdin, stdout, stderr });
    return { code, out: stdout.text(), err: stderr.text() };
  } catch (e) {
    // As main() reports a UserError: one line, exit code 2.
    if (!isUserError(e)) throw e;
    return { code: 2, out: stdout.text(), err: stderr.text() + `picomp hub: ${e.message}\n` };
  }
}

/** The shipped config for a test: same settings, listeners on `port` (no WebSocket), paths in `dir`. */
export async function hubConfig(port: number, dir: string): Promise<string> {
  const shipped = await readFile(HUB_CONF, 'utf8');
  const lines: string[] = [];
  let skipListener = false;
  for (const line of shipped.split('\n')) {
    if (line.startsWith('listener ')) {
      // The first listener becomes the test's; the WebSocket one is dropped with its protocol line.
      skipListener = lines.some((l) => l.startsWith('listener '));
      if (!skipListener) lines.push(`listener ${port} 127.0.0.1`);
      continue;
    }
    if (skipListener && line.startsWith('protocol ')) continue;
    lines.push(line.replace('/mosquitto/config/', dir + '/').replace('/mosquitto/data/', dir + '/'));
  }
  // As root, Mosquitto would drop to the `mosquitto` user, which cannot read the test's 0600 files.
  if (process.getuid?.() === 0) lines.push('user root');
  return lines.join('\n');
}

/** Starts the hub with these users (picomp users file → hub acl + passwd). */
export async function startHub(users: readonly HubUser[]): Promise<Mosquitto> {
  return Mosquitto.start(async (port, dir) => {
    const usersPath = join(dir, 'users.json');
    for (const u of users) await upsertUser(usersPath, u);
    const acl = await hub(['acl', '--users', usersPath, '--out', join(dir, 'acl')]);
    if (acl.code !== 0) throw new Error(acl.err);
    const pw = await hub(['passwd', '--users', usersPath, '--out', join(dir, 'passwd'), '--password-stdin'],
      users.map((u) => `${u.name}:${u.password}`).join('\n'));
    if (pw.code !== 0) throw new Error(pw.err);
    return hubConfig(port, dir);
  });
}
