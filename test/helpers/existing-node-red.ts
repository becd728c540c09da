/**
 * A Node-RED as a Home Assistant or Node-RED user already runs it: its own
 * Dashboard 2.0 (ui-base at /dashboard with a sidebar, a "Home" page at `/`
 * with a button and a text), its editor on, on loopback and free ports.
 * importInEditor() imports a flow the way a user does, in the real editor
 * in a browser (Import → paste → place → Deploy), so Dashboard 2.0's own
 * editor plugin does what it does on import (it keeps one ui-base and
 * points every page at it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Page } from 'playwright-core';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './node-red.js';

export interface ExistingNodeRed {
  readonly port: number;
  /** http://127.0.0.1:<port> */
  readonly origin: string;
  readonly output: () => string;
  /** Imports `flowJson` in the editor open in `page` and deploys. */
  importInEditor(page: Page, flowJson: string): Promise<void>;
  flows(): Promise<{ id: string; type: string; [k: string]: unknown }[]>;
  stop(): Promise<void>;
}

/** The user's own dashboard: ids of its own, a page at `/`, settings picomp must not take over. */
export const USER_DASHBOARD = [
  {
    id: 'user-base', type: 'ui-base', name: 'My Home', path: '/dashboard', appIcon: '',
    includeClientData: true, acceptsClientConfig: ['ui-notification', 'ui-control'], showPathInSidebar: false,
    headerContent: 'page', navigationStyle: 'default', titleBarStyle: 'default',
    showReconnectNotification: true, notificationDisplayTime: 1, showDisconnectNotification: true, allowInstall: true,
  },
  {
    id: 'user-theme', type: 'ui-theme', name: 'Home theme',
    colors: { surface: '#4a148c', primary: '#8e24aa', bgPage: '#f3e5f5', groupBg: '#ffffff', groupOutline: '#cccccc' },
    sizes: { density: 'default', pagePadding: '12px', groupGap: '12px', groupBorderRadius: '4px', widgetGap: '12px' },
  },
  {
    id: 'user-page', type: 'ui-page', name: 'Home', ui: 'user-base', path: '/', icon: 'home', layout: 'grid',
    theme: 'user-theme', breakpoints: [{ name: 'Default', px: 0, cols: 3 }, { name: 'Desktop', px: 1024, cols: 12 }],
    order: 1, className: '', visible: 'true', disabled: 'false',
  },
  {
    id: 'user-group', type: 'ui-group', name: 'Living room', page: 'user-page', width: '6', height: '1', order: 1,
    showTitle: true, className: '', visible: 'true', disabled: 'false', groupType: 'default',
  },
  { id: 'user-tab', type: 'tab', label: 'My home', disabled: false, info: '', env: [] },
  {
    id: 'user-button', type: 'ui-button', z: 'user-tab', group: 'user-group', name: '', label: 'Lights', order: 1,
    width: 0, height: 0, emulateClick: false, tooltip: '', color: '', bgcolor: '', className: '', icon: '',
    iconPosition: 'left', payload: 'lights on', payloadType: 'str', topic: 'topic', topicType: 'msg',
    buttonColor: '', textColor: '', iconColor: '', enableClick: true, enablePointerdown: false, pointerdownPayload: '',
    pointerdownPayloadType: 'str', enablePointerup: false, pointerupPayload: '', pointerupPayloadType: 'str',
    x: 120, y: 60, wires: [['user-text']],
  },
  {
    id: 'user-text', type: 'ui-text', z: 'user-tab', group: 'user-group', order: 2, width: 0, height: 0, name: '',
    label: 'Last press', format: '{{msg.payload}}', layout: 'row-spread', style: false, font: '', fontSize: 16,
    color: '#717171', wrapText: false, className: '', value: 'payload', valueType: 'msg', x: 320, y: 60, wires: [],
  },
];

