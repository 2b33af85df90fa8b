// Hostile and odd-but-valid files (issue 12, items 4, 6, 7, 8): counts checked before anything is built, graph inputs
// analysed as inputs, named errors instead of internal ones, invalid models reported instead of self-contradicting
// numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Builder } from 'flatbuffers';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { onnx } from 'onnx-proto';
import {
  analyzeGraph, checkExternalLocation, DEFAULT_SETTINGS, generateC, hoverText, LIMITS, listing, openModel, reportMarkdown, runPipeline, settingsLayers,
  type CoreError, type Graph,
} from '../../src/core/index';
import { exampleModel } from '../../src/core/testing/examples';
import { nodeExternalData } from '../../src/node/external-data';
import { scheduleOfMessage } from '../../src/shared/protocol';
import { OnnxBuilder } from '../../src/core/testing/onnx-builder';
import { TfliteBuilder } from '../../src/core/testing/tflite-builder';

function openErr(bytes: Uint8Array, fileName: string): CoreError {
  const r = openModel(bytes, { fileName });
  assert.ok(!r.ok, `${fileName}: expected an error`);
  assert.notEqual(r.error.code, 'internal', r.error.message);
  return r.error;
}

function opened(bytes: Uint8Array, fileName: string): Graph {
  const r = openModel(bytes, { fileName });
  if (!r.ok) throw new Error(`${fileName}: ${r.error.code} ${r.error.message}`);
  return r.value;
}

/** A TFLite file whose subgraph lists `n` tensors that are all the same table. */
function aliasedTflite(n: number): Uint8Array {
  const b = new Builder(1024);
  const name = b.createString('t');
  b.startVector(4, 1, 4); b.addInt32(1); const shape = b.endVector();
  b.startObject(8); b.addFieldOffset(0, shape, 0); b.addFieldOffset(3, name, 0); const tensor = b.endObject();
  b.startVector(4, n, 4);
  for (let i = 0; i < n; i++) b.addOffset(tensor);
  const tensors = b.endVector();
  b.startObject(6); b.addFieldOffset(0, tensors, 0); const sg = b.endObject();
  b.startVector(4, 1, 4); b.addOffset(sg); const sgs = b.endVector();
  b.startObject(8); b.addFieldInt32(0, 3, 0); b.addFieldOffset(2, sgs, 0); const model = b.endObject();
  b.finish(model, 'TFL3');
  return b.asUint8Array();
}

/** An ONNX ModelProto written byte by byte: ir_version 8 and a graph of `n` empty nodes. */
function emptyNodesOnnx(n: number): Uint8Array {
  const graph = new Uint8Array(2 * n);
  for (let i = 0; i < n; i++) graph[2 * i] = 0x0a; // field 1 (node), length 0
  const len: number[] = [];
  let v = graph.length;
  while (v >= 0x80) { len.push((v & 0x7f) | 0x80); v = Math.floor(v / 128); }
  len.push(v);
  return Uint8Array.from([0x08, 0x08, 0x3a, ...len, ...graph]);
}

test('counts before allocation: aliased TFLite tensors and millions of empty ONNX nodes are refused before decoding', () => {
  const aliased = openErr(aliasedTflite(200_000), 'aliased.tflite');
  assert.equal(aliased.code, 'bad-tflite');
  assert.match(aliased.message, /tensors\[1\] is the same table as \[0\] \(aliased entries\)/);
  const many = openErr(aliasedTflite(LIMITS.maxTensors + 1), 'many.tflite');
  assert.equal(many.code, 'too-large');
  assert.match(many.message, /tensors has 1000001 entries \(limit 1000000\)/);
  const nodes = openErr(emptyNodesOnnx(LIMITS.maxOps + 1), 'nodes.onnx');
  assert.equal(nodes.code, 'too-large');
  assert.match(nodes.message, /more than 200000 nodes .* counted before decoding/);
  // Subgraphs nested in attributes are counted too, and their depth is bounded.
  let g = Uint8Array.from([]); // an empty GraphProto
  for (let d = 0; d < 80; d++) {
    const attr = Uint8Array.from([0x32, ...varint(g.length), ...g]); // AttributeProto.g (field 6)
    const node = Uint8Array.from([0x2a, ...varint(attr.length), ...attr]); // NodeProto.attribute (field 5)
    g = Uint8Array.from([0x0a, ...varint(node.length), ...node]); // GraphProto.node (field 1)
  }
  const deep = openErr(Uint8Array.from([0x08, 0x08, 0x3a, ...varint(g.length), ...g]), 'deep.onnx');
  assert.match(deep.message, /nested more than 64 deep/);
});

