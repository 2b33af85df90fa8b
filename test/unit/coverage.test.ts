// Coverage (issue 16, item 1): operators beyond the 2-D CNN set are sized (shape rule and MACs from analysis/ops.ts),
// ONNX shape arithmetic computed in the graph is folded, and TFLM's builtin operators are a checklist kept as data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { analyzeGraph, openModel, type Graph } from '../../src/core/index';
import { OP_RULES } from '../../src/core/analysis/ops';
import { TFLM_BUILTINS } from '../../src/core/formats/tflite/tflm-builtins';
import { tfliteKindOf } from '../../src/core/formats/tflite/reader';
import { OnnxBuilder } from '../../src/core/testing/onnx-builder';
import { TfliteBuilder, type TflOp, type TfliteDType } from '../../src/core/testing/tflite-builder';
import { onnxControlFlowModel, open, ROOT } from '../helpers';
import { controlFlowCases } from '../tflm-cases';
import { TfliteBuilder as Tfl } from '../../src/core/testing/tflite-builder';

const shapeOf = (g: Graph, name: string): number[] | null => g.tensors.find((t) => t.name === name)?.shape ?? null;

test('TFLM builtin checklist: every operator TFLM registers is listed, and each one listed as sized has a kind and a rule', () => {
  const header = path.resolve(ROOT, '..', 'shared', 'third_party', 'tflite-micro', 'tensorflow', 'lite', 'micro', 'micro_mutable_op_resolver.h');
  if (fs.existsSync(header)) {
    const registered = new Set([...fs.readFileSync(header, 'utf8').matchAll(/BuiltinOperator_([A-Z0-9_]+)/g)].map((m) => m[1]!));
    assert.deepEqual([...registered].sort(), Object.keys(TFLM_BUILTINS).sort(), 'the checklist is TFLM\'s resolver');
  }
  const sized = Object.entries(TFLM_BUILTINS).filter(([, v]) => v === true).map(([k]) => k);
  // Every builtin but CUSTOM (custom operators are named one by one).
  assert.deepEqual(Object.keys(TFLM_BUILTINS).filter((k) => !sized.includes(k)), ['CUSTOM']);
  for (const name of sized) {
    const kind = tfliteKindOf(name);
    assert.ok(kind !== 'Unknown' && kind !== 'Custom', `${name} has no kind`);
    assert.ok(OP_RULES[kind].shape, name);
  }
  for (const [name, why] of Object.entries(TFLM_BUILTINS)) if (why !== true) assert.equal(typeof why, 'string', name);
});

interface TflCase {
  op: TflOp;
  inputs: ({ shape: number[]; dtype?: TfliteDType; values?: number[] })[];
  out: number[][];
  options?: [number, 'int8' | 'int32' | 'bool', number][];
}

/** One-operator TFLite files with the expected output shapes stored: the analysis must size the operator, infer the
 *  same shapes (a contradiction is a note and a conflict) and count no operator as unsupported. */
const TFL_CASES: Record<string, TflCase> = {
  'PACK of three [2,3] on axis 1': { op: 'PACK', inputs: [{ shape: [2, 3] }, { shape: [2, 3] }, { shape: [2, 3] }], out: [[2, 3, 3]], options: [[0, 'int32', 3], [1, 'int32', 1]] },
  'UNPACK [2,3,4] on axis 1': { op: 'UNPACK', inputs: [{ shape: [2, 3, 4] }], out: [[2, 4], [2, 4], [2, 4]], options: [[0, 'int32', 3], [1, 'int32', 1]] },
  'TILE [2,3] by [2,2]': { op: 'TILE', inputs: [{ shape: [2, 3] }, { shape: [2], dtype: 'int32', values: [2, 2] }], out: [[4, 6]] },
  'SPACE_TO_DEPTH block 2': { op: 'SPACE_TO_DEPTH', inputs: [{ shape: [1, 4, 4, 3] }], out: [[1, 2, 2, 12]], options: [[0, 'int32', 2]] },
  'DEPTH_TO_SPACE block 2': { op: 'DEPTH_TO_SPACE', inputs: [{ shape: [1, 2, 2, 12] }], out: [[1, 4, 4, 3]], options: [[0, 'int32', 2]] },
  'ARG_MAX on axis 1': { op: 'ARG_MAX', inputs: [{ shape: [1, 10] }, { shape: [1], dtype: 'int32', values: [1] }], out: [[1]] },
  'SQUARED_DIFFERENCE broadcast': { op: 'SQUARED_DIFFERENCE', inputs: [{ shape: [1, 4, 4, 3] }, { shape: [3] }], out: [[1, 4, 4, 3]] },
  'GATHER_ND [4,5,6] by [2,2]': { op: 'GATHER_ND', inputs: [{ shape: [4, 5, 6] }, { shape: [2, 2], dtype: 'int32', values: [0, 1, 2, 3] }], out: [[2, 6]] },
  'EQUAL [2,3]': { op: 'EQUAL', inputs: [{ shape: [2, 3] }, { shape: [1, 3] }], out: [[2, 3]] },
  'L2_POOL_2D 2x2 stride 2 VALID': { op: 'L2_POOL_2D', inputs: [{ shape: [1, 8, 8, 4] }], out: [[1, 4, 4, 4]], options: [[0, 'int8', 1], [1, 'int32', 2], [2, 'int32', 2], [3, 'int32', 2], [4, 'int32', 2]] },
  'SPACE_TO_BATCH_ND block 2x2': { op: 'SPACE_TO_BATCH_ND', inputs: [{ shape: [1, 4, 6, 1] }, { shape: [2], dtype: 'int32', values: [2, 2] }, { shape: [2, 2], dtype: 'int32', values: [0, 0, 1, 1] }], out: [[4, 2, 4, 1]] },
  'BATCH_TO_SPACE_ND block 2x2': { op: 'BATCH_TO_SPACE_ND', inputs: [{ shape: [4, 2, 4, 1] }, { shape: [2], dtype: 'int32', values: [2, 2] }, { shape: [2, 2], dtype: 'int32', values: [0, 0, 1, 1] }], out: [[1, 4, 6, 1]] },
  'BROADCAST_TO [1,3] to [2,3]': { op: 'BROADCAST_TO', inputs: [{ shape: [1, 3] }, { shape: [2], dtype: 'int32', values: [2, 3] }], out: [[2, 3]] },
  'FILL [2,3]': { op: 'FILL', inputs: [{ shape: [2], dtype: 'int32', values: [2, 3] }, { shape: [] }], out: [[2, 3]] },
  'SELECT_V2 broadcast': { op: 'SELECT_V2', inputs: [{ shape: [2, 1] }, { shape: [2, 3] }, { shape: [1, 3] }], out: [[2, 3]] },
  'FLOOR [5]': { op: 'FLOOR', inputs: [{ shape: [5], dtype: 'float32' }], out: [[5]] },
  'BATCH_MATMUL [2,4,6]·[2,6,5]': { op: 'BATCH_MATMUL', inputs: [{ shape: [2, 4, 6] }, { shape: [2, 6, 5] }], out: [[2, 4, 5]] },
  'BATCH_MATMUL adj_y [2,4,6]·[2,5,6]ᵀ': { op: 'BATCH_MATMUL', inputs: [{ shape: [2, 4, 6] }, { shape: [2, 5, 6] }], out: [[2, 4, 5]], options: [[0, 'bool', 0], [1, 'bool', 1]] },
  'BATCH_MATMUL adj_x [2,6,4]ᵀ·[2,6,5]': { op: 'BATCH_MATMUL', inputs: [{ shape: [2, 6, 4] }, { shape: [2, 6, 5] }], out: [[2, 4, 5]], options: [[0, 'bool', 1], [1, 'bool', 0]] },
};

