// Line-buffered execution (issue 13): runs of consecutive execution steps executed as one fused *stream* of rows, top
// to bottom, without recomputation. Inside a segment every tensor that nothing outside it reads is held as a ring of
// rows: just the rows its consumers still need (for a k×k window of stride s and dilation d about (k−1)·d + s rows);
// the segment's inputs, its outputs and whatever is alive across it stay whole. MACs are the per-layer MACs (+0%).
//
// The rows are produced on demand: the segment's sinks (ops whose outputs leave the segment) are advanced one row at a
// time, the one that is least advanced first; a row pulls the rows of its inputs it needs (window ops by kernel,
// stride, dilation and padding; Pad shifts; elementwise ops the same row; a 1×1 broadcast input all of it), and a row
// is freed once no consumer's next row needs it. The ring of a tensor is the most rows it holds at once in that order:
// what a C implementation allocates, row r stored at slot r mod rows. `streamEvents` gives the order, so a test can
// replay it on ring buffers of exactly these sizes (and one row fewer, which must fail).
//
// A segment may also cut its rows into column bands (each band streamed in turn, rings as wide as the widest band's
// region, the overlap along the width recomputed), and a global pooling at its end accumulates rows into 32-bit sums.
//
// Searches: bestStreamPlan, the least peak with full rows (a minimax path over the steps: each step is either run
// layer by layer, with the per-layer live set, or inside a segment, whose peak is its whole buffers plus its rings);
// streamFrontier, the Pareto set of peak against extra MACs over every segmentation and band count; chooseStreamPlan,
// the point a MACs or RAM budget asks for. The C export (codegen/program.ts) runs every one of these plans.
import { ARENA_ALIGNMENT } from '../analysis/conventions';
import { alignUp, planArena, type ArenaPlan, type PlanItem } from '../analysis/planner';
import type { ScheduleContext } from './cost';
import { bandLen, deriveAxis, regionRules, spatialDims, type RegionRule, type Stage } from './geometry';
import { spatialAxes, type Graph, type Op } from '../graph';
import { fusibleBlocks, is1x1, plainConv, recomputedMacs, scratchBytes, type FusedBlock } from './fusion';

export type { FusedBlock } from './fusion';

/** One fused, row-streamed run of execution steps [first, last]. */
export interface StreamSegment {
  first: number;
  last: number;
  /** Inverted residuals run fused per output pixel (fusion.ts), by depthwise step; none when absent. */
  fused?: readonly FusedBlock[];
  /** Two steps, a 1×1 convolution and the global pooling of its output, run channel by channel (channelwiseSegment). */
  channelwise?: boolean;
}

/** A tensor held as a ring of rows inside a segment. */
export interface StreamRing {
  tensor: number;
  rows: number;
  /** Columns of the ring: the tensor's width, or the widest column band's region of it. */
  width: number;
  /** Rows × bytes per row (channels × width × element size, as the conventions count them). */
  bytes: number;
  /** Rows of the whole tensor. */
  height: number;
}

export interface SegmentCost {
  first: number;
  last: number;
  /** Whole buffers alive during the segment (its inputs, outputs and everything alive across it) plus the rings. */
  peakBytes: number;
  /** The whole buffers, and the 32-bit sums of an accumulating pooling. */
  wholeBytes: number;
  ringBytes: number;
  rings: StreamRing[];
  /** Plan buffers held whole during the segment. */
  wholeBuffers: number[];
  /** Kernel calls: one per row of every executed step in the segment (and column band). */
  calls: number;
  /** Column bands the rows are cut into (1: full width). Each band is streamed top to bottom in turn, its overlap
   *  with the next recomputed; the rings are sized for the widest band. */
  columns: number;
  /** MACs computed again: the column bands' overlap, and what fused blocks recompute (their expansions, per window). */
  extraMacs: number;
  /** The fused blocks, and the scratch the largest of them needs while it runs (counted in the whole bytes). */
  fused: FusedBlock[];
  /** Tensors the fused blocks compute on demand (D, E, P): never stored. */
  unstored: number[];
  scratchBytes: number;
  channelwise?: boolean;
}

export type SegmentOrReason = { ok: true; cost: SegmentCost } | { ok: false; reason: string };

/** One file operator of a segment with its H-axis rules. */
interface StreamOp {
  op: number;
  /** The step it belongs to, and whether it is the step's executed (main) operator. */
  step: number;
  main: boolean;
  outputs: number[];
  height: number;
  inputs: { tensor: number; rule: RegionRule }[];
  /** A global pooling (or a mean/max over H and W) at the end of a stream: it reads its input one row at a time into
   *  an accumulator and writes its one output row after the last. */
  accumulate?: boolean;
}

/** Rows [lo, hi) of an input that output row r reads under a rule (H axis), clamped to [0, size). */
export function rowsNeeded(rule: RegionRule, r: number, size: number): [number, number] {
  switch (rule.kind) {
    case 'window': {
      const s = rule.strides[0], d = rule.dilations[0], k = rule.kernel[0], before = rule.before[0];
      return [Math.max(0, r * s - before), Math.min(size, r * s - before + (k - 1) * d + 1)];
    }
    case 'shift': {
      const y = r - rule.before[0];
      // A row of the padding reads nothing: an empty range where the input begins (above) or ends (below).
      return y < 0 ? [0, 0] : y >= size ? [size, size] : [y, y + 1];
    }
    case 'same':
      return [r, r + 1];
    case 'full':
      return [0, size];
  }
}

/** Per context: each step's file operators as stream operators (or why the step cannot stream), tensor heights and
 *  the file operators reading each tensor. Built once: the search costs thousands of ranges. */
