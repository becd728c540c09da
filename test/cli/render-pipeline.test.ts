/**
 * `renderFile()` runs the chain in a worker with the file I/O pipelined
 * around it (src/engine/render-pipeline.ts). These tests hold it to a
 * single-threaded reference — the chain run directly over the same input,
 * with the same latency compensation — sample for sample, across slot
 * boundaries, and check that failures mid-render leave nothing behind and
 * no worker running.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderFile, type RenderSummary } from '../../src/cli/render.js';
import { LevelTraceRecorder, type LevelTrace } from '../../src/cli/plot.js';
import { CompressorChain } from '../../src/engine/chain.js';
import { HostSource } from '../../src/engine/nodes.js';
import { encodeParams } from '../../src/params/vector.js';
import { defaultParams, type ParamValues } from '../../src/params/schema.js';
import { gainToDb } from '../../src/dsp/kernel.js';
import { readWavFile } from '../../src/io/wav-reader.js';
import { writeWavFile } from '../../src/io/wav-writer.js';

const SR = 48000;
const SLOT = 4096;
const BLOCK = 1024;

/** Music-ish test material: bursts over a quiet bed, different per channel, a few full-scale peaks. */
function material(frames: number, channels: number): Float32Array[] {
  let seed = 12345 + channels;
  const rnd = (): number => { seed = (seed * 1103515245 + 12345) >>> 0; return seed / 2 ** 32 - 0.5; };
  return Array.from({ length: channels }, (_, c) => {
    const x = new Float32Array(frames);
    for (let i = 0; i < frames; i++) {
      const loud = Math.floor(i / 3000) % 3 === 1;
      x[i] = (loud ? 0.8 : 0.03) * Math.sin((2 * Math.PI * (110 + 55 * c) * i) / SR) + (loud ? 0.1 : 0.01) * rnd();
    }
    if (frames > 10) x[frames >> 1] = c % 2 ? -1 : 1;
    return x;
  });
}

interface Reference { channels: Float32Array[]; summary: RenderSummary; trace: LevelTrace | null }

/**
 * What the single-threaded render did: the chain over the input in slot-sized
 * blocks (steps of `blockFrames`, or 10 ms with a plot), then `latency`
 * silent frames with the detector's level held, the first `latency` output
 * frames dropped.
 */
function reference(input: Float32Array[], params: ParamValues, opts: { plot: boolean; slotFrames: number; blockFrames: number }): Reference {
  const channels = input.length;
  const frames = input[0]!.length;
  const source = new HostSource(channels);
  const chain = new CompressorChain(source, channels);
  chain.prepare({ sampleRate: SR, maxBlockFrames: opts.blockFrames });
  chain.setParams(encodeParams(params), true);
  const latency = chain.latencyFrames;
  const step = opts.plot ? Math.min(opts.blockFrames, Math.max(16, Math.round(SR / 100))) : opts.blockFrames;
  const recorder = opts.plot ? new LevelTraceRecorder(SR, channels) : null;
  const out = Array.from({ length: channels }, () => new Float32Array(frames));
  let written = 0, toSkip = latency, deepestGr = 0, outPeak = 0;
  const feed = (block: Float32Array[], n: number): void => {
    for (let off = 0; off < n; off += step) {
      const m = Math.min(step, n - off);
      for (let c = 0; c < channels; c++) source.buffers[c]!.set(block[c]!.subarray(off, off + m));
      chain.meters.clear();
      const y = chain.process(m);
      let gr = 0, inPk = 0, outPk = 0;
      for (let c = 0; c < channels; c++) {
        gr = Math.min(gr, chain.meters.grDb[c]!);
        inPk = Math.max(inPk, chain.meters.inPeak[c]!);
        outPk = Math.max(outPk, chain.meters.outPeak[c]!);
      }
      deepestGr = Math.min(deepestGr, gr);
      outPeak = Math.max(outPeak, outPk);
      recorder?.pushPeaks(inPk, outPk, m);
      recorder?.pushGainReduction(gr, m);
      const skip = Math.min(toSkip, m);
      toSkip -= skip;
      for (let c = 0; c < channels; c++) out[c]!.set(y[c]!.subarray(skip, m), written);
      written += m - skip;
    }
  };
  for (let pos = 0; pos < frames; pos += opts.slotFrames) {
    const n = Math.min(opts.slotFrames, frames - pos);
    feed(input.map((x) => x.subarray(pos, pos + n)), n);
  }
  const silence = Array.from({ length: channels }, () => new Float32Array(opts.slotFrames));
  // The flush is not signal: the detector holds its level through it.
  chain.strip.holdLevel();
  for (let left = latency; left > 0; left -= opts.slotFrames) feed(silence, Math.min(opts.slotFrames, left));
  assert.equal(written, frames);
  return {
    channels: out,
    summary: { frames, sampleRate: SR, channels, deepestGrDb: deepestGr, outputPeakDb: gainToDb(outPeak), truncated: false },
    trace: recorder ? recorder.finish() : null,
  };
}

