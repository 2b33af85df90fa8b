// Patch-based scheduler on fixtures built here: regions proven by running the stage tile by tile, peaks checked
// against a brute force over every tile, Pareto and best-choice properties, advisor, schedule specs.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  advise, bandBounds, describeSchedule, evaluateSchedule, makeCustomTarget, ModelError, paretoFront, resolveScheduleSpec,
  regionRules, scheduleBands, scheduleContext, scheduledLive, searchSchedules, tileRegions, type Conventions, type Graph,
  type ScheduleContext,
} from '../../src/core/index';
import { bestStreamPlan } from '../../src/core/schedule/stream';
import { OnnxBuilder } from '../../src/core/testing/onnx-builder';
import { exampleModel } from '../../src/core/testing/examples';
import { open } from '../helpers';
import { branchyOnnx, chain, MissingPixel, runTiled, runWhole } from './schedule-fixtures';

const TILINGS: [number, number][] = [[1, 2], [2, 1], [2, 2], [3, 2], [2, 3], [3, 3], [4, 4], [5, 3]];

function validSplits(ctx: ScheduleContext): number[] {
  return ctx.stages.filter((s) => s.ok).map((s) => (s.ok ? s.stage.split : -1));
}

/** Live set of every tile at every stage step, computed directly from the plan's buffers and the tile regions. */
function bruteStagePeak(ctx: ScheduleContext, split: number, p: number, q: number): number {
  const { graph, plan, conventions } = ctx;
  const { stage, rows, cols } = scheduleBands(ctx, split, p, q);
  const O = stage.output;
  const producer = new Map<number, number>();
  plan.steps.forEach((s, i) => s.outputs.forEach((t) => producer.set(t, i)));
  const tileTensor = (t: number): boolean => t !== O && stage.slot.has(t) && ((producer.get(t) ?? Infinity) <= split || (graph.inputs.includes(t) && !conventions.countInput));
  let fixed = ctx.rawBytes(O);
  if (conventions.countInput) for (const t of graph.inputs) fixed += ctx.rawBytes(t);
  let peak = 0;
  for (const r of rows) {
    for (const c of cols) {
      const reg = new Map(tileRegions(stage, r, c).map((x) => [x.tensor, x]));
      const bytes = (t: number): number => {
        const x = reg.get(t);
        if (!x) return 0;
        const [h, w] = stage.dims[stage.slot.get(t)!]!;
        return Math.ceil((ctx.rawBytes(t) / (h * w)) * (x.h[1] - x.h[0]) * (x.w[1] - x.w[0]));
      };
      for (let k = 0; k <= split; k++) {
        let live = fixed;
        for (const b of plan.buffers) {
          if (b.start > k || Math.min(b.end, split) < k) continue;
          live += Math.max(0, ...b.tensors.filter(tileTensor).map(bytes));
        }
        peak = Math.max(peak, live);
      }
    }
  }
  return peak;
}

