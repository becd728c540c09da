import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAlsaTestRig, leadingSilenceFrames, type AlsaTestRig } from '../helpers/alsa.js';
import { renderFile } from '../../src/cli/render.js';
import { readWavFile } from '../../src/io/wav-reader.js';
import { writeWavFile } from '../../src/io/wav-writer.js';
import { defaultParams } from '../../src/params/schema.js';
import { freePort } from '../helpers/free-port.js';
import { requireAudioDriver } from '../helpers/audio-driver.js';
import { LIMITER_LOOKAHEAD_MS } from '../../src/dsp/limiter.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const RATE = 48000;
const FRAMES = RATE; // one second


/** Stereo test programme: loud then quiet, starting on a non-zero sample so latency is visible. */
function programme(): Float32Array[] {
  const l = new Float32Array(FRAMES), r = new Float32Array(FRAMES);
  for (let i = 0; i < FRAMES; i++) {
    const amp = i < FRAMES / 2 ? 0.8 : 0.1;
    l[i] = amp * Math.cos((2 * Math.PI * 440 * i) / RATE);
    r[i] = 0.5 * amp * Math.cos((2 * Math.PI * 660 * i) / RATE);
  }
  return [l, r];
}

describe('real-time engine on a real ALSA device (naudiodon → PortAudio → ALSA file plugin)', () => {
  before(function () { requireAudioDriver(this); });
  let dir: string;
  let rig: AlsaTestRig;
  const running = new Set<import('node:child_process').ChildProcess>();
  afterEach(() => {
    for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    running.clear();
  });
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'picomp-dev-'));
    const [l, r] = programme();
    const interleaved = new Float32Array(FRAMES * 2);
    for (let i = 0; i < FRAMES; i++) { interleaved[2 * i] = l![i]!; interleaved[2 * i + 1] = r![i]!; }
    rig = createAlsaTestRig({ input: interleaved, channels: 2, silencePaddingFrames: 4 * RATE });
    await writeWavFile(join(dir, 'in.wav'), { sampleRate: RATE, format: 'float32', channels: [l!, r!] });
  });
  after(async () => { rig?.cleanup(); await rm(dir, { recursive: true, force: true }); });

  const settings = { threshold: -24, ratio: 6, knee: 4, attack: 2, release: 80, lookahead: 2, makeup: 3, limiter: true, ceiling: -2 };

  it('the device output equals picomp render of the same input, after the latency', async () => {
    const port = await freePort();
    const args = ['start', '--unit', 'dev-1', '--input', rig.deviceName, '--output', rig.deviceName, '--mqtt-port', String(port),
      '--ws-port', '0', '--listen', '127.0.0.1', '--state-dir', join(dir, 'state')];
    for (const [k, v] of Object.entries(settings)) args.push(`--${k}`, String(v));
    const child = spawn(process.execPath, [CLI, ...args], { env: rig.env, cwd: rig.dir, stdio: ['ignore', 'ignore', 'pipe'] });
    running.add(child);
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    // The file device is not paced: wait until the whole programme went through.
    const deadline = Date.now() + 30_000;
    while (rig.readOutput().length < (FRAMES + RATE) * 2 || !/running picomp/.test(err)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no device output: ${err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGTERM');
    assert.equal(await exited, 0, err);
    assert.match(err, new RegExp(`audio ${rig.deviceName} → ${rig.deviceName} at 48000 Hz`));

    await renderFile({ inPath: join(dir, 'in.wav'), outPath: join(dir, 'ref.wav'), params: { ...defaultParams(), ...settings } });
    const ref = await readWavFile(join(dir, 'ref.wav'));
    const out = rig.readOutput();
    const latency = leadingSilenceFrames(out, 2);
    const lookaheadFrames = Math.round((settings.lookahead / 1000) * RATE);
    assert.ok(latency >= lookaheadFrames, `latency ${latency} frames includes the ${lookaheadFrames}-frame lookahead`);
    // The render's last frames differ by design: at the end of the file its
    // detector holds its level instead of hearing the silence that flushes
    // the lookahead, where the device heard real silence after the
    // programme. Compared up to the lookaheads (compressor's and limiter's,
    // twice over: the limiter looks ahead at what the compressor changed).
    const tail = 2 * (lookaheadFrames + Math.round((LIMITER_LOOKAHEAD_MS / 1000) * RATE));
    let worst = 0;
    for (let i = 0; i < FRAMES - tail; i++) {
      for (let c = 0; c < 2; c++) {
        worst = Math.max(worst, Math.abs(out[(latency + i) * 2 + c]! - ref.channels[c]![i]!));
      }
    }
    assert.ok(worst < 1e-6, `device and render differ by up to ${worst}`);
  });

  it('a named device that does not exist is one clear line and exit code 2', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, 'start', '--unit', 'dev-2', '--input', 'No Such Interface', '--output', 'null',
      '--mqtt-port', String(port), '--ws-port', '0', '--listen', '127.0.0.1', '--state-dir', join(dir, 'state2')],
    { env: rig.env, cwd: rig.dir, stdio: ['ignore', 'ignore', 'pipe'] });
    running.add(child);
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const code = await new Promise((r) => child.once('exit', r));
    assert.equal(code, 2, err);
    const ours = err.split('\n').filter((l) => l.startsWith('picomp'));
    assert.equal(ours.length, 1, err);
    assert.match(ours[0]!, /no audio input device named No Such Interface; `picomp devices` lists them/);
  });
});
