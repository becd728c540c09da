/**
 * Attacks through file names: render must never rename over a device or
 * a FIFO, never hang on a FIFO input, never print a stack trace for a
 * place it cannot write; atomic writes leave no temp files and flush the
 * folder; picomp user fails in one line on a full or read-only state dir.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { removeStaleTemps, writeFileAtomic } from '../../src/unit/atomic-file.js';
import { writeWavFile } from '../../src/io/wav-writer.js';
import { oneLine, picomp, withTempDir, PICOMP } from '../helpers/attack.js';

const isRoot = process.getuid?.() === 0;

async function sine(path: string): Promise<void> {
  const n = 4800;
  const ch = new Float32Array(n).map((_, i) => 0.5 * Math.sin(i / 10));
  await writeWavFile(path, { sampleRate: 48000, format: 'float32', channels: [ch, ch] });
}

/** Runs `sh -c SCRIPT` in a private mount namespace (unshare), or null when this system does not allow one. */
function inMountNamespace(script: string): { code: number | null; err: string } | null {
  const probe = spawnSync('unshare', ['-rm', 'true']);
  if (probe.status !== 0) return null;
  const r = spawnSync('unshare', ['-rm', 'sh', '-c', script], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, err: r.stderr };
}

describe('security: render never replaces what is not a regular file', function () {
  const SPECIAL: [string, (dir: string) => string][] = [
    ['a FIFO', (dir) => { const p = join(dir, 'out.wav'); execFileSync('mkfifo', [p]); return p; }],
    // A private copy of /dev/null (same device numbers): the real one is never put at risk.
    ...(isRoot ? [['a character device (a copy of /dev/null)', (dir: string) => { const p = join(dir, 'null'); execFileSync('mknod', [p, 'c', '1', '3']); return p; }] as [string, (dir: string) => string]] : []),
  ];
  for (const [what, make] of SPECIAL) {
    it(`refuses ${what} as OUT in one line and leaves it as it was`, async function () {
      await withTempDir('render-special', async (dir) => {
        await sine(join(dir, 'in.wav'));
        const out = make(dir);
        const before = await stat(out);
        const r = await picomp(['render', join(dir, 'in.wav'), out], { timeoutMs: 20_000 });
        assert.equal(r.code, 2, r.err);
        assert.ok(oneLine(r), r.err);
        assert.match(r.err, /not a regular file/);
        const after = await stat(out);
        assert.equal(after.ino, before.ino, 'still the same file');
        assert.equal(after.isFile(), false);
        assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.tmp')), []);
      });
    });
  }

  it('refuses a FIFO as --plot', async function () {
    await withTempDir('render-plotfifo', async (dir) => {
      await sine(join(dir, 'in.wav'));
      execFileSync('mkfifo', [join(dir, 'p.svg')]);
      const r = await picomp(['render', join(dir, 'in.wav'), join(dir, 'o.wav'), '--plot', join(dir, 'p.svg')]);
      assert.equal(r.code, 2);
      assert.ok(oneLine(r), r.err);
      assert.ok((await stat(join(dir, 'p.svg'))).isFIFO());
    });
  });

  it('refuses a FIFO as input at once instead of hanging where no signal reaches', async function () {
    await withTempDir('render-fifo-in', async (dir) => {
      const fifo = join(dir, 'in.wav');
      execFileSync('mkfifo', [fifo]);
      const r = await picomp(['render', fifo, join(dir, 'out.wav')], { timeoutMs: 20_000 });
      assert.equal(r.signal, null, 'it did not have to be killed');
      assert.equal(r.code, 2, r.err);
      assert.ok(oneLine(r), r.err);
      assert.match(r.err, /named pipe/);
    });
  });

  for (const ext of ['mp3', 'flac', 'ogg', 'MP3']) {
    it(`refuses an OUT ending in .${ext}, pointing to ffmpeg`, async function () {
      await withTempDir('render-ext', async (dir) => {
        await sine(join(dir, 'in.wav'));
        const r = await picomp(['render', join(dir, 'in.wav'), join(dir, `out.${ext}`)]);
        assert.equal(r.code, 2);
        assert.ok(oneLine(r), r.err);
        assert.match(r.err, /ffmpeg/);
        assert.deepEqual((await readdir(dir)).sort(), ['in.wav']);
      });
    });
  }

  it('refuses an MP3 input, pointing to ffmpeg', async function () {
    await withTempDir('render-mp3-in', async (dir) => {
      await writeFile(join(dir, 'song.mp3'), Buffer.from([0xff, 0xfb, 0x90, 0x00]));
      const r = await picomp(['render', join(dir, 'song.mp3'), join(dir, 'out.wav')]);
      assert.equal(r.code, 2);
      assert.ok(oneLine(r), r.err);
      assert.match(r.err, /ffmpeg -i .*song\.mp3 .*song\.wav/);
    });
  });

  it('removes temp files left by a render that was killed', async function () {
    await withTempDir('render-stale', async (dir) => {
      await sine(join(dir, 'in.wav'));
      // A pid that cannot be running (above the kernel's pid_max of 2^22).
      const stale = join(dir, '.out.wav.9999999.deadbeef.tmp');
      await writeFile(stale, 'half a render');
      const r = await picomp(['render', join(dir, 'in.wav'), join(dir, 'out.wav')]);
      assert.equal(r.code, 0, r.err);
      assert.deepEqual((await readdir(dir)).sort(), ['in.wav', 'out.wav']);
    });
  });

  it('says in one line that --plot cannot be written to a read-only place (before rendering)', async function () {
    await withTempDir('render-ro', async (dir) => {
      await sine(join(dir, 'in.wav'));
      await mkdir(join(dir, 'ro'));
      const r = inMountNamespace(`mount -t tmpfs -o ro tmpfs ${dir}/ro && exec ${process.execPath} ${PICOMP} render ${dir}/in.wav ${dir}/out.wav --plot ${dir}/ro/plot.svg`);
      if (!r) { this.skip(); return; }
      assert.equal(r.code, 2, r.err);
      assert.equal(r.err.trim().split('\n').length, 1, r.err);
      assert.match(r.err, /read-only/);
    });
  });
});

