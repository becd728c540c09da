/**
 * `npm run bench`: every figure of SPEC §5 this repository can measure
 * here, as one table. Each section is guarded: a missing tool (ffmpeg,
 * chromium) or a part still being written says "skipped: why" and the run
 * goes on. BENCH_QUICK=1 shortens the soak; BENCH_SECONDS sets it;
 * BENCH_ONLY=engine,mqtt runs just those sections.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchKernel, benchFfmpegKernel, type KernelFigure } from './dsp-kernel.js';
import { DrumLoopSource } from '../src/dsp/generators.js';
import { WavWriter } from '../src/io/wav-writer.js';
import { AudioEngine } from '../src/engine/audio-engine.js';
import { defaultParams } from '../src/params/schema.js';
import { createLogger } from '../src/log.js';
import { benchJack } from './jack.js';

const QUICK = process.env.BENCH_QUICK === '1';
const SOAK_SECONDS = Number(process.env.BENCH_SECONDS ?? (QUICK ? 10 : 60));
const RENDER_MINUTES = Number(process.env.BENCH_RENDER_MINUTES ?? 10);
const RENDER_REPS = QUICK ? 2 : 3;
/** SPEC §6: 0 xruns over 10 minutes on JACK (BENCH_JACK_SECONDS shortens it). */
const JACK_SOAK_SECONDS = Number(process.env.BENCH_JACK_SECONDS ?? (QUICK ? 20 : 600));
const SAMPLE_RATE = 48000;
const WARM_UP_MS = 5000;
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',').map((x) => x.trim())) : null;
const here = dirname(fileURLToPath(import.meta.url));
const MAIN_JS = resolve(here, '../src/cli/main.js');

type Row = [section: string, figure: string, value: string];
const rows: Row[] = [];
const add = (section: string, figure: string, value: string): void => { rows.push([section, figure, value]); print([section, figure, value]); };
const fmt = (x: number, digits = 1): string => x.toFixed(digits);

function print(r: Row): void {
  process.stdout.write(`${r[0].padEnd(10)} ${r[1].padEnd(58)} ${r[2]}\n`);
}

async function section(name: string, body: () => Promise<void>): Promise<void> {
  if (ONLY && !ONLY.has(name)) return;
  try {
    await body();
  } catch (e) {
    add(name, 'skipped', `${(e as Error).message.split('\n')[0]}`);
  }
}

function run(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolveRun, reject) => {
    const t0 = process.hrtime.bigint();
    execFile(cmd, args, { maxBuffer: 1 << 20 }, (err, _out, stderr) => {
      if (err) reject(new Error(`${cmd} failed: ${stderr || err.message}`));
      else resolveRun(Number(process.hrtime.bigint() - t0) / 1e9);
    });
  });
}

