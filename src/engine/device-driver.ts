/**
 * Drives the block runner from a PortAudio device (through naudiodon):
 * capture blocks arrive as interleaved float32 Buffers, are split into
 * channels, processed, and written back interleaved. Output buffers come
 * from a small ring allocated at start, so the steady state allocates
 * nothing of ours (naudiodon hands over one Buffer per captured block).
 * A watchdog reports a device that stopped calling back (unplugged).
 */
import type { Driver } from './driver.js';
import type { BlockRunner } from './block-runner.js';
import type { GraphNode } from './graph.js';
import { HostSource } from './nodes.js';
import type { InputSpec, OutputSpec, RunningInfo, WorkerConfig } from './worker-protocol.js';
import {
  findDevice, hasAnyAudioDevice, mayHaveAudioDevices, openDuplex, openInput, openOutput, listDevices, type AudioStream, type DeviceInfo,
} from '../io/audio-device.js';

/** Output buffers in flight at most: naudiodon queues two, plus the one being written. */
const OUTPUT_RING = 8;
/** No callback for this long means the device is gone. */
const WATCHDOG_MS = 2000;
/** Blocks PortAudio and naudiodon keep queued per direction (its maxQueue) plus the one in hand. */
const QUEUED_BLOCKS = 3;

export interface ResolvedSpecs {
  input: InputSpec;
  output: OutputSpec;
  note: string | null;
}

/**
 * Turns 'auto' into a device or the demo fallback: with no device at all a
 * newcomer still gets sound moving through the chain (demo → null).
 */
export function resolveAuto(input: InputSpec, output: OutputSpec, env: NodeJS.ProcessEnv = process.env): ResolvedSpecs {
  if (input.kind !== 'auto' && output.kind !== 'auto') return { input, output, note: null };
  // Probing PortAudio on a machine with no card makes ALSA and JACK print a
  // hundred lines of noise; when the kernel has no card and no ALSA config
  // adds devices, there is nothing to find anyway.
  const present = mayHaveAudioDevices(env) && hasAnyAudioDevice();
  const devices = present ? listDevices() : [];
  const canIn = devices.some((d) => d.maxInputChannels > 0);
  const canOut = devices.some((d) => d.maxOutputChannels > 0);
  let note: string | null = null;
  let i = input, o = output;
  if (input.kind === 'auto') {
    i = canIn ? { kind: 'device', device: null } : { kind: 'demo' };
    if (!canIn) note = 'no audio input device found: running the demo source, paced in real time';
  }
  if (output.kind === 'auto') {
    o = canOut && i.kind === 'device' ? { kind: 'device', device: null } : canOut && input.kind !== 'auto' ? { kind: 'device', device: null } : { kind: 'null' };
    const source = i.kind === 'demo' ? 'the demo source' : i.kind === 'file' ? `file:${i.path}` : 'the input device';
    if (o.kind === 'null' && !canOut) note = `no audio ${canIn ? 'output ' : ''}device found: running ${source} into null, paced in real time`;
  }
  return { input: i, output: o, note };
}


function pick(spec: string | null, direction: 'input' | 'output'): { id: number; name: string } {
  if (spec === null) return { id: -1, name: 'default' };
  const d: DeviceInfo = findDevice(spec, direction);
  return { id: d.index, name: d.name };
}

