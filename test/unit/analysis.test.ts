import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeGraph, buildExecPlan, checkPlan, DEFAULT_CONVENTIONS, greedyBySize, lowerBound, openModelOrThrow, planArena, type PlanItem } from '../../src/core/index';
import { TfliteBuilder } from '../../src/core/testing/tflite-builder';
import { OnnxBuilder } from '../../src/core/testing/onnx-builder';
import { exampleModel } from '../../src/core/testing/examples';
import { analyze, open } from '../helpers';

test('the same network from two converters gives the same figures (ONNX float --as-int8 = TFLite int8)', () => {
  const onnx = analyze(exampleModel('onnx'), { asInt8: true });
  const tfl = analyze(exampleModel('tflite'));
  assert.equal(onnx.peakBytes, tfl.peakBytes);
  assert.equal(onnx.ops.length, tfl.ops.length);
  assert.deepEqual(onnx.ops.map((r) => r.liveBytes), tfl.ops.map((r) => r.liveBytes));
  assert.deepEqual(onnx.ops.map((r) => r.macs), tfl.ops.map((r) => r.macs));
  assert.equal(onnx.macs, tfl.macs);
});

test('live sets by hand on the example (int8): peak at the first stride-2 depthwise', () => {
  const a = analyze(exampleModel('tflite'));
  // block 2: expand 48×48×8 → 48×48×48, depthwise s2 → 24×24×48
  const dw = a.ops[4]!;
  assert.equal(dw.kind, 'DepthwiseConv2D');
  assert.equal(dw.liveBytes, 48 * 48 * 48 + 24 * 24 * 48);
  assert.equal(a.peakBytes, 48 * 48 * 48 + 24 * 24 * 48);
  assert.equal(a.peakStep, 4);
  // the residual Add keeps the skip alive at the projection conv: expand out + proj out + skip
  const proj = a.ops[8]!;
  assert.equal(proj.liveBytes, 24 * 24 * 96 + 24 * 24 * 16 + 24 * 24 * 16);
  assert.equal(a.ops[0]!.liveBytes, 96 * 96 * 3 + 48 * 48 * 16, 'input counted');
  const noInput = analyze(exampleModel('tflite'), { countInput: false });
  assert.equal(noInput.ops[0]!.liveBytes, 48 * 48 * 16);
});

test('conventions: in-place depthwise, fused residual Add, no activation fusion', () => {
  const dw = analyze(exampleModel('tflite'), { inplaceDepthwise: true });
  assert.equal(dw.ops[4]!.liveBytes, 48 * 48 * 48, 'the s2 depthwise writes into its input');
  const add = analyze(exampleModel('tflite'), { fuseAdd: true });
  const fused = add.ops.find((r) => r.op === 'CONV_2D+ADD')!;
  assert.ok(fused, add.ops.map((r) => r.op).join(' '));
  assert.equal(fused.liveBytes, 24 * 24 * 96 + 24 * 24 * 16, 'the sum is written in place into the skip buffer');
  assert.equal(add.ops.length, analyze(exampleModel('tflite')).ops.length - 1);
  const sep = analyze(exampleModel('onnx'), { asInt8: true, fuseActivations: false });
  const clip = sep.ops.find((r) => r.op === 'Clip')!;
  assert.equal(clip.liveBytes, 2 * 48 * 48 * 16, 'Clip in + out (the conv consumed the input)');
  assert.equal(sep.ops.length, analyze(exampleModel('onnx')).ops.length + 9, 'nine Clips run separately');
});

test('SiLU and PyTorch HardSwish two-op patterns fuse into their producer', () => {
  for (const gate of ['Sigmoid', 'HardSigmoid']) {
    const b = new OnnxBuilder(13);
    const x = b.input('x', [1, 4, 8, 8]);
    const c = b.op('Conv', [x, b.init('w', [8, 4, 1, 1])], { kernel_shape: [1, 1] });
    const y = b.op('Mul', [c, b.op(gate, [c])]);
    b.output(y);
    const a = analyzeGraph(open(b.build()));
    assert.deepEqual(a.ops.map((r) => r.op), [`Conv+${gate}+Mul`]);
    assert.equal(a.peakBytes, (4 + 8) * 64 * 4, 'float32 input and output only: the gate lives inside the kernel');
  }
});

