// TFLM mode without TFLM (issue 15, item 1): the OfflineMemoryAllocation writer keeps everything else in the file, the
// TFLM prediction honours an offline plan, and `mcu-mem optimize` writes only what helps. The comparison with TFLM
// itself is test/corpus/tflm.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { analyzeModel, bestOperatorOrder, greedyBySize, openModelOrThrow, resolveSettings, tflmArena, tflmOfflinePlan, withOfflinePlan, withOperatorOrder, type Graph, type PlanItem } from '../../src/core/index';
import { interleavedBranches } from '../tflm-cases';
import { tflmAllocation } from '../../src/core/tflm/arena';
import { exampleModel } from '../../src/core/testing/examples';
import { TfliteBuilder } from '../../src/core/testing/tflite-builder';
import { main } from '../../src/cli/main';

const open = (bytes: Uint8Array): Graph => openModelOrThrow(bytes, { fileName: 'm.tflite' });

function sameModel(a: Graph, b: Graph): void {
  assert.deepEqual(b.tensors.map((t) => [t.name, t.dtype, t.shape, t.role, t.quant?.scale]), a.tensors.map((t) => [t.name, t.dtype, t.shape, t.role, t.quant?.scale]));
  assert.deepEqual(b.ops.map((o) => [o.sourceType, o.fileInputs, o.outputs, o.attrs]), a.ops.map((o) => [o.sourceType, o.fileInputs, o.outputs, o.attrs]));
  assert.deepEqual([b.inputs, b.outputs], [a.inputs, a.outputs]);
  for (const [i, t] of a.tensors.entries()) {
    const key = t.storage?.[0];
    if (!key) continue;
    assert.deepEqual(b.storage.get(b.tensors[i]!.storage![0]!)!.data!(), a.storage.get(key)!.data!(), `tensor ${t.name}: the same constant bytes`);
  }
}

test('OfflineMemoryAllocation writer: the plan is read back, everything else is unchanged, a second plan replaces the first', () => {
  const b = new TfliteBuilder();
  const x = b.tensor('x', [1, 8, 8, 4], 'int8', undefined, { quant: { scale: [0.1], zeroPoint: [0], axis: 0 } });
  const y = b.tensor('y', [1, 8, 8, 4], 'int8', undefined, { quant: { scale: [0.1], zeroPoint: [0], axis: 0 } });
  b.op('RELU6', [x], [y]);
  b.inputs = [x];
  b.outputs = [y];
  b.addMetadata('min_runtime_version', new TextEncoder().encode('1.5.0'));
  for (const bytes of [exampleModel('tflite'), b.build()]) {
    const before = open(bytes);
    const offsets = before.tensors.map((t, i) => (t.role === 'constant' ? -1 : 16 * i));
    const once = withOfflinePlan(bytes, offsets);
    assert.equal(once.length % 16, bytes.length % 16, 'the file moved by a multiple of 16');
    const g1 = open(once);
    sameModel(before, g1);
    assert.deepEqual(g1.metadata.offlinePlan, { version: 1, subgraphs: 1, offsets });
    assert.deepEqual(g1.metadata.metadataNames, [...(before.metadata.metadataNames ?? []), 'OfflineMemoryAllocation']);
    const other = offsets.map((o) => (o < 0 ? -1 : o + 32));
    const g2 = open(withOfflinePlan(once, other));
    sameModel(before, g2);
    assert.deepEqual(g2.metadata.offlinePlan?.offsets, other);
    assert.equal(g2.metadata.metadataNames?.filter((n) => n === 'OfflineMemoryAllocation').length, 1);
  }
  assert.throws(() => withOfflinePlan(exampleModel('tflite'), [1.5]), /not a valid arena offset/);
});

test('the greedy planner places buffers with a given offset there first and the others around them', () => {
  const items: PlanItem[] = [
    { size: 64, start: 0, end: 2, offset: 128 }, { size: 32, start: 1, end: 3 }, { size: 128, start: 0, end: 1 }, { size: 16, start: 2, end: 2, offset: 0 },
  ];
  const p = greedyBySize(items);
  assert.equal(p.offsets[0], 128);
  assert.equal(p.offsets[3], 0);
  // The 128-byte buffer (steps 0–1) fits below the fixed one at 128 (the one at 0 is alive at step 2 only).
  assert.equal(p.offsets[2], 0);
  // The 32-byte one (steps 1–3) meets all three: [0, 128), [0, 16) and [128, 192) leave no gap; it goes on top.
  assert.equal(p.offsets[1], 192);
  assert.equal(p.size, 224);
});

