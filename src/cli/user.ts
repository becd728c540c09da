/**
 * `picomp user add|remove|list`: manages the MQTT users file of a unit.
 * Passwords come from a hidden prompt or stdin, never from a flag (flags
 * end up in shell history and `ps`).
 */
import { parseArgs } from 'node:util';
import type { Readable, Writable } from 'node:stream';
import { isUserError, UserError } from '../errors.js';
import { defaultStateDir, usersFile } from '../unit/state-dir.js';
import { writeErrorSentence } from '../unit/atomic-file.js';
import { ROLES, ROLE_HELP, isRole, readUsers, removeUser, upsertUser } from '../mqtt/users.js';

export interface UserCommandIo {
  readonly stdin: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  readonly stdout: Writable;
  readonly stderr: Writable;
}

const HELP = `Usage:
  picomp user add NAME --role ROLE [--unit ID] [--password-stdin] [--state-dir DIR]
  picomp user remove NAME [--state-dir DIR]
  picomp user list [--state-dir DIR]

Manages who may use this unit's MQTT broker. Once one user exists, every
client must log in (restart not needed). Passwords are stored as salted
scrypt hashes only. Without --password-stdin, add asks for the password.

Roles:
${ROLES.map((r) => `  ${r.padEnd(9)} ${ROLE_HELP[r]}`).join('\n')}
  (--unit ID names the unit an operator controls.)
`;

export async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads one line from a terminal without echoing it. */
export function promptHidden(io: UserCommandIo, question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const { stdin } = io;
    io.stderr.write(question);
    stdin.setRawMode?.(true);
    stdin.resume();
    let text = '';
    const finish = (err: Error | null): void => {
      stdin.setRawMode?.(false);
      stdin.pause();
      stdin.off('data', onData);
      io.stderr.write('\n');
      if (err) reject(err); else resolve(text);
    };
    const onData = (d: Buffer | string): void => {
      for (const ch of d.toString('utf8')) {
        if (ch === '\r' || ch === '\n') { finish(null); return; }
        if (ch === '\u0003') { finish(new UserError('cancelled.')); return; }
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else text += ch;
      }
    };
    stdin.on('data', onData);
  });
}

async function askPassword(io: UserCommandIo, fromStdin: boolean): Promise<string> {
  if (fromStdin) {
    // One line; the trailing newline of `echo` is not part of the password.
    return (await readAll(io.stdin)).replace(/\r?\n$/, '');
  }
  if (!io.stdin.isTTY) throw new UserError('no terminal to ask for the password; pipe it in with --password-stdin.');
  const first = await promptHidden(io, 'Password: ');
  const again = await promptHidden(io, 'Password again: ');
  if (first !== again) throw new UserError('the two passwords differ; nothing was changed.');
  return first;
}

export async function runUserCommand(
  argv: string[],
  io: UserCommandIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args: argv,
        allowPositionals: true,
        strict: true,
        options: {
          role: { type: 'string' },
          unit: { type: 'string' },
          'password-stdin': { type: 'boolean', default: false },
          'state-dir': { type: 'string' },
          help: { type: 'boolean', short: 'h', default: false },
        },
      });
    } catch (e) {
      throw new UserError(`${(e as Error).message.replace(/\.$/, '')}; see \`picomp user --help\`.`);
    }
    const { values, positionals } = parsed;
    if (values.help) { io.stdout.write(HELP); return 0; }
    const [action, name, ...extra] = positionals;
    const path = usersFile(values['state-dir'] ?? defaultStateDir());
    if (extra.length > 0) throw new UserError(`unexpected "${extra[0]}"; see \`picomp user --help\`.`);

    switch (action) {
      case 'list': {
        if (name !== undefined) throw new UserError(`"user list" takes no name; see \`picomp user --help\`.`);
        const users = await readUsers(path);
        if (users.length === 0) {
          io.stdout.write(`No users in ${path}: the broker accepts anonymous clients.\n`);
        } else {
          for (const u of users) {
            io.stdout.write(u.broken ? `${u.name}\tLOCKED: ${u.broken}\n` : `${u.name}\t${u.role}${u.unit ? `\tunit ${u.unit}` : ''}\n`);
          }
        }
        return 0;
      }
      case 'add': {
        if (!name) throw new UserError('give the user name: `picomp user add NAME --role ROLE`.');
        const role = values.role;
        if (role === undefined) throw new UserError(`give a role with --role (${ROLES.join(', ')}).`);
        if (!isRole(role)) throw new UserError(`--role must be one of ${ROLES.join(', ')}, got "${role}".`);
        if (values.unit !== undefined && role !== 'operator') throw new UserError('--unit only applies to an operator; other roles are not tied to a unit.');
        const password = await askPassword(io, values['password-stdin']);
        const how = await upsertUser(path, { name, role, password, ...(values.unit !== undefined ? { unit: values.unit } : {}) })
          .catch((e: unknown) => { throw writeErrorSentence(path, e); });
        io.stdout.write(`${how === 'added' ? 'Added' : 'Updated'} ${role} "${name}" in ${path}.\n`);
        return 0;
      }
      case 'remove': {
        if (!name) throw new UserError('give the user name: `picomp user remove NAME`.');
        const removed = await removeUser(path, name).catch((e: unknown) => { throw writeErrorSentence(path, e); });
        if (!removed) throw new UserError(`there is no user "${name}" in ${path}; \`picomp user list\` shows who there is.`);
        io.stdout.write(`Removed "${name}" from ${path}.\n`);
        return 0;
      }
      case undefined:
        throw new UserError('say what to do: `picomp user add|remove|list`; see `picomp user --help`.');
      default:
        throw new UserError(`unknown user command "${action}"; use add, remove or list.`);
    }
  } catch (e) {
    if (!isUserError(e)) throw e;
    io.stderr.write(`picomp user: ${e.message}\n`);
    return 2;
  }
}
