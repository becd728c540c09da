/**
 * The real native path: naudiodon built against the system PortAudio,
 * driving a file-backed ALSA device (test/helpers/alsa.ts) in a child process.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { findDevice, openDuplex, type DeviceInfo } from '../../src/io/audio-device.js';
import { UserError } from '../../src/errors.js';
import {
  NAUDIODON_CHILD,
  NULL_DEVICE,
  TEST_DEVICE,
  bufferToFloat32,
  createAlsaTestRig,
  float32ToBuffer,
  leadingSilenceFrames,
  runInAlsaChild,
  type AlsaTestRig,
} from '../helpers/alsa.js';
import type { Job, Reply } from '../helpers/naudiodon-child.js';
import { requireAudioDriver } from '../helpers/audio-driver.js';

/** Deterministic, exactly representable in float32, never 0 at frame 0 of channel 0. */
function testSignal(frames: number, channels: number): Float32Array {
  const s = new Float32Array(frames * channels);
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++) s[i * channels + c] = (((i * 7919 + c * 104729) % 2000) - 1000) / 1024;
  }
  return s;
}

async function run(rig: AlsaTestRig, job: Job): Promise<Reply> {
  const outcome = await runInAlsaChild<Reply>(rig, NAUDIODON_CHILD, job);
  assert.equal(outcome.code, 0, `child failed (signal ${outcome.signal}):\n${outcome.stdout}\n${outcome.stderr}`);
  assert.ok(outcome.result, 'child sent no reply');
  // naudiodon prints "AudioIO: portAudio status - …" for xruns when closeOnError is false.
  assert.doesNotMatch(outcome.stdout, /AudioIO:/);
  return outcome.result;
}

function ok(reply: Reply): Extract<Reply, { ok: true }> {
  if (!reply.ok) assert.fail(`expected success, got: ${reply.error}`);
  return reply;
}

function playbackLatencyFrames(out: Float32Array, channels: number): number {
  const frames = leadingSilenceFrames(out, channels);
  assert.ok(frames >= 0, 'output is all silence');
  return frames;
}