test('TFLM prediction with an offline plan: TFLM\'s own offsets change nothing; stacked offsets make the head their sum', () => {
  const bytes = exampleModel('tflite');
  const g = open(bytes);
  const base = tflmArena(g);
  assert.ok(base.ok);
  // Stack every planned tensor one above the other: the head is then their summed (16-byte aligned) size.
  const sizes = g.tensors.map((t) => (t.role === 'constant' || !t.shape ? 0 : Math.ceil((t.shape.reduce((a, b) => a * b, 1) * (t.dtype === 'float32' ? 4 : 1)) / 16) * 16));
  let at = 0;
  const stacked = sizes.map((s) => { if (s === 0) return -1; const o = at; at += s; return o; });
  const s = tflmArena(open(withOfflinePlan(bytes, stacked)));
  assert.ok(s.ok);
  assert.equal(s.value.headBytes, at);
  assert.equal(s.value.tailBytes, base.value.tailBytes, 'the tail does not depend on the plan');
  // TFLM's own greedy offsets written as an offline plan: the same head and the same arena.
  const current = tflmAllocation(g);
  assert.ok(current.ok);
  const greedy = greedyBySize(current.value.head.items);
  const own = g.tensors.map(() => -1);
  current.value.head.tensorOf.forEach((t, j) => { if (t >= 0) own[t] = greedy.offsets[j]!; });
  const same = tflmArena(open(withOfflinePlan(bytes, own)));
  assert.ok(same.ok);
  assert.deepEqual([same.value.headBytes, same.value.arenaUsedBytes], [base.value.headBytes, base.value.arenaUsedBytes]);
  const o = tflmOfflinePlan(g);
  if (o.ok) assert.ok(o.value.after.minArenaBytes < base.value.minArenaBytes);
  else assert.match(o.error.message, /already as small/);
});

test('mcu-mem optimize: never over the model, TFLite only, exit 1 when TFLM\'s plan is already as small, else the file is written', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcu-mem-opt-'));
  const model = path.join(dir, 'm.tflite');
  fs.writeFileSync(model, exampleModel('tflite'));
  const onnx = path.join(dir, 'm.onnx');
  fs.writeFileSync(onnx, exampleModel('onnx'));
  const run = (...argv: string[]): number => main(argv, { out: () => undefined, err: () => undefined });
  assert.equal(run('optimize', model, '--out', model), 2);
  assert.equal(run('optimize', onnx, '--out', path.join(dir, 'x.tflite')), 2);
  assert.equal(run('optimize', model), 2, '--out is required');
  const out = path.join(dir, 'opt.tflite');
  const code = run('optimize', model, '--out', out);
  const plan = tflmOfflinePlan(open(exampleModel('tflite')));
  assert.equal(code, plan.ok ? 0 : 1);
  assert.equal(fs.existsSync(out), plan.ok);
  if (plan.ok) assert.deepEqual(open(new Uint8Array(fs.readFileSync(out))).metadata.offlinePlan?.offsets, plan.value.offsets);
});

test('operator order writer: the operators run in the given order, nothing else changes; a non-permutation is refused', () => {
  const bytes = interleavedBranches();
  const g = open(bytes);
  const order = bestOperatorOrder(g);
  assert.deepEqual(order, [0, 2, 1, 3, 4]);
  const out = withOperatorOrder(bytes, order!);
  assert.equal(out.length, bytes.length);
  const g2 = open(out);
  assert.deepEqual(g2.ops.map((o) => o.name), order!.map((i) => g.ops[i]!.name));
  assert.deepEqual(g2.tensors.map((t) => [t.name, t.shape]), g.tensors.map((t) => [t.name, t.shape]));
  // Only the operators vector's offsets differ.
  const diff = [...out].map((v, i) => (v !== bytes[i] ? i : -1)).filter((i) => i >= 0);
  assert.ok(diff.length > 0 && diff[diff.length - 1]! - diff[0]! < 4 * 5, `${diff.length} bytes changed`);
  for (const bad of [[0, 1, 2, 3], [0, 0, 1, 2, 3], [0, 1, 2, 3, 5]]) assert.throws(() => withOperatorOrder(bytes, bad), /permutation/);
  // An order that reads a tensor before it is computed is never proposed; the stored order of a chain is kept.
  assert.equal(bestOperatorOrder(open(exampleModel('tflite'))), null);
  // The report shows what the optimized file gives.
  const rep = analyzeModel(g, 'branches.tflite', resolveSettings([]));
  assert.ok(rep.tflm && rep.tflmOptimized && rep.tflmOptimized.minArenaBytes < rep.tflm.minArenaBytes);
});