/** Starts device I/O for the runner; the source is a HostSource when input is a device. */
export async function runOnDevice(config: WorkerConfig, runner: BlockRunner, source: GraphNode,
  onDeviceError: (message: string) => void): Promise<{ driver: Driver; info: RunningInfo }> {
  const { channels, sampleRate, blockFrames } = config;
  const input = config.input.kind === 'device' ? pick(config.input.device, 'input') : null;
  const output = config.output.kind === 'device' ? pick(config.output.device, 'output') : null;
  const opts = { channels, sampleRate, framesPerBlock: blockFrames, sampleFormat: 'float32' as const };
  const bytes = blockFrames * channels * 4;
  // Every buffer and typed view the steady state touches is made here, once.
  const ring = Array.from({ length: OUTPUT_RING }, () => Buffer.alloc(bytes));
  const ringViews = ring.map((b) => new Float32Array(b.buffer, b.byteOffset, blockFrames * channels));
  let ringAt = 0;
  const captured = Buffer.alloc(bytes);
  const capturedView = new Float32Array(captured.buffer, captured.byteOffset, blockFrames * channels);
  let lastCallback = Date.now();
  let failed = false;

  const hostSource = source instanceof HostSource ? source : null;
  const deinterleave = (buf: Buffer): number => {
    const frames = Math.min(blockFrames, Math.floor(buf.length / (4 * channels)));
    // One memcpy into our aligned buffer instead of a new view of naudiodon's.
    buf.copy(captured, 0, 0, frames * channels * 4);
    const dst = hostSource!.buffers;
    for (let c = 0; c < channels; c++) {
      const d = dst[c]!;
      for (let i = 0, j = c; i < frames; i++, j += channels) d[i] = capturedView[j]!;
    }
    return frames;
  };
  const interleave = (block: readonly Float32Array[], frames: number): Buffer => {
    const out = ring[ringAt]!;
    const view = ringViews[ringAt]!;
    ringAt = (ringAt + 1) % OUTPUT_RING;
    for (let c = 0; c < channels; c++) {
      const s = block[c]!;
      for (let i = 0, j = c; i < frames; i++, j += channels) view[j] = s[i]!;
    }
    // Devices deliver whole blocks; a short one (never seen) costs a view.
    return frames === blockFrames ? out : out.subarray(0, frames * channels * 4);
  };

  let stream: AudioStream<NodeJS.EventEmitter & { write?(b: Buffer): boolean }>;
  if (input && output) {
    stream = openDuplex({ ...opts, deviceId: input.id, outputDeviceId: output.id }) as never;
    stream.stream.on('data', (buf: Buffer) => {
      lastCallback = Date.now();
      const frames = deinterleave(buf);
      const out = runner.step(frames);
      stream.stream.write!(interleave(out, frames));
    });
  } else if (input) {
    stream = openInput({ ...opts, deviceId: input.id }) as never;
    stream.stream.on('data', (buf: Buffer) => {
      lastCallback = Date.now();
      runner.step(deinterleave(buf));
    });
  } else {
    stream = openOutput({ ...opts, deviceId: output!.id }) as never;
    const w = stream.stream as NodeJS.EventEmitter & { write(b: Buffer): boolean };
    // Fill until naudiodon says its queue is full, then again on each drain:
    // the device's consumption paces the chain.
    const fill = (): void => {
      lastCallback = Date.now();
      while (!failed && w.write(interleave(runner.step(blockFrames), blockFrames))) { /* keep the queue full */ }
    };
    w.on('drain', fill);
    fill();
  }
  stream.stream.on('error', (e: unknown) => {
    if (!failed) { failed = true; onDeviceError(`audio device error: ${(e as Error)?.message ?? String(e)}.`); }
  });
  const watchdog = setInterval(() => {
    // PortAudio's own under/overflow count (see hardware/portaudio.md), read
    // here rather than per block: it is a call into the native side.
    runner.xruns = stream.xruns();
    if (!failed && Date.now() - lastCallback > WATCHDOG_MS) {
      failed = true;
      onDeviceError(`the audio device stopped delivering audio for ${WATCHDOG_MS / 1000} s (unplugged?).`);
    }
  }, WATCHDOG_MS / 4);
  const deviceLatencyFrames = ((input ? QUEUED_BLOCKS : 0) + (output ? QUEUED_BLOCKS : 0)) * blockFrames;
  runner.deviceLatencyFrames = deviceLatencyFrames;
  stream.start();
  lastCallback = Date.now();
  return {
    driver: {
      stop: async () => {
        failed = true;
        clearInterval(watchdog);
        await stream.close();
      },
    },
    info: {
      input: input ? input.name : config.input.kind === 'file' ? `file:${config.input.path}` : config.input.kind,
      output: output ? output.name : 'null',
      sampleRate, blockFrames, channels,
      deviceLatencyMs: (deviceLatencyFrames / sampleRate) * 1000,
      note: null,
    },
  };
}
