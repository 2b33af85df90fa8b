// Line-buffered segments (issue 13): every streamable step range of the fixtures is replayed row by row by a float
// interpreter in the scheduler's order, each tensor in a ring of the rows the scheduler gives (row r in slot r mod
// rows): the segment's outputs equal the whole run exactly, and one row fewer in any ring loses a row still needed.
// The minimax search equals a brute force over every segmentation.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { evaluateSchedule, openModelOrThrow, scheduleContext, type Conventions, type ScheduleContext } from '../../src/core/index';
import { bestStreamPlan, channelwiseSegment, chooseStreamPlan, columnVariants, frontOptions, segmentCost, streamableSegments, streamArena, streamEvents, streamFrontier, streamPlan, type SegmentCost } from '../../src/core/schedule/stream';
import { fusibleBlocks, tapsAlong } from '../../src/core/schedule/fusion';
import { deriveAxis } from '../../src/core/schedule/geometry';
import { segmentStage } from '../../src/core/schedule/stream';
import { branchyOnnx, chain, invertedOnnx, MissingPixel, runAllWhole, runStreamed } from './schedule-fixtures';
import { OnnxBuilder } from '../../src/core/testing/onnx-builder';

const fixtures: [string, () => Uint8Array, string, Partial<Conventions>][] = [
  ['chain (ONNX, NCHW)', () => chain('onnx'), 'c.onnx', {}],
  ['chain (TFLite, NHWC)', () => chain('tflite'), 'c.tflite', {}],
  ['branches, Concat, Pad, MaxPool, residual Add (ONNX)', branchyOnnx, 'b.onnx', {}],
  ['the same with Pad fused into the next conv (a fused step\'s tensor recomputed from its input\'s rows)', branchyOnnx, 'b.onnx', { fusePad: true }],
  ['inverted residuals (fused blocks) and a 1×1 head into a global pooling (the channel-wise tail)', invertedOnnx, 'i.onnx', {}],
];

function contextOf(bytes: Uint8Array, name: string, conventions: Partial<Conventions> = {}): ScheduleContext {
  return scheduleContext(openModelOrThrow(bytes, { fileName: name }), conventions);
}

/** Every set of disjoint segments (brute force, small graphs only). */
function allPlans(all: SegmentCost[][], from: number, n: number): SegmentCost[][] {
  if (from >= n) return [[]];
  const out = allPlans(all, from + 1, n);
  for (const s of all[from] ?? []) for (const rest of allPlans(all, s.last + 1, n)) out.push([s, ...rest]);
  return out;
}