interface StreamFacts {
  steps: (StreamOp[] | string)[];
  height: Map<number, number>;
  readers: Map<number, number[]>;
}
const factsCache = new WeakMap<ScheduleContext, StreamFacts>();
function factsOf(ctx: ScheduleContext): StreamFacts {
  const cached = factsCache.get(ctx);
  if (cached) return cached;
  const { graph, plan } = ctx;
  const height = new Map<number, number>();
  const heightOf = (t: number): number => {
    let h = height.get(t);
    if (h === undefined) { h = spatialDims(graph, t)?.[0] ?? 1; height.set(t, h); }
    return h;
  };
  const steps = plan.steps.map((step, s): StreamOp[] | string => {
    const out: StreamOp[] = [];
    for (const oi of [...step.ops].sort((a, b) => a - b)) {
      const op = graph.ops[oi]!;
      const x = accumulated(graph, op);
      if (x !== null) {
        heightOf(x);
        for (const t of op.outputs) height.set(t, 1);
        out.push({ op: oi, step: s, main: oi === step.main, outputs: op.outputs.slice(), height: 1, inputs: [{ tensor: x, rule: { kind: 'full' } }], accumulate: true });
        continue;
      }
      const r = regionRules(graph, op);
      if ('reason' in r) return `step #${s}: ${r.reason}`;
      if (!spatialDims(graph, op.outputs[0] ?? -1)) return `step #${s}: no spatial output`;
      for (const t of [...r.outputs, ...r.inputs.map((i) => i.tensor)]) heightOf(t);
      out.push({ op: oi, step: s, main: oi === step.main, outputs: r.outputs, height: heightOf(op.outputs[0]!), inputs: r.inputs });
    }
    return out;
  });
  const readers = new Map<number, number[]>();
  for (const o of graph.ops) for (const t of new Set(o.inputs)) if (t >= 0) readers.set(t, [...(readers.get(t) ?? []), o.index]);
  const facts = { steps, height, readers };
  factsCache.set(ctx, facts);
  return facts;
}

/** The data input of an operator that reduces a feature map over H and W (global average or max pooling, a mean or
 *  max over exactly the spatial axes): it can accumulate rows as they stream. Null for any other operator. */
function accumulated(graph: Graph, op: Op): number | null {
  const x = op.inputs[0] ?? -1;
  if (x < 0 || !spatialDims(graph, x) || op.unsupported) return null;
  if (op.kind === 'GlobalAvgPool' || op.kind === 'GlobalMaxPool') return x;
  if (op.kind !== 'Reduce' || !['ReduceMean', 'ReduceMax', 'MEAN', 'REDUCE_MAX'].includes(op.sourceType)) return null;
  const t = graph.tensors[x]!;
  const ax = spatialAxes(t.layout);
  const given = op.attrs.axes ?? graph.tensors[op.inputs[1] ?? -1]?.values;
  if (!ax || !t.shape || !given) return null;
  const axes = new Set(given.map((a) => (a < 0 ? a + t.shape!.length : a)));
  return axes.size === 2 && axes.has(ax.h) && axes.has(ax.w) ? x : null;
}

/** The segment's file operators with their rules, or why the steps cannot stream. */
function segmentOps(ctx: ScheduleContext, seg: StreamSegment): StreamOp[] | string {
  const { steps } = factsOf(ctx);
  const out: StreamOp[] = [];
  let rows = 0;
  for (let s = seg.first; s <= seg.last; s++) {
    const ops = steps[s]!;
    if (typeof ops === 'string') return ops;
    out.push(...ops);
    for (const o of ops) rows += o.accumulate ? (factsOf(ctx).height.get(o.inputs[0]!.tensor) ?? 1) : o.height;
  }
  if (rows > MAX_SEGMENT_ROWS) return `steps #${seg.first}–#${seg.last}: more than ${MAX_SEGMENT_ROWS.toLocaleString('en-US')} rows to stream`;
  return out;
}

/** What the simulation of a segment gives: ring rows per tensor and the order of the rows produced. */
interface Simulation {
  ringRows: Map<number, number>;
  /** [op index in the segment, output row], in execution order. */
  events: [number, number][];
  /** Tensors produced in the segment that stay whole (read after it, graph outputs, variables). */
  whole: Set<number>;
}

/** Tensors produced in the segment that something outside it reads (they stay whole). */
function wholeTensors(ctx: ScheduleContext, seg: StreamSegment, ops: readonly StreamOp[]): Set<number> {
  const { graph, plan } = ctx;
  const inSeg = new Set(ops.map((o) => o.op));
  const produced = new Set(ops.flatMap((o) => o.outputs));
  const graphOutputs = new Set(graph.outputs);
  const whole = new Set<number>();
  for (const t of produced) {
    if (graphOutputs.has(t) || graph.tensors[t]!.role === 'variable') { whole.add(t); continue; }
    const b = plan.bufferOf[t] ?? -1;
    if (b >= 0 && plan.buffers[b]!.end > seg.last) { whole.add(t); continue; }
    if ((factsOf(ctx).readers.get(t) ?? []).some((o) => !inSeg.has(o))) whole.add(t);
  }
  return whole;
}

