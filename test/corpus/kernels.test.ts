// The C export's kernels against the real runtimes, one kernel at a time (issue 16, item 4). Each step of a model is
// exported alone and fed the runtime's own values of its operands ("forced"), so differences cannot compound and a
// difference names its step. Two references, each on the same builds:
// - TFLite's own interpreter, in Node: the WASM build of npm @tensorflow/tfjs-tflite with its XNNPACK delegate kept
//   off (test/tflite-reference.ts). Its CONV_2D and FULLY_CONNECTED requantize with one rounding where TFLM's
//   reference kernels (and ours) round twice, and its MEAN rounds where TFLM's truncates: one step apart is allowed.
// - TFLM itself (its 32-bit build under qemu-arm, every tensor dumped): bit for bit, every kernel.
// Inputs: a seeded random one per model; person_detect also TFLM's person and no-person images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { openModelOrThrow } from '../../src/core/index';
import { TfliteBuilder } from '../../src/core/testing/tflite-builder';
import { HAVE_SHARED, sharedModel, tflmImage } from '../helpers';
import { HAVE_CC } from '../codegen-helpers';
import { activationTensors, HAVE_TFLITE, probeModel, tfliteRun } from '../tflite-reference';
import { SKIP_TFLM, tflmTensors } from '../tflm-runner';
import { checkSteps, EXPORTED_TFLITE, kernelRows, kernelTable, randomInput, type KernelRow, type Reference, type StepResult } from '../kernel-check';

const SKIP_TFLITE = HAVE_TFLITE ? false : 'npm @tensorflow/tfjs-tflite is not installed';

test('TFLite in Node: the probe copy runs TFLite\'s built-in kernels (no XNNPACK node, on a float model XNNPACK would take) and shows every tensor asked for', { skip: SKIP_TFLITE }, async () => {
  const b = new TfliteBuilder();
  const x = b.tensor('x', [1, 6, 6, 3], 'float32');
  const h = b.tensor('h', [1, 6, 6, 4], 'float32');
  const y = b.tensor('y', [1, 6, 6, 4], 'float32');
  b.op('CONV_2D', [x, b.constant('w', [4, 3, 3, 3], 'float32'), b.constant('b', [4], 'float32')], [h], [[0, 'int8', 0], [1, 'int32', 1], [2, 'int32', 1], [3, 'int8', 0]]);
  b.op('RELU', [h], [y]);
  b.inputs = [x];
  b.outputs = [y];
  const bytes = b.build();
  const input = new Uint8Array(new Float32Array(108).map((_, i) => (i % 7) - 3).buffer);
  const r = await tfliteRun(bytes, [input], [h, y]);
  assert.deepEqual(r.kernels, ['CONV_2D', 'RELU']);
  const hv = new Float32Array(r.tensors.get(h)!.slice().buffer);
  const yv = new Float32Array(r.tensors.get(y)!.slice().buffer);
  assert.equal(hv.length, 144);
  assert.ok(hv.some((v) => v < 0), 'the hidden tensor before RELU has negative values');
  assert.deepEqual(Array.from(yv), Array.from(hv, (v) => Math.max(0, v)));
  // The copy keeps the original's bytes after a new header: it reads as the same graph with the new outputs.
  const g = openModelOrThrow(probeModel(bytes, [h, y], false), { fileName: 'probe.tflite' });
  assert.deepEqual(g.outputs, [h, y]);
  assert.deepEqual(g.ops.map((o) => o.sourceType), ['CONV_2D', 'RELU']);
});

test('C export kernel by kernel: every step of every exporting shared TFLite model, fed the runtime\'s own operands, gives TFLM\'s result bit for bit and TFLite\'s within one step', { skip: SKIP_TFLITE || (HAVE_CC ? false : 'no C compiler') || (HAVE_SHARED ? false : 'no shared models'), timeout: 1_800_000 }, async (t) => {
  const rows: { tflite: KernelRow[]; tflm: KernelRow[] } = { tflite: [], tflm: [] };
  for (const name of EXPORTED_TFLITE) {
    const bytes = new Uint8Array(fs.readFileSync(sharedModel(`tflite/${name}.tflite`)));
    const graph = openModelOrThrow(bytes, { fileName: `${name}.tflite` });
    const inputs = [randomInput(graph, 11)];
    if (name === 'person_detect') inputs.push(tflmImage(sharedModel('testdata/person.bmp')), tflmImage(sharedModel('testdata/no_person.bmp')));
    const refs: { runtime: 'tflite' | 'tflm'; input: number; tensors: Reference }[] = [];
    for (const [k, input] of inputs.entries()) {
      refs.push({ runtime: 'tflite', input: k, tensors: (await tfliteRun(bytes, [input], activationTensors(graph))).tensors });
      if (!SKIP_TFLM) refs.push({ runtime: 'tflm', input: k, tensors: tflmTensors(bytes, graph, input) });
    }
    const results = await checkSteps(graph, refs.map((r) => r.tensors));
    refs.forEach((ref, k) => {
      const tolerance = (r: StepResult): number => (ref.runtime === 'tflm' ? 0 : r.float ? 1e-6 : 1);
      for (const r of results[k]!) {
        const where = `${name} step #${r.op} ${r.kernel} against ${ref.runtime === 'tflm' ? 'TFLM' : 'TFLite'} (input ${ref.input})`;
        assert.equal(r.error, undefined, `${where}: ${r.error}`);
        assert.ok(r.elements > 0, `${where}: nothing compared`);
        assert.ok(r.worst <= tolerance(r), `${where}: ${r.worst} ${r.float ? 'relative' : 'steps'} apart`);
      }
      if (ref.input === 0) rows[ref.runtime].push(...kernelRows(name, results[k]!));
    });
  }
  const columns = [{ label: 'TFLM', rows: rows.tflm }, { label: 'TFLite', rows: rows.tflite }].filter((c) => c.rows.length);
  t.diagnostic('per model and kernel, seeded random input:');
  for (const line of kernelTable(columns).split('\n')) t.diagnostic(line);
});
