/**
 * `picomp render IN.wav OUT.wav`: the real-time chain driven by a file.
 * Output is latency-compensated (same length and alignment as the input)
 * and written to a temporary file that is renamed only on success.
 */
import { resolve } from 'node:path';
import { defaultParams, PARAM_NAMES, type ParamValues } from '../params/schema.js';
import { presetValues } from '../params/presets.js';
import { encodeParams } from '../params/vector.js';
import { loadPresets } from '../control/unit-state.js';
import { defaultStateDir } from '../control/state-dir.js';
import { writeFileAtomic } from '../control/atomic-file.js';
import { CompressorChain } from '../engine/chain.js';
import { HostSource } from '../engine/nodes.js';
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

  const summary = await renderFile({
    inPath, outPath, params, blockFrames,
    format: format as SampleFormat | undefined,
    plotPath, progress: process.stderr.isTTY === true,
  });
  const secs = (summary.frames / summary.sampleRate).toFixed(1);
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
}

/**
 * Frames per file read and write. The chain still runs in blocks of
 * `blockFrames`; bigger I/O blocks mean ~30× fewer thread-pool round trips
 * (1024-frame I/O left the process idle a third of the time).
 */
const IO_FRAMES = 65536;

/** Marks a promise as handled now (it is awaited later), so an early failure elsewhere does not leave an unhandled rejection. */
function later<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/** Renders a file; on any failure OUT is left as it was. */
export async function renderFile(opts: RenderOptions): Promise<RenderSummary> {
  const reader = await WavReader.open(opts.inPath);
  const { sampleRate, channels, frames: totalFrames } = reader.info;
  let writer: WavWriter | null = null;
  let pendingRead: Promise<number> = Promise.resolve(0);
  try {
    if (sampleRate < MIN_SAMPLE_RATE || sampleRate > MAX_SAMPLE_RATE) {
      throw new UserError(`${opts.inPath} is at ${sampleRate} Hz; picomp works at ${MIN_SAMPLE_RATE} to ${MAX_SAMPLE_RATE} Hz (resample it first, e.g. with sox).`);
    }
    const blockFrames = opts.blockFrames ?? 1024;
    const source = new HostSource(channels);
    const chain = new CompressorChain(source, channels);
    chain.prepare({ sampleRate, maxBlockFrames: blockFrames });
    chain.setParams(encodeParams(opts.params), true);
    const latency = chain.latencyFrames;
    // The plot pulls in vega and vega-lite (≈ 0.2 s to load): only when asked for.
    const plot = opts.plotPath ? await import('./plot.js') : null;
    const recorder: LevelTraceRecorder | null = plot ? new plot.LevelTraceRecorder(sampleRate, channels) : null;
    // The plot takes its levels from the meter bank (no second scan of the
    // samples), so with a plot the chain runs in blocks no longer than the
    // plot's 10 ms hop to keep that resolution.
    const step = recorder ? Math.min(blockFrames, Math.max(16, Math.round(sampleRate / 100))) : blockFrames;
    writer = await createWriter(opts.outPath, { sampleRate, channels, format: opts.format ?? reader.info.format });
    const progress = opts.progress ? new Progress('rendering', totalFrames) : null;

    const ioIn = [0, 1].map(() => Array.from({ length: channels }, () => new Float32Array(IO_FRAMES)));
    const ioOut = Array.from({ length: channels }, () => new Float32Array(IO_FRAMES));
    let toSkip = latency;      // output frames still owed to the lookahead delay
    let flushLeft = latency;   // silent frames still to push through at the end
    let read = 0;
    let deepestGr = 0;
    let outPeak = 0;
    const meters = chain.meters;
    let current = 0;
    let pendingWrite: Promise<void> | null = null;
    pendingRead = later(reader.read(ioIn[0]!, IO_FRAMES));
    for (;;) {
      const inBuf = ioIn[current]!;
      let n = await pendingRead;
      if (n > 0) {
        read += n;
      } else {
        if (flushLeft === 0) break;
        n = Math.min(IO_FRAMES, flushLeft);
        for (const b of inBuf) b.fill(0, 0, n);
        flushLeft -= n;
      }
      // Read the next block while this one is processed.
      current ^= 1;
      pendingRead = later(reader.read(ioIn[current]!, IO_FRAMES));

      let outFill = 0;
      for (let off = 0; off < n; off += step) {
        const m = Math.min(step, n - off);
        for (let c = 0; c < channels; c++) source.buffers[c]!.set(inBuf[c]!.subarray(off, off + m));
        meters.clear();
        const out = chain.process(m);
        let blockGr = 0, blockIn = 0, blockOut = 0;
        for (let c = 0; c < channels; c++) {
          blockGr = Math.min(blockGr, meters.grDb[c]!);
          blockIn = Math.max(blockIn, meters.inPeak[c]!);
          blockOut = Math.max(blockOut, meters.outPeak[c]!);
        }
        outPeak = Math.max(outPeak, blockOut);
        deepestGr = Math.min(deepestGr, blockGr);
        if (recorder) {
          recorder.pushPeaks(blockIn, blockOut, m);
          recorder.pushGainReduction(blockGr, m);
        }
        const skip = Math.min(toSkip, m);
        toSkip -= skip;
        for (let c = 0; c < channels; c++) ioOut[c]!.set(out[c]!.subarray(skip, m), outFill);
        outFill += m - skip;
      }
      // write() encodes ioOut before it returns, so ioOut may be refilled
      // while the bytes go out; only one write is in flight at a time.
      if (pendingWrite) await pendingWrite;
      pendingWrite = outFill > 0 ? later(writer.write(ioOut, outFill)) : null;
      progress?.update(read);
    }
    if (pendingWrite) await pendingWrite;
    progress?.done();
    if (opts.plotPath && plot && recorder) {
      const svg = await plot.renderPlotSvg(recorder.finish(), opts.params, describeParams(opts.params));
      await writeFileAtomic(opts.plotPath, svg);
    }
    await writer.finish();
    return { frames: read, sampleRate, channels, deepestGrDb: deepestGr, outputPeakDb: gainToDb(outPeak) };
  } catch (e) {
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

/** "threshold −18 dBFS, ratio 4:1, …": the plot's title. */
function describeParams(p: ParamValues): string {
  const shown = PARAM_NAMES.filter((n) => ['threshold', 'ratio', 'knee', 'attack', 'release', 'makeup'].includes(n));
  return shown.map((n) => (n === 'makeup' && p.auto_makeup ? `makeup ${p[n]} + auto` : `${n} ${p[n]}`)).join(', ');
}