function simulate(ctx: ScheduleContext, ops: readonly StreamOp[], whole: Set<number>, fusedAway: ReadonlySet<number>): Simulation {
  // (`low` of a tensor: its first row still needed; rows below it are free.)
  const producerOf = new Map<number, number>();
  ops.forEach((o, i) => o.outputs.forEach((t) => producerOf.set(t, i)));
  const consumers = new Map<number, { op: number; rule: RegionRule }[]>();
  ops.forEach((o, i) => o.inputs.forEach(({ tensor, rule }) => {
    if (!producerOf.has(tensor)) return;
    const list = consumers.get(tensor) ?? [];
    list.push({ op: i, rule });
    consumers.set(tensor, list);
  }));
  const produced = new Int32Array(ops.length);
  const low = new Map<number, number>();
  const ringRows = new Map<number, number>();
  const events: [number, number][] = [];
  const heights = factsOf(ctx).height;
  const height = (t: number): number => heights.get(t) ?? 1;

  // Tensors computed inside a fused step (or a fused block's D and E) are never stored (virtual): a row of one is
  // recomputed from its inputs when read, so its inputs keep the rows behind every row of it still needed.
  const plan = ctx.plan;
  const virtual = (t: number): boolean => producerOf.has(t) && !whole.has(t) && ((plan.bufferOf[t] ?? -1) < 0 || fusedAway.has(t));
  /** The first row of `t` that consumer `c` still reads: for its next output row, or, when its output is virtual, for
   *  the oldest row of that output still needed (its height when nothing is). */
  const nextLow = (t: number, c: { op: number; rule: RegionRule }): number => {
    const o = ops[c.op]!;
    if (o.accumulate) return taken[c.op]!;
    let r = produced[c.op]!;
    for (const v of o.outputs) if (virtual(v)) r = Math.min(r, low.get(v) ?? 0);
    if (r >= o.height) return height(t);
    const [lo, hi] = rowsNeeded(c.rule, r, height(t));
    return hi > lo ? lo : Math.min(height(t), lo);
  };
  /** Frees the rows of `t` no consumer still reads; a virtual tensor passes it on to its producer's inputs. */
  const release = (t: number): void => {
    if (!producerOf.has(t) || whole.has(t)) return;
    let m = Infinity;
    for (const c of consumers.get(t) ?? []) m = Math.min(m, nextLow(t, c));
    const next = Math.max(low.get(t) ?? 0, Math.min(m, height(t)));
    if (next === (low.get(t) ?? 0) && low.has(t)) return;
    low.set(t, next);
    if (virtual(t)) for (const { tensor } of ops[producerOf.get(t)!]!.inputs) release(tensor);
  };
  /** Input rows an accumulating operator has read so far. */
  const taken = new Int32Array(ops.length);
  const produceRow = (i: number): void => {
    const o = ops[i]!;
    const r = produced[i]!;
    if (o.accumulate) {
      // One input row at a time into the accumulator; each is free once read.
      const x = o.inputs[0]!.tensor;
      for (let y = taken[i]!; y < height(x); y++) {
        ensure(x, y + 1);
        events.push([i, y]);
        taken[i] = y + 1;
        release(x);
      }
      produced[i] = 1;
      return;
    }
    for (const { tensor, rule } of o.inputs) {
      const [, hi] = rowsNeeded(rule, r, height(tensor));
      ensure(tensor, hi);
    }
    events.push([i, r]);
    produced[i] = r + 1;
    for (const t of o.outputs) {
      if (whole.has(t)) continue;
      const held = r + 1 - (low.get(t) ?? 0);
      if (held > (ringRows.get(t) ?? 0)) ringRows.set(t, held);
    }
    // Rows of the inputs that no consumer's next row reads are free.
    for (const { tensor } of o.inputs) release(tensor);
  };
  const ensure = (t: number, upto: number): void => {
    const p = producerOf.get(t);
    if (p === undefined) return; // produced before the segment: whole
    while (produced[p]! < Math.min(upto, ops[p]!.height)) produceRow(p);
  };
  // Sinks: operators with an output that stays whole, or that nothing in the segment reads.
  const sinks = ops.map((_, i) => i).filter((i) => ops[i]!.outputs.some((t) => whole.has(t) || !consumers.has(t)));
  for (;;) {
    let next = -1;
    let least = Infinity;
    for (const i of sinks) {
      const o = ops[i]!;
      if (produced[i]! >= o.height) continue;
      const f = produced[i]! / o.height;
      if (f < least) { least = f; next = i; }
    }
    if (next < 0) break;
    produceRow(next);
  }
  // Rows of a tensor produced but never consumed in order (an operator nobody downstream reads) are held whole.
  for (const o of ops) for (const t of o.outputs) if (!whole.has(t) && !ringRows.has(t)) ringRows.set(t, height(t));
  return { ringRows, events, whole };
}

/** The cost of streaming the steps [first, last] (with its fused blocks), or why they cannot stream. */
export function segmentCost(ctx: ScheduleContext, seg: StreamSegment): SegmentOrReason {
  if (seg.channelwise) {
    const c = seg.last === seg.first + 1 && !seg.fused?.length ? channelwiseSegment(ctx, seg.first) : null;
    return c ? { ok: true, cost: c } : { ok: false, reason: `steps #${seg.first}–#${seg.last} are not a 1×1 convolution and the global pooling of its output alone` };
  }
  const pre = prepare(ctx, seg);
  return typeof pre === 'string' ? { ok: false, reason: pre } : { ok: true, cost: finishCost(ctx, seg, pre) };
}

/** What a segment costs before its rows are simulated: its whole buffers, and at least one row of every ring. */
interface Prepared {
  ops: StreamOp[];
  whole: Set<number>;
  /** The whole buffers, an accumulating pooling's sums and the fused blocks' scratch. */
  wholeBytes: number;
  wholeBuffers: number[];
  /** No ring holds fewer than one row: a lower bound of the rings' bytes. */
  minRingBytes: number;
  /** The accumulating pooling's sums (in wholeBytes). */
  accumulatorBytes: number;
  fused: FusedBlock[];
  /** D and E of the fused blocks: computed on demand, never stored. */
  fusedAway: Set<number>;
  /** The file operators whose rows run inside a fused block's projection (no kernel call of their own). */
  inside: Set<number>;
  scratchBytes: number;
}

function prepare(ctx: ScheduleContext, seg: StreamSegment): Prepared | string {
  const ops = segmentOps(ctx, seg);
  if (typeof ops === 'string') return ops;
  const whole = wholeTensors(ctx, seg, ops);
  const sums = accumulatorBytes(ctx, ops);
  let wholeBytes = sums;
  const wholeBuffers: number[] = [];
  const produced = new Set(ops.flatMap((o) => o.outputs));
  for (const b of ctx.plan.buffers) {
    if (b.bytes === 0 || b.end < seg.first || b.start > seg.last) continue;
    // A buffer is whole when one of its tensors is: not produced in the segment, or read after it.
    if (b.tensors.every((t) => produced.has(t) && !whole.has(t))) continue; // rings only
    wholeBytes += b.bytes;
    wholeBuffers.push(b.id);
  }
  const base = { ops, whole, wholeBytes, wholeBuffers, minRingBytes: 0, accumulatorBytes: sums, fused: [], fusedAway: new Set<number>(), inside: new Set<number>(), scratchBytes: 0 };
  return withFused(ctx, seg, base, seg.fused ?? []);
}

