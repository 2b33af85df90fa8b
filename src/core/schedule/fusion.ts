// Inverted residuals fused per output pixel inside a line-buffered segment (issue 13; msf-CNN's fusion). In a block
//   x → 1×1 expansion → E → k×k depthwise → D → 1×1 projection → P
// the projection computes its output pixel by pixel, each pixel's depthwise outputs (all channels of D at that pixel)
// computed just before it in a scratch of one pixel: D is never stored, and nothing is computed twice. With `expand`
// the depthwise convolution computes each channel's window of E from x just before it (a scratch of k×k values), so
// E is not stored either; each pixel of E is then computed once per window that reads it, up to k×k times.
//
// This file knows which steps form such blocks and what fusing them costs; the segment's simulation (stream.ts) treats
// D (and E) as computed on demand, and the C export (codegen/program.ts) runs the projection's rows with mm_irb_*.
import type { ScheduleContext } from './cost';
import { regionRules, spatialDims, type RegionRule } from './geometry';
import type { Step } from '../analysis/steps';
import type { Graph, Op } from '../graph';

/** A fused block of a segment, named by its depthwise step. */
export interface FusedBlock {
  step: number;
  /** Also recompute the 1×1 expansion before the depthwise convolution (its output not stored). */
  expand: boolean;
}

export interface BlockFacts {
  /** Steps: the 1×1 expansion (null: the depthwise convolution reads a tensor no such step produces alone), the
   *  depthwise convolution and the 1×1 projection. */
  expand: number | null;
  dw: number;
  project: number;
  /** E (the depthwise input) and D (its output). */
  wide: number;
  mid: number;
  /** The residual Add right after the projection, when it is the projection's only reader: the block then runs as
   *  that Add's kernel, the projection's pixel in a scratch too (P not stored). */
  residual: { step: number; out: number } | null;
  /** P (the projection's output) and its channels. */
  out: number;
  outChannels: number;
  /** The depthwise convolution's window on E. */
  rule: Extract<RegionRule, { kind: 'window' }>;
  /** Channels of D, bytes per element of D, and E's and D's [H, W]. */
  channels: number;
  elemBytes: number;
  inDims: [number, number];
  outDims: [number, number];
}

/** Activations a convolution kernel applies as its output clamp. */
const CLAMP_ACTIVATIONS: ReadonlySet<string> = new Set(['relu', 'relu6', 'relu_n1_to_1', 'clip']);

/** A step that is one convolution call: its operators after the convolution are at most a clamp (float), or clamps
 *  and the QuantizeLinear that ends them (int8 QDQ); the fused kernel runs it element by element. */
export function plainConv(graph: Graph, step: Step): boolean {
  const chain = step.ops.slice(1).map((i) => graph.ops[i]!).filter((o) => o.kind !== 'Dequantize');
  const clamp = (o: Op): boolean => o.kind === 'Activation' && CLAMP_ACTIVATIONS.has(o.attrs.activation ?? '');
  if (chain.length === 0) return true;
  const last = chain[chain.length - 1]!;
  if (last.kind === 'Quantize') return chain.slice(0, -1).every(clamp);
  return chain.length === 1 && clamp(last) && graph.tensors[step.outputs[0]!]!.dtype === 'float32';
}

export const is1x1 = (op: Op): boolean => {
  const sp = op.attrs.spatial;
  return op.kind === 'Conv2D' && (op.attrs.group ?? 1) === 1 && !!sp?.kernel && sp.kernel[0] === 1 && sp.kernel[1] === 1 &&
    sp.strides[0] === 1 && sp.strides[1] === 1 && sp.pads.every((p) => p === 0);
};