describe('line-buffered segments', () => {
  for (const [name, build, file, conventions] of fixtures) {
    it(`every streamable range runs row by row on its rings with the whole run's outputs; one row fewer fails: ${name}`, () => {
      const ctx = contextOf(build(), file, conventions);
      const all = streamableSegments(ctx);
      let ranges = 0;
      let tight = 0;
      // Each range as the search costs it by default (every inverted residual's depthwise output computed per pixel),
      // and with every fused block's expansion recomputed too.
      const variants = all.flat().filter((s) => !s.channelwise).flatMap((s) => {
        const expanded = s.fused.map((f) => ({ step: f.step, expand: (fusibleBlocks(ctx).get(f.step)!.expand ?? -1) >= s.first }));
        return expanded.some((f) => f.expand) && segmentCost(ctx, { ...s, fused: expanded }).ok ? [s, { ...s, fused: expanded }] : [s];
      });
      for (const seg of variants) {
        ranges++;
        const { events, ringRows, fusedAway } = streamEvents(ctx, seg);
        const want = runAllWhole(ctx, seg.last);
        const got = runStreamed(ctx, seg, events, ringRows, fusedAway);
        assert.ok(got.size > 0, 'the segment produces a whole tensor');
        for (const [t, r] of got) {
          const w = want.get(t)!;
          assert.deepEqual(Array.from(r.data), Array.from(w.data), `steps ${seg.first}–${seg.last}: '${ctx.graph.tensors[t]!.name}'`);
        }
        // Minimal: a ring one row smaller pushes out a row that is read again.
        for (const [t, rows] of ringRows) {
          if (rows < 2 || (ctx.plan.bufferOf[t] ?? -1) < 0 || fusedAway.has(t)) continue; // recomputed, not held
          const smaller = new Map(ringRows);
          smaller.set(t, rows - 1);
          assert.throws(() => runStreamed(ctx, seg, events, smaller, fusedAway), MissingPixel, `steps ${seg.first}–${seg.last}: '${ctx.graph.tensors[t]!.name}' with ${rows - 1} rows`);
          tight++;
        }
        // The cost counts every stored ring at its rows × bytes per row, and the whole buffers.
        const c = segmentCost(ctx, seg);
        assert.ok(c.ok);
        assert.equal(c.cost.peakBytes, c.cost.wholeBytes + c.cost.ringBytes);
        for (const r of c.cost.rings) {
          assert.equal(r.rows, ringRows.get(r.tensor));
          assert.equal(r.bytes, Math.ceil((ctx.plan.tensorBytes(r.tensor) * r.rows) / r.height));
          assert.ok(!fusedAway.has(r.tensor), 'a fused block\'s D and E are never stored');
        }
      }
      assert.ok(ranges >= 3, `${ranges} ranges stream`);
      assert.ok(tight > 0, 'some ring was checked for minimality');
    });

    it(`the minimax search is the best of every segmentation, never worse than layer by layer: ${name}`, () => {
      const ctx = contextOf(build(), file, conventions);
      const all = streamableSegments(ctx);
      const best = bestStreamPlan(ctx, all);
      assert.equal(bestStreamPlan(ctx).peakBytes, best.peakBytes, 'the pruned search finds the same peak');
      const plans = allPlans(all, 0, ctx.plan.steps.length);
      const brute = Math.min(...plans.map((p) => streamPlan(ctx, p).peakBytes));
      assert.equal(best.peakBytes, brute);
      assert.ok(best.peakBytes <= ctx.perLayerPeakBytes);
      assert.ok(best.arenaBytes >= best.peakBytes, 'the arena holds at least the peak');
      assert.equal(best.overhead, 0);
    });
  }

  for (const [name, build, file, conventions] of [...fixtures.slice(0, 3), fixtures[4]!]) {
    it(`the front with column bands is the Pareto set of a brute force over every segmentation and band count: ${name}`, () => {
      const ctx = contextOf(build(), file, conventions);
      const all = frontOptions(ctx);
      const front = streamFrontier(ctx);
      // Every plan: each step layer by layer or the start of one option (a segment with a band count).
      const points: [number, number][] = [];
      const walk = (from: number, chosen: SegmentCost[]): void => {
        if (from >= ctx.plan.steps.length) { const p = streamPlan(ctx, chosen); points.push([p.peakBytes, p.extraMacs]); return; }
        walk(from + 1, chosen);
        for (const s of all[from] ?? []) walk(s.last + 1, [...chosen, s]);
      };
      walk(0, []);
      points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      const pareto: [number, number][] = [];
      for (const p of points) if (pareto.length === 0 || p[1] < pareto[pareto.length - 1]![1]) pareto.push(p);
      assert.deepEqual(front.map((p) => [p.peakBytes, p.extraMacs]), pareto);
      assert.equal(front[front.length - 1]!.extraMacs, 0);
      assert.equal(front[front.length - 1]!.peakBytes, bestStreamPlan(ctx).peakBytes);
      // The user's two questions.
      const cheapest = chooseStreamPlan(front, { maxOverhead: null, maxRam: front[0]!.peakBytes });
      assert.deepEqual(cheapest, front[0]);
      assert.equal(chooseStreamPlan(front, { maxOverhead: 0, maxRam: null })!.extraMacs, 0);
    });
  }

  it('a fused block recomputes its expansion once per window position inside the map (counted pixel by pixel), in full rows and in column bands', () => {
    const ctx = contextOf(invertedOnnx(), 'i.onnx');
    const blocks = [...fusibleBlocks(ctx).values()].filter((b) => b.expand !== null);
    assert.equal(blocks.length, 3, 'three inverted residuals with an expansion');
    const n = ctx.plan.steps.length;
    const seg = { first: 0, last: n - 3, fused: blocks.map((b) => ({ step: b.dw, expand: true })) };
    const c = segmentCost(ctx, seg);
    assert.ok(c.ok, c.ok ? '' : c.reason);
    // Brute force: for every output pixel of a depthwise convolution (in columns [c0, c1)), every tap of its window
    // that falls inside E is one pixel of E computed (the padding is not); each costs the expansion's MACs per pixel.
    const count = (b: (typeof blocks)[number], c0: number, c1: number): number => {
      const [kh, kw] = b.rule.kernel;
      const [sh, sw] = b.rule.strides;
      const [pt, pl] = b.rule.before;
      let k = 0;
      for (let oh = 0; oh < b.outDims[0]; oh++) for (let ow = c0; ow < c1; ow++) for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) {
        const ih = oh * sh - pt + ky, iw = ow * sw - pl + kx;
        if (ih >= 0 && ih < b.inDims[0] && iw >= 0 && iw < b.inDims[1]) k++;
      }
      return k;
    };
    const macs = (b: (typeof blocks)[number]): number => ctx.macsOf[ctx.plan.steps[b.expand!]!.main]!;
    const perPixel = (b: (typeof blocks)[number]): number => macs(b) / (b.inDims[0] * b.inDims[1]);
    const full = blocks.reduce((a, b) => a + perPixel(b) * count(b, 0, b.outDims[1]) - macs(b), 0);
    assert.equal(c.ok && c.cost.extraMacs, Math.round(full));
    for (const b of blocks) assert.equal(tapsAlong(b, 1, 0, b.outDims[1]) * tapsAlong(b, 0, 0, b.outDims[0]), count(b, 0, b.outDims[1]));
    // In column bands: each expansion per band's columns of its D, plus the other operators' overlap (the patch
    // geometry's, proven against the patch stage below).
    const stage = segmentStage(ctx, seg)!;
    const expansions = new Set(blocks.map((b) => ctx.plan.steps[b.expand!]!.main));
    let checked = 0;
    for (const v of c.ok ? columnVariants(ctx, c.cost) : []) {
      const bands = deriveAxis(stage, 1, v.columns);
      let want = 0;
      for (const b of blocks) {
        const k = stage.slot.get(b.mid)!;
        want += bands.reduce((a, x) => a + perPixel(b) * count(b, x.clo[k]!, x.chi[k]!), 0) - macs(b);
      }
      for (const step of ctx.plan.steps.slice(seg.first, seg.last + 1)) {
        for (const op of step.ops) {
          if (expansions.has(op) || ctx.macsOf[op] === 0) continue;
          const o = stage.slot.get(ctx.graph.ops[op]!.outputs[0]!)!;
          want += ctx.macsOf[op]! * (bands.reduce((a, x) => a + (x.chi[o]! - x.clo[o]!), 0) / stage.dims[o]![1] - 1);
        }
      }
      assert.equal(v.extraMacs, Math.max(0, Math.round(want)), `${v.columns} columns`);
      checked++;
    }
    assert.ok(checked > 0, 'some column bands pay');
  });

  it('the channel-wise tail holds its input and the pooled output whole, one channel\'s map as scratch, no sums and no rings', () => {
    const ctx = contextOf(invertedOnnx(), 'i.onnx');
    const n = ctx.plan.steps.length;
    const cw = channelwiseSegment(ctx, n - 2);
    assert.ok(cw, 'the 1×1 head and its pooling');
    const head = ctx.plan.steps[n - 2]!;
    const x = head.inputs[0]!;
    const pooled = ctx.plan.steps[n - 1]!.outputs[0]!;
    const y = head.outputs[0]!;
    const map = ctx.plan.tensorBytes(y) / 40;
    assert.equal(cw.peakBytes, ctx.plan.buffers[ctx.plan.bufferOf[x]!]!.bytes + ctx.plan.buffers[ctx.plan.bufferOf[pooled]!]!.bytes + map);
    assert.equal(cw.ringBytes, 0);
    assert.equal(cw.extraMacs, 0);
    assert.equal(channelwiseSegment(ctx, n - 3), null, 'not before an operator that is not a 1×1 convolution into a pooling');
    const rowwise = segmentCost(ctx, { first: n - 2, last: n - 1 });
    assert.ok(rowwise.ok && rowwise.cost.peakBytes > cw.peakBytes, 'the row stream keeps 32-bit sums and a row of the head');
    assert.deepEqual(segmentCost(ctx, { first: n - 2, last: n - 1, channelwise: true }), { ok: true, cost: cw });
    // The arena holds no place for the head's output, only the scratch of one channel.
    const arena = streamArena(ctx, [cw]);
    assert.ok(!arena.owners.some((o) => 'buffer' in o && o.buffer === ctx.plan.bufferOf[y]), 'the head\'s output is not in the arena');
    assert.ok(arena.owners.some((o) => 'scratch' in o));
  });

  it('column bands recompute what the patch stage of the same steps in 1×q tiles recomputes (its proven MACs)', () => {
    for (const [, build, file] of fixtures.slice(0, 2)) {
      const ctx = contextOf(build(), file);
      let checked = 0;
      for (const st of ctx.stages) {
        if (!st.ok || st.stage.split < 1) continue;
        const split = st.stage.split;
        const full = segmentCost(ctx, { first: 0, last: split });
        if (!full.ok) continue;
        for (const v of columnVariants(ctx, full.cost)) {
          const c = evaluateSchedule(ctx, split, 1, v.columns);
          assert.equal(v.extraMacs, c.macs.stageExact - c.macs.stagePerLayer, `${file}: steps 0–${split} in ${v.columns} columns`);
          checked++;
        }
      }
      assert.ok(checked > 0, file);
    }
  });

  it('global pooling accumulates rows at the end of a stream (its input a ring of one row); a step that needs the whole map ends every range', () => {
    for (const [bytes, file] of [[chain('onnx'), 'c.onnx'], [chain('tflite'), 'c.tflite']] as const) {
      const ctx = contextOf(bytes, file);
      const n = ctx.plan.steps.length;
      const c = segmentCost(ctx, { first: n - 2, last: n - 1 });
      assert.ok(c.ok, file);
      const pooled = ctx.plan.steps[n - 1]!.inputs[0]!;
      assert.deepEqual(c.cost.rings.filter((r) => r.tensor === pooled).map((r) => r.rows), [1], `${file}: the pooled tensor is a ring of one row`);
    }
    const g = new OnnxBuilder(13);
    const x = g.input('x', [1, 3, 9, 9]);
    const y = g.op('Relu', [g.conv(x, 3, 4, 3)]);
    g.output(g.op('Flatten', [y], { axis: 1 }), [1, 324]);
    const ctx = contextOf(g.build(), 'f.onnx');
    const c = segmentCost(ctx, { first: 0, last: ctx.plan.steps.length - 1 });
    assert.equal(c.ok, false);
    if (!c.ok) assert.match(c.reason, /Flatten/);
  });
});
