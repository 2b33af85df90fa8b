// TFLM mode (issue 11, item 4): the predicted arena against TFLM itself. TFLM at the pinned commit, built for 32-bit
// ARM with -fshort-enums by scripts/tflm/setup.sh (into a cache outside the clone), runs every shared TFLite model
// and a few generated ones under qemu-arm; arena_used_bytes() after AllocateTensors() and the smallest arena it
// accepts must equal the prediction to the byte. Skipped when the runner is absent, unless MCU_MEM_REQUIRE_TFLM=1 (CI).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_MAX_OVERHEAD, openModelOrThrow, optimizeForTflm, scheduleContext, searchSchedules, tflmArena, type CodegenOptions, type Graph, type TflmArena } from '../../src/core/index';
import { TfliteBuilder } from '../../src/core/testing/tflite-builder';
import { HAVE_SHARED, listSharedModels, sharedModel, tflmImage } from '../helpers';
import { controlFlowCases, interleavedBranches, tflmCases } from '../tflm-cases';
import { RUNNER, SKIP_TFLM } from '../tflm-runner';
import { buildAndRun, bytesOf, HAVE_CC, randomFloats, randomInt8, runHost } from '../codegen-helpers';
import { decode, EXPORTED_TFLITE, randomInput } from '../kernel-check';

const SKIP = SKIP_TFLM;

interface Measured { used: number; min: number; head: number }

function runTflm(bytes: Uint8Array): Measured | string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcu-mem-tflm-'));
  const file = path.join(dir, 'model.tflite');
  fs.writeFileSync(file, bytes);
  const r = spawnSync('qemu-arm', [RUNNER, file, '--min'], { encoding: 'utf8', timeout: 300_000 });
  fs.rmSync(dir, { recursive: true, force: true });
  const value = (k: string): number | undefined => {
    const m = new RegExp(`^${k} (\\d+)$`, 'm').exec(r.stdout ?? '');
    return m ? Number(m[1]) : undefined;
  };
  const used = value('arena_used_bytes');
  const min = value('min_arena_bytes');
  const head = value('head');
  if (r.status !== 0 || used === undefined || min === undefined || head === undefined) return (r.stdout ?? '').split('\n').find((l) => l.startsWith('error:')) ?? `exit ${r.status}`;
  return { used, min, head };
}

function predicted(bytes: Uint8Array): TflmArena | string {
  const p = tflmArena(openModelOrThrow(bytes, { fileName: 'model.tflite' }));
  return p.ok ? p.value : p.reason;
}

function compare(name: string, bytes: Uint8Array): void {
  const ours = predicted(bytes);
  const tflm = runTflm(bytes);
  if (typeof tflm === 'string') {
    // TFLM cannot run it (a custom operator it lacks): we must not predict a figure either.
    assert.equal(typeof ours, 'string', `${name}: TFLM fails (${tflm}) but we predict ${JSON.stringify(ours)}`);
    return;
  }
  assert.notEqual(typeof ours, 'string', `${name}: TFLM runs it (arena_used_bytes ${tflm.used}) but we do not predict: ${String(ours)}`);
  const p = ours as TflmArena;
  assert.deepEqual({ used: p.arenaUsedBytes, min: p.minArenaBytes, head: p.headBytes }, tflm, `${name}: predicted vs TFLM`);
  assert.equal(p.arenaUsedBytes, p.headBytes + p.tailBytes);
  assert.equal(p.tail.reduce((s, k) => s + k.bytes, 0), p.tailBytes, `${name}: the breakdown adds up`);
}

test('TFLM arena: arena_used_bytes and the smallest arena equal TFLM\'s on every shared TFLite model (32-bit build)', { skip: SKIP || (HAVE_SHARED ? false : 'no shared models') }, () => {
  const models = listSharedModels().filter((m) => m.endsWith('.tflite'));
  assert.ok(models.length >= 10);
  for (const file of models) compare(path.relative(path.dirname(sharedModel(".")), file), new Uint8Array(fs.readFileSync(file)));
});

test('TFLM arena: a tensor nothing uses (TFLM still plans it) in a float MEAN model', { skip: SKIP }, () => {
  {
    const b = new TfliteBuilder();
    const x = b.tensor('x', [1, 4, 4, 8], 'float32');
    const axes = b.constant('axes', [2], 'int32', [1, 2]);
    const y = b.tensor('y', [1, 1, 1, 8], 'float32');
    b.tensor('unused', [1, 64], 'float32'); // no data, used by nothing: TFLM still plans it
    b.op('MEAN', [x, axes], [y], [[0, 'bool', 1]]);
    b.inputs = [x];
    b.outputs = [y];
    compare('float MEAN with an unused tensor', b.build());
  }
});

test('TFLM arena: one-operator models for the other modelled kernels (float and int8; per-channel FULLY_CONNECTED, int16 SOFTMAX) equal TFLM\'s', { skip: SKIP }, () => {
  const cases = tflmCases();
  assert.ok(cases.length >= 40);
  for (const c of cases) compare(c.name, c.bytes);
});

test('TFLM arena: control flow (IF, WHILE, a WHILE running an IF, CALL_ONCE) equals TFLM\'s: subgraphs planned where they run, their structs and kernel data; resource variables refused, as TFLM refuses them without a resource table', { skip: SKIP }, () => {
  const cases = controlFlowCases();
  for (const c of cases) compare(c.name, c.bytes);
  const predictedCount = cases.filter((c) => typeof predicted(c.bytes) !== 'string').length;
  assert.equal(predictedCount, 4, 'IF, WHILE, the nested WHILE and CALL_ONCE are predicted');
});

/** TFLM's outputs for one input (raw bytes of input 0), decoded by each output's type. */
function tflmOutputs(file: string, graph: Graph, input: Uint8Array, name = path.basename(file), invokes = 1): number[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcu-mem-tflm-'));
  fs.writeFileSync(path.join(dir, 'in.bin'), input);
  const r = spawnSync('qemu-arm', [RUNNER, file, '--input', path.join(dir, 'in.bin'), '--invokes', String(invokes)], { encoding: 'utf8', timeout: 600_000 });
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(r.status, 0, `${name}: ${r.stdout}`);
  const lines = r.stdout.split('\n');
  const values: number[] = [];
  lines.forEach((line, i) => {
    const m = /^output (\d+) \d+$/.exec(line);
    if (!m) return;
    const bytes = Buffer.from(lines[i + 1] ?? '', 'hex');
    values.push(...decode(new Uint8Array(bytes), graph.tensors[graph.outputs[Number(m[1])]!]!.dtype));
  });
  return values;
}

test('C export against TFLM: the same outputs for the same inputs, bit for bit, per layer, patch-based and line-buffered', { skip: SKIP || (HAVE_SHARED ? false : 'no shared models') || (HAVE_CC ? false : 'no C compiler'), timeout: 1_800_000 }, () => {
  // Every exporting shared TFLite model: another converter's MobileNetV2 (explicit PADs, NCHW input + TRANSPOSE, MEAN,
  // bit-exact since MEAN follows TFLM's integer QuantizedMeanOrSum; in float 145 of 1,000 outputs were one step
  // apart) and TinyEngine's models with float outputs after a DEQUANTIZE (printed with 9 digits, read back as float32).
  // Where an output differs, test/corpus/kernels.test.ts names the step.
  for (const name of EXPORTED_TFLITE) {
    const file = sharedModel(`tflite/${name}.tflite`);
    const graph = openModelOrThrow(new Uint8Array(fs.readFileSync(file)), { fileName: `${name}.tflite` });
    const inputs = [randomInput(graph, 11)];
    if (name === 'person_detect') inputs.push(tflmImage(sharedModel('testdata/person.bmp')), tflmImage(sharedModel('testdata/no_person.bmp')));
    const found = searchSchedules(scheduleContext(graph), { maxOverhead: DEFAULT_MAX_OVERHEAD });
    const c = found.best ?? found.pareto[0];
    const plans: [string, CodegenOptions][] = [['per layer', {}], ['line-buffered', { lineBuffered: true }]];
    if (c) plans.push([`patch-based #${c.split} ${c.p}×${c.q}`, { schedule: { split: c.split, p: c.p, q: c.q } }]);
    const float = graph.tensors[graph.outputs[0]!]!.dtype === 'float32';
    const theirs = inputs.map((input) => tflmOutputs(file, graph, input));
    for (const [plan, options] of plans) {
      const built = buildAndRun(graph, options, inputs[0]!, true);
      try {
        inputs.forEach((input, k) => {
          const ours = (k === 0 ? built.values : runHost(built.dir, input)).map((v) => (float ? Math.fround(v) : v));
          assert.equal(ours.length, theirs[k]!.length, name);
          const differ = ours.filter((v, i) => v !== theirs[k]![i]).length;
          assert.equal(differ, 0, `${name} ${plan}, input ${k}: ${differ} of ${ours.length} outputs differ from TFLM's`);
        });
      } finally {
        fs.rmSync(built.dir, { recursive: true, force: true });
      }
    }
  }
});

/** Each model through our C export and through TFLM on the same seeded input: the outputs must be identical (read as
 *  float32). With `minDistinct`, TFLM's outputs must also take more than that many values, so that a test of
 *  arithmetic cannot pass on an output that saturates to a constant. */
