// A .tflite file that stock TFLM runs in less memory: the same model with our arena plan as OfflineMemoryAllocation
// metadata, which TFLM's MicroAllocator uses instead of its greedy plan. Only tensors get offline offsets (the format
// has no place for scratch buffers): TFLM plans those around them. The figure reported is TFLM's allocator followed on
// the model with those offsets, and the written file is checked to give the same.
import type { Graph } from '../graph';
import { capture, ModelError, type Result } from '../errors';
import { DEFAULT_CONVENTIONS } from '../analysis/conventions';
import { planArena } from '../analysis/planner';
import { findBestOrder } from '../analysis/reorder';
import { buildExecPlan, type ExecPlan } from '../analysis/steps';
import { openModelOrThrow } from '../model';
import { withOfflinePlan } from '../formats/tflite/offline-plan';
import { withOperatorOrder } from '../formats/tflite/operator-order';
import { tflmAllocation, tflmArena, type TflmAllocation, type TflmArena } from './arena';

export interface TflmPlan {
  /** TFLM's arena for the model as it is and with the offline plan. */
  before: TflmArena;
  after: TflmArena;
  /** Offsets to write, one per tensor (-1: left to TFLM). */
  offsets: number[];
}

export interface TflmOptimized extends TflmPlan {
  /** The rewritten file. */
  bytes: Uint8Array;
  /** The operators' new order (file indices, in running order) when the file runs them in another order; else null. */
  order: number[] | null;
}

/** Our plan for TFLM's buffers as an offline plan, when it makes TFLM's smallest arena smaller; otherwise an error
 *  saying why not (not predicted, or TFLM's own plan is already as small). */
export function tflmOfflinePlan(graph: Graph, current: TflmAllocation = tflmAllocation(graph)): Result<TflmPlan> {
  return capture(() => {
    if (!current.ok) throw new ModelError('unsupported', `TFLM's arena is not predicted: ${current.reason}`);
    const { arena: before, head } = current.value;
    // Our plan of everything TFLM plans, the scratch buffers included so that the tensors leave room for them; and of
    // the tensors alone (TFLM then fits the scratch buffers into the gaps). The smaller result is kept.
    const all = head.items.map((_, j) => j);
    let best: TflmPlan | null = null;
    for (const chosen of [all, all.filter((j) => head.tensorOf[j]! >= 0)]) {
      const plan = planArena(chosen.map((j) => ({ size: head.items[j]!.size, start: head.items[j]!.start, end: head.items[j]!.end })));
      const offsets = graph.tensors.map(() => -1);
      chosen.forEach((j, k) => {
        const t = head.tensorOf[j]!;
        if (t >= 0) offsets[t] = plan.offsets[k]!;
      });
      const after = tflmArena({ ...graph, metadata: { ...graph.metadata, offlinePlan: { version: 1, subgraphs: 1, offsets } } });
      if (!after.ok) throw new ModelError('unsupported', `with the offline plan, TFLM's arena is not predicted: ${after.reason}`);
      if (!best || after.value.minArenaBytes < best.after.minArenaBytes) best = { before, after: after.value, offsets };
    }
    if (!best || best.after.minArenaBytes >= before.minArenaBytes) {
      throw new ModelError('no-gain', `TFLM's own plan is already as small (${before.minArenaBytes.toLocaleString('en-US')} B)`);
    }
    return best;
  });
}

/** The file's operators in the order the operator-order search finds best (its steps in that order, each step's
 *  operators in file order; operators folded ahead of time, which read constants only, first), checked to compute
 *  every tensor before it is read; null when that is the stored order. */
