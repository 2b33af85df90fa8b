// The analysis of SPEC §3: per executed operator the activation bytes, live set, weights and MACs; the peak; the
// arena plan next to TFLM's greedy plan and the lower bound; blocks; optionally a better operator order.
import type { Graph, Op, Tensor } from '../graph';
import { bytesFor } from '../graph';
import { findBlocks, type Block } from './blocks';
import { ARENA_ALIGNMENT, DEFAULT_CONVENTIONS, describeConventions, type Conventions } from './conventions';
import { alignUp, greedyBySize, lowerBound, planArena, type PlanItem } from './planner';
import { opMacs } from './ops';
import { findBestOrder } from './reorder';
import { buildExecPlan, liveBytes, type ExecPlan } from './steps';

export interface TensorSummary {
  name: string;
  dtype: string;
  shape: number[] | null;
  layout: string | null;
  bytes: number;
}

export interface OpRow {
  /** Position in execution order. */
  index: number;
  /** Executed operator type in the file's vocabulary, fused operators joined with '+': 'Conv+Clip'. */
  op: string;
  kind: string;
  name: string;
  /** File operator indices folded into this step. */
  sourceOps: number[];
  inputShapes: (number[] | null)[];
  outputShapes: (number[] | null)[];
  inputBytes: number;
  outputBytes: number;
  liveBytes: number;
  weightsBytes: number;
  macs: number;
  unsupported?: string;
}

export interface BufferRow {
  name: string;
  bytes: number;
  /** Execution steps (OpRow.index) of first and last use. */
  firstOp: number;
  lastOp: number;
  offset: number;
  /** All tensors sharing this buffer (in-place steps). */
  tensors: string[];
}

export interface BlockRow extends Block {
  peakLiveBytes: number;
  macs: number;
  weightsBytes: number;
}

export interface Unsupported {
  opIndex: number;
  op: string;
  name: string;
  reason: string;
}

export interface ReorderReport {
  peakBytes: number;
  arenaBytes: number;
  improved: boolean;
  complete: boolean;
  /** Execution order as OpRow indices of the stored order. */
  order: number[];
}

export interface Analysis {
  format: Graph['format'];
  conventions: Conventions;
  conventionsText: string[];
  inputs: TensorSummary[];
  outputs: TensorSummary[];
  fileOps: number;
  ops: OpRow[];
  peakBytes: number;
  /** OpRow index of the (first) step with the largest live set, or -1 for an empty graph. */
  peakStep: number;
  arenaBytes: number;
  arenaStrategy: string;
  lowerBoundBytes: number;
  greedyArenaBytes: number;
  buffers: BufferRow[];
  flashBytes: number;
  macs: number;
  blocks: BlockRow[];
  unsupported: Unsupported[];
  /** True when every operator was analysed (no unsupported entries). */
  complete: boolean;
  reorder: ReorderReport | null;
  offlinePlan: { tensors: number; planned: number; arenaBytes: number } | null;
  notes: string[];
}

