/**
 * The dashboard end to end: the real broker and unit client, Node-RED with
 * the flow as a child process, and headless Chromium on the page.
 */
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import type { Locator, Page } from 'playwright-core';
import { PARAMS, type NumberParamDef } from '../../src/params/schema.js';
import { autoMakeupDb, staticCurveDb } from '../../src/dsp/gain-computer.js';
import type { RunningDashboard } from '../../src/dashboard/node-red.js';
import { artifactPath, openPage, type OpenPage } from '../helpers/browser.js';
import { outsideClient, startTestDashboard, startUnitSide, waitForState, type UnitSide } from '../helpers/node-red.js';

const WAIT = { timeout: 15_000 };

// The callbacks given to page.evaluate/waitForFunction run in the page; these
// minimal shapes type them without pulling the DOM library into the project.
interface PageEl {
  dataset: Record<string, string | undefined>;
  textContent: string | null;
  value: string;
  getAttribute(name: string): string | null;
  querySelector(sel: string): PageEl | null;
  toDataURL(): string;
}
declare const document: { querySelector(sel: string): PageEl | null };

function numberDef(name: string): NumberParamDef {
  const p = PARAMS.find((d) => d.name === name);
  assert.ok(p && p.kind === 'number');
  return p as NumberParamDef;
}
const sliderName = (p: NumberParamDef): string => `${p.label} (${p.unit === ':1' ? 'ratio' : p.unit})`;