function tflCase(c: TflCase, stored: number[][] = c.out): Graph {
  const b = new TfliteBuilder();
  const ins = c.inputs.map((i, k) => (i.values ? b.constant(`in${k}`, i.shape, i.dtype ?? 'int32', i.values) : b.tensor(`in${k}`, i.shape, i.dtype ?? 'int8')));
  const outs = stored.map((s, k) => b.tensor(`out${k}`, s, 'int8'));
  b.op(c.op, ins, outs, c.options ?? []);
  b.inputs = ins.filter((_, k) => !c.inputs[k]!.values);
  b.outputs = outs;
  return open(b.build(), 'case.tflite');
}

test('TFLite: operators beyond the CNN set are sized, their shapes inferred as TFLite defines them', () => {
  for (const [title, c] of Object.entries(TFL_CASES)) {
    const g = tflCase(c);
    const a = analyzeGraph(g);
    assert.deepEqual(a.unsupported, [], title);
    const op = g.ops[0]!;
    assert.equal(op.shapeConflict, undefined, `${title}: ${op.shapeConflict}`);
    op.outputs.forEach((id, k) => {
      assert.deepEqual(g.tensors[id]!.shape, c.out[k], title);
      assert.equal(g.tensors[id]!.shapeInferred, true, `${title}: output ${k} inferred`);
    });
    // Inference runs: a wrong stored shape is reported as a conflict.
    const wrong = tflCase(c, c.out.map((s) => [...s.slice(0, -1), (s.at(-1) ?? 1) + 1]));
    assert.ok(wrong.ops[0]!.shapeConflict, `${title}: a wrong stored shape goes unnoticed`);
  }
});

test('ONNX: 1-D and 3-D convolution and pooling are sized, with MACs', () => {
  const b = new OnnxBuilder(13);
  const x = b.input('x', [1, 2, 10]);
  const c1 = b.op('Conv', [x, b.init('w1', [4, 2, 3])], { pads: [1, 1], strides: [2] });
  const p1 = b.op('MaxPool', [c1], { kernel_shape: [2], strides: [2] });
  b.output(p1);
  const g = open(b.build());
  assert.deepEqual(g.tensors[g.ops[0]!.outputs[0]!]!.shape, [1, 4, 5]);
  assert.deepEqual(g.tensors[g.outputs[0]!]!.shape, [1, 4, 2]);
  const a = analyzeGraph(g);
  assert.deepEqual(a.unsupported, []);
  assert.equal(a.macs, 4 * 5 * 2 * 3, 'Conv1d MACs: outputs × Cin × k');

  const d = new OnnxBuilder(13);
  const y = d.input('y', [1, 1, 4, 6, 6]);
  const c3 = d.op('Conv', [y, d.init('w3', [2, 1, 3, 3, 3])], { pads: [0, 1, 1, 0, 1, 1] });
  d.output(d.op('AveragePool', [c3], { kernel_shape: [2, 2, 2], strides: [2, 2, 2] }));
  const g3 = open(d.build());
  assert.deepEqual(g3.tensors[g3.ops[0]!.outputs[0]!]!.shape, [1, 2, 2, 6, 6]);
  assert.deepEqual(g3.tensors[g3.outputs[0]!]!.shape, [1, 2, 1, 3, 3]);
  const a3 = analyzeGraph(g3);
  assert.deepEqual(a3.unsupported, []);
  assert.equal(a3.macs, 2 * 2 * 6 * 6 * 27);
  assert.equal(g3.ops[0]!.kind, 'ConvNd');
});

