/**
 * Thin typed wrapper around naudiodon (PortAudio) that owns its traps:
 *  - naudiodon's option is spelled `highwaterMark`; a duplex stream deadlocks
 *    unless it equals exactly one block's bytes (the PortAudio callback waits
 *    for JS to write the block it has just captured);
 *  - `sampleFormat` defaults to 8-bit, so it is always set to float32;
 *  - `abort()` never calls its callback in 2.3.6, so streams are only ever
 *    stopped through one `quit`, and never twice (naudiodon itself quits
 *    when the writable side finishes).
 * naudiodon is loaded lazily so the rest of picomp (render, params, MQTT)
 * runs on machines where the native module is missing or broken.
 */
import type * as Naudiodon from './naudiodon-loader.js';
import { loadNaudiodon, type NaudiodonModule } from './naudiodon-loader.js';
import { UserError } from '../errors.js';
import { anyAudioHost, probeAudioHosts } from './audio-hosts.js';
import { MAX_SAMPLE_RATE, MIN_SAMPLE_RATE } from '../dsp/kernel.js';

export type Direction = 'input' | 'output';

export interface DeviceInfo {
  /** PortAudio device index, as accepted by `deviceId`. */
  readonly index: number;
  readonly name: string;
  readonly maxInputChannels: number;
  readonly maxOutputChannels: number;
  /** Hz */
  readonly defaultSampleRate: number;
  /** PortAudio host API name, e.g. "ALSA". */
  readonly hostApi: string;
}

export interface StreamOptions {
  /** PortAudio device index; -1 means PortAudio's default device. */
  readonly deviceId: number;
  readonly channels: number;
  /** Hz */
  readonly sampleRate: number;
  readonly framesPerBlock: number;
  /** Only float32 is supported: samples are interleaved little-endian floats in [-1, 1]. */
  readonly sampleFormat?: 'float32';
}

export const SAMPLE_RATE_RANGE_HZ = { min: MIN_SAMPLE_RATE, max: MAX_SAMPLE_RATE } as const;
export const BLOCK_RANGE_FRAMES = { min: 32, max: 1024 } as const;
export const BYTES_PER_SAMPLE = 4;

/** How a stream ended when `close()` returned. */
export type CloseResult = 'closed' | 'timed-out';

export interface AudioStream<S> {
  /** The naudiodon stream: 'data' delivers one block per event as a Buffer of interleaved float32. */
  readonly stream: S;
  readonly channels: number;
  readonly sampleRate: number;
  readonly framesPerBlock: number;
  readonly bytesPerBlock: number;
  start(): void;
  /**
   * PortAudio input/output under- and overflows since the stream opened
   * (counted in the audio callback; added by picomp's naudiodon patch).
   */
  xruns(): number;
  /**
   * Stops the device exactly once. Idempotent. Resolves 'timed-out' when the
   * device stopped calling back (e.g. unplugged) and the stream had to be left behind.
   */
  close(timeoutMs?: number): Promise<CloseResult>;
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}

/**
 * False only when it is certain no device exists: no kernel sound card, no
 * ALSA configuration that adds plugin devices, no JACK server, no PipeWire
 * or PulseAudio (see audio-hosts.ts).
 */
export function mayHaveAudioDevices(env: NodeJS.ProcessEnv = process.env): boolean {
  return anyAudioHost(probeAudioHosts(env));
}

/**
 * The devices PortAudio sees: JACK's, ALSA's (PipeWire's and PulseAudio's
 * through their ALSA plugins). None, without asking it, when none can
 * exist; when asking, ALSA's and JACK's complaints about what is absent
 * are kept off stderr. `wholeStderr` silences PortAudio's own debug lines
 * too, by closing stderr for the whole process meanwhile: only for a
 * command that does nothing else at the time (`picomp devices`).
 */
export function listDevices(options: { wholeStderr?: boolean } = {}): DeviceInfo[] {
  if (!mayHaveAudioDevices()) return [];
  return quietly((n) => n.getDevices(), options.wholeStderr ?? false).map((d) => ({
    index: d.id,
    name: d.name,
    maxInputChannels: d.maxInputChannels,
    maxOutputChannels: d.maxOutputChannels,
    defaultSampleRate: d.defaultSampleRate,
    hostApi: d.hostAPIName,
  }));
}

/** Runs a PortAudio query (which initialises PortAudio: every host API probes its devices) with ALSA and JACK quiet. */
function quietly<T>(query: (n: NaudiodonModule) => T, wholeStderr = false): T {
  const n = loadNaudiodon();
  n.setQuiet(true, wholeStderr);
  try {
    return query(n);
  } finally {
    n.setQuiet(false);
  }
}

/**
 * PortAudio's default device for `direction` (that of its default host API:
 * JACK when a JACK server runs and ALSA has no card), or null when none.
 */
