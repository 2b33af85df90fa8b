// Bad input: every failure must be a named error (never 'internal', never an exception, never a hang).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { advise, analyzeGraph, generateC, openModel, scheduleContext, searchSchedules, tflmArena, type CoreError } from '../../src/core/index';
import { controlFlowCases } from '../tflm-cases';
import { exampleModel } from '../../src/core/testing/examples';
import { OnnxBuilder, type AttrValue } from '../../src/core/testing/onnx-builder';
import { TfliteBuilder } from '../../src/core/testing/tflite-builder';
import { HAVE_SHARED, onnxControlFlowModel, sharedModel } from '../helpers';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** Opens and analyses; returns the error if any. Throws only when the core breaks its contract. */
function run(bytes: Uint8Array, fileName?: string): CoreError | null {
  const r = openModel(bytes, { fileName });
  if (!r.ok) return r.error;
  analyzeGraph(r.value, { reorder: true });
  analyzeGraph(r.value, { asInt8: true, inplaceDepthwise: true, fusePad: true, fuseAdd: true, countInput: false });
  // The scheduler works on whatever graph a damaged file still yields (shapes or attributes may be odd).
  const ctx = scheduleContext(r.value, { countInput: false });
  const found = searchSchedules(ctx, { maxOverhead: null });
  if (found.best) advise(ctx, found.best);
  // C export of whatever the damaged file still yields: generated or refused by name, never an internal error.
  const c = generateC(r.value, found.best ? { schedule: { split: found.best.split, p: found.best.p, q: found.best.q } } : {});
  if (!c.ok && c.error.code === 'internal') throw new Error(`C export: ${c.error.message}`);
  // Constant data (what C export will write) stays inside the file and has the size the reader reported.
  for (const [key, d] of r.value.storage) {
    const bytes = d.data?.();
    if (bytes && bytes.length !== d.bytes) throw new Error(`storage ${key}: data() gives ${bytes.length} bytes, the reader said ${d.bytes}`);
  }
  return null;
}

