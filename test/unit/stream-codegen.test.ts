// The C export of line-buffered plans (issue 13, item 4 in part): full-row segments streamed through ring buffers
// (row h in slot h mod rows). The output is bit-identical to the per-layer export's, the arena is the plan's, and the
// Cortex-M4 build links and runs under QEMU with the line-buffered arena.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bestStreamPlan, codegenOptionsFor, fitChoices, generateC, hoverText, makeCustomTarget, openModelOrThrow, parseDeployment, runPipeline, RUNTIME_RESERVE_BYTES, scheduleContext, type Graph } from '../../src/core/index';
import { memoryViewData } from '../../src/shared/view-model';
import { columnVariants, streamableSegments, streamFrontier } from '../../src/core/schedule/stream';
import { TfliteBuilder } from '../../src/core/testing/tflite-builder';
import { exampleModel } from '../../src/core/testing/examples';
import { bytesOf, generate, HAVE_ARM, HAVE_CC, make, parseValues, randomFloats, randomInt8, runHost, tempDir } from '../codegen-helpers';
import { branchyOnnx, chain, invertedOnnx, splitChannelsOnnx } from './schedule-fixtures';

const SKIP_CC = HAVE_CC ? false : 'no C compiler (cc) and make on this machine';

function inputOf(graph: Graph, seed: number): Uint8Array {
  const t = graph.tensors[graph.inputs[0]!]!;
  const n = t.shape!.reduce((a, b) => a * b, 1);
  return t.dtype === 'float32' ? bytesOf(randomFloats(n, seed)) : bytesOf(randomInt8(n, seed));
}