/** A prepared segment with these blocks fused (none: as prepared), or why one of them cannot be. */
function withFused(ctx: ScheduleContext, seg: StreamSegment, pre: Prepared, fused: readonly FusedBlock[]): Prepared | string {
  const { plan } = ctx;
  const blocks = fusibleBlocks(ctx);
  const fusedAway = new Set<number>();
  const inside = new Set<number>();
  let scratch = 0;
  for (const f of fused) {
    const b = blocks.get(f.step);
    const name = `step #${f.step}`;
    if (!b) return `${name} is not the depthwise convolution of an inverted residual that can be fused (a k×k depthwise convolution read only by a 1×1 convolution)`;
    if (f.expand && b.expand === null) return `${name}: no 1×1 expansion of its own before it to recompute`;
    const firstStep = f.expand ? b.expand! : b.dw;
    if (firstStep < seg.first || b.project > seg.last) return `${name}: the fused block (steps #${firstStep}–#${b.project}) is not inside steps #${seg.first}–#${seg.last}`;
    if (pre.whole.has(b.mid) || (f.expand && pre.whole.has(b.wide))) return `${name}: its output is read outside the segment`;
    fusedAway.add(b.mid);
    for (const o of plan.steps[b.dw]!.ops) inside.add(o);
    if (f.expand) {
      fusedAway.add(b.wide);
      for (const o of plan.steps[b.expand!]!.ops) inside.add(o);
    }
    // The residual Add inside the segment: the block runs as its kernel, P not stored.
    const residual = b.residual !== null && b.residual.step <= seg.last && !pre.whole.has(b.out);
    if (residual) {
      fusedAway.add(b.out);
      for (const o of plan.steps[b.project]!.ops) inside.add(o);
    }
    scratch = Math.max(scratch, scratchBytes(b, f.expand, residual));
  }
  // A recomputed expansion reads a stored tensor: not one that another fused block computes per pixel (a 1×1
  // convolution that is one block's projection and the next one's expansion).
  for (const f of fused) {
    const b = blocks.get(f.step)!;
    if (f.expand && plan.steps[b.expand!]!.ops.some((o) => ctx.graph.ops[o]!.inputs.some((t) => fusedAway.has(t)))) {
      return `step #${f.step}: its expansion (step #${b.expand}) reads the output of another fused block, which is never stored`;
    }
  }
  const heights = factsOf(ctx).height;
  let minRingBytes = 0;
  for (const t of new Set(pre.ops.flatMap((o) => o.outputs))) {
    if (pre.whole.has(t) || (plan.bufferOf[t] ?? -1) < 0 || fusedAway.has(t)) continue;
    minRingBytes += Math.ceil(plan.tensorBytes(t) / Math.max(1, heights.get(t) ?? 1));
  }
  const wholeBytes = pre.wholeBytes - pre.scratchBytes + scratch;
  return { ...pre, wholeBytes, minRingBytes, fused: fused.map((f) => ({ step: f.step, expand: f.expand })), fusedAway, inside, scratchBytes: scratch };
}

/** An accumulating operator keeps a 32-bit sum per channel until its last row (counted with the whole buffers). */
const ACCUMULATOR_BYTES = 4;

function accumulatorBytes(ctx: ScheduleContext, ops: readonly StreamOp[]): number {
  let bytes = 0;
  for (const o of ops) {
    if (!o.accumulate) continue;
    const x = ctx.graph.tensors[o.inputs[0]!.tensor]!;
    const d = spatialDims(ctx.graph, x.id);
    const elements = (x.shape ?? []).reduce((a, b) => a * b, 1);
    bytes += ACCUMULATOR_BYTES * Math.ceil(elements / Math.max(1, d ? d[0] * d[1] : 1));
  }
  return bytes;
}

function finishCost(ctx: ScheduleContext, seg: StreamSegment, pre: Prepared): SegmentCost {
  const { plan } = ctx;
  const sim = simulate(ctx, pre.ops, pre.whole, pre.fusedAway);
  const heights = factsOf(ctx).height;
  const rings: StreamRing[] = [];
  let ringBytes = 0;
  for (const [t, rows] of sim.ringRows) {
    if ((plan.bufferOf[t] ?? -1) < 0 || pre.fusedAway.has(t)) continue; // computed on demand, never stored
    const h = heights.get(t) ?? 1;
    const bytes = Math.ceil((plan.tensorBytes(t) * rows) / Math.max(1, h));
    rings.push({ tensor: t, rows, width: spatialDims(ctx.graph, t)?.[1] ?? 1, bytes, height: h });
    ringBytes += bytes;
  }
  const calls = sim.events.filter(([i]) => pre.ops[i]!.main && !pre.inside.has(pre.ops[i]!.op)).length;
  const blocks = fusibleBlocks(ctx);
  const extraMacs = pre.fused.reduce((a, f) => a + (f.expand ? recomputedMacs(ctx, blocks.get(f.step)!, [[0, blocks.get(f.step)!.outDims[1]]]) : 0), 0);
  return {
    first: seg.first, last: seg.last, peakBytes: pre.wholeBytes + ringBytes, wholeBytes: pre.wholeBytes, ringBytes, rings, wholeBuffers: pre.wholeBuffers, calls, columns: 1,
    extraMacs: Math.round(extraMacs), fused: pre.fused, unstored: [...pre.fusedAway], scratchBytes: pre.scratchBytes,
  };
}

/** A 1×1 convolution whose output only a global pooling reads, run output channel by output channel over its whole
 *  input: each channel's map computed into a scratch and pooled at once (the classifier's tail element by element,
 *  as msf-CNN computes it), on float maps. The input and the pooled output are whole; no ring, no 32-bit sums, no
 *  MACs added; two kernel calls per channel. Null when steps `first` and `first + 1` are not that. */
