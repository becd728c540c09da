import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, watch, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readWavFile } from '../../src/io/wav-reader.js';
import { writeWavFile as writeWav } from '../../src/io/wav-writer.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function picomp(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** A 48 kHz stereo signal: 0.5 s quiet, 0.5 s loud, 0.5 s quiet sine at 220 Hz. */
function steps(sampleRate = 48000): Float32Array[] {
  const n = Math.round(1.5 * sampleRate);
  const l = new Float32Array(n), r = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const amp = i >= sampleRate / 2 && i < sampleRate ? 0.9 : 0.05;
    l[i] = amp * Math.sin((2 * Math.PI * 220 * i) / sampleRate);
    r[i] = l[i]! * 0.5;
  }
  return [l, r];
}

describe('picomp render', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'picomp-render-'));
    await writeWav(join(dir, 'in.wav'), { sampleRate: 48000, format: 'float32', channels: steps() });
    await writeWav(join(dir, 'in16.wav'), { sampleRate: 48000, format: 'int16', channels: steps() });
  });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  it('compresses: the loud part comes out quieter, the quiet part unchanged', async () => {
    const r = await picomp(['render', 'in.wav', 'out.wav', '--threshold', '-20', '--ratio', '10', '--attack', '1', '--limiter', 'false'], dir);
    assert.equal(r.code, 0, r.stderr);
    const { info, channels } = await readWavFile(join(dir, 'out.wav'));
    assert.equal(info.format, 'float32');
    assert.equal(info.frames, 72000);
    const peak = (x: Float32Array, a: number, b: number): number => { let p = 0; for (let i = a; i < b; i++) p = Math.max(p, Math.abs(x[i]!)); return p; };
    const loudIn = 0.9, loudOut = peak(channels[0]!, 36000, 48000);
    // 0.9 ≈ −0.9 dBFS, 19 dB over −20 at 10:1 → about −18 dBFS (knee 6 dB barely matters this far over)
    assert.ok(20 * Math.log10(loudOut) < -16 && 20 * Math.log10(loudOut) > -20, `loud part at ${20 * Math.log10(loudOut)} dBFS`);
    assert.ok(loudOut < loudIn);
    const quietOut = peak(channels[0]!, 2000, 20000);
    assert.ok(Math.abs(20 * Math.log10(quietOut / 0.05)) < 0.1, 'below threshold nothing changes');
    assert.match(r.stderr, /deepest gain reduction -1\d\.\d dB/);
  });

  it('compensates lookahead latency: bypassed output equals the input sample for sample', async () => {
    const r = await picomp(['render', 'in.wav', 'bypassed.wav', '--bypass', 'true', '--lookahead', '5'], dir);
    assert.equal(r.code, 0, r.stderr);
    const a = await readWavFile(join(dir, 'in.wav'));
    const b = await readWavFile(join(dir, 'bypassed.wav'));
    assert.equal(b.info.frames, a.info.frames);
    for (let c = 0; c < 2; c++) for (let i = 0; i < a.info.frames; i++) assert.equal(b.channels[c]![i], a.channels[c]![i]);
  });

  it('keeps the input format unless --format says otherwise', async () => {
    assert.equal((await picomp(['render', 'in16.wav', 'o16.wav'], dir)).code, 0);
    assert.equal((await readWavFile(join(dir, 'o16.wav'))).info.format, 'int16');
    assert.equal((await picomp(['render', 'in16.wav', 'o24.wav', '--format', 'int24'], dir)).code, 0);
    assert.equal((await readWavFile(join(dir, 'o24.wav'))).info.format, 'int24');
  });

  it('processes NaN and Inf in the input into finite output within [-1, 1]', async () => {
    const [l, r] = steps();
    for (let i = 30000; i < 30100; i++) { l![i] = Number.NaN; r![i] = i % 2 ? Infinity : -Infinity; }
    await writeWav(join(dir, 'nan.wav'), { sampleRate: 48000, format: 'float32', channels: [l!, r!] });
    const res = await picomp(['render', 'nan.wav', 'nan-out.wav', '--makeup', '30', '--limiter', 'false'], dir);
    assert.equal(res.code, 0, res.stderr);
    const out = await readWavFile(join(dir, 'nan-out.wav'));
    for (const ch of out.channels) for (const x of ch) assert.ok(Number.isFinite(x) && x >= -1 && x <= 1);
  });

  it('loads presets and draws a plot with both charts', async () => {
    const r = await picomp(['render', 'in.wav', 'p.wav', '--preset', 'classroom-demo', '--plot', 'p.svg'], dir);
    assert.equal(r.code, 0, r.stderr);
    const svg = await readFile(join(dir, 'p.svg'), 'utf8');
    assert.match(svg, /^<svg/);
    assert.match(svg, /Transfer curve/);
    assert.match(r.stderr, /threshold -40|plot in p\.svg/);
  });

  const bad: [string, string[], RegExp][] = [
    ['an unknown flag', ['in.wav', 'x.wav', '--loudness', '3'], /unknown option --loudness/],
    ['an out-of-range value', ['in.wav', 'x.wav', '--ratio', '50'], /--ratio: ratio must be 1 to 20, got 50/],
    ['NaN', ['in.wav', 'x.wav', '--threshold', 'NaN'], /threshold must be -60 to 0 dBFS, got "NaN"/],
    ['an empty value', ['in.wav', 'x.wav', '--attack', ''], /attack must be 0.1 to 500 ms, got an empty value/],
    ['a wrong enum', ['in.wav', 'x.wav', '--detector', 'loud'], /detector must be one of peak, rms/],
    ['a missing input file', ['missing.wav', 'x.wav'], /missing\.wav/],
    ['a file that is not WAV', ['notwav.wav', 'x.wav'], /not a WAV file|notwav\.wav/],
    ['an 8-bit file', ['eight.wav', 'x.wav'], /8-bit/],
    ['a sample rate out of range', ['slow.wav', 'x.wav'], /8000 Hz; picomp works at 16000 to 96000 Hz/],
    ['the same input and output', ['in.wav', 'in.wav'], /must differ from the input/],
    ['an unknown preset', ['in.wav', 'x.wav', '--preset', 'loudest'], /there is no preset "loudest"/],
    ['a bad --format', ['in.wav', 'x.wav', '--format', 'mp3'], /--format must be one of int16, int24, int32, float32/],
    ['a missing output folder', ['in.wav', 'nowhere/x.wav'], /cannot write nowhere\/x\.wav|nowhere/],
    ['one file only', ['in.wav'], /needs an input and an output/],
    ['a plot in a missing folder', ['in.wav', 'x.wav', '--plot', 'nowhere/p.svg'], /--plot nowhere\/p\.svg: the folder .*nowhere does not exist/],
    ['an empty --plot', ['in.wav', 'x.wav', '--plot', ''], /--plot was given an empty value/],
    ['a plot that is not .svg', ['in.wav', 'x.wav', '--plot', 'p.png'], /--plot draws SVG; give a file name ending in \.svg/],
    ['an empty output name', ['in.wav', ''], /an empty argument was given where a name belongs/],
    ['an output that is a folder', ['in.wav', 'sub'], /OUT sub is a folder; give a file name such as out\.wav/],
  ];
  for (const [what, args, re] of bad) {
    it(`refuses ${what}: exit 2, one line, no stack trace, no output file`, async () => {
      await writeFile(join(dir, 'notwav.wav'), 'hello, this is text');
      await mkdir(join(dir, 'sub'), { recursive: true });
      if (!existsSync(join(dir, 'eight.wav'))) {
        await new Promise<void>((res, rej) => execFile('sox', ['-n', '-r', '48000', '-b', '8', '-c', '1', join(dir, 'eight.wav'), 'synth', '0.1', 'sine', '440'], (e) => (e ? rej(e) : res())));
        await writeWav(join(dir, 'slow.wav'), { sampleRate: 8000, format: 'int16', channels: [new Float32Array(800)] });
      }
      const before = new Set(await readdir(dir));
      const r = await picomp(['render', ...args], dir);
      assert.equal(r.code, 2, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, re);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      const after = (await readdir(dir)).filter((f) => !before.has(f));
      assert.deepEqual(after, [], 'no file left behind');
    });
  }

  it('renders a WAV cut short (a recording that stopped) with one warning line', async () => {
    const whole = await readFile(join(dir, 'in16.wav'));
    await writeFile(join(dir, 'cut.wav'), whole.subarray(0, 44 + 4 * 24000));
    const r = await picomp(['render', 'cut.wav', 'cut-out.wav'], dir);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 2, r.stderr);
    assert.match(lines[0]!, /warning: cut\.wav ends before its header says it should .*rendered the 0\.5 s that are there/);
    assert.equal((await readWavFile(join(dir, 'cut-out.wav'))).info.frames, 24000);
  });

  it('stops on Ctrl-C: exit 2, one line, OUT not written and no temporary file left', async () => {
    // Long enough that the render is still running when the signal comes.
    const seconds = 120, n = 48000 * seconds;
    const l = new Float32Array(n);
    for (let i = 0; i < n; i++) l[i] = 0.5 * Math.sin(i / 7);
    await writeWav(join(dir, 'long.wav'), { sampleRate: 48000, format: 'float32', channels: [l, l] });
    const before = new Set(await readdir(dir));
    const child = spawn(process.execPath, [CLI, 'render', 'long.wav', 'long-out.wav'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    // Signal as soon as the temporary output exists, i.e. mid-render.
    const watcher = watch(dir);
    for await (const ev of watcher) if (ev.filename && /^\.long-out\.wav\..*\.tmp$/.test(ev.filename)) break;
    child.kill('SIGINT');
    assert.equal(await exited, 2, stderr);
    assert.match(stderr.trim(), /^picomp render: render interrupted; long-out\.wav was not written\.$/);
    assert.deepEqual((await readdir(dir)).filter((f) => !before.has(f)), [], 'no file left behind');
  });

  it('every command answers --help', async () => {
    for (const cmd of ['render', 'start', 'dashboard', 'params', 'presets', 'devices', 'user']) {
      const r = await picomp([cmd, '--help'], dir);
      assert.equal(r.code, 0, `${cmd}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`Usage:\\s+picomp ${cmd}`));
    }
  });
});