function varint(v: number): number[] {
  const out: number[] = [];
  while (v >= 0x80) { out.push((v & 0x7f) | 0x80); v = Math.floor(v / 128); }
  out.push(v);
  return out;
}

test('graph inputs are inputs: an ONNX input with a default value, a TFLite input with a data buffer', () => {
  const b = new OnnxBuilder(13);
  b.input('x', [1, 3, 8, 8]);
  b.init('x', [1, 3, 8, 8]); // the default value, as onnx.checker allows
  b.node('Relu', [b.conv('x', 3, 4, 3)], {}, ['y']);
  b.output('y', [1, 4, 8, 8]);
  const a = analyzeGraph(opened(b.build(), 'default.onnx'));
  assert.equal(a.inputs[0]!.name, 'x');
  assert.equal(a.peakBytes, 3 * 64 * 4 + 4 * 64 * 4, 'the input and the conv output are live: nothing folded');
  assert.equal(a.flashBytes, (4 * 3 * 9 + 4) * 4, 'the weights only, not the input\'s default value');

  // Weights that an exporter also lists as inputs (keep_initializers_as_inputs) stay weights.
  const k = new OnnxBuilder(13);
  k.input('x', [1, 3, 8, 8]);
  const y = k.conv('x', 3, 4, 3);
  k.output(y, [1, 4, 8, 8]);
  const withWeightsAsInputs = opened(k.build(), 'k.onnx');
  assert.equal(withWeightsAsInputs.inputs.length, 1);

  const t = new TfliteBuilder();
  const x = t.constant('x', [1, 4, 4, 2], 'int8');
  const out = t.tensor('y', [1, 4, 4, 2], 'int8');
  t.op('RELU6', [x], [out]);
  t.inputs = [x];
  t.outputs = [out];
  const ta = analyzeGraph(opened(t.build(), 'buffer.tflite'));
  assert.equal(ta.peakBytes, 64);
  assert.equal(ta.flashBytes, 0);
});

test('named errors instead of internal ones: ConstantOfShape of a negative size, outputs that are no tensor, a left-out operand in C export', () => {
  const b = new OnnxBuilder(13);
  const x = b.input('x', [1, 4]);
  const shape = b.init('shape', [2], 'int64', [1, -20]);
  const c = b.op('ConstantOfShape', [shape]);
  b.node('Add', [x, c], {}, ['y']);
  b.output('y');
  const r = openModel(b.build(), { fileName: 'neg.onnx' });
  assert.ok(!r.ok ? r.error.code !== 'internal' : true, !r.ok ? r.error.message : '');
  if (r.ok) analyzeGraph(r.value);

  const e = new OnnxBuilder(13);
  e.input('x', [1, 4]);
  e.node('Relu', ['x'], {}, ['y']);
  e.output('');
  assert.match(openErr(e.build(), 'empty-output.onnx').message, /graph output has an empty name/);

  const t = new TfliteBuilder();
  const tx = t.tensor('x', [1, 4], 'int8');
  t.inputs = [tx];
  t.outputs = [-1];
  assert.match(openErr(t.build(), 'minus.tflite').message, /subgraph output -1 is not a tensor/);

  // FULLY_CONNECTED with its weights left out (-1): refused by name in C export.
  const f = new TfliteBuilder();
  const q = { scale: [0.1], zeroPoint: [0], axis: 0 };
  const fx = f.tensor('x', [1, 4], 'int8', undefined, { quant: q });
  const fy = f.tensor('y', [1, 4], 'int8', undefined, { quant: q });
  f.op('FULLY_CONNECTED', [fx, -1, -1], [fy]);
  f.inputs = [fx];
  f.outputs = [fy];
  const g = openModel(f.build(), { fileName: 'fc.tflite' });
  if (g.ok) {
    const cg = generateC(g.value);
    assert.ok(!cg.ok);
    assert.notEqual(cg.error.code, 'internal', cg.error.message);
  } else assert.notEqual(g.error.code, 'internal', g.error.message);
});

