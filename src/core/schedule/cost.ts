// Cost of a patch-based schedule (SPEC §4): the patch stage's peak (the largest live set while one tile runs, plus
// the full stage-output buffer, plus whatever must stay alive across the stage), the per-layer peak of the rest, and
// the MACs with the recomputation of overlapping tiles, both for exact border tiles (what we execute) and for
// uniform tiles computed at the interior size with padding as data (what the paper and TinyEngine count).
//
// Memory conventions inside the stage, on top of the analysis conventions:
// - tile buffers are the ExecPlan's buffers (so in-place depthwise and a fused Add share a buffer within a tile),
//   each sized by the tile's region of its tensors; the stage output is one full buffer alive for the whole stage
//   (every tile writes its part into it);
// - a counted graph input is stored whole and read in place by every tile; with --no-input (the image decoded
//   piecewise) each tile's input region is a tile buffer;
// - variables stay alive throughout.
import type { Graph } from '../graph';
import { bytesFor } from '../graph';
import { ARENA_ALIGNMENT, DEFAULT_CONVENTIONS, type Conventions } from '../analysis/conventions';
import { opMacs } from '../analysis/analyze';
import { alignUp, planArena, type PlanItem } from '../analysis/planner';
import { buildExecPlan, liveBytes, type ExecPlan } from '../analysis/steps';
import { bandLen, bandULen, deriveAxis, isSymmetric, stagesOf, type AxisBand, type Stage, type StageOrReason } from './geometry';

export interface ScheduleContext {
  graph: Graph;
  conventions: Conventions;
  plan: ExecPlan;
  /** Per-layer live set per step, its peak and where. */
  live: number[];
  perLayerPeakBytes: number;
  perLayerPeakStep: number;
  modelMacs: number;
  stages: StageOrReason[];
  /** Step producing each tensor (absent: graph inputs, constants, variables). */
  producer: Map<number, number>;
  /** Bytes of a tensor as stored whole under the conventions, the graph input included even with --no-input. */
  rawBytes: (t: number) => number;
  macsOf: Float64Array;
  splitCache: Map<number, SplitInfo>;
}

interface TileBuffer {
  /** The per-layer plan buffer whose stage tensors this tile buffer holds. */
  buffer: number;
  slots: number[];
  /** Bytes per pixel of each slot's tensor. */
  bpp: number[];
  start: number;
  end: number;
}

interface SplitInfo {
  stage: Stage;
  tileBuffers: TileBuffer[];
  /** Tile buffers alive at each stage step. */
  aliveAt: number[][];
  /** Bytes alive during the whole stage: the stage output, counted graph inputs, variables. */
  fixedBytes: number;
  /** Slots whose lengths decide tile memory (deduplication key of bands). */
  memSlots: number[];
  /** Stage file operators with their output slot and MACs per output pixel. */
  macOps: { slot: number; perPixel: number }[];
  stagePerLayerMacs: number;
  restPeakBytes: number;
  restPeakStep: number;
  /** Bytes per plan buffer after the split (0 when only stage tensors use it). */
  restBufferBytes: number[];
  /** Slots of the stage's entry tensors (graph inputs it reads). */
  entrySlots: number[];
  bands: { rows: Map<number, AxisSplit>; cols: Map<number, AxisSplit> };
  /** Columns give the same regions as rows (square sizes, symmetric kernels and padding). */
  symmetric: boolean;
}

/** One axis cut into `count` bands, with what every schedule using it needs. */
interface AxisSplit {
  bands: AxisBand[];
  /** Bands that differ in the region length of some tile-buffer tensor (interior bands are usually identical). */
  distinct: AxisBand[];
  /** A pseudo-band holding every slot's longest region (for an upper bound of the stage peak). */
  envelope: AxisBand;
  /** Index of a band at least as long as every other for every tile-buffer tensor, or -1. */
  dominant: number;
  /** Per MAC-counting operator: the summed output length over the bands, exact and uniform. */
  macLen: Float64Array;
  macULen: Float64Array;
}