/** `plan`: the execution plan of the same graph and conventions when the caller has it (built once per analysis). */
export function analyzeGraph(graph: Graph, partial: Partial<Conventions> = {}, plan: ExecPlan = buildExecPlan(graph, { ...DEFAULT_CONVENTIONS, ...partial })): Analysis {
  const conventions: Conventions = { ...DEFAULT_CONVENTIONS, ...partial };
  const live = liveBytes(plan);
  const n = plan.steps.length;

  let peakBytes = 0;
  let peakStep = -1;
  live.forEach((v, i) => { if (v > peakBytes || peakStep < 0) { peakBytes = v; peakStep = i; } });
  // No step left to execute (every operator folded, or aliases only): the graph's inputs and outputs are still held.
  if (n === 0) peakBytes = plan.buffers.reduce((sum, b) => sum + b.bytes, 0);

  const seenStorage = new Set<string>();
  const weightBytes = (key: string): number => {
    const s = graph.storage.get(key);
    if (!s) return 0;
    return conventions.asInt8 ? Math.min(s.bytes, s.elements) : s.bytes;
  };
  const constantsOf = (op: Op): Tensor[] => [...op.inputs, ...op.params].filter((i) => i >= 0).map((i) => graph.tensors[i]!).filter((t) => t.role === 'constant');

  const ops: OpRow[] = plan.steps.map((s, i) => {
    const main = graph.ops[s.main]!;
    let weights = 0;
    let macs = 0;
    for (const oi of s.ops) {
      const op = graph.ops[oi]!;
      macs += opMacs(op, graph);
      for (const t of constantsOf(op)) {
        for (const key of t.storage ?? []) {
          if (seenStorage.has(key)) continue;
          seenStorage.add(key);
          weights += weightBytes(key);
        }
      }
    }
    const unsupported = s.ops.map((oi) => graph.ops[oi]!.unsupported).find(Boolean);
    const row: OpRow = {
      index: i,
      op: s.ops.map((oi) => graph.ops[oi]!.sourceType).join('+'),
      kind: main.kind,
      name: main.name,
      sourceOps: s.ops.slice(),
      inputShapes: s.inputs.map((t) => graph.tensors[t]!.shape),
      outputShapes: s.outputs.map((t) => graph.tensors[t]!.shape),
      inputBytes: s.inputs.reduce((a, t) => a + plan.tensorBytes(t), 0),
      outputBytes: s.outputs.reduce((a, t) => a + plan.tensorBytes(t), 0),
      liveBytes: live[i]!,
      weightsBytes: weights,
      macs,
    };
    if (unsupported) row.unsupported = unsupported;
    return row;
  });

  const items: PlanItem[] = plan.buffers.map((b) => ({ size: alignUp(b.bytes, ARENA_ALIGNMENT), start: b.start, end: b.end }));
  // TFLM requests buffers in tensor-index order.
  const firstTensor = plan.buffers.map((b) => Math.min(...b.tensors));
  const greedy = greedyBySize(items, items.map((_, i) => i).sort((a, b) => firstTensor[a]! - firstTensor[b]!));
  const ours = planArena(items);
  const buffers: BufferRow[] = plan.buffers.map((b, i) => ({
    name: graph.tensors[b.tensors[0]!]!.name,
    bytes: b.bytes,
    firstOp: b.start,
    lastOp: b.end,
    offset: ours.offsets[i]!,
    tensors: b.tensors.map((t) => graph.tensors[t]!.name),
  }));

  const blocks: BlockRow[] = findBlocks(graph, plan).map((b) => {
    const rows = ops.slice(b.firstStep, b.lastStep + 1);
    return {
      ...b,
      peakLiveBytes: Math.max(0, ...rows.map((r) => r.liveBytes)),
      macs: rows.reduce((a, r) => a + r.macs, 0),
      weightsBytes: rows.reduce((a, r) => a + r.weightsBytes, 0),
    };
  });

  const unsupported: Unsupported[] = graph.ops
    .filter((op) => op.unsupported)
    .map((op) => ({ opIndex: op.index, op: op.sourceType, name: op.name, reason: op.unsupported! }));

  let reorder: ReorderReport | null = null;
  if (conventions.reorder && n > 0) reorder = reorderReport(graph, plan, peakBytes);

  return {
    format: graph.format,
    conventions,
    conventionsText: describeConventions(conventions),
    inputs: graph.inputs.map((t) => summary(graph.tensors[t]!)),
    outputs: graph.outputs.map((t) => summary(graph.tensors[t]!)),
    fileOps: graph.ops.length,
    ops,
    peakBytes,
    peakStep,
    arenaBytes: ours.size,
    arenaStrategy: ours.strategy,
    lowerBoundBytes: lowerBound(items),
    greedyArenaBytes: greedy.size,
    buffers,
    flashBytes: [...seenStorage].reduce((a, k) => a + weightBytes(k), 0),
    macs: ops.reduce((a, r) => a + r.macs, 0),
    blocks,
    unsupported,
    complete: unsupported.length === 0,
    reorder,
    offlinePlan: offlinePlanSummary(graph),
    notes: graph.notes.map((x) => x.message),
  };
}

function summary(t: Tensor): TensorSummary {
  return { name: t.name, dtype: t.dtype, shape: t.shape, layout: t.layout, bytes: t.shape ? bytesFor(t.dtype, t.shape) : 0 };
}

function reorderReport(graph: Graph, plan: ExecPlan, storedPeak: number): ReorderReport {
  const r = findBestOrder(graph, plan);
  if (r.order.length !== plan.steps.length || r.peakBytes >= storedPeak) {
    return { peakBytes: storedPeak, arenaBytes: 0, improved: false, complete: r.complete, order: plan.steps.map((_, i) => i) };
  }
  // Lifetimes under the new order, for its arena: from the first step touching a buffer (0 for graph inputs and
  // variables, which nothing writes) to the last (the end for graph outputs and variables).
  const last = plan.steps.length - 1;
  const pos = new Map(r.order.map((s, k) => [s, k]));
  const written = new Set<number>();
  const pinned = new Set<number>();
  for (const s of plan.steps) for (const t of s.outputs) written.add(plan.bufferOf[t]!);
  for (const t of graph.outputs) pinned.add(plan.bufferOf[t]!);
  for (const t of graph.tensors) if (t.role === 'variable') pinned.add(plan.bufferOf[t.id]!);
  const first = new Array<number>(plan.buffers.length).fill(Infinity);
  const end = new Array<number>(plan.buffers.length).fill(-Infinity);
  plan.steps.forEach((s, i) => {
    for (const t of [...s.inputs, ...s.outputs]) {
      const b = plan.bufferOf[t]!;
      if (b < 0) continue;
      first[b] = Math.min(first[b]!, pos.get(i)!);
      end[b] = Math.max(end[b]!, pos.get(i)!);
    }
  });
  const items: PlanItem[] = plan.buffers.map((b) => ({
    size: alignUp(b.bytes, ARENA_ALIGNMENT),
    start: written.has(b.id) && Number.isFinite(first[b.id]) ? first[b.id]! : 0,
    end: pinned.has(b.id) || !Number.isFinite(end[b.id]) ? last : end[b.id]!,
  }));
  return { peakBytes: r.peakBytes, arenaBytes: planArena(items).size, improved: true, complete: r.complete, order: r.order };
}

function offlinePlanSummary(graph: Graph): Analysis['offlinePlan'] {
  const p = graph.metadata.offlinePlan;
  if (!p) return null;
  let arena = 0;
  let planned = 0;
  p.offsets.forEach((off, i) => {
    const t = graph.tensors[i];
    if (off < 0 || !t?.shape) return;
    planned++;
    arena = Math.max(arena, off + bytesFor(t.dtype, t.shape));
  });
  return { tensors: p.offsets.length, planned, arenaBytes: arena };
}

/** Multiply-accumulates of conv, fully-connected and matmul operators (pooling and elementwise count 0). */

export { opMacs };