test('--reorder finds a lower peak for a branched graph and reports it separately', () => {
  // Branch A: x → a (16 ch, held until the Concat). Branch B: x → b1 (64 ch) → b2 (8 ch). Stored order runs A
  // first, so a is alive during B's peak; running B first holds only b2 (8 ch) during A.
  const b = new OnnxBuilder(13);
  const x = b.input('x', [1, 8, 16, 16]);
  const a = b.op('Conv', [x, b.init('wa', [16, 8, 1, 1])], { kernel_shape: [1, 1] });
  const b1 = b.op('Relu', [b.op('Conv', [x, b.init('wb1', [64, 8, 1, 1])], { kernel_shape: [1, 1] })]);
  const b2 = b.op('Conv', [b1, b.init('wb2', [8, 64, 1, 1])], { kernel_shape: [1, 1] });
  b.output(b.op('Concat', [a, b2], { axis: 1 }));
  const r = analyzeGraph(open(b.build()), { reorder: true, asInt8: true });
  assert.equal(r.peakBytes, 256 * (8 + 16 + 64), 'stored order: x, a and b1 alive at the first B conv');
  assert.ok(r.reorder);
  assert.equal(r.reorder.improved, true);
  assert.equal(r.reorder.complete, true);
  assert.equal(r.reorder.peakBytes, 256 * (8 + 64 + 8), 'B first: x, b1 and b2 at the second B conv');
  assert.deepEqual(r.reorder.order, [1, 2, 0, 3]);
  assert.ok(r.reorder.arenaBytes >= r.reorder.peakBytes && r.reorder.arenaBytes < r.arenaBytes);
  const chain = analyzeGraph(open(exampleModel('onnx')), { reorder: true });
  assert.equal(chain.reorder?.improved, false, 'no better order for a chain with residuals');
});

function randomItems(seed: number, n: number): PlanItem[] {
  let s = seed;
  const r = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  return Array.from({ length: n }, () => {
    const start = Math.floor(r() * 40);
    return { size: 16 * (1 + Math.floor(r() * 64)), start, end: start + Math.floor(r() * 8) };
  });
}

test('arena planner: valid, never larger than TFLM greedy, never below the lower bound (random instances)', () => {
  let better = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const items = randomItems(seed, 5 + (seed % 40));
    const ours = planArena(items);
    const greedy = greedyBySize(items);
    const lb = lowerBound(items);
    assert.equal(checkPlan(items, ours.offsets, ours.size), null, `seed ${seed}`);
    assert.equal(checkPlan(items, greedy.offsets, greedy.size), null, `seed ${seed} greedy`);
    assert.ok(ours.size <= greedy.size, `seed ${seed}: ${ours.size} > greedy ${greedy.size}`);
    assert.ok(ours.size >= lb, `seed ${seed}`);
    if (ours.size < greedy.size) better++;
  }
  assert.ok(better > 0, 'the search beats greedy on some instances');
});

/** TFLM's first fit, one buffer at a time over every placed buffer (greedy_memory_planner.cc), as the reference. */
function referenceGreedy(items: readonly PlanItem[], requests: readonly number[]): number[] {
  const order = requests.slice().reverse().sort((a, b) => items[b]!.size - items[a]!.size);
  const offsets = new Array<number>(items.length).fill(0);
  const placed: number[] = [];
  for (const i of order) {
    const it = items[i]!;
    if (it.size === 0) continue;
    const live = placed.filter((j) => items[j]!.start <= it.end && it.start <= items[j]!.end).sort((a, b) => offsets[a]! - offsets[b]!);
    let candidate = 0;
    let chosen = -1;
    for (const j of live) {
      if (offsets[j]! - candidate >= it.size) { chosen = candidate; break; }
      candidate = Math.max(candidate, offsets[j]! + items[j]!.size);
    }
    offsets[i] = chosen < 0 ? candidate : chosen;
    placed.push(i);
  }
  return offsets;
}

