/**
 * Importing flows/picomp-dashboard.json into a Node-RED that already has a
 * Dashboard 2.0 with a page at `/` (what many Home Assistant and Node-RED
 * users run): after Import → Deploy both pages load and work, in Chromium.
 * Real Node-RED, real broker and unit client, headless Chromium.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { MqttClient } from 'mqtt';
import type { Page } from 'playwright-core';
import { FLOW_FILE } from '../../src/dashboard/flow.js';
import { artifactPath, openPage, type OpenPage } from '../helpers/browser.js';
import { outsideClient, startUnitSide, waitForState, type UnitSide } from '../helpers/node-red.js';
import { startExistingNodeRed, USER_DASHBOARD, type ExistingNodeRed } from '../helpers/existing-node-red.js';

const WAIT = { timeout: 20_000 };

interface PageEl { textContent: string | null }
declare const document: { querySelector(sel: string): PageEl | null; body: PageEl };

describe('importing the dashboard flow into a Node-RED that already has a dashboard', function () {
  this.timeout(180_000);
  let unit: UnitSide;
  let red: ExistingNodeRed;
  let open: OpenPage;
  let page: Page;
  let outside: MqttClient;
  let flow: { id: string; type: string; [k: string]: unknown }[];
  let editorErrors = 0;

  before(async () => {
    unit = await startUnitSide({ unitId: 'lab-9' });
    red = await startExistingNodeRed({
      PICOMP_UNIT: unit.unitId, PICOMP_MQTT_HOST: '127.0.0.1', PICOMP_MQTT_PORT: String(unit.broker.mqttPort),
      PICOMP_BASE_TOPIC: unit.baseTopic,
    });
    outside = await outsideClient(unit);
    flow = JSON.parse(await readFile(FLOW_FILE, 'utf8')) as typeof flow;
  });

  after(async () => {
    await open?.close();
    await outside?.endAsync();
    await red?.stop();
    await unit?.stop();
  });

  it('gives picomp\'s page a path of its own, so no page of the user\'s can collide with it', function () {
    const pages = flow.filter((n) => n.type === 'ui-page');
    assert.equal(pages.length, 1);
    assert.equal(pages[0]!.path, '/picomp');
    const userPaths = USER_DASHBOARD.filter((n) => n.type === 'ui-page').map((n) => (n as { path: string }).path);
    assert.ok(!userPaths.includes(pages[0]!.path as string));
  });

  it('imports in the Node-RED editor and deploys beside the user\'s flows, which keep their dashboard', async () => {
    open = await openPage(`${red.origin}/admin/`);
    page = open.page;
    await red.importInEditor(page, await readFile(FLOW_FILE, 'utf8'));
    const after = await red.flows();
    // Dashboard 2.0 keeps one ui-base, the user's, and points picomp's page at it.
    const bases = after.filter((n) => n.type === 'ui-base');
    assert.deepEqual(bases.map((b) => [b.id, b.name, b.path, b.navigationStyle]), [['user-base', 'My Home', '/dashboard', 'default']]);
    const pages = after.filter((n) => n.type === 'ui-page').map((n) => [n.name, n.path, n.ui]);
    assert.deepEqual(pages, [['Home', '/', 'user-base'], ['picomp compressor', '/picomp', 'user-base']]);
    for (const n of USER_DASHBOARD.filter((x) => x.type !== 'tab')) assert.ok(after.some((x) => x.id === n.id), `${n.id} kept`);
    for (const n of flow.filter((x) => x.type !== 'ui-base')) assert.ok(after.some((x) => x.id === n.id), `${n.type} ${n.id} imported`);
  });

  it('still serves the user\'s page at /dashboard, without a duplicate-URL warning, and its button works', async () => {
    // The editor's own aborted requests (leaving it) are not the dashboard's.
    editorErrors = open.errors.length;
    await page.goto(`${red.origin}/dashboard/`);
    const lights = page.getByRole('button', { name: 'Lights' });
    await lights.waitFor(WAIT);
    assert.equal(await page.getByText('multiple pages configured with the same URL').count(), 0);
    await lights.click();
    await page.getByText('lights on').waitFor(WAIT);
    await page.screenshot({ path: await artifactPath('import-user-page.png'), fullPage: true });
  });

  it('serves picomp\'s page at /dashboard/picomp under the user\'s ui-base, live, and its controls work', async () => {
    await page.goto(`${red.origin}/dashboard/picomp`);
    await page.waitForSelector('.pc-controls[data-ready="yes"]', WAIT);
    await page.waitForSelector('.pu[data-online="online"]', WAIT);
    assert.equal(await page.getByText('multiple pages configured with the same URL').count(), 0);
    // The user's ui-base rules (its sidebar lists both pages); picomp asks nothing of it.
    const threshold = page.getByRole('slider', { name: 'Threshold (dBFS)', exact: true });
    const moved = waitForState(outside, unit, (st) => st.threshold === -19);
    await threshold.focus();
    for (let i = 0; i < 2; i++) await page.keyboard.press('ArrowLeft');
    await moved;
    assert.equal(unit.state.params.threshold, -19);
    const bypassed = waitForState(outside, unit, (st) => st.bypass === true);
    await page.getByRole('switch', { name: 'Bypass', exact: true }).click();
    await bypassed;
    // Let the panels settle after the side bar slid in (a few more meter frames), then a picture for the docs.
    const frames = async (): Promise<number> => Number(await page.locator('.pm').getAttribute('data-frames'));
    const seen = await frames();
    await page.waitForFunction((n) => Number((globalThis as unknown as { document: { querySelector(s: string): { dataset: Record<string, string> } } })
      .document.querySelector('.pm').dataset.frames) > n + 20, seen, WAIT);
    await page.screenshot({ path: await artifactPath('import-picomp-page.png'), fullPage: true });
  });

  it('lists both pages in the user\'s navigation and goes back to the user\'s page', async () => {
    await page.goto(`${red.origin}/dashboard/`);
    await page.getByRole('button', { name: 'Lights' }).waitFor(WAIT);
    const nav = page.locator('a[href$="/dashboard/picomp"], a[href$="/picomp"]');
    assert.ok(await nav.count() >= 1, 'the sidebar links to picomp\'s page');
    assert.deepEqual(open.errors.slice(editorErrors).filter((e) => !/favicon|manifest/i.test(e)), []);
  });
});
