/**
 * Password hashing off the event loop, one check at a time, with a bounded
 * queue, so a login flood costs one scrypt working area (16 MiB) and a
 * refusal, never more memory.
 *
 * Where that area goes back to the system when freed (glibc told so by
 * MALLOC_MMAP_THRESHOLD_, as the shipped service and `npm start` do), the
 * checks run in libuv's pool like any async scrypt. Otherwise glibc keeps
 * the 16 MiB in the allocator arena of whichever pool thread ran it: with
 * the service's pool of 16, a login flood grew the process by 250 MB for
 * good. Then every check runs in one dedicated worker thread instead, so
 * one arena keeps one area; its V8 isolate costs ~10 MB while it lives.
 */
import { scrypt } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { UserError } from '../errors.js';
import type { ScryptReply, ScryptRequest } from './password-worker.js';

/** Checks waiting their turn beyond which a new login is refused at once (each takes ~50 ms on a Pi 3). */
export const MAX_QUEUED_PASSWORD_CHECKS = 32;

/** A login refused because too many are already being checked; the client may retry. */
export class LoginBusyError extends UserError {}

export interface ScryptSettings {
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly keylen: number;
}

/** Bytes scrypt needs for these settings, plus slack, as its `maxmem`. */
export function scryptMemoryBytes(s: { N: number; r: number; p: number }): number {
  return 128 * s.N * s.r * s.p + 1024 * 1024;
}

/** How long the checker stays after its last check: its V8 isolate costs ~10 MB of RSS even idle. */
export const PASSWORD_THREAD_IDLE_MS = 60_000;

/** Heap caps for the checker: it holds one request at a time (scrypt's area is native memory). */
const PASSWORD_THREAD_LIMITS = { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16 };

interface Waiter { resolve(key: Buffer): void; reject(e: Error): void }

let worker: Worker | null = null;
let idleTimer: NodeJS.Timeout | null = null;
let idleMs = PASSWORD_THREAD_IDLE_MS;

/** Tests shorten the idle time to see the checker end and come back. */
export function setPasswordThreadIdleMs(ms: number): void { idleMs = ms; }
let nextId = 1;
const waiting = new Map<number, Waiter>();

function failAll(why: string): void {
  const all = [...waiting.values()];
  waiting.clear();
  worker = null;
  for (const w of all) w.reject(new Error(why));
}

function thread(): Worker {
  if (worker) return worker;
  const w = new Worker(new URL('./password-worker.js', import.meta.url), { name: 'picomp-password', resourceLimits: PASSWORD_THREAD_LIMITS });
  w.on('message', (reply: ScryptReply) => {
    const waiter = waiting.get(reply.id);
    if (!waiter) return;
    waiting.delete(reply.id);
    // An idle checker must not keep a finished command (or a test) alive,
    // and ends after an idle minute; the next login starts a new one.
    if (waiting.size === 0) { w.unref(); endWhenIdle(w); }
    if ('error' in reply) waiter.reject(new Error(reply.error));
    else waiter.resolve(Buffer.from(reply.key));
  });
  w.on('error', (e) => failAll(`the password checker failed: ${e.message}`));
  w.on('exit', () => { if (worker === w) failAll('the password checker stopped'); });
  worker = w;
  return w;
}

function endWhenIdle(w: Worker): void {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    idleTimer = null;
    if (worker !== w || waiting.size > 0) return;
    worker = null;
    void w.terminate();
  }, idleMs);
  idleTimer.unref();
}

/**
 * True when glibc hands blocks of scrypt's size (16 MiB) straight back to the
 * system on free (a fixed mmap threshold at or below that size); other
 * allocators and glibc's default dynamic threshold may keep them.
 */
export function largeBlocksReturned(env: NodeJS.ProcessEnv = process.env): boolean {
  const tunable = /(?:^|:)glibc\.malloc\.mmap_threshold=(\d+)/.exec(env.GLIBC_TUNABLES ?? '')?.[1];
  const threshold = Number(env.MALLOC_MMAP_THRESHOLD_ ?? tunable ?? NaN);
  return Number.isInteger(threshold) && threshold > 0 && threshold <= 16 * 1024 * 1024;
}

/** Decided once: the allocator's settings come from the environment the process started with. */
const checksInPool = largeBlocksReturned();

const busy = (): LoginBusyError =>
  new LoginBusyError(`${MAX_QUEUED_PASSWORD_CHECKS} logins are already being checked; try again in a moment.`);

let queued = 0;
let tail: Promise<unknown> = Promise.resolve();

/** Runs `work` after every check queued before it; refuses at once when the queue is full. */
function oneAtATime<T>(work: () => Promise<T>): Promise<T> {
  if (queued >= MAX_QUEUED_PASSWORD_CHECKS) return Promise.reject(busy());
  queued++;
  const run = tail.then(work).finally(() => { queued--; });
  tail = run.catch(() => undefined);
  return run;
}

let scryptsRun = 0;
/** How many scrypts have run (tests: a made-up name costs one, like a real one). */
export function scryptCount(): number { return scryptsRun; }

/** scrypt, one at a time; rejects with LoginBusyError when the queue is full. */
export function scryptOneAtATime(password: string, salt: Uint8Array, s: ScryptSettings): Promise<Buffer> {
  return oneAtATime(() => {
    scryptsRun++;
    return checksInPool ? scryptInPool(password, salt, s) : scryptInThread(password, salt, s);
  });
}

function scryptInPool(password: string, salt: Uint8Array, s: ScryptSettings): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    scrypt(password, salt, s.keylen, { N: s.N, r: s.r, p: s.p, maxmem: scryptMemoryBytes(s) }, (e, key) => (e ? reject(e) : resolve(key)));
  });
}

function scryptInThread(password: string, salt: Uint8Array, s: ScryptSettings): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const w = thread();
    if (idleTimer) { clearTimeout(idleTimer); idleTimer = null; }
    const id = nextId++;
    waiting.set(id, { resolve, reject });
    w.ref();
    const req: ScryptRequest = { id, password, salt, N: s.N, r: s.r, p: s.p, keylen: s.keylen, maxmem: scryptMemoryBytes(s) };
    w.postMessage(req);
  });
}

/** The checker's thread id while it runs (null before the first check): tests look for exactly one. */
export function passwordThreadId(): number | null {
  return worker?.threadId ?? null;
}