export function defaultDevice(direction: Direction, devices: DeviceInfo[] = listDevices()): DeviceInfo | null {
  if (devices.length === 0) return null;
  const apis = quietly((n) => n.getHostAPIs());
  const api = apis.HostAPIs.find((h) => h.id === apis.defaultHostAPI);
  const index = api ? (direction === 'input' ? api.defaultInput : api.defaultOutput) : -1;
  const found = devices.find((d) => d.index === index && channelsFor(d, direction) > 0);
  return found ?? devices.find((d) => channelsFor(d, direction) > 0) ?? null;
}

/** True when PortAudio can see at least one device that can capture or play. */
export function hasAnyAudioDevice(): boolean {
  try {
    return listDevices().some((d) => d.maxInputChannels > 0 || d.maxOutputChannels > 0);
  } catch {
    return false;
  }
}

function channelsFor(d: DeviceInfo, direction: Direction): number {
  return direction === 'input' ? d.maxInputChannels : d.maxOutputChannels;
}

/**
 * Finds a device by index ("3"), by exact name, or else by a unique
 * case-insensitive substring of its name (ALSA names are long, e.g.
 * "USB Audio CODEC: - (hw:1,0)"). It must have channels in `direction`.
 */
export function findDevice(spec: string, direction: Direction, devices: DeviceInfo[] = listDevices()): DeviceInfo {
  const wanted = spec.trim();
  const usable = devices.filter((d) => channelsFor(d, direction) > 0);
  const notFound = new UserError(`no audio ${direction} device named ${wanted}; \`picomp devices\` lists them`);
  if (wanted === '') throw notFound;
  if (/^\d+$/.test(wanted)) {
    // A number is an index, never part of a name ("0" would match every "hw:1,0").
    const byIndex = usable.find((d) => d.index === Number(wanted));
    if (byIndex) return byIndex;
    throw notFound;
  }
  const exact = usable.find((d) => d.name === wanted);
  if (exact) return exact;
  const lower = wanted.toLowerCase();
  const partial = usable.filter((d) => d.name.toLowerCase().includes(lower));
  if (partial.length === 1) return partial[0]!;
  if (partial.length > 1) {
    throw new UserError(
      `audio device name ${wanted} matches ${partial.length} devices (${partial.map((d) => d.name).join(', ')}); ` +
        'give the full name or the index from `picomp devices`',
    );
  }
  throw notFound;
}

function checkOptions(o: StreamOptions): void {
  if (o.sampleFormat !== undefined && o.sampleFormat !== 'float32') {
    throw new UserError(`sample format ${String(o.sampleFormat)} is not supported; picomp streams float32`);
  }
  if (!Number.isInteger(o.sampleRate) || o.sampleRate < SAMPLE_RATE_RANGE_HZ.min || o.sampleRate > SAMPLE_RATE_RANGE_HZ.max) {
    throw new UserError(
      `sample rate ${o.sampleRate} Hz is out of range; use a whole number from ${SAMPLE_RATE_RANGE_HZ.min} to ${SAMPLE_RATE_RANGE_HZ.max}`,
    );
  }
  if (!Number.isInteger(o.framesPerBlock) || o.framesPerBlock < BLOCK_RANGE_FRAMES.min || o.framesPerBlock > BLOCK_RANGE_FRAMES.max) {
    throw new UserError(
      `block size ${o.framesPerBlock} frames is out of range; use a whole number from ${BLOCK_RANGE_FRAMES.min} to ${BLOCK_RANGE_FRAMES.max}`,
    );
  }
  if (!Number.isInteger(o.channels) || o.channels < 1) {
    throw new UserError(`channel count ${o.channels} is invalid; use 1 or more`);
  }
  if (!Number.isInteger(o.deviceId) || o.deviceId < -1) {
    throw new UserError(`audio device index ${o.deviceId} is invalid; \`picomp devices\` lists them`);
  }
}

function bytesPerBlock(o: StreamOptions): number {
  return o.framesPerBlock * o.channels * BYTES_PER_SAMPLE;
}

function naudiodonOptions(o: StreamOptions): Naudiodon.AudioOptions {
  return {
    deviceId: o.deviceId,
    channelCount: o.channels,
    sampleRate: o.sampleRate,
    sampleFormat: 1, // SampleFormatFloat32; the default (8) would be 8-bit integers
    framesPerBuffer: o.framesPerBlock,
    // Spelled this way in naudiodon. One block exactly: each native read then
    // waits for one captured block, which is what the duplex loop needs.
    highwaterMark: bytesPerBlock(o),
    // An xrun would otherwise destroy the stream; naudiodon then only logs
    // it, and AudioStream.xruns() counts it.
    closeOnError: false,
    // Two queued blocks each way: naudiodon's default, the smallest that does not stall.
    maxQueue: 2,
  };
}

