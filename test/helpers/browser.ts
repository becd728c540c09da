/**
 * Headless Chromium through playwright-core (Debian's /usr/bin/chromium),
 * with every console error and page error of the page recorded.
 */
import { mkdir } from 'node:fs/promises';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.PICOMP_CHROMIUM ?? '/usr/bin/chromium';

export interface OpenPage {
  readonly browser: Browser;
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console errors, page errors and failed requests, in order. */
  readonly errors: string[];
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

export async function openPage(url: string, viewport = { width: 1440, height: 1100 }): Promise<OpenPage> {
  const browser = await launchBrowser();
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => errors.push(`requestfailed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  return {
    browser, context, page, errors,
    async close() { await browser.close(); },
  };
}

/** Where CI artifacts go (gitignored). */
export async function artifactPath(name: string): Promise<string> {
  await mkdir('test-results', { recursive: true });
  return `test-results/${name}`;
}
