/**
 * Drives the block runner from a PortAudio device. The device's callback
 * runs in PortAudio's (or JACK's) thread and only copies blocks between
 * preallocated rings and ours (picomp's naudiodon patch, see
 * docs/realtime.md); this thread waits for captured blocks, processes them
 * and queues the output, which the callback plays `queueBlocks` blocks
 * later. It runs synchronously in slices, returning to the event loop a few
 * times a second (stop messages, the GC observer), and allocates nothing
 * per block. A watchdog reports a device that stopped calling back
 * (unplugged).
 */
import type { Driver } from './driver.js';
import type { BlockRunner } from './block-runner.js';
import type { GraphNode } from './graph.js';
import { HostSource } from './nodes.js';
import { clockUs, elapsedUs } from './monotonic-clock.js';
import { WorkerControl } from './worker-control.js';
import { UserError } from '../errors.js';
import { appendFileSync } from 'node:fs';
import type { InputSpec, LatencyBreakdown, OutputSpec, RunningInfo, WorkerConfig } from './worker-protocol.js';
import {
  DEFAULT_QUEUE_BLOCKS, deadlineOf, defaultDevice, findDevice, hasAnyAudioDevice, mayHaveAudioDevices, openRealtime, listDevices, type DeviceInfo,
  type RealtimeLatency,
} from '../io/audio-device.js';

/** No callback for this long means the device is gone. */
const WATCHDOG_MS = 2000;
/**
 * SCHED_FIFO priority of the thread that processes blocks: above every
 * ordinary process (a compiler, the dashboard), below the audio threads of
 * JACK (its clients run at 5 and up) and PortAudio, which must run first.
 */
const AUDIO_THREAD_PRIORITY = 1;
/** Longest wait for a block before looking at the stop word again. */
const WAIT_MS = 20;
/**
 * Blocks of silence run through the chain before the device starts, so V8
 * has compiled the block path: the first blocks, interpreted, take longer
 * than the queue allows.
 */
const WARM_UP_BLOCKS = 400;
/** Time spent processing before the event loop gets a turn. */
const SLICE_US = 250_000;
/**
 * Diagnosis (docs/realtime.md): with PICOMP_XRUN_LOG=path, every troubled
 * callback is appended there as a line of JSON (wall-clock time, kinds,
 * the gap since the callback before), to line up with jackd's log.
 */
const XRUN_LOG = process.env.PICOMP_XRUN_LOG || null;

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


function pick(spec: string | null, direction: 'input' | 'output'): DeviceInfo {
  if (spec !== null) return findDevice(spec, direction);
  const d = defaultDevice(direction);
  if (!d) throw new UserError(`no default audio ${direction} device; \`picomp devices\` lists them`);
  return d;
}

/** The latency a block takes from capture to playback, in frames, beside the chain's own (lookahead). */
export function deviceLatencyFrames(l: RealtimeLatency): number {
  return l.queueFrames + l.inputFrames + l.outputFrames;
}

/** One sentence: the latency and what it is made of. */
export function describeLatency(l: LatencyBreakdown, blockFrames: number, sampleRate: number): string {
  const total = l.queueFrames + l.lookaheadFrames + l.deviceInputFrames + l.deviceOutputFrames;
  const ms = (frames: number): string => `${((frames / sampleRate) * 1000).toFixed(1)} ms`;
  return `latency ${ms(total)} (${total} frames): queue ${l.queueFrames / blockFrames} × ${blockFrames} frames, ` +
    `lookahead ${l.lookaheadFrames}, device in ${l.deviceInputFrames} + out ${l.deviceOutputFrames} as PortAudio reports them`;
}

