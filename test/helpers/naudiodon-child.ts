/**
 * Child-process driver for tests: runs one job against naudiodon through
 * src/io/audio-device.ts under the ALSA environment it was forked with
 * (see alsa.ts), replies with one IPC message and exits.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import {
  findDevice,
  hasAnyAudioDevice,
  listDevices,
  openDuplex,
  openInput,
  openOutput,
  type AudioStream,
  type CloseResult,
  type DeviceInfo,
  type StreamOptions,
} from '../../src/io/audio-device.js';
import { isUserError } from '../../src/errors.js';

export interface StreamJob {
  readonly device: string;
  readonly channels: number;
  readonly sampleRate: number;
  readonly framesPerBlock: number;
}

export type Job =
  | { readonly kind: 'list' }
  | { readonly kind: 'find'; readonly spec: string; readonly direction: 'input' | 'output' }
  | ({ readonly kind: 'open'; readonly mode: 'duplex' | 'input' | 'output' } & StreamJob)
  /** Plays the raw float32 file `sourcePath` to the device, then closes. */
  | ({ readonly kind: 'play'; readonly sourcePath: string } & StreamJob)
  /** Captures `blocks` blocks into the raw float32 file `capturePath`. */
  | ({ readonly kind: 'capture'; readonly blocks: number; readonly capturePath: string } & StreamJob)
  /** Writes every captured block straight back out, for `blocks` blocks; records what it captured. */
  | ({ readonly kind: 'duplex'; readonly blocks: number; readonly capturePath: string } & StreamJob);

export type Reply =
  | {
      readonly ok: true;
      readonly devices?: DeviceInfo[];
      readonly device?: DeviceInfo;
      readonly anyDevice?: boolean;
      readonly blocks?: number;
      /** Distinct byte lengths of the 'data' chunks seen. */
      readonly chunkBytes?: number[];
      readonly bytesPerBlock?: number;
      readonly close?: CloseResult;
      readonly xruns?: number;
    }
  | { readonly ok: false; readonly userError: boolean; readonly error: string };

function streamOptions(job: StreamJob, direction: 'input' | 'output'): StreamOptions {
  return {
    deviceId: findDevice(job.device, direction).index,
    channels: job.channels,
    sampleRate: job.sampleRate,
    framesPerBlock: job.framesPerBlock,
    sampleFormat: 'float32',
  };
}

function play(job: Extract<Job, { kind: 'play' }>): Promise<Reply> {
  const out = openOutput(streamOptions(job, 'output'));
  const source = readFileSync(job.sourcePath);
  let offset = 0;
  let blocks = 0;
  return new Promise((resolve) => {
    const pump = (): void => {
      while (offset < source.length) {
        const chunk = source.subarray(offset, offset + out.bytesPerBlock);
        offset += chunk.length;
        blocks++;
        if (!out.stream.write(chunk)) {
          out.stream.once('drain', pump);
          return;
        }
      }
      void out.close().then((close) => resolve({ ok: true, blocks, bytesPerBlock: out.bytesPerBlock, close }));
    };
    out.start();
    pump();
  });
}

function record(
  s: AudioStream<NodeJS.ReadableStream>,
  blocks: number,
  capturePath: string,
  onBlock: (chunk: Buffer) => void,
): Promise<Reply> {
  const captured: Buffer[] = [];
  const sizes = new Set<number>();
  return new Promise((resolve) => {
    s.stream.on('data', (chunk: Buffer) => {
      if (captured.length >= blocks) return;
      sizes.add(chunk.length);
      captured.push(chunk);
      onBlock(chunk);
      if (captured.length === blocks) {
        const xruns = s.xruns();
        void s.close().then((close) => {
          writeFileSync(capturePath, Buffer.concat(captured));
          resolve({ ok: true, blocks: captured.length, chunkBytes: [...sizes], bytesPerBlock: s.bytesPerBlock, close, xruns });
        });
      }
    });
    s.start();
  });
}

async function run(job: Job): Promise<Reply> {
  switch (job.kind) {
    case 'list':
      return { ok: true, devices: listDevices(), anyDevice: hasAnyAudioDevice() };
    case 'find':
      return { ok: true, device: findDevice(job.spec, job.direction) };
    case 'open': {
      const s =
        job.mode === 'duplex'
          ? openDuplex(streamOptions(job, 'input'))
          : job.mode === 'input'
            ? openInput(streamOptions(job, 'input'))
            : openOutput(streamOptions(job, 'output'));
      return { ok: true, bytesPerBlock: s.bytesPerBlock, close: await s.close() };
    }
    case 'play':
      return play(job);
    case 'capture':
      return record(openInput(streamOptions(job, 'input')), job.blocks, job.capturePath, () => undefined);
    case 'duplex': {
      const d = openDuplex(streamOptions(job, 'input'));
      return record(d, job.blocks, job.capturePath, (chunk) => d.stream.write(chunk));
    }
  }
}

process.once('message', (job: Job) => {
  run(job)
    .catch((e: unknown): Reply => ({
      ok: false,
      userError: isUserError(e),
      error: e instanceof Error ? e.message : String(e),
    }))
    .then((reply) => process.send?.(reply, () => process.exit(0)));
});
