// C export on fixtures this project builds: generated code compiled with the host's cc and compared with
// onnxruntime (float within 1e-4 relative error, int8 within one quantization step), layer by layer and patch-based;
// patch-based output identical to layer-by-layer output; the arena in model.h equal to the analysis' plan.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { analyzeGraph, analyzeModel, codegenFinding, DEFAULT_SETTINGS, describeSchedule, effectiveSettings, evaluateSchedule, generateC, MIN_STACK_BYTES, quantizeMultiplier, scheduleContext, type Graph } from '../../src/core/index';
import { OnnxBuilder, type AttrValue } from '../../src/core/testing/onnx-builder';
import { TfliteBuilder } from '../../src/core/testing/tflite-builder';
import { EXAMPLE_CLASSES, EXAMPLE_INPUT, exampleModel } from '../../src/core/testing/examples';
import { open } from '../helpers';
import { chain, splitChannelsOnnx } from './schedule-fixtures';
import { buildAndRun, bytesOf, callerSource, HAVE_ARM, HAVE_CC, make, ortRun, ortRunAll, parseValues, randomFloats, randomInt8, relativeError, runCaller } from '../codegen-helpers';
import { nearestIndices } from '../../src/core/codegen/resize';
import { expOnNegativeValues, logistic, tanh } from '../../src/core/codegen/fixedpoint';
import { hardSwishTableS8, logisticTableS8, sigmoidTableU16 } from '../../src/core/codegen/quant';

const SKIP_CC = HAVE_CC ? false : 'no C compiler (cc) and make on this machine';

/** Weight-like values: a deterministic pattern in [-r, r). */
const pattern = (n: number, seed: number, r = 0.5): number[] => Array.from(randomFloats(n, seed, -r, r));
const ipattern = (n: number, seed: number, lo: number, hi: number): number[] => Array.from(randomFloats(n, seed, lo, hi), Math.floor);

/** A float CNN touching every float kernel: strided, depthwise, grouped+dilated conv, residual Add, HardSwish,
 *  BatchNormalization, SiLU, Concat, channel-broadcast Mul, Pad, max and average pooling, LeakyRelu, global pooling, Gemm, Softmax. */
function floatCnn(): Uint8Array {
  const b = new OnnxBuilder(14);
  const x = b.input('x', [1, 3, 17, 19]);
  const w = (name: string, shape: number[], seed: number, r = 0.4): string => b.init(name, shape, 'float32', pattern(shape.reduce((p, q) => p * q, 1), seed, r));
  const c1 = b.op('Conv', [x, w('w1', [8, 3, 3, 3], 1), w('b1', [8], 2, 0.1)], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  const r1 = b.op('Relu', [c1]);
  const c2 = b.op('Conv', [r1, w('w2', [8, 1, 3, 3], 3), w('b2', [8], 4, 0.1)], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: 8 });
  const r2 = b.op('Clip', [c2, b.init('lo', [], 'float32', [0]), b.init('hi', [], 'float32', [0.6])]);
  const c3 = b.op('Conv', [r2, w('w3', [8, 4, 3, 3], 5), w('b3', [8], 6, 0.1)], { kernel_shape: [3, 3], pads: [2, 2, 2, 2], dilations: [2, 2], group: 2 });
  const a1 = b.op('Add', [c3, r1]);
  const hs = b.op('HardSwish', [a1]);
  const c4c = b.op('Conv', [hs, w('w4', [12, 8, 1, 1], 7)], { kernel_shape: [1, 1] });
  const pos = (name: string, seed: number): string => b.init(name, [12], 'float32', Array.from(randomFloats(12, seed, 0.2, 1.5)));
  const c4 = b.op('BatchNormalization', [c4c, pos('bn_g', 16), w('bn_b', [12], 17), w('bn_m', [12], 18), pos('bn_v', 19)], { epsilon: { float: 1e-3 } });
  const sg = b.op('Sigmoid', [c4]);
  const si = b.op('Mul', [c4, sg]);
  const cc = b.op('Concat', [si, hs], { axis: 1 });
  const mc = b.op('Mul', [cc, w('k', [1, 20, 1, 1], 8, 2)]);
  const pd = b.op('Pad', [mc, b.init('pads', [8], 'int64', [0, 0, 1, 2, 0, 0, 1, 0]), b.init('pv', [], 'float32', [0.25])]);
  const mp = b.op('MaxPool', [pd], { kernel_shape: [3, 3], strides: [2, 2] });
  const ap = b.op('AveragePool', [mp], { kernel_shape: [2, 2], strides: [1, 1], pads: [1, 1, 0, 0] });
  const lr = b.op('LeakyRelu', [ap], { alpha: { float: 0.1 } });
  const gp = b.op('GlobalAveragePool', [lr]);
  const fl = b.op('Flatten', [gp]);
  const g = b.op('Gemm', [fl, w('wf', [10, 20], 9), w('bf', [10], 10)], { transB: 1 });
  b.node('Softmax', [g], {}, ['y']);
  b.output('y', [1, 10]);
  return b.build();
}

/** Matrix operators: MatMul, Gemm without transB with alpha/beta, Tanh, one-sided Clips, Sub, Div, Max with constants. */
function floatDense(): Uint8Array {
  const b = new OnnxBuilder(13);
  const x = b.input('x', [1, 16]);
  const m = b.op('MatMul', [x, b.init('wm', [16, 8], 'float32', pattern(128, 11))]);
  // One-sided Clips (opset ≥ 11): max only (min left out with ''), then min only.
  const t = b.op('Clip', [b.op('Tanh', [m]), '', b.init('chi', [], 'float32', [0.3])]);
  const g = b.op('Gemm', [t, b.init('wg', [8, 6], 'float32', pattern(48, 12)), b.init('bg', [6], 'float32', pattern(6, 13))], { alpha: { float: 0.5 }, beta: { float: 2 } });
  const s = b.op('Sub', [g, b.init('ks', [6], 'float32', pattern(6, 14))]);
  const d = b.op('Div', [s, b.init('kd', [], 'float32', [1.5])]);
  b.node('Max', [b.op('Clip', [d, b.init('clo', [], 'float32', [-0.4])]), b.init('km', [1, 6], 'float32', pattern(6, 15, 0.1))], {}, ['y']);
  b.output('y', [1, 6]);
  return b.build();
}

/** A detection-style float model with four outputs: a head on the backbone, an FPN-like path (nearest ×2 upsample,
 *  Concat with the stride-1 features), and nearest resizes in every coordinate mode and rounding generated code
 *  follows, up and down, by scales and by sizes (roi and scales left out with ''). */
function resizeHeads(): Uint8Array {
  const b = new OnnxBuilder(13);
  const x = b.input('x', [1, 3, 10, 12]);
  const w = (name: string, shape: number[], seed: number): string => b.init(name, shape, 'float32', pattern(shape.reduce((p, q) => p * q, 1), seed, 0.4));
  const f1 = b.op('Relu', [b.op('Conv', [x, w('w1', [8, 3, 3, 3], 81), w('b1', [8], 82)], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] })]);
  const f0 = b.op('Conv', [x, w('w0', [8, 3, 3, 3], 83)], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  const resize = (t: string, mode: [string, string], to: { scales?: number[]; sizes?: number[] }): string => b.op('Resize', [
    t, '', to.scales ? b.init(`sc${Math.random().toString(36).slice(2, 8)}`, [4], 'float32', to.scales) : '',
    ...(to.sizes ? [b.init(`sz${Math.random().toString(36).slice(2, 8)}`, [4], 'int64', to.sizes)] : []),
  ], { mode: 'nearest', coordinate_transformation_mode: mode[0], nearest_mode: mode[1] });
  b.node('Conv', [f1, w('wh', [4, 8, 1, 1], 84)], { kernel_shape: [1, 1] }, ['y1']);
  const up = resize(f1, ['asymmetric', 'floor'], { scales: [1, 1, 2, 2] });
  b.node('Conv', [b.op('Concat', [up, f0], { axis: 1 }), w('wc', [4, 16, 1, 1], 85)], { kernel_shape: [1, 1] }, ['y2']);
  b.node('Add', [resize(f1, ['half_pixel', 'round_prefer_floor'], { sizes: [1, 8, 7, 9] }), resize(f1, ['align_corners', 'round_prefer_ceil'], { sizes: [1, 8, 7, 9] })], {}, ['y3']);
  b.node('Add', [resize(f1, ['tf_half_pixel_for_nn', 'floor'], { sizes: [1, 8, 3, 4] }), resize(f1, ['pytorch_half_pixel', 'ceil'], { sizes: [1, 8, 3, 4] })], {}, ['y4']);
  b.output('y1', [1, 4, 5, 6]);
  b.output('y2', [1, 4, 10, 12]);
  b.output('y3', [1, 8, 7, 9]);
  b.output('y4', [1, 8, 3, 4]);
  return b.build();
}

/** Resize in opset 10 (X, scales): no coordinate attributes; onnxruntime truncates when enlarging. */
function resizeOpset10(): Uint8Array {
  const b = new OnnxBuilder(10);
  const x = b.input('x', [1, 2, 5, 6]);
  const c = b.op('Conv', [x, b.init('w10', [2, 2, 1, 1], 'float32', [1, 0.5, -0.25, 1])], { kernel_shape: [1, 1] });
  b.node('Resize', [c, b.init('s10', [4], 'float32', [1, 1, 2, 1.5])], { mode: 'nearest' }, ['y']);
  b.output('y', [1, 2, 10, 9]);
  return b.build();
}

type QType = 'int8' | 'uint8';

/** ONNX QOperator int8/uint8: QuantizeLinear, QLinearConv (per-channel weights, int32 bias; plain, depthwise
 *  strided, pointwise strided), QLinearAdd, QLinearGlobalAveragePool, Flatten, QLinearMatMul. With `quantizedInput`
 *  the graph input is already int8/uint8 (no QuantizeLinear). */