/** Every block a segment may fuse, by its depthwise step (cached per context). */
const blocksCache = new WeakMap<ScheduleContext, Map<number, BlockFacts>>();
export function fusibleBlocks(ctx: ScheduleContext): Map<number, BlockFacts> {
  const cached = blocksCache.get(ctx);
  if (cached) return cached;
  const { graph, plan } = ctx;
  const readers = new Map<number, Op[]>();
  for (const o of graph.ops) for (const t of new Set(o.inputs)) if (t >= 0) readers.set(t, [...(readers.get(t) ?? []), o]);
  const graphOutputs = new Set(graph.outputs);
  /** A tensor read by exactly this operator, stored in a buffer of the plan, not a graph output. */
  const private1 = (t: number, reader: Op): boolean => {
    const r = readers.get(t) ?? [];
    return r.length === 1 && r[0] === reader && !graphOutputs.has(t) && (plan.bufferOf[t] ?? -1) >= 0 && graph.tensors[t]!.role !== 'variable';
  };
  const out = new Map<number, BlockFacts>();
  for (let d = 0; d + 1 < plan.steps.length; d++) {
    const step = plan.steps[d]!;
    const dw = graph.ops[step.main]!;
    const sp = dw.attrs.spatial;
    if (dw.kind !== 'DepthwiseConv2D' || (dw.attrs.depthMultiplier ?? 1) !== 1 || step.outputs.length !== 1 || !sp || !plainConv(graph, step)) continue;
    if (sp.dilations[0] !== 1 || sp.dilations[1] !== 1) continue;
    const rules = regionRules(graph, dw);
    if ('reason' in rules || rules.inputs[0]?.rule.kind !== 'window') continue;
    const mid = step.outputs[0]!;
    const next = plan.steps[d + 1]!;
    const project = graph.ops[next.main]!;
    if (!is1x1(project) || project.inputs[0] !== mid || !private1(mid, project)) continue;
    const wide = dw.inputs[0]!;
    const prev = d > 0 ? plan.steps[d - 1]! : null;
    const ex = prev ? graph.ops[prev.main]! : null;
    const expand = prev && ex && is1x1(ex) && plainConv(graph, prev) && prev.outputs.length === 1 && prev.outputs[0] === wide && private1(wide, dw) ? d - 1 : null;
    const inDims = spatialDims(graph, wide);
    const outDims = spatialDims(graph, mid);
    const m = graph.tensors[mid]!;
    // Float and int8 run fused (mm_irb_f32, mm_irb_s8); int16 stays unfused.
    if (!inDims || !outDims || !m.shape || [wide, mid].some((t) => graph.tensors[t]!.dtype === 'int16')) continue;
    const elements = m.shape.reduce((a, b) => a * b, 1);
    const channels = elements / Math.max(1, outDims[0] * outDims[1]);
    const p = next.outputs[0]!;
    const pShape = graph.tensors[p]!.shape;
    const outChannels = next.outputs.length === 1 && pShape ? pShape.reduce((a, b) => a * b, 1) / Math.max(1, outDims[0] * outDims[1]) : 0;
    // The residual Add: the next step is exactly an Add of P and a stored map of P's shape, P read by it alone.
    const after = plan.steps[d + 2];
    const add = after ? graph.ops[after.main]! : null;
    let residual: BlockFacts['residual'] = null;
    if (after && add && add.kind === 'Add' && after.ops.length === 1 && after.outputs.length === 1 && plainConv(graph, next) && outChannels > 0 && private1(p, add)) {
      const data = add.inputs.filter((t) => t >= 0 && graph.tensors[t]!.role !== 'constant');
      const skip = data.find((t) => t !== p);
      const same = (t: number): boolean => JSON.stringify(graph.tensors[t]!.shape) === JSON.stringify(pShape);
      if (data.length === 2 && data.includes(p) && skip !== undefined && same(skip) && same(after.outputs[0]!) && graph.tensors[p]!.dtype !== 'int16') {
        residual = { step: d + 2, out: after.outputs[0]! };
      }
    }
    out.set(d, {
      expand, dw: d, project: d + 1, wide, mid, rule: rules.inputs[0]!.rule, channels, residual, out: p, outChannels,
      elemBytes: plan.tensorBytes(mid) / Math.max(1, elements), inDims, outDims,
    });
  }
  blocksCache.set(ctx, out);
  return out;
}

/** Positions of E a window reads along an axis (0: H, 1: W) for outputs [lo, hi): the sum of each one's taps inside
 *  the map (the padding is not computed). */
export function tapsAlong(b: BlockFacts, axis: 0 | 1, lo: number, hi: number): number {
  const { kernel, strides, before } = b.rule;
  const size = b.inDims[axis];
  let n = 0;
  for (let o = lo; o < hi; o++) {
    const first = o * strides[axis] - before[axis];
    n += Math.max(0, Math.min(size, first + kernel[axis]) - Math.max(0, first));
  }
  return n;
}

/** MACs the expansion of a block computes beyond its per-layer MACs when recomputed per window, for the output
 *  columns [c0, c1) of each band (one band of all columns: full rows). */
export function recomputedMacs(ctx: ScheduleContext, b: BlockFacts, bands: readonly [number, number][]): number {
  if (b.expand === null) return 0;
  const perPixel = ctx.macsOf[ctx.plan.steps[b.expand]!.main]! / Math.max(1, b.inDims[0] * b.inDims[1]);
  const ty = tapsAlong(b, 0, 0, b.outDims[0]);
  const tx = bands.reduce((a, [c0, c1]) => a + tapsAlong(b, 1, c0, c1), 0);
  return perPixel * (ty * tx) - ctx.macsOf[ctx.plan.steps[b.expand]!.main]!;
}

/** Scratch of a fused block while it runs: one pixel of D (all channels); recomputing the expansion, one window of
 *  one channel of E; running as its residual Add, one pixel of P. */
export function scratchBytes(b: BlockFacts, expand: boolean, residual: boolean): number {
  return Math.ceil(b.elemBytes * (b.channels + (expand ? b.rule.kernel[0] * b.rule.kernel[1] : 0) + (residual ? b.outChannels : 0)));
}
