import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openModel } from '../../src/core/index';
import { TfliteBuilder } from '../../src/core/testing/tflite-builder';
import { exampleModel } from '../../src/core/testing/examples';
import { open } from '../helpers';

test('TFLite: tensors, dtypes, quantization, operators and options are read', () => {
  const g = open(exampleModel('tflite'));
  assert.equal(g.format, 'tflite');
  const input = g.tensors[g.inputs[0]!]!;
  assert.deepEqual(input.shape, [1, 96, 96, 3]);
  assert.equal(input.dtype, 'int8');
  assert.equal(input.layout, 'NHWC');
  assert.deepEqual(input.quant, { scale: [Math.fround(0.05)], zeroPoint: [-128], axis: 0 });
  const conv = g.ops[0]!;
  assert.equal(conv.kind, 'Conv2D');
  assert.equal(conv.sourceType, 'CONV_2D');
  assert.deepEqual(conv.attrs.spatial?.strides, [2, 2]);
  assert.deepEqual(conv.attrs.spatial?.kernel, [3, 3]);
  assert.equal(conv.attrs.spatial?.padding, 'same_upper');
  assert.deepEqual(conv.attrs.spatial?.pads, [0, 0, 1, 1], 'SAME on 96 with k3 s2 pads 0 before, 1 after (TF rule)');
  assert.equal(conv.attrs.fusedActivation, 'relu6');
  const dw = g.ops.find((o) => o.kind === 'DepthwiseConv2D')!;
  assert.equal(dw.attrs.depthMultiplier, 1);
  const pool = g.ops.find((o) => o.kind === 'AvgPool2D')!;
  assert.deepEqual(pool.attrs.spatial?.kernel, [12, 12]);
  const reshape = g.ops.find((o) => o.kind === 'Reshape')!;
  assert.deepEqual(reshape.attrs.newShape, [1, 64]);
  // weights are constants with storage, not activations
  const w = g.tensors[conv.inputs[1]!]!;
  assert.equal(w.role, 'constant');
  assert.deepEqual(w.shape, [16, 3, 3, 3]);
  assert.equal(g.storage.get(w.storage![0]!)!.bytes, 16 * 27);
  assert.equal(g.notes.filter((n) => /inference gives/.test(n.message)).length, 0, 'inferred shapes equal stored ones');
});

test('TFLite: custom operators are named, variable tensors kept, OfflineMemoryAllocation read', () => {
  const b = new TfliteBuilder();
  const x = b.tensor('x', [1, 8], 'int8');
  const state = b.tensor('state', [1, 16], 'int16', undefined, { variable: true });
  const scratch = b.tensor('scratch', [64], 'uint8');
  const y = b.tensor('y', [1, 8], 'int8');
  b.inputs = [x];
  b.outputs = [y];
  b.op('CUSTOM', [x, state, scratch], [y], [], 'my_npu_op');
  const plan = new Int32Array([1, 1, 4, 0, -1, 32, 96]);
  b.addMetadata('OfflineMemoryAllocation', new Uint8Array(plan.buffer));
  const g = open(b.build());
  assert.equal(g.ops[0]!.kind, 'Custom');
  assert.equal(g.ops[0]!.sourceType, 'CUSTOM:my_npu_op');
  assert.match(g.ops[0]!.unsupported!, /custom operator "my_npu_op"/);
  assert.equal(g.tensors[state]!.role, 'variable');
  assert.deepEqual(g.metadata.offlinePlan, { version: 1, subgraphs: 1, offsets: [0, -1, 32, 96] });
});

test('TFLite: wrong magic, truncation and bad indices are named errors', () => {
  const good = exampleModel('tflite');
  const wrong = good.slice();
  wrong[4] = 0x58;
  let r = openModel(wrong, { fileName: 'm.tflite' });
  assert.ok(!r.ok && r.error.code === 'unknown-format' && /expected identifier 'TFL3'.*found 'XFL3'/.test(r.error.message), JSON.stringify(r));
  r = openModel(good.subarray(0, good.length >> 1), { fileName: 'm.tflite' });
  assert.ok(!r.ok && r.error.code !== 'internal', JSON.stringify(r));
  const b = new TfliteBuilder();
  const x = b.tensor('x', [1, 4], 'int8');
  b.inputs = [x];
  b.outputs = [7];
  r = openModel(b.build());
  assert.ok(!r.ok && r.error.code === 'bad-graph' && /tensor 7/.test(r.error.message), JSON.stringify(r));
});

test('TFLite: absurd dimensions are refused, not allocated', () => {
  const b = new TfliteBuilder();
  const x = b.tensor('huge', [1048576, 1048576], 'int8');
  b.inputs = [x];
  b.outputs = [x];
  const r = openModel(b.build());
  assert.ok(!r.ok && r.error.code === 'too-large' && /2\^40/.test(r.error.message), JSON.stringify(r));
});

test('TFLite: an operator reading a tensor nothing produces is a dangling edge', () => {
  const b = new TfliteBuilder();
  const x = b.tensor('x', [1, 4, 4, 2], 'int8');
  const ghost = b.tensor('ghost', [1, 4, 4, 2], 'int8');
  const y = b.tensor('y', [1, 4, 4, 2], 'int8');
  b.inputs = [x];
  b.outputs = [y];
  b.op('ADD', [x, ghost], [y], [[0, 'int8', 0]]);
  const r = openModel(b.build());
  assert.ok(!r.ok && r.error.code === 'bad-graph' && /ghost.*dangling/.test(r.error.message), JSON.stringify(r));
});

test('TFLite: an operator reading its own later output is reported as a cycle', () => {
  const b = new TfliteBuilder();
  const x = b.tensor('x', [1, 4], 'int8');
  const a = b.tensor('a', [1, 4], 'int8');
  const c = b.tensor('c', [1, 4], 'int8');
  b.inputs = [x];
  b.outputs = [c];
  b.op('ADD', [x, c], [a], [[0, 'int8', 0]]);
  b.op('ADD', [a, x], [c], [[0, 'int8', 0]]);
  const r = openModel(b.build());
  assert.ok(!r.ok && r.error.code === 'bad-graph' && /before operator #1 produces it/.test(r.error.message), JSON.stringify(r));
});

test('constant data: each buffer is a view of the file with the bytes the writer stored', () => {
  const b = new TfliteBuilder();
  const x = b.tensor('x', [1, 4], 'float32');
  const w = b.constant('w', [2, 4], 'float32', [1, 2, 3, 4, -1, -2, -3, -4]);
  b.constant('q', [3], 'int8', [-128, 5, 127]);
  const y = b.tensor('y', [1, 2], 'float32');
  b.op('FULLY_CONNECTED', [x, w, -1], [y]);
  b.inputs = [x];
  b.outputs = [y];
  const g = open(b.build(), 'm.tflite');
  const data = (name: string): Uint8Array => g.storage.get(g.tensors.find((t) => t.name === name)!.storage![0]!)!.data!();
  assert.deepEqual(Array.from(new Float32Array(Uint8Array.from(data('w')).buffer)), [1, 2, 3, 4, -1, -2, -3, -4]);
  assert.deepEqual(Array.from(new Int8Array(Uint8Array.from(data('q')).buffer)), [-128, 5, 127]);
});
