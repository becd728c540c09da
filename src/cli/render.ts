/**
 * `picomp render IN.wav OUT.wav`: the real-time chain driven by a file.
 * Output is latency-compensated (same length and alignment as the input)
 * and written to a temporary file that is renamed only on success.
 */
import { dirname, extname, resolve } from 'node:path';
import { access, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import { defaultParams, PARAM_NAMES, type ParamValues } from '../params/schema.js';
import { presetValues } from '../params/presets.js';
import { encodeParams } from '../params/vector.js';
import { loadPresets } from '../unit/unit-state.js';
import { defaultStateDir } from '../unit/state-dir.js';
import { refuseSpecialFile, removeStaleTemps, writeErrorSentence, writeFileAtomic } from '../unit/atomic-file.js';
import { META_DEEPEST_GR, META_PER_STEP, META_STEPS, RenderPipeline } from '../engine/render-pipeline.js';
import { blockPeak } from '../dsp/meters.js';
import { WavReader } from '../io/wav-reader.js';
import { WavWriter } from '../io/wav-writer.js';
import { SAMPLE_FORMATS, type SampleFormat } from '../io/wav-format.js';
import type { LevelTraceRecorder } from './plot.js';
import { gainToDb, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE } from '../dsp/kernel.js';
import { UserError } from '../errors.js';
import { createLogger } from '../log.js';
import { parseCommandArgs, intFlag } from './args.js';
import { collectParamFlags, paramFlagsHelp, paramOptions } from './param-flags.js';
import { Progress } from './progress.js';

const FORMATS = SAMPLE_FORMATS;

export const renderHelp = `Usage: picomp render IN.wav OUT.wav [parameters] [options]

Processes a WAV file with exactly the DSP the device runs in real time.

Options:
  --preset NAME       start from a preset (see picomp presets), flags override it
  --plot FILE.svg     draw input/output level, gain reduction and the transfer curve
  --format F          output sample format: ${FORMATS.join(', ')} (default: as the input)
  --block N           frames per processing block, 16..8192 (default 1024)
  --state-dir DIR     where user presets live (default ${defaultStateDir()})
  -h, --help          show this help

Parameters (every one optional, defaults as in picomp params):
${paramFlagsHelp()}

Example:
  picomp render drums.wav drums-squashed.wav --threshold -30 --ratio 8 --plot drums.svg`;

export interface RenderSummary {
  frames: number;
  sampleRate: number;
  channels: number;
  deepestGrDb: number;
  outputPeakDb: number;
  /** The input's data ended before its header said (rendered what was there). */
  truncated: boolean;
}

export async function runRender(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('render', argv, {
    ...paramOptions(),
    preset: { type: 'string' }, plot: { type: 'string' }, format: { type: 'string' },
    block: { type: 'string' }, 'state-dir': { type: 'string' },
  });
  if (values.help) { process.stdout.write(renderHelp + '\n'); return 0; }
  if (positionals.length !== 2) throw new UserError('render needs an input and an output file: picomp render IN.wav OUT.wav.');
  const [inPath, outPath] = positionals as [string, string];
  if (resolve(inPath) === resolve(outPath)) throw new UserError('the output file must differ from the input file, or the input would be lost.');
  refuseNonWavName(outPath, 'out');
  refuseNonWavName(inPath, 'in');
  await refuseStreamInput(inPath);
  const format = values.format as string | undefined;
  if (format !== undefined && !FORMATS.includes(format as SampleFormat)) {
    throw new UserError(`--format must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(format)}.`);
  }
  const blockFrames = intFlag('block', values.block, 16, 8192) ?? 1024;
  const flags = collectParamFlags(values);
  const log = createLogger('render');
  const stateDir = (values['state-dir'] as string | undefined) ?? defaultStateDir();
  let params: ParamValues = defaultParams();
  if (values.preset !== undefined) {
    const presets = await loadPresets(stateDir, log);
    const preset = presets.get(values.preset as string);
    if (!preset) throw new UserError(`there is no preset "${values.preset}"; picomp presets lists them.`);
    params = presetValues(preset);
  }
  params = { ...params, ...flags };
  const plotPath = values.plot as string | undefined;
  if (plotPath !== undefined) {
    if (!/\.svg$/i.test(plotPath)) throw new UserError(`--plot draws SVG; give a file name ending in .svg (such as plot.svg), not ${plotPath}.`);
    await checkWritableTarget(plotPath, '--plot', 'plot.svg');
  }
  await checkWritableTarget(outPath, 'OUT', 'out.wav');
  // Leftovers of an earlier render that was killed (kill -9, power cut).
  await removeStaleTemps(outPath);
  if (plotPath !== undefined) await removeStaleTemps(plotPath);

  // Ctrl-C (or a service stop) ends the render cleanly: the temporary file
  // is removed and OUT stays as it was.
  const interrupt = new AbortController();
  const onSignal = (): void => interrupt.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let summary: RenderSummary;
  try {
    summary = await renderFile({
      inPath, outPath, params, blockFrames,
      format: format as SampleFormat | undefined,
      plotPath, progress: process.stderr.isTTY === true, signal: interrupt.signal,
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const secs = (summary.frames / summary.sampleRate).toFixed(1);
  if (summary.truncated) {
    process.stderr.write(`picomp render: warning: ${inPath} ends before its header says it should (a recording cut off?); rendered the ${secs} s that are there.\n`);
  }
  process.stderr.write(
    `picomp render: ${secs} s of ${summary.channels}-channel audio at ${summary.sampleRate} Hz → ${outPath}; ` +
    `deepest gain reduction ${summary.deepestGrDb.toFixed(1)} dB, output peak ${summary.outputPeakDb.toFixed(1)} dBFS` +
    (plotPath ? `; plot in ${plotPath}` : '') + '.\n',
  );
  return 0;
}

export interface RenderOptions {
  inPath: string;
  outPath: string;
  params: ParamValues;
  blockFrames?: number;
  format?: SampleFormat | undefined;
  plotPath?: string | undefined;
  progress?: boolean;
  /** Frames per ring slot and file read/write (default 65536); for tests and tuning. */
  slotFrames?: number;
  /** Aborting it stops the render between slots; OUT is left as it was. */
  signal?: AbortSignal;
}

/**
 * Frames per ring slot, which is also the file read and write size: big
 * enough that the thread-pool round trips and the per-slot handshakes are
 * few (1024-frame I/O left the process idle a third of the time), small
 * enough that a slot stays in the caches between the threads.
 */
const SLOT_FRAMES = 65536;
/**
 * Slots in the ring: the worker processes one while the next waits for it,
 * and the main thread encodes the previous one and reads the one after.
 */
const SLOTS = 3;

/** Marks a promise as handled now (it is awaited later), so an early failure elsewhere does not leave an unhandled rejection. */
function later<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/**
 * Renders a file; on any failure OUT is left as it was.
 *
 * Two threads, as on the device: a worker runs the chain
 * (src/engine/render-worker.ts) while this thread reads and decodes the
 * next slots and encodes and writes the finished ones; see
 * src/engine/render-pipeline.ts. If the worker cannot start, the render
 * fails with that reason (a broken install, not something to hide behind
 * a slower single-threaded path).
 */
export async function renderFile(opts: RenderOptions): Promise<RenderSummary> {
  const reader = await WavReader.open(opts.inPath);
  const { sampleRate, channels, frames: totalFrames } = reader.info;
  let writer: WavWriter | null = null;
  let pipeline: RenderPipeline | null = null;
  let pendingRead: Promise<number> = Promise.resolve(0);
  let pendingWrite: Promise<void> | null = null;
  try {
    if (sampleRate < MIN_SAMPLE_RATE || sampleRate > MAX_SAMPLE_RATE) {
      throw new UserError(`${opts.inPath} is at ${sampleRate} Hz; picomp works at ${MIN_SAMPLE_RATE} to ${MAX_SAMPLE_RATE} Hz (resample it first, e.g. with sox).`);
    }
    const blockFrames = opts.blockFrames ?? 1024;
    const slotFrames = opts.slotFrames ?? SLOT_FRAMES;
    const slots = SLOTS;
    // The plot takes its levels from the meter bank (no second scan of the
    // samples), so with a plot the chain runs in blocks no longer than the
    // plot's 10 ms hop to keep that resolution.
    const step = opts.plotPath ? Math.min(blockFrames, Math.max(16, Math.round(sampleRate / 100))) : blockFrames;
    writer = await createWriter(opts.outPath, { sampleRate, channels, format: opts.format ?? reader.info.format });
    const out = writer;
    // The worker builds the chain while the plot module loads and the first slots are read.
    pipeline = RenderPipeline.start({ slots, channels, slotFrames, sampleRate, blockFrames, step, params: encodeParams(opts.params) });
    const pipe = pipeline;
    const ring = pipe.ring;
    // The plot pulls in vega and vega-lite (≈ 0.2 s to load): only when asked for.
    const plot = opts.plotPath ? await import('./plot.js') : null;
    const recorder: LevelTraceRecorder | null = plot ? new plot.LevelTraceRecorder(sampleRate, channels) : null;
    const progress = opts.progress ? new Progress('rendering', totalFrames) : null;

    let toSkip = -1;      // output frames still owed to the lookahead delay (-1: latency not known yet)
    let flushLeft = -1;   // silent frames still to push through at the end
    let read = 0;
    let deepestGr = 0;
    let outPeak = 0;
    let submitted = 0;    // slots handed to the worker so far (slot = count % slots)
    let collected = 0;    // slots whose output has been written
    let inputDone = false;

    /** Waits for the oldest slot's output, feeds the plot, and starts writing it. */
    const collect = async (): Promise<void> => {
      const s = collected % slots;
      await pipe.output(s);
      const n = ring.frames[s]!;
      const meta = ring.meta[s]!;
      const ins = ring.inputs[s]!, outs = ring.outputs[s]!;
      deepestGr = Math.min(deepestGr, meta[META_DEEPEST_GR]!);
      // Levels are measured here, on this thread, while the worker runs the
      // next slot's DSP: the same figures the chain's meter taps would give.
      if (recorder) {
        for (let off = 0, k = META_STEPS; off < n; off += step, k += META_PER_STEP) {
          const m = Math.min(step, n - off);
          const stepOut = blockPeak(outs, off, off + m);
          outPeak = Math.max(outPeak, stepOut);
          recorder.pushPeaks(blockPeak(ins, off, off + m), stepOut, m);
          recorder.pushGainReduction(meta[k]!, m);
        }
      } else {
        outPeak = Math.max(outPeak, blockPeak(outs, 0, n));
      }
      if (toSkip < 0) toSkip = await pipe.latency;
      const skip = Math.min(toSkip, n);
      toSkip -= skip;
      // One write in flight at a time; write() encodes the slot before it
      // returns, so the slot is free again as soon as it has been called.
      if (pendingWrite) await pendingWrite;
      pendingWrite = n > skip ? later(out.write(skip === 0 ? outs : outs.map((o) => o.subarray(skip)), n - skip)) : null;
      pipe.release(s);
      collected++;
    };

    pendingRead = later(reader.read(ring.inputs[0]!, slotFrames));
    for (;;) {
      if (opts.signal?.aborted) throw new UserError(`render interrupted; ${opts.outPath} was not written.`);
      if (!inputDone) {
        const s = submitted % slots;
        let n = await pendingRead;
        if (n > 0) {
          read += n;
          progress?.update(read);
        } else {
          if (flushLeft < 0) flushLeft = await pipe.latency;
          n = Math.min(slotFrames, flushLeft);
          flushLeft -= n;
          if (n === 0) inputDone = true;
          else for (const b of ring.inputs[s]!) b.fill(0, 0, n);
        }
        if (n > 0) { pipe.submit(s, n, flushLeft >= 0); submitted++; }
      }
      if (inputDone && collected === submitted) break;
      // Collect only when the ring is full (or at the end): the worker keeps
      // the other slots to chew on meanwhile.
      if (inputDone || submitted - collected === slots) await collect();
      if (!inputDone) pendingRead = later(reader.read(ring.inputs[submitted % slots]!, slotFrames));
    }
    if (pendingWrite) await pendingWrite;
    pendingWrite = null;
    // The worker exits while the file is finished.
    const stopped = later(pipe.stop());
    progress?.done();
    if (opts.plotPath && plot && recorder) {
      const svg = await plot.renderPlotSvg(recorder.finish(), opts.params, describeParams(opts.params));
      await writeFileAtomic(opts.plotPath, svg, { createDir: false }).catch((e: unknown) => { throw writeErrorSentence(opts.plotPath!, e); });
    }
    // Checked again at the end: something may have put a device or FIFO at OUT meanwhile.
    await refuseSpecialFile(opts.outPath, `OUT ${opts.outPath}`);
    await writer.finish();
    await stopped;
    return { frames: read, sampleRate, channels, deepestGrDb: deepestGr, outputPeakDb: gainToDb(outPeak), truncated: reader.truncated };
  } catch (e) {
    await pipeline?.kill();
    // Let a write in flight land before the temp file is closed and removed.
    await (pendingWrite as Promise<void> | null)?.catch(() => undefined);
    await writer?.abort().catch(() => undefined);
    throw e;
  } finally {
    // A read may still be in flight after a failure; let it land before closing.
    await pendingRead.catch(() => undefined);
    await reader.close();
  }
}

async function createWriter(path: string, opts: { sampleRate: number; channels: number; format: SampleFormat }): Promise<WavWriter> {
  try {
    return await WavWriter.create(path, opts);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`cannot write ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'its folder does not exist' : (e as Error).message}.`);
  }
}

/**
 * Refuses, before any work, a file path whose folder does not exist or
 * cannot be written, or that names a folder, a device or a FIFO: finding
 * out after a long render would waste it, and renaming the finished file
 * over /dev/null (as root) would destroy it.
 */
async function checkWritableTarget(path: string, flag: string, example: string): Promise<void> {
  const folder = dirname(resolve(path));
  const kind = await stat(folder).then((s) => (s.isDirectory() ? 'dir' : 'file'), () => 'missing');
  if (kind !== 'dir') throw new UserError(`${flag} ${path}: the folder ${folder} does not exist.`);
  if (await stat(path).then((s) => s.isDirectory(), () => false)) throw new UserError(`${flag} ${path} is a folder; give a file name such as ${example}.`);
  await refuseSpecialFile(path, `${flag} ${path}`);
  try {
    await access(folder, constants.W_OK);
  } catch (e) {
    throw writeErrorSentence(path, e);
  }
}

/** picomp reads and writes WAV only; other extensions point to ffmpeg, which converts both ways. */
function refuseNonWavName(path: string, side: 'in' | 'out'): void {
  const ext = extname(path).toLowerCase();
  if (ext === '' || ext === '.wav' || ext === '.wave') return;
  const wav = path.slice(0, -ext.length) + '.wav';
  throw new UserError(side === 'out'
    ? `picomp render writes WAV only, not ${ext}; render to ${wav} and convert it, e.g. ffmpeg -i ${wav} ${path}.`
    : `picomp render reads WAV only, not ${ext}; convert it first, e.g. ffmpeg -i ${path} ${wav}.`);
}

/**
 * Refuses an input that is not a regular file. A FIFO would block the
 * open in a libuv thread where no signal reaches it (not even exit could
 * finish), and the reader needs to seek anyway.
 */
async function refuseStreamInput(inPath: string): Promise<void> {
  const s = await stat(inPath).catch(() => null);
  if (!s || s.isFile() || s.isDirectory()) return; // missing files and folders get the reader's own sentence
  const kind = s.isFIFO() ? 'a named pipe (FIFO)' : s.isCharacterDevice() || s.isBlockDevice() ? 'a device' : 'not a regular file';
  throw new UserError(`${inPath} is ${kind}; picomp render reads WAV files only, so save the stream to a file first.`);
}

/** "threshold −18 dBFS, ratio 4:1, …": the plot's title. */
function describeParams(p: ParamValues): string {
  const shown = PARAM_NAMES.filter((n) => ['threshold', 'ratio', 'knee', 'attack', 'release', 'makeup'].includes(n));
  return shown.map((n) => (n === 'makeup' && p.auto_makeup ? `makeup ${p[n]} + auto` : `${n} ${p[n]}`)).join(', ');
}
