// Time to first chart in a real VS Code (issue 14, item 11): from the Enter that opens a model in Quick Open to the
// Memory View's chart on screen, split where it goes. The webview stamps its own times (body[data-timing]: its
// creation as wall-clock time, then its script, the analysis arriving, the figures, the chart, in ms from its
// creation); the keypress is stamped here. Used by the UI test (a few runs, printed) and by `npm run bench` (more runs,
// a table of medians): opening the same model again closes its editor first, so every run creates a new webview and a
// new analysis thread, as opening a model does.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, startServer } from './harness.mjs';

/** Quick Open `name` and press Enter; resolves with the wall-clock time of the keypress. */
export async function quickOpen(page, name) {
  await page.keyboard.press('Control+P');
  await page.locator('.quick-input-widget').waitFor({ state: 'visible' });
  await page.keyboard.type(name);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor();
  const pressed = Date.now();
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  return pressed;
}

/** Runs a command by its title from the command palette. */
export async function runCommand(page, title) {
  await page.keyboard.press('Control+Shift+P');
  await page.locator('.quick-input-widget').waitFor({ state: 'visible' });
  await page.keyboard.type(title);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor();
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
}

/** The Memory View's webview document (VS Code nests it in two iframes). */
export const memoryView = (page) => page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');

/** Where the time went, in ms from the keypress: the webview created, its script running, the analysis received,
 *  the figures on screen, the chart drawn. */
export async function timeOpen(page, name) {
  const pressed = await quickOpen(page, name);
  const body = memoryView(page).locator(`body[data-timing*='"chart"']:has(h1:text-is("${name}"))`);
  await body.waitFor({ timeout: 60_000 });
  const t = JSON.parse(await body.getAttribute('data-timing'));
  const [resolved, written] = (await body.getAttribute('data-host')).split(',').map(Number);
  const created = t.origin - pressed;
  return {
    resolved: resolved - pressed, written: written - pressed,
    created, script: created + t.script, data: created + t.data, figures: created + t.figures, chart: created + t.chart,
  };
}

/** Opens `name` `runs` times, closing all editors between runs (the first run finds the window as it is). */
export async function timeOpens(page, name, runs) {
  const all = [];
  for (let i = 0; i < runs; i++) {
    if (i > 0) {
      await runCommand(page, 'View: Close All Editors');
      await page.locator('iframe.webview.ready').waitFor({ state: 'detached' });
    }
    all.push(await timeOpen(page, name));
  }
  return all;
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** One line per phase: the median of the first opens (each in a new window) and of the reopens. */
export function firstChartTable(first, again) {
  const phases = ['resolved', 'written', 'created', 'script', 'data', 'figures', 'chart'];
  const words = { resolved: 'editor resolved (extension)', written: 'page written (extension)', created: 'webview created', script: 'its script runs', data: 'analysis received', figures: 'figures on screen', chart: 'chart drawn' };
  const col = (runs, p) => (runs.length ? String(median(runs.map((r) => r[p]))) : '–');
  const lines = [`| ms from Enter | first open in a window (median of ${first.length}) | opened again (median of ${again.length}) |`, '|---|---:|---:|'];
  for (const p of phases) lines.push(`| ${words[p]} | ${col(first, p)} | ${col(again, p)} |`);
  return lines.join('\n');
}

/** The benchmark: per model, `windows` new browser windows on `workspace` (a new profile each, as a new VS Code
 *  window: its first webview), each left 5 s to settle (startup, the extension's spare analysis thread) and the model
 *  opened once; then, in the last window, the model opened `runs` more times. */
export async function benchFirstChart(workspace, extensionPath, models, windows, runs) {
  const server = await startServer({ dataDir: mkdtempSync(join(tmpdir(), 'mcu-mem-chart-')) });
  const browser = await launchBrowser();
  try {
    for (const name of models) {
      const first = [];
      let page = null;
      for (let w = 0; w < windows; w++) {
        await page?.context().close();
        const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
        page = await context.newPage();
        await page.goto(server.url(workspace, { extensionDevelopmentPath: extensionPath }));
        await page.locator('.explorer-folders-view .monaco-list-row', { hasText: name }).waitFor({ timeout: 60_000 });
        await page.waitForTimeout(5000);
        first.push(await timeOpen(page, name));
      }
      const again = (await timeOpens(page, name, runs + 1)).slice(1);
      await page.context().close();
      console.log(`\ntime to first chart in VS Code (Quick Open, Enter, the Memory View's chart): ${name}\n${firstChartTable(first, again)}`);
    }
  } finally {
    await browser.close();
    await server.stop();
  }
}