export function channelwiseSegment(ctx: ScheduleContext, first: number): SegmentCost | null {
  const { graph, plan } = ctx;
  const c = plan.steps[first];
  const p = plan.steps[first + 1];
  if (!c || !p || c.outputs.length !== 1) return null;
  const conv = graph.ops[c.main]!;
  const pool = graph.ops[p.main]!;
  const y = c.outputs[0]!;
  if (!is1x1(conv) || !plainConv(graph, c) || (pool.kind !== 'GlobalAvgPool' && pool.kind !== 'GlobalMaxPool') || pool.inputs[0] !== y) return null;
  // Float maps (mm_cwpool_f32); an integer tail keeps its rows streamed.
  if ((factsOf(ctx).readers.get(y) ?? []).length !== 1 || graph.outputs.includes(y) || graph.tensors[y]!.dtype !== 'float32') return null;
  const seg = { first, last: first + 1 };
  const pre = prepare(ctx, seg);
  const d = spatialDims(graph, y);
  const shape = graph.tensors[y]!.shape;
  if (typeof pre === 'string' || !d || !shape) return null;
  const channels = shape.reduce((a, b) => a * b, 1) / Math.max(1, d[0] * d[1]);
  const scratch = Math.ceil(plan.tensorBytes(y) / Math.max(1, channels));
  const whole = pre.wholeBytes - pre.accumulatorBytes + scratch;
  return {
    first, last: first + 1, peakBytes: whole, wholeBytes: whole, ringBytes: 0, rings: [], wholeBuffers: pre.wholeBuffers, calls: 2 * channels, columns: 1,
    extraMacs: 0, fused: [], unstored: [y], scratchBytes: scratch, channelwise: true,
  };
}

/** The fusion a segment gets unless told otherwise: every inverted residual inside it with its depthwise output
 *  computed pixel by pixel in its projection (D not stored, no MACs added, one kernel call fewer per row). */
function defaultFusion(ctx: ScheduleContext, seg: StreamSegment): FusedBlock[] {
  const out: FusedBlock[] = [];
  for (const [d, b] of fusibleBlocks(ctx)) if (d >= seg.first && b.project <= seg.last) out.push({ step: d, expand: false });
  return out;
}

/** The segment with its default fusion (as prepared when some block cannot be fused). */
function defaultPrepared(ctx: ScheduleContext, seg: StreamSegment, pre: Prepared): Prepared {
  const p = withFused(ctx, seg, pre, defaultFusion(ctx, seg));
  return typeof p === 'string' ? pre : p;
}

/** The fusions the search tries for a segment: the default, then its blocks' expansions recomputed: every subset when
 *  there are at most EXHAUSTIVE_FUSION of them, else one more at a time, the block whose E ring saves the most bytes
 *  per MAC recomputed first (a greedy order: not every subset is tried). */
function fusionVariants(ctx: ScheduleContext, seg: StreamSegment, pre: Prepared): SegmentCost[] {
  const p0 = defaultPrepared(ctx, seg, pre);
  const f0 = finishCost(ctx, seg, p0);
  const out = [f0];
  const blocks = fusibleBlocks(ctx);
  const ringOf = new Map(f0.rings.map((r) => [r.tensor, r.bytes]));
  const order = p0.fused.flatMap((f) => {
    const b = blocks.get(f.step)!;
    if (b.expand === null || b.expand < seg.first || !ringOf.has(b.wide)) return [];
    return [{ step: f.step, ratio: ringOf.get(b.wide)! / Math.max(1, recomputedMacs(ctx, b, [[0, b.outDims[1]]])) }];
  }).sort((a, b) => b.ratio - a.ratio || a.step - b.step);
  const sets: Set<number>[] = [];
  if (order.length <= EXHAUSTIVE_FUSION) {
    for (let m = 1; m < 1 << order.length; m++) sets.push(new Set(order.filter((_, k) => (m >> k) & 1).map((o) => o.step)));
  } else {
    for (let k = 1; k <= order.length; k++) sets.push(new Set(order.slice(0, k).map((o) => o.step)));
  }
  for (const set of sets) {
    const p = withFused(ctx, seg, pre, p0.fused.map((f) => (set.has(f.step) ? { step: f.step, expand: true } : f)));
    if (typeof p !== 'string') out.push(finishCost(ctx, seg, p));
  }
  return out;
}

/** Up to this many expansions a segment may recompute, every subset is tried; beyond, the greedy order's prefixes. */
const EXHAUSTIVE_FUSION = 2;
/** Longest segment tried, in execution steps (MobileNetV2's best segments have 3 to 13), so the ranges grow with
 *  the steps, not their square. */
const MAX_SEGMENT_STEPS = 48;
/** Most rows a segment may stream (the sum over its operators' output heights): a hostile file's million-row tensor
 *  is refused, not simulated. */
const MAX_SEGMENT_ROWS = 200_000;
/** Most partial plans kept from one step (evenly thinned beyond; the front is then approximate). */
const MAX_LABELS = 400;

/** Most column bands tried per segment. */
const MAX_COLUMNS = 16;

/** A segment as a patch stage (its operators' region rules from its one whole output), for column bands; null when
 *  it has several whole outputs. A segment ending in an accumulating pooling is banded by the pooling's input: each
 *  band adds its own columns to the same sums, the first band's first row starting them and the last band's last
 *  row ending them. That changes the order of a float sum, so a float average keeps full rows (the export is bit
 *  for bit the per-layer one); integer sums (and --as-int8, which plans an int8 deployment) and maxima do not care. */
export function segmentStage(ctx: ScheduleContext, seg: StreamSegment): Stage | null {
  const pre = prepare(ctx, seg);
  if (typeof pre === 'string') return null;
  const pools = pre.ops.filter((o) => o.accumulate);
  const outs = [...pre.whole].filter((t) => pre.ops.some((o) => !o.accumulate && o.outputs.includes(t)));
  let output: number;
  if (pools.length === 0 && outs.length === 1) output = outs[0]!;
  else if (pools.length === 1 && outs.length === 0 && pre.ops[pre.ops.length - 1] === pools[0] && bandedSums(ctx, pools[0]!)) {
    output = pools[0]!.inputs[0]!.tensor;
    if (!pre.ops.some((o) => o.outputs.includes(output))) return null;
  } else return null;
  const ops = pre.ops.filter((o) => !o.accumulate);
  const tensors: number[] = [];
  const slot = new Map<number, number>();
  const add = (t: number): void => { if (!slot.has(t)) { slot.set(t, tensors.length); tensors.push(t); } };
  add(output);
  for (const o of ops) { o.outputs.forEach(add); o.inputs.forEach((i) => add(i.tensor)); }
  const dims = tensors.map((t) => spatialDims(ctx.graph, t) ?? [1, 1] as [number, number]);
  return { split: seg.last, output, rules: ops.map((o) => ({ op: o.op, outputs: o.outputs, inputs: o.inputs })).reverse(), tensors, slot, dims };
}