/** Native constructor errors ("Format not supported: Invalid sample rate") become one actionable sentence. */
function create<S>(make: () => S, o: StreamOptions, what: string): S {
  try {
    return make();
  } catch (e) {
    if (e instanceof UserError) throw e;
    const why = firstLine(e instanceof Error ? e.message : String(e));
    throw new UserError(
      `cannot open audio ${what} on device ${o.deviceId} at ${o.sampleRate} Hz, ${o.channels} channel(s), ` +
        `${o.framesPerBlock}-frame blocks (${why}); check \`picomp devices\` for what it supports`,
    );
  }
}

interface QuittableStream {
  quit(cb?: () => void): void;
  end?: () => void;
  once(event: string, listener: () => void): unknown;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  removeAllListeners(event?: string): unknown;
}

function wrap<S extends QuittableStream>(stream: S, o: StreamOptions, hasOutput: boolean, hasInput: boolean): AudioStream<S> {
  let closing: Promise<CloseResult> | undefined;
  const close = (timeoutMs = 2000): Promise<CloseResult> => {
    closing ??= new Promise<CloseResult>((resolve) => {
      const timer = setTimeout(() => resolve('timed-out'), timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve('closed');
      };
      if (hasInput) {
        // Keep draining captured blocks: a full input queue blocks the
        // PortAudio callback, which then never consumes the last output.
        stream.removeAllListeners('data');
        stream.on('data', () => undefined);
      }
      if (hasOutput && stream.end) {
        // naudiodon quits on 'finish' and then emits 'finished'; calling
        // quit() as well would stop a stream it has already closed.
        stream.once('finished', done);
        stream.end();
      } else {
        stream.quit(done);
      }
    });
    return closing;
  };
  return {
    stream,
    channels: o.channels,
    sampleRate: o.sampleRate,
    framesPerBlock: o.framesPerBlock,
    bytesPerBlock: bytesPerBlock(o),
    start: () => (stream as unknown as { start(): void }).start(),
    xruns: () => (stream as unknown as { xruns?: () => number }).xruns?.() ?? 0,
    close,
  };
}

/**
 * How a host treats a late callback. 'strict': the host (JACK, PipeWire's
 * JACK layer) gives each client one period and counts an xrun when it
 * overruns, so the callback must never wait. 'buffered': the host runs its
 * own thread with a device buffer behind the callback (PortAudio's ALSA
 * path), and plugin devices that are not paced by a clock (files, null)
 * must be served block by block, so the callback waits for JavaScript when
 * the queue is empty, as naudiodon always did.
 */
export type Deadline = 'strict' | 'buffered';

/** How long a 'buffered' callback waits for a late block before playing silence (an xrun). */
const BUFFERED_CALLBACK_WAIT_MS = 500;

export function deadlineOf(hostApi: string): Deadline {
  return /jack/i.test(hostApi) ? 'strict' : 'buffered';
}

export interface RealtimeOptions {
  /** PortAudio device index to capture from; null: no capture. */
  readonly inputDeviceId: number | null;
  /** PortAudio device index to play to; null: no playback. */
  readonly outputDeviceId: number | null;
  readonly channels: number;
  /** Hz */
  readonly sampleRate: number;
  readonly framesPerBlock: number;
  /**
   * Blocks of silence queued for playback at start: the time JavaScript has
   * to answer each block, and the latency it adds.
   */
  readonly queueBlocks: number;
  readonly deadline: Deadline;
  /** JACK client name. */
  readonly clientName?: string;
}

export const QUEUE_BLOCKS_RANGE = { min: 1, max: 16 } as const;
/** 2 leaves the processing thread two periods; a JACK round trip is then 3 blocks (docs/realtime.md). */
export const DEFAULT_QUEUE_BLOCKS = 2;

export type RealtimeStats = Naudiodon.RtStreamCounters;
export type RealtimeEvent = Naudiodon.RtStreamEvent;

export interface RealtimeLatency {
  /** The playback queue's depth (queueBlocks × block); 0 without playback. */
  readonly queueFrames: number;
  /** What PortAudio reports for the device (Pa_GetStreamInfo), in frames. */
  readonly inputFrames: number;
  readonly outputFrames: number;
}

/**
 * A device stream whose PortAudio callback only copies between preallocated
 * rings and JavaScript's blocks (picomp's naudiodon patch, `RtStream`): the
 * thread that processes blocks waits in `wait()`, never the callback.
 */
