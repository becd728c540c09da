/**
 * The MQTT users file: who may connect to the embedded broker, with which
 * role. Passwords are stored only as salted scrypt hashes; the file is
 * written atomically and readable by its owner only.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { UserError } from '../errors.js';
import { writeFileAtomic } from '../unit/atomic-file.js';
import { UNIT_ID_PATTERN } from './topics.js';

export const ROLES = ['viewer', 'operator', 'teacher', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_HELP: Record<Role, string> = {
  viewer: 'may subscribe to everything, publish nothing',
  operator: 'may also set and get its own unit',
  teacher: 'may set and get any unit, and the all/group topics',
  admin: 'may do everything',
};

export const USER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const MIN_PASSWORD_LENGTH = 8;

/** scrypt cost: about 50 ms per check on a Pi 3, too slow for guessing at scale. */
const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 } as const;

export interface PasswordHash {
  readonly algo: 'scrypt';
  readonly N: number;
  readonly r: number;
  readonly p: number;
  /** base64 */
  readonly salt: string;
  /** base64 */
  readonly hash: string;
}

export interface UserRecord {
  readonly name: string;
  readonly role: Role;
  /** The unit an operator may control; unused for other roles. */
  readonly unit?: string;
  readonly password: PasswordHash;
}

export interface UsersDoc {
  readonly version: 1;
  readonly users: readonly UserRecord[];
}

export function isRole(s: string): s is Role {
  return (ROLES as readonly string[]).includes(s);
}

function scryptAsync(password: string, salt: Buffer, p: { N: number; r: number; p: number; keylen: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, p.keylen, { N: p.N, r: p.r, p: p.p, maxmem: 256 * p.N * p.r + 1024 * 1024 }, (err, key) => {
      if (err) reject(err); else resolve(key);
    });
  });
}

export async function hashPassword(password: string): Promise<PasswordHash> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, SCRYPT);
  return { algo: 'scrypt', N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, salt: salt.toString('base64'), hash: key.toString('base64') };
}

export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const expected = Buffer.from(stored.hash, 'base64');
  const key = await scryptAsync(password, Buffer.from(stored.salt, 'base64'), {
    N: stored.N, r: stored.r, p: stored.p, keylen: expected.length,
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

function checkRecord(u: unknown, path: string, i: number): UserRecord {
  const r = u as Partial<UserRecord> | null;
  const where = `user #${i + 1} in ${path}`;
  if (!r || typeof r !== 'object') throw new UserError(`${where} is not an object; fix or remove it with \`picomp user remove\`.`);
  if (typeof r.name !== 'string' || !USER_NAME_PATTERN.test(r.name)) throw new UserError(`${where} has no valid name.`);
  if (typeof r.role !== 'string' || !isRole(r.role)) throw new UserError(`user "${r.name}" in ${path} has role ${JSON.stringify(r.role)}; roles are ${ROLES.join(', ')}.`);
  const p = r.password;
  if (!p || p.algo !== 'scrypt' || typeof p.salt !== 'string' || typeof p.hash !== 'string'
    || !Number.isInteger(p.N) || !Number.isInteger(p.r) || !Number.isInteger(p.p)) {
    throw new UserError(`user "${r.name}" in ${path} has no usable password hash; set it again with \`picomp user add ${r.name} --role ${r.role}\`.`);
  }
  return r as UserRecord;
}

/** Reads the users file; a missing file is an empty list. */
export async function readUsers(path: string): Promise<UserRecord[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new UserError(`cannot read the users file ${path}: ${(e as Error).message}.`);
  }
  let doc: Partial<UsersDoc>;
  try {
    doc = JSON.parse(text) as Partial<UsersDoc>;
  } catch {
    throw new UserError(`the users file ${path} is not valid JSON; restore it or delete it and add the users again.`);
  }
  if (!doc || !Array.isArray(doc.users)) throw new UserError(`the users file ${path} has no "users" list.`);
  return doc.users.map((u, i) => checkRecord(u, path, i));
}

export async function writeUsers(path: string, users: readonly UserRecord[]): Promise<void> {
  const doc: UsersDoc = { version: 1, users };
  // Hashes are not passwords, but there is no reason to let others try to crack them.
  await writeFileAtomic(path, JSON.stringify(doc, null, 2) + '\n', { mode: 0o600 });
}

/** Adds or replaces a user (same name → new password and role). */
export async function upsertUser(path: string, spec: { name: string; role: Role; unit?: string; password: string }): Promise<'added' | 'updated'> {
  if (!USER_NAME_PATTERN.test(spec.name)) {
    throw new UserError(`user name "${spec.name}" is not allowed; use letters, digits, ".", "_" and "-" (up to 64).`);
  }
  if (spec.role === 'operator' && !spec.unit) {
    throw new UserError('an operator controls one unit; give it with --unit ID.');
  }
  if (spec.unit !== undefined && !UNIT_ID_PATTERN.test(spec.unit)) {
    throw new UserError(`unit id "${spec.unit}" is not valid; unit ids use a-z, 0-9 and "-".`);
  }
  if (spec.password.length < MIN_PASSWORD_LENGTH) {
    throw new UserError(`the password must have at least ${MIN_PASSWORD_LENGTH} characters.`);
  }
  const users = await readUsers(path);
  const record: UserRecord = {
    name: spec.name, role: spec.role,
    ...(spec.unit !== undefined ? { unit: spec.unit } : {}),
    password: await hashPassword(spec.password),
  };
  const i = users.findIndex((u) => u.name === spec.name);
  if (i >= 0) users[i] = record; else users.push(record);
  await writeUsers(path, users);
  return i >= 0 ? 'updated' : 'added';
}

export async function removeUser(path: string, name: string): Promise<boolean> {
  const users = await readUsers(path);
  const rest = users.filter((u) => u.name !== name);
  if (rest.length === users.length) return false;
  await writeUsers(path, rest);
  return true;
}