function hasCommand(cmd: string): Promise<boolean> {
  return new Promise((ok) => execFile(cmd, ['-version'], (err) => ok(!err)));
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** A music-like float WAV: the demo drum loop (transients over a bed, peaks at −3 dBFS). */
async function makeInput(path: string, seconds: number): Promise<void> {
  const src = new DrumLoopSource({ levelDb: -3 });
  const block = 65536;
  src.prepare({ sampleRate: SAMPLE_RATE, channels: 2, maxBlockFrames: block });
  const bufs = [new Float32Array(block), new Float32Array(block)];
  const writer = await WavWriter.create(path, { sampleRate: SAMPLE_RATE, channels: 2, format: 'float32' });
  for (let left = seconds * SAMPLE_RATE; left > 0; left -= block) {
    const n = Math.min(block, left);
    src.process(bufs, n);
    await writer.write(bufs, n);
  }
  await writer.finish();
}

/** ns per stereo frame, median and spread over the runs. */
const spread = (f: KernelFigure): string => `${fmt(f.median)} (${fmt(f.min)}–${fmt(f.max)}, ${f.runs.length} runs)`;

async function kernelSection(): Promise<void> {
  const strip = await benchKernel();
  for (const r of strip) add('kernel', `${r.label}, ns/stereo frame`, spread(r));
  // Before issue #13 (instant-attack limiter, no true peak), four runs on an idle machine.
  add('kernel', 'before #13: default settings, ns/stereo frame', '41.3, 26.7, 25.1, 41.2 (bimodal)');
  // 48 kHz: 20 833 ns per frame of real time; a Pi 3's core runs this
  // scalar JavaScript roughly 10× slower than this machine's (an estimate).
  const budget = (ns: number): string => `${fmt((100 * ns) / 20833, 2)} % here, ≈ ${fmt((1000 * ns) / 20833, 1)} % of a Pi 3 core`;
  add('kernel', 'real-time budget used, default settings', budget(strip[0]!.median));
  add('kernel', 'real-time budget used, all features', budget(strip[strip.length - 1]!.median));
  // #13: the working limiter with true_peak must cost no more than the compressor it follows.
  const alone = strip.find((f) => f.label.includes('limiter off'));
  const limiting = strip.find((f) => f.label.includes('limiter working') && f.label.endsWith('true_peak on'));
  if (alone && limiting) {
    const share = (w: number, c: number): number => (w - c) / c;
    const perRun = limiting.runs.map((w, k) => share(w, alone.runs[k]!));
    add('kernel', 'limiter + true_peak working: its own cost / the compressor\'s (≤ 1: no dearer)',
      `${fmt(share(limiting.median, alone.median), 2)} (per run ${fmt(Math.min(...perRun), 2)}–${fmt(Math.max(...perRun), 2)})`);
  }
  const ff = await benchFfmpegKernel();
  if (!ff) { add('kernel', 'ffmpeg acompressor', 'skipped: ffmpeg not found'); return; }
  add('kernel', 'ffmpeg acompressor, same signal, ns/stereo frame', spread(ff));
  const ratios = (f: KernelFigure): string => {
    const r = f.runs.map((x, k) => x / ff.runs[k]!);
    return `${fmt(f.median / ff.median, 2)} (per run ${fmt(Math.min(...r), 2)}–${fmt(Math.max(...r), 2)})`;
  };
  add('kernel', 'ratio picomp default / ffmpeg (< 1 = picomp faster)', ratios(strip[0]!));
  add('kernel', 'ratio picomp all features / ffmpeg', ratios(strip[strip.length - 1]!));
}

async function renderSection(): Promise<void> {
  if (!(await hasCommand('ffmpeg'))) { add('render', 'skipped', 'ffmpeg not found'); return; }
  const dir = mkdtempSync(join(tmpdir(), 'picomp-bench-render-'));
  try {
    const inWav = join(dir, 'in.wav');
    await makeInput(inWav, RENDER_MINUTES * 60);
    add('render', `input: ${RENDER_MINUTES} min 48 kHz stereo float32 WAV`, `${fmt(statSync(inWav).size / 1e6, 0)} MB`);
    const ours: number[] = [], theirs: number[] = [];
    for (let k = 0; k < RENDER_REPS; k++) {
      // Interleaved, so drift in the machine's load hits both alike.
      ours.push(await run(process.execPath, [MAIN_JS, 'render', inWav, join(dir, 'out.wav')]));
      theirs.push(await run('ffmpeg', ['-y', '-v', 'error', '-i', inWav, '-af', 'acompressor', '-c:a', 'pcm_f32le', join(dir, 'out2.wav')]));
    }
    add('render', `picomp render, wall s (min / median of ${RENDER_REPS})`, `${fmt(Math.min(...ours), 2)} / ${fmt(median(ours), 2)}`);
    add('render', `ffmpeg -af acompressor, wall s (min / median of ${RENDER_REPS})`, `${fmt(Math.min(...theirs), 2)} / ${fmt(median(theirs), 2)}`);
    add('render', 'ratio picomp / ffmpeg, medians (< 1 = picomp faster)', fmt(median(ours) / median(theirs), 2));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function engineSection(): Promise<void> {
  const log = createLogger('bench', 'warn');
  const rss0 = process.memoryUsage().rss;
  const engine = await AudioEngine.start({
    input: { kind: 'demo' }, output: { kind: 'null' }, sampleRate: SAMPLE_RATE, blockFrames: 128, channels: 2,
    params: defaultParams(), log,
  } as Parameters<typeof AudioEngine.start>[0]);
  try {
    // Let the JIT, the first meter periods and the collection of the
    // worker's start-up garbage (a GC or two in its first seconds) settle
    // before measuring the steady state.
    await new Promise((r) => setTimeout(r, WARM_UP_MS));
    engine.readMeters();
    const cpu0 = process.cpuUsage(), t0 = process.hrtime.bigint();
    const cpus: number[] = [];
    let xruns = 0;
    const gcs: number[] = [];
    const rssStart = process.memoryUsage().rss;
    const end = Date.now() + SOAK_SECONDS * 1000;
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, 50));
      const m = engine.readMeters();
      if (m) { cpus.push(m.cpu); xruns = m.xruns; gcs.push(m.worker_gcs); }
    }
    const used = process.cpuUsage(cpu0);
    const wall = Number(process.hrtime.bigint() - t0) / 1000;
    const share = ((used.user + used.system) / wall) * 100;
    const mean = cpus.reduce((a, b) => a + b, 0) / Math.max(1, cpus.length);
    add('engine', `soak ${SOAK_SECONDS} s, demo → null, 48 kHz stereo block 128`, `${cpus.length} meter periods`);
    add('engine', 'DSP time, % of block budget (mean / max)', `${fmt(mean, 2)} / ${fmt(Math.max(0, ...cpus), 2)}`);
    add('engine', 'xruns', String(xruns));
    add('engine', `garbage collections in the audio worker: first ${WARM_UP_MS / 1000} s (start-up)`, String(gcs[0] ?? 'n/a'));
    add('engine', 'garbage collections in the audio worker during the soak (target 0)', String(gcs.length > 1 ? gcs.at(-1)! - gcs[0]! : 0));
    add('engine', 'process CPU, % of one core (SPEC: < 5)', fmt(share, 2));
    add('engine', 'RSS MB (before start / soak start / soak end)', `${fmt(rss0 / 1e6, 0)} / ${fmt(rssStart / 1e6, 0)} / ${fmt(process.memoryUsage().rss / 1e6, 0)}`);
  } finally {
    await engine.stop();
  }
}

