/**
 * The MQTT users file: who may connect to the embedded broker, with which
 * role. Passwords are stored only as salted scrypt hashes; the file is
 * written atomically and readable by its owner only.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { UserError } from '../errors.js';
import { writeFileAtomic } from '../unit/atomic-file.js';
import type { Logger } from '../log.js';
import { UNIT_ID_PATTERN } from './topics.js';
import { LoginBusyError, scryptOneAtATime } from './password-thread.js';

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
  /** Why this record can never log in (a damaged file); absent for a sound one. */
  readonly broken?: string;
  /** The record as found, kept only for a broken one so it is written back unchanged. */
  readonly raw?: unknown;
}

export interface UsersDoc {
  readonly version: 1;
  readonly users: readonly UserRecord[];
}

export function isRole(s: string): s is Role {
  return (ROLES as readonly string[]).includes(s);
}

/**
 * The scrypt settings a stored hash may ask for. A damaged or hand-edited
 * file must not make a login crash the unit (N not a power of two, a huge
 * r) nor take a near-empty hash (which any password, or 1 in 256, would
 * match): such a record can never log in.
 */
export const HASH_LIMITS = {
  minLog2N: 10, maxLog2N: 17, maxR: 16, maxP: 4,
  /** Working memory of one check (128·N·r·p): at most 64 MiB even when hand-tuned. */
  maxMemoryBytes: 64 * 1024 * 1024,
  minSaltBytes: 16, maxSaltBytes: 64,
  minHashBytes: 16, maxHashBytes: 64,
} as const;

/** Decodes strict (canonical) base64, or null: Buffer.from() would quietly skip bad characters. */
function strictBase64(s: unknown): Buffer | null {
  if (typeof s !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return null;
  const b = Buffer.from(s, 'base64');
  return b.toString('base64') === s ? b : null;
}

/** Why a stored password hash can never be checked safely, or null when it is sound. */
export function hashProblem(p: unknown): string | null {
  const h = p as Partial<PasswordHash> | null;
  if (!h || typeof h !== 'object') return 'has no password hash';
  if (h.algo !== 'scrypt') return `uses password algorithm ${JSON.stringify(h.algo)}, not scrypt`;
  const L = HASH_LIMITS;
  const { N, r, p: par } = h;
  if (!Number.isInteger(N) || N! < 2 ** L.minLog2N || N! > 2 ** L.maxLog2N || (N! & (N! - 1)) !== 0) {
    return `has scrypt N=${JSON.stringify(N)}; it must be a power of two from ${2 ** L.minLog2N} to ${2 ** L.maxLog2N}`;
  }
  if (!Number.isInteger(r) || r! < 1 || r! > L.maxR) return `has scrypt r=${JSON.stringify(r)}; it must be 1 to ${L.maxR}`;
  if (!Number.isInteger(par) || par! < 1 || par! > L.maxP) return `has scrypt p=${JSON.stringify(par)}; it must be 1 to ${L.maxP}`;
  if (128 * N! * r! * par! > L.maxMemoryBytes) return `has scrypt settings needing over ${L.maxMemoryBytes >> 20} MiB per check`;
  const salt = strictBase64(h.salt);
  if (!salt || salt.length < L.minSaltBytes || salt.length > L.maxSaltBytes) return `has a salt that is not ${L.minSaltBytes} to ${L.maxSaltBytes} bytes of base64`;
  const hash = strictBase64(h.hash);
  if (!hash || hash.length < L.minHashBytes || hash.length > L.maxHashBytes) return `has a hash that is not ${L.minHashBytes} to ${L.maxHashBytes} bytes of base64`;
  return null;
}

export async function hashPassword(password: string): Promise<PasswordHash> {
  const salt = randomBytes(16);
  const key = await scryptOneAtATime(password, salt, SCRYPT);
  return { algo: 'scrypt', N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, salt: salt.toString('base64'), hash: key.toString('base64') };
}

/**
 * Recent successful logins, so a client that reconnects (a dashboard, a
 * flaky Wi-Fi laptop) costs no scrypt. Keyed by an HMAC under a secret of
 * this run over the stored hash and the password: nothing here can be
 * reversed, and a changed password (new salt) no longer matches.
 */
const recentLogins = new Map<string, number>();
const RECENT_LOGIN_TTL_MS = 10 * 60_000;
const MAX_RECENT_LOGINS = 128;
const runSecret = randomBytes(32);

function loginKey(password: string, stored: PasswordHash): string {
  return createHmac('sha256', runSecret).update(`${stored.N}:${stored.r}:${stored.p}:${stored.salt}:${stored.hash}\0${password}`).digest('base64');
}

/**
 * Whether the password matches. Never throws for a bad record or a failed
 * check (those are a refusal); only a full checker queue rejects, with
 * LoginBusyError, so the caller can say so.
 */
export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  // A damaged record takes as long as a check too, so timing does not tell it apart.
  if (hashProblem(stored) !== null) return checkUnknownUser();
  const key = loginKey(password, stored);
  const now = Date.now();
  const until = recentLogins.get(key);
  if (until !== undefined && until > now) return true;
  recentLogins.delete(key);
  const expected = Buffer.from(stored.hash, 'base64');
  let derived: Buffer;
  try {
    derived = await scryptOneAtATime(password, Buffer.from(stored.salt, 'base64'), {
      N: stored.N, r: stored.r, p: stored.p, keylen: expected.length,
    });
  } catch (e) {
    if (e instanceof LoginBusyError) throw e;
    return false;
  }
  const ok = derived.length === expected.length && timingSafeEqual(derived, expected);
  if (ok) {
    if (recentLogins.size >= MAX_RECENT_LOGINS) recentLogins.delete(recentLogins.keys().next().value!);
    recentLogins.set(key, now + RECENT_LOGIN_TTL_MS);
  }
  return ok;
}

