// Tile geometry of patch-based inference (MCUNetV2, SPEC §4). The network is split after an execution step; the
// stage output is cut into p×q tiles; each tile's input region of every stage tensor is derived backwards through the
// file operators of the stage (window ops by kernel, stride, dilation and padding; Pad shifts; elementwise ops keep
// the region; a tensor read by several operators gets the union of their needs), clamped at the borders.
// Rows and columns are independent, so each axis is derived once per band ("row band" i, "column band" j) and a tile
// is the product of a row band and a column band. Regions are in each tensor's own H and W coordinates, read through
// its layout letters, so NCHW (ONNX) and NHWC (TFLite) graphs of the same network give the same regions.
import type { Graph, Op } from '../graph';
import { spatialAxes } from '../graph';
import type { ExecPlan } from '../analysis/steps';
import { OP_RULES } from '../analysis/ops';

/** How an operator maps the region of its output to the region of one data input, per axis (0 = H, 1 = W). */
export type RegionRule =
  | { kind: 'window'; kernel: [number, number]; strides: [number, number]; dilations: [number, number]; before: [number, number] }
  | { kind: 'shift'; before: [number, number] }
  | { kind: 'same' }
  | { kind: 'full' };

export interface OpRegions {
  op: number;
  outputs: number[];
  inputs: { tensor: number; rule: RegionRule }[];
}

/** [H, W] of a tensor with spatial layout letters and a known shape, else null. */
export function spatialDims(graph: Graph, id: number): [number, number] | null {
  const t = graph.tensors[id];
  if (!t?.shape) return null;
  const ax = spatialAxes(t.layout);
  if (!ax) return null;
  return [t.shape[ax.h]!, t.shape[ax.w]!];
}

/** The batch of a 2-D map (its axis other than C, H and W); 1 for other tensors. */
export function batchOf(graph: Graph, id: number): number {
  const t = graph.tensors[id];
  const ax = t?.shape?.length === 4 ? spatialAxes(t.layout) : null;
  return ax ? t!.shape!.find((_, a) => a !== ax.c && a !== ax.h && a !== ax.w) ?? 1 : 1;
}

const label = (op: Op): string => `${op.sourceType} '${op.name}'`;

/** Axis letter of a tensor axis, or '' when unknown. */
function axisLetter(graph: Graph, tensor: number, axis: number | undefined): string {
  const t = graph.tensors[tensor];
  if (axis === undefined || !t?.shape || !t.layout) return '';
  const a = axis < 0 ? axis + t.shape.length : axis;
  return t.layout[a] ?? '';
}

/**
 * The region rule of one file operator, or the reason it cannot run tile by tile inside a patch stage.
 * Constants (weights) are not regions; only data inputs get a rule.
 */
/** Elementwise-kind operators whose output element depends on other positions of the input (scans, normalizations
 *  over an axis, gathers and scatters, position-dependent masks): they shape like elementwise ones but cannot run on
 *  a tile. */
const ALONG_AXES: ReadonlySet<string> = new Set(['cumsum', 'cumprod', 'hardmax', 'trilu', 'eyelike', 'reversesequence', 'groupnorm',
  'rmsnorm', 'mvn', 'lpnorm', 'normalizer', 'scatter', 'gatherelements', 'isoftmax', 'ilayernorm', 'irmsnorm', 'inonorm', 'itamax',
  'itapartialmax', 'random', 'bernoulli', 'rotaryembedding']);