/** Starts device I/O for the runner; the source is a HostSource when input is a device. */
export async function runOnDevice(config: WorkerConfig, runner: BlockRunner, source: GraphNode,
  onDeviceError: (message: string) => void): Promise<{ driver: Driver; info: RunningInfo }> {
  const { channels, sampleRate, blockFrames } = config;
  const input = config.input.kind === 'device' ? pick(config.input.device, 'input') : null;
  const output = config.output.kind === 'device' ? pick(config.output.device, 'output') : null;
  const queueBlocks = config.queueBlocks ?? DEFAULT_QUEUE_BLOCKS;
  const deadline = deadlineOf((input ?? output)!.hostApi);
  const rt = openRealtime({
    inputDeviceId: input ? input.index : null, outputDeviceId: output ? output.index : null,
    channels, sampleRate, framesPerBlock: blockFrames, queueBlocks, deadline, clientName: 'picomp',
  });
  // Every buffer the steady state touches is made here, once.
  const captured = new Float32Array(blockFrames * channels);
  const played = new Float32Array(blockFrames * channels);
  const hostSource = source instanceof HostSource ? source : null;
  const deinterleave = (): void => {
    const dst = hostSource!.buffers;
    for (let c = 0; c < channels; c++) {
      const d = dst[c]!;
      for (let i = 0, j = c; i < blockFrames; i++, j += channels) d[i] = captured[j]!;
    }
  };
  const interleave = (block: readonly Float32Array[]): void => {
    for (let c = 0; c < channels; c++) {
      const s = block[c]!;
      for (let i = 0, j = c; i < blockFrames; i++, j += channels) played[j] = s[i]!;
    }
  };
  const processReady = (ready: number): void => {
    if (input) {
      while (rt.read(captured)) {
        deinterleave();
        const out = runner.step(blockFrames);
        if (output) { interleave(out); rt.write(played); }
      }
    } else {
      for (let k = 0; k < ready; k++) { interleave(runner.step(blockFrames)); rt.write(played); }
    }
  };

  const control = new WorkerControl(config.controlBuffer);
  let stopped = false;
  let failed = false;
  let lastCallbacks = -1;
  let quietSinceUs = clockUs();
  let eventsLogged = 0;
  // PortAudio's and the rings' count, read between blocks (a call into the native side).
  const watch = (): void => {
    const st = rt.stats();
    runner.xruns = st.xruns;
    if (XRUN_LOG !== null && st.events > eventsLogged) {
      const events = rt.events(eventsLogged);
      eventsLogged = st.events;
      appendFileSync(XRUN_LOG, events.map((e) => JSON.stringify({ ...e, wall: new Date(e.wallMs).toISOString() })).join('\n') + '\n');
    }
    if (st.callbacks !== lastCallbacks) { lastCallbacks = st.callbacks; quietSinceUs = clockUs(); return; }
    if (!failed && elapsedUs(quietSinceUs, clockUs()) > WATCHDOG_MS * 1000) {
      failed = true;
      onDeviceError(`the audio device stopped delivering audio for ${WATCHDOG_MS / 1000} s (unplugged?).`);
    }
  };
  let finished!: () => void;
  const done = new Promise<void>((resolve) => { finished = resolve; });
  const runSlice = (): void => {
    const sliceStartUs = clockUs();
    while (elapsedUs(sliceStartUs, clockUs()) < SLICE_US) {
      if (stopped || failed || control.stopRequested) { finished(); return; }
      processReady(rt.wait(WAIT_MS));
    }
    watch();
    setImmediate(runSlice);
  };

  for (let k = 0; k < WARM_UP_BLOCKS; k++) runner.step(blockFrames);
  // Only for a strict host: on a 'buffered' one the callback waits for this
  // thread, and a device that is not paced by a clock (an ALSA file or null
  // plugin) would then keep two real-time threads spinning and starve the rest.
  const promoted = deadline === 'strict' ? rt.promote(AUDIO_THREAD_PRIORITY) : true;
  rt.start();
  setImmediate(runSlice);
  const latency = rt.latency;
  runner.deviceLatencyFrames = deviceLatencyFrames(latency);
  return {
    driver: {
      stop: async () => {
        stopped = true;
        await done;
        if (XRUN_LOG !== null) appendFileSync(XRUN_LOG, JSON.stringify({ stats: rt.stats(), wall: new Date().toISOString() }) + '\n');
        rt.close();
      },
    },
    info: {
      input: input ? input.name : config.input.kind === 'file' ? `file:${config.input.path}` : config.input.kind,
      output: output ? output.name : 'null',
      sampleRate, blockFrames, channels,
      deviceLatencyMs: (runner.deviceLatencyFrames / sampleRate) * 1000,
      latency: {
        queueFrames: latency.queueFrames, lookaheadFrames: runner.chain.latencyFrames,
        deviceInputFrames: latency.inputFrames, deviceOutputFrames: latency.outputFrames,
      },
      note: promoted ? null : 'the audio thread could not get real-time priority (see docs/realtime.md); xruns are likelier under load',
    },
  };
}
