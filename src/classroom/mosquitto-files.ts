/**
 * The classroom hub's access files, made from picomp's users file (the
 * `picomp user` format): Mosquitto's ACL, and its password file.
 *
 * The users file keeps only scrypt hashes, which cannot be turned into
 * Mosquitto's PBKDF2 hashes (that is the point of a hash). So the password
 * file is made from the passwords themselves, typed by the admin once, and
 * each is checked against the users file first: the hub and the units'
 * embedded brokers then accept exactly the same logins.
 *
 * Unit accounts: a unit logs in to the hub with its unit id as user name,
 * as an operator of itself (`picomp user add studio-1 --role operator
 * --unit studio-1`). That account gets the unit's rights (publish its own
 * status topics and Home Assistant configs); any other operator is a
 * student with the right to command only their unit.
 */
import { pbkdf2, randomBytes } from 'node:crypto';
import type { UserRecord } from '../mqtt/users.js';
import { allSetTopic, classDesiredTopic, groupDesiredTopic, groupSetTopic, unitTopics } from '../mqtt/topics.js';
import { DEFAULT_DISCOVERY_PREFIX } from '../mqtt/ha-discovery.js';
import { PARAM_NAMES } from '../params/schema.js';

/** Mosquitto 2's own hash: `$7$` = PBKDF2-SHA512, its default 101 iterations, 12-byte salt. */
const MOSQ_PBKDF2 = { iterations: 101, saltBytes: 12, keyBytes: 64, digest: 'sha512' } as const;

export function mosquittoHash(password: string): Promise<string> {
  const salt = randomBytes(MOSQ_PBKDF2.saltBytes);
  return new Promise((resolve, reject) => {
    pbkdf2(password, salt, MOSQ_PBKDF2.iterations, MOSQ_PBKDF2.keyBytes, MOSQ_PBKDF2.digest, (err, key) => {
      if (err) reject(err);
      else resolve(`$7$${MOSQ_PBKDF2.iterations}$${salt.toString('base64')}$${key.toString('base64')}`);
    });
  });
}

/** Is this account a unit's own login (an operator of the unit that bears its name)? */
export function isUnitAccount(u: Pick<UserRecord, 'name' | 'role' | 'unit'>): boolean {
  return u.role === 'operator' && u.unit === u.name;
}

/** The topics a teacher writes: desired settings at every level, and one-off commands. */
export function teacherWriteFilters(baseTopic: string): string[] {
  const anyUnit = unitTopics(baseTopic, '+');
  return [
    classDesiredTopic(baseTopic),
    groupDesiredTopic(baseTopic, '+'),
    anyUnit.desired,
    `${allSetTopic(baseTopic)}/#`,
    `${groupSetTopic(baseTopic, '+')}/#`,
    `${anyUnit.set}/#`,
    anyUnit.get,
  ];
}

/**
 * A student's own set topics, one line each rather than `set/#`: Mosquitto
 * keeps a retained message on every topic a client may write (it cannot
 * tell the retain flag in an ACL), so `set/#` let a student fill the hub
 * with retained junk on made-up topics. These are the keys a unit's set
 * takes: its parameters, and `preset`.
 */
function studentSetTopics(own: ReturnType<typeof unitTopics>): string[] {
  return [own.set, ...[...PARAM_NAMES, 'preset'].map((key) => own.setParam(key))];
}

/** What one account may do, as Mosquitto ACL lines (after its `user` line). */
function aclLines(u: UserRecord, baseTopic: string): string[] {
  const read = `topic read ${baseTopic}/#`;
  switch (u.role) {
    case 'admin': return ['topic readwrite #', 'topic read $SYS/#'];
    case 'viewer': return [read];
    case 'teacher': return [read, ...teacherWriteFilters(baseTopic).map((f) => `topic write ${f}`)];
    case 'operator': {
      const own = unitTopics(baseTopic, u.unit!);
      if (!isUnitAccount(u)) return [read, ...[...studentSetTopics(own), own.get].map((t) => `topic write ${t}`)];
      const status = [own.availability, own.info, own.state, own.meters, own.error, own.levels, own.ack, own.get];
      return [
        read,
        ...status.map((t) => `topic write ${t}`),
        `topic readwrite ${DEFAULT_DISCOVERY_PREFIX}/+/${u.unit}/+/config`,
      ];
    }
  }
}

/**
 * The ACL file: one block per user. Mosquitto denies what no line allows,
 * so a student's publish to class/desired or all/set is dropped by the hub
 * itself, whatever the units do.
 */
export function mosquittoAcl(users: readonly UserRecord[], baseTopic: string): string {
  const blocks = users.map((u) => [`# ${u.role}${u.role === 'operator' ? (isUnitAccount(u) ? ' (the unit itself)' : ` (student of ${u.unit})`) : ''}`, `user ${u.name}`, ...aclLines(u, baseTopic)].join('\n'));
  return [
    '# Made by `picomp hub acl` from picomp\'s users file; edit the users, not this file.',
    '# Anonymous clients (if ever allowed) get nothing: no lines before the first user.',
    '',
    ...blocks.map((b) => b + '\n'),
  ].join('\n');
}

/** Reads a Mosquitto password file into name → hash line entries (order kept). */
export function parsePasswdFile(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return out;
}

export function formatPasswdFile(entries: ReadonlyMap<string, string>): string {
  return [...entries].map(([n, h]) => `${n}:${h}\n`).join('');
}
