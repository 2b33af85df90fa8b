// Redistribution advisor (SPEC §4, MCUNetV2 §3.2): which operators of the patch stage cause the tile overlap, and
// what a smaller kernel there, or moving that operator after the split, would do, computed by re-running the
// schedule on an edited copy of the graph (never estimated).
//
// Share of the overlap: walking backwards, an operator with kernel k, dilation d and stride s turns an output
// extent g into s·g + (k−1)·d + 1 − s input pixels. Expressed in pixels of the stage's input (times the stride
// product P between the stage input and the operator's input), each operator adds ((k−1)·d + 1 − s)·P to the tile's
// input extent beyond the overlap-free S·T. On a chain these contributions sum exactly to the overlap; inside a
// residual block or a concat the branches run in parallel, so shares are relative to the sum over all operators.
import type { Graph, Op, Tensor } from '../graph';
import { spatialAxes } from '../graph';
import { evaluateSchedule, scheduleContext, tileSizes, type ScheduleContext, type ScheduleCost } from './cost';
import { spatialDims } from './geometry';

export interface OverlapShare {
  opIndex: number;
  op: string;
  name: string;
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
  /** Pixels of the stage input this operator adds to a tile's input extent, per axis [H, W]. */
  growth: [number, number];
  /** Fraction of the total growth (H and W summed). */
  share: number;
}

export interface WhatIf {
  opIndex: number;
  name: string;
  change: string;
  /** Interior tile input [H, W] after the change. */
  interiorInput: [number, number];
  peakBytes: number;
  overheadStage: number;
  overheadModel: number;
  /** Change of the model's per-layer MACs (a smaller kernel computes less; a moved operator runs at another size). */
  modelMacsDelta: number;
}

export interface Advice {
  split: number;
  p: number;
  q: number;
  /** Tile input overlap per axis: interior input extent minus the overlap-free extent (stride product × tile). */
  overlap: [number, number];
  shares: OverlapShare[];
  whatIfs: WhatIf[];
}

export function advise(ctx: ScheduleContext, cost: ScheduleCost): Advice {
  const { graph } = ctx;
  const st = ctx.stages[cost.split];
  if (!st || !st.ok) throw new Error(`no patch stage ends at step ${cost.split}`);
  const stage = st.stage;
  const sizes = tileSizes(ctx, cost);
  // Stride product from the stage input to every tensor, walking the stage forwards.
  const strideTo = new Map<number, [number, number]>();
  const strideOf = (t: number): [number, number] => strideTo.get(t) ?? [1, 1];
  const shares: OverlapShare[] = [];
  for (const r of stage.rules.slice().reverse()) {
    let out: [number, number] = [1, 1];
    for (const { tensor, rule } of r.inputs) {
      const P = strideOf(tensor);
      const s = rule.kind === 'window' ? [P[0] * rule.strides[0], P[1] * rule.strides[1]] : P;
      out = [Math.max(out[0], s[0]!), Math.max(out[1], s[1]!)];
      if (rule.kind !== 'window') continue;
      const growth = [0, 1].map((a) => ((rule.kernel[a]! - 1) * rule.dilations[a]! + 1 - rule.strides[a]!) * P[a]!) as [number, number];
      const op = graph.ops[r.op]!;
      shares.push({ opIndex: op.index, op: op.sourceType, name: op.name, kernel: rule.kernel, strides: rule.strides, dilations: rule.dilations, growth, share: 0 });
    }
    for (const o of r.outputs) strideTo.set(o, out);
  }
  const total = shares.reduce((a, s) => a + Math.max(0, s.growth[0]) + Math.max(0, s.growth[1]), 0);
  for (const s of shares) s.share = total > 0 ? (Math.max(0, s.growth[0]) + Math.max(0, s.growth[1])) / total : 0;
  const S = strideOf(stage.output);
  const overlap: [number, number] = [sizes.interiorInput[0] - S[0] * sizes.outputTile[0], sizes.interiorInput[1] - S[1] * sizes.outputTile[1]];
  const outDims = spatialDims(graph, stage.output) ?? [1, 1];

  const whatIfs: WhatIf[] = [];
  for (const s of shares) {
    if (s.share <= 0) continue;
    const op = graph.ops[s.opIndex]!;
    const k = op.attrs.spatial!.kernel!;
    if (k[0] > 1 || k[1] > 1) {
      const smaller: [number, number] = [Math.max(1, k[0] - 2), Math.max(1, k[1] - 2)];
      const edited = withKernel(graph, op, smaller);
      const w = edited && whatIf(ctx, edited, stage.output, cost, op, `kernel ${k.join('×')} → ${smaller.join('×')}`);
      if (w) whatIfs.push(w);
    }
    const moved = movedAfterSplit(graph, op, stage.output, new Set(ctx.plan.steps.slice(0, cost.split + 1).flatMap((x) => x.ops)));
    const w = moved && whatIf(ctx, moved, stage.output, cost, op, `moved after the split (runs on the ${outDims.join('×')} stage output)`);
    if (w) whatIfs.push(w);
  }
  return { split: cost.split, p: cost.p, q: cost.q, overlap, shares, whatIfs };
}

function whatIf(ctx: ScheduleContext, edited: Graph, output: number, base: ScheduleCost, op: Op, change: string): WhatIf | null {
  const c2 = scheduleContext(edited, ctx.conventions);
  const st = c2.stages.find((s) => s.ok && s.stage.output === output);
  if (!st || !st.ok) return null;
  const cost = evaluateSchedule(c2, st.stage.split, base.p, base.q);
  const sizes = tileSizes(c2, cost);
  return {
    opIndex: op.index, name: op.name, change,
    interiorInput: sizes.interiorInput,
    peakBytes: cost.peakBytes,
    overheadStage: cost.overhead.stageExact,
    overheadModel: cost.overhead.modelExact,
    modelMacsDelta: c2.modelMacs - ctx.modelMacs,
  };
}

