#!/usr/bin/env node
// A "VS Code executable" for @vscode/test-electron's runTests({ vscodeExecutablePath }): it takes the arguments
// runTests gives VS Code (the folder, --extensionDevelopmentPath=, --extensionTestsPath=, --user-data-dir=,
// --extensions-dir=), runs the tests in the VS Code server through headless Chromium, prints the test output and exits
// with the tests' exit code. On a laptop the same suite runs under desktop VS Code by leaving vscodeExecutablePath out.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format } from 'node:util';
import { launchBrowser, RESULTS, startServer } from './harness.mjs';

const TIMEOUT_MS = Number(process.env.MCU_MEM_TEST_TIMEOUT_MS ?? 600_000);

const args = process.argv.slice(2);
const option = (name) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const folder = args.find((a) => !a.startsWith('-'));
const extensionDevelopmentPath = option('extensionDevelopmentPath');
const extensionTestsPath = option('extensionTestsPath');
if (!folder || !extensionDevelopmentPath || !extensionTestsPath) {
  console.error('usage: vscode-server-launcher FOLDER --extensionDevelopmentPath=DIR --extensionTestsPath=FILE');
  process.exit(2);
}

const dataDir = mkdtempSync(join(tmpdir(), 'mcu-mem-vscode-'));
const server = await startServer({
  dataDir,
  userDataDir: option('user-data-dir'),
  extensionsDir: option('extensions-dir'),
  log: (s) => { if (process.env.MCU_MEM_SERVER_LOG) process.stderr.write(s); },
});
const browser = await launchBrowser();
let code = 1;
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const exited = new Promise((resolve) => {
    void page.exposeFunction('codeAutomationExit', (c) => resolve(Number(c)));
  });
  await page.exposeFunction('codeAutomationLog', (type, logArgs) => {
    const text = format(...(Array.isArray(logArgs) ? logArgs : [logArgs]));
    // The workbench's own chatter ("[ChatModelSelection] …") is not the tests' output.
    if (/^\[[A-Za-z]+\] /.test(text) && !process.env.MCU_MEM_SERVER_LOG) return;
    (type === 'error' ? process.stderr : process.stdout).write(`${text}\n`);
  });
  await page.goto(server.url(folder, { extensionDevelopmentPath, extensionTestsPath }));
  code = await Promise.race([exited, new Promise((resolve) => setTimeout(() => { console.error(`tests did not finish in ${TIMEOUT_MS / 1000} s`); resolve(1); }, TIMEOUT_MS))]);
  if (code !== 0) {
    mkdirSync(RESULTS, { recursive: true });
    await page.screenshot({ path: join(RESULTS, 'integration-failure.png') }).catch(() => {});
  }
} catch (e) {
  console.error(e);
  code = 1;
} finally {
  await browser.close().catch(() => {});
  await server.stop();
}
process.exit(code);
