// `npm run test:integration`: installs the tooling if needed (setup.sh), prepares a workspace with the models, runs the
// extension test suite inside a real VS Code with @vscode/test-electron's runTests, then the Playwright UI test.
// Set MCU_MEM_DESKTOP=1 on a machine that can download VS Code to run the suite under desktop VS Code instead.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTests } from '@vscode/test-electron';
import { RESULTS, ROOT } from './harness.mjs';

const SHARED_MODEL = join(ROOT, '..', 'shared', 'models', 'tflite', 'person_detect.tflite');

/** A fresh workspace: TFLM's person detection model, our bundled example (ONNX and TFLite), and a broken file. */
export function prepareWorkspace(name) {
  if (!existsSync(SHARED_MODEL)) throw new Error(`the integration tests need ${SHARED_MODEL} (../shared beside the repository)`);
  const dir = join(RESULTS, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  copyFileSync(SHARED_MODEL, join(dir, 'person_detect.tflite'));
  execFileSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'example', join(dir, 'tiny_mobilenet.onnx')], { stdio: 'ignore' });
  execFileSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'example', join(dir, 'tiny_mobilenet.tflite')], { stdio: 'ignore' });
  writeFileSync(join(dir, 'broken.onnx'), Buffer.from('this is not an ONNX model'));
  return dir;
}

/** `npm run package` (production bundles + vsce), then the .vsix unpacked into test-results/vsix. */
function packageExtension() {
  execFileSync('npm', ['run', '--silent', 'package'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const file = join(ROOT, 'mcu-memory-inspector.vsix');
  const out = join(RESULTS, 'vsix');
  rmSync(out, { recursive: true, force: true });
  execFileSync('python3', ['-m', 'zipfile', '-e', file, out]);
  console.log(`packaged ${file}: ${(statSync(file).size / 1024).toFixed(1)} KiB`);
  return join(out, 'extension');
}

async function main() {
  const only = process.argv[2];
  if (!process.env.MCU_MEM_DESKTOP) execFileSync('bash', [join(ROOT, 'scripts', 'integration', 'setup.sh')], { stdio: 'inherit' });
  if (only === 'chart') {
    // `npm run bench`'s time to first chart: the packaged extension; each model opened first in three new windows,
    // then seven times more in the last one (closed in between).
    const workspace = prepareWorkspace('workspace-chart');
    copyFileSync(join(ROOT, '..', 'shared', 'models', 'onnx', 'mobilenet_v2_224.onnx'), join(workspace, 'mobilenet_v2_224.onnx'));
    const { benchFirstChart } = await import('./first-chart.mjs');
    await benchFirstChart(workspace, packageExtension(), ['person_detect.tflite', 'mobilenet_v2_224.onnx'], 3, 7);
    return;
  }
  const started = Date.now();
  if (only !== 'ui') {
    const workspace = prepareWorkspace('workspace-api');
    await runTests({
      ...(process.env.MCU_MEM_DESKTOP ? {} : { vscodeExecutablePath: join(ROOT, 'scripts', 'integration', 'vscode-server-launcher.mjs') }),
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: join(ROOT, 'out', 'integration', 'test', 'integration', 'suite', 'index.js'),
      launchArgs: [workspace],
    });
    console.log(`integration suite passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  if (only !== 'api' && !process.env.MCU_MEM_DESKTOP) {
    // The UI test runs the packaged extension: the .vsix unpacked, so a file missing from the allowlist fails it.
    const vsix = packageExtension();
    const { runUiTest } = await import('./ui-test.mjs');
    await runUiTest(prepareWorkspace('workspace-ui'), vsix);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
