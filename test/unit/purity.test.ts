// src/core stays pure: no vscode, node: or DOM imports (the core tsconfig enforces it at build time too).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from '../helpers';

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

test('src/core imports nothing from vscode, node: or Node built-ins, and uses no DOM globals', () => {
  const forbidden = /from ['"](vscode|node:[^'"]+|fs|path|os|child_process|crypto|url|util)['"]|require\(['"](vscode|fs|path|node:[^'"]+)['"]\)|\b(document|window|Buffer|process)\./;
  const core = path.join(ROOT, 'src', 'core');
  const bad = files(core).filter((f) => forbidden.test(fs.readFileSync(f, 'utf8')));
  assert.deepEqual(bad.map((f) => path.relative(ROOT, f)), []);
  assert.ok(files(core).length > 10);
});
