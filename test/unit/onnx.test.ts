import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeGraph, openModel, type ExternalDataHost } from '../../src/core/index';
import { OnnxBuilder } from '../../src/core/testing/onnx-builder';
import { exampleModel } from '../../src/core/testing/examples';
import { open } from '../helpers';

test('ONNX: inputs, initializers as weights, symbolic batch as 1, shapes inferred without value_info', () => {
  const g = open(exampleModel('onnx'));
  assert.equal(g.format, 'onnx');
  assert.equal(g.metadata.opsets?.[''], 13);
  const input = g.tensors[g.inputs[0]!]!;
  assert.deepEqual(input.shape, [1, 3, 96, 96], 'symbolic batch counts as 1');
  assert.equal(input.layout, 'NCHW');
  const convs = g.ops.filter((o) => o.kind === 'Conv2D' || o.kind === 'DepthwiseConv2D');
  assert.equal(convs.filter((o) => o.kind === 'DepthwiseConv2D').length, 4, 'group == Cin convs are depthwise');
  const first = g.tensors[convs[0]!.outputs[0]!]!;
  assert.deepEqual(first.shape, [1, 16, 48, 48]);
  assert.equal(first.shapeFromFile, false, 'inferred, the file stores no value_info');
  assert.deepEqual(g.tensors[g.outputs[0]!]!.shape, [1, 10]);
  assert.ok(g.tensors.filter((t) => t.role === 'constant').every((t) => t.storage && t.storage.length > 0));
});

test('ONNX: Constant nodes are weights, Identity of constants and activations is folded', () => {
  const b = new OnnxBuilder(13);
  const x = b.input('x', [1, 4, 8, 8]);
  b.constantNode('k', [1, 2, 3, 4]);
  const kid = b.op('Identity', ['k']);
  const w = b.init('w', [4, 4, 1, 1]);
  const wid = b.op('Identity', [w]);
  const y = b.op('Conv', [x, wid], { kernel_shape: [1, 1] });
  const yid = b.op('Identity', [y]);
  const z = b.op('Mul', [yid, b.op('Reshape', [kid, b.init('shape', [4], 'int64', [1, 4, 1, 1])])]);
  b.output(z);
  const g = open(b.build());
  assert.deepEqual(g.ops.map((o) => o.sourceType), ['Conv', 'Reshape', 'Mul'], 'Identity nodes are gone');
  assert.ok(g.ops[1]!.folded, 'Reshape of a constant is folded');
  const k = g.tensors.find((t) => t.name === 'k')!;
  assert.equal(k.role, 'constant');
  assert.deepEqual(k.shape, [4]);
  const a = analyzeGraph(g);
  assert.equal(a.ops.length, 2, 'only Conv and Mul execute');
  assert.equal(a.ops[1]!.outputBytes, 4 * 4 * 8 * 8);
  assert.equal(a.flashBytes, 16 + 64 + 32, 'k (16 B), w (64 B), shape (32 B), each once');
});

test('ONNX: opset-dependent attributes (Pad, Squeeze, Reshape as Shape→Gather→Concat)', () => {
  const old = new OnnxBuilder(10);
  let x = old.input('x', [1, 2, 5, 5]);
  x = old.op('Pad', [x], { pads: [0, 0, 1, 1, 0, 0, 1, 1] });
  x = old.op('Squeeze', [old.op('MaxPool', [x], { kernel_shape: [7, 7] })], { axes: [2, 3] });
  old.output(x);
  const g1 = open(old.build());
  assert.deepEqual(g1.tensors[g1.outputs[0]!]!.shape, [1, 2]);

  const b = new OnnxBuilder(13);
  let y = b.input('x', [1, 3, 4, 4]);
  y = b.op('Pad', [y, b.init('pads', [8], 'int64', [0, 0, 2, 2, 0, 0, 0, 0])]);
  const shape = b.op('Shape', [y]);
  const n = b.op('Gather', [shape, b.init('zero', [], 'int64', [0])], { axis: 0 });
  const target = b.op('Concat', [b.op('Unsqueeze', [n, b.init('ax', [1], 'int64', [0])]), b.init('minus1', [1], 'int64', [-1])], { axis: 0 });
  y = b.op('Reshape', [y, target]);
  b.output(y);
  const g2 = open(b.build());
  assert.deepEqual(g2.tensors[g2.outputs[0]!]!.shape, [1, 3 * 6 * 6]);

  // Optional inputs left out with '' shift the ones after them in params; they are read by position.
  const c = new OnnxBuilder(18);
  let z = c.input('x', [1, 3, 4, 4]);
  z = c.op('Pad', [z, c.init('p18', [4], 'int64', [1, 2, 3, 4]), '', c.init('a18', [2], 'int64', [2, 3])]);
  z = c.op('Resize', [z, '', '', c.init('sizes', [4], 'int64', [1, 3, 16, 20])], { mode: 'nearest' });
  z = c.op('Clip', [z, '', c.init('hi', [], 'float32', [2])]);
  c.output(z);
  const g3 = open(c.build());
  assert.deepEqual(g3.tensors[g3.ops[0]!.outputs[0]!]!.shape, [1, 3, 4 + 1 + 3, 4 + 2 + 4]);
  assert.deepEqual(g3.tensors[g3.outputs[0]!]!.shape, [1, 3, 16, 20]);
  assert.deepEqual(g3.ops[1]!.attrs.sizes, [1, 3, 16, 20]);
  assert.equal(g3.ops[2]!.attrs.clipOperands?.[0], -1, 'Clip: min left out');
});