function qoperator(act: QType, quantizedInput = false): Uint8Array {
  const b = new OnnxBuilder(13);
  const zp = (v: number): string => b.init(`zp${v}_${Math.random().toString(36).slice(2, 7)}`, [], act, [act === 'uint8' ? v + 128 : v]);
  const sc = (v: number): string => b.init(`s${Math.random().toString(36).slice(2, 9)}`, [], 'float32', [v]);
  const x = b.input('x', [1, 4, 12, 12], quantizedInput ? act : 'float32');
  const sx = sc(0.02);
  const zx = zp(3);
  const q = quantizedInput ? x : b.op('QuantizeLinear', [x, sx, zx]);
  const conv = (inp: string, si: string, zi: string, cin: number, cout: number, k: number, attrs: Record<string, number | number[]>, seed: number, so: number, zo: number): [string, string, string] => {
    const g = (attrs['group'] as number | undefined) ?? 1;
    const n = cout * (cin / g) * k * k;
    // uint8 activations × int8 weights: onnxruntime's x86 U8S8 kernels add pairs of products in saturating 16-bit
    // arithmetic (VPMADDUBSW), so, as its quantization guide says (reduce_range), weights keep to 7 bits there.
    const wr = act === 'uint8' ? 64 : 127;
    const w = b.init(`w${seed}`, [cout, cin / g, k, k], 'int8', ipattern(n, seed, -wr, wr + 1));
    const ws = b.init(`ws${seed}`, [cout], 'float32', Array.from(randomFloats(cout, seed + 1, 0.002, 0.01)));
    const wz = b.init(`wz${seed}`, [], 'int8', [0]);
    const bias = b.init(`bi${seed}`, [cout], 'int32', ipattern(cout, seed + 2, -300, 300));
    const yo = sc(so);
    const yz = zp(zo);
    const y = b.op('QLinearConv', [inp, si, zi, w, ws, wz, yo, yz, bias], { kernel_shape: [k, k], ...attrs });
    return [y, yo, yz];
  };
  const [c1, s1, z1] = conv(q, sx, zx, 4, 8, 3, { pads: [1, 1, 1, 1] }, 21, 0.05, -2);
  const [c2, s2, z2] = conv(c1, s1, z1, 8, 8, 3, { pads: [1, 1, 1, 1], strides: [2, 2], group: 8 }, 31, 0.04, 5);
  const [c3, s3, z3] = conv(c1, s1, z1, 8, 8, 1, { strides: [2, 2] }, 41, 0.03, -7);
  const sa = sc(0.06);
  const za = zp(1);
  const a = b.op('QLinearAdd', [c2, s2, z2, c3, s3, z3, sa, za], {}, 'com.microsoft');
  const sg = sc(0.02);
  const zg = zp(-4);
  const gp = b.op('QLinearGlobalAveragePool', [a, sa, za, sg, zg], { channels_last: 0 }, 'com.microsoft');
  const fl = b.op('Flatten', [gp]);
  const wm = b.init('wm', [8, 5], 'int8', act === 'uint8' ? ipattern(40, 51, -64, 65) : ipattern(40, 51, -127, 128));
  b.node('QLinearMatMul', [fl, sg, zg, wm, sc(0.01), b.init('wmz', [], 'int8', [0]), sc(0.05), zp(2)], {}, ['y']);
  b.output('y', [1, 5], act);
  return b.build();
}

/** ONNX QDQ int8: QuantizeLinear/DequantizeLinear around float Conv (per-channel int8 weights, int32 bias),
 *  Relu, depthwise Conv, Add, GlobalAveragePool, ending in an int8 output. */
function qdq(): Uint8Array {
  const b = new OnnxBuilder(13);
  const f = (name: string, v: number): string => b.init(name, [], 'float32', [v]);
  const z = (name: string, v: number): string => b.init(name, [], 'int8', [v]);
  const x = b.input('x', [1, 3, 10, 10]);
  const qdqPair = (t: string, s: number, zp: number, tag: string): string => {
    const q = b.op('QuantizeLinear', [t, f(`s_${tag}`, s), z(`z_${tag}`, zp)]);
    return b.op('DequantizeLinear', [q, `s_${tag}`, `z_${tag}`]);
  };
  const conv = (t: string, sIn: number, cin: number, cout: number, group: number, seed: number): string => {
    const n = cout * (cin / group) * 9;
    const ws = Array.from(randomFloats(cout, seed, 0.003, 0.01));
    const wq = b.init(`wq${seed}`, [cout, cin / group, 3, 3], 'int8', ipattern(n, seed + 1, -127, 128));
    const w = b.op('DequantizeLinear', [wq, b.init(`ws${seed}`, [cout], 'float32', ws), b.init(`wz${seed}`, [cout], 'int8', new Array(cout).fill(0))], { axis: 0 });
    const bq = b.init(`bq${seed}`, [cout], 'int32', ipattern(cout, seed + 2, -200, 200));
    const bias = b.op('DequantizeLinear', [bq, b.init(`bs${seed}`, [cout], 'float32', ws.map((s) => s * sIn)), b.init(`bz${seed}`, [cout], 'int32', new Array(cout).fill(0))], { axis: 0 });
    return b.op('Conv', [t, w, bias], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group });
  };
  const d0 = qdqPair(x, 0.02, -5, 'in');
  const c1 = b.op('Relu', [conv(d0, 0.02, 3, 8, 1, 61)]);
  const d1 = qdqPair(c1, 0.03, -128, 'c1');
  const c2 = conv(d1, 0.03, 8, 8, 8, 71);
  const d2 = qdqPair(c2, 0.04, 3, 'c2');
  const a = b.op('Add', [d2, d1]);
  const d3 = qdqPair(a, 0.05, -10, 'add');
  const gp = b.op('GlobalAveragePool', [d3]);
  b.node('QuantizeLinear', [gp, f('s_out', 0.02), z('z_out', 4)], {}, ['y']);
  b.output('y', [1, 8, 1, 1], 'int8');
  return b.build();
}

/** Patch-based schedules worth running on a graph: the deepest split whose output can be cut 3×2, and one halfway. */
function schedulesOf(graph: Graph): { split: number; p: number; q: number }[] {
  const ctx = scheduleContext(graph);
  const ok = ctx.stages.flatMap((s) => (s.ok ? [s.stage] : [])).filter((st) => {
    const [h, w] = st.dims[st.slot.get(st.output)!]!;
    return h >= 3 && w >= 2;
  });
  const picked = [...new Set([ok[Math.floor((ok.length - 1) / 2)], ok[ok.length - 1]])].filter((st) => st !== undefined);
  return picked.flatMap((st) => [{ split: st.split, p: 2, q: 2 }, { split: st.split, p: 3, q: 2 }]);
}

test('codegen: float ONNX fixtures (a ReduceMax among them) match onnxruntime within 1e-4, layer by layer and patch-based; patch == per-layer', { skip: SKIP_CC }, async () => {
  const floatCases: [string, Uint8Array, number[]][] = [['cnn', floatCnn(), [1, 3, 17, 19]], ['dense', floatDense(), [1, 16]], ['chain ending in ReduceMax', chain('onnx', 'max'), [1, 3, 49, 41]], ['channel Split', splitChannelsOnnx(), [1, 3, 31, 27]]];
  for (const [name, bytes, dims] of floatCases) {
    const graph = open(bytes);
    const x = randomFloats(dims.reduce((a, b) => a * b, 1), 7);
    const want = await ortRun(bytes, x, dims);
    const layer = buildAndRun(graph, {}, bytesOf(x), true);
    assert.deepEqual(runCaller(layer.dir), layer.values, `${name}: model_run with the caller's buffers`);
    fs.rmSync(layer.dir, { recursive: true, force: true });
    assert.equal(layer.values.length, want.length, name);
    const err = relativeError(layer.values, want);
    assert.ok(err < 1e-4, `${name}: relative error ${err}`);
    assert.equal(layer.out.arenaBytes, analyzeGraph(graph).arenaBytes, `${name}: arena == analysis`);
    const schedules = schedulesOf(graph);
    if (name === 'cnn' || name === 'channel Split') assert.ok(schedules.length > 0, `the ${name} fixture has patch schedules`);
    for (const s of schedules) {
      const patch = buildAndRun(graph, { schedule: s }, bytesOf(x));
      const ctx = scheduleContext(graph);
      assert.equal(patch.out.arenaBytes, describeSchedule(ctx, evaluateSchedule(ctx, s.split, s.p, s.q)).arenaBytes, `${name} ${JSON.stringify(s)}: arena == schedule report`);
      assert.ok(relativeError(patch.values, layer.values) <= 1e-6, `${name} ${JSON.stringify(s)}: patch differs from per-layer`);
      assert.ok(relativeError(patch.values, want) < 1e-4, `${name} ${JSON.stringify(s)}: patch vs onnxruntime`);
    }
  }
});

test('codegen: int8 ONNX QOperator (int8 and uint8 activations) and QDQ fixtures match onnxruntime within 1 LSB; patch bit-exact', { skip: SKIP_CC }, async () => {
  const floats = (n: number): Float32Array => randomFloats(n, 3, -2, 2);
  const cases: [string, Uint8Array, number[], (n: number) => Float32Array | Uint8Array][] = [
    ['qop-int8', qoperator('int8'), [1, 4, 12, 12], floats],
    ['qop-uint8', qoperator('uint8'), [1, 4, 12, 12], floats],
    // uint8 in and out of the arena: converted in place (the top bit flipped) before and after the run.
    ['qop-uint8-input', qoperator('uint8', true), [1, 4, 12, 12], (n) => Uint8Array.from(randomInt8(n, 4), (v) => v + 128)],
    ['qdq', qdq(), [1, 3, 10, 10], floats],
  ];
  for (const [name, bytes, dims, make] of cases) {
    const graph = open(bytes);
    const x = make(dims.reduce((a, b) => a * b, 1));
    const want = await ortRun(bytes, x, dims);
    const layer = buildAndRun(graph, {}, bytesOf(x), true);
    // The copying API (input in the caller's buffer, output copied out, two runs) prints what the harness printed.
    assert.deepEqual(runCaller(layer.dir), layer.values, `${name}: model_run with the caller's buffers`);
    fs.rmSync(layer.dir, { recursive: true, force: true });
    assert.equal(layer.values.length, want.length, name);
    const worst = Math.max(...layer.values.map((v, i) => Math.abs(v - want[i]!)));
    assert.ok(worst <= 1, `${name}: off by ${worst} LSB\n got ${layer.values.join(' ')}\nwant ${want.join(' ')}`);
    assert.ok(new Set(want).size > 1, `${name}: the reference output is not constant`);
    for (const s of schedulesOf(graph)) {
      const patch = buildAndRun(graph, { schedule: s }, bytesOf(x));
      assert.deepEqual(patch.values, layer.values, `${name} ${JSON.stringify(s)}: patch differs from per-layer`);
    }
  }
});

test('codegen: the bundled TFLite int8 example runs; every patch schedule gives the per-layer output bit for bit', { skip: SKIP_CC }, () => {
  const graph = open(exampleModel('tflite'));
  const x = bytesOf(randomInt8(EXAMPLE_INPUT.h * EXAMPLE_INPUT.w * EXAMPLE_INPUT.c, 5));
  const layer = buildAndRun(graph, {}, x);
  assert.equal(layer.values.length, EXAMPLE_CLASSES);
  assert.ok(new Set(layer.values).size > 1, `output not constant: ${layer.values.join(' ')}`);
  assert.equal(layer.out.arenaBytes, analyzeGraph(graph).arenaBytes);
  const schedules = schedulesOf(graph);
  assert.ok(schedules.length > 0);
  for (const s of schedules) assert.deepEqual(buildAndRun(graph, { schedule: s }, x).values, layer.values, JSON.stringify(s));
});