describe('security: picomp user on a state dir it cannot write', function () {
  const CASES: [string, string, RegExp][] = [
    ['read-only', 'mount -t tmpfs -o ro tmpfs "$D"', /read-only/],
    ['full', 'mount -t tmpfs -o size=64k tmpfs "$D" && (dd if=/dev/zero of="$D/fill" bs=4k 2>/dev/null; true)', /full/],
  ];
  for (const [what, mount, message] of CASES) {
    it(`exits 2 with one line on a ${what} state dir`, async function () {
      await withTempDir('user-state', async (dir) => {
        const st = join(dir, 'state');
        await mkdir(st);
        const r = inMountNamespace(`D=${st}; ${mount} && echo some-long-password | ${process.execPath} ${PICOMP} user add kim --role viewer --password-stdin --state-dir "$D"`);
        if (!r) { this.skip(); return; }
        assert.equal(r.code, 2, r.err);
        assert.equal(r.err.trim().split('\n').length, 1, r.err);
        assert.match(r.err, message);
      });
    });
  }
});

describe('security: atomic writes', function () {
  it('leave no temp file when the rename fails', async function () {
    await withTempDir('atomic-rename', async (dir) => {
      // A folder at the target: the rename fails (EISDIR) after the temp file is written.
      await mkdir(join(dir, 'target'));
      await writeFile(join(dir, 'target', 'keep'), 'x');
      await assert.rejects(writeFileAtomic(join(dir, 'target'), 'data'));
      assert.deepEqual((await readdir(dir)).sort(), ['target']);
    });
  });

  it('remove temp files of killed writers, and keep those of live ones', async function () {
    await withTempDir('atomic-stale', async (dir) => {
      const path = join(dir, 'state.json');
      await writeFile(join(dir, '.state.json.9999999.0a1b2c3d.tmp'), 'x');
      await writeFile(join(dir, `.state.json.${process.pid}.0a1b2c3d.tmp`), 'y');
      await removeStaleTemps(path);
      assert.deepEqual(await readdir(dir), [`.state.json.${process.pid}.0a1b2c3d.tmp`]);
    });
  });

  it('refuse to replace a FIFO', async function () {
    await withTempDir('atomic-fifo', async (dir) => {
      const path = join(dir, 'state.json');
      execFileSync('mkfifo', [path]);
      await assert.rejects(writeFileAtomic(path, '{}'), /named pipe/);
      assert.ok((await stat(path)).isFIFO());
    });
  });

  it('fsync the folder after the rename', async function () {
    if (spawnSync('strace', ['-V']).status !== 0) { this.skip(); return; }
    await withTempDir('atomic-fsync', async (dir) => {
      const script = join(dir, 'write.mjs');
      const mod = join(process.cwd(), 'dist', 'src', 'unit', 'atomic-file.js');
      await writeFile(script, `import { writeFileAtomic } from ${JSON.stringify(mod)};\nawait writeFileAtomic(${JSON.stringify(join(dir, 'f.json'))}, '{}');\n`);
      const trace = join(dir, 'trace');
      const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=openat,rename,renameat,renameat2,fsync', '-o', trace, process.execPath, script], { timeout: 30_000 });
      assert.equal(r.status, 0, String(r.stderr));
      const lines = (await readFile(trace, 'utf8')).split('\n');
      const renameAt = lines.findIndex((l) => /rename/.test(l) && l.includes('f.json'));
      assert.ok(renameAt >= 0, 'the rename is traced');
      const dirFd = lines.slice(renameAt).map((l) => new RegExp(`openat\\(AT_FDCWD, "${dir}", [^)]*\\) = (\\d+)`).exec(l)).find(Boolean)?.[1];
      assert.ok(dirFd, 'the folder is opened after the rename');
      assert.ok(lines.slice(renameAt).some((l) => new RegExp(`fsync\\(${dirFd}\\)\\s+= 0`).test(l)), 'and flushed');
    });
  });
});

