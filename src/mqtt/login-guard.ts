/**
 * Slows password guessing: after a few failed logins in a row, the
 * address and the user name tried must wait before their next try
 * (exponential back-off: 1 s, doubling up to a cap), so a real user who
 * mistyped waits a few seconds at most while a guesser gets a few tries
 * an hour. A try
 * during the wait is refused at once without checking the password, so a
 * flood costs neither scrypt time nor memory. Success clears the user
 * name's wait, and the address's unless it also failed for other names
 * (a guesser with an account of their own). Failures
 * are logged in one summary line a minute, not one line per guess.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../log.js';
import { cut } from './broker-limits.js';

export interface LoginGuardLimits {
  /** Failures in a row that cost nothing yet (fail2ban's maxretry, sshd's MaxAuthTries): a mistyped password or two. */
  readonly freeFailures: number;
  /** Wait after the first failure past those; doubles with each further one. */
  readonly firstDelayMs: number;
  /** Longest wait for one address (a student guessing from their laptop). */
  readonly maxAddressDelayMs: number;
  /**
   * Longest wait for one user name, from any address: shorter, since
   * anyone can make a real user wait by guessing their password.
   */
  readonly maxUserDelayMs: number;
  /** A key with no failure for this long is forgotten. */
  readonly forgetAfterMs: number;
  /** Keys remembered at most (oldest forgotten first), so the guard itself stays small. */
  readonly maxKeys: number;
  readonly summaryEveryMs: number;
}

interface Entry {
  failures: number; until: number; last: number;
  /** For an address: the user names its failures were for (a few at most; null once more), so only their owner's success clears it. */
  names: Set<string> | null;
}

/** User names an address entry remembers; beyond, any success from there leaves its back-off in place. */
const MAX_NAMES_PER_ADDRESS = 4;

export class LoginGuard {
  readonly #keys = new Map<string, Entry>();
  readonly #now: () => number;
  #failed = new Map<string, number>();
  #refusedWaiting = 0;
  #refusedBusy = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(private readonly limits: LoginGuardLimits, private readonly log: Logger, now: () => number = Date.now) {
    this.#now = now;
    this.#timer = setInterval(() => this.summary(), limits.summaryEveryMs);
    this.#timer.unref();
  }

  /** Milliseconds this address (and user name) must still wait; 0 when a try is allowed now. */
  waitMs(address: string, user: string | undefined): number {
    const now = this.#now();
    let wait = 0;
    for (const key of keysOf(address, user)) {
      const e = this.#keys.get(key);
      if (e) wait = Math.max(wait, e.until - now);
    }
    if (wait > 0) this.#refusedWaiting++;
    return Math.max(0, wait);
  }

  failed(address: string, user: string | undefined): void {
    const now = this.#now();
    const name = nameKey(user);
    for (const key of keysOf(address, user)) {
      const old = this.#keys.get(key);
      const e = old && now - old.last < this.limits.forgetAfterMs ? old : { failures: 0, until: 0, last: now, names: new Set<string>() };
      e.failures++;
      if (e.names && !e.names.has(name)) e.names = e.names.size < MAX_NAMES_PER_ADDRESS ? e.names.add(name) : null;
      e.last = now;
      const cap = key.startsWith('a:') ? this.limits.maxAddressDelayMs : this.limits.maxUserDelayMs;
      const over = e.failures - this.limits.freeFailures;
      e.until = over <= 0 ? 0 : now + Math.min(cap, this.limits.firstDelayMs * 2 ** Math.min(30, over - 1));
      // Re-inserted so the map's order is the order of last use.
      this.#keys.delete(key);
      this.#keys.set(key, e);
    }
    while (this.#keys.size > this.limits.maxKeys) this.#keys.delete(this.#keys.keys().next().value!);
    // The name is the client's choice: cut, escaped and copied, so neither a newline nor 16 KB of it stays.
    const who = copied(`${user === undefined ? 'no name' : `"${cut(user, 64)}"`} from ${address}`);
    this.#failed.set(who, (this.#failed.get(who) ?? 0) + 1);
  }

  /** A login refused unchecked because the password checker's queue was full (counted for the summary, not logged each). */
  busy(): void { this.#refusedBusy++; }

  /**
   * A login went through: its user name's back-off is cleared, and the
   * address's too if every failure from there was for this same name (a
   * user who mistyped). A guesser who also has an account of their own
   * keeps their address's back-off: logging in between guesses must not
   * reset it.
   */
  succeeded(address: string, user: string | undefined): void {
    const name = nameKey(user);
    for (const key of keysOf(address, user)) {
      const e = this.#keys.get(key);
      if (!e) continue;
      if (key.startsWith('a:') && !(e.names && [...e.names].every((n) => n === name))) continue;
      this.#keys.delete(key);
    }
  }

  /** Logs the failures since the last summary in one line (called by the timer; tests call it directly). */
  summary(): void {
    const now = this.#now();
    for (const [key, e] of this.#keys) if (now - e.last >= this.limits.forgetAfterMs) this.#keys.delete(key);
    if (this.#failed.size === 0 && this.#refusedWaiting === 0 && this.#refusedBusy === 0) return;
    const all = [...this.#failed.entries()].sort((a, b) => b[1] - a[1]);
    const count = all.reduce((s, [, n]) => s + n, 0);
    this.log.warn(`${count} failed MQTT login(s)${all.length ? `: ${all.slice(0, 5).map(([w, n]) => `${w} ×${n}`).join(', ')}${all.length > 5 ? ', …' : ''}` : ''}`
      + `${this.#refusedWaiting ? `; ${this.#refusedWaiting} more refused unchecked while backing off` : ''}`
      + `${this.#refusedBusy ? `; ${this.#refusedBusy} refused unchecked while the password checker was busy` : ''}.`);
    this.#failed = new Map();
    this.#refusedWaiting = 0;
    this.#refusedBusy = 0;
  }

  stop(): void { clearInterval(this.#timer); }
}

/**
 * The unit's own processes (dashboard, knobs, tools run on the Pi) connect
 * from 127.0.0.1 or ::1: whoever can do that already has a shell on the
 * unit, and their mistakes must not lock the dashboard out. Their user
 * names are still slowed.
 */
const OWN_HOST = new Set(['127.0.0.1', '::1']);

/** A fresh copy of a short string, so it keeps no reference to the larger one it was cut from. */
function copied(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

/** Longest user name the users file allows (USER_NAME_PATTERN); longer ones can only be made up. */
const MAX_REAL_NAME_CHARS = 64;

/**
 * How a user name is remembered: a real one as it is; a longer one (which
 * no user can have: the client chose up to 16 KB of it) by a digest, so
 * 4096 remembered names stay small.
 */
function nameKey(user: string | undefined): string {
  if (user === undefined) return '';
  if (user.length <= MAX_REAL_NAME_CHARS) return copied(user);
  return `#${createHash('sha256').update(user).digest('base64')}`;
}

function keysOf(address: string, user: string | undefined): string[] {
  const keys = OWN_HOST.has(address) ? [] : [`a:${address}`];
  return user === undefined ? keys : [...keys, `u:${nameKey(user)}`];
}
