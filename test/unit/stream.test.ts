// Line-buffered segments (issue 13): every streamable step range of the fixtures is replayed row by row by a float
// interpreter in the scheduler's order, each tensor in a ring of the rows the scheduler gives (row r in slot r mod
// rows): the segment's outputs equal the whole run exactly, and one row fewer in any ring loses a row still needed.
// The minimax search equals a brute force over every segmentation.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { openModelOrThrow, scheduleContext, type Conventions, type ScheduleContext } from '../../src/core/index';
import { bestStreamPlan, segmentCost, streamableSegments, streamEvents, streamPlan, type SegmentCost } from '../../src/core/schedule/stream';
import { branchyOnnx, chain, MissingPixel, runAllWhole, runStreamed } from './schedule-fixtures';

const fixtures: [string, () => Uint8Array, string, Partial<Conventions>][] = [
  ['chain (ONNX, NCHW)', () => chain('onnx'), 'c.onnx', {}],
  ['chain (TFLite, NHWC)', () => chain('tflite'), 'c.tflite', {}],
  ['branches, Concat, Pad, MaxPool, residual Add (ONNX)', branchyOnnx, 'b.onnx', {}],
  ['the same with Pad fused into the next conv (a fused step\'s tensor recomputed from its input\'s rows)', branchyOnnx, 'b.onnx', { fusePad: true }],
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
      for (const row of all) {
        for (const seg of row) {
          ranges++;
          const { events, ringRows } = streamEvents(ctx, seg);
          const want = runAllWhole(ctx, seg.last);
          const got = runStreamed(ctx, seg, events, ringRows);
          assert.ok(got.size > 0, 'the segment produces a whole tensor');
          for (const [t, r] of got) {
            const w = want.get(t)!;
            assert.deepEqual(Array.from(r.data), Array.from(w.data), `steps ${seg.first}–${seg.last}: '${ctx.graph.tensors[t]!.name}'`);
          }
          // Minimal: a ring one row smaller pushes out a row that is read again.
          for (const [t, rows] of ringRows) {
            if (rows < 2 || (ctx.plan.bufferOf[t] ?? -1) < 0) continue; // a fused step's tensor is recomputed, not held
            const smaller = new Map(ringRows);
            smaller.set(t, rows - 1);
            assert.throws(() => runStreamed(ctx, seg, events, smaller), MissingPixel, `steps ${seg.first}–${seg.last}: '${ctx.graph.tensors[t]!.name}' with ${rows - 1} rows`);
            tight++;
          }
          // The cost counts every stored ring at its rows × bytes per row, and the whole buffers.
          const c = segmentCost(ctx, seg);
          assert.ok(c.ok);
          assert.equal(c.cost.peakBytes, c.cost.wholeBytes + c.cost.ringBytes);
          for (const r of c.cost.rings) {
            assert.equal(r.rows, ringRows.get(r.tensor));
            assert.equal(r.bytes, Math.ceil((ctx.plan.tensorBytes(r.tensor) * r.rows) / r.height));
          }
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

  it('a step that needs the whole feature map ends every range (global pooling)', () => {
    const ctx = contextOf(chain('onnx'), 'c.onnx');
    const n = ctx.plan.steps.length;
    const c = segmentCost(ctx, { first: n - 2, last: n - 1 });
    assert.equal(c.ok, false);
    if (!c.ok) assert.match(c.reason, /needs the whole feature map/);
  });
});