test('ONNX: QDQ and QOperator int8 activations count 1 byte', () => {
  const q = new OnnxBuilder(13);
  const x = q.input('x', [1, 8, 16, 16]);
  const s = q.init('s', [], 'float32', [0.1]);
  const zp = q.init('zp', [], 'int8', [0]);
  const xq = q.op('QuantizeLinear', [x, s, zp]);
  const xd = q.op('DequantizeLinear', [xq, s, zp]);
  const wq = q.init('wq', [8, 8, 1, 1], 'int8');
  const wd = q.op('DequantizeLinear', [wq, s, zp]);
  const y = q.op('Relu', [q.op('Conv', [xd, wd], { kernel_shape: [1, 1] })]);
  const yq = q.op('QuantizeLinear', [y, s, zp]);
  const out = q.op('DequantizeLinear', [yq, s, zp]);
  q.output(out);
  const a = analyzeGraph(open(q.build()));
  assert.deepEqual(a.ops.map((r) => r.op), ['QuantizeLinear', 'Conv+Relu+QuantizeLinear+DequantizeLinear', 'DequantizeLinear']);
  assert.equal(a.ops[1]!.outputBytes, 8 * 16 * 16, 'the conv writes int8');
  assert.equal(a.ops[1]!.liveBytes, 2 * 8 * 16 * 16, 'int8 in + int8 out');
  assert.equal(a.flashBytes, 64 + 4 + 1, 'int8 weights stored once, plus scale and zero point');

  const qo = new OnnxBuilder(13);
  const xi = qo.input('x', [1, 8, 16, 16], 'uint8');
  const sc = qo.init('sc', [], 'float32', [0.1]);
  const z8 = qo.init('z8', [], 'uint8', [128]);
  const w8 = qo.init('w8', [16, 8, 3, 3], 'uint8');
  const yq2 = qo.op('QLinearConv', [xi, sc, z8, w8, sc, z8, sc, z8], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  qo.output(yq2, undefined, 'uint8');
  const g = open(qo.build());
  assert.equal(g.ops[0]!.kind, 'Conv2D');
  assert.equal(g.ops[0]!.attrs.toDType, 'uint8', 'output dtype from y_zero_point');
  assert.equal(g.tensors[g.ops[0]!.outputs[0]!]!.dtype, 'uint8');
  const a2 = analyzeGraph(g);
  assert.equal(a2.ops[0]!.outputBytes, 16 * 16 * 16);
  assert.equal(a2.macs, 16 * 16 * 16 * 8 * 9);
});

test('ONNX: external data is checked inside the model folder, never read; escapes are errors', () => {
  const make = (loc: string): Uint8Array => {
    const b = new OnnxBuilder(13);
    const x = b.input('x', [1, 4]);
    const w = b.externalInit('w', [4, 4], loc);
    b.output(b.op('MatMul', [x, w]));
    return b.build();
  };
  const seen: string[] = [];
  const host: ExternalDataHost = { check: (p, off, len) => { seen.push(`${p}@${off}+${len}`); return null; } };
  const ok = openModel(make('weights/w.bin'), { externalData: host });
  assert.ok(ok.ok);
  assert.deepEqual(seen, ['weights/w.bin@0+64']);
  for (const bad of ['../secret.bin', '/etc/passwd', 'a/../../x.bin', 'C:\\x.bin', 'file:///etc/x']) {
    const r = openModel(make(bad), { externalData: host });
    assert.ok(!r.ok && r.error.code === 'external-data' && /inside the model's folder/.test(r.error.message), `${bad}: ${JSON.stringify(r)}`);
  }
  const missing = openModel(make('w.bin'), { externalData: { check: () => "external data file 'w.bin' does not exist next to the model" } });
  assert.ok(!missing.ok && /does not exist/.test(missing.error.message));
  const noHost = openModel(make('w.bin'));
  assert.ok(!noHost.ok && noHost.error.code === 'external-data');
});

test('ONNX: dangling inputs, cycles and non-batch symbolic dims are named errors', () => {
  const d = new OnnxBuilder(13);
  d.input('x', [1, 4]);
  d.output(d.op('Relu', ['nowhere']));
  let r = openModel(d.build());
  assert.ok(!r.ok && r.error.code === 'bad-graph' && /'nowhere'/.test(r.error.message), JSON.stringify(r));

  const c = new OnnxBuilder(13);
  c.input('x', [1, 4]);
  c.node('Add', ['x', 'b'], {}, ['a']);
  c.node('Relu', ['a'], {}, ['b']);
  c.output('b');
  r = openModel(c.build());
  assert.ok(!r.ok && r.error.code === 'bad-graph' && /cycle/.test(r.error.message), JSON.stringify(r));

  const s = new OnnxBuilder(13);
  s.input('x', [1, 3, 'height', 'width']);
  s.output(s.op('Relu', ['x']));
  r = openModel(s.build());
  assert.ok(!r.ok && r.error.code === 'unsupported' && /symbolic dimension 'height' at axis 2/.test(r.error.message), JSON.stringify(r));
});

test('ONNX: an unknown operator is an unsupported entry; the rest is still analysed', () => {
  const b = new OnnxBuilder(13);
  const x = b.input('x', [1, 4, 8, 8]);
  const y = b.op('Relu', [b.op('Conv', [x, b.init('w', [4, 4, 1, 1])], { kernel_shape: [1, 1] })]);
  const z = b.op('MysteryOp', [y]);
  b.output(z);
  const a = analyzeGraph(open(b.build()));
  assert.equal(a.unsupported.length, 1);
  assert.match(a.unsupported[0]!.reason, /MysteryOp/);
  assert.equal(a.ops[0]!.outputBytes, 4 * 8 * 8 * 4);
  assert.equal(a.complete, false);
});

test('constant data: raw_data is a view of the file, typed fields decode to the same little-endian bytes, external data has none', () => {
  const b = new OnnxBuilder(13);
  const x = b.input('x', [1, 4]);
  const values = [0.5, -1.25, 3, 1e-3, 7, -8, 0.125, 2];
  const raw = b.init('w_raw', [4, 2], 'float32', values);
  const typed = b.typedInit('w_typed', [4, 2], 'float32', values);
  const i64 = b.typedInit('shape_typed', [2], 'int64', [1, -1]);
  const i8 = b.typedInit('q_typed', [3], 'int8', [-128, 0, 127]);
  const a = b.op('MatMul', [x, raw]);
  const c = b.op('MatMul', [x, typed]);
  const s = b.op('Add', [a, c]);
  b.op('Reshape', [s, i64]);
  b.op('DequantizeLinear', [i8, b.init('sc', [], 'float32', [0.5])]);
  b.output(s);
  const g = open(b.build(), 'm.onnx');
  const data = (name: string): Uint8Array => {
    const t = g.tensors.find((x) => x.name === name)!;
    const d = g.storage.get(t.storage![0]!)!;
    assert.ok(d.data, `${name} has data`);
    const bytes = d.data();
    assert.equal(bytes.length, d.bytes);
    return bytes;
  };
  const f32 = (u: Uint8Array): number[] => Array.from(new Float32Array(Uint8Array.from(u).buffer));
  assert.deepEqual(f32(data('w_raw')), values.map((v) => Math.fround(v)));
  assert.deepEqual(Array.from(data('w_typed')), Array.from(data('w_raw')));
  assert.deepEqual(Array.from(new BigInt64Array(Uint8Array.from(data('shape_typed')).buffer)), [1n, -1n]);
  assert.deepEqual(Array.from(new Int8Array(Uint8Array.from(data('q_typed')).buffer)), [-128, 0, 127]);

  const e = new OnnxBuilder(13);
  const ex = e.input('x', [1, 4]);
  e.output(e.op('MatMul', [ex, e.externalInit('w', [4, 2], 'weights.bin')]));
  const host: ExternalDataHost = { check: () => null };
  const r = openModel(e.build(), { fileName: 'e.onnx', externalData: host });
  assert.ok(r.ok);
  const w = r.value.tensors.find((t) => t.name === 'w')!;
  assert.equal(r.value.storage.get(w.storage![0]!)!.data, undefined);
});
