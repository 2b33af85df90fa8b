// Lying files (issue 12, items 3 and 8): stored shapes that contradict the operators, constants of the wrong size,
// huge strides and pads, NaN, zero or short quantization scales. C export must refuse each one by name, or generate
// code that stays inside its arena: every export the generator lets through is built with AddressSanitizer and
// UndefinedBehaviorSanitizer and run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeGeneratedFiles } from '../../src/node/write-files';
import { generateC, openModel, type CoreError } from '../../src/core/index';
import { OnnxBuilder } from '../../src/core/testing/onnx-builder';
import { channelScales, TfliteBuilder } from '../../src/core/testing/tflite-builder';
import { HAVE_CC, make, tempDir } from '../codegen-helpers';

const SKIP_CC = HAVE_CC ? false : 'no C compiler (cc) and make on this machine';

/** Knobs of the two fixture networks; each one can be set to a lie. */
interface Knobs {
  stride: number;
  pad: number;
  dilation: number;
  biasLen: number;
  /** Stored shape of the conv output (null: the true one, not stored for ONNX). */
  convOut: number[] | null;
  /** Stored shape of the activation output. */
  actOut: number[] | null;
  /** Stored shape of the concat (ONNX) or pool (TFLite) output, the graph output. */
  out: number[] | null;
  /** Weight scales (TFLite): per channel. */
  wScales: number[];
  /** Activation scale of the conv output (TFLite). */
  yScale: number;
  yZeroPoint: number;
}

const TRUE: Knobs = { stride: 1, pad: 1, dilation: 1, biasLen: 4, convOut: null, actOut: null, out: null, wScales: [0.004, 0.005, 0.006, 0.007], yScale: 0.05, yZeroPoint: -3 };

/** Float ONNX: x[1,3,8,8] → Conv(4) → Relu → Concat(relu, conv) → y. */
function onnxNet(k: Knobs): Uint8Array {
  const b = new OnnxBuilder(13);
  const x = b.input('x', [1, 3, 8, 8]);
  const w = b.init('w', [4, 3, 3, 3]);
  const bias = b.init('bias', [k.biasLen]);
  b.node('Conv', [x, w, bias], { kernel_shape: [3, 3], strides: [k.stride, k.stride], pads: [k.pad, k.pad, k.pad, k.pad], dilations: [k.dilation, k.dilation] }, ['conv']);
  if (k.convOut) b.shape('conv', k.convOut);
  b.node('Relu', ['conv'], {}, ['relu']);
  if (k.actOut) b.shape('relu', k.actOut);
  b.node('Concat', ['relu', 'conv'], { axis: 1 }, ['y']);
  b.output('y', k.out ?? undefined);
  return b.build();
}

/** int8 TFLite: x[1,8,8,3] → CONV_2D(4) → RELU6 → MAX_POOL 2×2 → y. */
function tfliteNet(k: Knobs): Uint8Array {
  const b = new TfliteBuilder();
  const q = (scale: number, zp: number): { scale: number[]; zeroPoint: number[]; axis: number } => ({ scale: [scale], zeroPoint: [zp], axis: 0 });
  const x = b.tensor('x', [1, 8, 8, 3], 'int8', undefined, { quant: q(0.02, 1) });
  // padding SAME (0) when k.pad > 0, else VALID (1)
  const o = k.pad > 0 ? Math.ceil(8 / k.stride) : Math.floor((8 - ((3 - 1) * k.dilation + 1)) / k.stride) + 1;
  const conv = b.tensor('conv', k.convOut ?? [1, o, o, 4], 'int8', undefined, { quant: q(k.yScale, k.yZeroPoint) });
  const w = b.constant('w', [4, 3, 3, 3], 'int8', undefined, { ...channelScales(4, 0), scale: k.wScales, zeroPoint: k.wScales.map(() => 0) });
  const bias = b.constant('bias', [k.biasLen], 'int32');
  b.op('CONV_2D', [x, w, bias], [conv], [[0, 'int8', k.pad > 0 ? 0 : 1], [1, 'int32', k.stride], [2, 'int32', k.stride], [3, 'int8', 0], [4, 'int32', k.dilation], [5, 'int32', k.dilation]]);
  const act = b.tensor('act', k.actOut ?? [1, o, o, 4], 'int8', undefined, { quant: q(k.yScale, k.yZeroPoint) });
  b.op('RELU6', [conv], [act]);
  const p = Math.floor(o / 2);
  const y = b.tensor('y', k.out ?? [1, p, p, 4], 'int8', undefined, { quant: q(k.yScale, k.yZeroPoint) });
  b.op('MAX_POOL_2D', [act], [y], [[0, 'int8', 1], [1, 'int32', 2], [2, 'int32', 2], [3, 'int32', 2], [4, 'int32', 2], [5, 'int8', 0]]);
  b.inputs = [x];
  b.outputs = [y];
  return b.build();
}

