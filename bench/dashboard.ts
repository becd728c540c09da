/**
 * Browser cost of the dashboard page (issue goal: under 10 % of one core,
 * flat memory): the real broker and unit client publishing 20 Hz meters,
 * Node-RED with the flow, and the page in headless Chromium, measured with
 * the DevTools protocol's Performance.getMetrics over N seconds.
 *
 * TaskDuration counts the page's main-thread work (scripts, style, layout,
 * paint recording) as wall time, so it grows when other programs compete
 * for the cores. The process figures (SystemInfo.getProcessInfo) are CPU
 * time actually used, by every thread: the page's renderer process (main
 * thread, compositor, raster) and all of Chromium (with the GPU/display
 * compositor process, which in headless software mode puts the frames
 * together). Work moved off the main thread still shows there.
 */
import { openPage } from '../test/helpers/browser.js';
import { startTestDashboard, startUnitSide } from '../test/helpers/node-red.js';

export interface DashboardBench {
  seconds: number;
  /** Main-thread busy time of the page, as a share of one core (%). */
  cpuPercent: number;
  /** CPU time of the page's renderer process, all threads (% of one core). */
  rendererCpuPercent: number;
  /** CPU time of every Chromium process (% of one core). */
  browserCpuPercent: number;
  /** Of which JavaScript, style recalculation and layout. */
  scriptPercent: number;
  stylePercent: number;
  layoutPercent: number;
  /** JS heap after a forced GC, at the start and the end of the run (MB). */
  heapStartMb: number;
  heapEndMb: number;
  /** Largest heap sampled (without GC) during the run (MB). */
  heapPeakMb: number;
  /** Meter frames the page received per second (should be the meter rate). */
  framesPerSecond: number;
}

type Metrics = Record<string, number>;

export async function benchDashboard(seconds = 60): Promise<DashboardBench> {
  const unit = await startUnitSide({ meterRateHz: 20 });
  const dash = await startTestDashboard(unit);
  const open = await openPage(dash.url);
  try {
    const { page, context } = open;
    await page.waitForSelector('.pc-controls[data-ready="yes"]', { timeout: 30_000 });
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    const metrics = async (): Promise<Metrics> => {
      const r = await cdp.send('Performance.getMetrics');
      return Object.fromEntries(r.metrics.map((m) => [m.name, m.value]));
    };
    const heapAfterGc = async (): Promise<number> => {
      await cdp.send('HeapProfiler.collectGarbage');
      return (await metrics()).JSHeapUsedSize ?? 0;
    };
    const browserCdp = await open.browser.newBrowserCDPSession();
    const cpuTimes = async (): Promise<{ renderer: number; all: number }> => {
      const r = await browserCdp.send('SystemInfo.getProcessInfo') as { processInfo: { type: string; cpuTime: number }[] };
      let renderer = 0, all = 0;
      for (const p of r.processInfo) { all += p.cpuTime; if (p.type === 'renderer') renderer += p.cpuTime; }
      return { renderer, all };
    };
    const frames = (): Promise<number> => page.evaluate(() => Number((globalThis as unknown as {
      document: { querySelector(s: string): { dataset: { frames?: string } } };
    }).document.querySelector('.pm').dataset.frames));

    // Let the history buffer fill (10 s) so the steady state is measured.
    await page.waitForTimeout(11_000);
    const heapStart = await heapAfterGc();
    const m0 = await metrics();
    const c0 = await cpuTimes();
    const f0 = await frames();
    const t0 = Date.now();
    let heapPeak = 0;
    while (Date.now() - t0 < seconds * 1000) {
      await page.waitForTimeout(Math.min(5000, seconds * 1000 - (Date.now() - t0)));
      heapPeak = Math.max(heapPeak, (await metrics()).JSHeapUsedSize ?? 0);
    }
    const m1 = await metrics();
    const c1 = await cpuTimes();
    const f1 = await frames();
    const wall = (Date.now() - t0) / 1000;
    const heapEnd = await heapAfterGc();
    const d = (k: string): number => (m1[k] ?? 0) - (m0[k] ?? 0);
    const mb = (b: number): number => Math.round((b / 1048576) * 100) / 100;
    const pct = (s: number): number => Math.round((100 * s / wall) * 100) / 100;
    return {
      seconds: Math.round(wall),
      cpuPercent: pct(d('TaskDuration')),
      rendererCpuPercent: pct(c1.renderer - c0.renderer),
      browserCpuPercent: pct(c1.all - c0.all),
      scriptPercent: pct(d('ScriptDuration')),
      stylePercent: pct(d('RecalcStyleDuration')),
      layoutPercent: pct(d('LayoutDuration')),
      heapStartMb: mb(heapStart),
      heapEndMb: mb(heapEnd),
      heapPeakMb: mb(heapPeak),
      framesPerSecond: Math.round(((f1 - f0) / wall) * 10) / 10,
    };
  } finally {
    await open.close();
    await dash.stop();
    await unit.stop();
  }
}

// `node dist/bench/dashboard.js [seconds]` runs it alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchDashboard(Number(process.argv[2] ?? 60));
  process.stdout.write(JSON.stringify(r, null, 2) + '\n');
}