describe('dashboard in a browser (Node-RED + Chromium)', function () {
  this.timeout(120_000);
  let unit: UnitSide;
  let dash: RunningDashboard;
  let open: OpenPage;
  let page: Page;
  let outside: MqttClient;
  const setTopic = (): string => `${unit.baseTopic}/${unit.unitId}/set`;
  const slider = (name: string): Locator => page.getByRole('slider', { name: sliderName(numberDef(name)), exact: true });
  const valueOf = async (l: Locator): Promise<number> => Number(await l.getAttribute('aria-valuenow'));
  const waitValue = async (l: Locator, v: number): Promise<void> => {
    const handle = await l.elementHandle();
    await page.waitForFunction(([el, want]) => Number((el as unknown as PageEl).getAttribute('aria-valuenow')) === want, [handle, v] as const, WAIT);
  };

  before(async () => {
    unit = await startUnitSide();
    dash = await startTestDashboard(unit);
    outside = await outsideClient(unit);
    open = await openPage(dash.url);
    page = open.page;
    await page.waitForSelector('.pc-controls[data-ready="yes"]', WAIT);
  });

  after(async () => {
    if (page) await page.screenshot({ path: await artifactPath('dashboard.png'), fullPage: true }).catch(() => undefined);
    await open?.close();
    await outside?.endAsync();
    await dash?.stop();
    await unit?.stop();
  });

  it('shows the unit online with its audio setup', async () => {
    await page.waitForSelector('.pu[data-online="online"]', WAIT);
    await page.waitForFunction(() => document.querySelector('[data-fig="sample-rate"]')?.textContent === '48.0 kHz', undefined, WAIT);
    assert.equal(await page.textContent('[data-fig="block"]'), '128 frames');
    await page.waitForFunction(() => /%$/.test(document.querySelector('[data-fig="cpu"]')?.textContent ?? ''), undefined, WAIT);
    // A fresh unit sits at the schema's defaults: nothing was changed by hand yet.
    await page.waitForFunction(() => /^Default settings/.test(document.querySelector('.pc-preset-help')?.textContent ?? ''), undefined, WAIT);
  });

  it('moves the meters: new frames, changing levels and changing canvas pixels', async () => {
    const read = (): Promise<{ frames: number; inPeak: string; gr: string; png: string }> => page.evaluate(() => {
      const root = document.querySelector('.pm') as PageEl;
      const cv = root.querySelector('canvas') as PageEl;
      return { frames: Number(root.dataset.frames), inPeak: root.dataset.inPeak ?? '', gr: root.dataset.gr ?? '', png: cv.toDataURL() };
    });
    await page.waitForFunction(() => Number((document.querySelector('.pm') as PageEl).dataset.frames) >= 3, undefined, WAIT);
    const first = await read();
    await page.waitForFunction((f) => {
      const root = document.querySelector('.pm') as PageEl;
      return Number(root.dataset.frames) > f.frames && root.dataset.inPeak !== f.inPeak;
    }, first, WAIT);
    // The canvas is drawn at the next animation frame after the frame arrives: wait for that, not for the data alone.
    await page.waitForFunction((png) => ((document.querySelector('.pm') as PageEl).querySelector('canvas') as PageEl).toDataURL() !== png, first.png, WAIT)
      .catch(() => undefined);
    const second = await read();
    assert.notEqual(second.inPeak, first.inPeak);
    assert.notEqual(second.png, first.png, 'the meter canvas was redrawn');
    // The history collects the same frames.
    await page.waitForFunction(() => Number((document.querySelector('.ph') as PageEl).dataset.points) >= 5, undefined, WAIT);
  });

  it('has a control with an accessible name, the schema\'s range and the help text for every parameter', async () => {
    for (const p of PARAMS) {
      let control: Locator;
      if (p.kind === 'number') {
        control = page.getByRole('slider', { name: sliderName(p), exact: true });
        assert.equal(await control.count(), 1, p.name);
        assert.equal(Number(await control.getAttribute('aria-valuemin')), p.min, `${p.name} min`);
        assert.equal(Number(await control.getAttribute('aria-valuemax')), p.max, `${p.name} max`);
        assert.equal(Number(await control.getAttribute('data-step')), p.step, `${p.name} step`);
        assert.equal(Number(await control.getAttribute('aria-valuenow')), p.default, `${p.name} value`);
        assert.match(await control.getAttribute('aria-valuetext') ?? '', new RegExp(p.unit === ':1' ? ':1$' : ` ${p.unit.replace('%', '%')}$`));
      } else if (p.kind === 'bool') {
        control = page.getByRole('switch', { name: p.label, exact: true });
        assert.equal(await control.count(), 1, p.name);
        assert.equal(await control.getAttribute('aria-checked'), String(p.default), `${p.name} value`);
      } else {
        control = page.getByRole('combobox', { name: p.label, exact: true });
        assert.equal(await control.count(), 1, p.name);
        const options = await control.locator('option').evaluateAll((os) => os.map((o) => (o as unknown as PageEl).value));
        assert.deepEqual(options, [...p.options], `${p.name} options`);
        assert.equal(await control.inputValue(), p.default);
      }
      const tipId = await control.getAttribute('aria-describedby');
      assert.ok(tipId, `${p.name} has a tooltip`);
      assert.equal((await page.locator(`[id="${tipId}"]`).textContent())?.trim(), p.help, `${p.name} tooltip`);
    }
    const presets = page.getByRole('combobox', { name: 'Preset', exact: true });
    assert.ok((await presets.locator('option').count()) > 1);
  });

  it('sends a Threshold moved with the keyboard to the unit', async () => {
    const threshold = slider('threshold');
    const start = await valueOf(threshold);
    const step = numberDef('threshold').step;
    const expected = start - 4 * step;
    const echoed = waitForState(outside, unit, (s) => s.threshold === expected);
    await threshold.focus();
    for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowLeft');
    await echoed;
    assert.equal(unit.state.params.threshold, expected);
    await waitValue(threshold, expected);
  });

  it('moves the slider when the unit is set from outside (JSON and plain topics)', async () => {
    await outside.publishAsync(setTopic(), JSON.stringify({ threshold: -30 }));
    await waitValue(slider('threshold'), -30);
    await outside.publishAsync(`${setTopic()}/ratio`, '8');
    await waitValue(slider('ratio'), 8);
    // The transfer curve follows: its 0 dBFS output is the engine's formula.
    const p = unit.state.params;
    const expected = staticCurveDb(0, p.threshold, p.ratio, p.knee) + p.makeup + (p.auto_makeup ? autoMakeupDb(p.threshold, p.ratio) : 0);
    await page.waitForFunction((want) => {
      const d = (document.querySelector('.pt') as PageEl).dataset;
      return d.threshold === '-30' && d.ratio === '8' && d.outAt0 === want;
    }, Math.min(expected, p.limiter ? p.ceiling : Infinity).toFixed(2), WAIT);
  });

  it('does not let the unit\'s echoes fight a slider being dragged', async () => {
    const knee = slider('knee');
    const box = (await knee.boundingBox())!;
    const thumb = 18;
    const xAt = (f: number): number => box.x + thumb / 2 + f * (box.width - thumb);
    const def = numberDef('knee');
    const y = box.y + box.height / 2;
    const startF = (await valueOf(knee) - def.min) / (def.max - def.min);
    await page.mouse.move(xAt(startF), y);
    await page.mouse.down();
    try {
      const seen: number[] = [];
      for (let i = 1; i <= 12; i++) {
        await page.mouse.move(xAt(startF + (0.7 - startF) * (i / 12)), y);
        seen.push(await valueOf(knee));
      }
      // The last move reaches the slider and, through the throttled sends,
      // the unit; on a loaded machine either may lag, so wait until they agree.
      let held = await valueOf(knee);
      const deadline = Date.now() + WAIT.timeout;
      while (unit.state.params.knee !== held) {
        if (Date.now() > deadline) throw new Error(`slider at ${held}, unit at ${unit.state.params.knee}`);
        await new Promise((r) => setTimeout(r, 20));
        held = await valueOf(knee);
      }
      // While the pointer is held, someone else sets the knee: the user wins
      // until they let go, then the slider shows the unit's value.
      await outside.publishAsync(setTopic(), JSON.stringify({ knee: 2 }));
      await page.waitForFunction(() => (document.querySelector('.pt') as PageEl).dataset.knee === '2', undefined, WAIT);
      assert.equal(await valueOf(knee), held, 'a held slider is not moved by the state');
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! >= seen[i - 1]!, `slider went back while dragging: ${seen.join(', ')}`);
      assert.ok(held > def.default, `the drag moved the knee (${seen.join(', ')})`);
    } finally {
      // Never leave the button down: the next test would click into a drag.
      await page.mouse.up();
    }
    await waitValue(knee, 2);
  });

  it('loads a preset and flips switches', async () => {
    const presets = page.getByRole('combobox', { name: 'Preset', exact: true });
    const loaded = waitForState(outside, unit, (s) => s.preset === 'drum-bus');
    await presets.selectOption('drum-bus');
    await loaded;
    await waitValue(slider('threshold'), -16);
    const auto = page.getByRole('switch', { name: 'Auto makeup', exact: true });
    const flipped = waitForState(outside, unit, (s) => s.auto_makeup === true);
    await auto.click();
    await flipped;
    assert.equal(await auto.getAttribute('aria-checked'), 'true');
    const detector = page.getByRole('combobox', { name: 'Detector', exact: true });
    const rms = waitForState(outside, unit, (s) => s.detector === 'rms');
    await detector.selectOption('rms');
    await rms;
  });

  it('shows a refused command and keeps the controls as the unit has them', async () => {
    // 99 is outside the schema: the unit refuses it and says why.
    await outside.publishAsync(setTopic(), JSON.stringify({ ratio: 99 }));
    await page.waitForSelector('.pc-error', WAIT);
    assert.match(await page.textContent('.pc-error') ?? '', /ratio/);
  });

  it('logs no errors in the page', () => {
    assert.deepEqual(open.errors, []);
  });
});
