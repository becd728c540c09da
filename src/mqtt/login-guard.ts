/**
 * Slows password guessing: after a few failed logins in a row, the
 * address and the user name tried must wait before their next try
 * (exponential back-off: 1 s, doubling up to a cap), so a real user who
 * mistyped waits a few seconds at most while a guesser gets a few tries
 * an hour. A try
 * during the wait is refused at once without checking the password, so a
 * flood costs neither scrypt time nor memory. Success clears both. Failures
 * are logged in one summary line a minute, not one line per guess.
 */
import type { Logger } from '../log.js';

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

interface Entry { failures: number; until: number; last: number }

export class LoginGuard {
  readonly #keys = new Map<string, Entry>();
  readonly #now: () => number;
  #failed = new Map<string, number>();
  #refusedWaiting = 0;
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
    for (const key of keysOf(address, user)) {
      const old = this.#keys.get(key);
      const e = old && now - old.last < this.limits.forgetAfterMs ? old : { failures: 0, until: 0, last: now };
      e.failures++;
      e.last = now;
      const cap = key.startsWith('a:') ? this.limits.maxAddressDelayMs : this.limits.maxUserDelayMs;
      const over = e.failures - this.limits.freeFailures;
      e.until = over <= 0 ? 0 : now + Math.min(cap, this.limits.firstDelayMs * 2 ** Math.min(30, over - 1));
      // Re-inserted so the map's order is the order of last use.
      this.#keys.delete(key);
      this.#keys.set(key, e);
    }
    while (this.#keys.size > this.limits.maxKeys) this.#keys.delete(this.#keys.keys().next().value!);
    const who = `${user === undefined ? 'no name' : `"${user}"`} from ${address}`;
    this.#failed.set(who, (this.#failed.get(who) ?? 0) + 1);
  }

  succeeded(address: string, user: string | undefined): void {
    for (const key of keysOf(address, user)) this.#keys.delete(key);
  }

  /** Logs the failures since the last summary in one line (called by the timer; tests call it directly). */
  summary(): void {
    const now = this.#now();
    for (const [key, e] of this.#keys) if (now - e.last >= this.limits.forgetAfterMs) this.#keys.delete(key);
    if (this.#failed.size === 0 && this.#refusedWaiting === 0) return;
    const all = [...this.#failed.entries()].sort((a, b) => b[1] - a[1]);
    const count = all.reduce((s, [, n]) => s + n, 0);
    this.log.warn(`${count} failed MQTT login(s)${all.length ? `: ${all.slice(0, 5).map(([w, n]) => `${w} ×${n}`).join(', ')}${all.length > 5 ? ', …' : ''}` : ''}`
      + `${this.#refusedWaiting ? `; ${this.#refusedWaiting} more refused unchecked while backing off` : ''}.`);
    this.#failed = new Map();
    this.#refusedWaiting = 0;
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

function keysOf(address: string, user: string | undefined): string[] {
  const keys = OWN_HOST.has(address) ? [] : [`a:${address}`];
  return user === undefined ? keys : [...keys, `u:${user}`];
}