test('codegen: with the input not counted (--no-input) the input stays outside the arena; the output is the counted build\'s', { skip: SKIP_CC }, () => {
  const conventions = { countInput: false };
  const cases: [string, Graph, Uint8Array][] = [
    ['TFLite int8 example', open(exampleModel('tflite')), bytesOf(randomInt8(EXAMPLE_INPUT.h * EXAMPLE_INPUT.w * EXAMPLE_INPUT.c, 6))],
    ['float CNN', open(floatCnn()), bytesOf(randomFloats(3 * 17 * 19, 8))],
  ];
  const modelH = (out: { files: { path: string; text: string }[] }): string => out.files.find((f) => f.path === 'src/model.h')!.text;
  for (const [name, graph, x] of cases) {
    const counted = buildAndRun(graph, {}, x);
    assert.match(modelH(counted.out), /#define MODEL_INPUT_IN_ARENA 1/);
    const layer = buildAndRun(graph, { conventions }, x);
    assert.match(modelH(layer.out), /#define MODEL_INPUT_IN_ARENA 0/);
    assert.equal(layer.out.arenaBytes, analyzeGraph(graph, conventions).arenaBytes, `${name}: arena == analysis without the input`);
    assert.ok(layer.out.arenaBytes <= counted.out.arenaBytes, `${name}: ${layer.out.arenaBytes} <= ${counted.out.arenaBytes}`);
    assert.deepEqual(layer.values, counted.values, `${name}: per-layer`);
    for (const s of schedulesOf(graph)) {
      const patch = buildAndRun(graph, { conventions, schedule: s }, x);
      const ctx = scheduleContext(graph, conventions);
      assert.equal(patch.out.arenaBytes, describeSchedule(ctx, evaluateSchedule(ctx, s.split, s.p, s.q)).arenaBytes, `${name} ${JSON.stringify(s)}: arena == schedule report`);
      assert.deepEqual(patch.values, counted.values, `${name} ${JSON.stringify(s)}: patch`);
    }
  }
});

test('codegen: several outputs and nearest resizing (every coordinate mode and rounding) match onnxruntime', { skip: SKIP_CC }, async () => {
  const cases: [string, Uint8Array, number[]][] = [['resize-heads', resizeHeads(), [1, 3, 10, 12]], ['resize-opset10', resizeOpset10(), [1, 2, 5, 6]]];
  for (const [name, bytes, dims] of cases) {
    const graph = open(bytes);
    const x = randomFloats(dims.reduce((a, b) => a * b, 1), 12);
    const want = await ortRunAll(bytes, x, dims);
    const layer = buildAndRun(graph, {}, bytesOf(x), true);
    assert.equal(layer.out.outputs.length, want.length, `${name}: ${want.length} outputs`);
    assert.equal(layer.values.length, want.flat().length);
    let at = 0;
    want.forEach((w, k) => {
      const got = layer.values.slice(at, at + w.length);
      at += w.length;
      assert.ok(relativeError(got, w) < 1e-4, `${name} output ${k}: relative error ${relativeError(got, w)}\n got ${got.join(' ')}\nwant ${w.join(' ')}`);
    });
    const h = layer.out.files.find((f) => f.path === 'src/model.h')!.text;
    if (want.length > 1) {
      assert.match(h, new RegExp(`#define MODEL_OUTPUT_COUNT ${want.length}`));
      assert.match(h, /const model_output3_t \*model_output3\(void\);/);
      // The copying API with several outputs: the first two copied into the caller's buffers, the rest left in the arena.
      assert.deepEqual(runCaller(layer.dir, MULTI_CALLER), layer.values.slice(0, want[0]!.length + want[1]!.length));
    }
    fs.rmSync(layer.dir, { recursive: true, force: true });
    for (const s of schedulesOf(graph)) assert.deepEqual(buildAndRun(graph, { schedule: s }, bytesOf(x)).values, layer.values, `${name} ${JSON.stringify(s)}`);
  }
});

/** Copies the first two outputs of resizeHeads into its own buffers through model_run's outputs array. */
const MULTI_CALLER = callerSource('static model_output0_t a[MODEL_OUTPUT0_ELEMENTS];\nstatic model_output1_t b[MODEL_OUTPUT1_ELEMENTS];', `  void *const outs[MODEL_OUTPUT_COUNT] = {a, b, NULL, NULL};
  if (model_run(in, outs) != 0) return 1;
  for (int i = 0; i < MODEL_OUTPUT0_ELEMENTS; i++) printf("%.9g\\n", (double)a[i]);
  for (int i = 0; i < MODEL_OUTPUT1_ELEMENTS; i++) printf("%.9g\\n", (double)b[i]);`);

test('codegen: a constant shared by two operators is stored once in weights.c; the output still matches onnxruntime', { skip: SKIP_CC }, async () => {
  const b = new OnnxBuilder(13);
  const w = b.init('w', [4, 4, 3, 3], 'float32', pattern(144, 5));
  const bias = b.init('bias', [4], 'float32', pattern(4, 6));
  let x = b.input('x', [1, 4, 6, 6]);
  x = b.op('Relu', [b.op('Conv', [x, w, bias], { pads: [1, 1, 1, 1] })]);
  x = b.op('Conv', [x, w, bias], { pads: [1, 1, 1, 1] });
  b.output(x);
  const bytes = b.build();
  const input = randomFloats(144, 9);
  const run = buildAndRun(open(bytes), {}, bytesOf(input));
  const weightsC = run.out.files.find((f) => f.path === 'src/weights.c')!.text;
  assert.equal((weightsC.match(/^const float \w+\[144\]/gm) ?? []).length, 1, 'the shared weights once');
  assert.equal((weightsC.match(/^const float \w+\[4\]/gm) ?? []).length, 1, 'the shared bias once');
  assert.equal(run.out.weightsBytes, (144 + 4) * 4, 'the weights figure counts them once, as the analysis does');
  assert.equal(run.out.weightsBytes, analyzeGraph(open(bytes)).flashBytes);
  assert.ok(relativeError(run.values, await ortRun(bytes, input, [1, 4, 6, 6])) < 1e-4);
});

test('codegen: data movement (Slice with steps, Gather, Tile, Expand, SpaceToDepth, DepthToSpace DCR and CRD, Split on channels and on rows) matches onnxruntime exactly', { skip: SKIP_CC }, async () => {
  const b = new OnnxBuilder(13);
  const x = b.input('x', [1, 8, 6, 4]);
  const i64 = (name: string, v: number[]): string => b.init(name, [v.length], 'int64', v);
  const outs = [
    b.op('Slice', [x, i64('s0', [1, 5, -1]), i64('s1', [7, 0, 0]), i64('s2', [1, 2, 3]), i64('s3', [2, -2, -1])]),
    b.op('Gather', [x, i64('gi', [3, 0, -1, 3])], { axis: 1 }),
    b.op('Tile', [b.op('Relu', [x]), i64('rep', [1, 1, 2, 3])]),
    b.op('Expand', [b.op('Slice', [x, i64('e0', [0]), i64('e1', [1]), i64('e2', [2])]), i64('shape', [2, 8, 3, 4])]),
    b.op('SpaceToDepth', [x], { blocksize: 2 }),
    b.op('DepthToSpace', [x], { blocksize: 2 }),
    b.op('DepthToSpace', [x], { blocksize: 2, mode: 'CRD' }),
    // Split on the channels (runs like an elementwise copy) and on the rows (whole-tensor copies), unequal parts.
    ...b.node('Split', [b.op('Relu', [x]), i64('sc', [3, 5])], { axis: 1 }, 2),
    ...b.node('Split', [x, i64('sh', [2, 1, 3])], { axis: 2 }, 3),
  ];
  for (const o of outs) b.output(o);
  const bytes = b.build();
  const graph = open(bytes);
  const input = randomFloats(192, 11);
  const want = await ortRunAll(bytes, input, [1, 8, 6, 4]);
  const run = buildAndRun(graph, {}, bytesOf(input));
  // %.9g round-trips float32: the copies are exact.
  assert.deepEqual(run.values.map(Math.fround), want.flat().map(Math.fround));
});

test('codegen: a model with two inputs exports (each in the arena, model_input0/1, the harness reads them one after another) and matches onnxruntime', { skip: SKIP_CC }, async () => {
  const b = new OnnxBuilder(13);
  const x = b.input('x', [1, 3, 6, 6]);
  const z = b.input('z', [1, 4, 6, 6]);
  const c = b.op('Conv', [x, b.init('w', [4, 3, 3, 3], 'float32', pattern(108, 3)), b.init('bias', [4], 'float32', pattern(4, 4))], { pads: [1, 1, 1, 1] });
  b.output(b.op('Relu', [b.op('Add', [c, z])]));
  const bytes = b.build();
  const xs = randomFloats(108, 21);
  const zs = randomFloats(144, 22);
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(bytes);
  const res = await session.run({ x: new ort.Tensor('float32', xs, [1, 3, 6, 6]), z: new ort.Tensor('float32', zs, [1, 4, 6, 6]) });
  const want = Array.from(res[session.outputNames[0]!]!.data as Float32Array);
  const both = new Uint8Array(xs.byteLength + zs.byteLength);
  both.set(bytesOf(xs), 0);
  both.set(bytesOf(zs), xs.byteLength);
  const run = buildAndRun(open(bytes), {}, both);
  const h = run.out.files.find((f) => f.path === 'src/model.h')!.text;
  assert.match(h, /#define MODEL_INPUT_COUNT 2/);
  assert.match(h, /model_input1_t \*model_input1\(void\);/);
  assert.match(h, /int model_run\(const void \*const inputs\[MODEL_INPUT_COUNT\], model_output_t \*output\);/);
  assert.ok(relativeError(run.values, want) < 1e-5, `relative error ${relativeError(run.values, want)}`);
});

/** A 1-D network (keyword spotting, vibration): Conv1d with stride and padding, BatchNormalization, Relu, MaxPool1d
 *  with ceil_mode, a grouped Conv1d with auto_pad SAME_UPPER (an even kernel: uneven padding), a residual Add, a
 *  dilated Conv1d without bias, a ConvTranspose1d, AveragePool1d excluding the padding, global average pooling, a
 *  Gemm and a BatchNorm1d of its vector. */
function conv1dModel(): Uint8Array {
  const b = new OnnxBuilder(13);
  const x = b.input('x', [1, 3, 61]);
  const c1 = b.op('Conv', [x, b.init('w1', [8, 3, 5]), b.init('b1', [8])], { kernel_shape: [5], strides: [2], pads: [2, 1] });
  const bn = b.op('BatchNormalization', [c1, b.init('g', [8]), b.init('be', [8]), b.init('m', [8]), b.init('v', [8], 'float32', [1, 2, 0.5, 3, 1.5, 0.25, 4, 1])]);
  const r = b.op('Relu', [bn]);
  const p1 = b.op('MaxPool', [r], { kernel_shape: [3], strides: [2], pads: [1, 0], ceil_mode: 1 });
  const c2 = b.op('Conv', [p1, b.init('w2', [8, 4, 4]), b.init('b2', [8])], { kernel_shape: [4], dilations: [1], group: 2, auto_pad: 'SAME_UPPER' });
  const sum = b.op('Add', [c2, p1]);
  const c3 = b.op('Conv', [sum, b.init('w3', [8, 8, 3])], { kernel_shape: [3], dilations: [2], pads: [2, 2] });
  const t = b.op('ConvTranspose', [c3, b.init('w4', [8, 6, 3]), b.init('b4', [6])], { kernel_shape: [3], strides: [2], pads: [1, 0], output_padding: [1] });
  const p2 = b.op('AveragePool', [t], { kernel_shape: [3], strides: [1], pads: [1, 1] });
  const g = b.op('GlobalAveragePool', [p2]);
  const f = b.op('Flatten', [g]);
  const fc = b.op('Gemm', [f, b.init('wf', [4, 6]), b.init('bf', [4])], { transB: 1 });
  b.node('BatchNormalization', [fc, b.init('g2', [4]), b.init('be2', [4]), b.init('m2', [4]), b.init('v2', [4], 'float32', [2, 1, 0.5, 3])], {}, ['y']);
  b.output('y', [1, 4]);
  return b.build();
}

test('codegen: a 1-D convolutional network (Conv1d, BatchNorm, MaxPool1d, AveragePool1d, ConvTranspose1d, residual, global pooling, BatchNorm1d of a vector) matches onnxruntime', { skip: SKIP_CC }, async () => {
  const bytes = conv1dModel();
  const graph = open(bytes);
  assert.ok(graph.ops.some((o) => o.kind === 'ConvNd') && graph.ops.some((o) => o.kind === 'PoolNd'), 'read as 1-D operators');
  const x = randomFloats(3 * 61, 11);
  const want = await ortRun(bytes, x, [1, 3, 61]);
  const got = buildAndRun(graph, {}, bytesOf(x));
  assert.equal(got.values.length, 4);
  const err = relativeError(got.values, want);
  assert.ok(err < 1e-5, `relative error ${err}: ${got.values.join(' ')} vs ${want.join(' ')}`);
  assert.equal(got.out.arenaBytes, analyzeGraph(graph).arenaBytes, 'arena == analysis');
  fs.rmSync(got.dir, { recursive: true, force: true });
});

/** ConvTranspose (decoders, upsampling heads): stride 2 with pads and output_padding, then grouped with a dilated
 *  kernel and auto_pad SAME_UPPER, then stride 3 without bias. */
function convTransposeModel(): Uint8Array {
  const b = new OnnxBuilder(13);
  const x = b.input('x', [1, 4, 5, 6]);
  const t1 = b.op('ConvTranspose', [x, b.init('w1', [4, 6, 3, 3]), b.init('b1', [6])], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 0, 1, 1], output_padding: [1, 0] });
  const r = b.op('Relu', [t1]);
  const t2 = b.op('ConvTranspose', [r, b.init('w2', [6, 2, 2, 3]), b.init('b2', [4])], { kernel_shape: [2, 3], strides: [1, 2], dilations: [2, 1], group: 2, pads: [0, 1, 1, 0] });
  b.node('ConvTranspose', [t2, b.init('w3', [4, 2, 3, 2])], { kernel_shape: [3, 2], strides: [3, 2] }, ['y']);
  b.output('y');
  return b.build();
}

test('codegen: ConvTranspose (strides, pads, output_padding, groups, dilation, no bias) matches onnxruntime', { skip: SKIP_CC }, async () => {
  const bytes = convTransposeModel();
  const graph = open(bytes);
  const x = randomFloats(4 * 5 * 6, 12);
  const want = await ortRun(bytes, x, [1, 4, 5, 6]);
  const got = buildAndRun(graph, {}, bytesOf(x));
  assert.ok(want.length > 1000, `${want.length} outputs`);
  assert.equal(got.values.length, want.length);
  const err = relativeError(got.values, want);
  assert.ok(err < 1e-5, `relative error ${err}`);
  fs.rmSync(got.dir, { recursive: true, force: true });
});

/** Matrix products of computed operands (attention-like x·xᵀ), a stored 3-D operand broadcast over the batch, Gemm
 *  with transA, alpha, beta and a broadcast C, and a product with a 1-D vector. */
function matmulModel(): Uint8Array {
  const b = new OnnxBuilder(13);
  const x = b.input('x', [2, 3, 4]);
  const xt = b.op('Transpose', [x], { perm: [0, 2, 1] });
  const s = b.op('MatMul', [x, xt]);
  const p = b.op('MatMul', [s, b.init('w3', [1, 3, 2])]);
  const r = b.op('Reshape', [p, b.init('shape', [2], 'int64', [2, 6])]);
  const g = b.op('Gemm', [r, b.init('wg', [2, 4]), b.init('cg', [4])], { transA: 1, alpha: { float: 0.5 }, beta: { float: 1.5 } });
  b.node('MatMul', [g, b.init('v', [4])], {}, ['y']);
  b.output('y', [6]);
  return b.build();
}

test('codegen: matrix products of computed operands (batched, broadcast, Gemm transA/alpha/beta/C, a vector) match onnxruntime', { skip: SKIP_CC }, async () => {
  const bytes = matmulModel();
  const graph = open(bytes);
  const x = randomFloats(24, 13);
  const want = await ortRun(bytes, x, [2, 3, 4]);
  const got = buildAndRun(graph, {}, bytesOf(x));
  assert.equal(got.values.length, 6);
  const err = relativeError(got.values, want);
  assert.ok(err < 1e-5, `relative error ${err}: ${got.values.join(' ')} vs ${want.join(' ')}`);
  assert.equal(got.out.arenaBytes, analyzeGraph(graph).arenaBytes, 'arena == analysis');
  fs.rmSync(got.dir, { recursive: true, force: true });
});

/** Float unary and binary operators beyond the activations: PRelu (per channel, fused after a Conv, and alone with
 *  one slope), Exp, Abs, Log, Sqrt, Neg, Erf, Pow, com.microsoft.Gelu, and LayerNormalization over the last axis (with
 *  a Relu fused). */
function unaryModel(): Uint8Array {
  const b = new OnnxBuilder(17);
  const x = b.input('x', [1, 3, 6, 5]);
  const c = b.conv(x, 3, 4, 3);
  const p1 = b.op('PRelu', [c, b.init('slope', [4, 1, 1], 'float32', [0.1, -0.2, 0.3, 2])]);
  const p2 = b.op('PRelu', [b.op('Neg', [p1]), b.init('slope1', [1], 'float32', [0.25])]);
  const ex = b.op('Exp', [b.op('Mul', [p2, b.init('tenth', [1], 'float32', [0.1])])]);
  const lg = b.op('Log', [b.op('Add', [b.op('Abs', [p2]), b.init('one', [1], 'float32', [1])])]);
  const sq = b.op('Sqrt', [b.op('Abs', [b.op('Erf', [lg])])]);
  const pw = b.op('Pow', [ex, b.init('p', [1], 'float32', [1.5])]);
  const sum = b.op('Add', [b.op('Add', [pw, sq]), lg]);
  const ge = b.op('Gelu', [sum], {}, 'com.microsoft');
  const ln = b.op('LayerNormalization', [ge, b.init('g', [5], 'float32', [1, 0.5, 2, -1, 0.7]), b.init('bb', [5], 'float32', [0, 0.1, -0.2, 0.3, 0])], { axis: -1, epsilon: { float: 1e-3 } });
  b.node('Relu', [ln], {}, ['y']);
  b.output('y', [1, 4, 6, 5]);
  return b.build();
}

test('codegen: PRelu, Exp, Abs, Log, Sqrt, Neg, Erf, Pow, Gelu and LayerNormalization (float) match onnxruntime', { skip: SKIP_CC }, async () => {
  const bytes = unaryModel();
  const graph = open(bytes);
  const x = randomFloats(90, 14);
  const want = await ortRun(bytes, x, [1, 3, 6, 5]);
  const got = buildAndRun(graph, {}, bytesOf(x));
  assert.equal(got.values.length, 120);
  const err = relativeError(got.values, want);
  assert.ok(err < 1e-5, `relative error ${err}`);
  fs.rmSync(got.dir, { recursive: true, force: true });
});

/** A layer normalization written out in operators (as PyTorch exports it for training graphs): per-row statistics
 *  [1, 4, 1] broadcast back over rows of a tensor no spatial operator gives a layout, with ReduceMean, Sub, Pow, Add,
 *  Sqrt and Div; then a bias [6] along the last axis. */
function decomposedNormModel(): Uint8Array {
  const b = new OnnxBuilder(13);
  const x = b.input('x', [1, 4, 6]);
  const m = b.op('ReduceMean', [x], { axes: [2], keepdims: 1 });
  const d = b.op('Sub', [x, m]);
  const v = b.op('ReduceMean', [b.op('Pow', [d, b.init('two', [], 'float32', [2])])], { axes: [2], keepdims: 1 });
  const n = b.op('Div', [d, b.op('Sqrt', [b.op('Add', [v, b.init('eps', [], 'float32', [1e-5])])])]);
  b.node('Add', [n, b.init('bias', [6], 'float32', [0.1, -0.2, 0.3, 0, 1, -1])], {}, ['y']);
  b.output('y', [1, 4, 6]);
  return b.build();
}

test('codegen: operands broadcast along the leading or trailing axes of a tensor without a layout (a decomposed layer norm) match onnxruntime', { skip: SKIP_CC }, async () => {
  const bytes = decomposedNormModel();
  const graph = open(bytes);
  const x = randomFloats(24, 15);
  const want = await ortRun(bytes, x, [1, 4, 6]);
  const got = buildAndRun(graph, {}, bytesOf(x));
  const err = relativeError(got.values, want);
  assert.ok(err < 1e-5, `relative error ${err}`);
  fs.rmSync(got.dir, { recursive: true, force: true });
});

/** ONNX LSTM: bidirectional with biases, peepholes and a stored initial state (Y and Y_c as outputs), and reverse
 *  with a gate clip and no initial state (Y and Y_h). */
function lstmModel(bidirectional: boolean): Uint8Array {
  const b = new OnnxBuilder(13);
  const [seq, batch, inSize, hid] = [5, 2, 3, 4];
  const dirs = bidirectional ? 2 : 1;
  const x = b.input('x', [seq, batch, inSize]);
  const vals = (n: number, k: number): number[] => Array.from({ length: n }, (_, i) => (((i * k) % 23) - 11) / 17);
  const w = b.init('W', [dirs, 4 * hid, inSize], 'float32', vals(dirs * 4 * hid * inSize, 7));
  const r = b.init('R', [dirs, 4 * hid, hid], 'float32', vals(dirs * 4 * hid * hid, 5));
  const bias = b.init('B', [dirs, 8 * hid], 'float32', vals(dirs * 8 * hid, 3));
  if (bidirectional) {
    const h0 = b.init('h0', [dirs, batch, hid], 'float32', vals(dirs * batch * hid, 9));
    const c0 = b.init('c0', [dirs, batch, hid], 'float32', vals(dirs * batch * hid, 11));
    const p = b.init('P', [dirs, 3 * hid], 'float32', vals(dirs * 3 * hid, 13));
    b.node('LSTM', [x, w, r, bias, '', h0, c0, p], { hidden_size: hid, direction: 'bidirectional' }, ['y', '', 'yc']);
    b.output('y', [seq, dirs, batch, hid]);
    b.output('yc', [dirs, batch, hid]);
  } else {
    b.node('LSTM', [x, w, r, bias], { hidden_size: hid, direction: 'reverse', clip: { float: 0.4 } }, ['y', 'yh']);
    b.output('y', [seq, dirs, batch, hid]);
    b.output('yh', [dirs, batch, hid]);
  }
  return b.build();
}

test('codegen: ONNX LSTM (bidirectional with peepholes and initial state; reverse with clip) matches onnxruntime', { skip: SKIP_CC }, async () => {
  for (const bi of [true, false]) {
    const bytes = lstmModel(bi);
    const graph = open(bytes);
    const x = randomFloats(5 * 2 * 3, 16);
    const want = (await ortRunAll(bytes, x, [5, 2, 3])).flat();
    const got = buildAndRun(graph, {}, bytesOf(x));
    assert.equal(got.values.length, want.length, `bidirectional ${bi}`);
    const err = relativeError(got.values, want);
    assert.ok(err < 1e-5, `bidirectional ${bi}: relative error ${err}`);
    assert.equal(got.out.arenaBytes, analyzeGraph(graph).arenaBytes, 'arena == analysis: the cell state needs no memory of its own');
    fs.rmSync(got.dir, { recursive: true, force: true });
  }
});

test('codegen: a TFLite LSTM whose state tensors do not match its sizes is refused by name (the kernel writes batch × units)', () => {
  const b = new TfliteBuilder();
  const [batch, time, inSize, hid] = [2, 3, 3, 4];
  const x = b.tensor('x', [batch, time, inSize], 'float32');
  const h = b.tensor('h', [1, hid], 'float32', undefined, { variable: true });
  const c = b.tensor('c', [batch, hid], 'float32', undefined, { variable: true });
  const y = b.tensor('y', [batch, time, hid], 'float32');
  const w = [0, 1, 2, 3].map((g) => b.constant(`w${g}`, [hid, inSize], 'float32'));
  const r = [0, 1, 2, 3].map((g) => b.constant(`r${g}`, [hid, hid], 'float32'));
  const bias = [0, 1, 2, 3].map((g) => b.constant(`b${g}`, [hid], 'float32'));
  b.op('UNIDIRECTIONAL_SEQUENCE_LSTM', [x, ...w, ...r, -1, -1, -1, ...bias, -1, -1, h, c, -1, -1, -1, -1], [y], [[0, 'int8', 4]]);
  b.inputs = [x];
  b.outputs = [y];
  const res = generateC(open(b.build(), 'lstm.tflite'));
  assert.ok(!res.ok && /'h' is not 8 float32 values/.test(res.error.message), res.ok ? 'exported' : res.error.message);
});

test('codegen: TFLite nearest-neighbour indices follow TensorFlow\'s own test expectations', () => {
  const tfl = (coord: string): { mode: 'nearest'; coord: string; nearest: string; tflite: true } => ({ mode: 'nearest', coord, nearest: 'floor', tflite: true });
  // tfjs resize_nearest_neighbor_test ([2,2,4,4] 2×2 → 3×3) and TF image_ops_test (3×2 → 5×4, align_corners).
  assert.deepEqual(nearestIndices(2, 3, tfl('asymmetric')), [0, 0, 1]);
  assert.deepEqual(nearestIndices(3, 5, tfl('asymmetric')), [0, 0, 1, 1, 2]);
  assert.deepEqual(nearestIndices(2, 3, tfl('align_corners')), [0, 1, 1]);
  assert.deepEqual(nearestIndices(3, 5, tfl('align_corners')), [0, 1, 1, 2, 2]);
  assert.deepEqual(nearestIndices(2, 4, tfl('align_corners')), [0, 0, 1, 1]);
  // TFLite resize_nearest_neighbor_test, HalfPixelCenters: {3, 6} → {3, 6, 6}.
  assert.deepEqual(nearestIndices(2, 3, tfl('tf_half_pixel_for_nn')), [0, 1, 1]);
});

test('codegen: TFLite RELU_0_TO_1 clamps to [0, 1] (its definition in the TFLite schema)', { skip: SKIP_CC }, () => {
  const b = new TfliteBuilder();
  const x = b.tensor('x', [1, 3, 4, 5], 'float32');
  const y = b.tensor('y', [1, 3, 4, 5], 'float32');
  b.op('RELU_0_TO_1', [x], [y]);
  b.inputs = [x];
  b.outputs = [y];
  const input = randomFloats(60, 9, -2, 2);
  const got = buildAndRun(open(b.build()), {}, bytesOf(input)).values;
  const want = Array.from(input, (v) => Math.min(1, Math.max(0, v)));
  assert.ok(want.some((v) => v === 0) && want.some((v) => v === 1) && want.some((v) => v > 0 && v < 1));
  assert.equal(got.length, want.length);
  assert.ok(relativeError(got, want) < 1e-6, `got ${got.join(' ')}`);
});

test('codegen: quantizeMultiplier follows TFLite (frexp, Q31, rounding)', () => {
  assert.deepEqual(quantizeMultiplier(0.5), [2 ** 30, 0]);
  assert.deepEqual(quantizeMultiplier(1), [2 ** 30, 1]);
  assert.deepEqual(quantizeMultiplier(0.75), [Math.round(0.75 * 2 ** 31), 0]);
  assert.deepEqual(quantizeMultiplier(0.0078125), [2 ** 30, -6]);
  assert.deepEqual(quantizeMultiplier(0), [0, 0]);
  // 1 - 2^-40 rounds up to 2^31: the multiplier halves and the shift grows (TFLite's special case)
  assert.deepEqual(quantizeMultiplier(1 - 2 ** -40), [2 ** 30, 1]);
});

test('codegen: gemmlowp fixed point (logistic, tanh, exp) approximates the real functions; TFLite\'s fixed output quantization of int8 LOGISTIC and TANH is enforced', () => {
  // Inputs with 4 integer bits (raw / 2^27), results with 0 (raw / 2^31).
  for (let r = -15.9; r < 16; r += 0.37) {
    const raw = Math.round(r * 2 ** 27);
    assert.ok(Math.abs(logistic(raw, 4) / 2 ** 31 - 1 / (1 + Math.exp(-raw / 2 ** 27))) < 1e-6, `logistic(${r})`);
    assert.ok(Math.abs(tanh(raw, 4) / 2 ** 31 - Math.tanh(raw / 2 ** 27)) < 1e-6, `tanh(${r})`);
    if (raw <= 0) assert.ok(Math.abs(expOnNegativeValues(raw, 4) / 2 ** 31 - Math.exp(raw / 2 ** 27)) < 1e-6, `exp(${r})`);
  }
  assert.equal(logistic(0, 4), 2 ** 30);
  assert.equal(tanh(0, 4), 0);
  // Tables: monotone, saturating at the ends for a coarse input scale.
  const L = logisticTableS8(0.13, -20);
  assert.deepEqual([L[0], L[255]], [-128, 127]);
  assert.ok(L.every((v, i) => i === 0 || v >= L[i - 1]!));
  const H = hardSwishTableS8(0.05, 3, 0.035, -9)!;
  assert.equal(H[128 + 3], -9, 'hard_swish(0) = the output zero point');
  assert.equal(hardSwishTableS8(0.05, 3, 0.0001, 0), null, 'an output scale below 1/128 of the input\'s: TFLM refuses');
  // TFLM's int16 sigmoid table: 65536·sigmoid(i/24) raised by half each segment's interpolation sag; increasing from
  // one half to the largest uint16 (the int8 LSTM's TFLM test checks it value by value through the outputs).
  const S = sigmoidTableU16();
  assert.deepEqual([S.length, S[0], S[255]], [256, 32768, 65535]);
  assert.ok(S.every((v, i) => i === 0 || v >= S[i - 1]!) && S.every((v, i) => Math.abs(v - 65536 / (1 + Math.exp(-i / 24))) < 1.5));
  // A TANH whose output is not quantized with scale 1/128 and zero point 0 is refused by name.
  const b = new TfliteBuilder();
  const x = b.tensor('x', [1, 4, 4, 2], 'int8', undefined, { quant: { scale: [0.05], zeroPoint: [0], axis: 0 } });
  const y = b.tensor('t', [1, 4, 4, 2], 'int8', undefined, { quant: { scale: [0.01], zeroPoint: [0], axis: 0 } });
  b.op('TANH', [x], [y]);
  b.inputs = [x];
  b.outputs = [y];
  const r = generateC(open(b.build(), 'tanh.tflite'));
  assert.ok(!r.ok);
  assert.match(r.error.message, /TANH.*requires its int8 output quantized with scale 1\/128 and zero point 0; 't' has 0.01/);
});

/** A conv followed by LRN, an operator the generator does not have. */
function lrnModel(): Uint8Array {
  const b = new OnnxBuilder(13);
  const x = b.input('x', [1, 3, 8, 8]);
  const c = b.conv(x, 3, 4, 3);
  b.node('LRN', [c], { size: 3 }, ['y']);
  b.output('y', [1, 4, 8, 8]);
  return b.build();
}

test('codegen: unsupported operators and conventions stop the export with a message naming them', () => {
  const graph = open(lrnModel());
  const r = generateC(graph);
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.error.message, /LRN/);
  const bi = new OnnxBuilder(13);
  const xi = bi.input('x', [1, 3, 8, 8]);
  bi.node('InstanceNormalization', [bi.conv(xi, 3, 4, 3), bi.init('ig', [4], 'float32', [1, 1, 1, 1]), bi.init('ib', [4], 'float32', [0, 0, 0, 0])], {}, ['y']);
  bi.output('y', [1, 4, 8, 8]);
  const ri = generateC(open(bi.build()));
  assert.equal(ri.ok, false);
  if (!ri.ok) assert.match(ri.error.message, /InstanceNormalization .* is not generated/);
  const ok = open(floatDense());
  const r2 = generateC(ok, { conventions: { fuseAdd: true } });
  assert.equal(r2.ok, false);
  if (!r2.ok) assert.match(r2.error.message, /fuse-add/);
  const r3 = generateC(ok, { conventions: { asInt8: true } });
  assert.equal(r3.ok, false);
  // Selu is not Elu (its alpha and scale differ): exported as itself, never as an Elu.
  const bs = new OnnxBuilder(13);
  bs.node('Selu', [bs.input('x', [1, 4])], {}, ['y']);
  bs.output('y', [1, 4]);
  const rs = generateC(open(bs.build()));
  assert.ok(rs.ok, rs.ok ? '' : rs.error.message);
  const modelC = rs.value.files.find((f) => f.path === 'src/model.c')!.text;
  assert.match(modelC, /MM_SELU/);
  assert.doesNotMatch(modelC, /MM_ELU/);
});

