/**
 * Loaded into the Node-RED child first (node --import): makes it end with
 * its parent, whatever ends the parent. The parent holds the write end of
 * the child's stdin and never writes; when the parent dies, even by
 * kill -9, the kernel closes that end and stdin reaches its end here. Then
 * Node-RED is stopped as by a service stop (SIGTERM, which closes its
 * flows), and its private temporary directory is removed on the way out,
 * so the port and the disk are free for the next start. Portable: a pipe
 * closing is all it needs (no prctl, no wrapper binary).
 */
import { rmSync } from 'node:fs';

const tempDir = process.env.PICOMP_NODE_RED_TEMP_DIR;
if (tempDir) {
  process.on('exit', () => {
    try { rmSync(tempDir, { recursive: true, force: true }); } catch { /* gone already */ }
  });
}

let ending = false;
const parentGone = (): void => {
  if (ending) return;
  ending = true;
  process.kill(process.pid, 'SIGTERM');
  // A flow that hangs in its close must not keep the orphan alive.
  setTimeout(() => process.exit(0), 5000).unref();
};
process.stdin.on('end', parentGone);
process.stdin.on('close', parentGone);
process.stdin.on('error', parentGone);
process.stdin.resume();