test('invalid models are reported, not analysed with self-contradicting numbers', () => {
  const cases: [string, (b: OnnxBuilder, x: string) => void, RegExp][] = [
    ['squeeze of a size-3 axis', (b, x) => b.node('Squeeze', [x, b.init('ax', [1], 'int64', [1])], {}, ['y']), /axis 1 has size 3/],
    ['transpose with a repeated perm', (b, x) => b.node('Transpose', [x], { perm: [0, 1, 1, 3] }, ['y']), /not a permutation/],
    ['concat axis -10', (b, x) => b.node('Concat', [x, x], { axis: -10 }, ['y']), /concatenation axis -10 is outside/],
    ['concat axis 2^40', (b, x) => b.node('Concat', [x, x], { axis: 2 ** 40 }, ['y']), /outside the 4 axes/],
    ['concat of mismatched shapes', (b, x) => b.node('Concat', [x, b.op('MaxPool', [x], { kernel_shape: [2, 2], strides: [2, 2] })], { axis: 1 }, ['y']), /differ outside axis 1/],
    ['split sizes that do not add up', (b, x) => b.node('Split', [x, b.init('sp', [2], 'int64', [1, 1])], { axis: 1 }, ['y', 'z']), /do not add up to the 3 of axis 1/],
    ['ConvTranspose with group 0', (b, x) => b.node('ConvTranspose', [x, b.init('wt', [3, 2, 3, 3])], { group: 0, kernel_shape: [3, 3] }, ['y']), /group 0/],
    ['Conv with group 0', (b, x) => b.node('Conv', [x, b.init('wc', [3, 3, 3, 3])], { group: 0, kernel_shape: [3, 3] }, ['y']), /group 0 does not divide/],
  ];
  for (const [what, build, re] of cases) {
    const b = new OnnxBuilder(13);
    const x = b.input('x', [1, 3, 8, 8]);
    build(b, x);
    b.output('y');
    const r = openModel(b.build(), { fileName: `${what}.onnx` });
    if (!r.ok) {
      assert.notEqual(r.error.code, 'internal', `${what}: ${r.error.message}`);
      assert.match(r.error.message, re, what);
      continue;
    }
    const a = analyzeGraph(r.value);
    assert.equal(a.complete, false, `${what}: accepted as complete`);
    assert.match(a.unsupported.map((u) => u.reason).join('; '), re, what);
    assert.ok(a.ops.every((o) => Number.isFinite(o.macs)), `${what}: MACs not finite`);
  }
});