/** A segment's column geometry and its bands per count, cached per step range (fusion does not change them). */
const geometryCache = new WeakMap<ScheduleContext, Map<string, { stage: Stage; bands: (q: number) => ReturnType<typeof deriveAxis> } | null>>();
function bandGeometry(ctx: ScheduleContext, seg: StreamSegment): { stage: Stage; bands: (q: number) => ReturnType<typeof deriveAxis> } | null {
  let byRange = geometryCache.get(ctx);
  if (!byRange) { byRange = new Map(); geometryCache.set(ctx, byRange); }
  const key = `${seg.first}:${seg.last}`;
  if (byRange.has(key)) return byRange.get(key)!;
  const stage = segmentStage(ctx, { first: seg.first, last: seg.last });
  const memo = new Map<number, ReturnType<typeof deriveAxis>>();
  const g = stage ? { stage, bands: (q: number) => { let b = memo.get(q); if (!b) { b = deriveAxis(stage, 1, q); memo.set(q, b); } return b; } } : null;
  byRange.set(key, g);
  return g;
}

/** Whether an accumulating pooling may add its input in column bands: a maximum, or a sum of integers. */
function bandedSums(ctx: ScheduleContext, pool: StreamOp): boolean {
  const op = ctx.graph.ops[pool.op]!;
  if (op.kind === 'GlobalMaxPool' || op.sourceType === 'REDUCE_MAX' || op.sourceType === 'ReduceMax') return true;
  return ctx.conventions.asInt8 || ctx.graph.tensors[pool.inputs[0]!.tensor]!.dtype !== 'float32';
}

/** The segment cut into 2..MAX_COLUMNS column bands: each band streamed top to bottom in turn, the rings as wide as
 *  the widest band's region of their tensor (derived backwards from the segment output by the patch geometry), the
 *  overlap along the width recomputed. Only for a segment segmentStage can cut; variants no smaller are left out. */
export function columnVariants(ctx: ScheduleContext, full: SegmentCost): SegmentCost[] {
  if (full.channelwise) return [];
  const pre = prepare(ctx, full);
  const geometry = bandGeometry(ctx, full);
  if (typeof pre === 'string' || !geometry) return [];
  const { graph } = ctx;
  const { slot, dims, output } = geometry.stage;
  const out: SegmentCost[] = [];
  let previous = full.ringBytes;
  for (let q = 2; q <= Math.min(MAX_COLUMNS, dims[slot.get(output)!]![1]); q++) {
    const bands = geometry.bands(q);
    const widest = (t: number): number => Math.max(...bands.map((b) => bandLen(b, slot.get(t)!)));
    let ringBytes = 0;
    const rings = full.rings.map((r) => {
      const W = spatialDims(graph, r.tensor)?.[1] ?? 1;
      const width = widest(r.tensor);
      const bytes = Math.ceil((ctx.plan.tensorBytes(r.tensor) * r.rows * width) / Math.max(1, r.height * W));
      ringBytes += bytes;
      return { ...r, width, bytes };
    });
    if (ringBytes >= previous) continue;
    previous = ringBytes;
    let extraMacs = 0;
    const recomputed = new Set<number>();
    for (const f of full.fused) {
      if (!f.expand) continue;
      // The expansion recomputed per window of the depthwise columns each band computes.
      const b = fusibleBlocks(ctx).get(f.step)!;
      const k = slot.get(b.mid)!;
      extraMacs += recomputedMacs(ctx, b, bands.map((x) => [x.clo[k]!, x.chi[k]!] as [number, number]));
      recomputed.add(graph.ops[ctx.plan.steps[b.expand!]!.main]!.index);
    }
    for (const o of pre.ops) {
      const m = ctx.macsOf[o.op]!;
      if (m === 0 || o.accumulate || recomputed.has(o.op)) continue; // a pooling adds each column once
      const k = slot.get(o.outputs[0]!)!;
      const W = dims[k]![1];
      extraMacs += m * (bands.reduce((a, b) => a + bandLen(b, k), 0) / Math.max(1, W) - 1);
    }
    out.push({ ...full, rings, ringBytes, peakBytes: full.wholeBytes + ringBytes, calls: full.calls * q, columns: q, extraMacs: Math.max(0, Math.round(extraMacs)) });
  }
  return out;
}

/** The order in which the rows of a segment are produced ([file operator, output row]), and the ring of every tensor
 *  produced in it that does not stay whole (those inside a fused step included, which the cost leaves out). */
export function streamEvents(ctx: ScheduleContext, seg: StreamSegment): { events: { op: number; row: number }[]; ringRows: Map<number, number>; fusedAway: Set<number>; inside: Set<number> } {
  const pre = prepare(ctx, seg);
  if (typeof pre === 'string') throw new Error(pre);
  const sim = simulate(ctx, pre.ops, pre.whole, pre.fusedAway);
  return { events: sim.events.map(([i, row]) => ({ op: pre.ops[i]!.op, row })), ringRows: sim.ringRows, fusedAway: pre.fusedAway, inside: pre.inside };
}

/** A line-buffered plan: the segments and what the rest costs layer by layer. */
export interface StreamPlan {
  segments: SegmentCost[];
  /** The plan's peak: the largest of the segments' peaks and the per-layer live sets of the other steps. */
  peakBytes: number;
  /** The arena planned for it (rings and whole buffers as items). */
  arenaBytes: number;
  /** Where the peak is: a segment or a per-layer step. */
  peakAt: { segment: number } | { step: number };
  /** Kernel calls of one inference (per layer: one per step). */
  calls: number;
  /** MACs computed twice (column bands' overlap), and that as a fraction of the model's MACs (0 with full rows). */
  extraMacs: number;
  overhead: number;
}

/** Every step range that streams, with its cost under its default fusion (ranges of one step included: they equal
 *  layer by layer or cost more). Ranges stop growing at a step that cannot stream. */