export interface RealtimeStream {
  readonly channels: number;
  readonly sampleRate: number;
  readonly framesPerBlock: number;
  readonly deadline: Deadline;
  readonly latency: RealtimeLatency;
  start(): void;
  /** Blocks this thread up to `timeoutMs` until blocks can be handled; how many. */
  wait(timeoutMs: number): number;
  /** The oldest captured block, interleaved, into `block`; false if none waits. */
  read(block: Float32Array): boolean;
  /** Queues one interleaved block for playback; false if the queue is full. */
  write(block: Float32Array): boolean;
  /** Raises the calling thread to SCHED_FIFO `priority`; false if not permitted. */
  promote(priority: number): boolean;
  stats(): RealtimeStats;
  /** Troubled callbacks recorded after the first `since` (time and kind); allocates, for diagnosis only. */
  events(since: number): RealtimeEvent[];
  /** Stops the device; idempotent. */
  close(): void;
}

export function openRealtime(o: RealtimeOptions): RealtimeStream {
  for (const id of [o.inputDeviceId, o.outputDeviceId]) if (id !== null) checkOptions({ ...o, deviceId: id });
  if (o.inputDeviceId === null && o.outputDeviceId === null) throw new UserError('an audio stream needs an input or an output device');
  if (!Number.isInteger(o.queueBlocks) || o.queueBlocks < QUEUE_BLOCKS_RANGE.min || o.queueBlocks > QUEUE_BLOCKS_RANGE.max) {
    throw new UserError(`queue depth ${o.queueBlocks} blocks is out of range; use a whole number from ${QUEUE_BLOCKS_RANGE.min} to ${QUEUE_BLOCKS_RANGE.max}`);
  }
  const strict = o.deadline === 'strict';
  const what = o.inputDeviceId !== null && o.outputDeviceId !== null ? 'input and output' : o.inputDeviceId !== null ? 'input' : 'output';
  const rt = create(() => quietly((n) => new n.RtStream({
    ...(o.inputDeviceId !== null ? { inDeviceId: o.inputDeviceId } : {}),
    ...(o.outputDeviceId !== null ? { outDeviceId: o.outputDeviceId } : {}),
    channels: o.channels, sampleRate: o.sampleRate, framesPerBlock: o.framesPerBlock, primeBlocks: o.queueBlocks,
    callbackWaitMs: strict ? 0 : BUFFERED_CALLBACK_WAIT_MS,
    // On JACK, take its period as it comes: PortAudio's block adapter would add a block of latency.
    fixedHostBlock: !strict,
    // JACK sends its xrun notice to every client for any late period in the graph.
    graphWideFlags: strict,
    ...(o.clientName ? { clientName: o.clientName } : {}),
  })), { ...o, deviceId: o.inputDeviceId ?? o.outputDeviceId! }, what);
  const s = rt.stats();
  let closed = false;
  return {
    channels: o.channels, sampleRate: o.sampleRate, framesPerBlock: o.framesPerBlock, deadline: o.deadline,
    latency: {
      queueFrames: o.outputDeviceId !== null ? o.queueBlocks * o.framesPerBlock : 0,
      inputFrames: Math.round(s.inputLatency * o.sampleRate),
      outputFrames: Math.round(s.outputLatency * o.sampleRate),
    },
    start: () => rt.start(),
    wait: (timeoutMs) => rt.wait(timeoutMs),
    read: (block) => rt.read(block),
    write: (block) => rt.write(block),
    promote: (priority) => rt.promote(priority),
    stats: () => rt.stats(),
    events: (since) => rt.events(since),
    close: () => { if (!closed) { closed = true; rt.close(); } },
  };
}

export interface DuplexOptions extends StreamOptions {
  /** Playback device when it differs from the capture device (`deviceId`); same host API. */
  readonly outputDeviceId?: number;
}

export function openDuplex(o: DuplexOptions): AudioStream<Naudiodon.IoStreamDuplex> {
  checkOptions(o);
  if (o.outputDeviceId !== undefined) checkOptions({ ...o, deviceId: o.outputDeviceId });
  const n = loadNaudiodon();
  const inOptions = naudiodonOptions(o);
  const outOptions = { ...inOptions, deviceId: o.outputDeviceId ?? o.deviceId };
  const s = create(() => n.AudioIO({ inOptions, outOptions }), o, 'input and output');
  return wrap(s as Naudiodon.IoStreamDuplex & QuittableStream, o, true, true);
}

export function openInput(o: StreamOptions): AudioStream<Naudiodon.IoStreamRead> {
  checkOptions(o);
  const n = loadNaudiodon();
  const s = create(() => n.AudioIO({ inOptions: naudiodonOptions(o) }), o, 'input');
  return wrap(s as Naudiodon.IoStreamRead & QuittableStream, o, false, true);
}

export function openOutput(o: StreamOptions): AudioStream<Naudiodon.IoStreamWrite> {
  checkOptions(o);
  const n = loadNaudiodon();
  const s = create(() => n.AudioIO({ outOptions: naudiodonOptions(o) }), o, 'output');
  return wrap(s as Naudiodon.IoStreamWrite & QuittableStream, o, true, false);
}