function mutate(src: Uint8Array, r: () => number): Uint8Array {
  const b = src.slice();
  const kind = Math.floor(r() * 5);
  if (kind === 0) {
    const n = 1 + Math.floor(r() * 8);
    for (let i = 0; i < n; i++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
    return b;
  }
  if (kind === 1) return b.subarray(0, Math.floor(r() * b.length));
  if (kind === 2) {
    // overwrite a 4-byte word with an extreme value (offsets, lengths, dims)
    const at = Math.floor(r() * (b.length - 4));
    const v = [0xffffffff, 0x7fffffff, 0x80000000, 0x40000000, 0][Math.floor(r() * 5)]!;
    new DataView(b.buffer).setUint32(at, v, true);
    return b;
  }
  if (kind === 3) {
    const at = Math.floor(r() * b.length);
    const ins = Uint8Array.from({ length: 1 + Math.floor(r() * 16) }, () => Math.floor(r() * 256));
    const out = new Uint8Array(b.length + ins.length);
    out.set(b.subarray(0, at));
    out.set(ins, at);
    out.set(b.subarray(at), at + ins.length);
    return out;
  }
  const at = Math.floor(r() * b.length);
  b[at] = b[at]! ^ (1 << Math.floor(r() * 8));
  return b;
}

function fuzz(name: string, seedBytes: Uint8Array, cases: number, fileName: string): void {
  const r = rng(name.length * 7919 + cases);
  let errors = 0;
  for (let i = 0; i < cases; i++) {
    const input = mutate(seedBytes, r);
    let err: CoreError | null;
    try {
      err = run(input, fileName);
    } catch (e) {
      throw new Error(`${name} case ${i}: exception escaped the core: ${e instanceof Error ? e.stack : String(e)}`);
    }
    if (err) {
      errors++;
      assert.notEqual(err.code, 'internal', `${name} case ${i}: ${err.message}`);
      assert.ok(err.message.length > 10, `${name} case ${i}: message too short: ${err.message}`);
    }
  }
  assert.ok(errors > 0, `${name}: the mutations produced no errors at all`);
}

test('fuzz: 3,000 seeded mutations of the TFLite fixture', () => fuzz('tflite', exampleModel('tflite'), 3000, 'fuzz.tflite'));
test('fuzz: 3,000 seeded mutations of the ONNX fixture', () => fuzz('onnx', exampleModel('onnx'), 3000, 'fuzz.onnx'));
test('fuzz: 1,000 seeded mutations of an ONNX model with If, Loop and Scan (subgraph attributes, outer-scope names, bodies)', () => fuzz('onnx control flow', onnxControlFlowModel(), 1000, 'cf.onnx'));
test('fuzz: 400 mutations each of the control-flow and resource-variable fixtures (subgraph indices, recursion, inlined tensors): sized, refused by name or TFLM\'s arena refused by name', () => {
  for (const c of controlFlowCases()) {
    fuzz(`control flow: ${c.name}`, c.bytes, 400, 'cf.tflite');
    const r = rng(c.bytes.length);
    for (let i = 0; i < 200; i++) {
      const opened = openModel(mutate(c.bytes, r), { fileName: 'cf.tflite' });
      if (!opened.ok) continue;
      const arena = tflmArena(opened.value);
      if (!arena.ok) assert.ok(arena.reason.length > 10, `${c.name} case ${i}: ${arena.reason}`);
    }
  }
});

test('fuzz: 500 mutations each of person_detect.tflite and the Vela model', { skip: HAVE_SHARED ? false : 'no ../shared/models' }, () => {
  fuzz('person_detect', fs.readFileSync(sharedModel('tflite/person_detect.tflite')), 500, 'p.tflite');
  fuzz('vela', fs.readFileSync(sharedModel('tflite/person_detect_vela.tflite')), 500, 'v.tflite');
});

test('fuzz: 600 random Attention, GridSample, GatherElements, CumProd and ArgMax nodes (odd ranks, head counts, dims, outputs left out): sized or refused by name', () => {
  const r = rng(2026);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const dim = (): number => pick([0, 1, 2, 3, 4, 5, 8, 16, 2 ** 20, 2 ** 31 - 1]);
  const shape = (): number[] => Array.from({ length: pick([0, 1, 2, 3, 4, 5]) }, dim);
  for (let i = 0; i < 600; i++) {
    const b = new OnnxBuilder(pick([13, 20, 23]));
    const type = pick(['Attention', 'GridSample', 'GatherElements', 'CumProd', 'ArgMax'] as const);
    // Half the Attention nodes get shapes that agree (3-D or 4-D Q, K, V, past key and value), random sizes.
    const [bs, sq, skv, h, d] = [pick([1, 2]), pick([1, 3]), pick([1, 4]), pick([1, 2, 3]), pick([2, 8])];
    const agree = type === 'Attention' && r() < 0.5 ? (r() < 0.5 ? [[bs, sq, h * d], [bs, skv, d], [bs, skv, d], [], [bs, 1, 2, d], [bs, 1, 2, d]] : [[bs, h, sq, d], [bs, 1, skv, d], [bs, 1, skv, d], [], [bs, 1, 2, d], [bs, 1, 2, d]]) : null;
    const inputs = Array.from({ length: type === 'Attention' ? pick([1, 2, 3, 4, 5, 6]) : 2 }, (_, k) => (k === 3 && (agree || r() < 0.5) ? '' : b.input(`x${k}`, agree?.[k] ?? shape(), k === 1 && type === 'GatherElements' ? 'int64' : 'float32')));
    const attrs: Record<string, number> = type === 'Attention' ? { q_num_heads: agree && r() < 0.7 ? h : pick([-1, 0, 1, 3, 7]), kv_num_heads: agree && r() < 0.7 ? 1 : pick([-2, 0, 1, 2]) } : type === 'ArgMax' ? { axis: pick([-9, -1, 0, 2, 9]) } : type === 'GatherElements' ? { axis: pick([-5, 0, 1, 3]) } : {};
    const outs = type === 'Attention' ? ['y', r() < 0.5 ? '' : 'pk', r() < 0.5 ? '' : 'pv', r() < 0.5 ? '' : 'qk'] : ['y'];
    b.node(type, type === 'ArgMax' ? inputs.slice(0, 1) : inputs, attrs, outs);
    for (const o of outs) if (o) b.output(o);
    const err = run(b.build(), 'fuzz.onnx');
    if (err) assert.notEqual(err.code, 'internal', `${type} #${i}: ${err.message}`);
  }
});

test('fuzz: 900 random Einsum, OneHot, DFT, STFT, Col2Im, RoiAlign, MaxUnpool, CenterCropPad, AffineGrid, BitCast, Det, CausalConvWithState, LinearAttention, NonMaxSuppression, NonZero, Compress and Unique nodes (random equations, operands, attributes): sized or refused by name', () => {
  const r = rng(2027);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const dim = (): number => pick([0, 1, 2, 3, 4, 5, 8, 16, 2 ** 20, 2 ** 31 - 1]);
  const shape = (): number[] => Array.from({ length: pick([0, 1, 2, 3, 4, 5]) }, dim);
  const ints = (): number[] => Array.from({ length: pick([0, 1, 2, 3, 4, 5]) }, () => pick([-3, -1, 0, 1, 2, 5, 2 ** 40]));
  const types = ['Einsum', 'OneHot', 'DFT', 'STFT', 'Col2Im', 'RoiAlign', 'MaxUnpool', 'CenterCropPad', 'AffineGrid', 'BitCast', 'Det', 'CausalConvWithState', 'LinearAttention', 'HannWindow', 'MelWeightMatrix', 'NonMaxSuppression', 'NonZero', 'Compress', 'Unique'] as const;
  const letters = 'ijk.,->';
  for (let i = 0; i < 900; i++) {
    const type = pick(types);
    const b = new OnnxBuilder(pick([11, 17, 18, 20, 27]));
    const operand = (k: number): string => {
      if (r() >= 0.5) return r() < 0.7 ? b.input(`x${k}`, shape()) : '';
      const v = ints();
      return v.length ? b.init(`c${k}`, [v.length], 'int64', v) : b.init(`c${k}`, [], 'int64', [pick([0, 3, 8])]);
    };
    const inputs = [b.input('x', shape()), ...Array.from({ length: pick([0, 1, 2, 3, 4]) }, (_, k) => operand(k + 1))];
    const attrs: Record<string, AttrValue> = {};
    if (type === 'Einsum') attrs.equation = Array.from({ length: pick([0, 3, 6, 9]) }, () => pick([...letters])).join('');
    if (type === 'OneHot' || type === 'DFT' || ((type === 'Compress' || type === 'Unique') && r() < 0.5)) attrs.axis = pick([-4, -1, 0, 1, 3]);
    if (type === 'DFT' || type === 'STFT') attrs.onesided = pick([0, 1]);
    if (type === 'MaxUnpool') { attrs.kernel_shape = ints().map(Math.abs); attrs.strides = ints(); }
    if (type === 'RoiAlign') { attrs.output_height = pick([-1, 0, 2]); attrs.output_width = pick([0, 3]); }
    if (type === 'CenterCropPad') attrs.axes = ints();
    if (type === 'BitCast') attrs.to = pick([0, 1, 3, 7, 99]);
    if (type === 'LinearAttention') { attrs.q_num_heads = pick([-1, 0, 2, 4]); attrs.kv_num_heads = pick([0, 1, 2]); }
    const outs = type === 'CausalConvWithState' || type === 'LinearAttention' ? ['y', 'state'] : type === 'Unique' ? ['y', 'i', 'inv', 'c'] : ['y'];
    b.node(type, type === 'HannWindow' || type === 'MelWeightMatrix' ? inputs.slice(1) : inputs, attrs, outs);
    for (const o of outs) b.output(o);
    const err = run(b.build(), 'fuzz.onnx');
    if (err) assert.notEqual(err.code, 'internal', `${type} #${i}: ${err.message}`);
  }
});

test('fuzz: 300 random ai.onnx.ml SVMClassifiers (counts that disagree, negative or huge vectors per class, odd kernels and labels): sized, exported or refused by name', () => {
  const r = rng(2028);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const floats = (n: number): { floats: number[] } => ({ floats: Array.from({ length: n }, () => (r() - 0.5) * 4) });
  for (let i = 0; i < 300; i++) {
    const classes = pick([0, 1, 2, 3, 4, 9]);
    const features = pick([1, 3, 4]);
    const perClass = Array.from({ length: pick([classes, classes + 1, 1]) }, () => pick([-2, 0, 1, 2, 3, 2 ** 31 - 1]));
    const vectors = perClass.reduce((a, b) => a + Math.max(0, Math.min(b, 4)), 0);
    const pairs = (classes * (classes - 1)) / 2;
    const b = new OnnxBuilder(13).importDomain('ai.onnx.ml', 3);
    b.input('x', [pick([1, 2]), pick([features, features + 1])]);
    const attrs: Record<string, AttrValue> = {
      classlabels_ints: Array.from({ length: classes }, (_, k) => pick([k, -k, 2 ** 40])), vectors_per_class: perClass,
      support_vectors: floats(pick([vectors * features, vectors * features + 1, 0])), coefficients: floats(pick([Math.max(0, classes - 1) * vectors, 3])),
      rho: floats(pick([pairs, 1, 0])), kernel_type: pick(['RBF', 'LINEAR', 'POLY', 'SIGMOID', 'CUBE']), kernel_params: floats(pick([3, 0, 1])),
    };
    if (r() < 0.5) { attrs.prob_a = floats(pick([pairs, 1])); attrs.prob_b = floats(pick([pairs, 2])); }
    if (r() < 0.2) attrs.post_transform = pick(['SOFTMAX', 'NONE']);
    const withScores = r() < 0.8;
    b.node('SVMClassifier', ['x'], attrs, withScores ? ['label', 'scores'] : ['label'], 'ai.onnx.ml');
    b.output('label', undefined, 'int64');
    if (withScores) b.output('scores');
    const err = run(b.build(), 'svm.onnx');
    if (err) assert.notEqual(err.code, 'internal', `SVM #${i}: ${err.message}`);
  }
});

test('bad input: zero-length, random bytes, wrong magic, truncated, huge dims, cycles', () => {
  const expect = (bytes: Uint8Array, code: CoreError['code'] | CoreError['code'][], re: RegExp, fileName?: string): void => {
    const e = run(bytes, fileName);
    const codes = Array.isArray(code) ? code : [code];
    assert.ok(e && codes.includes(e.code) && re.test(e.message), `${fileName}: got ${JSON.stringify(e)}`);
  };
  expect(new Uint8Array(0), 'empty-file', /empty/);
  const r = rng(42);
  expect(Uint8Array.from({ length: 4096 }, () => Math.floor(r() * 256)), ['unknown-format', 'bad-onnx'], /format|ONNX/, 'random.bin');
  expect(new TextEncoder().encode('<html>not a model</html>'), 'unknown-format', /unrecognised model format/, 'x.bin');
  expect(new TextEncoder().encode('PK\u0003\u0004 zip archive'), 'unknown-format', /expected identifier 'TFL3'/, 'x.tflite');
  expect(Uint8Array.from([8, 7, 0xff, 0xff]), 'bad-onnx', /protobuf decoding failed|no graph/, 'x.onnx');
  const tfl = exampleModel('tflite');
  expect(tfl.subarray(0, 64), ['truncated', 'bad-tflite'], /truncated|outside/);
  const big = new OnnxBuilder(13);
  big.input('x', [1024, 1024, 1024, 1024]);
  big.output(big.op('Relu', ['x']));
  expect(big.build(), 'too-large', /2\^40 elements/);
  const t = new TfliteBuilder();
  const x = t.tensor('x', [1, 2 ** 20, 2 ** 20], 'float32');
  t.inputs = [x];
  t.outputs = [x];
  expect(t.build(), 'too-large', /limit 2\^31/);
});