function sameAsTflm(models: readonly { name: string; bytes: Uint8Array }[], seed: number, minDistinct = 0, runs = 1): void {
  for (const { name, bytes } of models) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcu-mem-tflm-'));
    try {
      const file = path.join(dir, 'm.tflite');
      fs.writeFileSync(file, bytes);
      const graph = openModelOrThrow(bytes, { fileName: 'm.tflite' });
      const input = randomInput(graph, seed);
      const ours = buildAndRun(graph, {}, input, false, runs).values.map(Math.fround);
      const theirs = tflmOutputs(file, graph, input, name, runs).map(Math.fround);
      const distinct = new Set(theirs).size;
      if (minDistinct) assert.ok(distinct > minDistinct, `${name}: the outputs vary (${distinct} values: ${[...new Set(theirs)].slice(0, 12).join(' ')})`);
      assert.deepEqual(ours, theirs, name);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** Data movement as TFLM runs it: STRIDED_SLICE with masks, SLICE, GATHER, PACK of two computed tensors,
 *  SPACE_TO_DEPTH/DEPTH_TO_SPACE, SPLIT/SPLIT_V/UNPACK, PAD and CONCATENATION, in float, int8 and int16. */
function movementModels(): { name: string; bytes: Uint8Array }[] {
  const q = { scale: [0.05], zeroPoint: [3], axis: 0 };
  const q16 = { scale: [0.002], zeroPoint: [0], axis: 0 };
  const quantOf = (dtype: 'float32' | 'int8' | 'int16'): { quant?: typeof q } => (dtype === 'int8' ? { quant: q } : dtype === 'int16' ? { quant: q16 } : {});
  const one = (name: string, dtype: 'float32' | 'int8' | 'int16', xs: number[], ys: number[], build: (b: TfliteBuilder, x: number, y: number, t: (n: string, s: number[]) => number) => void): { name: string; bytes: Uint8Array } => {
    const b = new TfliteBuilder();
    const t = (n: string, shape: number[]): number => b.tensor(n, shape, dtype, undefined, quantOf(dtype));
    const x = t('x', xs);
    const y = t('y', ys);
    build(b, x, y, t);
    b.inputs = [x];
    b.outputs = [y];
    return { name: `${name} ${dtype}`, bytes: b.build() };
  };
  /** Two outputs (SPLIT, SPLIT_V, UNPACK). */
  const two = (name: string, dtype: 'float32' | 'int8' | 'int16', xs: number[], ys: number[][], build: (b: TfliteBuilder, x: number, y: number[]) => void): { name: string; bytes: Uint8Array } => {
    const b = new TfliteBuilder();
    const t = (n: string, shape: number[]): number => b.tensor(n, shape, dtype, undefined, quantOf(dtype));
    const x = t('x', xs);
    const y = ys.map((s, k) => t(`y${k}`, s));
    build(b, x, y);
    b.inputs = [x];
    b.outputs = y;
    return { name: `${name} ${dtype}`, bytes: b.build() };
  };
  const out: { name: string; bytes: Uint8Array }[] = [];
  for (const dt of ['float32', 'int8', 'int16'] as const) {
    out.push(one('STRIDED_SLICE (begin/end masks, negative stride, shrink)', dt, [1, 8, 6, 4], [1, 3, 5], (b, x, y) => {
      b.op('STRIDED_SLICE', [x, b.constant('b', [4], 'int32', [0, 1, 5, 2]), b.constant('e', [4], 'int32', [1, 7, 0, 3]), b.constant('s', [4], 'int32', [1, 2, -1, 1])], [y], [[0, 'int32', 1], [1, 'int32', 1], [4, 'int32', 8]]);
    }));
    out.push(one('SLICE', dt, [1, 8, 6, 4], [1, 3, 6, 2], (b, x, y) => {
      b.op('SLICE', [x, b.constant('b', [4], 'int32', [0, 2, 0, 1]), b.constant('z', [4], 'int32', [1, 3, -1, 2])], [y]);
    }));
    // TFLM's GATHER has no int16 kernel.
    if (dt !== 'int16') out.push(one('GATHER axis 1', dt, [2, 5, 3], [2, 4, 3], (b, x, y) => {
      b.op('GATHER', [x, b.constant('i', [4], 'int32', [4, 0, 2, 4])], [y], [[0, 'int32', 1]]);
    }));
    // int16 is exported for data movement only: no RELU there, x is packed with itself.
    out.push(one(`PACK of x and ${dt === 'int16' ? 'x' : 'RELU(x)'} on axis 1`, dt, [3, 4], [3, 2, 4], (b, x, y, t) => {
      let r = x;
      if (dt !== 'int16') b.op('RELU', [x], [(r = t('r', [3, 4]))]);
      b.op('PACK', [x, r], [y], [[0, 'int32', 2], [1, 'int32', 1]]);
    }));
    // TFLM's SPACE_TO_DEPTH and DEPTH_TO_SPACE have no int16 kernel either.
    if (dt !== 'int16') out.push(one('SPACE_TO_DEPTH', dt, [1, 4, 6, 3], [1, 2, 3, 12], (b, x, y) => b.op('SPACE_TO_DEPTH', [x], [y], [[0, 'int32', 2]])));
    if (dt !== 'int16') out.push(one('DEPTH_TO_SPACE', dt, [1, 2, 3, 12], [1, 4, 6, 3], (b, x, y) => b.op('DEPTH_TO_SPACE', [x], [y], [[0, 'int32', 2]])));
    // SPLIT on the channels and SPLIT_V on the rows (two outputs each), UNPACK of the rows.
    out.push(two('SPLIT on channels', dt, [1, 5, 3, 8], [[1, 5, 3, 4], [1, 5, 3, 4]], (b, x, ys) => b.op('SPLIT', [b.constant('a', [], 'int32', [3]), x], ys, [[0, 'int32', 2]])));
    out.push(two('SPLIT_V on rows', dt, [1, 5, 3, 8], [[1, 2, 3, 8], [1, 3, 3, 8]], (b, x, ys) => b.op('SPLIT_V', [x, b.constant('s', [2], 'int32', [2, -1]), b.constant('a', [], 'int32', [1])], ys, [[0, 'int32', 2]])));
    out.push(two('UNPACK on axis 1', dt, [2, 2, 6], [[2, 6], [2, 6]], (b, x, ys) => b.op('UNPACK', [x], ys, [[0, 'int32', 2], [1, 'int32', 1]])));
    // PAD of a tensor no spatial operator gives a layout (TFLM's SEANet int16 tests), CONCATENATION on the last axis.
    out.push(one('PAD (layout unknown)', dt, [1, 2, 5, 3], [1, 3, 8, 3], (b, x, y) => b.op('PAD', [x, b.constant('p', [4, 2], 'int32', [0, 0, 1, 0, 2, 1, 0, 0])], [y])));
    out.push(one('CONCATENATION of x and x', dt, [1, 2, 5, 3], [1, 2, 5, 6], (b, x, y) => b.op('CONCATENATION', [x, x], [y], [[0, 'int32', 3]])));
    // MIRROR_PAD, REFLECT and SYMMETRIC, on the height and width (the edge not repeated, and repeated); TFLM has float
    // and int8 kernels.
    for (const [mode, name] of dt === 'int16' ? [] : [[0, 'REFLECT'], [1, 'SYMMETRIC']] as const) {
      out.push(one(`MIRROR_PAD ${name}`, dt, [1, 4, 5, 3], [1, 7, 8, 3], (b, x, y) => b.op('MIRROR_PAD', [x, b.constant('p', [4, 2], 'int32', [0, 0, 2, 1, 1, 2, 0, 0])], [y], [[0, 'int8', mode]])));
    }
    if (dt === 'int16') continue;
    // RESIZE_BILINEAR up and down, in each coordinate mode (TFLM has float and int8 kernels).
    for (const [mode, opts] of [['asymmetric', []], ['align_corners', [[2, 'bool', 1]]], ['half_pixel_centers', [[3, 'bool', 1]]]] as const) {
      for (const [from, to] of [[[1, 5, 4, 3], [1, 9, 11, 3]], [[1, 9, 7, 2], [1, 4, 3, 2]]] as const) {
        out.push(one(`RESIZE_BILINEAR ${mode} ${from[1]}×${from[2]} → ${to[1]}×${to[2]}`, dt, [...from], [...to], (b, x, y) =>
          b.op('RESIZE_BILINEAR', [x, b.constant('size', [2], 'int32', [to[1], to[2]])], [y], opts.map(([slot, kind, v]) => [slot, kind, v]))));
      }
    }
    // A max over H and W (kept dimensions), and over the channels (dropped): int8 keeps the input's quantization.
    out.push(one('REDUCE_MAX over H and W', dt, [1, 7, 5, 6], [1, 1, 1, 6], (b, x, y) => b.op('REDUCE_MAX', [x, b.constant('a', [2], 'int32', [1, 2])], [y], [[0, 'bool', 1]])));
    out.push(one('REDUCE_MAX over C', dt, [1, 7, 5, 6], [1, 7, 5], (b, x, y) => b.op('REDUCE_MAX', [x, b.constant('a', [1], 'int32', [3])], [y], [[0, 'bool', 0]])));
  }
  return out;
}

test('C export against TFLM: data movement (STRIDED_SLICE, SLICE, GATHER, PACK, SPLIT, SPLIT_V, UNPACK, SPACE_TO_DEPTH, DEPTH_TO_SPACE, PAD, MIRROR_PAD, CONCATENATION; float, int8, int16), RESIZE_BILINEAR and REDUCE_MAX give TFLM\'s outputs bit for bit', { skip: SKIP || (HAVE_CC ? false : 'no C compiler'), timeout: 900_000 }, () => {
  sameAsTflm(movementModels(), 5);
});

/** TRANSPOSE_CONV int16x8 with a 3×4 kernel (SEANet's), a fused RELU; `runtimeShape`: its output_shape a second graph
 *  input (as in SEANet's models), which TFLM does not read. */
function transposeConv16(padding: number, stride: number, biasType: 'int64' | 'int16' | 'none', runtimeShape: boolean): Uint8Array {
  const b = new TfliteBuilder();
  const [h, w, cin, cout, kh, kw] = [3, 5, 6, 4, 3, 4];
  const ho = padding === 0 ? h * stride : (h - 1) * stride + kh;
  const wo = padding === 0 ? w * stride : (w - 1) * stride + kw;
  const x = b.tensor('x', [1, h, w, cin], 'int16', undefined, { quant: { scale: [0.0009], zeroPoint: [0], axis: 0 } });
  const y = b.tensor('y', [1, ho, wo, cout], 'int16', undefined, { quant: { scale: [0.0006], zeroPoint: [0], axis: 0 } });
  const wq = { scale: Array.from({ length: cout }, (_, c) => 0.002 + 0.0005 * c), zeroPoint: new Array<number>(cout).fill(0), axis: 0 };
  const wt = b.constant('w', [cout, kh, kw, cin], 'int8', Array.from({ length: cout * kh * kw * cin }, (_, i) => ((i * 53) % 255) - 127), wq);
  const shape = runtimeShape ? b.tensor('shape', [4], 'int32') : b.constant('shape', [4], 'int32', [1, ho, wo, cout]);
  const inputs = [shape, wt, x];
  if (biasType !== 'none') inputs.push(b.constant('b', [cout], biasType, Array.from({ length: cout }, (_, c) => (c - 1) * (biasType === 'int16' ? 3001 : 300001))));
  b.op('TRANSPOSE_CONV', inputs, [y], [[0, 'int8', padding], [1, 'int32', stride], [2, 'int32', stride], [3, 'int8', 1]]);
  b.inputs = runtimeShape ? [x, shape] : [x];
  b.outputs = [y];
  return b.build();
}

/** TFLite's LEAKY_RELU, quantized: int8 alone and after a CONV_2D (our export folds it into the convolution's step as
 *  a table), int16 alone; alpha 0.2, 0 (a writer leaves the field out) and negative. Then ADD, SUB and int16
 *  convolutions. */
function quantizedModels(): { name: string; bytes: Uint8Array }[] {
  const out: { name: string; bytes: Uint8Array }[] = [];
  for (const alpha of [0.2, 0, -0.5]) {
    for (const dtype of ['int8', 'int16'] as const) {
      const b = new TfliteBuilder();
      const qi = dtype === 'int8' ? { scale: [0.05], zeroPoint: [3], axis: 0 } : { scale: [0.0007], zeroPoint: [0], axis: 0 };
      const qo = dtype === 'int8' ? { scale: [0.03], zeroPoint: [-7], axis: 0 } : { scale: [0.0004], zeroPoint: [0], axis: 0 };
      const x = b.tensor('x', [1, 5, 6, 3], dtype, undefined, { quant: qi });
      const y = b.tensor('y', [1, 5, 6, 3], dtype, undefined, { quant: qo });
      b.op('LEAKY_RELU', [x], [y], [[0, 'float32', alpha]]);
      b.inputs = [x];
      b.outputs = [y];
      out.push({ name: `LEAKY_RELU ${dtype} alpha ${alpha}`, bytes: b.build() });
    }
    const b = new TfliteBuilder();
    const x = b.tensor('x', [1, 6, 6, 3], 'int8', undefined, { quant: { scale: [0.05], zeroPoint: [3], axis: 0 } });
    const h = b.tensor('h', [1, 6, 6, 4], 'int8', undefined, { quant: { scale: [0.1], zeroPoint: [2], axis: 0 } });
    const y = b.tensor('y', [1, 6, 6, 4], 'int8', undefined, { quant: { scale: [0.04], zeroPoint: [-20], axis: 0 } });
    b.conv(x, h, 3, 4, 3, 1, 0, 0);
    b.op('LEAKY_RELU', [h], [y], [[0, 'float32', alpha]]);
    b.inputs = [x];
    b.outputs = [y];
    out.push({ name: `CONV_2D + LEAKY_RELU int8 alpha ${alpha}`, bytes: b.build() });
  }
  // ADD and SUB of two halves of x, one requantized by a LEAKY_RELU with alpha 1 (unlike input scales), with and
  // without a fused RELU: int8 and int16 (TFLM's SUB computes its multipliers in float, ADD in double).
  for (const dtype of ['int8', 'int16'] as const) {
    for (const [opName, act] of [['ADD', 0], ['ADD', 1], ['SUB', 0], ['SUB', 1]] as const) {
      const b = new TfliteBuilder();
      const q = (scale: number, zp: number): { quant: { scale: number[]; zeroPoint: number[]; axis: number } } => ({ quant: { scale: [dtype === 'int8' ? scale : scale / 97], zeroPoint: [dtype === 'int8' ? zp : 0], axis: 0 } });
      const x = b.tensor('x', [1, 4, 6, 2], dtype, undefined, q(0.05, 3));
      const lo = b.tensor('lo', [1, 4, 3, 2], dtype, undefined, q(0.05, 3));
      const hi = b.tensor('hi', [1, 4, 3, 2], dtype, undefined, q(0.05, 3));
      const hr = b.tensor('hr', [1, 4, 3, 2], dtype, undefined, q(0.037, -5));
      const y = b.tensor('y', [1, 4, 3, 2], dtype, undefined, q(0.061, 11));
      b.op('SLICE', [x, b.constant('b0', [4], 'int32', [0, 0, 0, 0]), b.constant('s0', [4], 'int32', [1, 4, 3, 2])], [lo]);
      b.op('SLICE', [x, b.constant('b1', [4], 'int32', [0, 0, 3, 0]), b.constant('s1', [4], 'int32', [1, 4, 3, 2])], [hi]);
      b.op('LEAKY_RELU', [hi], [hr], [[0, 'float32', 1]]);
      b.op(opName, [lo, hr], [y], [[0, 'int8', act]]);
      b.inputs = [x];
      b.outputs = [y];
      out.push({ name: `${opName}${act ? ' + RELU' : ''} ${dtype}`, bytes: b.build() });
    }
  }
  // SUB and ADD of a vector broadcast along the last axis of a tensor no spatial operator gives a layout (SEANet's
  // bias subtraction): the vector is a row of x, sliced and reshaped to [16].
  for (const dtype of ['int8', 'int16'] as const) {
    for (const opName of ['SUB', 'ADD'] as const) {
      const b = new TfliteBuilder();
      const q = (scale: number, zp: number): { quant: { scale: number[]; zeroPoint: number[]; axis: number } } => ({ quant: { scale: [dtype === 'int8' ? scale : scale / 97], zeroPoint: [dtype === 'int8' ? zp : 0], axis: 0 } });
      const x = b.tensor('x', [1, 2, 5, 16], dtype, undefined, q(0.05, 3));
      const row = b.tensor('row', [1, 1, 1, 16], dtype, undefined, q(0.05, 3));
      const v = b.tensor('v', [16], dtype, undefined, q(0.05, 3));
      const y = b.tensor('y', [1, 2, 5, 16], dtype, undefined, q(0.07, -6));
      b.op('SLICE', [x, b.constant('b0', [4], 'int32', [0, 1, 3, 0]), b.constant('s0', [4], 'int32', [1, 1, 1, 16])], [row]);
      b.op('RESHAPE', [row, b.constant('shape', [1], 'int32', [16])], [v]);
      b.op(opName, [x, v], [y], [[0, 'int8', 0]]);
      b.inputs = [x];
      b.outputs = [y];
      out.push({ name: `${opName} ${dtype} of a vector along the last axis (no layout)`, bytes: b.build() });
    }
  }
  // MINIMUM and MAXIMUM int8 (EfficientNet's clip_by_value, a ReLU6 as two operators): the stored codes compared.
  {
    const b = new TfliteBuilder();
    const q = { quant: { scale: [0.05], zeroPoint: [3], axis: 0 } };
    const x = b.tensor('x', [1, 6, 5, 4], 'int8', undefined, q);
    const h = b.tensor('h', [1, 6, 5, 4], 'int8', undefined, q);
    const y = b.tensor('y', [1, 6, 5, 4], 'int8', undefined, q);
    b.op('MINIMUM', [x, b.constant('six', [], 'int8', [123], { scale: [0.05], zeroPoint: [3], axis: 0 })], [h]);
    b.op('MAXIMUM', [h, b.constant('zero', [], 'int8', [3], { scale: [0.05], zeroPoint: [3], axis: 0 })], [y]);
    b.inputs = [x];
    b.outputs = [y];
    out.push({ name: 'MINIMUM and MAXIMUM int8 (clip by value)', bytes: b.build() });
  }
  // int16x8 convolutions: int64 bias (TFLM's 64-bit accumulator and rescaling) and int32 bias (its 32-bit ones; TFLM's
  // depthwise kernel reads any bias as int64, so the export refuses an int32 one there), with a fused RELU.
  for (const [kind, biasType] of [['CONV_2D', 'int64'], ['CONV_2D', 'int32'], ['DEPTHWISE_CONV_2D', 'int64']] as const) {
    const b = new TfliteBuilder();
    const x = b.tensor('x', [1, 7, 6, 4], 'int16', undefined, { quant: { scale: [0.0005], zeroPoint: [0], axis: 0 } });
    const cout = kind === 'CONV_2D' ? 5 : 4;
    const y = b.tensor('y', [1, 4, 3, cout], 'int16', undefined, { quant: { scale: [0.0011], zeroPoint: [0], axis: 0 } });
    const wq = { scale: Array.from({ length: cout }, (_, c) => 0.01 + 0.004 * c), zeroPoint: new Array<number>(cout).fill(0), axis: kind === 'CONV_2D' ? 0 : 3 };
    const wShape = kind === 'CONV_2D' ? [cout, 3, 3, 4] : [1, 3, 3, cout];
    const w = b.constant('w', wShape, 'int8', Array.from({ length: 9 * 4 * (kind === 'CONV_2D' ? cout : 1) }, (_, i) => ((i * 37) % 255) - 127), wq);
    const bias = b.constant('b', [cout], biasType, Array.from({ length: cout }, (_, c) => (c - 2) * 40001));
    const opts: [number, 'int8' | 'int32', number][] = kind === 'CONV_2D'
      ? [[0, 'int8', 0], [1, 'int32', 2], [2, 'int32', 2], [3, 'int8', 1]]
      : [[0, 'int8', 0], [1, 'int32', 2], [2, 'int32', 2], [3, 'int32', 1], [4, 'int8', 1]];
    b.op(kind, [x, w, bias], [y], opts);
    b.inputs = [x];
    b.outputs = [y];
    out.push({ name: `${kind} int16x8, ${biasType} bias, RELU`, bytes: b.build() });
  }
  // LOGISTIC, TANH and HARD_SWISH int8 (TFLM's gemmlowp fixed point and int16 arithmetic, which the export tabulates),
  // over every input value (4,096 random values), with input scales from fine to saturating; and after a CONV_2D.
  for (const [scale, zp] of [[0.02, 0], [0.05, 3], [0.13, -20]] as const) {
    for (const [opName, outQ] of [['LOGISTIC', [1 / 256, -128]], ['TANH', [1 / 128, 0]], ['HARD_SWISH', [scale * 0.7, -9]]] as const) {
      for (const afterConv of [false, true]) {
        const b = new TfliteBuilder();
        const x = b.tensor('x', [1, 32, 32, 4], 'int8', undefined, { quant: { scale: [afterConv ? 0.05 : scale], zeroPoint: [afterConv ? 3 : zp], axis: 0 } });
        const h = afterConv ? b.tensor('h', [1, 32, 32, 4], 'int8', undefined, { quant: { scale: [scale], zeroPoint: [zp], axis: 0 } }) : x;
        const y = b.tensor('y', [1, 32, 32, 4], 'int8', undefined, { quant: { scale: [outQ[0]], zeroPoint: [outQ[1]], axis: 0 } });
        if (afterConv) b.conv(x, h, 4, 4, 3, 1, 0, 0);
        b.op(opName, [h], [y]);
        b.inputs = [x];
        b.outputs = [y];
        out.push({ name: `${afterConv ? 'CONV_2D + ' : ''}${opName} int8, input scale ${scale}`, bytes: b.build() });
      }
    }
  }
  // LOGISTIC and TANH on int16 (TFLM's table interpolation): input scales that are the power of two the table wants
  // (2^-12, and 2^-11 for TANH's one-bit case) and others (rescaled by TFLM's multiplier); output 2^-15.
  for (const opName of ['LOGISTIC', 'TANH'] as const) {
    for (const scale of [2 ** -12, 2 ** -11, 0.0005, 0.003]) {
      const b = new TfliteBuilder();
      const x = b.tensor('x', [1, 16, 16, 4], 'int16', undefined, { quant: { scale: [scale], zeroPoint: [0], axis: 0 } });
      const y = b.tensor('y', [1, 16, 16, 4], 'int16', undefined, { quant: { scale: [2 ** -15], zeroPoint: [0], axis: 0 } });
      b.op(opName, [x], [y]);
      b.inputs = [x];
      b.outputs = [y];
      out.push({ name: `${opName} int16, input scale ${scale}`, bytes: b.build() });
    }
  }
  // FULLY_CONNECTED int16x8 (TFLM's int16 kernel: int64 accumulator with an int64 bias or none, int32 with an int32
  // bias), per-tensor and per-channel weights, a fused RELU: our export runs it as a 1×1 int16 convolution.
  for (const [biasType, perChannel] of [['int64', false], ['int32', true], ['none', true]] as const) {
    const b = new TfliteBuilder();
    const [rows, k, n] = [3, 12, 5];
    const x = b.tensor('x', [rows, k], 'int16', undefined, { quant: { scale: [0.0004], zeroPoint: [0], axis: 0 } });
    const y = b.tensor('y', [rows, n], 'int16', undefined, { quant: { scale: [0.0009], zeroPoint: [0], axis: 0 } });
    const wq = { scale: perChannel ? Array.from({ length: n }, (_, c) => 0.01 + 0.003 * c) : [0.012], zeroPoint: new Array<number>(perChannel ? n : 1).fill(0), axis: 0 };
    const w = b.constant('w', [n, k], 'int8', Array.from({ length: n * k }, (_, i) => ((i * 29) % 255) - 127), wq);
    const inputs = [x, w];
    if (biasType !== 'none') inputs.push(b.constant('b', [n], biasType, Array.from({ length: n }, (_, c) => (c - 2) * 30001)));
    b.op('FULLY_CONNECTED', inputs, [y], [[0, 'int8', 1]]);
    b.inputs = [x];
    b.outputs = [y];
    out.push({ name: `FULLY_CONNECTED int16x8, ${biasType} bias, ${perChannel ? 'per-channel' : 'per-tensor'}, RELU`, bytes: b.build() });
  }
  // TRANSPOSE_CONV int8 (TFLM's reference: int32 sums, bias, per-channel rescale): SAME and VALID padding, strides 2
  // and 3, with and without a bias, a fused RELU.
  for (const [padding, stride, k, withBias] of [[0, 2, 3, true], [1, 2, 3, false], [0, 3, 4, true], [1, 1, 2, true]] as const) {
    const b = new TfliteBuilder();
    const [h, w, cin, cout] = [5, 6, 4, 3];
    const ho = padding === 0 ? h * stride : (h - 1) * stride + k;
    const wo = padding === 0 ? w * stride : (w - 1) * stride + k;
    const x = b.tensor('x', [1, h, w, cin], 'int8', undefined, { quant: { scale: [0.05], zeroPoint: [3], axis: 0 } });
    const y = b.tensor('y', [1, ho, wo, cout], 'int8', undefined, { quant: { scale: [0.09], zeroPoint: [-4], axis: 0 } });
    const wq = { scale: Array.from({ length: cout }, (_, c) => 0.01 + 0.005 * c), zeroPoint: new Array<number>(cout).fill(0), axis: 0 };
    const wt = b.constant('w', [cout, k, k, cin], 'int8', Array.from({ length: cout * k * k * cin }, (_, i) => ((i * 53) % 255) - 127), wq);
    const shape = b.constant('shape', [4], 'int32', [1, ho, wo, cout]);
    const inputs = [shape, wt, x];
    if (withBias) inputs.push(b.constant('b', [cout], 'int32', Array.from({ length: cout }, (_, c) => (c - 1) * 3001)));
    b.op('TRANSPOSE_CONV', inputs, [y], [[0, 'int8', padding], [1, 'int32', stride], [2, 'int32', stride], [3, 'int8', 1]]);
    b.inputs = [x];
    b.outputs = [y];
    out.push({ name: `TRANSPOSE_CONV int8 ${padding === 0 ? 'SAME' : 'VALID'} stride ${stride} kernel ${k}${withBias ? ' bias' : ''}`, bytes: b.build() });
  }
  // int16 MUL (computed operands, one a vector broadcast along the channels), MAX_POOL_2D and AVERAGE_POOL_2D (SAME
  // padding: edge windows smaller), MEAN over H and W and DEQUANTIZE to float: TFLM's integer kernels on int16 codes.
  {
    const q16 = (scale: number): { quant: { scale: number[]; zeroPoint: number[]; axis: number } } => ({ quant: { scale: [scale], zeroPoint: [0], axis: 0 } });
    for (const act of [0, 1]) {
      const b = new TfliteBuilder();
      const x = b.tensor('x', [1, 4, 5, 6], 'int16', undefined, q16(0.0007));
      const v = b.tensor('v', [1, 1, 1, 6], 'int16', undefined, q16(0.0007));
      const y = b.tensor('y', [1, 4, 5, 6], 'int16', undefined, q16(0.009));
      b.op('SLICE', [x, b.constant('b0', [4], 'int32', [0, 2, 3, 0]), b.constant('s0', [4], 'int32', [1, 1, 1, 6])], [v]);
      b.op('MUL', [x, v], [y], [[0, 'int8', act]]);
      b.inputs = [x];
      b.outputs = [y];
      out.push({ name: `MUL int16${act ? ' + RELU' : ''}, a vector broadcast`, bytes: b.build() });
    }
    for (const opName of ['MAX_POOL_2D', 'AVERAGE_POOL_2D'] as const) {
      const b = new TfliteBuilder();
      const x = b.tensor('x', [1, 7, 6, 3], 'int16', undefined, q16(0.0007));
      const y = b.tensor('y', [1, 4, 3, 3], 'int16', undefined, q16(0.0007));
      b.op(opName, [x], [y], [[0, 'int8', 0], [1, 'int32', 2], [2, 'int32', 2], [3, 'int32', 3], [4, 'int32', 3], [5, 'int8', 1]]);
      b.inputs = [x];
      b.outputs = [y];
      out.push({ name: `${opName} int16 3x3 stride 2 SAME + RELU`, bytes: b.build() });
    }
    {
      const b = new TfliteBuilder();
      const x = b.tensor('x', [1, 5, 7, 12], 'int16', undefined, q16(0.0007));
      const y = b.tensor('y', [1, 1, 1, 12], 'int16', undefined, q16(0.00011));
      b.op('MEAN', [x, b.constant('axes', [2], 'int32', [1, 2])], [y], [[0, 'bool', 1]]);
      b.inputs = [x];
      b.outputs = [y];
      out.push({ name: 'MEAN int16 over H and W', bytes: b.build() });
    }
    // SUM over H and W, int8 and int16 (TFLM's QuantizedMeanOrSum without the 1/n), and float.
    for (const dtype of ['int8', 'int16', 'float32'] as const) {
      const b = new TfliteBuilder();
      const qIn = dtype === 'int8' ? { quant: { scale: [0.05], zeroPoint: [3], axis: 0 } } : dtype === 'int16' ? q16(0.0007) : {};
      const qOut = dtype === 'int8' ? { quant: { scale: [0.9], zeroPoint: [-4], axis: 0 } } : dtype === 'int16' ? q16(0.003) : {};
      const x = b.tensor('x', [1, 5, 7, 12], dtype, undefined, qIn);
      const y = b.tensor('y', [1, 1, 1, 12], dtype, undefined, qOut);
      b.op('SUM', [x, b.constant('axes', [2], 'int32', [1, 2])], [y], [[0, 'bool', 1]]);
      b.inputs = [x];
      b.outputs = [y];
      out.push({ name: `SUM ${dtype} over H and W`, bytes: b.build() });
    }
    {
      const b = new TfliteBuilder();
      const x = b.tensor('x', [1, 4, 5, 3], 'int16', undefined, q16(0.0007));
      const y = b.tensor('y', [1, 4, 5, 3], 'float32');
      b.op('DEQUANTIZE', [x], [y]);
      b.inputs = [x];
      b.outputs = [y];
      out.push({ name: 'DEQUANTIZE int16 to float', bytes: b.build() });
    }
  }
  // TRANSPOSE_CONV float: the gather adds the taps in the order TFLite's reference kernel scatters them (input rows
  // and columns ascending), so the float sums are the same.
  {
    const b = new TfliteBuilder();
    const x = b.tensor('x', [1, 5, 6, 4], 'float32');
    const y = b.tensor('y', [1, 10, 12, 3], 'float32');
    const wt = b.constant('w', [3, 3, 3, 4], 'float32', Array.from({ length: 108 }, (_, i) => Math.sin(i) * 0.7));
    const bias = b.constant('b', [3], 'float32', [0.1, -0.2, 0.3]);
    b.op('TRANSPOSE_CONV', [b.constant('shape', [4], 'int32', [1, 10, 12, 3]), wt, x, bias], [y], [[0, 'int8', 0], [1, 'int32', 2], [2, 'int32', 2], [3, 'int8', 0]]);
    b.inputs = [x];
    b.outputs = [y];
    out.push({ name: 'TRANSPOSE_CONV float SAME stride 2 kernel 3 bias', bytes: b.build() });
  }
  // TRANSPOSE_CONV int16x8 (TFLM's: 64-bit sums, an int64 bias, an int16 one widened, or none; per-channel rescale).
  for (const [padding, stride, biasType] of [[0, 2, 'int64'], [1, 2, 'int16'], [0, 1, 'none']] as const) {
    out.push({ name: `TRANSPOSE_CONV int16 ${padding === 0 ? 'SAME' : 'VALID'} stride ${stride}, ${biasType} bias`, bytes: transposeConv16(padding, stride, biasType, false) });
  }
  // A QUANTIZE after a convolution (int8 to uint8, as at the output of TFLite's PTQ models, and int8 to int8): our
  // export folds it into the convolution's step as TFLM's Requantize in a table.
  for (const to of ['uint8', 'int8'] as const) {
    const b = new TfliteBuilder();
    const x = b.tensor('x', [1, 6, 6, 3], 'int8', undefined, { quant: { scale: [0.05], zeroPoint: [3], axis: 0 } });
    const h = b.tensor('h', [1, 6, 6, 4], 'int8', undefined, { quant: { scale: [0.1], zeroPoint: [2], axis: 0 } });
    const y = b.tensor('y', [1, 6, 6, 4], to, undefined, { quant: { scale: [0.07], zeroPoint: [to === 'uint8' ? 131 : -9], axis: 0 } });
    b.conv(x, h, 3, 4, 3, 1, 0, 0);
    b.op('QUANTIZE', [h], [y]);
    b.inputs = [x];
    b.outputs = [y];
    out.push({ name: `CONV_2D + QUANTIZE to ${to}`, bytes: b.build() });
  }
  // SOFTMAX int8 to int8 (scale 1/256) and to int16 (1/65536) as TFLM computes it (gemmlowp's exp and reciprocal),
  // rows of 10 and of 40; a coarse input scale leaves the far differences out of the sum (TFLM's diff_min), beta 0.6.
  for (const [scale, zp, beta, n] of [[0.05, 3, 1, 10], [0.5, -10, 1, 40], [0.11, 0, 0.6, 40]] as const) {
    for (const to of ['int8', 'int16'] as const) {
      const b = new TfliteBuilder();
      const x = b.tensor('x', [1, 3, n], 'int8', undefined, { quant: { scale: [scale], zeroPoint: [zp], axis: 0 } });
      const y = b.tensor('y', [1, 3, n], to, undefined, { quant: to === 'int8' ? { scale: [1 / 256], zeroPoint: [-128], axis: 0 } : { scale: [1 / 65536], zeroPoint: [-32768], axis: 0 } });
      b.op('SOFTMAX', [x], [y], [[0, 'float32', beta]]);
      b.inputs = [x];
      b.outputs = [y];
      out.push({ name: `SOFTMAX int8 to ${to}, input scale ${scale}, beta ${beta}, rows of ${n}`, bytes: b.build() });
    }
  }
  // SOFTMAX int16 to int16 (TFLM's tables of exp and 1/(1 + x), output 1/32768): a fine input scale, a coarse one whose
  // far differences fall off the exp table's −10, beta 0.6.
  for (const [scale, beta, n] of [[1 / 4096, 1, 10], [0.0021, 1, 40], [0.0003, 0.6, 40]] as const) {
    const b = new TfliteBuilder();
    const x = b.tensor('x', [1, 3, n], 'int16', undefined, { quant: { scale: [scale], zeroPoint: [0], axis: 0 } });
    const y = b.tensor('y', [1, 3, n], 'int16', undefined, { quant: { scale: [1 / 32768], zeroPoint: [0], axis: 0 } });
    b.op('SOFTMAX', [x], [y], [[0, 'float32', beta]]);
    b.inputs = [x];
    b.outputs = [y];
    out.push({ name: `SOFTMAX int16, input scale ${scale}, beta ${beta}, rows of ${n}`, bytes: b.build() });
  }
  // int16 RELU (rescaled to a coarser output scale), RELU6 (its input's codes clamped to 0 and 6), and MAXIMUM and
  // MINIMUM of the input and its transpose (two computed operands quantized alike).
  for (const type of ['RELU', 'RELU6', 'MAXIMUM', 'MINIMUM'] as const) {
    const b = new TfliteBuilder();
    const qx = { quant: { scale: [0.0004], zeroPoint: [0], axis: 0 } };
    const x = b.tensor('x', [1, 5, 5, 3], 'int16', undefined, qx);
    const y = b.tensor('y', [1, 5, 5, 3], 'int16', undefined, type === 'RELU' ? { quant: { scale: [0.00031], zeroPoint: [0], axis: 0 } } : qx);
    if (type === 'RELU' || type === 'RELU6') {
      b.op(type, [x], [y]);
    } else {
      const t = b.tensor('t', [1, 5, 5, 3], 'int16', undefined, qx);
      b.op('TRANSPOSE', [x, b.constant('perm', [4], 'int32', [0, 2, 1, 3])], [t]);
      b.op(type, [x, t], [y]);
    }
    b.inputs = [x];
    b.outputs = [y];
    out.push({ name: `${type} int16`, bytes: b.build() });
  }
  // int8 ABS (the same scale; rescaled), and a layer norm's integer pieces: MEAN over the last axis, the
  // SQUARED_DIFFERENCE of the input and its mean (broadcast), RSQRT of it (zero point -128: every code is at or above
  // it, as TFLM requires); SQUARED_DIFFERENCE int16 and float of the input and its transpose.
  for (const rescale of [false, true]) {
    const b = new TfliteBuilder();
    const x = b.tensor('x', [1, 5, 6], 'int8', undefined, { quant: { scale: [0.05], zeroPoint: [3], axis: 0 } });
    const y = b.tensor('y', [1, 5, 6], 'int8', undefined, { quant: { scale: [rescale ? 0.03 : 0.05], zeroPoint: [rescale ? -100 : 3], axis: 0 } });
    b.op('ABS', [x], [y]);
    b.inputs = [x];
    b.outputs = [y];
    out.push({ name: `ABS int8${rescale ? ', rescaled' : ''}`, bytes: b.build() });
  }
  {
    const b = new TfliteBuilder();
    const q = (scale: number, zp: number): { quant: { scale: number[]; zeroPoint: number[]; axis: number } } => ({ quant: { scale: [scale], zeroPoint: [zp], axis: 0 } });
    const x = b.tensor('x', [1, 5, 8], 'int8', undefined, q(0.05, 3));
    const m = b.tensor('m', [1, 5, 1], 'int8', undefined, q(0.05, 3));
    const d = b.tensor('d', [1, 5, 8], 'int8', undefined, q(0.03, -128));
    const y = b.tensor('y', [1, 5, 8], 'int8', undefined, q(0.06, -128));
    b.op('MEAN', [x, b.constant('axes', [1], 'int32', [2])], [m], [[0, 'bool', 1]]);
    b.op('SQUARED_DIFFERENCE', [x, m], [d]);
    b.op('RSQRT', [d], [y]);
    b.inputs = [x];
    b.outputs = [y];
    out.push({ name: 'MEAN, SQUARED_DIFFERENCE (broadcast) and RSQRT int8', bytes: b.build() });
  }
  // PRELU int8 (a slope per channel, broadcast over H and W) and int16 (an int8 slope for all), fused after the pool
  // that gives them their layout, and int8 on its own (the pool's output is a graph output too).
  for (const [dtype, alone] of [['int8', false], ['int16', false], ['int8', true]] as const) {
    const b = new TfliteBuilder();
    const q = (scale: number, zp: number): { quant: { scale: number[]; zeroPoint: number[]; axis: number } } => ({ quant: { scale: [scale], zeroPoint: [dtype === 'int16' ? 0 : zp], axis: 0 } });
    // A 1×1 max pool ahead gives the tensor its NHWC layout, as the convolution before a PRELU does in a model.
    const x0 = b.tensor('x0', [1, 4, 5, 3], dtype, undefined, dtype === 'int16' ? q(0.0005, 0) : q(0.05, 3));
    const x = b.tensor('x', [1, 4, 5, 3], dtype, undefined, dtype === 'int16' ? q(0.0005, 0) : q(0.05, 3));
    b.op('MAX_POOL_2D', [x0], [x], [[0, 'int8', 1], [1, 'int32', 1], [2, 'int32', 1], [3, 'int32', 1], [4, 'int32', 1]]);
    const alpha = dtype === 'int8' ? b.constant('alpha', [1, 1, 3], 'int8', [40, -25, 90], { scale: [0.01], zeroPoint: [5], axis: 0 }) : b.constant('alpha', [1], 'int8', [60], { scale: [0.004], zeroPoint: [0], axis: 0 });
    const y = b.tensor('y', [1, 4, 5, 3], dtype, undefined, dtype === 'int16' ? q(0.0004, 0) : q(0.04, -7));
    b.op('PRELU', [x, alpha], [y]);
    b.inputs = [x0];
    b.outputs = alone ? [y, x] : [y];
    out.push({ name: `PRELU ${dtype}${alone ? ' on its own' : ''}`, bytes: b.build() });
  }
  // Float BATCH_MATMUL as TFLM runs it: of the input and its transpose (computed operands), with adj_x and with adj_y
  // (the attention product Q·Kᵀ), and against a stored right operand [k, n] (not FULLY_CONNECTED's [n, k]).
  for (const [adjX, adjY, stored] of [[false, false, false], [false, true, false], [true, false, false], [false, false, true]] as const) {
    const b = new TfliteBuilder();
    const x = b.tensor('x', [2, 4, 6], 'float32');
    let rhs: number;
    let outShape: number[];
    if (stored) {
      rhs = b.constant('w', [6, 5], 'float32', Array.from({ length: 30 }, (_, i) => Math.sin(i) * 0.7));
      outShape = [2, 4, 5];
    } else {
      // adj_y: x · xᵀ from x itself; otherwise x against its transpose [2, 6, 4] (adj_x: xᵀ · x).
      rhs = adjY || adjX ? x : b.tensor('t', [2, 6, 4], 'float32');
      if (!adjY && !adjX) b.op('TRANSPOSE', [x, b.constant('perm', [3], 'int32', [0, 2, 1])], [rhs]);
      outShape = adjX ? [2, 6, 6] : [2, 4, 4];
    }
    const y = b.tensor('y', outShape, 'float32');
    b.op('BATCH_MATMUL', [x, rhs], [y], [[0, 'bool', adjX ? 1 : 0], [1, 'bool', adjY ? 1 : 0]]);
    b.inputs = [x];
    b.outputs = [y];
    out.push({ name: `BATCH_MATMUL float${adjX ? ' adj_x' : ''}${adjY ? ' adj_y' : ''}${stored ? ' stored right operand' : ''}`, bytes: b.build() });
  }
  // RSQRT and ABS alone over 1,024 random codes (nearly every code of the table).
  for (const type of ['RSQRT', 'ABS'] as const) {
    const b = new TfliteBuilder();
    const x = b.tensor('x', [1, 16, 64], 'int8', undefined, { quant: { scale: [0.0123], zeroPoint: [-128], axis: 0 } });
    const y = b.tensor('y', [1, 16, 64], 'int8', undefined, { quant: { scale: [type === 'RSQRT' ? 0.071 : 0.0077], zeroPoint: [-128], axis: 0 } });
    b.op(type, [x], [y]);
    b.inputs = [x];
    b.outputs = [y];
    out.push({ name: `${type} int8 over every code`, bytes: b.build() });
  }
  for (const dtype of ['int16', 'float32'] as const) {
    const b = new TfliteBuilder();
    const q = dtype === 'int16' ? (scale: number): { quant: { scale: number[]; zeroPoint: number[]; axis: number } } => ({ quant: { scale: [scale], zeroPoint: [0], axis: 0 } }) : (): Record<string, never> => ({});
    const x = b.tensor('x', [1, 5, 5, 3], dtype, undefined, q(0.0004));
    const t = b.tensor('t', [1, 5, 5, 3], dtype, undefined, q(0.0004));
    const y = b.tensor('y', [1, 5, 5, 3], dtype, undefined, q(0.0002));
    b.op('TRANSPOSE', [x, b.constant('perm', [4], 'int32', [0, 2, 1, 3])], [t]);
    b.op('SQUARED_DIFFERENCE', [x, t], [y]);
    b.inputs = [x];
    b.outputs = [y];
    out.push({ name: `SQUARED_DIFFERENCE ${dtype}`, bytes: b.build() });
  }
  // ARG_MAX and ARG_MIN to int32 indices (the types TFLM runs): int8 over the channels after a convolution (a
  // segmentation head), int8 and float over other axes.
  for (const [type, dtype, axis, conv] of [['ARG_MAX', 'int8', 3, true], ['ARG_MIN', 'int8', 1, false], ['ARG_MAX', 'float32', 2, false], ['ARG_MIN', 'float32', 3, false]] as const) {
    const b = new TfliteBuilder();
    const q = dtype === 'int8' ? { quant: { scale: [0.05], zeroPoint: [3], axis: 0 } } : {};
    const x = b.tensor('x', [1, 6, 5, 7], dtype, undefined, q);
    let h = x;
    if (conv) {
      h = b.tensor('h', [1, 6, 5, 7], 'int8', undefined, { quant: { scale: [0.1], zeroPoint: [2], axis: 0 } });
      b.conv(x, h, 7, 7, 3, 1, 0, 0);
    }
    const y = b.tensor('y', [1, 6, 5, 7].filter((_, i) => i !== axis), 'int32');
    b.op(type, [h, b.constant('axis', [1], 'int32', [axis])], [y], [[0, 'int8', 2]]);
    b.inputs = [x];
    b.outputs = [y];
    out.push({ name: `${type} ${dtype} axis ${axis}${conv ? ' after a convolution' : ''}`, bytes: b.build() });
  }
  // LOG_SOFTMAX int8 (TFLM's: gemmlowp's exp and log, output 16/256 and 127), rows of 10 and 40.
  for (const [scale, zp, n] of [[0.05, 3, 10], [0.5, -10, 40], [0.11, 0, 40]] as const) {
    const b = new TfliteBuilder();
    const x = b.tensor('x', [1, 3, n], 'int8', undefined, { quant: { scale: [scale], zeroPoint: [zp], axis: 0 } });
    const y = b.tensor('y', [1, 3, n], 'int8', undefined, { quant: { scale: [16 / 256], zeroPoint: [127], axis: 0 } });
    b.op('LOG_SOFTMAX', [x], [y]);
    b.inputs = [x];
    b.outputs = [y];
    out.push({ name: `LOG_SOFTMAX int8, input scale ${scale}, rows of ${n}`, bytes: b.build() });
  }
  // A float LOG_SOFTMAX after a DEQUANTIZE (TinyEngine's MNIST classifiers end so): the float tensor is written.
  {
    const b = new TfliteBuilder();
    const x = b.tensor('x', [1, 4, 10], 'int8', undefined, { quant: { scale: [0.3], zeroPoint: [5], axis: 0 } });
    const f = b.tensor('f', [1, 4, 10], 'float32');
    const y = b.tensor('y', [1, 4, 10], 'float32');
    b.op('DEQUANTIZE', [x], [f]);
    b.op('LOG_SOFTMAX', [f], [y]);
    b.inputs = [x];
    b.outputs = [y];
    out.push({ name: 'DEQUANTIZE + float LOG_SOFTMAX', bytes: b.build() });
  }
  // QUANTIZE between integer types (TFLM's Requantize): a keyword model's int16 -> int32 output, SEANet's int32 input.
  for (const [from, to] of [['int16', 'int32'], ['int32', 'int16'], ['int8', 'int16'], ['int16', 'int8'], ['int8', 'int32'], ['int32', 'int8'], ['int16', 'int16']] as const) {
    const q = { int8: { scale: [0.05], zeroPoint: [3], axis: 0 }, int16: { scale: [0.0004943], zeroPoint: [0], axis: 0 }, int32: { scale: [1.49e-7], zeroPoint: [0], axis: 0 } };
    const b = new TfliteBuilder();
    // An int32 input at a finer scale, so that its whole range maps onto varied outputs.
    const x = b.tensor('x', [1, 4, 5, 2], from, undefined, { quant: from === 'int32' ? { scale: [1e-9], zeroPoint: [0], axis: 0 } : q[from] });
    const y = b.tensor('y', [1, 4, 5, 2], to, undefined, { quant: from === to ? { scale: [0.00071], zeroPoint: [0], axis: 0 } : q[to] });
    b.op('QUANTIZE', [x], [y]);
    b.inputs = [x];
    b.outputs = [y];
    out.push({ name: `QUANTIZE ${from} to ${to}`, bytes: b.build() });
  }
  return out;
}

test('C export against TFLM: quantized LEAKY_RELU (int8 alone and after a convolution, int16; alpha positive, zero and negative), LOGISTIC, TANH and HARD_SWISH int8 (alone and after a convolution), LOGISTIC, TANH, FULLY_CONNECTED, MUL, pooling, MEAN, SUM and DEQUANTIZE int16, SUM int8 and float, TRANSPOSE_CONV int8, float and int16, ADD and SUB (int8, int16, unlike scales, fused RELU, a vector broadcast along the last axis), MINIMUM and MAXIMUM int8, int16x8 convolutions (int64 and int32 bias), a requantizing QUANTIZE after a convolution, SOFTMAX int8 to int8 and int16 and int16 to int16, LOG_SOFTMAX int8 and float after a DEQUANTIZE, QUANTIZE between int8, int16 and int32, ARG_MAX and ARG_MIN (int8, float), RELU, RELU6, MAXIMUM and MINIMUM int16, ABS int8, SQUARED_DIFFERENCE (int8, int16, float), RSQRT int8, PRELU (int8, int16) and float BATCH_MATMUL (adj_x, adj_y, a stored right operand) bit for bit', { skip: SKIP || (HAVE_CC ? false : 'no C compiler'), timeout: 900_000 }, () => {
  sameAsTflm(quantizedModels(), 9, 4);
});

/** TFLite's UNIDIRECTIONAL_SEQUENCE_LSTM (the Keras LSTM TFLM runs), float and int8, batch-major and time-major, with
 *  and without a cell clip, its state in two variable tensors. */
function lstmModels(): { name: string; bytes: Uint8Array }[] {
  const out: { name: string; bytes: Uint8Array }[] = [];
  for (const [timeMajor, clip] of [[false, 0], [true, 0.6]] as const) {
    const b = new TfliteBuilder();
    const [batch, time, inSize, hid] = [2, 5, 3, 4];
    const vals = (n: number, k: number): number[] => Array.from({ length: n }, (_, i) => (((i * k) % 23) - 11) / 13);
    const x = b.tensor('x', timeMajor ? [time, batch, inSize] : [batch, time, inSize], 'float32');
    const h = b.tensor('h', [batch, hid], 'float32', undefined, { variable: true });
    const c = b.tensor('c', [batch, hid], 'float32', undefined, { variable: true });
    const y = b.tensor('y', timeMajor ? [time, batch, hid] : [batch, time, hid], 'float32');
    const w = [0, 1, 2, 3].map((g) => b.constant(`w${g}`, [hid, inSize], 'float32', vals(hid * inSize, 5 + 2 * g)));
    const r = [0, 1, 2, 3].map((g) => b.constant(`r${g}`, [hid, hid], 'float32', vals(hid * hid, 7 + 2 * g)));
    const bias = [0, 1, 2, 3].map((g) => b.constant(`b${g}`, [hid], 'float32', vals(hid, 3 + g)));
    b.op('UNIDIRECTIONAL_SEQUENCE_LSTM', [x, ...w, ...r, -1, -1, -1, ...bias, -1, -1, h, c, -1, -1, -1, -1], [y], [[0, 'int8', 4], [1, 'float32', clip], [3, 'bool', timeMajor ? 1 : 0]]);
    b.inputs = [x];
    b.outputs = [y];
    out.push({ name: `UNIDIRECTIONAL_SEQUENCE_LSTM float${timeMajor ? ' time-major' : ''}${clip ? ' cell clip' : ''}`, bytes: b.build() });
  }
  // int8 (TFLM's 8x8_16 LSTM: int8 input, weights and hidden state, int32 biases, an int16 cell state with a
  // power-of-two scale): batch-major with a cell clip, time-major without.
  for (const [timeMajor, clip] of [[false, 3], [true, 0]] as const) {
    const b = new TfliteBuilder();
    const [batch, time, inSize, hid] = [2, 6, 5, 8];
    const q = (scale: number, zp: number): { quant: { scale: number[]; zeroPoint: number[]; axis: number } } => ({ quant: { scale: [scale], zeroPoint: [zp], axis: 0 } });
    const vals = (n: number, k: number): number[] => Array.from({ length: n }, (_, i) => ((i * k) % 251) - 125);
    const x = b.tensor('x', timeMajor ? [time, batch, inSize] : [batch, time, inSize], 'int8', undefined, q(0.02, -10));
    const h = b.tensor('h', [batch, hid], 'int8', undefined, { variable: true, ...q(0.0078, 3) });
    const c = b.tensor('c', [batch, hid], 'int16', undefined, { variable: true, ...q(2 ** -11, 0) });
    const y = b.tensor('y', timeMajor ? [time, batch, hid] : [batch, time, hid], 'int8', undefined, q(0.0078, 3));
    const w = [0, 1, 2, 3].map((g) => b.constant(`w${g}`, [hid, inSize], 'int8', vals(hid * inSize, 37 + 2 * g), { scale: [0.004 + 0.001 * g], zeroPoint: [0], axis: 0 }));
    const r = [0, 1, 2, 3].map((g) => b.constant(`r${g}`, [hid, hid], 'int8', vals(hid * hid, 41 + 2 * g), { scale: [0.003 + 0.001 * g], zeroPoint: [0], axis: 0 }));
    const bias = [0, 1, 2, 3].map((g) => b.constant(`b${g}`, [hid], 'int32', Array.from({ length: hid }, (_, j) => (j - 4) * 150 * (g + 1))));
    b.op('UNIDIRECTIONAL_SEQUENCE_LSTM', [x, ...w, ...r, -1, -1, -1, ...bias, -1, -1, h, c, -1, -1, -1, -1], [y], [[0, 'int8', 4], [1, 'float32', clip], [3, 'bool', timeMajor ? 1 : 0]]);
    b.inputs = [x];
    b.outputs = [y];
    out.push({ name: `UNIDIRECTIONAL_SEQUENCE_LSTM int8${timeMajor ? ' time-major' : ''}${clip ? ' cell clip' : ''}`, bytes: b.build() });
  }
  // int16 (TFLM's 16x8_16 LSTM: int16 input and hidden state with zero points 0, int8 weights, int64 biases and
  // accumulators, an int16 cell state): batch-major with a cell clip, time-major without.
  for (const [timeMajor, clip] of [[false, 3], [true, 0]] as const) {
    const b = new TfliteBuilder();
    const [batch, time, inSize, hid] = [2, 6, 5, 8];
    const q = (scale: number): { quant: { scale: number[]; zeroPoint: number[]; axis: number } } => ({ quant: { scale: [scale], zeroPoint: [0], axis: 0 } });
    const vals = (n: number, k: number): number[] => Array.from({ length: n }, (_, i) => ((i * k) % 251) - 125);
    const x = b.tensor('x', timeMajor ? [time, batch, inSize] : [batch, time, inSize], 'int16', undefined, q(0.0001));
    const h = b.tensor('h', [batch, hid], 'int16', undefined, { variable: true, ...q(2 ** -15) });
    const c = b.tensor('c', [batch, hid], 'int16', undefined, { variable: true, ...q(2 ** -11) });
    const y = b.tensor('y', timeMajor ? [time, batch, hid] : [batch, time, hid], 'int16', undefined, q(2 ** -15));
    const w = [0, 1, 2, 3].map((g) => b.constant(`w${g}`, [hid, inSize], 'int8', vals(hid * inSize, 37 + 2 * g), { scale: [0.004 + 0.001 * g], zeroPoint: [0], axis: 0 }));
    const r = [0, 1, 2, 3].map((g) => b.constant(`r${g}`, [hid, hid], 'int8', vals(hid * hid, 41 + 2 * g), { scale: [0.003 + 0.001 * g], zeroPoint: [0], axis: 0 }));
    const bias = [0, 1, 2, 3].map((g) => b.constant(`b${g}`, [hid], 'int64', Array.from({ length: hid }, (_, j) => (j - 4) * 3000 * (g + 1))));
    b.op('UNIDIRECTIONAL_SEQUENCE_LSTM', [x, ...w, ...r, -1, -1, -1, ...bias, -1, -1, h, c, -1, -1, -1, -1], [y], [[0, 'int8', 4], [1, 'float32', clip], [3, 'bool', timeMajor ? 1 : 0]]);
    b.inputs = [x];
    b.outputs = [y];
    out.push({ name: `UNIDIRECTIONAL_SEQUENCE_LSTM int16${timeMajor ? ' time-major' : ''}${clip ? ' cell clip' : ''}`, bytes: b.build() });
  }
  return out;
}

test('C export against TFLM: UNIDIRECTIONAL_SEQUENCE_LSTM, float, int8 and int16 (batch- and time-major, cell clip, state in variable tensors carried over three runs) bit for bit', { skip: SKIP || (HAVE_CC ? false : 'no C compiler'), timeout: 900_000 }, () => {
  sameAsTflm(lstmModels(), 6, 8, 3);
});

/** TFLite's SVDF (the keyword-spotting layer TFLM benchmarks): float with a RELU, int8 with an int16 and an int8
 *  state; rank 1 and 2; its state a variable tensor shifted on every run. */
function svdfModels(): { name: string; bytes: Uint8Array }[] {
  const out: { name: string; bytes: Uint8Array }[] = [];
  for (const [dtype, stateType, rank] of [['float32', 'float32', 2], ['int8', 'int16', 1], ['int8', 'int8', 2]] as const) {
    const b = new TfliteBuilder();
    const [batch, inSize, units, memory] = [2, 6, 4, 5];
    const filters = units * rank;
    const q = (scale: number, zp: number): { quant?: { scale: number[]; zeroPoint: number[]; axis: number } } => (dtype === 'float32' ? {} : { quant: { scale: [scale], zeroPoint: [zp], axis: 0 } });
    const vals = (n: number, k: number, range: number): number[] => Array.from({ length: n }, (_, i) => (((i * k) % 23) - 11) * (dtype === 'float32' ? 1 / 13 : range / 11));
    const x = b.tensor('x', [batch, inSize], dtype, undefined, q(0.05, 3));
    const state = b.tensor('state', [batch, filters * memory], stateType, undefined, { variable: true, ...q(stateType === 'int16' ? 0.002 : 0.03, stateType === 'int8' ? -4 : 0) });
    const y = b.tensor('y', [batch, units], dtype, undefined, q(0.07, -2));
    const wf = b.constant('wf', [filters, inSize], dtype, vals(filters * inSize, 5, 100), dtype === 'float32' ? undefined : { scale: [0.01], zeroPoint: [0], axis: 0 });
    const wt = b.constant('wt', [filters, memory], stateType, vals(filters * memory, 7, stateType === 'int16' ? 3000 : 100), dtype === 'float32' ? undefined : { scale: [stateType === 'int16' ? 0.0003 : 0.02], zeroPoint: [0], axis: 0 });
    // TFLM's Prepare requires the bias scale to be the state's times the time weights'.
    const biasQuant = { scale: [Math.fround(stateType === 'int16' ? 0.002 : 0.03) * Math.fround(stateType === 'int16' ? 0.0003 : 0.02)], zeroPoint: [0], axis: 0 };
    const bias = b.constant('b', [units], dtype === 'float32' ? 'float32' : 'int32', dtype === 'float32' ? vals(units, 3, 1) : [300, -200, 100, 0], dtype === 'float32' ? undefined : biasQuant);
    b.op('SVDF', [x, wf, wt, bias, state], [y], [[0, 'int32', rank], [1, 'int8', dtype === 'float32' ? 1 : 0]]);
    b.inputs = [x];
    b.outputs = [y];
    out.push({ name: `SVDF ${dtype} state ${stateType} rank ${rank}`, bytes: b.build() });
  }
  return out;
}

test('TFLM arena: UNIDIRECTIONAL_SEQUENCE_LSTM, SVDF and TRANSPOSE_CONV (int8, float, int16) models (state, scratch, op data) equal TFLM\'s', { skip: SKIP }, () => {
  const tconv = quantizedModels().filter((m) => m.name.startsWith('TRANSPOSE_CONV'));
  assert.equal(tconv.length, 8); // int8 (4), float (1) and int16 (3)
  for (const c of [...lstmModels(), ...svdfModels(), ...tconv]) compare(c.name, c.bytes);
});

test('C export against TFLM: SVDF (float with RELU; int8 with an int16 and an int8 state; rank 1 and 2) over three runs, the state shifted each run, bit for bit', { skip: SKIP || (HAVE_CC ? false : 'no C compiler'), timeout: 900_000 }, () => {
  sameAsTflm(svdfModels(), 7, 2, 3);
});

test('C export against TFLM: TRANSPOSE_CONV int16 whose output_shape is a graph input (SEANet\'s): the stored output shape, as TFLM, bit for bit', { skip: SKIP || (HAVE_CC ? false : 'no C compiler'), timeout: 900_000 }, () => {
  const bytes = transposeConv16(0, 2, 'int64', true);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcu-mem-tflm-'));
  try {
    const file = path.join(dir, 'm.tflite');
    fs.writeFileSync(file, bytes);
    const graph = openModelOrThrow(bytes, { fileName: 'm.tflite' });
    // The inputs one after another: x (random int16), then the output shape the file stores.
    const input = new Uint8Array(Buffer.concat([randomInput(graph, 5), new Uint8Array(Int32Array.from([1, 6, 10, 4]).buffer)]));
    const ours = buildAndRun(graph, {}, input).values;
    const theirs = tflmOutputs(file, graph, input, 'TRANSPOSE_CONV int16, run-time output_shape');
    assert.ok(new Set(theirs).size > 20, 'the outputs vary');
    assert.deepEqual(ours, theirs);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('C export against TFLM: the shared keyword model (int8 SVDFs with int16 state, SOFTMAX int8 to int16, QUANTIZE int16 to int32) over three runs, on three inputs, bit for bit', { skip: SKIP || (HAVE_SHARED ? false : 'no shared models') || (HAVE_CC ? false : 'no C compiler'), timeout: 900_000 }, () => {
  const bytes = new Uint8Array(fs.readFileSync(sharedModel('tflite/keyword_scrambled.tflite')));
  for (const seed of [1, 2, 3]) sameAsTflm([{ name: `keyword_scrambled, seed ${seed}`, bytes }], seed, 0, 3);
});

test('optimized for TFLM: a better operator order written into the file; TFLM takes the predicted, smaller arena with bit-identical outputs', { skip: SKIP, timeout: 900_000 }, () => {
  const bytes = interleavedBranches();
  const graph = openModelOrThrow(bytes, { fileName: 'branches.tflite' });
  const r = optimizeForTflm(bytes, graph);
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  assert.deepEqual(r.value.order, [0, 2, 1, 3, 4], 'branch by branch');
  const before = runTflm(bytes) as Measured;
  const after = runTflm(r.value.bytes) as Measured;
  assert.equal(typeof after, 'object');
  assert.equal(before.min, r.value.before.minArenaBytes, 'TFLM as is: predicted');
  assert.equal(after.min, r.value.after.minArenaBytes, 'the optimized file: predicted');
  assert.equal(after.used, r.value.after.arenaUsedBytes);
  assert.ok(after.min <= before.min - 12 * 1024, `most of one 16 KiB map less: ${before.min} → ${after.min}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcu-mem-ord-'));
  try {
    const input = bytesOf(randomFloats(16 * 16 * 4, 3, -1, 1));
    fs.writeFileSync(path.join(dir, 'a.tflite'), bytes);
    fs.writeFileSync(path.join(dir, 'b.tflite'), r.value.bytes);
    const o1 = tflmOutputs(path.join(dir, 'a.tflite'), graph, input);
    const o2 = tflmOutputs(path.join(dir, 'b.tflite'), openModelOrThrow(r.value.bytes, { fileName: 'b.tflite' }), input);
    assert.ok(o1.length === 512 && o1.some((v) => v !== 0));
    assert.deepEqual(o2, o1);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('optimized for TFLM: our plan as OfflineMemoryAllocation; TFLM takes the predicted arena, never more than before, with bit-identical outputs', { skip: SKIP || (HAVE_SHARED ? false : 'no shared models'), timeout: 900_000 }, () => {
  let written = 0;
  for (const file of listSharedModels().filter((m) => m.endsWith('.tflite'))) {
    const bytes = new Uint8Array(fs.readFileSync(file));
    const graph = openModelOrThrow(bytes, { fileName: path.basename(file) });
    const r = optimizeForTflm(bytes, graph);
    if (!r.ok) {
      // Only when TFLM's own plan is already as small, or TFLM's arena is not predicted at all.
      assert.match(r.error.message, /already as small|not predicted/, `${file}: ${r.error.message}`);
      continue;
    }
    written++;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcu-mem-opt-'));
    const optimized = path.join(dir, 'optimized.tflite');
    fs.writeFileSync(optimized, r.value.bytes);
    const measured = runTflm(r.value.bytes);
    assert.notEqual(typeof measured, 'string', `${file}: TFLM runs the optimized file`);
    const m = measured as Measured;
    assert.deepEqual({ used: m.used, min: m.min, head: m.head }, { used: r.value.after.arenaUsedBytes, min: r.value.after.minArenaBytes, head: r.value.after.headBytes }, `${file}: optimized, predicted vs TFLM`);
    assert.ok(m.min < r.value.before.minArenaBytes, `${file}: smaller than TFLM's own plan`);
    const t = graph.tensors[graph.inputs[0]!]!;
    const n = t.shape!.reduce((a, b) => a * b, 1);
    const input = t.dtype === 'float32' ? bytesOf(randomFloats(n, 3, -1, 1)) : bytesOf(randomInt8(n, 3));
    assert.deepEqual(tflmOutputs(optimized, graph, input), tflmOutputs(file, graph, input), `${file}: the same outputs with the optimized file`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(written >= 2, `${written} optimized files (mlperf_vww_96_int8 and its float twin at least)`);
});
