/**
 * Files that are never half-written: write to a temporary sibling, flush,
 * then rename over the target (rename is atomic on one filesystem).
 */
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';

/**
 * `mode` applies from the file's creation, so a secret (0o600) is never
 * readable by others, not even for a moment. `createDir` makes missing
 * folders (state dirs); leave it off for paths a user typed.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array,
  opts: { mode?: number; createDir?: boolean } = {}): Promise<void> {
  if (opts.createDir ?? true) await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fh = await open(tmp, 'wx', opts.mode ?? 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  await rename(tmp, path);
}