test('untrusted workspaces: the webview\'s applySchedule is checked; Restricted Mode ignores the deployment file\'s reorder and output folder', () => {
  assert.deepEqual(scheduleOfMessage({ after: 'act_10', tiles: [2, 3] }), { after: 'act_10', tiles: [2, 3] });
  assert.equal(scheduleOfMessage('auto'), 'auto');
  assert.deepEqual(scheduleOfMessage({ lines: { maxRam: 20456 } }), { lines: { maxRam: 20456 } });
  for (const bad of [{ lines: { maxRam: 0 } }, { lines: { maxRam: '64K' } }, { lines: { maxRam: 1.5 } }, { lines: { maxRam: 1, x: 2 } }, { lines: {} }, { lines: null },
    { lines: { maxRam: 100 }, after: 'x' }, { lines: { maxRam: 2 ** 60 } }]) {
    assert.equal(scheduleOfMessage(bad), null, JSON.stringify(bad));
  }
  for (const bad of [null, 7, 'rm -rf', { after: 'x', tiles: [0, 2] }, { after: 'x', tiles: [2, 2, 2] }, { after: -1, tiles: [1, 1] },
    { after: 'x'.repeat(2000), tiles: [1, 1] }, { after: 'x', tiles: [1, 1], target: 'evil' }, { after: 'x', tiles: ['1', 1] }, [1, 2]]) {
    assert.equal(scheduleOfMessage(bad), null, JSON.stringify(bad));
  }
  const text = '{"target": "STM32H743", "conventions": {"reorder": true}, "codegen": {"outputFolder": "../../elsewhere"}}';
  const run = (restricted: boolean) => {
    const r = runPipeline({ bytes: exampleModel('tflite'), fileName: 'm.tflite', base: settingsLayers(DEFAULT_SETTINGS), deploymentText: text, restricted });
    assert.ok(r.ok);
    return r.value.report;
  };
  const trusted = run(false);
  assert.equal(trusted.effective.conventions.reorder, true);
  assert.equal(trusted.effective.codegenOutputFolder, '../../elsewhere');
  const restricted = run(true);
  assert.equal(restricted.effective.conventions.reorder, false);
  assert.equal(restricted.effective.codegenOutputFolder, DEFAULT_SETTINGS.codegenOutputFolder);
  assert.equal(restricted.effective.target?.name, 'STM32H743', 'the rest of the file applies');
  const said = restricted.findings.filter((f) => f.code === 'deployment').map((f) => f.message).join('\n');
  assert.match(said, /conventions\.reorder\): ignored in Restricted Mode/);
  assert.match(said, /codegen\.outputFolder\): ignored in Restricted Mode/);
});

test('small ones: ..w.bin is inside the folder; a negative batch dimension is a batch of 1; names cannot break Markdown, hovers or the listing', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcu-mem-ext-'));
  fs.writeFileSync(path.join(dir, '..w.bin'), new Uint8Array(64));
  assert.equal(checkExternalLocation('..w.bin', 'w'), '..w.bin');
  assert.equal(nodeExternalData(dir).check('..w.bin', 0, 64), null);
  assert.match(nodeExternalData(dir).check('../x.bin', 0, 4) ?? '', /does not exist|outside/);

  const b = new OnnxBuilder(13);
  b.input('x', [-1, 3, 8, 8]);
  b.node('Relu', ['x'], {}, ['y']);
  b.output('y');
  assert.deepEqual(opened(b.build(), 'neg-batch.onnx').tensors.find((t) => t.name === 'x')?.shape, [1, 3, 8, 8]);

  const evil = 'a|b`c\n# heading\r\u202e**bold**';
  const n = new OnnxBuilder(13);
  n.input('x', [1, 4]);
  n.node('Relu', ['x'], {}, [evil]);
  n.output(evil);
  const r = runPipeline({ bytes: n.build((nm) => (nm === 'Relu_0' ? `${evil}node` : nm)), fileName: 'evil.onnx', base: settingsLayers(DEFAULT_SETTINGS), deploymentText: null });
  assert.ok(r.ok);
  const rep = r.value.report;
  const table = reportMarkdown(rep).split('\n').filter((l) => l.startsWith('| 0 |'));
  assert.equal(table.length, 1, 'the layer row stays one line');
  assert.equal(table[0]!.split(/(?<!\\)\|/).length, 10, `8 cells: ${table[0]}`);
  const hover = hoverText(rep, 0)!.split('\n')[0]!;
  assert.match(hover, /^\*\*#0 Relu\*\* ``+ .* ``+$/);
  assert.ok(!hover.includes('\n') && !hover.includes('\u202e'));
  const l = listing(rep);
  assert.equal(l.text.split('\n').length, 4 + 1, 'header lines + one line per step');
});

