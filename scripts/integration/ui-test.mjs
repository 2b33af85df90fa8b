// The UI test: Playwright drives the VS Code server's workbench in headless Chromium like a person. It opens
// person_detect.tflite with Quick Open, waits for the chart inside the Memory View's webview, hovers a bar and reads the
// tooltip, toggles the per-layer chart, picks a target from the status bar's quick pick, and saves screenshots under
// test-results/ (CI keeps them as artifacts). A CSP violation or an error in the webview fails the test.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstChartTable, memoryView, quickOpen, runCommand, timeOpens } from './first-chart.mjs';
import { launchBrowser, RESULTS, ROOT, startServer } from './harness.mjs';

async function step(name, fn) {
  const t = Date.now();
  await fn();
  console.log(`  ✔ ${name} (${Date.now() - t} ms)`);
}


export async function runUiTest(workspace, extensionDevelopmentPath = ROOT) {
  mkdirSync(RESULTS, { recursive: true });
  mkdirSync(join(workspace, '.vscode'), { recursive: true });
  writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({
    'mcuMemory.customTargets': [
      { name: 'Tiny32K', sram: '32KiB', flash: '512KiB' },
      { name: 'TwoRegions', flash: '1M', regions: [{ name: 'DTCM', size: '8K', speed: 'tcm' }, { name: 'SRAM', size: '64K' }] },
    ],
    // Room for the Memory View in the screenshots.
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'chat.disableAIFeatures': true,
    'workbench.editor.enablePreview': false,
  }, null, 2));
  const server = await startServer({ dataDir: mkdtempSync(join(tmpdir(), 'mcu-mem-ui-')) });
  const browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const problems = [];
  page.on('console', (m) => {
    const text = m.text();
    const where = m.location();
    if (/Content Security Policy|Refused to (load|execute|apply)/i.test(text) || (m.type() === 'error' && /webview|chart|mcu/i.test(text))) problems.push(`${text} (at ${where.url}:${where.lineNumber})`);
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  console.log('UI test (Playwright, VS Code server in headless Chromium)');
  try {
    await step('the workbench opens the workspace', async () => {
      await page.goto(server.url(workspace, { extensionDevelopmentPath }));
      await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
      await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'person_detect.tflite' }).waitFor({ timeout: 60_000 });
    });

    await step('Quick Open person_detect.tflite opens the Memory View (and again, closed in between: time to first chart)', async () => {
      const runs = await timeOpens(page, 'person_detect.tflite', 3);
      console.log(`    time to first chart, person_detect.tflite (the window just opened; npm run bench measures more):\n${firstChartTable(runs.slice(0, 1), runs.slice(1)).replace(/^/gm, '      ')}`);
      for (const r of runs) assert.ok(r.created <= r.script && r.script <= r.data && r.data <= r.figures && r.figures <= r.chart, JSON.stringify(r));
      // Room for the Memory View in the screenshots: the secondary side bar (chat) may have opened meanwhile.
      if (await page.locator('.part.auxiliarybar').isVisible()) await runCommand(page, 'View: Toggle Secondary Side Bar Visibility');
    });

    const view = memoryView(page);
    const canvas = view.locator('canvas#chart');
    await step('the chart renders inside the webview', async () => {
      await view.locator('h1', { hasText: 'person_detect.tflite' }).waitFor({ timeout: 60_000 });
      await canvas.waitFor();
      const box = await canvas.boundingBox();
      assert.ok(box && box.width > 200 && box.height > 100, `canvas box ${JSON.stringify(box)}`);
      const text = await view.locator('#root').innerText();
      assert.match(text, /Peak SRAM 55,296 B per layer/);
      assert.match(text, /Target STM32F746/);
      // Round axis steps in the unit engineers use (a power of two: 16/32/64 KiB, 0.5/1 MiB), the peak labelled.
      const axis = await canvas.evaluate((c) => ({ ...c.dataset }));
      const stepBytes = Number(axis.yStep);
      assert.ok(stepBytes >= 256 && (stepBytes & (stepBytes - 1)) === 0, `axis step ${stepBytes}`);
      assert.equal(Number(axis.yMax) % stepBytes, 0);
      assert.equal(axis.peak, 'peak 54.0 KiB');
      // No schedule in force: the "with patch schedule" box is off and disabled.
      await view.locator('label.checkbox:has(input:disabled)', { hasText: 'with patch schedule' }).waitFor();
    });

    await step('the arena view draws the plan: a rectangle per buffer, hover names the tensor', async () => {
      const arena = view.locator('canvas#arena');
      await arena.scrollIntoViewIfNeeded();
      await view.locator('canvas#arena[data-rects]').waitFor();
      assert.ok(Number(await arena.getAttribute('data-rects')) >= 20, 'one rectangle per buffer');
      assert.equal(await arena.getAttribute('data-kinds'), 'tensor');
      const box = await arena.boundingBox();
      const tip = view.locator('#arena-tooltip');
      // Sweep the lower part of the plot (offset 0 is always in use) until a rectangle answers.
      for (let i = 0; i < 40 && !(await tip.isVisible()); i++) await page.mouse.move(box.x + 70 + (i / 40) * (box.width - 80), box.y + box.height - 26);
      assert.ok(await tip.isVisible(), 'no rectangle answered the pointer');
      assert.match(await tip.innerText(), /^'[^']+'\ntensor: [\d,]+ B \([\d.]+ (B|KiB)\) at offset [\d,]+\nalive from step #\d+ to #\d+$/);
      await page.screenshot({ path: join(RESULTS, 'arena-view.png') });
      await page.mouse.move(box.x - 50, box.y - 50);
      await view.locator('h1').scrollIntoViewIfNeeded();
    });

    await step('hovering a bar shows the tooltip with shapes, bytes and MACs', async () => {
      const box = await canvas.boundingBox();
      const tip = view.locator('#chart-tooltip');
      // Per-block chart: the first block holds the peak step #2; hover the left part of the plot.
      await page.mouse.move(box.x + box.width * 0.12, box.y + box.height * 0.6);
      await page.mouse.move(box.x + box.width * 0.13, box.y + box.height * 0.62);
      await tip.waitFor({ state: 'visible' });
      const text = await tip.innerText();
      console.log(`    tooltip: ${text.split('\n').slice(0, 4).join(' | ')}`);
      assert.match(text, /live bytes/);
      assert.match(text, /#\d+ (CONV_2D|DEPTHWISE_CONV_2D) '/);
      assert.match(text, /in 1×\d+×\d+×\d+ \([\d,]+ B\) → out 1×\d+×\d+×\d+ \([\d,]+ B\)/);
      assert.match(text, /live [\d,]+ B, weights [\d,]+ B, MACs [\d,]+/);
      await page.screenshot({ path: join(RESULTS, 'memory-view.png') });
    });

    await step('the per-layer toggle redraws the chart per operator', async () => {
      await view.locator('label.checkbox', { hasText: 'per layer' }).click();
      // The old chart's tooltip does not stay over the new chart.
      await view.locator('#chart-tooltip').waitFor({ state: 'hidden' });
      const box = await canvas.boundingBox();
      await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
      await page.mouse.move(box.x + box.width * 0.51, box.y + box.height * 0.5);
      const tip = view.locator('#chart-tooltip');
      await tip.waitFor({ state: 'visible' });
      assert.match((await tip.innerText()).split('\n')[0], /^#\d+ [A-Z_0-9]+$/);
      await page.screenshot({ path: join(RESULTS, 'memory-view-per-layer.png') });
    });

    await step('the view comes back as it was (setState) after another model was shown in its place', async () => {
      await quickOpen(page, 'tiny_mobilenet.onnx');
      await view.locator('h1', { hasText: 'tiny_mobilenet.onnx' }).waitFor({ timeout: 30_000 });
      await page.locator('.tabs-container .tab', { hasText: 'person_detect.tflite' }).click();
      await view.locator('h1', { hasText: 'person_detect.tflite' }).waitFor({ timeout: 30_000 });
      const checked = await view.locator('label.checkbox', { hasText: 'per layer' }).locator('input').evaluate((e) => e.checked);
      assert.equal(checked, true, 'the per-layer toggle was restored');
    });

    await step('the status bar shows the target; Select Target MCU changes it', async () => {
      const item = page.locator('.statusbar-item', { hasText: 'STM32F746' });
      await item.waitFor();
      assert.match(await item.innerText(), /STM32F746 · 57\/320 KiB/);
      await item.click();
      await page.locator('.quick-input-widget').waitFor({ state: 'visible' });
      await page.keyboard.type('STM32H743');
      const h7 = page.locator('.quick-input-list .monaco-list-row', { hasText: 'STM32H743' }).first();
      await h7.waitFor();
      // Each target with the model's fit on it.
      assert.match(await h7.innerText(), /SRAM \d+% · Flash \d+% · fits/);
      await page.keyboard.press('Enter');
      await page.locator('.statusbar-item', { hasText: 'STM32H743 · 57/512 KiB' }).waitFor();
      await view.locator('h2', { hasText: 'Target STM32H743' }).waitFor();
    });

    await step('for a tiny custom target the status bar turns red and the Problems panel names the peak layer', async () => {
      await page.locator('.statusbar-item', { hasText: 'STM32H743' }).click();
      await page.locator('.quick-input-widget').waitFor({ state: 'visible' });
      await page.keyboard.type('Tiny32K');
      const tiny = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Tiny32K' }).first();
      await tiny.waitFor();
      assert.match(await tiny.innerText(), /SRAM 1\d\d% · Flash \d+% · does not fit \(SRAM\) · fits with a patch schedule \(arena [\d.]+ KiB\)/);
      await page.screenshot({ path: join(RESULTS, 'target-picker.png') });
      await page.keyboard.press('Enter');
      await page.locator('.statusbar-item', { hasText: 'Tiny32K · 57/32 KiB · SRAM over' }).waitFor();
      await view.locator('h2', { hasText: 'Target Tiny32K' }).waitFor();
      assert.ok(Number(await canvas.getAttribute('data-over')) > 0, 'bars above the SRAM line are drawn in the error colour');
      await page.keyboard.press('Control+Shift+M');
      const row = page.locator('.markers-panel .monaco-list-row', { hasText: "exceeds Tiny32K's 32,768 B SRAM by 25,296 B" }).first();
      await row.waitFor({ timeout: 30_000 });
      await page.screenshot({ path: join(RESULTS, 'problems.png') });
    });

    await step('Apply on a candidate schedule writes the deployment file; the peak drops and the stage is marked', async () => {
      await page.keyboard.press('Control+Shift+M'); // close the panel again
      const first = view.locator('.candidates li').first();
      const title = (await first.innerText()).split(' (arena')[0];
      const scaleBefore = await canvas.getAttribute('data-y-max');
      await first.locator('button.button', { hasText: 'Apply' }).click();
      await view.locator('p', { hasText: /^In force: \d+×\d+ tiles after #\d+/ }).waitFor();
      await view.locator('.candidates li', { hasText: title }).locator('.tag', { hasText: 'applied' }).waitFor();
      const text = await view.locator('#root').innerText();
      assert.match(text, /Peak SRAM 55,296 B per layer, [\d,]+ B with the patch schedule/);
      await page.locator('.statusbar-item', { hasText: /Tiny32K · (1\d|2\d|3[0-2])\/32 KiB/ }).waitFor();
      const deployment = JSON.parse(readFileSync(join(workspace, 'person_detect.tflite.mcu.json'), 'utf8'));
      assert.equal(typeof deployment.schedule.after, 'string');
      // Apply re-analyses and so does the deployment file's watcher: the second, identical analysis must not rebuild
      // the view (it used to, detaching the chart under the pointer). The mark set on the chart must survive.
      // The effect is visible: the per-layer bars stay behind the scheduled ones, on the same scale, none above the
      // line any more, the end of the patch stage marked.
      await view.locator('canvas#chart[data-ghost="per layer"]').waitFor();
      await view.locator('label.checkbox:has(input:enabled)', { hasText: 'with patch schedule' }).waitFor();
      // The arena view shows the schedule's plan: tile buffers and the stage output.
      await view.locator('canvas#arena[data-kinds="stage output,tensor,tile buffer"]').waitFor();
      const after = await canvas.evaluate((c) => ({ ...c.dataset }));
      assert.equal(after.yMax, scaleBefore, 'the scale stays fixed while comparing');
      assert.equal(after.over, '0');
      assert.ok(after.stageEnd, 'the end of the patch stage is marked');
      await canvas.evaluate((c) => { c.dataset.mark = 'kept'; });
      await page.waitForTimeout(1500);
      assert.equal(await view.locator('canvas#chart[data-mark="kept"]').count(), 1, 'the identical analysis re-rendered the view');
      await canvas.scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(RESULTS, 'memory-view-scheduled.png') });
    });

    await step('Make It Fit… lists the fixes with their effect and applies the one chosen', async () => {
      await view.locator('button.button', { hasText: 'Run layer by layer' }).click();
      await page.locator('.statusbar-item', { hasText: 'Tiny32K · 57/32 KiB · SRAM over' }).waitFor();
      await view.locator('button.button', { hasText: 'Make It Fit…' }).click();
      await page.locator('.quick-input-widget').waitFor({ state: 'visible' });
      const first = page.locator('.quick-input-list .monaco-list-row').first();
      await first.waitFor();
      assert.match(await first.innerText(), /Run steps 0–\d+ in \d+×\d+ patches: peak 54\.0 KiB → [\d.]+ KiB[\s\S]*SRAM [\d,]+ B of 32,768 B: fits Tiny32K/);
      await page.screenshot({ path: join(RESULTS, 'make-it-fit.png') });
      await page.keyboard.press('Enter');
      await page.locator('.statusbar-item', { hasText: /Tiny32K · (1\d|2\d|3[0-2])\/32 KiB$/ }).waitFor();
      await view.locator('button.button', { hasText: 'Make It Fit…' }).waitFor({ state: 'detached' });
    });

    await step('Stream Rows (Line-Buffered) writes schedule "lines": the view, the arena\'s rings and the status bar follow; back to layer by layer', async () => {
      await view.locator('button.button', { hasText: 'Stream Rows (Line-Buffered)' }).click();
      await view.locator('.tag', { hasText: 'line-buffered in force' }).waitFor({ timeout: 30_000 });
      const deployment = JSON.parse(readFileSync(join(workspace, 'person_detect.tflite.mcu.json'), 'utf8'));
      assert.equal(deployment.schedule, 'lines');
      assert.match(await view.locator('#root').innerText(), /In force: line-buffered, the least peak within \+20% MACs/);
      await view.locator('canvas#arena[data-kinds~="ring"], canvas#arena[data-kinds*="ring"]').first().waitFor();
      await page.locator('.statusbar-item', { hasText: /Tiny32K · (1\d|2\d|3[0-2])\/32 KiB$/ }).waitFor();
      // The chart shows the plan's live bytes, the per-layer ones behind, its streamed segments marked.
      await view.locator('label.checkbox:has(input:enabled)', { hasText: 'line-buffered' }).waitFor();
      await view.locator('canvas#chart[data-ghost="per layer"]').waitFor();
      assert.equal(await canvas.getAttribute('data-over'), '0');
      const segs = (await view.locator('#root').innerText()).match(/streamed: (.*)\./)?.[1]?.split(', ').length ?? 0;
      assert.ok(segs > 0 && Number(await canvas.getAttribute('data-segments')) === segs, `each streamed segment marked (${segs})`);
      await view.locator('h2', { hasText: 'Arena plan (line-buffered)' }).scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(RESULTS, 'memory-view-line-buffered.png') });
      await view.locator('button.button', { hasText: 'Run layer by layer' }).click();
      await view.locator('button.button', { hasText: 'Stream Rows (Line-Buffered)' }).waitFor({ timeout: 30_000 });
    });

    await step('a target with two RAM regions: one gauge per region, the arena view stacked by region', async () => {
      await page.locator('.statusbar-item', { hasText: 'Tiny32K' }).click();
      await page.locator('.quick-input-widget').waitFor({ state: 'visible' });
      await page.keyboard.type('TwoRegions');
      await page.locator('.quick-input-list .monaco-list-row', { hasText: 'TwoRegions' }).first().waitFor();
      await page.keyboard.press('Enter');
      await view.locator('h2', { hasText: 'Target TwoRegions' }).waitFor();
      const rows = await view.locator('table.gauges tbody tr th').allInnerTexts();
      assert.deepEqual(rows.map((r) => r.replace(/\s+/g, ' ').trim()), ['DTCM tcm', 'SRAM sram', 'Flash']);
      await view.locator('canvas#arena[data-regions="DTCM,SRAM"]').waitFor();
      await view.locator('table.gauges').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(RESULTS, 'memory-view-regions.png') });
    });

    await step('a float model offers the as-int8 what-if in one click, and back', async () => {
      await page.locator('.tabs-container .tab', { hasText: 'tiny_mobilenet.onnx' }).click();
      await view.locator('h1', { hasText: 'tiny_mobilenet.onnx' }).waitFor({ timeout: 30_000 });
      const before = await view.locator('#root').innerText();
      const peak = (t) => Number(/Peak SRAM ([\d,]+) B per layer/.exec(t)[1].replace(/,/g, ''));
      await view.locator('button.button', { hasText: 'What If int8?' }).click();
      await view.locator('.tag', { hasText: 'as int8 (what-if)' }).waitFor({ timeout: 30_000 });
      const deployment = JSON.parse(readFileSync(join(workspace, 'tiny_mobilenet.onnx.mcu.json'), 'utf8'));
      assert.equal(deployment.conventions.asInt8, true);
      const after = await view.locator('#root').innerText();
      assert.equal(peak(after) * 4, peak(before), 'every float32 element counted as 1 byte');
      await view.locator('button.button', { hasText: "Back to the Model's Types" }).click();
      await view.locator('button.button', { hasText: 'What If int8?' }).waitFor({ timeout: 30_000 });
    });

    await step('the light theme: the view and its canvases follow it', async () => {
      await page.locator('.tabs-container .tab', { hasText: 'person_detect.tflite' }).click();
      await view.locator('h1', { hasText: 'person_detect.tflite' }).waitFor({ timeout: 30_000 });
      const file = join(workspace, '.vscode', 'settings.json');
      writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), 'workbench.colorTheme': 'Default Light Modern' }, null, 2));
      await page.locator('.monaco-workbench.vs').waitFor({ timeout: 30_000 });
      await view.locator('body.vscode-light').waitFor({ timeout: 30_000 });
      await page.waitForTimeout(500);
      await page.screenshot({ path: join(RESULTS, 'memory-view-light.png') });
    });

    assert.deepEqual(problems, [], `errors in the page:\n${problems.join('\n')}`);
    console.log('UI test passed; screenshots in test-results/');
  } catch (e) {
    await page.screenshot({ path: join(RESULTS, 'ui-failure.png') }).catch(() => {});
    throw e;
  } finally {
    await browser.close().catch(() => {});
    await server.stop();
  }
}