test('ONNX: LSTM outputs by position (Y left out), with MACs of every gate', () => {
  const b = new OnnxBuilder(14);
  const x = b.input('x', [5, 1, 3]);
  const [yh, yc] = [b.node('LSTM', [x, b.init('W', [1, 16, 3]), b.init('R', [1, 16, 4])], { hidden_size: 4 }, ['', 'y_h', 'y_c'])].map((o) => o)[0]!.slice(1);
  b.output(yh!);
  b.output(yc!);
  const g = open(b.build());
  assert.deepEqual(shapeOf(g, 'y_h'), [1, 1, 4]);
  assert.deepEqual(shapeOf(g, 'y_c'), [1, 1, 4]);
  const a = analyzeGraph(g);
  assert.deepEqual(a.unsupported, []);
  assert.equal(a.macs, 5 * 4 * 4 * (3 + 4));
});

test('ONNX: Attention (opset 23: 3-D with head counts, 4-D, a past key and value, outputs left out), GridSample, GatherElements and CumProd are sized', () => {
  // 3-D: Q [2, 4, 3 heads × 8], K [2, 6, 1 head × 8], V [2, 6, 1 head × 5]; past key and value of 2 steps.
  const b = new OnnxBuilder(23);
  const [y, pk, pv, qk] = b.node('Attention', [b.input('q', [2, 4, 24]), b.input('k', [2, 6, 8]), b.input('v', [2, 6, 5]), '', b.input('pk', [2, 1, 2, 8]), b.input('pv', [2, 1, 2, 5])],
    { q_num_heads: 3, kv_num_heads: 1 }, ['y', 'present_key', 'present_value', 'qk']);
  for (const o of [y!, pk!, pv!, qk!]) b.output(o);
  const g = open(b.build());
  assert.deepEqual(shapeOf(g, 'y'), [2, 4, 15]);
  assert.deepEqual(shapeOf(g, 'present_key'), [2, 1, 8, 8]);
  assert.deepEqual(shapeOf(g, 'present_value'), [2, 1, 8, 5]);
  assert.deepEqual(shapeOf(g, 'qk'), [2, 3, 4, 8]);
  const a = analyzeGraph(g);
  assert.deepEqual(a.unsupported, []);
  assert.equal(a.macs, 2 * 3 * 4 * 8 * (8 + 5), 'QK^T and the weighted V per query head');
  // 4-D, only Y and the QK product asked for (the presents left out).
  const b4 = new OnnxBuilder(23);
  const outs = b4.node('Attention', [b4.input('q', [1, 4, 5, 16]), b4.input('k', [1, 2, 7, 16]), b4.input('v', [1, 2, 7, 12])], {}, ['y', '', '', 'qk']);
  b4.output(outs[0]!);
  b4.output(outs[3]!);
  const g4 = open(b4.build());
  assert.deepEqual(shapeOf(g4, 'y'), [1, 4, 5, 12]);
  assert.deepEqual(shapeOf(g4, 'qk'), [1, 4, 5, 7]);
  // GridSample: a 2-D map sampled at a 3×6 grid; GatherElements: the indices' shape, the data's type; CumProd.
  const b2 = new OnnxBuilder(20);
  const x = b2.input('x', [1, 3, 8, 8]);
  b2.output(b2.node('GridSample', [x, b2.input('grid', [1, 3, 6, 2])], {}, ['gs'])[0]!);
  b2.output(b2.node('GatherElements', [x, b2.input('idx', [1, 3, 2, 8], 'int64')], { axis: 2 }, ['ge'])[0]!);
  b2.output(b2.node('CumProd', [x, b2.init('axis', [], 'int64', [3])], {}, ['cp'])[0]!);
  const g2 = open(b2.build());
  assert.deepEqual(shapeOf(g2, 'gs'), [1, 3, 3, 6]);
  assert.deepEqual(shapeOf(g2, 'ge'), [1, 3, 2, 8]);
  assert.equal(g2.tensors.find((t) => t.name === 'ge')!.dtype, 'float32');
  assert.deepEqual(shapeOf(g2, 'cp'), [1, 3, 8, 8]);
  assert.deepEqual(analyzeGraph(g2).unsupported, []);
  // A grid that does not match the input's rank: the operator is left unsized, with the reason.
  const bad = new OnnxBuilder(20);
  bad.output(bad.node('GridSample', [bad.input('x', [1, 3, 8, 8]), bad.input('grid', [1, 3, 6, 3])], {}, ['gs'])[0]!);
  const ab = analyzeGraph(open(bad.build()));
  assert.equal(ab.complete, false);
  assert.match(ab.unsupported[0]!.reason, /grid \[1,3,6,3\] does not sample the 2-D input/);
});

test('ONNX: shape arithmetic computed in the graph is folded (torch.chunk as Shape→Gather→Div→Slice; Shape start/end; Size→Range)', () => {
  const b = new OnnxBuilder(15);
  const x = b.input('x', [1, 8, 4, 4]);
  const shape = b.op('Shape', [x]);
  const c = b.op('Gather', [shape, b.init('one', [], 'int64', [1])], { axis: 0 });
  const half = b.op('Unsqueeze', [b.op('Div', [c, b.init('two', [], 'int64', [2])]), b.init('ax0', [1], 'int64', [0])]);
  const axes = b.init('axes1', [1], 'int64', [1]);
  const lo = b.op('Slice', [x, b.init('zero', [1], 'int64', [0]), half, axes]);
  const hi = b.op('Slice', [x, half, b.init('big', [1], 'int64', [2 ** 31 - 1]), axes]);
  b.output(b.op('Add', [lo, hi]));
  // Shape with start: the spatial dims only; ConstantOfShape of them.
  b.output(b.op('ConstantOfShape', [b.op('Shape', [x], { start: 2 })]));
  // Size → Range: as many values as x has elements.
  b.output(b.op('Range', [b.init('r0', [], 'int64', [0]), b.op('Size', [x]), b.init('r1', [], 'int64', [1])]));
  const g = open(b.build());
  const a = analyzeGraph(g);
  assert.deepEqual(a.unsupported, []);
  const outs = g.outputs.map((id) => g.tensors[id]!.shape);
  assert.deepEqual(outs, [[1, 4, 4, 4], [4, 4], [128]]);
});