test('line-buffered C export: the same output as the per-layer export, bit for bit, at the plan\'s arena', { skip: SKIP_CC, timeout: 600_000 }, () => {
  const root = tempDir('lines');
  try {
    const models: [string, Uint8Array][] = [
      ['chain.onnx', chain('onnx')], ['chain.tflite', chain('tflite')], ['branchy.onnx', branchyOnnx()], ['example.tflite', exampleModel('tflite')],
    ];
    for (const [name, bytes] of models) {
      const graph = openModelOrThrow(bytes, { fileName: name });
      const plan = bestStreamPlan(scheduleContext(graph));
      assert.ok(plan.segments.length > 0, `${name}: something streams`);
      const input = inputOf(graph, 5);
      const a = path.join(root, `${name}-layers`);
      const b = path.join(root, `${name}-lines`);
      const layers = generate(graph, {}, a);
      const lines = generate(graph, { lineBuffered: true }, b);
      assert.equal(lines.arenaBytes, plan.arenaBytes, `${name}: MODEL_ARENA_BYTES is the plan's arena`);
      assert.ok(lines.arenaBytes < layers.arenaBytes, `${name}: ${lines.arenaBytes} B line-buffered, ${layers.arenaBytes} B per layer`);
      assert.match(fs.readFileSync(path.join(b, 'src', 'model.c'), 'utf8'), /line-buffered/);
      for (const d of [a, b]) { const m = make(d, 'host'); assert.equal(m.status, 0, m.out); }
      assert.deepEqual(runHost(b, input), runHost(a, input), `${name}: outputs`);
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('line-buffered C export in column bands and with global pooling or a spatial mean or max accumulating rows: every point of the fixtures\' fronts gives the per-layer output bit for bit at its arena', { skip: SKIP_CC, timeout: 900_000 }, () => {
  const root = tempDir('lines-cols');
  try {
    const models: [string, Uint8Array][] = [
      ['chain.onnx', chain('onnx')], ['chain.tflite', chain('tflite')], ['branchy.onnx', branchyOnnx()], ['example.onnx', exampleModel('onnx')],
      ['chain-max.onnx', chain('onnx', 'max')], ['chain-max.tflite', chain('tflite', 'max')], ['split.onnx', splitChannelsOnnx()],
      ['inverted.onnx', invertedOnnx()], ['example.tflite', exampleModel('tflite')],
    ];
    const fused = { dw: 0, expand: 0, int8: 0, channelwise: 0 };
    let banded = 0;
    let pooled = 0;
    let meaned = 0;
    let maxed = 0;
    let split = 0;
    for (const [name, bytes] of models) {
      const graph = openModelOrThrow(bytes, { fileName: name });
      const input = inputOf(graph, 7);
      const a = path.join(root, `${name}-layers`);
      generate(graph, {}, a);
      assert.equal(make(a, 'host').status, 0);
      const want = runHost(a, input);
      const front = streamFrontier(scheduleContext(graph));
      front.forEach((p, i) => {
        const d = path.join(root, `${name}-${i}`);
        const out = generate(graph, { lineBuffered: p.segments }, d);
        assert.equal(out.arenaBytes, p.arenaBytes, `${name} point ${i}: the plan's arena`);
        const m = make(d, 'host');
        assert.equal(m.status, 0, m.out);
        assert.deepEqual(runHost(d, input), want, `${name} point ${i} (${p.segments.map((x) => `${x.first}-${x.last}/${x.columns}`).join(' ')})`);
        if (p.segments.some((x) => x.columns > 1)) banded++;
        const c = out.files.find((f) => f.path === 'src/model.c')!.text;
        if (c.includes('mm_gpool_row')) pooled++;
        if (c.includes('mm_mean_row')) meaned++;
        if (c.includes('mm_rmax_row')) maxed++;
        if (name === 'split.onnx' && p.segments.some((x) => x.first <= 1 && x.last >= 1)) split++;
        if (/mm_irb_\w+_t Q\d+ = \{NULL/.test(c)) fused.dw++;
        if (/mm_irb_\w+_t Q\d+ = \{&/.test(c)) fused.expand++;
        if (c.includes('mm_irb_s8(')) fused.int8++;
        if (c.includes('mm_cwpool_')) fused.channelwise++;
      });
    }
    assert.ok(banded >= 4, `${banded} plans with column bands exported`);
    assert.ok(pooled >= 4, `${pooled} plans with a global pooling accumulating rows exported`);
    assert.ok(meaned >= 2, `${meaned} plans with a mean over H and W (TFLite MEAN) accumulating rows exported`);
    assert.ok(split >= 3, `${split} plans stream through a channel Split`);
    assert.ok(maxed >= 4, `${maxed} plans with a max over H and W (ONNX ReduceMax, TFLite REDUCE_MAX) accumulating rows exported`);
    assert.ok(fused.dw >= 4 && fused.expand >= 4 && fused.int8 >= 4 && fused.channelwise >= 2, `fused blocks exported: ${JSON.stringify(fused)}`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

/** An int8 chain ending in a MEAN over H and W (a TFLite classifier's pooling), wide enough for column bands. */
function int8MeanChain(): Uint8Array {
  const b = new TfliteBuilder();
  const q = (scale: number, zp: number): { quant: { scale: number[]; zeroPoint: number[]; axis: number } } => ({ quant: { scale: [scale], zeroPoint: [zp], axis: 0 } });
  const x = b.tensor('x', [1, 20, 24, 3], 'int8', undefined, q(0.05, 3));
  const a = b.tensor('a', [1, 20, 24, 8], 'int8', undefined, q(0.04, -5));
  const d = b.tensor('d', [1, 10, 12, 8], 'int8', undefined, q(0.03, -9));
  const c = b.tensor('c', [1, 10, 12, 16], 'int8', undefined, q(0.06, 2));
  const y = b.tensor('y', [1, 1, 1, 16], 'int8', undefined, q(0.02, -1));
  b.conv(x, a, 3, 8, 3, 1, 0, 1);
  b.depthwise(a, d, 8, 3, 2, 0, 1);
  b.conv(d, c, 8, 16, 1, 1, 0, 1);
  b.op('MEAN', [c, b.constant('axes', [2], 'int32', [1, 2])], [y], [[0, 'bool', 1]]);
  b.inputs = [x];
  b.outputs = [y];
  return b.build();
}

test('line-buffered C export: column bands ahead of an accumulating pooling (int8 MEAN; float max) give the per-layer output bit for bit at the plan\'s arena', { skip: SKIP_CC, timeout: 600_000 }, () => {
  const root = tempDir('lines-banded-pool');
  try {
    let exported = 0;
    for (const [name, bytes] of [['int8-mean.tflite', int8MeanChain()], ['chain-max.tflite', chain('tflite', 'max')], ['chain-max.onnx', chain('onnx', 'max')]] as const) {
      const graph = openModelOrThrow(bytes, { fileName: name });
      const input = inputOf(graph, 9);
      const a = path.join(root, `${name}-layers`);
      generate(graph, {}, a);
      assert.equal(make(a, 'host').status, 0);
      const want = runHost(a, input);
      const ctx = scheduleContext(graph);
      const last = ctx.plan.steps.length - 1;
      // Segments ending in the pooling, cut into 2 and into the most column bands.
      const variants = streamableSegments(ctx).flat().filter((x) => x.last === last && x.first < last).flatMap((full) => {
        const v = columnVariants(ctx, full);
        return v.length > 0 ? [v[0]!, v[v.length - 1]!] : [];
      });
      assert.ok(variants.length >= 2, `${name}: banded segments ending in the pooling`);
      for (const v of variants.slice(0, 6)) {
        const d = path.join(root, `${name}-${v.first}-${v.columns}`);
        const out = generate(graph, { lineBuffered: [v] }, d);
        assert.match(out.files.find((f) => f.path === 'src/model.c')!.text, /mm_(?:gpool|mean|rmax)_row_\w+\([^;]*&& j == \d+/);
        const m = make(d, 'host');
        assert.equal(m.status, 0, m.out);
        assert.deepEqual(runHost(d, input), want, `${name}: steps ${v.first}-${v.last} in ${v.columns} column bands`);
        exported++;
      }
    }
    assert.ok(exported >= 6);
    // A float average keeps full rows: the order of its sum would change.
    const f = scheduleContext(openModelOrThrow(chain('onnx'), { fileName: 'chain.onnx' }));
    const fl = f.plan.steps.length - 1;
    assert.deepEqual(streamableSegments(f).flat().filter((x) => x.last === fl && x.first < fl).flatMap((x) => columnVariants(f, x)), []);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('line-buffered C export on Cortex-M4 (QEMU): links with RAM = the plan (arena + reserve) and runs with the host\'s output; 2 KiB less does not link', { skip: HAVE_ARM && HAVE_CC ? false : 'arm-none-eabi-gcc, qemu-system-arm or cc missing', timeout: 600_000 }, () => {
  const root = tempDir('lines-m4');
  try {
    const graph = openModelOrThrow(exampleModel('tflite'), { fileName: 'example.tflite' });
    const input = inputOf(graph, 9);
    // The full-row plan (blocks fused per pixel), and the front's least peak (expansions recomputed, column bands).
    const least = streamFrontier(scheduleContext(graph))[0]!;
    assert.ok(least.segments.some((s) => s.fused.some((f) => f.expand)), 'the least peak recomputes an expansion');
    for (const [plan, lineBuffered] of [['full rows', true], ['least peak', least.segments]] as const) {
      const probe = generate(graph, { lineBuffered }, path.join(root, `probe-${plan}`));
      const need = probe.footprint.ramBytes + RUNTIME_RESERVE_BYTES;
      const build = (name: string, sram: number): { dir: string; status: number; out: string } => {
        const dir = path.join(root, `${name}-${plan}`);
        generate(graph, { lineBuffered, target: makeCustomTarget({ name, sramBytes: sram, flashBytes: 4 << 20 }) }, dir);
        const m = make(dir, 'cortex-m4');
        return { dir, ...m };
      };
      const ok = build('exact', need);
      assert.equal(ok.status, 0, ok.out);
      assert.equal(make(ok.dir, 'host').status, 0);
      const want = runHost(ok.dir, input);
      fs.writeFileSync(path.join(ok.dir, 'input.bin'), input);
      const q = make(ok.dir, 'run-qemu', ['INPUT=input.bin']);
      assert.equal(q.status, 0, q.out);
      assert.deepEqual(parseValues(q.out), want);
      const short = build('short', need - 2048);
      assert.notEqual(short.status, 0, `${plan}: a build 2 KiB short of the plan links`);
      assert.match(short.out, /overflowed|does not fit the target's SRAM/);
      assert.equal(probe.arenaBytes, (lineBuffered === true ? bestStreamPlan(scheduleContext(graph)) : least).arenaBytes, `${plan}: the arena is the plan's`);
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('schedule "lines": the report judges the line-buffered plan by its export, offers it as a fix and in Make It Fit, and the view shows it', () => {
  const bytes = exampleModel('tflite');
  const base = (deployment: object) => {
    const r = runPipeline({ bytes, fileName: 'example.tflite', base: [], deploymentText: JSON.stringify(deployment) });
    assert.ok(r.ok);
    return r.value.report;
  };
  const parsed = parseDeployment('{"schedule": "lines"}');
  assert.deepEqual(parsed.problems, []);
  assert.equal(parsed.deployment.schedule, 'lines');
  // A target the per-layer arena does not fit, but a line-buffered plan does.
  const layers = base({ target: { name: 'big', sram: '4M', flash: '4M' } });
  const front = streamFrontier(scheduleContext(openModelOrThrow(bytes, { fileName: 'example.tflite' })));
  const small = front[front.length - 1]!;
  const sram = small.arenaBytes + layers.fit!.target.reserveBytes + 64;
  const tight = { target: { name: 'tight', sram, flash: '4M' } };
  const off = base(tight);
  assert.equal(off.fit!.status, 'does-not-fit');
  assert.ok(off.lineBufferedFix, 'a line-buffered plan is offered');
  const err = off.findings.find((f) => f.code === 'sram')!;
  // The fix names its point of the front by its RAM ({lines: {maxRam}}): applying it gives exactly the plan its title shows.
  const fix = off.lineBufferedFix!;
  const named = { lines: { maxRam: fix.peakBytes } };
  assert.ok(err.fixes!.some((f) => JSON.stringify(f.schedule) === JSON.stringify(named) && /line-buffered/.test(f.title) && f.title.includes(`+${(fix.overhead * 100).toFixed(1)}% MACs`)), 'as a quick fix');
  assert.ok(fitChoices(off).some((c) => 'schedule' in c.action && JSON.stringify(c.action.schedule) === JSON.stringify(named) && c.fits), 'and in Make It Fit');
  const applied = base({ ...tight, schedule: named });
  assert.equal(applied.lineBuffered!.peakBytes, fix.peakBytes);
  assert.equal(applied.lineBuffered!.extraMacs, fix.extraMacs);
  assert.equal(applied.lineBuffered!.arenaBytes, fix.arenaBytes);
  assert.equal(applied.fit!.status, 'fits');
  assert.match(applied.scheduleWhy, new RegExp(`line-buffered, the fewest extra MACs within ${fix.peakBytes.toLocaleString('en-US')} B`));
  // Of the front, the fix is the point with the fewest extra MACs whose arena fits.
  const budget = sram - layers.fit!.target.reserveBytes - (off.fit!.sramNeeded - off.fit!.target.reserveBytes - off.analysis.arenaBytes);
  const fitting = front.filter((p) => p.arenaBytes <= budget && p.segments.length > 0);
  assert.equal(fix.extraMacs, Math.min(...fitting.map((p) => p.extraMacs)));
  const on = base({ ...tight, schedule: 'lines' });
  const lines = on.lineBuffered!;
  assert.ok(lines, 'in force');
  assert.equal(on.fit!.status, 'fits');
  assert.equal(on.firmware!.arenaBytes, lines.arenaBytes, 'the verdict counts the export of that plan');
  assert.equal(on.fit!.sramNeeded, on.firmware!.ramBytes + on.fit!.target.reserveBytes);
  assert.ok(on.arenaLayout.some((r) => r.kind === 'ring'), 'the arena view has its rings');
  assert.equal(Math.max(...on.scheduledLive!), lines.peakBytes);
  assert.match(on.scheduleWhy, /line-buffered/);
  // The listing's hover gives each streamed step its ring.
  const first = lines.segments[0]!;
  assert.match(hoverText(on, first.first)!, /Line-buffered \(steps #\d+–#\d+.*\): its output is (a ring of \d+ rows × \d+ columns, [\d,]+ B|held whole)/);
  assert.ok(on.lineBufferedSteps!.some((x) => x?.ring), 'some step writes a ring');
  // A fused block's depthwise step: its output is never stored.
  const dw = on.lineBufferedSteps!.findIndex((x) => x?.inside?.how === 'pixel');
  assert.ok(dw >= 0, 'a depthwise step runs inside its projection');
  assert.match(hoverText(on, dw)!, /its output is never stored: computed pixel by pixel inside step #\d+/);
  assert.equal(on.findings.some((f) => f.code === 'sram'), false);
  const view = memoryViewData(on, { enabled: true, reason: '' });
  assert.equal(view.lineBuffered!.inForce, true);
  assert.ok(view.lineBuffered!.segments.some((x) => /blocks? fused per pixel/.test(x)), `the view names the fused blocks: ${view.lineBuffered!.segments.join(', ')}`);
  assert.equal(view.scheduledPeakBytes, lines.peakBytes);
  // Generate C Code exports what the report judged.
  const c = generateC(openModelOrThrow(bytes, { fileName: 'example.tflite' }), codegenOptionsFor(on));
  assert.ok(c.ok);
  assert.equal(c.value.arenaBytes, lines.arenaBytes);
});