export function regionRules(graph: Graph, op: Op): OpRegions | { reason: string } {
  if (op.unsupported) return { reason: `${label(op)} is not supported (${op.unsupported})` };
  const isData = (id: number): boolean => id >= 0 && graph.tensors[id]!.role !== 'constant';
  const data = [...new Set(op.inputs.filter(isData))];
  for (const o of op.outputs) {
    if (!spatialDims(graph, o)) return { reason: `${label(op)} produces '${graph.tensors[o]!.name}', which has no spatial (H, W) layout` };
  }
  const out = spatialDims(graph, op.outputs[0] ?? -1);
  if (!out) return { reason: `${label(op)} has no spatial output` };
  // Tiles and rows are regions of one map: a batch of several is run whole (the export runs it map by map).
  for (const id of [...data, ...op.outputs]) {
    const n = batchOf(graph, id);
    if (n > 1) return { reason: `${label(op)}: '${graph.tensors[id]!.name}' holds a batch of ${n} maps; tiles and rows cover one map` };
  }
  const inputs: OpRegions['inputs'] = [];
  if (OP_RULES[op.kind].tiling === 'window') {
    const sp = op.attrs.spatial;
    const x = op.inputs[0] ?? -1;
    if (!sp?.kernel) return { reason: `${label(op)}: kernel size unknown` };
    if (!spatialDims(graph, x)) return { reason: `${label(op)}: input has no spatial layout` };
    inputs.push({
      tensor: x,
      rule: { kind: 'window', kernel: sp.kernel, strides: sp.strides, dilations: sp.dilations, before: [sp.pads[0], sp.pads[1]] },
    });
    return { op: op.index, outputs: op.outputs.slice(), inputs };
  }
  if (OP_RULES[op.kind].tiling === 'shift') {
    if (op.sourceType === 'MIRROR_PAD' || op.attrs.activation === 'other') return { reason: `${label(op)}: reflect/edge padding reads interior pixels; only constant padding can be tiled` };
    const x = op.inputs[0] ?? -1;
    const t = graph.tensors[x];
    const ax = spatialAxes(t?.layout ?? null);
    const pads = op.attrs.padAmounts;
    if (!t?.shape || !ax || !pads || pads.length !== 2 * t.shape.length) return { reason: `${label(op)}: padding amounts or layout unknown` };
    inputs.push({ tensor: x, rule: { kind: 'shift', before: [pads[ax.h]!, pads[ax.w]!] } });
    return { op: op.index, outputs: op.outputs.slice(), inputs };
  }
  if (OP_RULES[op.kind].tiling === 'same') {
    if (op.kind === 'Elementwise' && ALONG_AXES.has(op.attrs.fn ?? '')) return { reason: `${label(op)} computes along the tensor's axes (${op.attrs.fn}), not pixel by pixel` };
    // Instance and layer normalization share the BatchNorm kind, but their statistics come from the whole map.
    if (op.kind === 'BatchNorm' && op.sourceType !== 'BatchNormalization') return { reason: `${label(op)} normalizes with statistics of the whole feature map` };
    if ((op.kind === 'Concat' || op.kind === 'Split') && /[HW]/.test(axisLetter(graph, op.outputs[0]!, op.attrs.axis ?? 0))) {
      return { reason: `${label(op)} works along a spatial axis` };
    }
    for (const o of op.outputs) {
      const d = spatialDims(graph, o)!;
      if (d[0] !== out[0] || d[1] !== out[1]) return { reason: `${label(op)}: outputs of different spatial sizes` };
    }
    for (const x of data) {
      const d = spatialDims(graph, x);
      if (!d) return { reason: `${label(op)} reads '${graph.tensors[x]!.name}', which has no spatial (H, W) layout` };
      if (d[0] === out[0] && d[1] === out[1]) inputs.push({ tensor: x, rule: { kind: 'same' } });
      else if (d[0] === 1 && d[1] === 1) inputs.push({ tensor: x, rule: { kind: 'full' } });
      else return { reason: `${label(op)} combines feature maps of different sizes (${d.join('×')} and ${out.join('×')})` };
    }
    return { op: op.index, outputs: op.outputs.slice(), inputs };
  }
  switch (OP_RULES[op.kind].tiling) {
    case 'whole':
      return { reason: `${label(op)} needs the whole feature map` };
    case 'rearrange':
      return { reason: `${label(op)} rearranges the tensor; it cannot run on a tile` };
    default:
      return { reason: `${label(op)} (${op.kind}) cannot run tile by tile` };
  }
}

/** A patch stage: the execution steps 0..split, their file operators and the tensors they touch. */
export interface Stage {
  /** Last execution step of the stage. */
  split: number;
  /** The stage output: the one tensor the stage produces that is still needed after it. */
  output: number;
  /** Region rules of the stage's file operators, in reverse execution order. */
  rules: OpRegions[];
  /** Every tensor the stage reads or writes, and its index ("slot") in the per-band arrays. */
  tensors: number[];
  slot: Map<number, number>;
  /** Spatial size [H, W] per slot. */
  dims: [number, number][];
  /** The rules with tensors replaced by slots (built on first use). */
  compiled?: { outs: number[]; ins: { slot: number; rule: RegionRule }[] }[];
}