export function bestOperatorOrder(graph: Graph, plan: ExecPlan = buildExecPlan(graph, { ...DEFAULT_CONVENTIONS, fuseActivations: false })): number[] | null {
  const r = findBestOrder(graph, plan);
  if (r.order.length !== plan.steps.length) return null;
  const stepOps = r.order.flatMap((s) => [...plan.steps[s]!.ops].sort((a, b) => a - b));
  const inSteps = new Set(stepOps);
  const order = [...graph.ops.map((o) => o.index).filter((i) => !inSteps.has(i)), ...stepOps];
  if (order.length !== graph.ops.length || order.every((v, i) => v === i)) return null;
  const ready = new Set<number>(graph.tensors.filter((t) => t.role !== 'activation').map((t) => t.id));
  for (const i of order) {
    const op = graph.ops[i]!;
    if ((op.fileInputs ?? [...op.inputs, ...op.params]).some((t) => t >= 0 && !ready.has(t))) return null;
    for (const t of op.outputs) ready.add(t);
  }
  return order;
}

/** The graph with its operators run in `order` (file indices), as the rewritten file would be read. */
function reorderedGraph(graph: Graph, order: readonly number[]): Graph {
  return { ...graph, ops: order.map((i, k) => ({ ...graph.ops[i]!, index: k })) };
}

export interface TflmBest extends TflmPlan {
  /** The operators' new order (file indices, in running order) when running them in another order helps; else null. */
  order: number[] | null;
}

/** The smallest arena stock TFLM can be given for this model: our plan as an offline plan, and the operators in the
 *  best order found when that makes TFLM's smallest arena smaller still; an error ('no-gain') when neither helps. */
/** `plan`: an execution plan of the graph the operator-order search may use (the analysis'); built when absent. */
export function tflmBest(graph: Graph, current: TflmAllocation = tflmAllocation(graph), plan?: ExecPlan): Result<TflmBest> {
  return capture(() => {
    if (!current.ok) throw new ModelError('unsupported', `TFLM's arena is not predicted: ${current.reason}`);
    const before = current.value.arena;
    const candidates: TflmBest[] = [];
    const planned = tflmOfflinePlan(graph, current);
    if (planned.ok) candidates.push({ ...planned.value, order: null });
    const order = bestOperatorOrder(graph, plan);
    if (order) {
      const g2 = reorderedGraph(graph, order);
      const alone = tflmAllocation(g2);
      if (alone.ok) {
        // The new order with TFLM's own plan, and with ours.
        candidates.push({ before, after: alone.value.arena, offsets: g2.tensors.map(() => -1), order });
        const both = tflmOfflinePlan(g2, alone);
        if (both.ok) candidates.push({ ...both.value, before, order });
      }
    }
    const best = candidates.reduce<TflmBest | null>((b, c) => (!b || c.after.minArenaBytes < b.after.minArenaBytes ? c : b), null);
    if (!best || best.after.minArenaBytes >= before.minArenaBytes) {
      if (!planned.ok && planned.error.code !== 'no-gain') throw new ModelError(planned.error.code, planned.error.message);
      throw new ModelError('no-gain', `TFLM's own plan is already as small (${before.minArenaBytes.toLocaleString('en-US')} B)${order ? ', in the stored operator order and in the best order found' : ''}`);
    }
    return best;
  });
}

/** The model file rewritten as tflmBest says: operators reordered in place, then the offline plan added. */
export function optimizeForTflm(bytes: Uint8Array, graph: Graph): Result<TflmOptimized> {
  return capture(() => {
    const r = tflmBest(graph);
    if (!r.ok) throw new ModelError(r.error.code, r.error.message);
    const reordered = r.value.order ? withOperatorOrder(bytes, r.value.order) : bytes;
    const written = r.value.offsets.some((o) => o >= 0) ? withOfflinePlan(reordered, r.value.offsets) : reordered.slice();
    const check = tflmArena(openModelOrThrow(written, { fileName: 'optimized.tflite' }));
    if (!check.ok || check.value.arenaUsedBytes !== r.value.after.arenaUsedBytes) throw new Error('internal: the rewritten file does not carry the plan');
    return { ...r.value, bytes: written };
  });
}