test('ONNX: comparison, Where, CastLike, Tile, Expand, DepthToSpace, ArgMax, Dropout with its mask, Deeploy RequantShift', () => {
  const b = new OnnxBuilder(13);
  const x = b.input('x', [1, 8, 2, 3]);
  const m = b.op('Equal', [x, b.init('z', [1], 'float32', [0])]);
  const w = b.op('Where', [m, x, b.init('k', [3], 'float32', [1, 2, 3])]);
  const cl = b.op('CastLike', [w, b.init('i', [1], 'int32', [0])]);
  const t = b.op('Tile', [cl, b.init('rep', [4], 'int64', [1, 1, 2, 1])]);
  const e = b.op('Expand', [x, b.init('to', [4], 'int64', [2, 1, 1, 1])]);
  const d2s = b.op('DepthToSpace', [x], { blocksize: 2 });
  const am = b.op('ArgMax', [x], { axis: 1, keepdims: 0 });
  const [dy, mask] = b.node('Dropout', [x], {}, ['dy', 'mask']);
  const rq = b.op('RequantShift', [x, b.init('mul', [8, 1, 1], 'int32'), b.init('add', [8, 1, 1], 'int32')], { div: 256 });
  for (const o of [t, e, d2s, am, dy!, mask!, rq]) b.output(o, undefined, o === am ? 'int64' : 'float32');
  const g = open(b.build());
  const a = analyzeGraph(g);
  assert.deepEqual(a.unsupported, []);
  assert.deepEqual(g.outputs.map((id) => g.tensors[id]!.shape), [[1, 8, 4, 3], [2, 8, 2, 3], [1, 2, 4, 6], [1, 2, 3], [1, 8, 2, 3], [1, 8, 2, 3], [1, 8, 2, 3]]);
  assert.equal(g.tensors.find((tt) => tt.name === m)!.dtype, 'bool');
  assert.equal(g.tensors.find((tt) => tt.name === cl)!.dtype, 'int32');
  assert.ok(g.ops.some((o) => o.sourceType === 'Dropout' && o.outputs.length === 2), 'Dropout with its mask is an operator');
});

test('ONNX: an empty stored dimension does not override inference; a sequence input is named; a graph without steps holds its input', () => {
  // MatMul [3]×[3,4] → [4]; the file stores the output with one dimension of no size (onnx2c's test_matmul_3_3x4).
  const m = onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'g',
      node: [{ opType: 'MatMul', input: ['A', 'B'], output: ['Y'], name: 'mm' }],
      input: [
        { name: 'A', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 3 }] } } } },
        { name: 'B', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 3 }, { dimValue: 4 }] } } } },
      ],
      output: [{ name: 'Y', type: { tensorType: { elemType: 1, shape: { dim: [{}] } } } }],
    },
  }).finish();
  const g = open(m);
  assert.deepEqual(g.tensors[g.outputs[0]!]!.shape, [4]);
  assert.equal(analyzeGraph(g).macs, 12);

  const seq = onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'g',
      node: [{ opType: 'SequenceLength', input: ['S'], output: ['n'], name: 'len' }],
      input: [{ name: 'S', type: { sequenceType: { elemType: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 2 }] } } } } } }],
      output: [{ name: 'n', type: { tensorType: { elemType: 7, shape: { dim: [] } } } }],
    },
  }).finish();
  const r = openModel(seq, { fileName: 'seq.onnx' });
  assert.ok(!r.ok && r.error.code === 'unsupported' && /'S' is a sequence, an unsupported input type/.test(r.error.message), JSON.stringify(r));

  const b = new OnnxBuilder(13);
  b.node('Identity', [b.input('x', [1, 8])], {}, ['y']);
  b.output('y', [1, 8]);
  const a = analyzeGraph(open(b.build()));
  assert.equal(a.peakBytes, 32, 'the input (also the output) is held');
});

test('ONNX: ConvTranspose output size from output_padding, output_shape and auto_pad SAME (ONNX\'s rules)', () => {
  const shapes = (attrs: Record<string, number[] | string>): number[] | null => {
    const b = new OnnxBuilder(13);
    b.output(b.op('ConvTranspose', [b.input('x', [1, 1, 3, 3]), b.init('w', [1, 2, 3, 3])], { strides: [3, 2], ...attrs }));
    const g = open(b.build());
    return g.tensors[g.outputs[0]!]!.shape;
  };
  assert.deepEqual(shapes({}), [1, 2, 9, 7]);
  assert.deepEqual(shapes({ output_padding: [1, 1] }), [1, 2, 10, 8]);
  assert.deepEqual(shapes({ output_shape: [10, 8] }), [1, 2, 10, 8]);
  assert.deepEqual(shapes({ auto_pad: 'SAME_UPPER' }), [1, 2, 9, 6]);
  assert.deepEqual(shapes({ pads: [1, 2, 1, 2] }), [1, 2, 7, 3]);
});