describe('render pipeline (worker + shared ring)', function () {
  this.timeout(120000);
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'picomp-render-pipeline-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  const lengths: [string, number][] = [
    ['1 frame', 1], ['slot − 1', SLOT - 1], ['one slot', SLOT], ['slot + 1', SLOT + 1], ['3·slot + 17', 3 * SLOT + 17],
  ];
  const setups: [string, ParamValues][] = [
    ['default settings', { ...defaultParams(), threshold: -24, ratio: 6, attack: 1 }],
    ['lookahead 5 ms, RMS, HPF', { ...defaultParams(), threshold: -24, ratio: 6, lookahead: 5, detector: 'rms', sidechain_hpf: 120 }],
  ];
  for (const channels of [1, 2, 6]) {
    for (const [lengthName, frames] of lengths) {
      for (const [setupName, params] of setups) {
        for (const plot of channels === 1 ? [false] : [false, true]) {
          it(`equals the single-threaded chain: ${channels} ch, ${lengthName}, ${setupName}${plot ? ', with plot' : ''}`, async () => {
            const input = material(frames, channels);
            const inPath = join(dir, `in-${channels}-${frames}.wav`);
            await writeWavFile(inPath, { sampleRate: SR, format: 'float32', channels: input });
            const outPath = join(dir, `out-${channels}-${frames}.wav`);
            const plotPath = plot ? join(dir, `plot-${channels}-${frames}.svg`) : undefined;
            // Catch the trace the render hands to the plot.
            let trace: LevelTrace | null = null;
            const finish = LevelTraceRecorder.prototype.finish;
            LevelTraceRecorder.prototype.finish = function (this: LevelTraceRecorder): LevelTrace { trace = finish.call(this); return trace; };
            let summary: RenderSummary;
            try {
              summary = await renderFile({ inPath, outPath, params, blockFrames: BLOCK, slotFrames: SLOT, plotPath });
            } finally {
              LevelTraceRecorder.prototype.finish = finish;
            }
            const ref = reference(input, params, { plot, slotFrames: SLOT, blockFrames: BLOCK });
            const got = await readWavFile(outPath);
            assert.equal(got.info.frames, frames);
            assert.equal(got.info.channels, channels);
            for (let c = 0; c < channels; c++) {
              const a = got.channels[c]!, b = ref.channels[c]!;
              for (let i = 0; i < frames; i++) {
                if (!Object.is(a[i], b[i])) assert.fail(`channel ${c} frame ${i}: ${a[i]} ≠ ${b[i]}`);
              }
            }
            assert.deepEqual(summary, ref.summary);
            if (plot) {
              assert.ok(trace, 'the render made a plot trace');
              assert.deepEqual(trace, ref.trace);
              assert.match(await readFile(plotPath!, 'utf8'), /^<svg/);
            }
            assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.tmp')), []);
          });
        }
      }
    }
  }

  it('slots shorter than the lookahead: the skip and the flush span several slots', async () => {
    const params = { ...defaultParams(), threshold: -30, lookahead: 5 };
    const input = material(1000, 2);
    await writeWavFile(join(dir, 'tiny.wav'), { sampleRate: SR, format: 'float32', channels: input });
    const summary = await renderFile({ inPath: join(dir, 'tiny.wav'), outPath: join(dir, 'tiny-out.wav'), params, blockFrames: 64, slotFrames: 100 });
    const ref = reference(input, params, { plot: false, slotFrames: 100, blockFrames: 64 });
    const got = await readWavFile(join(dir, 'tiny-out.wav'));
    for (let c = 0; c < 2; c++) assert.deepEqual(got.channels[c], ref.channels[c]);
    assert.deepEqual(summary, ref.summary);
  });

  it('a bypassed render at the default slot size equals its input across several slots', async () => {
    const input = material(3 * 65536 + 999, 2);
    await writeWavFile(join(dir, 'long.wav'), { sampleRate: SR, format: 'float32', channels: input });
    await renderFile({ inPath: join(dir, 'long.wav'), outPath: join(dir, 'long-out.wav'), params: { ...defaultParams(), bypass: true, lookahead: 3 } });
    const got = await readWavFile(join(dir, 'long-out.wav'));
    for (let c = 0; c < 2; c++) assert.deepEqual(got.channels[c], input[c]);
  });

  describe('failures mid-render', () => {
    const dist = new URL('../../src/', import.meta.url);
    /**
     * Runs a render in a child process with one thing sabotaged, prints
     * what became of it, and lets the process end by itself: a worker
     * left running would keep it alive until the test's timeout.
     */
    const script = (sabotage: string): string => `
      import { mkdirSync, readdirSync, existsSync, readFileSync, rmSync } from 'node:fs';
      import { join } from 'node:path';
      import { renderFile } from ${JSON.stringify(new URL('cli/render.js', dist).href)};
      import { RenderPipeline } from ${JSON.stringify(new URL('engine/render-pipeline.js', dist).href)};
      import { WavReader } from ${JSON.stringify(new URL('io/wav-reader.js', dist).href)};
      import { WavWriter } from ${JSON.stringify(new URL('io/wav-writer.js', dist).href)};
      import { defaultParams } from ${JSON.stringify(new URL('params/schema.js', dist).href)};
      const [inPath, outDir] = process.argv.slice(2);
      const outPath = join(outDir, 'out.wav');
      void RenderPipeline, WavReader, WavWriter, mkdirSync, rmSync;
      ${sabotage}
      let error = null;
      try {
        await renderFile({ inPath, outPath, params: { ...defaultParams(), lookahead: 2 }, slotFrames: 4096 });
      } catch (e) { error = String(e && e.message); }
      const left = existsSync(outDir) ? readdirSync(outDir) : null;
      const out = existsSync(outPath) ? readFileSync(outPath, 'utf8') : null;
      process.stdout.write(JSON.stringify({ error, left, out }));
    `;
    const run = async (name: string, sabotage: string, prepare?: (outDir: string) => Promise<void>): Promise<{ error: string | null; left: string[] | null; out: string | null; ms: number }> => {
      const file = join(dir, `${name}.mjs`);
      await writeFile(file, script(sabotage));
      const outDir = join(dir, `${name}-out`);
      await rm(outDir, { recursive: true, force: true });
      await import('node:fs/promises').then((fs) => fs.mkdir(outDir));
      await prepare?.(outDir);
      const t0 = Date.now();
      const stdout = await new Promise<string>((resolve, reject) => {
        execFile(process.execPath, [file, join(dir, 'fail-in.wav'), outDir], { timeout: 30000 }, (err, so, se) => {
          if (err) reject(new Error(`${name}: ${err.killed ? 'did not exit (a worker left running?)' : err.message}\n${se}`));
          else resolve(so);
        });
      });
      return { ...JSON.parse(stdout), ms: Date.now() - t0 };
    };
    before(async () => {
      await writeWavFile(join(dir, 'fail-in.wav'), { sampleRate: SR, format: 'float32', channels: material(20 * 4096 + 5, 2) });
    });

    it('a read error mid-file: the error surfaces, OUT stays as it was, no temp file, the worker ends', async () => {
      const r = await run('read-error', `
        const read = WavReader.prototype.read; let calls = 0;
        WavReader.prototype.read = function (...a) {
          if (++calls === 6) return Promise.reject(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' }));
          return read.apply(this, a);
        };`, (outDir) => writeFile(join(outDir, 'out.wav'), 'the old OUT'));
      assert.match(r.error ?? '', /EIO/);
      assert.deepEqual(r.left, ['out.wav']);
      assert.equal(r.out, 'the old OUT');
    });

    it('the output folder removed mid-render: the render fails, no OUT appears, the worker ends', async () => {
      const r = await run('folder-gone', `
        const write = WavWriter.prototype.write; let calls = 0;
        WavWriter.prototype.write = function (...a) {
          if (++calls === 4) rmSync(outDir, { recursive: true, force: true });
          return write.apply(this, a);
        };`);
      assert.match(r.error ?? '', /ENOENT/);
      assert.equal(r.left, null);
    });

    it('a worker that crashes mid-render becomes an Error; nothing is left behind', async () => {
      await writeFile(join(dir, 'crash-worker.mjs'), `
        import { workerData, parentPort } from 'node:worker_threads';
        parentPort.postMessage({ type: 'ready', latencyFrames: 0 });
        const state = new Int32Array(workerData.buffer, 0, workerData.layout.slots);
        Atomics.wait(state, 0, 0);
        throw new Error('simulated DSP crash');`);
      const r = await run('crash', `
        const start = RenderPipeline.start;
        RenderPipeline.start = (o) => start({ ...o, workerUrl: new URL(${JSON.stringify(pathToFileURL(join(dir, 'crash-worker.mjs')).href)}) });`);
      assert.match(r.error ?? '', /the render worker failed: simulated DSP crash/);
      assert.deepEqual(r.left, []);
    });

    it('a worker that exits on its own mid-render becomes an Error', async () => {
      await writeFile(join(dir, 'exit-worker.mjs'), `
        import { workerData, parentPort } from 'node:worker_threads';
        parentPort.postMessage({ type: 'ready', latencyFrames: 0 });
        const state = new Int32Array(workerData.buffer, 0, workerData.layout.slots);
        Atomics.wait(state, 0, 0);
        process.exit(7);`);
      const r = await run('exit', `
        const start = RenderPipeline.start;
        RenderPipeline.start = (o) => start({ ...o, workerUrl: new URL(${JSON.stringify(pathToFileURL(join(dir, 'exit-worker.mjs')).href)}) });`);
      assert.match(r.error ?? '', /render worker exited unexpectedly \(code 7\)/);
      assert.deepEqual(r.left, []);
    });

    it('a worker that cannot start fails the render with that reason', async () => {
      const r = await run('no-worker', `
        const start = RenderPipeline.start;
        RenderPipeline.start = (o) => start({ ...o, workerUrl: new URL('file:///nonexistent/render-worker.js') });`);
      assert.match(r.error ?? '', /cannot start the render worker/);
      assert.deepEqual(r.left, []);
    });
  });
});
