// Coverage over the gathered public corpus (../shared/corpus/README.md: 2,701 files from 18 repositories), when it is
// present beside the clone as ../corpus or named by MCU_MEM_CORPUS; skipped cleanly otherwise (CI does not have it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { openModelOrThrow } from '../../src/core/index';
import { generate, HAVE_CC, tempDir } from '../codegen-helpers';
import { censusOf } from '../corpus-census';
import { ROOT } from '../helpers';

const DIR = process.env['MCU_MEM_CORPUS'] ?? path.resolve(ROOT, '..', 'corpus');
const SKIP = fs.existsSync(DIR) ? false : `no gathered corpus at ${DIR} (see ../shared/corpus/README.md): skipped`;

test('gathered corpus: every file opens or is refused with a named error; at most 3% of the real models incomplete; C export never fails unnamed', { skip: SKIP, timeout: 600_000 }, () => {
  const entries = censusOf(DIR, true);
  assert.ok(entries.length > 2000, `${entries.length} files`);
  const real = entries.filter((e) => !e.operatorTest);
  const incomplete = real.filter((e) => e.status === 'incomplete');
  assert.ok(incomplete.length <= 0.03 * real.length, `${incomplete.length} of ${real.length} real models incomplete:\n${incomplete.map((e) => `${e.file}: ${e.reasons[0]}`).join('\n')}`);
  for (const e of entries) if (e.status === 'refused') assert.match(e.reasons[0]!, /^[a-z-]+: \S/, e.file);
  // C export of every completely sized model: it succeeds or names what it does not generate, never an internal error.
  const tried = entries.filter((e) => e.codegen !== undefined);
  assert.ok(tried.length > 1000, `${tried.length} exports tried`);
  for (const e of tried) assert.ok(!/^internal error/.test(e.codegen ?? ''), `${e.file}: ${e.codegen}`);
});

test('gathered corpus: every C export compiles (model.c and its kernels; C99, -Wall -Wextra -Werror, as the Makefile builds them)', { skip: SKIP || (HAVE_CC ? false : 'no C compiler'), timeout: 1_200_000 }, () => {
  const root = tempDir('gathered-cc');
  try {
    let compiled = 0;
    const failed: string[] = [];
    for (const e of censusOf(DIR, true)) {
      if (e.status !== 'complete' || e.codegen !== null) continue;
      const graph = openModelOrThrow(new Uint8Array(fs.readFileSync(path.join(DIR, e.file))), { fileName: path.basename(e.file) });
      const dir = path.join(root, String(compiled));
      generate(graph, { source: 'm' }, dir);
      const src = path.join(dir, 'src');
      const r = spawnSync('cc', ['-std=c99', '-Wall', '-Wextra', '-Werror', '-fno-strict-aliasing', '-fsyntax-only', '-I', src, path.join(src, 'model.c'), path.join(src, 'mm_kernels.c')], { encoding: 'utf8' });
      if (r.status !== 0) failed.push(`${e.file}: ${(r.stderr ?? '').split('\n').find((l) => l.includes('error')) ?? r.stderr}`);
      fs.rmSync(dir, { recursive: true, force: true });
      compiled++;
    }
    assert.ok(compiled > 800, `${compiled} exports compiled`);
    assert.deepEqual(failed, []);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
