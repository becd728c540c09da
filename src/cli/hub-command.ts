/**
 * `picomp hub acl|passwd`: the classroom hub's Mosquitto access files,
 * made from picomp's users file (see src/classroom/mosquitto-files.ts for
 * why the passwords are typed once rather than converted).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { UserError } from '../errors.js';
import { readUsers, verifyPassword } from '../mqtt/users.js';
import { BASE_TOPIC_HELP, checkBaseTopic } from './hub-options.js';
import { formatPasswdFile, mosquittoAcl, mosquittoHash, parsePasswdFile } from '../classroom/mosquitto-files.js';
import { writeFileAtomic } from '../unit/atomic-file.js';
import { defaultStateDir, usersFile } from '../unit/state-dir.js';
import { parseCommandArgs } from './args.js';
import { promptHidden, readAll, type UserCommandIo } from './user.js';

const HELP = `Usage:
  picomp hub acl [--users FILE] [--base-topic T] [--out FILE]
  picomp hub passwd --out FILE [--users FILE] [--user NAME] [--password-stdin]

Makes the classroom hub's Mosquitto files (hub/mosquitto.conf reads them as
/mosquitto/config/acl and /mosquitto/config/passwd) from picomp's users file
(picomp user add …; default: the one in the state dir).

  acl      who may do what, by role: viewers read; students (operators) set
           only their unit; a unit's own account (an operator named after its
           unit, e.g. picomp user add studio-1 --role operator --unit studio-1)
           publishes only its own topics; teachers write class/desired,
           group/+/desired, group/+/set, all/#, <unit>/desired and <unit>/set;
           admins everything. Printed, or written to --out.
  passwd   Mosquitto cannot read picomp's scrypt hashes, and no hash can be
           converted, so this asks each user's password once (hidden), checks
           it against the users file, and writes Mosquitto's own hash to
           --out. Entries already in --out are kept; users no longer in the
           users file are dropped. --user NAME does one user.
           --password-stdin reads lines NAME:PASSWORD instead of asking.

Options:
  --users FILE        picomp users file (default: users.json in the state dir)
  --base-topic T      ${BASE_TOPIC_HELP}
  --out FILE          file to write
  --user NAME         passwd: only this user
  --password-stdin    passwd: read NAME:PASSWORD lines from stdin
  -h, --help          show this help
`;

const stdio: UserCommandIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };

export async function runHub(argv: string[], io: UserCommandIo = stdio): Promise<number> {
  const { values, positionals } = parseCommandArgs('hub', argv, {
    users: { type: 'string' }, 'base-topic': { type: 'string' }, out: { type: 'string' },
    user: { type: 'string' }, 'password-stdin': { type: 'boolean' },
  });
  if (values.help) { io.stdout.write(HELP); return 0; }
  const [action, ...extra] = positionals;
  if (extra.length > 0) throw new UserError(`unexpected "${extra[0]}"; see picomp hub --help.`);
  const path = (values.users as string | undefined) ?? usersFile(defaultStateDir());
  const users = await readUsers(path);
  if (users.length === 0) throw new UserError(`there are no users in ${path}; add them with picomp user add (a hub without users would be open to the whole LAN).`);
  switch (action) {
    case 'acl': {
      const text = mosquittoAcl(users, checkBaseTopic(values['base-topic'] as string | undefined));
      if (values.out) await writeFile(values.out as string, text);
      else io.stdout.write(text);
      return 0;
    }
    case 'passwd': return writePasswd(io, users, values);
    case undefined: throw new UserError('say what to make: picomp hub acl or picomp hub passwd; see picomp hub --help.');
    default: throw new UserError(`unknown hub command "${action}"; use acl or passwd.`);
  }
}

async function writePasswd(io: UserCommandIo, users: Awaited<ReturnType<typeof readUsers>>, values: Record<string, unknown>): Promise<number> {
  const out = values.out as string | undefined;
  if (!out) throw new UserError('give the password file to write with --out FILE (e.g. hub/passwd).');
  const only = values.user as string | undefined;
  if (only !== undefined && !users.some((u) => u.name === only)) throw new UserError(`there is no user "${only}" in the users file; picomp user list shows who there is.`);
  const targets = users.filter((u) => only === undefined || u.name === only);
  let given: Map<string, string> | null = null;
  if (values['password-stdin']) {
    given = new Map();
    for (const line of (await readAll(io.stdin)).split(/\r?\n/)) {
      const i = line.indexOf(':');
      if (i > 0) given.set(line.slice(0, i), line.slice(i + 1));
    }
  } else if (!io.stdin.isTTY) {
    throw new UserError('no terminal to ask the passwords; pipe NAME:PASSWORD lines in with --password-stdin.');
  }
  let existing = new Map<string, string>();
  try {
    existing = parsePasswdFile(await readFile(out, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new UserError(`cannot read ${out}: ${(e as Error).message}.`);
  }
  const next = new Map<string, string>();
  for (const u of users) if (existing.has(u.name)) next.set(u.name, existing.get(u.name)!);
  for (const u of targets) {
    const password = given ? given.get(u.name) : await promptHidden(io, `Password of ${u.name} (${u.role}): `);
    if (password === undefined) continue;
    if (!(await verifyPassword(password, u.password))) {
      throw new UserError(`that is not ${u.name}'s password in the users file; nothing was written (set a new one with picomp user add ${u.name} --role ${u.role} first).`);
    }
    next.set(u.name, await mosquittoHash(password));
  }
  await writeFileAtomic(out, formatPasswdFile(next), { mode: 0o600, createDir: false });
  const dropped = [...existing.keys()].filter((n) => !next.has(n));
  const missing = users.filter((u) => !next.has(u.name)).map((u) => u.name);
  io.stdout.write(`Wrote ${next.size} login${next.size === 1 ? '' : 's'} to ${out}` +
    (dropped.length ? `; dropped ${dropped.join(', ')} (no longer users)` : '') + '.\n');
  if (missing.length) io.stderr.write(`picomp hub: no password yet for ${missing.join(', ')}; they cannot log in to the hub until you run picomp hub passwd --user NAME.\n`);
  return 0;
}