/** `plan`: the execution plan of the same graph and conventions when the caller has it (built once per analysis). */
export function scheduleContext(graph: Graph, partial: Partial<Conventions> = {}, plan?: ExecPlan): ScheduleContext {
  const conventions: Conventions = { ...DEFAULT_CONVENTIONS, ...partial };
  plan ??= buildExecPlan(graph, conventions);
  const live = liveBytes(plan);
  let perLayerPeakBytes = 0;
  let perLayerPeakStep = -1;
  live.forEach((v, i) => { if (v > perLayerPeakBytes || perLayerPeakStep < 0) { perLayerPeakBytes = v; perLayerPeakStep = i; } });
  const macsOf = new Float64Array(graph.ops.length);
  let modelMacs = 0;
  for (const s of plan.steps) for (const oi of s.ops) { macsOf[oi] = opMacs(graph.ops[oi]!, graph); modelMacs += macsOf[oi]!; }
  const producer = new Map<number, number>();
  plan.steps.forEach((s, i) => s.outputs.forEach((t) => producer.set(t, i)));
  const rawBytes = (id: number): number => {
    const t = graph.tensors[id]!;
    if (!t.shape || t.role === 'constant') return 0;
    return conventions.asInt8 ? bytesFor(t.dtype, t.shape, 8) : bytesFor(t.dtype, t.shape);
  };
  return {
    graph, conventions, plan, live, perLayerPeakBytes, perLayerPeakStep, modelMacs,
    stages: stagesOf(graph, plan), producer, rawBytes, macsOf, splitCache: new Map(),
  };
}

/** The stage ending at `split` and its precomputed data; the split must be valid. */
function splitOf(ctx: ScheduleContext, split: number): { stage: Stage; info: SplitInfo } {
  const st = ctx.stages[split];
  if (!st || !st.ok) throw new Error(`no patch stage ends at step ${split}`);
  return { stage: st.stage, info: splitInfo(ctx, st.stage) };
}

