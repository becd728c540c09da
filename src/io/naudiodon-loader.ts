/**
 * The audio driver, naudiodon, is an optional dependency: it compiles
 * against the system PortAudio, and on a machine without it npm skips the
 * failed build, so `npm install` and `npm start` (demo → null) still work.
 * This module loads it on first use and says, in one sentence, how to turn
 * sound cards on. Its types are declared here (the part of naudiodon 2.3.6,
 * with picomp's patch, that picomp uses) so picomp builds without it.
 */
import { createRequire } from 'node:module';
import { UserError } from '../errors.js';

/** A device as naudiodon's getDevices() reports it. */
export interface DeviceInfo {
  readonly id: number;
  readonly name: string;
  readonly maxInputChannels: number;
  readonly maxOutputChannels: number;
  readonly defaultSampleRate: number;
  readonly hostAPIName: string;
}

export interface AudioOptions {
  /** -1: PortAudio's default device. */
  deviceId?: number;
  sampleRate?: number;
  channelCount?: number;
  /** 1 is float32; naudiodon's default, 8, is 8-bit integers. */
  sampleFormat?: 1 | 8 | 16 | 24 | 32;
  maxQueue?: number;
  framesPerBuffer?: number;
  /** Bytes; spelled this way in naudiodon. */
  highwaterMark?: number;
  closeOnError?: boolean;
}

export interface IoStream {
  start(): void;
  /** Added by picomp's patch: PortAudio under- and overflows since the stream opened. */
  xruns(): number;
  quit(callback?: () => void): void;
  abort(callback?: () => void): void;
}

export interface IoStreamRead extends IoStream, NodeJS.ReadableStream {}
export interface IoStreamWrite extends IoStream, NodeJS.WritableStream {}
export interface IoStreamDuplex extends IoStream, NodeJS.ReadableStream, NodeJS.WritableStream {}

/** A PortAudio host API as getHostAPIs() reports it. */
export interface HostInfo {
  readonly id: number;
  readonly name: string;
  readonly type: string;
  readonly deviceCount: number;
  /** Device indices within this host API. */
  readonly defaultInput: number;
  readonly defaultOutput: number;
}

/*
 * What picomp's patch adds for real-time streams (setQuiet, RtStream;
 * patches/naudiodon+2.3.6.patch, which also types them in naudiodon's
 * index.d.ts): declared here, because picomp's code takes naudiodon's types
 * from this module only, so that it builds when the driver is not installed.
 */

/** Options of a RtStream. A device id of -1 is PortAudio's default; leave one out for no such direction. */
export interface RtStreamOptions {
  inDeviceId?: number;
  outDeviceId?: number;
  channels: number;
  sampleRate: number;
  framesPerBlock: number;
  /** Silent blocks queued for playback at start. */
  primeBlocks?: number;
  /** Blocks each ring holds beyond the prime. */
  capacityBlocks?: number;
  /** 0: the callback never waits; > 0: it waits up to this long for JavaScript's block. */
  callbackWaitMs?: number;
  /** true: PortAudio calls back with framesPerBlock frames; false: with the host's period. */
  fixedHostBlock?: boolean;
  /** JACK client name (before PortAudio is first initialised in the process). */
  clientName?: string;
  /** true: PortAudio's under/overflow flag comes for any late period of the host's graph (JACK); it is then kept as hostXruns, not counted as this stream's xrun. */
  graphWideFlags?: boolean;
}

/** What a RtStream counted since it opened. */
export interface RtStreamCounters {
  readonly callbacks: number;
  /**
   * Callbacks in which this stream dropped audio, each counted once: a block not ready (silence played), a capture with
   * no room, or the host's under/overflow flag when it is about this stream (not JACK's graph-wide notice).
   */
  readonly xruns: number;
  readonly hostXruns: number;
  readonly inputDropped: number;
  readonly outputUnderflows: number;
  readonly outputDropped: number;
  /** Callbacks in which the stream itself dropped audio (a block not ready, a capture with no room), each counted once. */
  readonly ownXruns: number;
  /** Longest delay from the callback's wake-up to wait() returning, µs; how many exceeded a block. */
  readonly maxWakeUs: number;
  readonly slowWakes: number;
  /** Longest time between two callbacks, µs. */
  readonly maxCallbackGapUs: number;
  /** Troubled callbacks recorded so far (see events()). */
  readonly events: number;
}