async function optional<T>(path: string, name: string): Promise<T | null> {
  try {
    const mod = (await import(path)) as Record<string, unknown>;
    return (mod[name] as T | undefined) ?? null;
  } catch {
    return null;
  }
}

async function mqttSection(): Promise<void> {
  const fn = await optional<() => Promise<{ p50Ms: number; p99Ms: number; n: number }>>('./mqtt-latency.js', 'benchSetEcho');
  if (!fn) { add('mqtt', 'skipped', 'bench/mqtt-latency.ts not built'); return; }
  const r = await fn();
  add('mqtt', `set → state echo, loopback, n = ${r.n} (ms p50 / p99; SPEC p99 < 20)`, `${fmt(r.p50Ms, 2)} / ${fmt(r.p99Ms, 2)}`);
}

async function mqttLoadSection(): Promise<void> {
  const { benchMeterLoad } = await import('./mqtt-load.js');
  const r = await benchMeterLoad(QUICK ? 10 : 60, 10);
  add('mqtt', `meters with ${r.subscribers} subscribers over ${r.seconds} s: rate Hz (target 20)`, fmt(r.rateHz, 2));
  add('mqtt', 'gap between meter messages, ms (p50 / p99 / max)', `${fmt(r.gapP50Ms, 1)} / ${fmt(r.gapP99Ms, 1)} / ${fmt(r.gapMaxMs, 1)}`);
  add('mqtt', 'unit process CPU, % of one core (no subscribers / 10 subscribers)', `${fmt(r.unitCpuIdlePercent, 2)} / ${fmt(r.unitCpuLoadedPercent, 2)}`);
}

async function dashboardSection(): Promise<void> {
  const fn = await optional<(s?: number) => Promise<Record<string, number>>>('./dashboard.js', 'benchDashboard');
  if (!fn) { add('dashboard', 'skipped', 'bench/dashboard.ts not built'); return; }
  const r = await fn(QUICK ? 10 : 60);
  for (const [k, v] of Object.entries(r)) if (typeof v === 'number') add('dashboard', k, fmt(v, 2));
}

async function cliSection(): Promise<void> {
  const { benchCliStart } = await import('./cli-start.js');
  const r = await benchCliStart();
  add('cli', `picomp params, wall s (median of ${r.calls}): npm run picomp -- / node dist/… / npx picomp`, `${fmt(r.npmRunS, 2)} / ${fmt(r.nodeS, 2)} / ${fmt(r.npxS, 2)}`);
  add('cli', 'ratio npm run / npx (< 1 = npm run faster)', fmt(r.npmRunS / r.npxS, 2));
}

async function attackSection(): Promise<void> {
  const { benchAttacks } = await import('./attack.js');
  for (const r of await benchAttacks(QUICK ? 5 : 15)) {
    add('attack', `${r.flood}: RSS MB peak / end, meters Hz (${r.sent})`, `${fmt(r.rssPeakMb, 0)} / ${fmt(r.rssEndMb, 0)}, ${fmt(r.meterHz, 1)}`);
  }
}

async function classroomSection(): Promise<void> {
  const { benchClassroom } = await import('./classroom.js');
  for (const [figure, value] of await benchClassroom({ quick: QUICK })) rows.push(['classroom', figure, value]);
}

async function main(): Promise<void> {
  process.stdout.write(`picomp bench: node ${process.version}, ${process.platform}/${process.arch}${QUICK ? ', quick' : ''}\n`);
  await section('kernel', kernelSection);
  await section('render', renderSection);
  await section('engine', engineSection);
  await section('mqtt', mqttSection);
  await section('mqtt', mqttLoadSection);
  await section('dashboard', dashboardSection);
  await section('cli', cliSection);
  await section('attack', attackSection);
  await section('classroom', classroomSection);
  await section('jack', () => benchJack(JACK_SOAK_SECONDS, (figure, value) => add('jack', figure, value)));
}

main().then(() => process.exit(0), (e) => { process.stderr.write(`bench failed: ${(e as Error).stack}\n`); process.exit(1); });