function splitInfo(ctx: ScheduleContext, stage: Stage): SplitInfo {
  const cached = ctx.splitCache.get(stage.split);
  if (cached) return cached;
  const { graph, plan, conventions } = ctx;
  const s = stage.split;
  const n = plan.steps.length;
  const O = stage.output;
  const graphInputs = new Set(graph.inputs);
  const isVariable = (t: number): boolean => graph.tensors[t]!.role === 'variable';
  const inStage = (t: number): boolean => t !== O && ((ctx.producer.get(t) ?? Infinity) <= s || (graphInputs.has(t) && !conventions.countInput));
  const bpp = (t: number): number => {
    const k = stage.slot.get(t)!;
    const [h, w] = stage.dims[k]!;
    return ctx.rawBytes(t) / Math.max(1, h * w);
  };

  const tileBuffers: TileBuffer[] = [];
  let fixedBytes = ctx.rawBytes(O);
  const counted = new Set<number>();
  for (const t of graph.inputs) if (conventions.countInput && !counted.has(t)) { counted.add(t); fixedBytes += ctx.rawBytes(t); }
  for (const t of graph.tensors) if (t.role === 'variable' && !counted.has(t.id)) { counted.add(t.id); fixedBytes += ctx.rawBytes(t.id); }

  const restBufferBytes: number[] = [];
  for (const b of plan.buffers) {
    const tile = b.tensors.filter((t) => inStage(t) && stage.slot.has(t));
    if (tile.length > 0 && b.start <= s) {
      // Within a tile the buffer lives as in the per-layer plan, cut at the split (its tensors end there).
      tileBuffers.push({ buffer: b.id, slots: tile.map((t) => stage.slot.get(t)!), bpp: tile.map(bpp), start: b.start, end: Math.min(b.end, s) });
    }
    let rest = 0;
    for (const t of b.tensors) {
      const post = t === O || (ctx.producer.get(t) ?? -1) > s || isVariable(t) || (graphInputs.has(t) && conventions.countInput);
      if (post) rest = Math.max(rest, plan.tensorBytes(t));
    }
    restBufferBytes.push(rest);
  }
  const aliveAt: number[][] = [];
  for (let k = 0; k <= s; k++) aliveAt.push(tileBuffers.map((_, i) => i).filter((i) => tileBuffers[i]!.start <= k && k <= tileBuffers[i]!.end));
  const memSlots = [...new Set(tileBuffers.flatMap((b) => b.slots))];

  // The rest runs layer by layer.
  let restPeakBytes = 0;
  let restPeakStep = -1;
  if (s + 1 < n) {
    const diff = new Float64Array(n + 1);
    plan.buffers.forEach((b, i) => {
      const bytes = restBufferBytes[i]!;
      if (bytes === 0 || b.end <= s) return;
      diff[Math.max(s + 1, b.start)]! += bytes;
      diff[b.end + 1]! -= bytes;
    });
    let acc = 0;
    for (let t = 0; t < n; t++) {
      acc += diff[t]!;
      if (t > s && (acc > restPeakBytes || restPeakStep < 0)) { restPeakBytes = acc; restPeakStep = t; }
    }
  }

  const macOps: SplitInfo['macOps'] = [];
  let stagePerLayerMacs = 0;
  for (const r of stage.rules) {
    const m = ctx.macsOf[r.op]!;
    if (m === 0) continue;
    const slot = stage.slot.get(r.outputs[0]!)!;
    const [h, w] = stage.dims[slot]!;
    macOps.push({ slot, perPixel: m / Math.max(1, h * w) });
    stagePerLayerMacs += m;
  }
  const entrySlots = stage.tensors.filter((t) => graphInputs.has(t)).map((t) => stage.slot.get(t)!);
  if (entrySlots.length === 0) {
    // No graph input inside the stage (it starts at a constant-fed operator): the first operator's data input.
    const first = stage.rules[stage.rules.length - 1];
    const x = first?.inputs[0]?.tensor;
    entrySlots.push(x !== undefined ? stage.slot.get(x)! : stage.slot.get(O)!);
  }

  const info: SplitInfo = {
    stage, tileBuffers, aliveAt, fixedBytes, memSlots, macOps, stagePerLayerMacs, restPeakBytes, restPeakStep,
    restBufferBytes, entrySlots, bands: { rows: new Map(), cols: new Map() }, symmetric: isSymmetric(stage),
  };
  ctx.splitCache.set(s, info);
  return info;
}

function axisSplit(info: SplitInfo, axis: 0 | 1, count: number): AxisSplit {
  if (axis === 1 && info.symmetric) return axisSplit(info, 0, count);
  const map = axis === 0 ? info.bands.rows : info.bands.cols;
  const cached = map.get(count);
  if (cached) return cached;
  const bands = deriveAxis(info.stage, axis, count);
  const distinct: AxisBand[] = [];
  for (const b of bands) {
    if (!distinct.some((d) => info.memSlots.every((k) => bandLen(d, k) === bandLen(b, k)))) distinct.push(b);
  }
  const macLen = new Float64Array(info.macOps.length);
  const macULen = new Float64Array(info.macOps.length);
  info.macOps.forEach(({ slot }, i) => {
    for (const b of bands) { macLen[i] += bandLen(b, slot); macULen[i] += bandULen(b, slot); }
  });
  const m = info.stage.tensors.length;
  const envelope: AxisBand = { lo: 0, hi: 0, clo: new Int32Array(m), chi: new Int32Array(m), ulo: new Int32Array(m), uhi: new Int32Array(m) };
  for (const b of bands) for (let k = 0; k < m; k++) envelope.chi[k] = Math.max(envelope.chi[k]!, bandLen(b, k));
  const dominant = bands.findIndex((b) => info.memSlots.every((k) => bandLen(b, k) === envelope.chi[k]));
  const split: AxisSplit = { bands, distinct, envelope, dominant, macLen, macULen };
  map.set(count, split);
  return split;
}

/** Peak of the layer-by-layer part after a split: no schedule with this split goes below it. */
export function restPeakOf(ctx: ScheduleContext, split: number): number {
  return splitOf(ctx, split).info.restPeakBytes;
}

const bandsOf = (info: SplitInfo, axis: 0 | 1, count: number): AxisBand[] => axisSplit(info, axis, count).bands;