export function streamableSegments(ctx: ScheduleContext): SegmentCost[][] {
  const n = ctx.plan.steps.length;
  const out: SegmentCost[][] = [];
  for (let a = 0; a < n; a++) {
    const row: SegmentCost[] = [];
    for (let b = a + 1; b < Math.min(n, a + MAX_SEGMENT_STEPS); b++) {
      const seg = { first: a, last: b };
      const pre = prepare(ctx, seg);
      if (typeof pre === 'string') break;
      row.push(finishCost(ctx, seg, defaultPrepared(ctx, seg, pre)));
    }
    const cw = channelwiseSegment(ctx, a);
    if (cw) row.push(cw);
    out.push(row);
  }
  return out;
}

/** The plan of given segments (disjoint, in order): peak, arena, calls. */
export function streamPlan(ctx: ScheduleContext, segments: readonly SegmentCost[]): StreamPlan {
  const n = ctx.plan.steps.length;
  const inSeg = new Int32Array(n).fill(-1);
  segments.forEach((s, k) => { for (let t = s.first; t <= s.last; t++) inSeg[t] = k; });
  let peakBytes = 0;
  let peakAt: StreamPlan['peakAt'] = { step: 0 };
  for (let t = 0; t < n; t++) if (inSeg[t]! < 0 && ctx.live[t]! > peakBytes) { peakBytes = ctx.live[t]!; peakAt = { step: t }; }
  segments.forEach((s, k) => { if (s.peakBytes > peakBytes) { peakBytes = s.peakBytes; peakAt = { segment: k }; } });
  const calls = segments.reduce((a, s) => a + s.calls - (s.last - s.first + 1), n);
  const extraMacs = segments.reduce((a, s) => a + s.extraMacs, 0);
  // The arena is planned when first asked for (a front has dozens of points; most are never looked at).
  let arena: number | undefined;
  return {
    segments: [...segments], peakBytes, peakAt, calls, extraMacs, overhead: ctx.modelMacs > 0 ? extraMacs / ctx.modelMacs : 0,
    get arenaBytes(): number { return (arena ??= streamArena(ctx, segments).plan.size); },
  };
}

/** The arena of a line-buffered plan: whole buffers alive over every segment they meet (a segment reads its inputs
 *  and writes its outputs row by row from its first step to its last), rings alive through their segment. The C
 *  export places them at these offsets. */
export type ArenaOwner = { buffer: number } | { ring: number } | { accumulator: number } | { scratch: number };

export function streamArena(ctx: ScheduleContext, segments: readonly SegmentCost[]): { items: PlanItem[]; owners: ArenaOwner[]; plan: ArenaPlan } {
  const items: PlanItem[] = [];
  const owners: ArenaOwner[] = [];
  // Buffers whose tensors are all rings, or computed on demand by fused blocks, are not stored whole.
  const ringTensors = new Set<number>();
  for (const s of segments) {
    for (const r of s.rings) ringTensors.add(r.tensor);
    for (const t of s.unstored) ringTensors.add(t);
  }
  for (const b of ctx.plan.buffers) {
    if (b.bytes === 0 || b.tensors.every((t) => ringTensors.has(t))) continue;
    let start = b.start;
    let end = b.end;
    for (const s of segments) if (start <= s.last && end >= s.first) { start = Math.min(start, s.first); end = Math.max(end, s.last); }
    items.push({ size: alignUp(b.bytes, ARENA_ALIGNMENT), start, end });
    owners.push({ buffer: b.id });
  }
  for (const s of segments) {
    for (const r of s.rings) {
      items.push({ size: alignUp(r.bytes, ARENA_ALIGNMENT), start: s.first, end: s.last });
      owners.push({ ring: r.tensor });
    }
    const ops = segmentOps(ctx, s);
    const acc = typeof ops === 'string' || s.channelwise ? 0 : accumulatorBytes(ctx, ops);
    if (acc > 0) {
      items.push({ size: alignUp(acc, ARENA_ALIGNMENT), start: s.first, end: s.last });
      owners.push({ accumulator: s.first });
    }
    if (s.scratchBytes > 0) {
      items.push({ size: alignUp(s.scratchBytes, ARENA_ALIGNMENT), start: s.first, end: s.last });
      owners.push({ scratch: s.first });
    }
  }
  return { items, owners, plan: planArena(items) };
}

/** Per first step, the ranges that stream and what they hold whole (no simulation yet), those whose whole buffers
 *  reach `maxPeak` left out (a channel-wise tail holds fewer: no sums). */
function preparedRanges(ctx: ScheduleContext, maxPeak: number): { seg: StreamSegment; pre: Prepared }[][] {
  const n = ctx.plan.steps.length;
  const prepared: { seg: StreamSegment; pre: Prepared }[][] = [];
  for (let a = 0; a < n; a++) {
    const row: { seg: StreamSegment; pre: Prepared }[] = [];
    for (let b = a + 1; b < Math.min(n, a + MAX_SEGMENT_STEPS); b++) {
      const seg = { first: a, last: b };
      const pre = prepare(ctx, seg);
      if (typeof pre === 'string') break;
      if (pre.wholeBytes - pre.accumulatorBytes < maxPeak) row.push({ seg, pre });
    }
    prepared.push(row);
  }
  return prepared;
}

/** The options weighed from each step: every range under `limit` with its fusion variants and their column bands,
 *  and a channel-wise tail where one starts. */
function optionsOf(ctx: ScheduleContext, prepared: { seg: StreamSegment; pre: Prepared }[][], limit: number): SegmentCost[][] {
  return prepared.map((row, a) => {
    const out = row.filter(({ pre }) => pre.wholeBytes - pre.accumulatorBytes < limit)
      .flatMap(({ seg, pre }) => fusionVariants(ctx, seg, pre).flatMap((full) => [full, ...columnVariants(ctx, full)]));
    const cw = channelwiseSegment(ctx, a);
    if (cw) out.push(cw);
    return out.filter((c) => c.peakBytes <= limit);
  });
}

/** Every option the front's search weighs (no bound): for a brute force over them. */
export function frontOptions(ctx: ScheduleContext): SegmentCost[][] {
  return optionsOf(ctx, preparedRanges(ctx, Infinity), Infinity);
}

