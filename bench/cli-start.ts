/**
 * How long one `picomp` command takes to answer in the clone, per way of
 * running it (README "five minutes"): `npm run picomp -- …` (the README's),
 * `node dist/src/cli/main.js …` (no npm at all) and, the peer, `npx picomp …`,
 * which packs the project into npm's own cache and compiles it there; its
 * first call (minutes on a loaded machine) is left out, the later ones are timed.
 * `picomp params` is the command: it only prints, so start-up is what is measured.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface CliStartFigures {
  /** Median wall seconds per call. */
  readonly npmRunS: number;
  readonly nodeS: number;
  readonly npxS: number;
  readonly calls: number;
}

function wallSeconds(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    execFile(cmd, args, { cwd: ROOT, maxBuffer: 1 << 20, timeout: 600_000 }, (err, _out, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve(Number(process.hrtime.bigint() - t0) / 1e9);
    });
  });
}

async function medianOf(calls: number, cmd: string, args: string[]): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < calls; i++) times.push(await wallSeconds(cmd, args));
  times.sort((a, b) => a - b);
  return times[calls >> 1]!;
}

export async function benchCliStart(calls = 5): Promise<CliStartFigures> {
  // Warm every way once: the file cache, and npx's copy of the project.
  await wallSeconds('npx', ['picomp', 'params']);
  await wallSeconds('npm', ['run', 'picomp', '--', 'params']);
  return {
    npmRunS: await medianOf(calls, 'npm', ['run', 'picomp', '--', 'params']),
    nodeS: await medianOf(calls, process.execPath, ['dist/src/cli/main.js', 'params']),
    npxS: await medianOf(calls, 'npx', ['picomp', 'params']),
    calls,
  };
}