function tileBufferBytes(info: SplitInfo, r: AxisBand, c: AxisBand, out: Float64Array): void {
  for (let i = 0; i < info.tileBuffers.length; i++) out[i] = bufferBytes(info.tileBuffers[i]!, r, c);
}

function peakOver(info: SplitInfo, bytes: Float64Array): { bytes: number; step: number } {
  let best = -1;
  let step = 0;
  const { aliveAt, fixedBytes } = info;
  for (let k = 0; k < aliveAt.length; k++) {
    const alive = aliveAt[k]!;
    let v = fixedBytes;
    for (let j = 0; j < alive.length; j++) v += bytes[alive[j]!]!;
    if (v > best) { best = v; step = k; }
  }
  return { bytes: Math.max(0, best), step };
}

function bufferBytes(tb: TileBuffer, r: AxisBand, c: AxisBand): number {
  let m = 0;
  for (let j = 0; j < tb.slots.length; j++) {
    const k = tb.slots[j]!;
    const h = r.chi[k]! - r.clo[k]!;
    const w = c.chi[k]! - c.clo[k]!;
    if (h > 0 && w > 0) m = Math.max(m, tb.bpp[j]! * h * w);
  }
  return Math.ceil(m);
}

/**
 * The stage's peak over all tiles. The envelope (every tensor at its longest band) bounds each step's live set from
 * above; steps are then checked exactly, largest bound first, until no remaining bound can beat the peak found.
 */
function stagePeak(info: SplitInfo, rows: AxisSplit, cols: AxisSplit, floor: number): { bytes: number; step: number; tile: [number, number]; exact: boolean } {
  const bytes = new Float64Array(info.tileBuffers.length);
  tileBufferBytes(info, rows.envelope, cols.envelope, bytes);
  if (rows.dominant >= 0 && cols.dominant >= 0) {
    // One tile is at least as large as every other in every buffer: the envelope is that tile.
    return { ...peakOver(info, bytes), tile: [rows.dominant, cols.dominant], exact: true };
  }
  const { aliveAt, fixedBytes, tileBuffers } = info;
  const bound = aliveAt.map((alive) => alive.reduce((v, i) => v + bytes[i]!, fixedBytes));
  const maxBound = Math.max(0, ...bound);
  if (floor >= 0 && maxBound <= floor) return { bytes: maxBound, step: bound.indexOf(maxBound), tile: [-1, -1], exact: false };
  const order = bound.map((_, k) => k).sort((x, y) => bound[y]! - bound[x]!);
  let best = { bytes: -1, step: 0, tile: [0, 0] as [number, number], exact: true };
  for (const k of order) {
    if (bound[k]! <= best.bytes) break;
    const alive = aliveAt[k]!;
    for (const r of rows.distinct) {
      for (const c of cols.distinct) {
        let v = fixedBytes;
        for (let j = 0; j < alive.length; j++) v += bufferBytes(tileBuffers[alive[j]!]!, r, c);
        if (v > best.bytes || (v === best.bytes && k < best.step)) best = { bytes: v, step: k, tile: [rows.bands.indexOf(r), cols.bands.indexOf(c)], exact: true };
      }
    }
  }
  best.bytes = Math.max(0, best.bytes);
  return best;
}

export interface ScheduleCost {
  split: number;
  p: number;
  q: number;
  stageOutput: number;
  stagePeakBytes: number;
  /** Stage step and tile (row band, column band) of the stage peak. */
  stagePeakStep: number;
  stagePeakTile: [number, number];
  /** False when only an upper bound of the stage peak was computed (search; the overall peak is still exact). */
  stagePeakExact: boolean;
  restPeakBytes: number;
  restPeakStep: number;
  peakBytes: number;
  peakStep: number;
  perLayerPeakBytes: number;
  macs: { model: number; stagePerLayer: number; stageExact: number; stageUniform: number };
  /** Extra MACs as fractions (0.306 = +30.6%). */
  overhead: { stageExact: number; modelExact: number; stageUniform: number; modelUniform: number };
}