test('TFLM greedy-by-size: the same offsets as the one-by-one walk, with hundreds of buffers alive at once', () => {
  // Wide instances: many long-lived buffers (the offset-ordered blocks and their skips) mixed with short ones.
  let s = 7;
  const r = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (let round = 0; round < 12; round++) {
    const n = 300 + Math.floor(r() * 900);
    const items: PlanItem[] = Array.from({ length: n }, () => {
      const start = Math.floor(r() * 200);
      const long = r() < 0.7;
      const sizes = [16, 32, 48, 64, 1024];
      return { size: sizes[Math.floor(r() * sizes.length)]!, start, end: start + (long ? 64 + Math.floor(r() * 300) : Math.floor(r() * 6)) };
    });
    const requests = items.map((_, i) => i).sort(() => r() - 0.5);
    const ours = greedyBySize(items, requests);
    assert.deepEqual(ours.offsets, referenceGreedy(items, requests), `round ${round}`);
    assert.equal(checkPlan(items, ours.offsets, ours.size), null);
  }
  // A hole inside a run of live buffers: M (not alive with Z) pushes the N stack up to 100,000 while the S stack ends
  // at |S|·size, so the last buffer Z fits in the hole between them, inside an offset-ordered block or at its start.
  // S placed after N (smaller) or before it (larger), so the hole also falls at the start of a block.
  for (let count = 100; count <= 400; count += 3) for (const sSize of [64, 128]) {
    const M = { size: 100_000, start: 500, end: 500 };
    const N = Array.from({ length: 300 }, () => ({ size: 96, start: 0, end: 500 }));
    const S = Array.from({ length: count }, () => ({ size: sSize, start: 0, end: 100 }));
    const Z = { size: 16, start: 0, end: 100 };
    const items: PlanItem[] = [M, ...N, ...S, Z];
    const requests = items.map((_, i) => i);
    const ours = greedyBySize(items, requests);
    assert.equal(ours.offsets[items.length - 1], sSize * count);
    assert.deepEqual(ours.offsets, referenceGreedy(items, requests));
  }
});

test('TFLM greedy-by-size: a known instance where largest-first wastes space', () => {
  // A (96 B, steps 0-1), B (64 B, steps 1-2), C (64 B, steps 2-3), D (32 B, step 0), E (96 B, step 3).
  // Largest first, equal sizes in reverse request order (TFLM): E@0, A@0, C@96 (beside E), B must avoid A and C → 160;
  // D@96. Optimal: C@0, E@64 → 160 B.
  const items: PlanItem[] = [
    { size: 96, start: 0, end: 1 }, { size: 64, start: 1, end: 2 }, { size: 64, start: 2, end: 3 }, { size: 32, start: 0, end: 0 }, { size: 96, start: 3, end: 3 },
  ];
  const g = greedyBySize(items);
  assert.deepEqual(g.offsets, [0, 160, 96, 96, 0]);
  assert.equal(g.size, 224);
  assert.equal(lowerBound(items), 160);
  assert.equal(planArena(items).size, 160);
});

test('blocks: residual blocks and resolution stages', () => {
  const a = analyze(exampleModel('tflite'));
  const residual = a.blocks.filter((b) => b.kind === 'residual');
  assert.equal(residual.length, 1);
  assert.equal(a.ops[residual[0]!.lastStep]!.op, 'ADD');
  assert.equal(a.ops[residual[0]!.firstStep]!.kind, 'Conv2D');
  // blocks cover every step once, in order
  let next = 0;
  for (const b of a.blocks) {
    assert.equal(b.firstStep, next);
    next = b.lastStep + 1;
  }
  assert.equal(next, a.ops.length);
});

test('--fuse-pad folds constant padding only: a MIRROR_PAD before a convolution stays a step of its own', () => {
  const steps = (mode: 'PAD' | 'MIRROR_PAD'): number => {
    const b = new TfliteBuilder();
    const x = b.tensor('x', [1, 8, 8, 3], 'int8', undefined, { quant: { scale: [0.05], zeroPoint: [0], axis: 0 } });
    const p = b.tensor('p', [1, 10, 10, 3], 'int8', undefined, { quant: { scale: [0.05], zeroPoint: [0], axis: 0 } });
    const y = b.tensor('y', [1, 8, 8, 4], 'int8', undefined, { quant: { scale: [0.1], zeroPoint: [0], axis: 0 } });
    b.op(mode, [x, b.constant('pads', [4, 2], 'int32', [0, 0, 1, 1, 1, 1, 0, 0])], [p], mode === 'MIRROR_PAD' ? [[0, 'int8', 0]] : []);
    b.conv(p, y, 3, 4, 3, 1, 1);
    b.inputs = [x];
    b.outputs = [y];
    return buildExecPlan(openModelOrThrow(b.build(), { fileName: 'm.tflite' }), { ...DEFAULT_CONVENTIONS, fusePad: true }).steps.length;
  };
  assert.equal(steps('PAD'), 1);
  assert.equal(steps('MIRROR_PAD'), 2);
});
