// Corpus tests over ../shared/models (real models written by others). Skipped cleanly when the folder is absent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzeGraph, checkPlan, openModel, alignUp, ARENA_ALIGNMENT } from '../../src/core/index';
import { listSharedModels, openFile, sharedModel, SKIP_SHARED } from '../helpers';

/** Expected result per model (data-driven, as Netron's regression list): opens, or fails with a named reason. */
const EXPECTED: Record<string, { unsupported?: RegExp; error?: RegExp }> = {
  'person_detect_vela.tflite': { unsupported: /Ethos-U NPU command stream/ },
};

test('corpus: every model analyses, or fails or flags operators with a named reason; arena plans are valid', { skip: SKIP_SHARED }, () => {
  const files = listSharedModels();
  assert.ok(files.length >= 10, `found ${files.length} models`);
  for (const file of files) {
    const base = path.basename(file);
    const r = openModel(fs.readFileSync(file), { fileName: file });
    const exp = EXPECTED[base];
    if (!r.ok) {
      assert.ok(exp?.error?.test(r.error.message), `${base}: unexpected error ${r.error.code}: ${r.error.message}`);
      continue;
    }
    for (const conventions of [{}, { asInt8: true, inplaceDepthwise: true, fusePad: true, fuseAdd: true }, { fuseActivations: false, countInput: false }]) {
      const a = analyzeGraph(r.value, conventions);
      assert.ok(a.ops.length > 0, base);
      assert.ok(a.peakBytes > 0, base);
      if (exp?.unsupported) assert.ok(a.unsupported.some((u) => exp.unsupported!.test(u.reason)), `${base}: ${JSON.stringify(a.unsupported)}`);
      else assert.deepEqual(a.unsupported, [], base);
      // the arena plan: no two buffers alive together overlap, never larger than TFLM greedy, never below the bound
      const items = a.buffers.map((b) => ({ size: alignUp(b.bytes, ARENA_ALIGNMENT), start: b.firstOp, end: b.lastOp }));
      assert.equal(checkPlan(items, a.buffers.map((b) => b.offset), a.arenaBytes), null, base);
      assert.ok(a.arenaBytes <= a.greedyArenaBytes, `${base}: ours ${a.arenaBytes} > greedy ${a.greedyArenaBytes}`);
      assert.ok(a.arenaBytes >= a.lowerBoundBytes, base);
      assert.ok(a.peakBytes <= a.lowerBoundBytes, base);
      // the peak row's live set is the peak
      assert.equal(a.ops[a.peakStep]!.liveBytes, a.peakBytes, base);
    }
  }
});

test('corpus: for every TFLite model our shape inference agrees with the shapes stored in the file', { skip: SKIP_SHARED }, () => {
  for (const file of listSharedModels().filter((f) => f.endsWith('.tflite'))) {
    const g = openFile(file);
    const mismatches = g.notes.filter((n) => /inference gives|stored shapes are used/.test(n.message));
    assert.deepEqual(mismatches, [], path.basename(file));
    // reported shapes are the stored ones, and every activation has one
    for (const t of g.tensors) if (t.role !== 'constant' && g.ops.some((o) => o.outputs.includes(t.id))) assert.ok(t.shape, `${path.basename(file)}: ${t.name}`);
  }
});

test('anchor: person_detect.tflite has 31 operators, input 1×96×96×1 int8, output 1×2 int8', { skip: SKIP_SHARED }, () => {
  const g = openFile(sharedModel('tflite/person_detect.tflite'));
  assert.equal(g.ops.length, 31);
  const i = g.tensors[g.inputs[0]!]!;
  const o = g.tensors[g.outputs[0]!]!;
  assert.deepEqual([i.shape, i.dtype, o.shape, o.dtype], [[1, 96, 96, 1], 'int8', [1, 2], 'int8']);
});

test('anchor: ONNX MobileNetV2-224 --as-int8 peaks at 1,505,280 B (first expansion depthwise), 1,404,928 B in place, 2,408,448 B unfused', { skip: SKIP_SHARED }, () => {
  const g = openFile(sharedModel('onnx/mobilenet_v2_224.onnx'));
  const a = analyzeGraph(g, { asInt8: true });
  assert.equal(a.peakBytes, 1_505_280);
  const peak = a.ops[a.peakStep]!;
  assert.equal(peak.kind, 'DepthwiseConv2D');
  assert.deepEqual(peak.inputShapes[0], [1, 96, 112, 112]);
  assert.deepEqual(peak.outputShapes[0], [1, 96, 56, 56]);
  assert.equal((a.macs / 1e6).toFixed(1), '300.8', 'torchvision MobileNetV2: 300.8M MACs (ANCHORS.md)');

  const ip = analyzeGraph(g, { asInt8: true, inplaceDepthwise: true });
  assert.equal(ip.peakBytes, 1_404_928, 'the paper\'s 1372 KiB');
  const ipPeak = ip.ops[ip.peakStep]!;
  assert.equal(ipPeak.kind, 'Conv2D');
  assert.deepEqual([ipPeak.inputShapes[0], ipPeak.outputShapes[0]], [[1, 16, 112, 112], [1, 96, 112, 112]], 'the 1×1 expansion 112×112×16 → ×96');

  const nf = analyzeGraph(g, { asInt8: true, fuseActivations: false });
  assert.equal(nf.peakBytes, 2_408_448, 'ReLU6 as a separate Clip keeps two 112×112×96 tensors');
  assert.equal(nf.ops[nf.peakStep]!.op, 'Clip');
});

test('anchor: TFLite MobileNetV2 int8 with --fuse-pad gives the same 1,505,280 B / 1,404,928 B', { skip: SKIP_SHARED }, () => {
  const g = openFile(sharedModel('tflite/mobilenet_v2_int8_224.tflite'));
  const input = g.tensors[g.inputs[0]!]!;
  assert.equal(input.layout, 'NCHW', 'NCHW input followed by TRANSPOSE is labelled NCHW');
  const a = analyzeGraph(g, { fusePad: true });
  assert.equal(a.peakBytes, 1_505_280);
  assert.equal(a.ops[a.peakStep]!.kind, 'DepthwiseConv2D');
  assert.equal(analyzeGraph(g, { fusePad: true, inplaceDepthwise: true }).peakBytes, 1_404_928);
  assert.ok(analyzeGraph(g).peakBytes > 1_505_280, 'explicit PADs kept by default cost more');
});

test('Vela model: reported as not analysable layer by layer, offline plan read', { skip: SKIP_SHARED }, () => {
  const g = openFile(sharedModel('tflite/person_detect_vela.tflite'));
  const a = analyzeGraph(g);
  assert.match(a.unsupported[0]!.reason, /cannot be analysed layer by layer/);
  assert.ok(a.offlinePlan && a.offlinePlan.tensors > 0);
});

test('corpus: greedyArenaBytes is TFLM\'s GreedyMemoryPlanner head, as TFLM at 90b983c2 measured it (requests in tensor order, later request first among equal sizes)', { skip: SKIP_SHARED }, () => {
  // Figures measured with TFLM itself (host build, reference kernels), quoted in the verdict issue.
  for (const [model, tflm] of [['tflite/mlperf_vww_96_int8.tflite', 73_728], ['tflite/mlperf_vww_96_float.tflite', 294_912]] as const) {
    const a = analyzeGraph(openFile(sharedModel(model)));
    assert.equal(a.greedyArenaBytes, tflm, model);
    assert.equal(a.arenaBytes, model.includes('int8') ? 55_296 : 221_184, `${model}: our plan`);
  }
});
