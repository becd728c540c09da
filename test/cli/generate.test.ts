import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readWavFile } from '../../src/io/wav-reader.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const run = (args: string[], cwd: string): Promise<{ code: number; stderr: string }> => new Promise((resolve) => {
  execFile(process.execPath, [CLI, 'generate', ...args], { cwd }, (err, _out, stderr) => resolve({ code: err ? Number(err.code) : 0, stderr }));
});

describe('picomp generate', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'picomp-gen-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  it('writes the demo loop at the asked length, rate, channels and format', async () => {
    const r = await run(['demo', 'd.wav', '--seconds', '2', '--sample-rate', '44100', '--channels', '1', '--format', 'int24'], dir);
    assert.equal(r.code, 0, r.stderr);
    const { info, channels } = await readWavFile(join(dir, 'd.wav'));
    assert.deepEqual(info, { sampleRate: 44100, channels: 1, format: 'int24', frames: 88200 });
    const peak = channels[0]!.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    assert.ok(peak > 0.5 && peak <= 1);
  });

  it('a sine at the asked level', async () => {
    assert.equal((await run(['sine', 's.wav', '--level', '-20', '--seconds', '1'], dir)).code, 0);
    const { channels } = await readWavFile(join(dir, 's.wav'));
    const peak = channels[1]!.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    assert.ok(Math.abs(20 * Math.log10(peak) + 20) < 0.05, `peak ${20 * Math.log10(peak)} dBFS`);
  });

  for (const [args, re] of [
    [['noise', 'x.wav'], /there is no signal "noise"/],
    [['sine', 'x.wav', '--seconds', '0'], /--seconds must be a number from 1 to 600/],
    [['sine', 'x.wav', '--level', '3'], /--level must be a number from -60 to 0/],
    [['sine'], /needs a signal name and an output file/],
    [['sine', 'x.wav', '--format', 'mp3'], /--format must be one of/],
  ] as [string[], RegExp][]) {
    it(`refuses ${args.join(' ')} with one line and no file`, async () => {
      const before = (await readdir(dir)).length;
      const r = await run(args, dir);
      assert.equal(r.code, 2);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.match(r.stderr, re);
      assert.equal((await readdir(dir)).length, before);
    });
  }
});
