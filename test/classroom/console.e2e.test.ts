/**
 * The teacher's console end to end: a Mosquitto hub, simulated units on
 * the real unit client, Node-RED with the console flow, and headless
 * Chromium clicking the page. Assertions are on what reaches the hub
 * (retained desired settings) and on what the units do and publish.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { artifactPath, openPage, type OpenPage } from '../helpers/browser.js';
import { Probe, sleep } from '../helpers/mosquitto.js';
import { startSimUnit, type SimUnit } from '../../src/classroom/sim-unit.js';
import { BUILT_IN_PRESETS, presetValues } from '../../src/params/presets.js';
import { startClassroom, type Classroom } from '../helpers/classroom-console.js';

const WAIT = { timeout: 15_000 };
const PRESET = BUILT_IN_PRESETS[1]!.name;
const PRESET_THRESHOLD = presetValues(BUILT_IN_PRESETS[1]!).threshold;

interface PageEl { dataset: Record<string, string | undefined>; textContent: string | null }
declare const document: { querySelector(sel: string): PageEl | null; querySelectorAll(sel: string): PageEl[] };

describe('teacher\'s console in a browser (Mosquitto + units + Node-RED + Chromium)', function () {
  this.timeout(120_000);
  let room: Classroom;
  let open: OpenPage;
  let page: Page;
  let probe: Probe;
  let late: SimUnit | null = null;
  const unit = (id: string): SimUnit => room.units.find((u) => u.unitId === id)!;
  const card = (id: string): string => `.cc-card[data-unit="${id}"]`;

  /** The next retained desired document on `topic` that satisfies pred. */
  const desired = async (topic: string, pred: (d: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> => {
    const m = await probe.next((x) => x.topic === topic && x.text !== '' && pred(JSON.parse(x.text) as Record<string, unknown>), 10_000);
    return JSON.parse(m.text) as Record<string, unknown>;
  };
  const target = async (value: string): Promise<void> => { await page.getByRole('combobox', { name: 'Target', exact: true }).selectOption(value); };

  before(async () => {
    room = await startClassroom({ count: 4, groupSize: 2 });
    probe = await Probe.connect(room.hub.url);
    await probe.subscribe(['picomp/class/desired', 'picomp/group/+/desired', 'picomp/+/desired']);
    // Groups the teacher has set before (as \`picomp class\` would): the console offers them as targets.
    for (const g of ['g1', 'g2']) await probe.publish(`picomp/group/${g}/desired`, JSON.stringify({ rev: 1 }), { retain: true });
    open = await openPage(room.url);
    page = open.page;
    await page.waitForSelector('.cc[data-online="4"]', WAIT);
  });

  after(async () => {
    if (page) await page.screenshot({ path: await artifactPath('classroom-console.png'), fullPage: true }).catch(() => undefined);
    await open?.close();
    await probe?.close();
    await late?.stop();
    await room?.stop();
  });

  it('shows every unit on the hub as a card, and a unit that joins later', async () => {
    for (const u of room.units) {
      await page.waitForSelector(`${card(u.unitId)}[data-online="yes"]`, WAIT);
      assert.equal(await page.textContent(`${card(u.unitId)} .cc-groups`), u.unitId === 'sim-1' || u.unitId === 'sim-2' ? 'g1' : 'g2');
    }
    // Gain reduction and clips come from the units' 1 Hz levels.
    await page.waitForFunction(() => /^-?\d+\.\d dB$/.test(document.querySelector('.cc-card[data-unit="sim-1"] [data-fig="gr"]')?.textContent?.trim() ?? ''), undefined, WAIT);
    late = await startSimUnit({ url: room.hub.url, unitId: 'late-1' });
    await page.waitForSelector(`${card('late-1')}[data-online="yes"]`, WAIT);
    await late.stop();
    late = null;
    await page.waitForSelector(`${card('late-1')}[data-online="no"]`, WAIT);
    assert.deepEqual(open.errors, []);
  });

  it('pushes a preset to all units as the retained class setting, with its definition', async () => {
    await target('class');
    await page.getByRole('combobox', { name: 'Preset', exact: true }).selectOption(PRESET);
    await page.getByRole('button', { name: 'Push preset', exact: true }).click();
    const d = await desired('picomp/class/desired', (x) => x.preset === PRESET);
    assert.equal(typeof d.rev, 'number');
    assert.ok(d.preset_def && typeof d.preset_def === 'object', 'preset_def travels with the preset');
    await page.waitForFunction((p) => (document.querySelector('[data-fig="class-setting"]')?.textContent ?? '').includes('preset ' + p), PRESET, WAIT);
    // Every unit applies it, answers with an ack, and its card says it matches.
    await waitUntil(() => room.units.every((u) => u.state.snapshot.preset === PRESET), `every unit on ${PRESET}`);
    for (const u of room.units) {
      await page.waitForSelector(`${card(u.unitId)}[data-match="matches"]`, WAIT);
      await page.waitForFunction(([sel, rev]) => (document.querySelector(sel)?.textContent ?? '').includes(`applied class rev ${rev}`), [`${card(u.unitId)} [data-fig="ack"]`, d.rev] as const, WAIT);
    }
  });

  it('pushes a parameter to a group and to one unit, each with a higher rev, keeping the class preset', async () => {
    const cls = await desired('picomp/class/desired', (x) => x.preset === PRESET);
    await target('group:g1');
    await page.getByRole('combobox', { name: 'Parameter', exact: true }).selectOption('threshold');
    await page.getByRole('spinbutton', { name: 'Value', exact: true }).fill('-30');
    await page.getByRole('button', { name: 'Push parameter', exact: true }).click();
    const g = await desired('picomp/group/g1/desired', (x) => (x.params as Record<string, unknown> | undefined)?.threshold === -30);
    assert.ok((g.rev as number) > (cls.rev as number));

    await target('unit:sim-3');
    await page.getByRole('spinbutton', { name: 'Value', exact: true }).fill('-12');
    await page.getByRole('button', { name: 'Push parameter', exact: true }).click();
    const u = await desired('picomp/sim-3/desired', (x) => (x.params as Record<string, unknown> | undefined)?.threshold === -12);
    assert.ok((u.rev as number) > (g.rev as number));
    await page.waitForSelector(`${card('sim-3')} >> role=button[name="Reset"]`, WAIT);
    // Precedence unit > group > class, as the units apply it.
    await waitUntil(() => unit('sim-1').state.params.threshold === -30 && unit('sim-2').state.params.threshold === -30
      && unit('sim-3').state.params.threshold === -12 && unit('sim-4').state.params.threshold === PRESET_THRESHOLD, 'thresholds by precedence');
    await page.waitForSelector(`${card('sim-1')}[data-match="matches"]`, WAIT);
    await page.waitForSelector(`${card('sim-3')}[data-match="matches"]`, WAIT);
  });

  it('refuses a value out of the schema\'s range in a sentence, publishing nothing', async () => {
    await target('class');
    const since = probe.messages.length;
    await page.getByRole('combobox', { name: 'Parameter', exact: true }).selectOption('threshold');
    await page.getByRole('spinbutton', { name: 'Value', exact: true }).fill('-99');
    await page.getByRole('button', { name: 'Push parameter', exact: true }).click();
    await page.waitForSelector('.cc-notice', WAIT);
    assert.match(await page.textContent('.cc-notice') ?? '', /^Threshold must be -60 to 0 dBFS\.$/);
    await sleep(300);
    assert.equal(probe.messages.length, since);
  });

  it('sends a one-off command to all units and to a group: every unit obeys it', async () => {
    await target('class');
    await page.getByRole('checkbox', { name: 'Once only' }).check();
    try {
      await page.getByRole('combobox', { name: 'Parameter', exact: true }).selectOption('ratio');
      await page.getByRole('spinbutton', { name: 'Value', exact: true }).fill('7');
      await page.getByRole('button', { name: 'Push parameter', exact: true }).click();
      await waitUntil(() => room.units.every((u) => u.state.params.ratio === 7), 'every unit at ratio 7');
      // Away from the class setting now: the cards say where.
      await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === 'differs: ratio', `${card('sim-4')} [data-fig="status"]`, WAIT);
      await target('group:g2');
      await page.getByRole('spinbutton', { name: 'Value', exact: true }).fill('3');
      await page.getByRole('button', { name: 'Push parameter', exact: true }).click();
      await waitUntil(() => unit('sim-3').state.params.ratio === 3 && unit('sim-4').state.params.ratio === 3, 'group g2 at ratio 3');
      assert.equal(unit('sim-1').state.params.ratio, 7, 'group g1 untouched');
    } finally {
      await page.getByRole('checkbox', { name: 'Once only' }).uncheck();
    }
  });

  it('locks and unlocks the class, keeping its preset', async () => {
    await target('class');
    await page.getByRole('button', { name: 'Lock', exact: true }).first().click();
    const locked = await desired('picomp/class/desired', (x) => x.lock === true);
    assert.equal(locked.preset, PRESET);
    await waitUntil(() => room.units.every((u) => u.state.snapshot.locked === true), 'every unit locked');
    await page.waitForSelector(`${card('sim-4')}[data-locked="yes"]`, WAIT);
    await page.getByRole('button', { name: 'Unlock', exact: true }).first().click();
    const unlocked = await desired('picomp/class/desired', (x) => x.lock === false);
    assert.ok((unlocked.rev as number) > (locked.rev as number));
    assert.equal(unlocked.preset, PRESET);
    await waitUntil(() => room.units.every((u) => u.state.snapshot.locked === false), 'every unit unlocked');
    await page.waitForSelector(`${card('sim-4')}[data-locked="no"]`, WAIT);
  });

  it('locks one unit from its card and resets another to the class setting', async () => {
    await page.locator(card('sim-2')).getByRole('button', { name: 'Lock', exact: true }).click();
    await desired('picomp/sim-2/desired', (x) => x.lock === true);
    await waitUntil(() => unit('sim-2').state.snapshot.locked === true, 'sim-2 locked');
    assert.equal(unit('sim-1').state.snapshot.locked, false);
    await page.waitForSelector(`${card('sim-2')}[data-locked="yes"]`, WAIT);

    const since = probe.messages.length;
    await page.locator(card('sim-3')).getByRole('button', { name: 'Reset', exact: true }).click();
    await probe.next((m) => m.topic === 'picomp/sim-3/desired' && m.text === '', 10_000, since);
    await page.waitForSelector(`${card('sim-3')} >> role=button[name="Reset"]`, { state: 'detached', ...WAIT });
    await waitUntil(() => unit('sim-3').state.params.threshold === PRESET_THRESHOLD, 'sim-3 back on the class setting');
    // Cleared on the hub: a new subscriber gets no retained setting for sim-3.
    const fresh = await Probe.connect(room.hub.url);
    try {
      await fresh.subscribe(['picomp/sim-3/desired', 'picomp/sim-2/desired']);
      await fresh.onTopic('picomp/sim-2/desired', 5000);
      await sleep(300);
      assert.equal(fresh.count('picomp/sim-3/desired'), 0);
    } finally {
      await fresh.close();
    }
  });

  it('shows one unit large with its live meters, subscribing to that unit\'s meters only while shown', async () => {
    assert.equal(await page.getAttribute('.cc', 'data-focus'), '');
    await page.locator(card('sim-2')).getByRole('button', { name: 'Large', exact: true }).click();
    await page.waitForSelector('.cc-large[data-unit="sim-2"]', WAIT);
    await page.waitForFunction(() => Number(document.querySelector('.cc-large')?.dataset.frames) >= 10, undefined, WAIT);
    const first = await page.getAttribute('.cc-large', 'data-in-peak');
    await page.waitForFunction((f) => document.querySelector('.cc-large')?.dataset.inPeak !== f, first, WAIT);
    assert.equal(await page.getAttribute('.cc-large', 'data-meter-units'), 'sim-2', 'meters of no other unit reach the page');
    assert.equal(await page.getAttribute('.cc', 'data-focus'), 'sim-2');
    await page.keyboard.press('Escape');
    await page.waitForSelector('.cc-large', { state: 'detached', ...WAIT });
    await page.waitForFunction(() => document.querySelector('.cc')?.dataset.focus === '', undefined, WAIT);
  });

  it('compares two units side by side, marking the parameters that differ', async () => {
    await unit('sim-1').state.apply({ knee: 12 }, 'api');
    await page.locator(card('sim-1')).getByRole('button', { name: 'Compare', exact: true }).click();
    await page.locator(card('sim-4')).getByRole('button', { name: 'Compare', exact: true }).click();
    await page.waitForSelector('.cc-compare[data-a="sim-1"][data-b="sim-4"]', WAIT);
    await page.waitForSelector('.cc-compare tr.cc-diff[data-param="knee"]', WAIT);
    assert.equal(await page.locator('.cc-compare tr[data-param="attack"].cc-diff').count(), 0);
  });
});

async function waitUntil(pred: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