test('codegen: a failed export becomes a Problems finding on the step of the operator it names', () => {
  const graph = open(lrnModel());
  const r = generateC(graph);
  assert.ok(!r.ok && r.error.opIndex === 1, JSON.stringify(r));
  const report = analyzeModel(graph, 'lrn.onnx', effectiveSettings(DEFAULT_SETTINGS));
  if (r.ok) return;
  const f = codegenFinding(report, r.error.message, r.error.opIndex);
  assert.equal(f.code, 'codegen');
  assert.equal(f.severity, 'error');
  assert.equal(f.step, report.analysis.ops.findIndex((o) => o.op === 'LRN'));
  assert.match(f.message, /LRN/);
});

test('codegen: int16 activations are exported for data movement (the values and the int16 types reach model.h) and refused, by name, for operators without an int16 kernel', () => {
  const q = { quant: { scale: [0.001], zeroPoint: [0], axis: 0 } };
  const pad = new TfliteBuilder();
  const x = pad.tensor('x', [1, 2, 5, 3], 'int16', undefined, q);
  const y = pad.tensor('y', [1, 3, 8, 3], 'int16', undefined, q);
  pad.op('PAD', [x, pad.constant('p', [4, 2], 'int32', [0, 0, 1, 0, 2, 1, 0, 0])], [y]);
  pad.inputs = [x];
  pad.outputs = [y];
  const r = generateC(open(pad.build(), 'pad.tflite'));
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  const header = r.value.files.find((f) => f.path === 'src/model.h')!.text;
  assert.match(header, /typedef int16_t model_input_t;/);
  assert.match(header, /typedef int16_t model_output_t;/);
  if (HAVE_CC) {
    // Padding value 0 (the zero point) around the input's values, which keep their 16 bits.
    const input = Int16Array.from({ length: 30 }, (_, i) => (i % 2 ? 1 : -1) * (1000 * i + 7));
    const out = buildAndRun(open(pad.build(), 'pad.tflite'), {}, bytesOf(input)).values;
    assert.equal(out.length, 72);
    assert.deepEqual(out.slice(0, 24), new Array(24).fill(0), 'the padded first row');
    assert.deepEqual(out.slice(24 + 6, 24 + 9), Array.from(input.slice(0, 3)), 'the first value after two padded columns');
  }
  const relu = new TfliteBuilder();
  const a = relu.tensor('a', [1, 4, 4, 2], 'int16', undefined, q);
  const b = relu.tensor('b', [1, 4, 4, 2], 'int16', undefined, q);
  relu.op('ABS', [a], [b]);
  relu.inputs = [a];
  relu.outputs = [b];
  const rr = generateC(open(relu.build(), 'relu.tflite'));
  assert.equal(rr.ok, false);
  if (!rr.ok) assert.match(rr.error.message, /ABS 'b' on int16 activations is not generated \(int16: data movement, convolution and transposed convolution, fully connected, ADD, SUB, MUL, MAXIMUM, MINIMUM, SQUARED_DIFFERENCE, pooling, MEAN, RELU, RELU6, LEAKY_RELU, PRELU, LOGISTIC, TANH, SOFTMAX, ArgMax, QUANTIZE, DEQUANTIZE and an SVDF's state\)/);
});

test('codegen: a DEQUANTIZE of constants folded ahead of time (an SSD\'s anchors: RESHAPE, TILE and CONCATENATION of stored values) runs in the model, from the values put together at export', { skip: HAVE_CC ? false : 'no C compiler (cc) and make on this machine' }, () => {
  const q = { scale: [0.25], zeroPoint: [-3], axis: 0 };
  const b = new TfliteBuilder();
  const x = b.tensor('x', [1, 4], 'int8', undefined, { quant: q });
  const y0 = b.tensor('y0', [1, 4], 'float32');
  b.op('DEQUANTIZE', [x], [y0]);
  const a = b.constant('a', [2, 2], 'int8', [1, 2, 3, 4], q);
  const ar = b.tensor('ar', [1, 2, 2], 'int8', undefined, { quant: q });
  b.op('RESHAPE', [a, b.constant('as', [3], 'int32', [1, 2, 2])], [ar]);
  const t = b.constant('t', [1, 1, 2], 'int8', [-7, 9], q);
  const tt = b.tensor('tt', [1, 3, 2], 'int8', undefined, { quant: q });
  b.op('TILE', [t, b.constant('m', [3], 'int32', [1, 3, 1])], [tt]);
  const c = b.tensor('c', [1, 5, 2], 'int8', undefined, { quant: q });
  b.op('CONCATENATION', [ar, tt], [c], [[0, 'int32', 1]]);
  const y1 = b.tensor('y1', [1, 5, 2], 'float32');
  b.op('DEQUANTIZE', [c], [y1]);
  b.inputs = [x];
  b.outputs = [y0, y1];
  const out = buildAndRun(open(b.build(), 'anchors.tflite'), {}, bytesOf(Int8Array.from([5, -3, 0, 100]))).values;
  const dq = (v: number): number => (v + 3) * 0.25;
  assert.deepEqual(out, [...[5, -3, 0, 100].map(dq), ...[1, 2, 3, 4, -7, 9, -7, 9, -7, 9].map(dq)]);
});

test('codegen: an operator that copies values (or an integer ADD) whose operand has another element type than its output is refused by name, never read past the smaller tensor', () => {
  const q = { quant: { scale: [0.1], zeroPoint: [0], axis: 0 } };
  const reshape = new TfliteBuilder();
  const x = reshape.tensor('x', [1, 8], 'int8', undefined, q);
  const y = reshape.tensor('y', [2, 4], 'float32');
  reshape.op('RESHAPE', [x, reshape.constant('s', [2], 'int32', [2, 4])], [y]);
  reshape.inputs = [x];
  reshape.outputs = [y];
  const r = generateC(open(reshape.build(), 'reshape.tflite'));
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.error.message, /RESHAPE 'y' reads int8 'x' and writes float32; not generated/);
  const add = new TfliteBuilder();
  const a = add.tensor('a', [1, 4], 'int16', undefined, q);
  const b8 = add.tensor('b8', [1, 4], 'int8', undefined, q);
  const s = add.tensor('sum', [1, 4], 'int16', undefined, q);
  add.op('ADD', [a, b8], [s]);
  add.inputs = [a, b8];
  add.outputs = [s];
  const ra = generateC(open(add.build(), 'add.tflite'));
  assert.equal(ra.ok, false);
  if (!ra.ok) assert.match(ra.error.message, /ADD 'sum' reads int8 'b8' and writes int16; not generated/);
});

test('codegen: ONNX Pad in reflect, edge and wrap mode (after a convolution, on a tensor of unknown layout, along every axis of a 3-D tensor) equals onnxruntime', { skip: SKIP_CC }, async () => {
  for (const mode of ['reflect', 'edge', 'wrap'] as const) {
    for (const afterConv of [true, false]) {
      const b = new OnnxBuilder(19);
      const x = b.input('x', [1, 3, 6, 7]);
      const src = afterConv ? b.conv(x, 3, 4, 3, { pad: 1 }) : x;
      const y = b.op('Pad', [src, b.init('pads', [8], 'int64', [0, 0, 2, 1, 0, 0, 1, 3])], { mode });
      b.output(y, [1, afterConv ? 4 : 3, 9, 11]);
      const bytes = b.build();
      const graph = open(bytes);
      const input = randomFloats(3 * 6 * 7, 5);
      const want = await ortRun(bytes, input, [1, 3, 6, 7]);
      const got = buildAndRun(graph, {}, bytesOf(input)).values;
      // The padding moves values: exact alone; after a convolution, the convolution's float sums differ in order.
      if (afterConv) assert.ok(relativeError(got, want) < 1e-5, `${mode} after a Conv`);
      else assert.deepEqual(got.map(Math.fround), want.map(Math.fround), mode);
    }
    // Every axis of a 3-D tensor with a batch of 2 (onnx2c's all-axes tests).
    const b = new OnnxBuilder(19);
    const y = b.op('Pad', [b.input('x', [2, 5, 4]), b.init('pads', [6], 'int64', [1, 2, 0, 1, 1, 3])], { mode });
    b.output(y, [4, 8, 7]);
    const bytes = b.build();
    const input = randomFloats(40, 6);
    assert.deepEqual(buildAndRun(open(bytes), {}, bytesOf(input)).values.map(Math.fround), (await ortRun(bytes, input, [2, 5, 4])).map(Math.fround), `${mode}, 3-D, every axis`);
  }
});

test('codegen: ONNX Softmax and LogSoftmax along a middle axis (opset 13) and over the flattened block (opset 11) match onnxruntime', { skip: SKIP_CC }, async () => {
  for (const [type, opset, axis] of [['Softmax', 13, 1], ['Softmax', 11, 1], ['LogSoftmax', 13, -1], ['LogSoftmax', 13, 0], ['LogSoftmax', 11, 1]] as const) {
    const b = new OnnxBuilder(opset);
    const y = b.op(type, [b.input('x', [2, 3, 4])], { axis });
    b.output(y, [2, 3, 4]);
    const bytes = b.build();
    const input = randomFloats(24, 8, -3, 3);
    const want = await ortRun(bytes, input, [2, 3, 4]);
    const got = buildAndRun(open(bytes), {}, bytesOf(input)).values;
    const worst = Math.max(...got.map((v, i) => Math.abs(v - want[i]!)));
    assert.ok(worst < 1e-5, `${type} opset ${opset} axis ${axis}: off by ${worst}`);
  }
});

test('codegen: ONNX ArgMax and ArgMin (int64 indices: every axis, kept and dropped, ties to the first or the last index; after a convolution, the indices reshaped) match onnxruntime', { skip: SKIP_CC }, async () => {
  // Values on a coarse grid, so that ties are common and select_last_index matters.
  const input = Float32Array.from(randomFloats(24, 10, -2, 2), (v) => Math.round(v * 2) / 2);
  for (const type of ['ArgMax', 'ArgMin'] as const) {
    for (const [axis, keepdims, last, outShape] of [[0, 1, 0, [1, 3, 4]], [1, 0, 1, [2, 4]], [-1, 1, 1, [2, 3, 1]], [2, 0, 0, [2, 3]]] as const) {
      const b = new OnnxBuilder(13);
      const y = b.op(type, [b.input('x', [2, 3, 4])], { axis, keepdims, select_last_index: last });
      b.output(y, [...outShape], 'int64');
      const bytes = b.build();
      const want = await ortRun(bytes, input, [2, 3, 4]);
      const got = buildAndRun(open(bytes), {}, bytesOf(input)).values;
      assert.deepEqual(got, want, `${type} axis ${axis} keepdims ${keepdims} select_last_index ${last}`);
    }
  }
  // A classifier's end: convolution, ArgMax over the channels, the int64 indices flattened.
  const b = new OnnxBuilder(13);
  const conv = b.conv(b.input('x', [1, 3, 6, 5]), 3, 4, 3);
  const arg = b.op('ArgMax', [conv], { axis: 1, keepdims: 1 });
  const y = b.op('Reshape', [arg, b.init('shape', [1], 'int64', [-1])]);
  b.output(y, [30], 'int64');
  const bytes = b.build();
  const x = randomFloats(90, 11);
  const r = buildAndRun(open(bytes), {}, bytesOf(x));
  assert.match(r.out.files.find((f) => f.path === 'src/model.h')!.text, /typedef int64_t model_output_t;/);
  assert.deepEqual(r.values, await ortRun(bytes, x, [1, 3, 6, 5]));
  assert.ok(new Set(r.values).size > 2, 'the indices vary');
});

/** One-operator ONNX models of float activations on a [2, 3, 4] input, each within 1e-6 of onnxruntime. */
async function activationsMatchOrt(opset: number, cases: readonly (readonly [string, Record<string, AttrValue>])[], input: Float32Array): Promise<void> {
  for (const [type, attrs] of cases) {
    const b = new OnnxBuilder(opset);
    const y = b.op(type, [b.input('x', [2, 3, 4])], attrs);
    b.output(y, [2, 3, 4]);
    const bytes = b.build();
    const want = await ortRun(bytes, input, [2, 3, 4]);
    const got = buildAndRun(open(bytes), {}, bytesOf(input)).values;
    assert.ok(relativeError(got, want) < 1e-6, `${type} ${JSON.stringify(attrs)}: ${relativeError(got, want)}`);
  }
}

test('codegen: ONNX Selu, Softplus, Mish, Reciprocal, Floor, Ceil and Round (half to even) match onnxruntime', { skip: SKIP_CC }, async () => {
  // Every seventh value a multiple of 0.5 (Round's ties), none zero (Reciprocal).
  const input = Float32Array.from(randomFloats(24, 12, -4, 4), (v, i) => (i % 7 === 0 ? Math.round(v * 2) / 2 || 0.5 : v));
  await activationsMatchOrt(18, [['Selu', { alpha: { float: 1.5 }, gamma: { float: 0.9 } }], ['Selu', {}], ['Softplus', {}], ['Mish', {}], ['Reciprocal', {}], ['Floor', {}], ['Ceil', {}], ['Round', {}]], input);
});

test('codegen: ONNX Sign, Shrink, Softsign, ThresholdedRelu, Celu (float) and a CastLike to the same type match onnxruntime', { skip: SKIP_CC }, async () => {
  const input = Float32Array.from(randomFloats(24, 14, -3, 3), (v, i) => (i % 8 === 0 ? 0 : v));
  await activationsMatchOrt(13, [['Sign', {}], ['Shrink', { lambd: { float: 0.7 }, bias: { float: 0.2 } }], ['Shrink', {}], ['Softsign', {}],
    ['ThresholdedRelu', { alpha: { float: 0.4 } }], ['Celu', { alpha: { float: 1.5 } }]], input);
  const b = new OnnxBuilder(15);
  const x = b.input('x', [2, 3, 4]);
  b.output(b.op('Relu', [b.op('CastLike', [x, x])]), [2, 3, 4]);
  const bytes = b.build();
  assert.deepEqual(buildAndRun(open(bytes), {}, bytesOf(input)).values.map(Math.fround), (await ortRun(bytes, input, [2, 3, 4])).map(Math.fround));
});

test('codegen: ONNX QDQ int8 Abs, Neg, Sqrt, Exp, Log and Sigmoid are tables onnxruntime computes alike (float32, ties to even)', { skip: SKIP_CC }, async () => {
  // Output scale twice the input's: Abs and Neg land on ties (|v|/2) that round to even.
  const input = randomFloats(64, 15, -6, 6);
  for (const type of ['Abs', 'Neg', 'Sqrt', 'Exp', 'Log', 'Sigmoid']) {
    const b = new OnnxBuilder(13);
    const f = (name: string, v: number): string => b.init(name, [], 'float32', [v]);
    const z = (name: string, v: number): string => b.init(name, [], 'int8', [v]);
    const q = b.op('QuantizeLinear', [b.input('x', [1, 64]), f('sx', 0.05), z('zx', 3)]);
    const d = b.op('DequantizeLinear', [q, 'sx', 'zx']);
    b.node('QuantizeLinear', [b.op(type, [d]), f('sy', type === 'Exp' ? 2 : 0.1), z('zy', type === 'Sigmoid' ? -128 : -2)], {}, ['y']);
    b.output('y', [1, 64], 'int8');
    const bytes = b.build();
    const want = await ortRun(bytes, input, [1, 64]);
    const got = buildAndRun(open(bytes), {}, bytesOf(input)).values;
    // Log and Sqrt of negative inputs are NaN before quantization: not compared.
    const skip = new Set(type === 'Log' || type === 'Sqrt' ? [...input.keys()].filter((i) => Math.round(input[i]! / 0.05) + 3 - 3 < 0) : []);
    assert.deepEqual(got.filter((_, i) => !skip.has(i)), want.filter((_, i) => !skip.has(i)), type);
  }
});

test('codegen: ONNX ReduceSum (axes as an operand, kept and dropped) matches onnxruntime', { skip: SKIP_CC }, async () => {
  for (const [axes, keepdims, outShape] of [[[1], 1, [2, 1, 4]], [[1, 2], 0, [2]], [[2], 0, [2, 3]]] as const) {
    const b = new OnnxBuilder(13);
    const y = b.op('ReduceSum', [b.input('x', [2, 3, 4]), b.init('axes', [axes.length], 'int64', [...axes])], { keepdims });
    b.output(y, [...outShape]);
    const bytes = b.build();
    const input = randomFloats(24, 9, -2, 2);
    const want = await ortRun(bytes, input, [2, 3, 4]);
    const got = buildAndRun(open(bytes), {}, bytesOf(input)).values;
    assert.ok(relativeError(got, want) < 1e-6, `axes ${axes.join(',')} keepdims ${keepdims}`);
  }
});

test('codegen: a batch of several 2-D maps runs map by map (convolution, batch norm, activation, pooling, a residual Add, then flatten and Gemm; onnxruntime); other operators on a batch and schedules are refused by name; a batch of 1-D maps runs row by row, its global pooling over W only', { skip: SKIP_CC }, async () => {
  const b2 = new OnnxBuilder(13);
  const x2 = b2.input('x', [3, 3, 7, 5]);
  const c1 = b2.conv(x2, 3, 4, 3, { pad: 1 });
  const c = (name: string, v: number[]): string => b2.init(name, [4], 'float32', v);
  const bn = b2.op('BatchNormalization', [c1, c('g', [1, 0.5, 2, 1]), c('bb', [0, 0.1, -0.2, 0.3]), c('m', [0.1, 0, 0.2, -0.1]), c('v', [1, 2, 0.5, 1])]);
  const r1 = b2.op('Relu', [bn]);
  const add = b2.op('Add', [r1, b2.conv(r1, 4, 4, 3, { pad: 1 })]);
  const pool = b2.op('GlobalAveragePool', [b2.op('MaxPool', [add], { kernel_shape: [2, 2], strides: [1, 1] })]);
  const flat = b2.op('Flatten', [pool]);
  const y2 = b2.op('Gemm', [flat, b2.init('fw', [5, 4], 'float32', Array.from({ length: 20 }, (_, i) => Math.sin(i))), b2.init('fb', [5], 'float32', [0.1, 0.2, 0.3, 0.4, 0.5])], { transB: 1 });
  b2.output(y2, [3, 5]);
  const bytes2 = b2.build();
  const x = randomFloats(315, 13);
  const r2 = buildAndRun(open(bytes2), {}, bytesOf(x));
  assert.ok(relativeError(r2.values, await ortRun(bytes2, x, [3, 3, 7, 5])) < 1e-5, 'a batch of 3 maps');
  assert.match(r2.out.files.find((f) => f.path === 'src/model.c')!.text, /for \(int32_t mm_n = 0; mm_n < 3; mm_n\+\+\)/);
  // A batch through an operator that reads its maps otherwise, and under a patch schedule: named refusals.
  const b3 = new OnnxBuilder(13);
  const c3 = b3.conv(b3.input('a', [2, 3, 4, 4]), 3, 3, 1);
  b3.output(b3.op('Concat', [c3, c3], { axis: 1 }), [2, 6, 4, 4]);
  const r3 = generateC(open(b3.build()), {});
  assert.ok(!r3.ok && /holds a batch of 2 feature maps; generated code runs a batch map by map through convolution, .* only, not operator #1 Concat 'Concat_1'/.test(r3.error.message), r3.ok ? 'exported' : r3.error.message);
  // Without a layout (no spatial operator), a batch is a tensor like any other: Concat copies it whole.
  const b5 = new OnnxBuilder(13);
  b5.output(b5.op('Concat', [b5.input('a', [2, 3, 4, 4]), b5.input('b', [2, 3, 4, 4])], { axis: 1 }), [2, 6, 4, 4]);
  assert.ok(generateC(open(b5.build()), {}).ok);
  const r4 = generateC(open(bytes2), { schedule: { split: 1, p: 2, q: 2 } });
  assert.ok(!r4.ok && /'x' holds a batch of 3 maps; tiles and rows cover one map/.test(r4.error.message), r4.ok ? 'exported' : r4.error.message);
  const b1 = new OnnxBuilder(13);
  const w = b1.init('w', [4, 2, 3], 'float32', Array.from({ length: 24 }, (_, i) => Math.cos(i) * 0.5));
  const conv = b1.op('Conv', [b1.input('x', [3, 2, 9]), w, b1.init('b', [4], 'float32', [0.1, -0.1, 0.2, 0])], { kernel_shape: [3], pads: [1, 1] });
  const y = b1.op('GlobalAveragePool', [b1.op('Relu', [conv])]);
  b1.output(y, [3, 4, 1]);
  const bytes = b1.build();
  const input = randomFloats(54, 2);
  const want = await ortRun(bytes, input, [3, 2, 9]);
  const got = buildAndRun(open(bytes), {}, bytesOf(input)).values;
  assert.ok(relativeError(got, want) < 1e-5, `1-D batch of 3: ${got.join(' ')} vs ${want.join(' ')}`);
});

test('codegen: ONNX Pad before opset 11 pads with its value attribute (onnxruntime)', { skip: SKIP_CC }, async () => {
  const b = new OnnxBuilder(10);
  const y = b.op('Pad', [b.op('Relu', [b.conv(b.input('x', [1, 3, 6, 5]), 3, 4, 3)])], { pads: [0, 0, 1, 2, 0, 0, 2, 1], value: { float: 1.5 } });
  b.output(y, [1, 4, 9, 8]);
  const bytes = b.build();
  const input = randomFloats(90, 3);
  const want = await ortRun(bytes, input, [1, 3, 6, 5]);
  const got = buildAndRun(open(bytes), {}, bytesOf(input)).values;
  assert.ok(relativeError(got, want) < 1e-5);
  assert.equal(got.filter((v) => v === 1.5).length, want.filter((v) => v === 1.5).length, 'the border holds the value');
});

test('codegen: Deeploy\'s RequantShift (integers in float tensors; div, n_levels and signed as tensor or integer attributes; per-channel mul and add; to float or int32) computes (x·mul + add + div/2) >> log2(div), clamped, as Deeploy\'s kernel does', { skip: SKIP_CC }, () => {
  // x (integers) → Conv (integer weights: exact in float) → RequantShift signed 8-bit → RequantShift unsigned 4-bit.
  const b = new OnnxBuilder(13);
  const x = b.input('x', [1, 2, 5, 5]);
  const w = b.init('w', [3, 2, 3, 3], 'float32', Array.from({ length: 54 }, (_, i) => ((i * 7) % 11) - 5));
  const conv = b.op('Conv', [x, w], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  const mul = [3, -2, 5];
  const add = [-40, 17, 0];
  const rq1 = b.op('RequantShift', [conv, b.init('m1', [3, 1, 1], 'float32', mul), b.init('a1', [3, 1, 1], 'float32', add)], { div: { scalarTensor: 16 }, n_levels_out: { scalarTensor: 256 }, signed: { scalarTensor: 1 } });
  const rq2 = b.op('RequantShift', [rq1, b.init('m2', [1], 'float32', [7]), b.init('a2', [1], 'float32', [3])], { div: 4, n_levels: 16, signed: 0 });
  b.output(rq2, undefined, 'int32'); // Deeploy types some outputs int32: the second writes int32, the first float
  const g = open(b.build());
  assert.equal(g.tensors.find((t) => t.name === rq2)!.dtype, 'int32');
  const xs = Array.from({ length: 50 }, (_, i) => ((i * 37) % 23) - 11);
  // The reference: the convolution in exact integers, then Deeploy's RequantShift (RequantShift_s8.c: add 2^(log2D-1),
  // shift right arithmetically, clamp), in BigInt.
  const convAt = (co: number, h: number, ww: number): number => {
    let s = 0;
    for (let ci = 0; ci < 2; ci++) for (let kh = 0; kh < 3; kh++) for (let kw = 0; kw < 3; kw++) {
      const ih = h + kh - 1, iw = ww + kw - 1;
      if (ih >= 0 && ih < 5 && iw >= 0 && iw < 5) s += xs[ci * 25 + ih * 5 + iw]! * (((((co * 2 + ci) * 9 + kh * 3 + kw) * 7) % 11) - 5);
    }
    return s;
  };
  const rqs = (v: number, m: number, a: number, log2D: number, lo: number, hi: number): number => {
    const r = Number((BigInt(v) * BigInt(m) + BigInt(a) + (log2D > 0 ? 1n << BigInt(log2D - 1) : 0n)) >> BigInt(log2D));
    return Math.min(hi, Math.max(lo, r));
  };
  const want: number[] = [];
  for (let c = 0; c < 3; c++) for (let h = 0; h < 5; h++) for (let ww = 0; ww < 5; ww++) want.push(rqs(rqs(convAt(c, h, ww), mul[c]!, add[c]!, 4, -128, 127), 7, 3, 2, 0, 15));
  assert.ok(new Set(want).size > 5 && want.includes(0) && want.includes(15), 'the values span the clamp');
  const got = buildAndRun(g, {}, bytesOf(Float32Array.from(xs))).values;
  assert.deepEqual(got, want);
  // A div that is not a power of two is refused by name.
  const bad = new OnnxBuilder(13);
  bad.output(bad.op('RequantShift', [bad.input('x', [1, 2, 4, 4]), bad.init('m', [1], 'float32', [1]), bad.init('a', [1], 'float32', [0])], { div: 6, n_levels: 256, signed: 1 }));
  const r = generateC(open(bad.build()), {});
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : r.error.message, /RequantShift.*div 6 is not a power of two/);
});

test('codegen: RMSNormalization (float; over the last axis, and over the last two with its epsilon) matches onnxruntime', { skip: SKIP_CC }, async () => {
  for (const [axis, scaleShape] of [[-1, [5]], [1, [3, 5]]] as const) {
    const b = new OnnxBuilder(23);
    const x = b.input('x', [2, 3, 5]);
    const n = scaleShape.reduce((p, q) => p * q, 1);
    b.node('RMSNormalization', [x, b.init('scale', [...scaleShape], 'float32', Array.from({ length: n }, (_, i) => 0.5 + ((i * 3) % 7) / 4))], { axis, epsilon: { float: 0.1 } }, ['y']);
    b.output('y');
    const bytes = b.build();
    const xs = randomFloats(30, 21 + axis, -2, 2);
    const want = await ortRun(bytes, xs, [2, 3, 5]);
    const got = buildAndRun(open(bytes), {}, bytesOf(xs));
    assert.equal(got.values.length, 30);
    const err = relativeError(got.values, want);
    assert.ok(err < 1e-5, `axis ${axis}: relative error ${err}`);
  }
});

test('codegen: ai.onnx.ml SVMClassifier (RBF with probabilities, LINEAR, POLY and SIGMOID giving the pairwise decisions; 3 to 5 classes) gives onnxruntime\'s labels and, within 1e-4, its scores', { skip: SKIP_CC }, async () => {
  const ort = await import('onnxruntime-node');
  const cases = [
    { kernel: 'RBF', classes: 4, params: [0.05, 0, 3], proba: true },
    { kernel: 'LINEAR', classes: 3, params: [0, 0, 3], proba: false },
    { kernel: 'POLY', classes: 5, params: [0.1, 0.5, 2], proba: false },
    { kernel: 'SIGMOID', classes: 3, params: [0.02, -0.1, 3], proba: true },
  ];
  for (const c of cases) {
    const features = 6;
    const perClass = Array.from({ length: c.classes }, (_, i) => 2 + (i % 3));
    const vectors = perClass.reduce((a, b) => a + b, 0);
    const pairs = (c.classes * (c.classes - 1)) / 2;
    const wave = (n: number, k: number, scale: number): number[] => Array.from({ length: n }, (_, i) => Math.sin(i * k + 0.3) * scale);
    const b = new OnnxBuilder(13).importDomain('ai.onnx.ml', 3);
    b.input('x', [1, features]);
    b.node('SVMClassifier', ['x'], {
      classlabels_ints: Array.from({ length: c.classes }, (_, i) => 10 + i), vectors_per_class: perClass,
      support_vectors: { floats: wave(vectors * features, 1.7, 3) }, coefficients: { floats: wave((c.classes - 1) * vectors, 2.3, 1) },
      rho: { floats: wave(pairs, 0.9, 0.5) }, kernel_type: c.kernel, kernel_params: { floats: c.params },
      ...(c.proba ? { prob_a: { floats: wave(pairs, 1.1, 3).map((v) => -Math.abs(v) - 0.5) }, prob_b: { floats: wave(pairs, 0.7, 0.3) } } : {}),
    }, ['label', 'scores'], 'ai.onnx.ml');
    b.output('label', undefined, 'int64');
    b.output('scores');
    const bytes = b.build();
    const g = open(bytes);
    assert.deepEqual(g.tensors.find((t) => t.name === 'scores')?.shape, [1, c.proba ? c.classes : pairs], `${c.kernel}: scores shape`);
    const session = await ort.InferenceSession.create(bytes);
    for (let r = 0; r < 5; r++) {
      const x = randomFloats(features, 40 + r, -3, 3);
      const out = await session.run({ x: new ort.Tensor('float32', x, [1, features]) });
      const run = buildAndRun(g, {}, bytesOf(x), r === 0 && c.proba && HAVE_ARM);
      const got = run.values;
      assert.equal(got[0], Number(out.label!.data[0]), `${c.kernel} run ${r}: label`);
      const want = Array.from(out.scores!.data as Float32Array);
      assert.ok(relativeError(got.slice(1), want) < 1e-4, `${c.kernel} run ${r}: scores ${got.slice(1)} vs ${want}`);
      if (r === 0 && c.proba && HAVE_ARM) {
        // On Cortex-M (QEMU): the int64 label prints (newlib-nano has no %lld), the same values, and the stack the
        // coupling takes stays inside the reserve.
        fs.writeFileSync(`${run.dir}/input.bin`, bytesOf(x));
        const q = make(run.dir, 'run-qemu', ['INPUT=input.bin', 'MEM=1']);
        assert.equal(q.status, 0, q.out);
        assert.deepEqual(parseValues(q.out).filter((v) => !Number.isNaN(v)), got, `${c.kernel}: Cortex-M4 and host agree`);
        const stack = Number(/# stack high-water: (\d+) bytes/.exec(q.out)?.[1]);
        assert.ok(stack > 0 && stack < MIN_STACK_BYTES, `stack high-water ${stack} B within ${MIN_STACK_BYTES} B`);
        fs.rmSync(run.dir, { recursive: true, force: true });
      }
    }
  }
});