export type StageOrReason = { ok: true; stage: Stage } | { ok: false; split: number; reason: string };

/**
 * Every split point of a plan: the stage after each execution step, or why that split is not possible. A split is
 * possible when every operator up to it runs tile by tile and exactly one tensor it produces is needed afterwards.
 */
export function stagesOf(graph: Graph, plan: ExecPlan): StageOrReason[] {
  const n = plan.steps.length;
  const producer = new Map<number, number>();
  const lastUse = new Map<number, number>();
  plan.steps.forEach((s, i) => {
    for (const o of s.outputs) producer.set(o, i);
    for (const x of s.inputs) lastUse.set(x, Math.max(lastUse.get(x) ?? -1, i));
  });
  for (const o of graph.outputs) lastUse.set(o, n);
  const result: StageOrReason[] = [];
  const rules: OpRegions[] = [];
  let blocked: string | null = null;
  for (let s = 0; s < n; s++) {
    const step = plan.steps[s]!;
    if (!blocked) {
      // File operators of the step in file order (a fused step lists its executed operator first).
      for (const oi of [...step.ops].sort((a, b) => a - b)) {
        const r = regionRules(graph, graph.ops[oi]!);
        if ('reason' in r) { blocked = `step #${s}: ${r.reason}`; break; }
        rules.push(r);
      }
    }
    if (blocked) { result.push({ ok: false, split: s, reason: blocked }); continue; }
    const crossing: number[] = [];
    for (const [t, p] of producer) if (p <= s && (lastUse.get(t) ?? -1) > s) crossing.push(t);
    if (crossing.length !== 1) {
      result.push({
        ok: false, split: s,
        reason: crossing.length === 0
          ? 'nothing produced up to here is used later'
          : `${crossing.length} tensors cross the split (${crossing.slice(0, 3).map((t) => `'${graph.tensors[t]!.name}'`).join(', ')}${crossing.length > 3 ? ', …' : ''}); a skip connection or branch is still open`,
      });
      continue;
    }
    const output = crossing[0]!;
    const tensors: number[] = [];
    const slot = new Map<number, number>();
    const add = (t: number): void => { if (!slot.has(t)) { slot.set(t, tensors.length); tensors.push(t); } };
    add(output);
    for (const r of rules) { r.outputs.forEach(add); r.inputs.forEach((i) => add(i.tensor)); }
    const dims = tensors.map((t) => spatialDims(graph, t) ?? [1, 1] as [number, number]);
    result.push({ ok: true, stage: { split: s, output, rules: rules.slice().reverse(), tensors, slot, dims } });
  }
  return result;
}

/** The regions of every stage tensor along one axis for one band of the stage output. Empty: lo >= hi. */
export interface AxisBand {
  /** The band of the stage output, [lo, hi). */
  lo: number;
  hi: number;
  /** Per slot: exact region, clamped at the borders (what is computed). */
  clo: Int32Array;
  chi: Int32Array;
  /** Per slot: region of a tile computed at full size with padding as data (the paper's and TinyEngine's count),
   *  never longer than the tensor. */
  ulo: Int32Array;
  uhi: Int32Array;
}

/** Bands of a stage output axis of size n cut into `count` parts: [floor(i·n/count), floor((i+1)·n/count)). */
export function bandBounds(n: number, count: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < count; i++) out.push([Math.floor((i * n) / count), Math.floor(((i + 1) * n) / count)]);
  return out;
}

const EMPTY_LO = 2 ** 30;
const EMPTY_HI = -(2 ** 30);

