// Operator reordering for branched graphs (as eliberis/tflite-tools does): the execution order with the smallest
// peak, found by a memoized search over the sets of executed steps (the down-sets of the dependency graph). For a
// chain there is one order; for branches the number of states grows with the branch width, so the search is capped
// and reports when it gave up.
import type { Graph } from '../graph';
import type { ExecPlan } from './steps';

export interface ReorderResult {
  /** Step indices (of the stored order) in the new order. */
  order: number[];
  peakBytes: number;
  /** False when the state cap was hit: the order is the best found, not proven optimal. */
  complete: boolean;
  statesExplored: number;
}

const MAX_STATES = 50_000;

/** Longer graphs keep their stored order (the search recurses once per step and costs O(steps) per state). */
export const MAX_REORDER_STEPS = 2000;

export function findBestOrder(graph: Graph, plan: ExecPlan): ReorderResult {
  const n = plan.steps.length;
  if (n > MAX_REORDER_STEPS) return { order: plan.steps.map((_, i) => i), peakBytes: Infinity, complete: false, statesExplored: 0 };
  const nb = plan.buffers.length;
  const bytes = plan.buffers.map((b) => b.bytes);
  const touchers: number[][] = plan.buffers.map(() => []);
  const writers: number[][] = plan.buffers.map(() => []);
  const stepIn: number[][] = [];
  const stepOut: number[][] = [];
  const producerOfTensor = new Map<number, number>();
  plan.steps.forEach((s, i) => s.outputs.forEach((t) => producerOfTensor.set(t, i)));
  const deps: Set<number>[] = plan.steps.map(() => new Set<number>());
  plan.steps.forEach((s, i) => {
    const ins = new Set<number>();
    const outs = new Set<number>();
    for (const t of s.inputs) {
      const b = plan.bufferOf[t]!;
      if (b >= 0) ins.add(b);
      const p = producerOfTensor.get(t);
      if (p !== undefined && p !== i) deps[i]!.add(p);
    }
    for (const t of s.outputs) {
      const b = plan.bufferOf[t]!;
      if (b >= 0) outs.add(b);
    }
    for (const b of new Set([...ins, ...outs])) touchers[b]!.push(i);
    for (const b of outs) writers[b]!.push(i);
    stepIn.push([...ins]);
    stepOut.push([...outs]);
  });
  // In place: a step writing into a buffer it reads must run after every other reader of that buffer.
  plan.steps.forEach((_, i) => {
    for (const b of stepOut[i]!) {
      if (!stepIn[i]!.includes(b)) continue;
      for (const j of touchers[b]!) if (j !== i && !deps[j]!.has(i)) deps[i]!.add(j);
    }
  });
  const pinned = new Array<boolean>(nb).fill(false);
  for (const t of graph.outputs) if (plan.bufferOf[t]! >= 0) pinned[plan.bufferOf[t]!] = true;
  for (const t of graph.tensors) if (t.role === 'variable' && plan.bufferOf[t.id]! >= 0) pinned[plan.bufferOf[t.id]!] = true;

  const depList = deps.map((d) => [...d]);
  const done = new Uint8Array(n);
  const memo = new Map<string, { peak: number; next: number }>();
  let states = 0;
  let complete = true;

  const started = (b: number): boolean => writers[b]!.length === 0 || writers[b]!.some((w) => done[w]);
  const finished = (b: number): boolean => !pinned[b] && touchers[b]!.every((t) => done[t]);
  const memNow = (): number => {
    let m = 0;
    for (let b = 0; b < nb; b++) if (started(b) && !finished(b)) m += bytes[b]!;
    return m;
  };

  const solve = (count: number): number => {
    if (count === n) return 0;
    const key = keyOf(done);
    const hit = memo.get(key);
    if (hit) return hit.peak;
    if (++states > MAX_STATES) complete = false;
    const mem = memNow();
    let best = Infinity;
    let bestNext = -1;
    for (let i = 0; i < n; i++) {
      if (done[i] || !depList[i]!.every((d) => done[d])) continue;
      let peak = mem;
      for (const b of stepOut[i]!) if (!started(b)) peak += bytes[b]!;
      if (peak >= best) continue;
      done[i] = 1;
      const rest = solve(count + 1);
      done[i] = 0;
      const total = Math.max(peak, rest);
      if (total < best) { best = total; bestNext = i; }
      if (!complete) break; // over the cap: take the first ready step (stored order) from here on
    }
    memo.set(key, { peak: best, next: bestNext });
    return best;
  };

  const peakBytes = solve(0);
  const order: number[] = [];
  done.fill(0);
  for (let k = 0; k < n; k++) {
    const next = memo.get(keyOf(done))?.next ?? -1;
    if (next < 0) break;
    order.push(next);
    done[next] = 1;
  }
  return { order, peakBytes, complete, statesExplored: states };
}

function keyOf(done: Uint8Array): string {
  let s = '';
  for (let i = 0; i < done.length; i += 16) {
    let v = 0;
    for (let j = 0; j < 16 && i + j < done.length; j++) v |= done[i + j]! << j;
    s += String.fromCharCode(v);
  }
  return s;
}
