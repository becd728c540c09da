/**
 * Files that are never half-written: write to a temporary sibling, flush,
 * rename over the target (rename is atomic on one filesystem), then flush
 * the folder so the rename itself survives a pulled power plug (an SD
 * card otherwise may come back with the old file, or none).
 */
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { UserError } from '../errors.js';

/** `.<name>.<pid>.<random>.tmp`: hidden, unique per process, and telling whose it is. */
export function tempSibling(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes temporary siblings of `path` left by a process that was killed
 * (kill -9, power cut) before it could clean up. Files of live processes
 * are kept: another writer may be busy with them.
 */
export async function removeStaleTemps(path: string): Promise<void> {
  const prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const m = /^(\d+)\.[0-9a-z]+\.tmp$/.exec(name.slice(prefix.length));
    if (!m || alive(Number(m[1]))) continue;
    await rm(join(dirname(path), name), { force: true }).catch(() => undefined);
  }
}

/** Flushes a folder's entries (the rename just made in it) to the disk. */
export async function syncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
  } catch {
    return; // some filesystems do not let a folder be opened; nothing more to do there
  }
  try {
    await fh.sync();
  } catch (e) {
    // Folders on some filesystems refuse fsync (EINVAL); the rename still stands.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EBADF' && code !== 'ENOTSUP') throw e;
  } finally {
    await fh.close();
  }
}

/** One sentence for a failed write of `path`, for the errors a user can fix; other errors pass as they are. */
export function writeErrorSentence(path: string, e: unknown): Error {
  if (e instanceof UserError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  const where = dirname(path);
  const why: Record<string, string> = {
    ENOSPC: `the disk holding ${where} is full; free some space`,
    EDQUOT: `the disk quota for ${where} is used up; free some space`,
    EROFS: `${where} is on a read-only filesystem; choose another place`,
    EACCES: `no permission to write in ${where}; choose another place or fix its permissions`,
    EPERM: `no permission to write in ${where}; choose another place or fix its permissions`,
    ENOENT: `the folder ${where} does not exist`,
    ENOTDIR: `${where} is not a folder`,
    EISDIR: `${path} is a folder; give a file name`,
  };
  return code && why[code] ? new UserError(`cannot write ${path}: ${why[code]}.`) : (e as Error);
}

/**
 * `mode` applies from the file's creation, so a secret (0o600) is never
 * readable by others, not even for a moment. `createDir` makes missing
 * folders (state dirs); leave it off for paths a user typed. Refuses to
 * replace anything but a regular file (a device, a FIFO): rename would
 * put a plain file where /dev/null was.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array,
  opts: { mode?: number; createDir?: boolean } = {}): Promise<void> {
  if (opts.createDir ?? true) await mkdir(dirname(path), { recursive: true });
  await refuseSpecialFile(path);
  await removeStaleTemps(path);
  const tmp = tempSibling(path);
  const fh = await open(tmp, 'wx', opts.mode ?? 0o644);
  try {
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await syncDir(dirname(path));
}

/**
 * Refuses a target that exists and is not a regular file (a device, a FIFO,
 * a socket), in one sentence: replacing it by rename would destroy it.
 */
export async function refuseSpecialFile(path: string, what = path): Promise<void> {
  const s = await stat(path).catch(() => null);
  if (!s || s.isFile()) return;
  if (s.isDirectory()) throw new UserError(`${what} is a folder; give a file name.`);
  const kind = s.isFIFO() ? 'a named pipe (FIFO)' : s.isCharacterDevice() || s.isBlockDevice() ? 'a device' : s.isSocket() ? 'a socket' : 'not a regular file';
  throw new UserError(`${what} is ${kind}, not a regular file; picomp only replaces regular files, so give a file name.`);
}
