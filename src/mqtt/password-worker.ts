/**
 * The thread that checks passwords (see password-thread.ts). One scrypt at
 * a time, synchronously: its 16 MiB working area is then allocated in this
 * one thread, so the allocator keeps at most one such area for the whole
 * process, whatever the libuv pool size and however many logins arrive.
 */
import { scryptSync } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

export interface ScryptRequest {
  readonly id: number;
  readonly password: string;
  readonly salt: Uint8Array;
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly keylen: number;
  readonly maxmem: number;
}

export type ScryptReply = { readonly id: number; readonly key: Uint8Array } | { readonly id: number; readonly error: string };

parentPort?.on('message', (req: ScryptRequest) => {
  let reply: ScryptReply;
  try {
    const key = scryptSync(req.password, req.salt, req.keylen, { N: req.N, r: req.r, p: req.p, maxmem: req.maxmem });
    reply = { id: req.id, key: new Uint8Array(key) };
  } catch (e) {
    reply = { id: req.id, error: (e as Error).message };
  }
  parentPort!.postMessage(reply);
});
