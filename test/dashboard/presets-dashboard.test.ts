/**
 * Saving, renaming and deleting a user preset from the dashboard page: real
 * Node-RED with the flow, the real unit client and broker, Chromium.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { RunningDashboard } from '../../src/dashboard/node-red.js';
import { artifactPath, openPage, type OpenPage } from '../helpers/browser.js';
import { startTestDashboard, startUnitSide, type UnitSide } from '../helpers/node-red.js';

const WAIT = { timeout: 20_000 };

describe('user presets from the dashboard (Node-RED + Chromium)', function () {
  this.timeout(120_000);
  let unit: UnitSide;
  let dash: RunningDashboard;
  let open: OpenPage;
  let page: Page;

  before(async () => {
    unit = await startUnitSide({ unitId: 'lab-5' });
    dash = await startTestDashboard(unit);
    open = await openPage(dash.url);
    page = open.page;
    await page.waitForSelector('.pc-controls[data-ready="yes"]', WAIT);
    await page.waitForSelector('.pu[data-online="online"]', WAIT);
  });

  after(async () => {
    await open?.close();
    await dash?.stop();
    await unit?.stop();
  });

  const userPresets = (): string[] => unit.state.presets().filter((p) => !p.builtIn).map((p) => p.name);
  const until = async (cond: () => boolean, what: string): Promise<void> => {
    const deadline = Date.now() + 15_000;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const presetSelect = () => page.getByRole('combobox', { name: 'Preset', exact: true });

  it('saves the current settings under a typed name, which becomes the current preset in the list', async () => {
    unit.state.apply({ threshold: -31, ratio: 6 }, 'api');
    await page.getByText('My presets').click();
    await page.getByRole('textbox', { name: 'Preset name' }).fill('class-demo-2');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await until(() => userPresets().includes('class-demo-2'), 'the saved preset');
    assert.deepEqual(unit.state.presets().find((p) => p.name === 'class-demo-2')!.params, { threshold: -31, ratio: 6 });
    await page.waitForFunction(() => (globalThis as unknown as { document: { querySelector(s: string): { value: string } | null } })
      .document.querySelector('.pc-preset select')?.value === 'class-demo-2', undefined, WAIT);
    assert.equal(await presetSelect().locator('option[value="class-demo-2"]').count(), 1);
    await page.screenshot({ path: await artifactPath('dashboard-presets.png'), fullPage: true });
  });

  it('renames the current user preset', async () => {
    await page.getByRole('textbox', { name: 'Preset name' }).fill('class-demo-3');
    await page.getByRole('button', { name: 'Rename to the name above' }).click();
    await until(() => userPresets().includes('class-demo-3') && !userPresets().includes('class-demo-2'), 'the renamed preset');
    assert.equal(unit.state.snapshot.preset, 'class-demo-3');
  });

  it('deletes it after a second click, and shows the unit\'s refusal of a bad name', async () => {
    const del = page.getByRole('button', { name: 'Delete', exact: true });
    await del.waitFor(WAIT);
    await del.click();
    await page.getByRole('button', { name: 'Really delete?' }).click();
    await until(() => !userPresets().includes('class-demo-3'), 'the deletion');
    await page.getByRole('textbox', { name: 'Preset name' }).fill('Not OK');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText(/Unit said: cannot save "Not OK"/).waitFor(WAIT);
    assert.deepEqual(userPresets(), []);
  });
});
