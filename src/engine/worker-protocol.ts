/**
 * What the user layer and the audio worker say to each other. Messages
 * flow only at start, stop and on device trouble, never per block: the
 * steady state talks through the shared buffers alone.
 */
/** 'auto': the default device when there is one, else the demo source (and null output). */
export type InputSpec =
  | { kind: 'auto' }
  | { kind: 'demo' }
  | { kind: 'file'; path: string }
  | { kind: 'device'; device: string | null };

export type OutputSpec = { kind: 'auto' } | { kind: 'null' } | { kind: 'device'; device: string | null };

/** The audio setup one unit runs: shared by the start options, the engine and the worker. */
export interface AudioSetup {
  input: InputSpec;
  output: OutputSpec;
  sampleRate: number;
  blockFrames: number;
  channels: number;
  /** Blocks queued between a device and the chain (docs/realtime.md); the default when absent. */
  queueBlocks?: number;
}

/** Just the audio setup of a larger options object (so no other field travels to the worker). */
export function audioSetup(o: AudioSetup): AudioSetup {
  return {
    input: o.input, output: o.output, sampleRate: o.sampleRate, blockFrames: o.blockFrames, channels: o.channels,
    ...(o.queueBlocks !== undefined ? { queueBlocks: o.queueBlocks } : {}),
  };
}

export interface WorkerConfig extends AudioSetup {
  paramsBuffer: SharedArrayBuffer;
  metersBuffer: SharedArrayBuffer;
  /** A WorkerControl's word: raised to stop the worker (see worker-control.ts). */
  controlBuffer: SharedArrayBuffer;
}

/**
 * Where a device-driven unit's latency comes from, in frames: picomp's
 * playback queue, the chain's lookahead (at start; it follows the
 * parameter), and the device's own as PortAudio reports it.
 */
export interface LatencyBreakdown {
  queueFrames: number;
  lookaheadFrames: number;
  deviceInputFrames: number;
  deviceOutputFrames: number;
}

export interface RunningInfo {
  /** What actually runs, in words: "demo → null", "USB Audio → USB Audio". */
  input: string;
  output: string;
  sampleRate: number;
  blockFrames: number;
  channels: number;
  /** Capture to playback without the lookahead, in ms: picomp's queue plus the device's input and output latency as PortAudio reports them; 0 when clock-paced. */
  deviceLatencyMs: number;
  /** Why the engine runs as it does (e.g. the no-device fallback), or null. */
  note: string | null;
  /** On a device: what the latency is made of. */
  latency?: LatencyBreakdown;
}

export type FromWorker =
  | { type: 'ready'; info: RunningInfo }
  | { type: 'device-error'; message: string }
  | { type: 'fatal'; message: string; userError: boolean }
  | { type: 'stopped' };

export type ToWorker = { type: 'stop' };