/** A copy of the graph whose ops and tensors can be edited without touching the original. */
function copyGraph(graph: Graph): Graph {
  return {
    ...graph,
    tensors: graph.tensors.map((t) => ({ ...t })),
    ops: graph.ops.map((o) => ({ ...o, inputs: o.inputs.slice(), params: o.params.slice(), outputs: o.outputs.slice(), attrs: { ...o.attrs } })),
    inputs: graph.inputs.slice(),
    outputs: graph.outputs.slice(),
    notes: [],
  };
}

/** The same network with a smaller kernel at `op`, padded so every tensor keeps its size. */
function withKernel(graph: Graph, op: Op, kernel: [number, number]): Graph | null {
  const sp = op.attrs.spatial;
  if (!sp?.kernel) return null;
  const g = copyGraph(graph);
  const o = g.ops[op.index]!;
  const cut = [0, 1].map((a) => (sp.kernel![a]! - kernel[a]!) * sp.dilations[a]!);
  const pads: [number, number, number, number] = [
    sp.pads[0] - Math.floor(cut[0]! / 2), sp.pads[1] - Math.floor(cut[1]! / 2),
    sp.pads[2] - Math.ceil(cut[0]! / 2), sp.pads[3] - Math.ceil(cut[1]! / 2),
  ];
  if (pads.some((p) => p < 0)) return null; // a 'valid' convolution would change the sizes downstream
  o.attrs.spatial = { ...sp, kernel, pads, padding: 'explicit' };
  const w = o.inputs[1];
  if (w !== undefined && w >= 0) {
    const wt = g.tensors[w]!;
    if (wt.shape) {
      const shape = wt.shape.slice();
      const hw = g.format === 'onnx' ? [2, 3] : [1, 2];
      shape[hw[0]!] = kernel[0];
      shape[hw[1]!] = kernel[1];
      g.tensors[w] = { ...wt, shape, storage: [] };
    }
  }
  return g;
}

/**
 * The same network with `op` (stride 1, output the size of its input) removed from the stage and re-inserted right
 * after the split, working on the stage output's channels. Returns null when the operator changes the tensor size.
 */
function movedAfterSplit(graph: Graph, op: Op, output: number, stageOps: ReadonlySet<number>): Graph | null {
  if (!['Conv2D', 'DepthwiseConv2D', 'MaxPool2D', 'AvgPool2D'].includes(op.kind)) return null;
  const x = op.inputs[0]!;
  const y = op.outputs[0]!;
  if (op.outputs.length !== 1 || y === output || x < 0) return null;
  const xt = graph.tensors[x]!;
  const yt = graph.tensors[y]!;
  const ot = graph.tensors[output]!;
  if (!xt.shape || !yt.shape || !ot.shape || xt.shape.join() !== yt.shape.join()) return null;
  if (graph.outputs.includes(y)) return null;
  const ax = spatialAxes(ot.layout);
  if (!ax) return null;
  const channels = ot.shape[ax.c]!;

  const g = copyGraph(graph);
  // Remove the operator: its readers read its input instead.
  for (const o of g.ops) {
    if (o.index === op.index) continue;
    o.inputs = o.inputs.map((t) => (t === y ? x : t));
    o.params = o.params.map((t) => (t === y ? x : t));
  }
  // The moved operator reads the stage output and feeds everything that read the stage output after the split.
  const moved: Op = { ...g.ops[op.index]!, inputs: g.ops[op.index]!.inputs.slice(), outputs: [], attrs: { ...op.attrs } };
  const newOut: Tensor = { ...ot, id: g.tensors.length, name: `${ot.name}:moved`, shapeFromFile: false };
  g.tensors.push(newOut);
  moved.inputs[0] = output;
  moved.outputs = [newOut.id];
  moved.name = `${op.name} (moved)`;
  if (op.kind === 'Conv2D' || op.kind === 'DepthwiseConv2D') {
    const w = op.inputs[1]!;
    const wt = g.tensors[w]!;
    const k = op.attrs.spatial!.kernel!;
    const dw = op.kind === 'DepthwiseConv2D';
    if (!dw && (op.attrs.group ?? 1) > 1) return null; // grouped convolution: no channel count to carry over
    const shape = g.format === 'onnx' ? [channels, dw ? 1 : channels, k[0], k[1]] : dw ? [1, k[0], k[1], channels] : [channels, k[0], k[1], channels];
    const wNew: Tensor = { ...wt, id: g.tensors.length, name: `${wt.name}:moved`, shape, storage: [], values: undefined };
    g.tensors.push(wNew);
    moved.inputs[1] = wNew.id;
    if (moved.inputs.length > 2) moved.inputs[2] = -1;
    if (dw) { moved.attrs.group = channels; moved.attrs.depthMultiplier = 1; }
  }
  // Inserted after the stage's last file operator; every operator outside the stage reads the moved one's output.
  const at = Math.max(...stageOps);
  const rest = g.ops.filter((o) => o.index !== op.index);
  for (const o of rest) {
    if (stageOps.has(o.index)) continue;
    o.inputs = o.inputs.map((t) => (t === output ? newOut.id : t));
    o.params = o.params.map((t) => (t === output ? newOut.id : t));
  }
  g.outputs = g.outputs.map((t) => (t === output ? newOut.id : t));
  const pos = rest.findIndex((o) => o.index > at);
  const ops = pos < 0 ? [...rest, moved] : [...rest.slice(0, pos), moved, ...rest.slice(pos)];
  g.ops = ops.map((o, i) => ({ ...o, index: i }));
  return g;
}
