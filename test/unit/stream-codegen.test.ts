// The C export of line-buffered plans (issue 13, item 4 in part): full-row segments streamed through ring buffers
// (row h in slot h mod rows). The output is bit-identical to the per-layer export's, the arena is the plan's, and the
// Cortex-M4 build links and runs under QEMU with the line-buffered arena.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bestStreamPlan, openModelOrThrow, scheduleContext, type Graph } from '../../src/core/index';
import { withoutAccumulation } from '../../src/core/schedule/stream';
import { exampleModel } from '../../src/core/testing/examples';
import { bytesOf, generate, HAVE_CC, make, randomFloats, randomInt8, runHost, tempDir } from '../codegen-helpers';
import { branchyOnnx, chain } from './schedule-fixtures';

const SKIP_CC = HAVE_CC ? false : 'no C compiler (cc) and make on this machine';

function inputOf(graph: Graph, seed: number): Uint8Array {
  const t = graph.tensors[graph.inputs[0]!]!;
  const n = t.shape!.reduce((a, b) => a * b, 1);
  return t.dtype === 'float32' ? bytesOf(randomFloats(n, seed)) : bytesOf(randomInt8(n, seed));
}

test('line-buffered C export: the same output as the per-layer export, bit for bit, at the plan\'s arena', { skip: SKIP_CC, timeout: 600_000 }, () => {
  const root = tempDir('lines');
  try {
    const models: [string, Uint8Array][] = [
      ['chain.onnx', chain('onnx')], ['chain.tflite', chain('tflite')], ['branchy.onnx', branchyOnnx()], ['example.tflite', exampleModel('tflite')],
    ];
    for (const [name, bytes] of models) {
      const graph = openModelOrThrow(bytes, { fileName: name });
      const plan = bestStreamPlan(withoutAccumulation(scheduleContext(graph)));
      assert.ok(plan.segments.length > 0, `${name}: something streams`);
      const input = inputOf(graph, 5);
      const a = path.join(root, `${name}-layers`);
      const b = path.join(root, `${name}-lines`);
      const layers = generate(graph, {}, a);
      const lines = generate(graph, { lineBuffered: true }, b);
      assert.equal(lines.arenaBytes, plan.arenaBytes, `${name}: MODEL_ARENA_BYTES is the plan's arena`);
      assert.ok(lines.arenaBytes < layers.arenaBytes, `${name}: ${lines.arenaBytes} B line-buffered, ${layers.arenaBytes} B per layer`);
      assert.match(fs.readFileSync(path.join(b, 'src', 'model.c'), 'utf8'), /line-buffered/);
      for (const d of [a, b]) { const m = make(d, 'host'); assert.equal(m.status, 0, m.out); }
      assert.deepEqual(runHost(b, input), runHost(a, input), `${name}: outputs`);
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