/** One troubled callback. kinds: 1 PortAudio's under/overflow flag, 2 output ring dry, 4 capture dropped, 8 late block dropped, 16 began more than 1.5 periods after the one before. */
export interface RtStreamEvent {
  readonly index: number;
  /** Wall clock, ms since 1970. */
  readonly wallMs: number;
  readonly callback: number;
  readonly kinds: number;
  /** Since the callback before it, µs. */
  readonly gapUs: number;
  /** Frames queued for playback when it began. */
  readonly outputFill: number;
}

export interface RtStreamStats extends RtStreamCounters {
  readonly inputFill: number;
  readonly outputFill: number;
  readonly primeBlocks: number;
  /** Seconds, from Pa_GetStreamInfo. */
  readonly inputLatency: number;
  readonly outputLatency: number;
  readonly sampleRate: number;
}

/** A PortAudio stream whose callback exchanges whole blocks through preallocated lock-free rings. */
export interface RtStream {
  start(): void;
  wait(timeoutMs: number): number;
  read(block: Float32Array): boolean;
  write(block: Float32Array): boolean;
  stats(): RtStreamStats;
  promote(priority: number): boolean;
  /** Troubled callbacks recorded after the first `since`; allocates, for diagnosis only. */
  events(since: number): RtStreamEvent[];
  close(): void;
}

export interface NaudiodonModule {
  getDevices(): DeviceInfo[];
  getHostAPIs(): { defaultHostAPI: number; HostAPIs: HostInfo[] };
  AudioIO(options: { inOptions: AudioOptions; outOptions: AudioOptions }): IoStreamDuplex;
  AudioIO(options: { inOptions: AudioOptions }): IoStreamRead;
  AudioIO(options: { outOptions: AudioOptions }): IoStreamWrite;
  /** Patched in: ALSA's and JACK's error hooks quiet; with wholeStderr, fd 2 to /dev/null too. */
  setQuiet(quiet: boolean, wholeStderr?: boolean): void;
  RtStream: new (options: RtStreamOptions) => RtStream;
}

/** The system packages naudiodon builds against (Debian, Ubuntu, Raspberry Pi OS). */
export const AUDIO_DRIVER_PACKAGES = ['portaudio19-dev', 'build-essential', 'python3'] as const;

/** What to run, in order, to get the driver; npm retries a skipped optional dependency on the next install. */
export const ENABLE_SOUND_CARDS =
  `to use sound cards, install PortAudio (sudo apt-get install ${AUDIO_DRIVER_PACKAGES.join(' ')}), then run npm install`;

const require = createRequire(import.meta.url);
let naudiodon: NaudiodonModule | undefined;
let loadError: Error | undefined;

/**
 * True when npm installed the driver. Resolving does not load the native
 * module, so this is safe on any thread (naudiodon's native parts must be
 * loaded by one thread only, the audio worker).
 */
export function audioDriverInstalled(): boolean {
  try {
    require.resolve('naudiodon');
    return true;
  } catch {
    return false;
  }
}

/** Loads the native module on first use; a missing or broken build is a UserError that says how to fix it. */
export function loadNaudiodon(): NaudiodonModule {
  if (naudiodon) return naudiodon;
  if (!loadError) {
    try {
      // require keeps the load synchronous (device listing is sync) yet lazy.
      naudiodon = require('naudiodon') as NaudiodonModule;
      return naudiodon;
    } catch (e) {
      loadError = e instanceof Error ? e : new Error(String(e));
    }
  }
  const why = audioDriverInstalled() ? (loadError.message.split('\n')[0] ?? '') : 'it was not built: PortAudio was missing at npm install';
  throw new UserError(`the audio driver (naudiodon) could not be loaded (${why}); ${ENABLE_SOUND_CARDS}.`);
}