/** Derives the regions along `axis` (0 = H, 1 = W) of every stage tensor for the band [lo, hi) of the stage output. */
export function deriveBand(stage: Stage, axis: 0 | 1, lo: number, hi: number): AxisBand {
  const m = stage.tensors.length;
  const all = new Int32Array(4 * m);
  const clo = all.subarray(0, m).fill(EMPTY_LO);
  const chi = all.subarray(m, 2 * m).fill(EMPTY_HI);
  const ulo = all.subarray(2 * m, 3 * m).fill(EMPTY_LO);
  const uhi = all.subarray(3 * m).fill(EMPTY_HI);
  const o = stage.slot.get(stage.output)!;
  clo[o] = lo; chi[o] = hi; ulo[o] = lo; uhi[o] = hi;
  stage.compiled ??= stage.rules.map((r) => ({
    outs: r.outputs.map((t) => stage.slot.get(t)!),
    ins: r.inputs.map((i) => ({ slot: stage.slot.get(i.tensor)!, rule: i.rule })),
  }));
  for (const r of stage.compiled) {
    let cl = EMPTY_LO, ch = EMPTY_HI, ul = EMPTY_LO, uh = EMPTY_HI;
    for (const k of r.outs) {
      if (clo[k]! < chi[k]!) { cl = Math.min(cl, clo[k]!); ch = Math.max(ch, chi[k]!); }
      if (ulo[k]! < uhi[k]!) { ul = Math.min(ul, ulo[k]!); uh = Math.max(uh, uhi[k]!); }
    }
    if (cl >= ch && ul >= uh) continue; // nothing downstream needs this operator
    for (const { slot: k, rule } of r.ins) {
      const size = stage.dims[k]![axis];
      let a = cl, b = ch, ua = ul, ub = uh;
      switch (rule.kind) {
        case 'window': {
          const s = rule.strides[axis], d = rule.dilations[axis], kk = rule.kernel[axis], before = rule.before[axis];
          const span = (kk - 1) * d + 1;
          if (a < b) { a = Math.max(0, cl * s - before); b = Math.min(size, (ch - 1) * s - before + span); }
          if (ua < ub) { ua = ul * s - before; ub = (uh - 1) * s - before + span; }
          break;
        }
        case 'shift': {
          const before = rule.before[axis];
          if (a < b) { a = Math.max(0, cl - before); b = Math.min(size, ch - before); }
          if (ua < ub) { ua = ul - before; ub = uh - before; }
          break;
        }
        case 'same':
          break;
        case 'full':
          if (a < b) { a = 0; b = size; }
          if (ua < ub) { ua = 0; ub = size; }
          break;
      }
      if (a < b) { clo[k] = Math.min(clo[k]!, a); chi[k] = Math.max(chi[k]!, b); }
      if (ua < ub) {
        ulo[k] = Math.min(ulo[k]!, ua);
        uhi[k] = Math.max(uhi[k]!, ub);
        // No tile computes more than the whole map (an axis cut into one band has no overlap).
        if (uhi[k]! - ulo[k]! > size) { ulo[k] = 0; uhi[k] = size; }
      }
    }
  }
  return { lo, hi, clo, chi, ulo, uhi };
}

/** Length of slot k in a band (0 when empty). */
export const bandLen = (b: AxisBand, k: number): number => Math.max(0, b.chi[k]! - b.clo[k]!);
export const bandULen = (b: AxisBand, k: number): number => Math.max(0, b.uhi[k]! - b.ulo[k]!);

/** All bands of one axis for `count` parts. */
/** True when both axes give the same regions: every size square and every rule the same along H and W. */
export function isSymmetric(stage: Stage): boolean {
  if (!stage.dims.every(([h, w]) => h === w)) return false;
  return stage.rules.every((r) => r.inputs.every(({ rule }) => {
    switch (rule.kind) {
      case 'window':
        return rule.kernel[0] === rule.kernel[1] && rule.strides[0] === rule.strides[1] && rule.dilations[0] === rule.dilations[1] && rule.before[0] === rule.before[1];
      case 'shift':
        return rule.before[0] === rule.before[1];
      default:
        return true;
    }
  }));
}

export function deriveAxis(stage: Stage, axis: 0 | 1, count: number): AxisBand[] {
  const n = stage.dims[stage.slot.get(stage.output)!]![axis];
  return bandBounds(n, count).map(([lo, hi]) => deriveBand(stage, axis, lo, hi));
}

/** One tile's region of one tensor: rows [h0, h1) and columns [w0, w1) in the tensor's own H/W coordinates. */
export interface TileRegion {
  tensor: number;
  h: [number, number];
  w: [number, number];
}

/** The exact (clamped) regions of every stage tensor for tile (row band i, column band j); empty regions left out. */
export function tileRegions(stage: Stage, rows: AxisBand, cols: AxisBand): TileRegion[] {
  const out: TileRegion[] = [];
  stage.tensors.forEach((t, k) => {
    if (bandLen(rows, k) === 0 || bandLen(cols, k) === 0) return;
    out.push({ tensor: t, h: [rows.clo[k]!, rows.chi[k]!], w: [cols.clo[k]!, cols.chi[k]!] });
  });
  return out;
}