test('the bundled CLI opens an ONNX file with an empty initializer without a deprecation warning (DEP0005)', () => {
  // protobufjs makes empty bytes fields with `new Buffer(0)` when handed a Node Buffer; Node warns only outside
  // node_modules, so only the bundle (dist/cli.js) showed it.
  const cli = path.resolve(__dirname, '../../../dist/cli.js');
  assert.ok(fs.existsSync(cli), 'npm run build makes dist/cli.js');
  const b = new OnnxBuilder(13);
  b.input('x', [1, 4]);
  b.node('Relu', ['x'], {}, ['y']);
  b.output('y');
  const m = onnx.ModelProto.decode(b.build());
  m.graph!.initializer!.push(onnx.TensorProto.create({ name: 'empty', dataType: 1, dims: [0], rawData: new Uint8Array(0) }));
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mcu-mem-dep-')), 'empty-init.onnx');
  fs.writeFileSync(file, onnx.ModelProto.encode(m).finish());
  const run = spawnSync(process.execPath, [cli, 'analyze', file], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.doesNotMatch(run.stderr, /DEP0005|DeprecationWarning/);
});

test('hostile deployment files (fuzz): never an exception, never reorder or an output folder in Restricted Mode, problems named', () => {
  let seed = 99;
  const r = (): number => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const values: unknown[] = [null, true, 0, -1, 1e308, NaN, 2 ** 53, '', 'auto', 'none', 'lines', '../../x', '*/ ASSERT(0) /*', 'STM32F746', '1K', '-5K', '9999999999M',
    [], [1, 2], [0, 0], { after: 'x', tiles: [1, 1] }, { after: -3, tiles: [99, 1] }, { name: 'b', sram: '64K', flash: '1M' }, { name: 'b', sram: 'x', flash: 1 },
    { name: 'r', flash: '1M', regions: [{ name: '*/ x /*', size: '1K' }, { name: 'P', size: '9999999999M', speed: 'external', address: '0xffffffff' }] },
    { name: 'r', flash: '1M', regions: [{ name: 'S', size: 0 }, { name: 'T', size: '64K', arena: false }] },
    { name: 'r', flash: '1M', regions: Array.from({ length: 17 }, (_, i) => ({ name: `R${i}`, size: '1K' })) },
    { name: 'r', flash: '1M', regions: [{ name: 'F', size: '1M', kind: 'flash' }] }, { name: 'r', sram: '8K', flash: '1M', regions: [{ name: 'A', size: '2K' }, { name: 'B', size: '1K', speed: 'tcm' }] },
    { reorder: true }, { reorder: 'yes' }, { asInt8: true, evil: true }, { outputFolder: '/etc' }, { __proto__: { reorder: true } }];
  const keys = ['target', 'reserve', 'conventions', 'schedule', 'maxMacsOverhead', 'codegen', '$schema', 'extra', '__proto__', 'constructor'];
  const model = exampleModel('tflite');
  for (let i = 0; i < 300; i++) {
    const o: Record<string, unknown> = {};
    for (let k = 0; k < 1 + Math.floor(r() * 5); k++) o[pick(keys)] = pick(values);
    if (r() < 0.5) o['conventions'] = { reorder: true };
    const text = r() < 0.1 ? JSON.stringify(o).slice(0, Math.floor(r() * 40)) : JSON.stringify(o);
    for (const restricted of [false, true]) {
      const p = runPipeline({ bytes: model, fileName: 'm.tflite', base: settingsLayers(DEFAULT_SETTINGS), deploymentText: text, restricted });
      assert.ok(p.ok || p.error.code !== 'internal', `${text}: ${p.ok ? '' : p.error.message}`);
      if (!p.ok) continue;
      const e = p.value.report.effective;
      if (restricted) {
        assert.notEqual(e.conventions.reorder, true, text);
        assert.equal(e.codegenOutputFolder, DEFAULT_SETTINGS.codegenOutputFolder, text);
      }
      for (const f of p.value.report.findings) assert.ok(f.message.length > 5, text);
    }
  }
});