/** A partial plan from some step to the end: its peak, extra MACs and calls, its first choice and the rest. */
interface Label {
  peak: number;
  extra: number;
  calls: number;
  segment: SegmentCost | null;
  rest: Label | null;
}

/** The Pareto set of line-buffered plans, peak against extra MACs: full rows (+0%) and rows cut into column bands,
 *  every segmentation (a dynamic programme over the steps keeping, from each step, the partial plans no other beats in
 *  both). Least peak first; the last has no extra MACs. With `maxPeak`, only the points at or below it. */
export function streamFrontier(ctx: ScheduleContext, maxPeak = Infinity): StreamPlan[] {
  const n = ctx.plan.steps.length;
  // The full-row plan of least peak costs no MACs: no point of the front has a higher peak, so no option above it
  // can be part of one. The options starting at each step: ranges whose whole buffers alone stay under it (and under
  // `maxPeak`: only the front's part at or below it is wanted), with their column variants.
  // The ranges and what they hold whole (no simulation yet). Each step needs at least its per-layer live set or the
  // whole buffers of some range around it: when that exceeds `maxPeak` somewhere, no plan is under it.
  const prepared = preparedRanges(ctx, maxPeak);
  const least = ctx.live.slice();
  prepared.forEach((row) => row.forEach(({ seg, pre }) => { for (let t = seg.first; t <= seg.last; t++) least[t] = Math.min(least[t]!, pre.wholeBytes - pre.accumulatorBytes); }));
  if (least.some((v) => v > maxPeak)) return [];
  const zero = bestStreamPlan(ctx);
  const limit = Math.min(zero.peakBytes, maxPeak);
  const options = optionsOf(ctx, prepared, limit);
  const prune = (labels: Label[]): Label[] => {
    labels.sort((x, y) => x.peak - y.peak || x.extra - y.extra || x.calls - y.calls);
    const kept: Label[] = [];
    for (const l of labels) if (kept.length === 0 || l.extra < kept[kept.length - 1]!.extra) kept.push(l);
    return kept;
  };
  const from: Label[][] = new Array(n + 1);
  from[n] = [{ peak: 0, extra: 0, calls: 0, segment: null, rest: null }];
  for (let i = n - 1; i >= 0; i--) {
    const labels: Label[] = from[i + 1]!.map((l) => ({ peak: Math.max(ctx.live[i]!, l.peak), extra: l.extra, calls: l.calls + 1, segment: null, rest: l }));
    for (const s of options[i]!) {
      for (const l of from[s.last + 1]!) labels.push({ peak: Math.max(s.peakBytes, l.peak), extra: s.extraMacs + l.extra, calls: s.calls + l.calls, segment: s, rest: l });
    }
    const kept = prune(labels.filter((l) => l.peak <= limit));
    from[i] = kept.length <= MAX_LABELS ? kept : kept.filter((_, k) => k === kept.length - 1 || k % Math.ceil(kept.length / (MAX_LABELS - 1)) === 0);
  }
  if (zero.peakBytes > maxPeak && from[0]!.length === 0) return [];
  return from[0]!.map((l) => {
    const segments: SegmentCost[] = [];
    for (let x: Label | null = l; x; x = x.rest) if (x.segment) segments.push(x.segment);
    return streamPlan(ctx, segments);
  });
}

/** The line-buffered plan of least peak without recomputation (each segment with its default fusion): a minimax path
 *  over the steps, each run layer by layer or in a segment. Never
 *  worse than layer by layer (no segment at all is one of the paths). Without `all`, a range is simulated only when
 *  its whole buffers and one row per ring could still beat the best path found from its first step. */
export function bestStreamPlan(ctx: ScheduleContext, all?: SegmentCost[][]): StreamPlan {
  const n = ctx.plan.steps.length;
  const best = new Float64Array(n + 1);
  const choice: (SegmentCost | null)[] = new Array(n).fill(null);
  for (let i = n - 1; i >= 0; i--) {
    best[i] = Math.max(ctx.live[i]!, best[i + 1]!);
    choice[i] = null;
    const consider = (s: SegmentCost): void => {
      const v = Math.max(s.peakBytes, best[s.last + 1]!);
      if (v < best[i]!) { best[i] = v; choice[i] = s; }
    };
    if (all) { for (const s of all[i] ?? []) consider(s); continue; }
    const cw = channelwiseSegment(ctx, i);
    if (cw) consider(cw);
    for (let b = i + 1; b < Math.min(n, i + MAX_SEGMENT_STEPS); b++) {
      const seg = { first: i, last: b };
      const prepared = prepare(ctx, seg);
      if (typeof prepared === 'string') break;
      const pre = defaultPrepared(ctx, seg, prepared);
      if (Math.max(pre.wholeBytes + pre.minRingBytes, best[b + 1]!) >= best[i]!) continue;
      consider(finishCost(ctx, seg, pre));
    }
  }
  const segments: SegmentCost[] = [];
  for (let i = 0; i < n;) {
    const c = choice[i];
    if (c) { segments.push(c); i = c.last + 1; } else i++;
  }
  return streamPlan(ctx, segments);
}

/** The point of a front users ask for: with a RAM budget, the fewest extra MACs (then calls) whose peak fits it; else
 *  the least peak within the MACs budget (a fraction; null: none). Null when no point qualifies. */
export function chooseStreamPlan(front: readonly StreamPlan[], budget: { maxOverhead: number | null; maxRam: number | null }): StreamPlan | null {
  if (budget.maxRam !== null) {
    const ok = front.filter((p) => p.peakBytes <= budget.maxRam!);
    return ok.reduce<StreamPlan | null>((b, p) => (!b || p.extraMacs < b.extraMacs || (p.extraMacs === b.extraMacs && p.calls < b.calls) ? p : b), null);
  }
  const ok = front.filter((p) => budget.maxOverhead === null || p.overhead <= budget.maxOverhead + 1e-12);
  return ok.reduce<StreamPlan | null>((b, p) => (!b || p.peakBytes < b.peakBytes ? p : b), null);
}