describe('tile geometry', () => {
  it('cuts an axis into bands that cover it exactly', () => {
    assert.deepEqual(bandBounds(28, 4), [[0, 7], [7, 14], [14, 21], [21, 28]]);
    assert.deepEqual(bandBounds(20, 3).map(([a, b]) => b - a), [6, 7, 7]);
  });

  it('regions are right: the stage run tile by tile equals the whole run, every output element written once (ONNX, branches, dilation, pad, stride 2)', () => {
    const graph = open(branchyOnnx());
    const ctx = scheduleContext(graph);
    const splits = validSplits(ctx);
    assert.ok(splits.length >= 5, `expected several valid splits, got ${splits.join(',')}`);
    let checked = 0;
    for (const s of splits) {
      const out = ctx.stages[s]!.ok ? (ctx.stages[s] as { stage: { output: number } }).stage.output : -1;
      const whole = runWhole(ctx, s, out);
      for (const [p, q] of TILINGS) {
        if (p > whole.hn || q > whole.wn) continue;
        const tiled = runTiled(ctx, s, p, q);
        assert.ok(tiled.writes.every((w) => w === 1), `split ${s} ${p}×${q}: every output element written exactly once`);
        assert.deepEqual([...tiled.output.data], [...whole.data], `split ${s} ${p}×${q}: tiled output equals whole`);
        checked++;
      }
    }
    assert.ok(checked >= 30, `checked ${checked} schedules`);
  });

  it('a region one pixel too small is caught by the interpreter (the check can fail)', () => {
    const graph = open(branchyOnnx());
    const ctx = scheduleContext(graph);
    const s = Math.max(...validSplits(ctx));
    const { stage, rows } = scheduleBands(ctx, s, 2, 2);
    // Shrink the graph input's region in the second row band by one row at its top.
    const k = stage.slot.get(graph.inputs[0]!)!;
    rows[1]!.clo[k] = rows[1]!.clo[k]! + 1;
    assert.throws(() => runTiled(ctx, s, 2, 2), MissingPixel);
    ctx.splitCache.clear();
  });

  it('NHWC (TFLite) and NCHW (ONNX) files of the same network give the same regions, peaks and MACs', () => {
    const a = scheduleContext(open(chain('onnx')), { fuseActivations: true });
    const b = scheduleContext(open(chain('tflite')), { fuseActivations: true });
    assert.deepEqual(validSplits(a), validSplits(b));
    for (const s of validSplits(a)) {
      for (const [p, q] of TILINGS) {
        const ca = evaluateSchedule(a, s, p, q);
        const cb = evaluateSchedule(b, s, p, q);
        const ra = describeSchedule(a, ca);
        const rb = describeSchedule(b, cb);
        assert.deepEqual(ra.tileInput, rb.tileInput, `split ${s} ${p}×${q}`);
        assert.deepEqual(ra.tileOutput, rb.tileOutput);
        assert.equal(ca.macs.stageExact, cb.macs.stageExact);
        assert.equal(ca.macs.stageUniform, cb.macs.stageUniform);
        assert.equal(ca.stagePeakBytes, cb.stagePeakBytes);
        assert.equal(ca.peakBytes, cb.peakBytes);
      }
    }
  });

  it('the TFLite chain also runs tile by tile exactly (NHWC, dilation, stride 2, depthwise 5×5)', () => {
    const ctx = scheduleContext(open(chain('tflite')));
    for (const s of validSplits(ctx)) {
      const out = (ctx.stages[s] as { stage: { output: number } }).stage.output;
      const whole = runWhole(ctx, s, out);
      for (const [p, q] of [[2, 2], [3, 4]] as const) {
        if (p > whole.hn || q > whole.wn) continue;
        const tiled = runTiled(ctx, s, p, q);
        assert.deepEqual([...tiled.output.data], [...whole.data], `split ${s} ${p}×${q}`);
      }
    }
  });

  it('says why a split is impossible: an open skip connection, an operator needing the whole map', () => {
    const ctx = scheduleContext(open(branchyOnnx()));
    const reasons = ctx.stages.filter((s) => !s.ok).map((s) => (s.ok ? '' : s.reason));
    assert.ok(reasons.some((r) => /cross the split/.test(r)), reasons.join('\n'));
    assert.ok(reasons.some((r) => /GlobalAveragePool .* needs the whole feature map/.test(r)), reasons.join('\n'));
  });

  it('BatchNormalization runs pixel by pixel inside a stage; InstanceNormalization does not (whole-map statistics)', () => {
    const model = (norm: string): Graph => {
      const b = new OnnxBuilder(13);
      const x = b.input('x', [1, 3, 16, 16]);
      const c1 = b.conv(x, 3, 4, 3);
      const c = (name: string): string => b.init(`${name}_${norm}`, [4], 'float32', [1, 2, 3, 4]);
      const n = norm === 'BatchNormalization' ? b.op(norm, [c1, c('g'), c('b'), c('m'), c('v')]) : b.op(norm, [c1, c('g'), c('b')]);
      const c2 = b.conv(n, 4, 4, 3);
      b.node('GlobalAveragePool', [c2], {}, ['y']);
      b.output('y', [1, 4, 1, 1]);
      return open(b.build());
    };
    const bn = model('BatchNormalization');
    assert.ok(!('reason' in regionRules(bn, bn.ops[1]!)), 'BatchNormalization has a region rule');
    const inorm = model('InstanceNormalization');
    const rule = regionRules(inorm, inorm.ops[1]!);
    assert.ok('reason' in rule && /InstanceNormalization .* statistics of the whole feature map/.test(rule.reason), JSON.stringify(rule));
    // No stage may hold it: every split after it is refused or starts after it.
    const ctx = scheduleContext(inorm);
    for (const st of ctx.stages) if (st.ok) assert.ok(st.stage.split < 1, `split ${st.stage.split} holds the InstanceNormalization`);
  });

  it('a batch of several maps is never tiled or streamed (the regions are one map\'s; the export runs a batch map by map)', () => {
    const b = new OnnxBuilder(13);
    const c = b.op('Relu', [b.conv(b.input('x', [2, 3, 32, 32]), 3, 8, 3, { pad: 1 })]);
    b.node('GlobalAveragePool', [b.conv(c, 8, 8, 3, { pad: 1, stride: 2 })], {}, ['y']);
    b.output('y', [2, 8, 1, 1]);
    const g = open(b.build());
    const rule = regionRules(g, g.ops[0]!);
    assert.ok('reason' in rule && /'x' holds a batch of 2 maps; tiles and rows cover one map/.test(rule.reason), JSON.stringify(rule));
    const ctx = scheduleContext(g, { countInput: false });
    assert.equal(ctx.stages.filter((st) => st.ok).length, 0);
    assert.equal(searchSchedules(ctx, { maxOverhead: null }).best, null);
    assert.equal(bestStreamPlan(ctx).segments.length, 0);
  });

  it('an elementwise-shaped operator that computes along an axis (CumSum) does not run on a tile; Sign does', () => {
    const model = (op: string): Graph => {
      const b = new OnnxBuilder(14);
      const c1 = b.conv(b.input('x', [1, 3, 16, 16]), 3, 4, 3);
      const e = op === 'CumSum' ? b.op(op, [c1, b.init('axis', [], 'int64', [3])]) : b.op(op, [c1]);
      b.node('GlobalAveragePool', [b.conv(e, 4, 4, 3)], {}, ['y']);
      b.output('y', [1, 4, 1, 1]);
      return open(b.build());
    };
    const cs = model('CumSum');
    const rule = regionRules(cs, cs.ops[1]!);
    assert.ok('reason' in rule && /computes along the tensor's axes \(cumsum\)/.test(rule.reason), JSON.stringify(rule));
    const sg = model('Sign');
    assert.ok(!('reason' in regionRules(sg, sg.ops[1]!)), 'Sign runs pixel by pixel');
  });
});

describe('schedule cost', () => {
  const cases: [string, () => Uint8Array, Partial<Conventions>][] = [
    ['branchy ONNX, defaults', branchyOnnx, {}],
    ['branchy ONNX, int8, no input, in-place depthwise, fused add', branchyOnnx, { asInt8: true, countInput: false, inplaceDepthwise: true, fuseAdd: true }],
    ['example ONNX, no input', () => exampleModel('onnx'), { countInput: false }],
    ['example TFLite, in-place depthwise, fused pad', () => exampleModel('tflite'), { inplaceDepthwise: true, fusePad: true }],
  ];
  for (const [name, bytes, conv] of cases) {
    it(`stage peak equals a brute force over every tile and step: ${name}`, () => {
      const ctx = scheduleContext(open(bytes()), conv);
      let n = 0;
      for (const s of validSplits(ctx)) {
        for (const [p, q] of TILINGS) {
          const c = evaluateSchedule(ctx, s, p, q);
          assert.equal(c.stagePeakBytes, bruteStagePeak(ctx, s, p, q), `split ${s} ${p}×${q}`);
          assert.ok(c.stagePeakExact);
          // The per-step live set for charts agrees with the peaks.
          const live = scheduledLive(ctx, c);
          assert.equal(Math.max(...live), c.peakBytes);
          assert.equal(Math.max(...live.slice(0, s + 1)), c.stagePeakBytes);
          if (c.restPeakStep >= 0) assert.equal(live[c.restPeakStep], c.restPeakBytes);
          n++;
        }
      }
      assert.ok(n > 10);
    });
  }

  it('1×1 tiling costs nothing extra and counts the whole stage once', () => {
    const ctx = scheduleContext(open(exampleModel('onnx')));
    for (const s of validSplits(ctx)) {
      const c = evaluateSchedule(ctx, s, 1, 1);
      assert.equal(c.macs.stageExact, c.macs.stagePerLayer);
      assert.equal(c.macs.stageUniform, c.macs.stagePerLayer);
    }
  });

  it('exact borders never compute more than uniform tiles; more tiles never compute less', () => {
    const ctx = scheduleContext(open(exampleModel('onnx')));
    for (const s of validSplits(ctx)) {
      let prev = 0;
      for (const p of [1, 2, 3, 4]) {
        const c = evaluateSchedule(ctx, s, p, p);
        assert.ok(c.macs.stageExact <= c.macs.stageUniform + 1);
        assert.ok(c.macs.stageExact + 1 >= prev, `split ${s}: ${p}×${p}`);
        prev = c.macs.stageExact;
      }
    }
  });
});

describe('schedule search', () => {
  const graph = open(exampleModel('onnx'));
  const ctx = scheduleContext(graph, { countInput: false });

  it('returns a Pareto set: no member dominated, none above the per-layer peak', () => {
    const r = searchSchedules(ctx, { maxOverhead: null });
    assert.ok(r.pareto.length > 1);
    for (const a of r.pareto) {
      assert.ok(a.peakBytes < ctx.perLayerPeakBytes);
      for (const b of r.pareto) {
        if (a === b) continue;
        assert.ok(!(b.peakBytes <= a.peakBytes && b.overhead.modelExact < a.overhead.modelExact - 1e-12), 'dominated member');
      }
    }
    assert.equal(r.best, r.pareto[0]);
    assert.equal(r.best!.peakBytes, Math.min(...r.pareto.map((c) => c.peakBytes)));
  });

  it('the front of a brute-force list of every schedule is the same front', () => {
    const all = [];
    for (const s of validSplits(ctx)) for (let p = 1; p <= 8; p++) for (let q = 1; q <= 8; q++) if (p * q > 1) all.push(evaluateSchedule(ctx, s, p, q));
    const brute = paretoFront(all.filter((c) => c.peakBytes < ctx.perLayerPeakBytes)).map((c) => [c.split, c.p, c.q, c.peakBytes]);
    const r = searchSchedules(ctx, { maxOverhead: null });
    const found = r.pareto.slice().sort((a, b) => a.peakBytes - b.peakBytes).map((c) => [c.split, c.p, c.q, c.peakBytes]);
    assert.deepEqual(found, brute);
  });

  it('with a target: least overhead among the schedules that fit; respects the overhead limit', () => {
    const all = searchSchedules(ctx, { maxOverhead: null });
    const peaks = all.pareto.map((c) => c.peakBytes).sort((a, b) => a - b);
    const budget = peaks[Math.floor(peaks.length / 2)]! + 64;
    const target = makeCustomTarget({ name: 'mid', sramBytes: budget, flashBytes: 1 << 30, reserveBytes: 0 });
    const r = searchSchedules(ctx, { target, maxOverhead: null, perLayerArenaBytes: ctx.perLayerPeakBytes });
    assert.equal(r.fits, true);
    assert.ok(r.best && r.bestArenaBytes <= budget);
    const fitting = all.pareto.filter((c) => c.peakBytes <= budget);
    assert.equal(r.best.overhead.modelExact, Math.min(...fitting.map((c) => c.overhead.modelExact)));

    const limit = all.pareto.map((c) => c.overhead.modelExact).sort((a, b) => a - b)[1]!;
    const limited = searchSchedules(ctx, { maxOverhead: limit });
    assert.ok(limited.best && limited.best.overhead.modelExact <= limit + 1e-12);
  });

  it('a model that already fits runs layer by layer; one that cannot fit says so', () => {
    const big = makeCustomTarget({ name: 'big', sramBytes: 1 << 30, flashBytes: 1 << 30 });
    const r = searchSchedules(ctx, { target: big, perLayerArenaBytes: ctx.perLayerPeakBytes });
    assert.equal(r.best, null);
    assert.equal(r.fits, true);
    const tiny = makeCustomTarget({ name: 'tiny', sramBytes: 1024, flashBytes: 1 << 30 });
    const t = searchSchedules(ctx, { target: tiny, perLayerArenaBytes: ctx.perLayerPeakBytes });
    assert.equal(t.fits, false);
    assert.match(t.why, /nothing fits tiny/);
  });
});

describe('redistribution advisor', () => {
  it('shares on a chain add up to the overlap; a smaller kernel shrinks the tile; moving an operator is computed', () => {
    const ctx = scheduleContext(open(chain('onnx')));
    // The stage up to the last 13×11 map (stride product 4), cut 4×4: no tile reaches past the image, so the identity
    // interior input = stride product × tile + Σ growth holds exactly.
    const s = validSplits(ctx).filter((x) => {
      const st = ctx.stages[x]!;
      return st.ok && st.stage.dims[st.stage.slot.get(st.stage.output)!]![0] === 13;
    }).pop()!;
    const cost = evaluateSchedule(ctx, s, 4, 4);
    const a = advise(ctx, cost);
    const total = a.shares.reduce((acc, x) => acc + x.growth[0], 0);
    assert.equal(total, a.overlap[0]);
    // 3×3/2: 1; depthwise 3×3 at stride 2: 4; depthwise 5×5/2 at stride 2: 6; 3×3 dilated 2 at stride 4: 16.
    assert.deepEqual(a.shares.map((x) => x.growth[0]), [1, 4, 0, 6, 0, 16]);
    assert.equal(a.overlap[0], 27);
    assert.ok(Math.abs(a.shares.reduce((acc, x) => acc + x.share, 0) - 1) < 1e-9);
    const base = describeSchedule(ctx, cost).tileInput.interior;
    const smaller = a.whatIfs.filter((w) => w.change.startsWith('kernel'));
    assert.ok(smaller.length > 0);
    for (const w of smaller) assert.ok(w.interiorInput[0] < base[0], `${w.name}: ${w.interiorInput} < ${base}`);
    const moved = a.whatIfs.filter((w) => w.change.startsWith('moved'));
    assert.ok(moved.length > 0, 'the stride-1 depthwise and dilated conv can move after the split');
    for (const w of moved) assert.ok(w.interiorInput[0] < base[0] && w.overheadStage < cost.overhead.stageExact);
    // The original graph is untouched by the what-ifs.
    assert.deepEqual(evaluateSchedule(ctx, s, 4, 4), cost);
  });
});

describe('schedule specs', () => {
  const ctx = scheduleContext(open(exampleModel('onnx')));
  const s = validSplits(ctx)[2]!;
  it('accepts a step number, #step, an operator name or the stage-output name', () => {
    assert.deepEqual(resolveScheduleSpec(ctx, `${s}:2x3`), { split: s, p: 2, q: 3 });
    assert.deepEqual(resolveScheduleSpec(ctx, `#${s}:4×4`), { split: s, p: 4, q: 4 });
    const step = ctx.plan.steps[s]!;
    assert.equal(resolveScheduleSpec(ctx, `${ctx.graph.ops[step.main]!.name}:2x2`).split, s);
    assert.equal(resolveScheduleSpec(ctx, `${ctx.graph.tensors[step.outputs[0]!]!.name}:2x2`).split, s);
  });
  it('rejects bad specs with a message naming the problem', () => {
    const bad = ctx.stages.find((x) => !x.ok)!;
    const cases: [string, RegExp][] = [
      ['4x4', /expected <split>:<p>x<q>/],
      ['nosuchop:2x2', /no operator or tensor named 'nosuchop'/],
      ['9999:2x2', /execution steps/],
      [`${bad.ok ? 0 : bad.split}:2x2`, /cannot split after step/],
      [`${s}:500x2`, /tiles must be between/],
    ];
    for (const [spec, re] of cases) {
      assert.throws(() => resolveScheduleSpec(ctx, spec), (e: unknown) => e instanceof ModelError && e.code === 'bad-schedule' && re.test(e.message), spec);
    }
  });
});