function assertSamplesEqual(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.ok(actual.length >= expected.length, `${what}: ${actual.length} samples, expected at least ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) assert.fail(`${what}: sample ${i} is ${actual[i]}, expected ${expected[i]}`);
  }
}

describe('naudiodon on the system PortAudio', function () {
  before(function () { requireAudioDriver(this); });
  const rigs: AlsaTestRig[] = [];
  const rigWith = (input: Float32Array | undefined, channels: number): AlsaTestRig => {
    const rig = createAlsaTestRig(input ? { input, channels } : { channels });
    rigs.push(rig);
    return rig;
  };
  after(() => rigs.forEach((r) => r.cleanup()));

  it('links the distribution libportaudio, not the bundled binary', function () {
    if (process.platform !== 'linux') this.skip();
    const require = createRequire(import.meta.url);
    const addon = join(require.resolve('naudiodon').replace(/index\.js$/, ''), 'build', 'Release', 'naudiodon.node');
    const ldd = execFileSync('ldd', [addon], { encoding: 'utf8' });
    const line = ldd.split('\n').find((l) => l.includes('libportaudio'));
    assert.ok(line, `naudiodon.node does not link libportaudio:\n${ldd}`);
    assert.match(line, /=> \/(usr\/)?lib\/[^ ]*libportaudio\.so\.2 /);
    assert.doesNotMatch(line, /node_modules/);
  });

  it('lists the rig devices with their channels and host API', async () => {
    const reply = ok(await run(rigWith(undefined, 2), { kind: 'list' }));
    const names = reply.devices!.map((d) => d.name);
    assert.ok(names.includes(TEST_DEVICE), `devices: ${names.join(', ')}`);
    assert.ok(names.includes(NULL_DEVICE), `devices: ${names.join(', ')}`);
    const dev = reply.devices!.find((d) => d.name === TEST_DEVICE)!;
    assert.equal(dev.hostApi, 'ALSA');
    assert.ok(dev.maxInputChannels >= 2 && dev.maxOutputChannels >= 2);
    assert.equal(reply.anyDevice, true);
  });

  it('reports no device when ALSA has only its system configuration and no card', async function () {
    let cards = '';
    try {
      cards = readFileSync('/proc/asound/cards', 'utf8');
    } catch {
      // no ALSA driver at all: same as no card
    }
    if (/^\s*\d+ \[/m.test(cards)) this.skip(); // a real sound card is present
    const rig = rigWith(undefined, 2);
    // Only the system file: an empty ALSA_CONFIG_PATH makes PortAudio 19.6 abort in BuildDeviceList.
    writeFileSync(rig.configPath, readFileSync(rig.configPath, 'utf8').split('\n')[0] + '\n');
    const reply = ok(await run(rig, { kind: 'list' }));
    assert.deepEqual(reply.devices!.filter((d) => d.hostApi === 'ALSA'), []);
    assert.equal(reply.anyDevice, reply.devices!.some((d) => d.maxInputChannels + d.maxOutputChannels > 0));
  });

  it('finds a rig device by name and by index, and names a missing one', async () => {
    const rig = rigWith(undefined, 2);
    const byName = ok(await run(rig, { kind: 'find', spec: TEST_DEVICE, direction: 'output' })).device!;
    const byIndex = ok(await run(rig, { kind: 'find', spec: String(byName.index), direction: 'input' })).device!;
    assert.equal(byIndex.name, TEST_DEVICE);
    const missing = await run(rig, { kind: 'find', spec: 'no-such-card', direction: 'output' });
    assert.deepEqual(missing, {
      ok: false,
      userError: true,
      error: 'no audio output device named no-such-card; `picomp devices` lists them',
    });
  });

  it('plays a known signal into the file device sample for sample, after whole blocks of priming silence', async () => {
    const channels = 2;
    const framesPerBlock = 128;
    const signal = testSignal(framesPerBlock * 100, channels);
    const rig = rigWith(undefined, channels);
    const sourcePath = join(rig.dir, 'source.f32');
    writeFileSync(sourcePath, float32ToBuffer(signal));
    const reply = ok(
      await run(rig, { kind: 'play', device: TEST_DEVICE, channels, sampleRate: 48000, framesPerBlock, sourcePath }),
    );
    assert.equal(reply.blocks, 100);
    assert.equal(reply.close, 'closed');
    const out = rig.readOutput();
    const latency = playbackLatencyFrames(out, channels);
    assert.equal(latency % framesPerBlock, 0, `priming of ${latency} frames is not whole blocks`);
    assertSamplesEqual(out.subarray(latency * channels), signal, 'played');
  });

  it('captures the known input file exactly, from its first frame, one block per chunk', async () => {
    const channels = 2;
    const framesPerBlock = 256;
    const blocks = 50;
    const signal = testSignal(framesPerBlock * blocks, channels);
    const rig = rigWith(signal, channels);
    const capturePath = join(rig.dir, 'captured.f32');
    const reply = ok(
      await run(rig, { kind: 'capture', device: TEST_DEVICE, channels, sampleRate: 44100, framesPerBlock, blocks, capturePath }),
    );
    assert.deepEqual(reply.chunkBytes, [framesPerBlock * channels * 4]);
    assert.equal(reply.close, 'closed');
    const captured = bufferToFloat32(readFileSync(capturePath));
    assert.equal(captured.length, signal.length);
    assertSamplesEqual(captured, signal, 'captured');
  });

  for (const [sampleRate, framesPerBlock, channels] of [
    [48000, 128, 2],
    [16000, 32, 1],
    [96000, 1024, 2],
    [44100, 256, 4],
  ] as const) {
    it(`loops input to output in duplex (${sampleRate} Hz, ${framesPerBlock}-frame blocks, ${channels} ch): output = input after a whole-block latency`, async () => {
      const blocks = 64;
      const signal = testSignal(framesPerBlock * blocks, channels);
      const rig = rigWith(signal, channels);
      const capturePath = join(rig.dir, 'captured.f32');
      const reply = ok(
        await run(rig, { kind: 'duplex', device: TEST_DEVICE, channels, sampleRate, framesPerBlock, blocks, capturePath }),
      );
      // The highWaterMark trap: every chunk must be exactly one block.
      assert.deepEqual(reply.chunkBytes, [framesPerBlock * channels * 4]);
      assert.equal(reply.close, 'closed');
      assert.equal(reply.xruns, 0);
      assertSamplesEqual(bufferToFloat32(readFileSync(capturePath)), signal, 'captured');
      const out = rig.readOutput();
      const latency = playbackLatencyFrames(out, channels);
      assert.equal(latency % framesPerBlock, 0, `latency of ${latency} frames is not whole blocks`);
      assertSamplesEqual(out.subarray(latency * channels), signal, 'looped');
    });
  }

  it('turns a device refusal into one UserError sentence', async () => {
    const rig = rigWith(undefined, 2);
    const reply = await run(rig, { kind: 'open', mode: 'output', device: TEST_DEVICE, channels: 1000, sampleRate: 48000, framesPerBlock: 128 });
    assert.equal(reply.ok, false);
    if (reply.ok) return;
    assert.equal(reply.userError, true);
    assert.match(reply.error, /^cannot open audio output on device \d+ at 48000 Hz, 1000 channel\(s\), 128-frame blocks \(.+\); check `picomp devices`/);
  });
});

describe('audio-device options and lookup (no native code)', () => {
  const devices: DeviceInfo[] = [
    { index: 0, name: 'bcm2835 Headphones: - (hw:0,0)', maxInputChannels: 0, maxOutputChannels: 8, defaultSampleRate: 44100, hostApi: 'ALSA' },
    { index: 1, name: 'USB Audio CODEC: - (hw:1,0)', maxInputChannels: 2, maxOutputChannels: 2, defaultSampleRate: 48000, hostApi: 'ALSA' },
    { index: 2, name: 'USB Audio CODEC: #1 (hw:2,0)', maxInputChannels: 2, maxOutputChannels: 2, defaultSampleRate: 48000, hostApi: 'ALSA' },
  ];

  it('matches exact name, index, then a unique substring, only among devices with channels that way', () => {
    assert.equal(findDevice('1', 'input', devices).name, 'USB Audio CODEC: - (hw:1,0)');
    assert.equal(findDevice('USB Audio CODEC: #1 (hw:2,0)', 'output', devices).index, 2);
    assert.equal(findDevice('headphones', 'output', devices).index, 0);
    assert.throws(() => findDevice('0', 'input', devices), new UserError('no audio input device named 0; `picomp devices` lists them'));
    assert.throws(() => findDevice('usb audio', 'input', devices), /matches 2 devices/);
  });

  it('rejects rates and block sizes outside 16–96 kHz and 32–1024 frames before touching the device', () => {
    const base = { deviceId: 0, channels: 2, sampleRate: 48000, framesPerBlock: 128 };
    assert.throws(() => openDuplex({ ...base, sampleRate: 8000 }), UserError);
    assert.throws(() => openDuplex({ ...base, sampleRate: 192000 }), UserError);
    assert.throws(() => openDuplex({ ...base, framesPerBlock: 16 }), UserError);
    assert.throws(() => openDuplex({ ...base, framesPerBlock: 2048 }), /block size 2048 frames is out of range; use a whole number from 32 to 1024/);
    assert.throws(() => openDuplex({ ...base, channels: 0 }), UserError);
  });
});