type Outcome = { refused: CoreError; at: 'open' | 'codegen' } | { files: { path: string; text: string }[] };

function exportOf(bytes: Uint8Array, file: string): Outcome {
  const g = openModel(bytes, { fileName: file });
  if (!g.ok) return { refused: g.error, at: 'open' };
  const c = generateC(g.value);
  if (!c.ok) return { refused: c.error, at: 'codegen' };
  return { files: c.value.files };
}

function refusedWith(o: Outcome, re: RegExp, what: string): void {
  assert.ok('refused' in o, `${what}: exported, expected a refusal matching ${re}`);
  assert.notEqual(o.refused.code, 'internal', `${what}: ${o.refused.message}`);
  assert.match(o.refused.message, re, what);
}

/** Builds with ASan + UBSan (every finding fatal) and runs on a deterministic input. */
function runSanitized(files: { path: string; text: string }[], inputBytes: number, what: string): void {
  const dir = tempDir('asan');
  try {
    writeGeneratedFiles(dir, files);
    const m = make(dir, 'host', ['CC=cc -fsanitize=address,undefined -fno-sanitize-recover=all -g']);
    assert.equal(m.status, 0, `${what}: build failed\n${m.out}`);
    const input = path.join(dir, 'in.bin');
    fs.writeFileSync(input, Uint8Array.from({ length: inputBytes }, (_, i) => (i * 37) & 0xff));
    const r = spawnSync(path.join(dir, 'model_test'), [input], { encoding: 'utf8', env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=0' } });
    assert.equal(r.status, 0, `${what}: sanitizer or run failure\n${r.stderr.slice(0, 2000)}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('lying shapes: each lie from the hostile-file report is refused by name', () => {
  const onnx = (k: Partial<Knobs>): Outcome => exportOf(onnxNet({ ...TRUE, ...k }), 'm.onnx');
  const tfl = (k: Partial<Knobs>): Outcome => exportOf(tfliteNet({ ...TRUE, ...k }), 'm.tflite');
  assert.ok('files' in onnx({}) && 'files' in tfl({}), 'the true fixtures export');
  // A Concat whose stored output is smaller than its inputs (the 16 KB write past the arena).
  refusedWith(onnx({ out: [1, 4, 8, 8] }), /Concat 'Concat_2'.*stores shape \[1, 4, 8, 8\] for 'y', inference gives \[1, 8, 8, 8\]/, 'short concat');
  // A Relu output stored bigger than its input; a wrong value_info on the conv.
  refusedWith(onnx({ actOut: [1, 4, 16, 16] }), /Relu 'Relu_1'.*'relu'/, 'big relu');
  refusedWith(onnx({ convOut: [1, 4, 7, 8] }), /Conv 'Conv_0'.*'conv'/, 'wrong value_info');
  refusedWith(tfl({ actOut: [1, 8, 8, 8] }), /RELU6.*'act'/, 'tflite big relu');
  // A -1 in a stored shape (dynamic dimension) that the file resolves to 1.
  refusedWith(tfl({ convOut: [1, -1, 8, 4] }), /'conv'.*-1/, 'tflite -1 dimension');
  // A bias of one value for four channels.
  refusedWith(onnx({ biasLen: 1 }), /bias 'bias' holds 1 values where 4 are needed/, 'onnx short bias');
  refusedWith(tfl({ biasLen: 1 }), /bias 'bias' holds 1 values where 4 are needed/, 'tflite short bias');
  // A stride and padding whose index arithmetic overflows 32 bits.
  refusedWith(onnx({ stride: 2 ** 30, pad: 2 ** 30 }), /32-bit/, 'huge stride');
  // NaN, zero and short scales; a zero point outside int8.
  refusedWith(tfl({ wScales: [0.004, NaN, 0.006, 0.007] }), /'w' has quantization scale NaN/, 'NaN weight scale');
  refusedWith(tfl({ wScales: [0.004, 0.005] }), /carry 2 scales for 4 output channels/, 'short scales');
  refusedWith(tfl({ yScale: 0 }), /has quantization scale 0;/, 'zero scale');
  refusedWith(tfl({ yZeroPoint: 300 }), /zero point 300/, 'zero point out of range');
});

test('lying shapes: 300 random lies are refused by name or exported code runs clean under ASan and UBSan', { skip: SKIP_CC }, () => {
  let s = 12345;
  const r = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const dims = [0, 1, 2, 3, 4, 7, 8, 9, 16, 2 ** 20, 2 ** 31 - 1];
  const lieShape = (base: number[]): number[] => base.map((d) => (r() < 0.3 ? pick(dims) : d));
  let refused = 0;
  const exported: { files: { path: string; text: string }[]; input: number; what: string }[] = [];
  for (let i = 0; i < 300; i++) {
    const k: Knobs = { ...TRUE, wScales: TRUE.wScales.slice() };
    const n = 1 + Math.floor(r() * 3);
    for (let j = 0; j < n; j++) {
      switch (Math.floor(r() * 9)) {
        case 0: k.stride = pick([1, 2, 3, 7, 2 ** 16, 2 ** 30, 2 ** 31 - 1]); break;
        case 1: k.pad = pick([0, 1, 2, 5, 2 ** 16, 2 ** 30]); break;
        case 2: k.dilation = pick([1, 2, 4, 2 ** 16, 2 ** 30]); break;
        case 3: k.biasLen = pick([0, 1, 3, 5, 8]); break;
        case 4: k.convOut = lieShape([1, 8, 8, 4]); break;
        case 5: k.actOut = lieShape([1, 8, 8, 4]); break;
        case 6: k.out = lieShape([1, 8, 8, 8]); break;
        case 7: k.wScales = r() < 0.5 ? k.wScales.slice(0, Math.floor(r() * 4)) : k.wScales.map((v) => (r() < 0.3 ? pick([NaN, 0, -1, Infinity, 1e-45]) : v)); break;
        default: k.yScale = pick([0, NaN, -0.5, Infinity, 1e-30, 1e30]); k.yZeroPoint = pick([-3, -129, 128, 1000]); break;
      }
    }
    for (const [fmt, bytes] of [['onnx', () => onnxNet(k)], ['tflite', () => tfliteNet(k)]] as const) {
      let file: Uint8Array;
      try {
        file = bytes();
      } catch {
        continue; // the builder itself refuses (a negative vector length): not a file
      }
      const what = `case ${i} ${fmt} ${JSON.stringify(k)}`;
      const o = exportOf(file, `m.${fmt}`);
      if ('refused' in o) {
        refused++;
        assert.notEqual(o.refused.code, 'internal', `${what}: ${o.refused.message}`);
        assert.match(o.refused.message, /'[^']*'|#\d|\d/, `${what}: the refusal names nothing: ${o.refused.message}`);
      } else if (exported.length < 12 && JSON.stringify(k) !== JSON.stringify(TRUE)) {
        exported.push({ files: o.files, input: fmt === 'onnx' ? 3 * 64 * 4 : 3 * 64, what });
      }
    }
  }
  assert.ok(refused > 100, `only ${refused} refusals`);
  assert.ok(exported.length > 0, 'no lie was harmless enough to export: the sanitizer run would test nothing');
  for (const e of exported) runSanitized(e.files, e.input, e.what);
});

test('hostile inputs: NaN, infinities and huge floats through QuantizeLinear stay defined behaviour (UBSan float-cast-overflow)', { skip: SKIP_CC }, () => {
  const b = new OnnxBuilder(13);
  const x = b.input('x', [1, 8]);
  const q = b.op('QuantizeLinear', [x, b.init('s', [], 'float32', [0.05]), b.init('z', [], 'int8', [3])]);
  b.node('DequantizeLinear', [q, b.init('s2', [], 'float32', [0.05]), b.init('z2', [], 'int8', [3])], {}, ['y']);
  b.output('y', [1, 8]);
  const o = exportOf(b.build(), 'q.onnx');
  assert.ok('files' in o, 'refused' in o ? o.refused.message : '');
  const dir = tempDir('fco');
  try {
    writeGeneratedFiles(dir, o.files);
    const m = make(dir, 'host', ['CC=cc -fsanitize=undefined,float-cast-overflow -fno-sanitize-recover=all']);
    assert.equal(m.status, 0, m.out);
    const input = new Float32Array([NaN, Infinity, -Infinity, 3e38, -3e38, 1e10, 0.1, -0.2]);
    fs.writeFileSync(path.join(dir, 'in.bin'), new Uint8Array(input.buffer));
    const r = spawnSync(path.join(dir, 'model_test'), [path.join(dir, 'in.bin')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const values = r.stdout.trim().split('\n').map(Number);
    // saturated to the int8 range around the zero point 3, scale 0.05; NaN to the zero point
    const want = [0, 6.2, -6.55, 6.2, -6.55, 6.2, 0.1, -0.2];
    assert.equal(values.length, want.length);
    values.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-5, `value ${i}: ${v}, want ${want[i]}`));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
