// A .tflite file that stock TFLM runs in less memory: the same model with our arena plan as OfflineMemoryAllocation
// metadata, which TFLM's MicroAllocator uses instead of its greedy plan. Only tensors get offline offsets (the format
// has no place for scratch buffers): TFLM plans those around them. The figure reported is TFLM's allocator followed on
// the model with those offsets, and the written file is checked to give the same.
import type { Graph } from '../graph';
import { capture, ModelError, type Result } from '../errors';
import { planArena } from '../analysis/planner';
import { openModelOrThrow } from '../model';
import { withOfflinePlan } from '../formats/tflite/offline-plan';
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

/** The model file rewritten with the offline plan. */
export function optimizeForTflm(bytes: Uint8Array, graph: Graph): Result<TflmOptimized> {
  return capture(() => {
    const r = tflmOfflinePlan(graph);
    if (!r.ok) throw new ModelError(r.error.code, r.error.message);
    const written = withOfflinePlan(bytes, r.value.offsets);
    const check = tflmArena(openModelOrThrow(written, { fileName: 'optimized.tflite' }));
    if (!check.ok || check.value.arenaUsedBytes !== r.value.after.arenaUsedBytes) throw new Error('internal: the rewritten file does not carry the plan');
    return { ...r.value, bytes: written };
  });
}