/** Memory and MACs of splitting after step `split` into p×q tiles. The split must be a valid stage. */
export function evaluateSchedule(ctx: ScheduleContext, split: number, p: number, q: number): ScheduleCost {
  return evaluate(ctx, split, p, q, false);
}

/**
 * As evaluateSchedule; with `quick`, when a cheap upper bound of the stage peak is at most the rest's peak, that
 * bound stands in for the stage peak (stagePeakExact false). The overall peak is exact either way.
 */
export function evaluate(ctx: ScheduleContext, split: number, p: number, q: number, quick: boolean): ScheduleCost {
  const { info } = splitOf(ctx, split);
  const rows = axisSplit(info, 0, p);
  const cols = axisSplit(info, 1, q);

  const stage = stagePeak(info, rows, cols, quick ? info.restPeakBytes : -1);
  const stagePeakBytes = stage.bytes;
  let stageExact = 0;
  let stageUniform = 0;
  info.macOps.forEach(({ perPixel }, i) => {
    stageExact += perPixel * rows.macLen[i]! * cols.macLen[i]!;
    stageUniform += perPixel * rows.macULen[i]! * cols.macULen[i]!;
  });
  const model = ctx.modelMacs;
  const base = info.stagePerLayerMacs;
  const frac = (extra: number, of: number): number => (of > 0 ? extra / of : 0);
  const peakBytes = Math.max(stagePeakBytes, info.restPeakBytes);
  return {
    split, p, q, stageOutput: info.stage.output,
    stagePeakBytes, stagePeakStep: stage.step, stagePeakTile: stage.tile, stagePeakExact: stage.exact,
    restPeakBytes: info.restPeakBytes, restPeakStep: info.restPeakStep,
    peakBytes, peakStep: info.restPeakBytes > stagePeakBytes ? info.restPeakStep : stage.step,
    perLayerPeakBytes: ctx.perLayerPeakBytes,
    macs: { model, stagePerLayer: base, stageExact: Math.round(stageExact), stageUniform: Math.round(stageUniform) },
    overhead: {
      stageExact: frac(stageExact - base, base),
      modelExact: frac(stageExact - base, model),
      stageUniform: frac(stageUniform - base, base),
      modelUniform: frac(stageUniform - base, model),
    },
  };
}

export interface TileSizes {
  /** Stage-output band sizes per axis. */
  outputRows: number[];
  outputCols: number[];
  /** Exact input region length of each band of the stage's entry tensor (border bands are smaller). */
  inputRows: number[];
  inputCols: number[];
  /** Input tile of a uniform (interior-sized) tile, [H, W]. */
  interiorInput: [number, number];
  /** Largest output tile, [H, W]. */
  outputTile: [number, number];
}

export function tileSizes(ctx: ScheduleContext, cost: ScheduleCost): TileSizes {
  const { stage, info } = splitOf(ctx, cost.split);
  const rows = bandsOf(info, 0, cost.p);
  const cols = bandsOf(info, 1, cost.q);
  const entry = info.entrySlots[0]!;
  const o = stage.slot.get(stage.output)!;
  const outputRows = rows.map((b) => bandLen(b, o));
  const outputCols = cols.map((b) => bandLen(b, o));
  return {
    outputRows, outputCols,
    inputRows: rows.map((b) => bandLen(b, entry)),
    inputCols: cols.map((b) => bandLen(b, entry)),
    interiorInput: [Math.max(...rows.map((b) => bandULen(b, entry))), Math.max(...cols.map((b) => bandULen(b, entry)))],
    outputTile: [Math.max(...outputRows), Math.max(...outputCols)],
  };
}

/** The regions of the schedule's stage: per row band and column band (for code generation and tests). */
export function scheduleBands(ctx: ScheduleContext, split: number, p: number, q: number): { stage: Stage; rows: AxisBand[]; cols: AxisBand[] } {
  const { stage, info } = splitOf(ctx, split);
  return { stage, rows: bandsOf(info, 0, p), cols: bandsOf(info, 1, q) };
}

