/**
 * The audio layer's thread. Builds the chain for the configured source and
 * sink, then runs it from the device's blocks or, with no device, from a
 * clock that paces the demo in real time. Talks to the user layer only
 * through the shared buffers (parameters, meters, the control word), plus a
 * message at start, stop and on device trouble.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PerformanceObserver } from 'node:perf_hooks';
import { BlockRunner } from './block-runner.js';
import { clockUs, elapsedUs } from './monotonic-clock.js';
import { WorkerControl } from './worker-control.js';
import { GeneratorNode, HostSource, LoopingBufferSource } from './nodes.js';
import { createGenerator } from '../dsp/generators.js';
import { readWavFile } from '../io/wav-reader.js';
import type { Driver } from './driver.js';
import type { GraphNode } from './graph.js';
import type { FromWorker, InputSpec, OutputSpec, ToWorker, WorkerConfig } from './worker-protocol.js';
import { isUserError, UserError } from '../errors.js';

const config = workerData as WorkerConfig;
const port = parentPort!;
const say = (msg: FromWorker): void => port.postMessage(msg);

const CLOCK_TICK_MS = 5;
/** How long the clock-paced loop keeps the thread before letting its event loop run. */
const YIELD_EVERY_MS = 1000;

async function buildSource(input: InputSpec): Promise<GraphNode> {
  const { channels } = config;
  if (input.kind === 'demo') return new GeneratorNode(createGenerator('demo'), channels, 'demo');
  if (input.kind === 'file') {
    const { info, channels: recording } = await readWavFile(input.path);
    if (info.sampleRate !== config.sampleRate) {
      // Played at the wrong rate it would sound higher or lower and run at the wrong speed.
      throw new UserError(`${input.path} is at ${info.sampleRate} Hz but the unit runs at ${config.sampleRate} Hz; start it with --sample-rate ${info.sampleRate} or convert the file (e.g. sox IN.wav -r ${config.sampleRate} OUT.wav).`);
    }
    return new LoopingBufferSource(recording, channels, `file ${input.path}`);
  }
  return new HostSource(channels, 'device input');
}

/**
 * Paces the chain by the wall clock: sleeps on the control word, then runs
 * the blocks that are due. Falling far behind (a stalled machine) counts as
 * an xrun and resynchronises rather than racing to catch up. Timers would
 * allocate on every tick, so the loop runs synchronously and returns to
 * the event loop only about once a second (for the GC observer and
 * messages); a stop request wakes it at once.
 */
function runClocked(runner: BlockRunner, control: WorkerControl): Driver {
  const { blockFrames, sampleRate } = config;
  const maxBehindFrames = 0.2 * sampleRate;
  // Nothing listens to a null output, so waking every 5 ms (a few blocks at
  // a time) is as good as every block, at a fraction of the wake-ups.
  const tickMs = Math.max(CLOCK_TICK_MS, (blockFrames / sampleRate) * 1000);
  const wakesPerSlice = Math.ceil(YIELD_EVERY_MS / tickMs);
  // [0] frames owed to the clock, [1] the last clock reading (µs). In a
  // typed array because a fractional number in a closure variable is boxed
  // anew on every write.
  const pace = new Float64Array(2);
  pace[1] = clockUs();
  let finished!: () => void;
  const done = new Promise<void>((resolve) => { finished = resolve; });
  const runSlice = (): void => {
    for (let wake = 0; wake < wakesPerSlice; wake++) {
      if (control.stopRequested) { finished(); return; }
      control.sleep(tickMs);
      const nowUs = clockUs();
      pace[0] += (elapsedUs(pace[1]!, nowUs) * sampleRate) / 1e6;
      pace[1] = nowUs;
      if (pace[0]! > maxBehindFrames) {
        runner.xruns++;
        pace[0] = 0;
        continue;
      }
      while (pace[0]! >= blockFrames) {
        runner.step(blockFrames);
        pace[0] -= blockFrames;
      }
    }
    setImmediate(runSlice);
  };
  setImmediate(runSlice);
  return { stop: async () => { control.requestStop(); await done; } };
}

async function main(): Promise<void> {
  let input: InputSpec = config.input, output: OutputSpec = config.output, note: string | null = null;
  if (input.kind === 'auto' || output.kind === 'auto') {
    // Only now is naudiodon loaded; if it cannot be, auto falls back to demo → null.
    const { resolveAuto } = await import('./device-driver.js');
    ({ input, output, note } = resolveAuto(input, output));
  }
  const source = await buildSource(input);
  const runner = new BlockRunner(source, config.channels, config.sampleRate, config.blockFrames, config.paramsBuffer, config.metersBuffer);
  // Every collection in this thread is a sign something allocates per block.
  new PerformanceObserver((list) => { runner.gcCount += list.getEntries().length; }).observe({ entryTypes: ['gc'] });
  let driver: Driver;
  const inputName = input.kind === 'file' ? `file:${input.path}` : input.kind;
  if (input.kind !== 'device' && output.kind === 'null') {
    driver = runClocked(runner, new WorkerControl(config.controlBuffer));
    say({ type: 'ready', info: {
      input: inputName, output: 'null', sampleRate: config.sampleRate, blockFrames: config.blockFrames,
      channels: config.channels, deviceLatencyMs: 0, note,
    } });
  } else {
    const { runOnDevice } = await import('./device-driver.js');
    const started = await runOnDevice({ ...config, input, output }, runner, source, (message: string) => say({ type: 'device-error', message }));
    driver = started.driver;
    say({ type: 'ready', info: { ...started.info, note: [note, started.info.note].filter(Boolean).join('; ') || null } });
  }
  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'stop') {
      void driver.stop().finally(() => { say({ type: 'stopped' }); port.close(); });
    }
  });
}

main().catch((e: unknown) => {
  say({ type: 'fatal', message: (e as Error)?.message ?? String(e), userError: isUserError(e) });
});
