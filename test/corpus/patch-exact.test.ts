// Patch-based C export == per-layer C export, bit for bit (issue 16, item 0), on every model that exports: every
// shared model and both bundled examples, with every schedule the search puts first (what "auto" applies and the
// first Pareto candidate the views offer). A wrong region, view or tile loop changes some output value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_MAX_OVERHEAD, firmwareFootprint, openModelOrThrow, scheduleContext, searchSchedules, type Graph } from '../../src/core/index';
import { exampleModel } from '../../src/core/testing/examples';
import { buildAndRun, bytesOf, HAVE_CC, randomFloats, randomInt8 } from '../codegen-helpers';
import { listSharedModels } from '../helpers';

test('patch-based export equals per-layer export bit for bit, on every model that exports and every schedule the search puts first', { skip: HAVE_CC ? false : 'no C compiler (cc) and make on this machine', timeout: 1_800_000 }, () => {
  const models: [string, Uint8Array][] = [
    ['example.tflite', exampleModel('tflite')], ['example.onnx', exampleModel('onnx')],
    ...listSharedModels().filter((f) => /\.(onnx|tflite)$/.test(f)).map((f): [string, Uint8Array] => [path.basename(f), new Uint8Array(fs.readFileSync(f))]),
  ];
  let exported = 0;
  let schedules = 0;
  for (const [name, bytes] of models) {
    const graph: Graph = openModelOrThrow(bytes, { fileName: name });
    if (!firmwareFootprint(graph).ok) continue; // not exportable: its reason is tested elsewhere
    exported++;
    const ctx = scheduleContext(graph);
    const found = searchSchedules(ctx, { maxOverhead: DEFAULT_MAX_OVERHEAD });
    const first = [found.best, found.pareto[0]].filter((c, i, all): c is NonNullable<typeof c> => !!c && all.findIndex((d) => d?.split === c.split && d.p === c.p && d.q === c.q) === i);
    if (first.length === 0) continue;
    const t = graph.tensors[graph.inputs[0]!]!;
    const n = t.shape!.reduce((a, b) => a * b, 1);
    const input = t.dtype === 'float32' ? bytesOf(randomFloats(n, 7, -1, 1)) : bytesOf(randomInt8(n, 7));
    const layer = buildAndRun(graph, {}, input).values;
    for (const c of first) {
      const schedule = { split: c.split, p: c.p, q: c.q };
      const patch = buildAndRun(graph, { schedule }, input).values;
      assert.equal(patch.length, layer.length, name);
      const differ = patch.filter((v, i) => !Object.is(v, layer[i])).length;
      assert.equal(differ, 0, `${name}: ${differ} of ${layer.length} outputs differ with the schedule split #${c.split} ${c.p}×${c.q}`);
      schedules++;
    }
  }
  assert.ok(exported >= 10, `${exported} models export`);
  assert.ok(schedules >= 10, `${schedules} schedules compared`);
});
