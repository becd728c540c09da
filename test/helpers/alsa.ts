/**
 * ALSA test rig: a private ALSA configuration with a file-backed sound card,
 * so tests drive the real naudiodon → PortAudio → ALSA path without hardware.
 *
 *  - `picomp_test`: an `asym` PCM. Capture is a `file` plugin whose `infile`
 *    is the rig's input (raw interleaved float32 little-endian); playback is a
 *    `file` plugin writing the rig's output in the same format, slave `null`.
 *  - `picomp_null`: a plain `null` PCM (PortAudio hides ALSA's own "null").
 *
 * ALSA reads its configuration when PortAudio initialises, inside the process
 * that loads naudiodon, so naudiodon must run in a child process started with
 * `rig.env` (see `runInAlsaChild`). Facts measured on this rig (alsa-lib 1.2.8,
 * PortAudio 19.6): the `null` slave is not paced, the device runs as fast as
 * the callback is served; capture past the end of `infile` returns stale ring
 * buffer data, not silence, so the input is padded with silence; playback
 * starts with PortAudio's priming silence (a whole number of blocks).
 */
import { execFileSync, fork } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEST_DEVICE = 'picomp_test';
export const NULL_DEVICE = 'picomp_null';

const SYSTEM_ALSA_CONF = ['/usr/share/alsa/alsa.conf', '/usr/local/share/alsa/alsa.conf', '/etc/alsa/alsa.conf'];

export interface AlsaTestRigOptions {
  /** Interleaved samples the capture side delivers, in order. */
  readonly input?: Float32Array;
  readonly channels: number;
  /** Silence appended to the input so reads past its end are defined. Default 65536 frames. */
  readonly silencePaddingFrames?: number;
  /**
   * Capture from a named pipe instead of a file (`input` is then ignored):
   * ALSA reads it in the audio thread, so a writer that holds the pipe open
   * and stops writing stalls the device the way a failing interface does.
   * See test/fixtures/fifo-feeder.ts.
   */
  readonly inputFifo?: boolean;
}

export interface AlsaTestRig {
  readonly dir: string;
  readonly configPath: string;
  readonly inputPath: string;
  readonly outputPath: string;
  /** Environment for a child process that loads naudiodon. */
  readonly env: NodeJS.ProcessEnv;
  readonly deviceName: typeof TEST_DEVICE;
  readonly nullDeviceName: typeof NULL_DEVICE;
  /** Everything the playback side has written so far, interleaved. */
  readOutput(): Float32Array;
  cleanup(): void;
}

function systemAlsaConf(): string {
  const found = SYSTEM_ALSA_CONF.find((p) => existsSync(p));
  if (!found) throw new Error(`no system alsa.conf in ${SYSTEM_ALSA_CONF.join(', ')}; install libasound2-data`);
  return found;
}

function quoted(path: string): string {
  return `"${path.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function float32ToBuffer(samples: Float32Array): Buffer {
  const b = Buffer.alloc(samples.length * 4);
  for (let i = 0; i < samples.length; i++) b.writeFloatLE(samples[i]!, i * 4);
  return b;
}

export function bufferToFloat32(b: Buffer): Float32Array {
  const out = new Float32Array(Math.floor(b.length / 4));
  for (let i = 0; i < out.length; i++) out[i] = b.readFloatLE(i * 4);
  return out;
}

/**
 * Frames of silence before the first non-zero sample: on this rig, the
 * playback latency (PortAudio's priming) when the signal starts non-zero.
 * Returns -1 when everything is silent.
 */
export function leadingSilenceFrames(out: Float32Array, channels: number): number {
  const first = out.findIndex((v) => v !== 0);
  return first < 0 ? -1 : Math.floor(first / channels);
}

export function createAlsaTestRig(options: AlsaTestRigOptions): AlsaTestRig {
  const dir = mkdtempSync(join(tmpdir(), 'picomp-alsa-'));
  const configPath = join(dir, 'asound.conf');
  const inputPath = join(dir, 'input.f32');
  const outputPath = join(dir, 'output.f32');
  const padding = new Float32Array((options.silencePaddingFrames ?? 65536) * options.channels);
  const input = options.input ?? new Float32Array(0);
  if (options.inputFifo) execFileSync('mkfifo', [inputPath]);
  else writeFileSync(inputPath, Buffer.concat([float32ToBuffer(input), float32ToBuffer(padding)]));
  writeFileSync(outputPath, Buffer.alloc(0));

  // The system file first (it defines `null` and the hooks), then ours.
  const conf = `<${systemAlsaConf()}>

pcm.${TEST_DEVICE} {
  type asym
  playback.pcm {
    type file
    slave.pcm "null"
    file ${quoted(outputPath)}
    format "raw"
  }
  capture.pcm {
    type file
    slave.pcm "null"
    file "/dev/null"
    infile ${quoted(inputPath)}
    format "raw"
  }
  hint.description "picomp test rig: capture from a file, play into a file"
}

pcm.${NULL_DEVICE} {
  type null
  hint.description "picomp test rig: discards playback, captures silence"
}
`;
  writeFileSync(configPath, conf);

  return {
    dir,
    configPath,
    inputPath,
    outputPath,
    env: { ...process.env, ALSA_CONFIG_PATH: configPath, JACK_NO_START_SERVER: '1' },
    deviceName: TEST_DEVICE,
    nullDeviceName: NULL_DEVICE,
    readOutput: () => bufferToFloat32(readFileSync(outputPath)),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface ChildOutcome<R> {
  /** The first IPC message the child sent, if any. */
  readonly result: R | undefined;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** PortAudio and ALSA print to the native stdout/stderr; kept for failure messages. */
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Forks `modulePath` with the rig's ALSA environment (cwd = rig dir, so a
 * segfault-handler crash.log lands there), sends it `message` over IPC and
 * waits for it to exit.
 */
export function runInAlsaChild<R>(rig: AlsaTestRig, modulePath: string, message: unknown): Promise<ChildOutcome<R>> {
  return new Promise((resolve, reject) => {
    const child = fork(modulePath, [], { env: rig.env, cwd: rig.dir, silent: true });
    let stdout = '';
    let stderr = '';
    let result: R | undefined;
    let received = false;
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('message', (m) => {
      if (!received) {
        received = true;
        result = m as R;
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ result, code, signal, stdout, stderr }));
    child.send(message as object);
  });
}

/** The naudiodon driver script shipped with these helpers (see naudiodon-child.ts). */
export const NAUDIODON_CHILD = fileURLToPath(new URL('./naudiodon-child.js', import.meta.url));