/**
 * The check for a user name that is not in the file (or a damaged record):
 * a real scrypt at the usual cost in the same queue, refused, so timing
 * does not tell which names exist, under any load. (Sleeping as long as the
 * last real check instead was told apart as soon as the load changed.) The
 * queue keeps it to one 16 MiB area at a time. Only a full queue rejects,
 * with LoginBusyError.
 */
export async function checkUnknownUser(): Promise<false> {
  await scryptOneAtATime(randomBytes(12).toString('base64'), UNKNOWN_USER_SALT, SCRYPT);
  return false;
}
const UNKNOWN_USER_SALT = randomBytes(16);

/** Stands in for a damaged record's hash: no password ever matches it (hashProblem refuses it). */
const LOCKED_HASH: PasswordHash = { algo: 'scrypt', N: 0, r: 0, p: 0, salt: '', hash: '' };

/**
 * Checks one record. A record that cannot be a user (not an object, no
 * valid name) or whose role, unit or hash is damaged becomes a locked
 * record: it still counts as a user (so the broker keeps asking for
 * logins: a damaged file must never open the door) but never logs in.
 */
function checkRecord(u: unknown, i: number): UserRecord {
  const r = u as Partial<UserRecord> | null;
  const named = !!r && typeof r === 'object' && typeof r.name === 'string' && USER_NAME_PATTERN.test(r.name);
  const name = named ? r!.name! : `#${i + 1}`;
  const lock = (why: string): UserRecord => ({ name, role: 'viewer', password: LOCKED_HASH, broken: why, raw: u });
  if (!r || typeof r !== 'object') return lock('is not an object');
  if (!named) return lock('has no valid name');
  if (typeof r.role !== 'string' || !isRole(r.role)) return lock(`has role ${JSON.stringify(r.role)}; roles are ${ROLES.join(', ')}`);
  if (r.unit !== undefined && (typeof r.unit !== 'string' || !UNIT_ID_PATTERN.test(r.unit))) return lock(`has unit ${JSON.stringify(r.unit)}, not a unit id`);
  if (r.role === 'operator' && r.unit === undefined) return lock('is an operator without a unit');
  const problem = hashProblem(r.password);
  if (problem) return lock(problem);
  return { name: r.name!, role: r.role, ...(r.unit !== undefined ? { unit: r.unit } : {}), password: r.password! };
}

/**
 * Reads the users file; a missing file is an empty list. Damaged records
 * come back locked (see checkRecord), each told once to `log` if given.
 */
export async function readUsers(path: string, log?: Logger): Promise<UserRecord[]> {
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
  const users = doc.users.map((u, i) => checkRecord(u, i));
  for (const u of users) {
    if (!u.broken) continue;
    const fix = u.name.startsWith('#') ? 'fix or remove it in the file' : `set it again with \`picomp user add ${u.name} --role ROLE\``;
    log?.error(`user "${u.name}" in ${path} ${u.broken}, so it cannot log in; ${fix}.`);
  }
  return users;
}

export async function writeUsers(path: string, users: readonly UserRecord[]): Promise<void> {
  // A locked record is written back as it was found, for its owner to repair.
  const doc = { version: 1, users: users.map((u) => (u.broken ? u.raw : u)) };
  // Hashes are not passwords, but there is no reason to let others try to crack them.
  await writeFileAtomic(path, JSON.stringify(doc, null, 2) + '\n', { mode: 0o600 });
}

/** Adds or replaces a user (same name → new password and role). */
export async function upsertUser(path: string, spec: { name: string; role: Role; unit?: string; password: string }): Promise<'added' | 'updated'> {
  if (!USER_NAME_PATTERN.test(spec.name)) {
    // Quoted as JSON and cut: the name may hold newlines or escape sequences.
    const shown = JSON.stringify(spec.name.length > 80 ? `${spec.name.slice(0, 80)}…` : spec.name);
    throw new UserError(`user name ${shown} is not allowed; use letters, digits, ".", "_" and "-" (up to 64).`);
  }
  if (spec.role === 'operator' && !spec.unit) {
    throw new UserError('an operator controls one unit; give it with --unit ID.');
  }
  if (spec.unit !== undefined && !UNIT_ID_PATTERN.test(spec.unit)) {
    throw new UserError(`unit id "${spec.unit}" is not valid; unit ids use a-z, 0-9 and "-".`);
  }
  if (spec.password.trim() === '') {
    throw new UserError('the password is only spaces; choose one with letters or digits.');
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