export async function startExistingNodeRed(env: Record<string, string>): Promise<ExistingNodeRed> {
  const port = await freePort();
  const userDir = await mkdtemp(join(tmpdir(), 'picomp-existing-node-red-'));
  await writeFile(join(userDir, 'flows.json'), JSON.stringify(USER_DASHBOARD, null, 2));
  await writeFile(join(userDir, 'settings.js'), `module.exports = ${JSON.stringify({
    uiPort: port, uiHost: '127.0.0.1', userDir, flowFile: 'flows.json', credentialSecret: false,
    httpAdminRoot: '/admin', httpNodeRoot: '/',
    externalModules: { autoInstall: false, palette: { allowInstall: false }, modules: { allowInstall: false } },
    diagnostics: { enabled: false, ui: false }, telemetry: { enabled: false }, runtimeState: { enabled: false, ui: false },
    editorTheme: { projects: { enabled: false }, tours: false }, mqttReconnectTime: 1000,
    logging: { console: { level: 'warn', metrics: false, audit: false } },
  })};\n`);
  const redJs = join(createRequire(import.meta.url).resolve('node-red/package.json'), '..', 'red.js');
  const child: ChildProcess = spawn(process.execPath, [redJs, '--settings', join(userDir, 'settings.js'), '--userDir', userDir], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => { out = (out + c.toString()).slice(-8000); });
  child.stderr!.on('data', (c: Buffer) => { out = (out + c.toString()).slice(-8000); });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const origin = `http://127.0.0.1:${port}`;

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(userDir, { recursive: true, force: true });
  };

  const api = async (path: string, init: RequestInit = {}): Promise<Response> => {
    const r = await fetch(origin + '/admin' + path, {
      ...init, headers: { 'Node-RED-API-Version': 'v2', 'Content-Type': 'application/json', ...init.headers },
      signal: AbortSignal.timeout(10_000),
    });
    if (!r.ok) throw new Error(`Node-RED ${init.method ?? 'GET'} ${path}: ${r.status} ${await r.text()}`);
    return r;
  };
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`Node-RED exited: ${out}`);
      try {
        if ((await fetch(origin + '/dashboard', { signal: AbortSignal.timeout(2000) })).ok) break;
      } catch { /* not yet */ }
      if (Date.now() > deadline) throw new Error(`Node-RED did not answer: ${out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (e) {
    await stop();
    throw e;
  }

  const flows = async (): Promise<{ id: string; type: string }[]> =>
    ((await (await api('/flows')).json()) as { flows: { id: string; type: string }[] }).flows;
  return {
    port, origin, output: () => out, stop, flows,
    async importInEditor(page, flowJson) {
      const wait = { timeout: 60_000 };
      await page.goto(origin + '/admin/');
      await page.waitForSelector('#red-ui-header-button-deploy', wait);
      // The palette loads after the deploy button; import needs the node types known.
      await page.waitForSelector('.red-ui-palette-node[data-palette-type="ui-page"], .red-ui-palette-node[data-palette-type="ui-button"]', wait);
      await page.keyboard.press('Control+i');
      const box = '#red-ui-clipboard-dialog-import-text';
      await page.waitForSelector(box, wait);
      await page.fill(box, flowJson);
      // The dialog checks the text on key presses.
      await page.press(box, 'End');
      await page.click('#red-ui-clipboard-dialog-ok', wait);
      // Imported nodes follow the mouse until a click places them.
      await page.mouse.move(600, 500);
      await page.mouse.click(600, 500);
      const before = (await flows()).length;
      await page.click('#red-ui-header-button-deploy', wait);
      // A deploy with warnings (none expected) would ask first.
      const confirm = page.locator('#red-ui-notification-deploy-confirm, .red-ui-notification button:has-text("Confirm deploy")');
      await Promise.race([
        confirm.first().click({ timeout: 5000 }).catch(() => undefined),
        page.waitForSelector('text=Successfully deployed', { timeout: 5000 }).catch(() => undefined),
      ]);
      const deadline = Date.now() + 60_000;
      while ((await flows()).length <= before) {
        if (Date.now() > deadline) throw new Error('the import was not deployed');
        await new Promise((r) => setTimeout(r, 250));
      }
    },
  };
}
