// One esbuild script, four programs: the extension (node, vscode external; its engine split into dist/engine.js so
// activation stays small), its analysis worker thread, the CLI (node) and the webview (browser).
import * as esbuild from 'esbuild';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning', legalComments: 'none' };

const builds = [
  // The extension: registration only; the engine (core + view model) is dist/engine.js, required on first use.
  { ...common, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', platform: 'node', format: 'cjs', target: 'node18', external: ['vscode', './engine.js'],
    // Activation time is measured from the first line of the bundle (module loading included) to the end of activate().
    banner: { js: "'use strict';\nconst __mcuMemLoadStarted = performance.now();" } },
  { ...common, entryPoints: ['src/shared/engine.ts'], outfile: 'dist/engine.js', platform: 'node', format: 'cjs', target: 'node18' },
  // The analysis thread the extension runs per model (core + pipeline), off the extension host's thread.
  { ...common, entryPoints: ['src/node/analysis-worker.ts'], outfile: 'dist/analysis-worker.js', platform: 'node', format: 'cjs', target: 'node18' },
  { ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', platform: 'node', format: 'cjs', target: 'node18', banner: { js: '#!/usr/bin/env node' } },
  { ...common, entryPoints: ['webview/main.ts'], outfile: 'dist/webview.js', platform: 'browser', format: 'iife', target: 'es2020' },
];

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