test('ONNX: a Dropout whose mask nothing reads stays an alias (exportable); a symbolic batch in a stored shape still counts as 1', () => {
  const b = new OnnxBuilder(13);
  const [d] = b.node('Dropout', [b.input('x', [1, 4])], {}, ['d', 'unused_mask']);
  b.output(b.op('Relu', [d!]));
  const g = open(b.build());
  assert.ok(!g.ops.some((o) => o.sourceType === 'Dropout'), 'the Dropout is folded away');
  assert.deepEqual(analyzeGraph(g).unsupported, []);
  // An unknown operator whose stored output has a named batch dimension: memory from the stored shape, batch 1.
  const c = new OnnxBuilder(13);
  c.node('MyOp', [c.input('x', [1, 4])], {}, ['y'], 'my.domain');
  c.output('y', ['N', 4]);
  const g2 = open(c.build());
  assert.deepEqual(g2.tensors.find((t) => t.name === 'y')!.shape, [1, 4]);
});

interface SpecialCase {
  name: string;
  opset: number;
  /** Builds the node(s); returns the outputs to check. */
  build(b: OnnxBuilder): string[];
  /** Our shapes, written out by hand from the operator's definition. */
  want: number[][];
  macs?: number;
  /** onnxruntime runs this operator (in the version the tests install); else the hand-written shapes only. */
  ort: boolean;
  feeds?: Record<string, { shape: number[]; int64?: number[] }>;
}