/** Where every buffer of a scheduled execution lives in the arena. */
export interface ScheduleArenaPlan {
  size: number;
  /** Every planned buffer: its plan buffer id, whether it is a tile buffer, its offset, size and steps. */
  rects: { buffer: number; tile: boolean; offset: number; size: number; start: number; end: number }[];
  /** Offset of each tile buffer during the stage, by per-layer plan buffer id. */
  tile: Map<number, number>;
  /** Offset of each buffer that is stored whole (stage output, counted graph input, variables, the rest), by plan buffer id. */
  whole: Map<number, number>;
}

/**
 * Arena for the scheduled execution: tile buffers (sized for the largest tile) during the stage, the stage output
 * and persistent tensors throughout, the rest as planned layer by layer. Same planner as the analysis.
 */
export function scheduleArenaPlan(ctx: ScheduleContext, cost: ScheduleCost): ScheduleArenaPlan {
  const { stage, info } = splitOf(ctx, cost.split);
  const rows = bandsOf(info, 0, cost.p);
  const cols = bandsOf(info, 1, cost.q);
  const items: PlanItem[] = [];
  const owners: { buffer: number; tile: boolean }[] = [];
  for (const tb of info.tileBuffers) {
    let m = 0;
    for (const r of rows) for (const c of cols) m = Math.max(m, bufferBytes(tb, r, c));
    items.push({ size: alignUp(m, ARENA_ALIGNMENT), start: tb.start, end: tb.end });
    owners.push({ buffer: tb.buffer, tile: true });
  }
  const s = cost.split;
  const { graph, plan, conventions } = ctx;
  const graphInputs = new Set(graph.inputs);
  plan.buffers.forEach((b, i) => {
    const bytes = info.restBufferBytes[i]!;
    if (bytes === 0) return;
    const whole = b.tensors.some((t) => t === stage.output || graph.tensors[t]!.role === 'variable' || (graphInputs.has(t) && conventions.countInput));
    if (!whole && b.end <= s) return;
    items.push({ size: alignUp(bytes, ARENA_ALIGNMENT), start: whole ? 0 : Math.max(b.start, s + 1), end: Math.max(b.end, whole ? s : 0) });
    owners.push({ buffer: b.id, tile: false });
  });
  const planned = planArena(items);
  const tile = new Map<number, number>();
  const wholeMap = new Map<number, number>();
  owners.forEach((o, i) => (o.tile ? tile : wholeMap).set(o.buffer, planned.offsets[i]!));
  const rects = owners.map((o, i) => ({ buffer: o.buffer, tile: o.tile, offset: planned.offsets[i]!, size: items[i]!.size, start: items[i]!.start, end: items[i]!.end }));
  return { size: planned.size, rects, tile, whole: wholeMap };
}

export function scheduleArena(ctx: ScheduleContext, cost: ScheduleCost): number {
  return scheduleArenaPlan(ctx, cost).size;
}

/**
 * Live bytes at every execution step under a schedule (for charts): in the stage, the largest over all tiles at that
 * step; after it, the layer-by-layer live set.
 */
export function scheduledLive(ctx: ScheduleContext, cost: ScheduleCost): number[] {
  const { info } = splitOf(ctx, cost.split);
  const rows = axisSplit(info, 0, cost.p);
  const cols = axisSplit(info, 1, cost.q);
  const n = ctx.plan.steps.length;
  const live = new Array<number>(n).fill(0);
  const bytes = new Float64Array(info.tileBuffers.length);
  for (const r of rows.distinct) {
    for (const c of cols.distinct) {
      tileBufferBytes(info, r, c, bytes);
      info.aliveAt.forEach((alive, k) => {
        let v = info.fixedBytes;
        for (const i of alive) v += bytes[i]!;
        live[k] = Math.max(live[k]!, v);
      });
    }
  }
  const s = cost.split;
  ctx.plan.buffers.forEach((b, i) => {
    const v = info.restBufferBytes[i]!;
    if (v === 0) return;
    for (let t = Math.max(s + 1, b.start); t <= Math.min(b.end, n - 1); t++) live[t]! += v;
  });
  return live;
}