const SPECIAL_CASES: SpecialCase[] = [
  { name: 'Einsum batched product', opset: 13, ort: true, macs: 2 * 3 * 4 * 5,
    build: (b) => [b.op('Einsum', [b.input('a', [2, 3, 4]), b.init('bm', [2, 4, 5])], { equation: 'bij,bjk->bik' })], want: [[2, 3, 5]] },
  { name: 'Einsum implicit output', opset: 13, ort: true, macs: 3 * 4 * 6,
    build: (b) => [b.op('Einsum', [b.input('a', [3, 4]), b.init('bm', [4, 6])], { equation: 'ij,jk' })], want: [[3, 6]] },
  { name: 'Einsum diagonal with an ellipsis', opset: 13, ort: true, macs: 0,
    build: (b) => [b.op('Einsum', [b.input('a', [2, 3, 3])], { equation: '...ii->...i' })], want: [[2, 3]] },
  { name: 'OneHot', opset: 11, ort: true, feeds: { idx: { shape: [2, 3], int64: [0, 1, 4, 2, 3, 0] } },
    build: (b) => [b.op('OneHot', [b.input('idx', [2, 3], 'int64'), b.init('depth', [], 'int64', [5]), b.init('vals', [2], 'float32', [0, 1])], { axis: 1 })], want: [[2, 5, 3]] },
  { name: 'DFT (opset 20, real to onesided complex)', opset: 20, ort: true, macs: 5 * 8,
    build: (b) => [b.op('DFT', [b.input('x', [1, 8, 1])], { onesided: 1 })], want: [[1, 5, 2]] },
  { name: 'DFT (opset 17, complex, dft_length 8)', opset: 17, ort: true, macs: 2 * 8 * 6,
    build: (b) => [b.op('DFT', [b.input('x', [2, 6, 2]), b.init('n', [], 'int64', [8])])], want: [[2, 8, 2]] },
  { name: 'STFT', opset: 17, ort: true, macs: 7 * 9 * 16,
    build: (b) => [b.op('STFT', [b.input('x', [1, 64, 1]), b.init('step', [], 'int64', [8]), '', b.init('len', [], 'int64', [16])])], want: [[1, 7, 9, 2]] },
  { name: 'HannWindow', opset: 17, ort: true,
    build: (b) => [b.op('HannWindow', [b.init('size', [], 'int64', [10])])], want: [[10]] },
  { name: 'MelWeightMatrix', opset: 17, ort: true,
    build: (b) => [b.op('MelWeightMatrix', [b.init('bins', [], 'int64', [8]), b.init('dft', [], 'int64', [32]), b.init('rate', [], 'int64', [16000]), b.init('lo', [], 'float32', [0]), b.init('hi', [], 'float32', [8000])])], want: [[17, 8]] },
  { name: 'RoiAlign', opset: 16, ort: true,
    build: (b) => [b.op('RoiAlign', [b.input('x', [1, 3, 10, 10]), b.init('rois', [2, 4], 'float32', [0, 0, 5, 5, 2, 2, 9, 9]), b.init('bi', [2], 'int64', [0, 0])], { output_height: 4, output_width: 5 })], want: [[2, 3, 4, 5]] },
  { name: 'MaxUnpool', opset: 11, ort: true,
    build: (b) => [b.op('MaxUnpool', [b.input('x', [1, 1, 2, 2]), b.init('ind', [1, 1, 2, 2], 'int64', [0, 3, 10, 15])], { kernel_shape: [2, 2], strides: [2, 2] })], want: [[1, 1, 4, 4]] },
  { name: 'Col2Im', opset: 18, ort: true,
    build: (b) => [b.op('Col2Im', [b.input('x', [1, 4, 16]), b.init('img', [2], 'int64', [5, 5]), b.init('blk', [2], 'int64', [2, 2])])], want: [[1, 1, 5, 5]] },
  { name: 'CenterCropPad', opset: 18, ort: true,
    build: (b) => [b.op('CenterCropPad', [b.input('x', [4, 5, 3]), b.init('sh', [2], 'int64', [6, 2])], { axes: [0, 1] })], want: [[6, 2, 3]] },
  { name: 'AffineGrid', opset: 20, ort: true,
    build: (b) => [b.op('AffineGrid', [b.input('theta', [2, 2, 3]), b.init('size', [4], 'int64', [2, 3, 5, 6])])], want: [[2, 5, 6, 2]] },
  { name: 'Det', opset: 11, ort: true, build: (b) => [b.op('Det', [b.input('x', [3, 4, 4])])], want: [[3]] },
  { name: 'ReduceL1, ReduceLogSum, ReduceLogSumExp, ReduceSumSquare', opset: 18, ort: true,
    build: (b) => {
      const x = b.input('x', [2, 3, 4]);
      const axes = b.init('axes', [1], 'int64', [1]);
      return ['ReduceL1', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare'].map((t, i) => b.op(t, [x, axes], { keepdims: i % 2 }));
    },
    want: [[2, 4], [2, 1, 4], [2, 4], [2, 1, 4]] },
  { name: 'DeformConv', opset: 19, ort: true, macs: 4 * 4 * 4 * 2 * 9,
    build: (b) => [b.op('DeformConv', [b.input('x', [1, 2, 6, 6]), b.init('w', [4, 2, 3, 3]), b.init('off', [1, 18, 4, 4], 'float32', new Array<number>(288).fill(0))], { kernel_shape: [3, 3] })], want: [[1, 4, 4, 4]] },
  { name: 'BitCast (float32 → int8 adds an axis; int8 → float32 takes one)', opset: 26, ort: false,
    build: (b) => [b.op('BitCast', [b.input('x', [2, 3])], { to: 3 }), b.op('BitCast', [b.input('y', [2, 4], 'int8')], { to: 1 })], want: [[2, 3, 4], [2]] },
  { name: 'RotaryEmbedding (shaped like its input)', opset: 23, ort: true,
    build: (b) => [b.op('RotaryEmbedding', [b.input('q', [1, 2, 3, 8]), b.init('cos', [3, 4]), b.init('sin', [3, 4]), b.init('pos', [1, 3], 'int64', [0, 1, 2])])], want: [[1, 2, 3, 8]] },
  { name: 'SwiGLU (shaped like its inputs)', opset: 28, ort: false,
    build: (b) => [b.op('SwiGLU', [b.input('a', [2, 8]), b.input('bv', [2, 8])])], want: [[2, 8]] },
  { name: 'CausalConvWithState', opset: 27, ort: false, macs: 2 * 4 * 10 * 3,
    build: (b) => b.node('CausalConvWithState', [b.input('x', [2, 4, 10]), b.init('w', [4, 1, 3])], {}, ['y', 'state']), want: [[2, 4, 10], [2, 4, 2]] },
  { name: 'LinearAttention (grouped heads)', opset: 27, ort: false, macs: 1 * 5 * 4 * 2 * 8 * 6,
    build: (b) => b.node('LinearAttention', [b.input('q', [1, 5, 32]), b.input('k', [1, 5, 16]), b.input('v', [1, 5, 12])], { q_num_heads: 4, kv_num_heads: 2 }, ['y', 'state']), want: [[1, 5, 24], [1, 2, 8, 6]] },
];

test('ONNX: Einsum, OneHot, DFT, STFT, windows, MelWeightMatrix, RoiAlign, MaxUnpool, Col2Im, CenterCropPad, AffineGrid, Det, DeformConv, BitCast and four more reductions are sized, with the output shapes onnxruntime gives', async () => {
  const ort = await import('onnxruntime-node');
  let ran = 0;
  for (const c of SPECIAL_CASES) {
    const b = new OnnxBuilder(c.opset);
    const outs = c.build(b);
    for (const o of outs) b.output(o);
    const bytes = b.build();
    const g = open(bytes);
    const a = analyzeGraph(g);
    assert.deepEqual(a.unsupported, [], c.name);
    assert.deepEqual(outs.map((o) => shapeOf(g, o)), c.want, c.name);
    if (c.macs !== undefined) assert.equal(a.macs, c.macs, `${c.name}: MACs`);
    if (!c.ort) continue;
    const session = await ort.InferenceSession.create(bytes);
    const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
    for (const name of session.inputNames) {
      const f = c.feeds?.[name] ?? { shape: g.tensors.find((t) => t.name === name)!.shape! };
      const n = f.shape.reduce((p, q) => p * q, 1);
      feeds[name] = f.int64
        ? new ort.Tensor('int64', BigInt64Array.from(f.int64.map(BigInt)), f.shape)
        : new ort.Tensor('float32', Float32Array.from({ length: n }, (_, i) => ((i * 37) % 11) / 11 + 0.1), f.shape);
    }
    const result = await session.run(feeds);
    assert.deepEqual(outs.map((o) => [...result[o]!.dims]), c.want, `${c.name}: onnxruntime's shapes`);
    ran++;
  }
  assert.equal(ran, SPECIAL_CASES.filter((c) => c.ort).length);
  assert.ok(ran >= 17, `${ran} cases run by onnxruntime`);
  // Malformed operands are named, never guessed.
  const bad = (build: (b: OnnxBuilder) => string, re: RegExp): void => {
    const b = new OnnxBuilder(18);
    b.output(build(b));
    const ab = analyzeGraph(open(b.build()));
    assert.equal(ab.complete, false);
    assert.match(ab.unsupported[0]!.reason, re);
  };
  bad((b) => b.op('Einsum', [b.input('a', [2, 3]), b.input('c', [4, 5])], { equation: 'ij,jk->ik' }), /label 'j' is 3 in one operand and 4 in another/);
  bad((b) => b.op('Einsum', [b.input('a', [2, 3])], { equation: 'ij;drop table' }), /is not an Einsum equation/);
  bad((b) => b.op('OneHot', [b.input('i', [3], 'int64'), b.init('d', [], 'int64', [0]), b.init('v', [2])]), /one-hot depth 0 is not a whole number ≥ 1/);
  bad((b) => b.op('Col2Im', [b.input('x', [1, 5, 16]), b.init('img', [2], 'int64', [5, 5]), b.init('blk', [2], 'int64', [2, 2])]), /is not \[N, C·4, L\]/);
});

test('TFLite: IF, WHILE, CALL_ONCE and resource variables are sized: the subgraphs they run inlined where TFLM plans them, one variable per resource alive for the whole run; bad subgraph references refused by name', () => {
  const cases = new Map(controlFlowCases().map((c) => [c.name, c.bytes]));
  for (const [name, bytes] of cases) {
    const a = analyzeGraph(open(bytes));
    assert.deepEqual(a.unsupported, [], name);
    assert.equal(a.complete, true, name);
  }
  // IF: the operator (its output), then-branch copy-in, two ADDs, read-out, else-branch likewise, the end.
  const gi = open(cases.get('IF')!);
  assert.deepEqual(gi.ops.map((o) => o.name), ['y', 'y:then in', 'then/b', 'then/c', 'y:then out', 'y:else in', 'else/b', 'y:else out', 'y:end', 'z']);
  assert.deepEqual(gi.ops.map((o) => o.subgraph ?? 0), [0, 0, 1, 1, 0, 0, 2, 0, 0, 0]);
  assert.ok(gi.notes.some((n) => /IF 'y': both branches are planned/.test(n.message)));
  // At the second ADD of the then-branch: x, y (created when IF starts, as TFLM plans it), a, b and c, 32 B each.
  assert.equal(analyzeGraph(gi).peakBytes, 5 * 32);
  // WHILE: its loop variables' shapes; the nested IF inside the body is inlined inside the body.
  const gn = open(cases.get('WHILE with an IF in its body')!);
  assert.deepEqual(shapeOf(gn, 'y'), [1, 8]);
  assert.deepEqual(gn.ops.filter((o) => o.subgraph === 3 || o.subgraph === 4).map((o) => o.name), ['double/b', 'square/b']);
  assert.ok(gn.notes.some((n) => /WHILE 'i_out': its condition and body are counted once/.test(n.message)));
  // Resource variables: one variable tensor for 'acc', shaped like the value assigned, alive for the whole run.
  const gv = open(cases.get('resource variables')!);
  const v = gv.tensors.filter((t) => t.name === 'resource /acc');
  assert.equal(v.length, 1);
  assert.equal(v[0]!.role, 'variable');
  assert.deepEqual(v[0]!.shape, [1, 8]);
  assert.deepEqual(shapeOf(gv, 'v'), [1, 8]);
  // At the ADD: x, the value read, the sum, the variable (32 B each) and the handle (an int32 id).
  assert.equal(analyzeGraph(gv).peakBytes, 4 * 32 + 4);
  // Subgraph references: to the main subgraph (recursion), to one the model lacks, and a subgraph running itself.
  const bad = (then: number, selfCall: boolean): string => {
    const b = new Tfl();
    const x = b.tensor('x', [1, 8], 'float32');
    const cond = b.tensor('cond', [1], 'bool', Uint8Array.from([1]));
    const y = b.tensor('y', [1, 8], 'float32');
    const [t, ti] = b.subgraph('then');
    const ta = t.tensor('a', [1, 8], 'float32');
    t.inputs = [ta];
    t.outputs = [ta];
    if (selfCall) t.op('IF', [t.tensor('c', [1], 'bool', Uint8Array.from([1])), ta], [t.tensor('o', [1, 8], 'float32')], [[0, 'int32', ti], [1, 'int32', ti]]);
    b.inputs = [x];
    b.outputs = [y];
    b.op('IF', [cond, x], [y], [[0, 'int32', selfCall ? ti : then], [1, 'int32', ti]]);
    const r = openModel(b.build(), { fileName: 'bad.tflite' });
    assert.equal(r.ok, false);
    return r.ok ? '' : `${r.error.code}: ${r.error.message}`;
  };
  assert.match(bad(0, false), /^bad-graph: operator 0 \(IF\) runs subgraph 0, but the model has subgraphs 0 to 1 \(0 is the main one\)/);
  assert.match(bad(7, false), /^bad-graph: operator 0 \(IF\) runs subgraph 7, but the model has subgraphs 0 to 1/);
  assert.match(bad(1, true), /^bad-graph: operator 0 of subgraph 1 \(IF\) runs subgraph 1, which is already running \(recursion\)/);
});

test('ONNX: NonMaxSuppression, NonZero, Compress and Unique are sized for the most their outputs can hold (a note says so); onnxruntime\'s outputs fit in it', async () => {
  const ort = await import('onnxruntime-node');
  const b = new OnnxBuilder(13);
  const boxes = b.input('boxes', [1, 6, 4]);
  const scores = b.input('scores', [1, 2, 6]);
  const nms = b.op('NonMaxSuppression', [boxes, scores, b.init('maxout', [1], 'int64', [4]), b.init('iou', [1], 'float32', [0.5])]);
  const x = b.input('x', [3, 4]);
  const nz = b.op('NonZero', [x]);
  const cmp = b.op('Compress', [x, b.init('keep', [3], 'bool', [1, 0, 1])], { axis: 0 });
  const cmpFlat = b.op('Compress', [x, b.input('mask', [12], 'bool')]);
  const uq = b.node('Unique', [x], { sorted: 1 }, ['uy', 'ui', 'uinv', 'uc']);
  for (const o of [nms, nz, cmp, cmpFlat, ...uq]) b.output(o, undefined, [nms, nz, 'ui', 'uinv', 'uc'].includes(o) ? 'int64' : 'float32');
  const bytes = b.build();
  const g = open(bytes);
  const a = analyzeGraph(g);
  assert.deepEqual(a.unsupported, []);
  const want: Record<string, number[]> = { [nms]: [1 * 2 * 4, 3], [nz]: [2, 12], [cmp]: [2, 4], [cmpFlat]: [12], uy: [12], ui: [12], uinv: [12], uc: [12] };
  for (const [name, shape] of Object.entries(want)) assert.deepEqual(shapeOf(g, name), shape, name);
  assert.equal(g.tensors.find((t) => t.name === nms)!.dtype, 'int64');
  assert.ok(g.notes.some((n) => /NonMaxSuppression .*: how much its output holds is known only at run time; memory is counted for the most: \[8, 3\]/.test(n.message)));
  // onnxruntime on data: every output fits in the bound (and the constant condition's Compress is exact).
  const session = await ort.InferenceSession.create(bytes);
  const f32 = (dims: number[], f: (i: number) => number): InstanceType<typeof ort.Tensor> => new ort.Tensor('float32', Float32Array.from({ length: dims.reduce((p, q) => p * q, 1) }, (_, i) => f(i)), dims);
  const result = await session.run({
    boxes: f32([1, 6, 4], (i) => [0, 0, 1, 1][i % 4]! + Math.floor(i / 4) * 0.5),
    scores: f32([1, 2, 6], (i) => ((i * 7) % 10) / 10),
    x: f32([3, 4], (i) => (i % 3 === 0 ? 0 : i % 5)),
    mask: new ort.Tensor('bool', Uint8Array.from({ length: 12 }, (_, i) => i % 2), [12]),
  });
  for (const [name, shape] of Object.entries(want)) {
    const dims = [...result[name]!.dims];
    assert.equal(dims.length, shape.length, name);
    assert.ok(dims.every((d, i) => d <= shape[i]!), `${name}: onnxruntime gives [${dims.join(',')}], within [${shape.join(',')}]`);
  }
  assert.deepEqual([...result[cmp]!.dims], [2, 4]);
});

test('ONNX: If, Loop and Scan are sized with their subgraphs inlined (both branches; one iteration of a body), with the output shapes onnxruntime gives', async () => {
  const ort = await import('onnxruntime-node');
  const bytes = onnxControlFlowModel();
  const g = open(bytes);
  const a = analyzeGraph(g);
  assert.deepEqual(a.unsupported, []);
  const want: Record<string, number[]> = { z: [2, 3], v_final: [2, 3], stacked: [4, 2, 3], sum: [3], rows: [3, 5] };
  for (const [name, shape] of Object.entries(want)) assert.deepEqual(shapeOf(g, name), shape, name);
  // The If comes after both branches (it reads their outputs); the Loop body's inputs are copied in before it.
  assert.deepEqual(g.ops.map((o) => o.name).slice(0, 8), ['ReduceSum_0', 'Greater_1', 'Add_0', 'Mul_0', 'If_2', 'Relu_3', 'Loop_4:body in', 'Add_1']);
  assert.ok(g.tensors.some((t) => t.name === 'y/then/t_y') && g.tensors.some((t) => t.name === 'v_final/body/v2'));
  assert.ok(g.notes.some((n) => /^If 'If_2': both branches run one after the other/.test(n.message)));
  assert.ok(g.notes.some((n) => /^Loop .*: its body is counted once/.test(n.message)));
  const session = await ort.InferenceSession.create(bytes);
  const f32 = (dims: number[]): InstanceType<typeof ort.Tensor> => new ort.Tensor('float32', Float32Array.from({ length: dims.reduce((p, q) => p * q, 1) }, (_, i) => (i % 4) - 1), dims);
  const result = await session.run({ x: f32([2, 3]), s: f32([5, 3]) });
  for (const [name, shape] of Object.entries(want)) assert.deepEqual([...result[name]!.dims], shape, `${name}: onnxruntime's shape`);
});

test('ONNX ai.onnx.ml: a classifier\'s parameters held in attributes (an SVM\'s support vectors, coefficients, rho, labels) count as stored weights, and its kernel as MACs', () => {
  const b = new OnnxBuilder(13);
  const x = b.input('x', [1, 4]);
  const sv = Array.from({ length: 20 }, (_, i) => (i % 7) / 7);
  b.node('SVMClassifier', [x], {
    classlabels_ints: [0, 1, 2], vectors_per_class: [2, 1, 2], support_vectors: { floats: sv }, coefficients: { floats: Array.from({ length: 10 }, (_, i) => i / 10 - 0.5) },
    rho: { floats: [0.1, -0.2, 0.3] }, kernel_type: 'RBF', kernel_params: { floats: [0.5, 0, 3] },
  }, ['label', 'scores'], 'ai.onnx.ml');
  b.output('label', undefined, 'int64');
  b.output('scores');
  const a = analyzeGraph(open(b.build()));
  assert.deepEqual(a.unsupported, []);
  // 36 floats (support vectors 20, coefficients 10, rho 3, kernel parameters 3) and 6 int64 (vectors per class, labels).
  assert.equal(a.flashBytes, 36 * 4 + 6 * 8);
  // The kernel: one multiply-add per support-vector value; each vector's kernel value in the 2 pairs of its class.
  assert.equal(a.macs, 20 + 5 * 2);
});
