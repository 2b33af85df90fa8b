// Arena planning: an offset for every buffer in one arena such that buffers alive at the same time never overlap.
// `greedyBySize` reproduces TFLM's GreedyMemoryPlanner (largest first, lowest gap among simultaneously live
// buffers; ties keep request order, as its bubble sort does). `planArena` tries several orders and placements and
// seeded perturbations, keeps the smallest, and so is never larger than the greedy plan; it stops at the lower bound.

export interface PlanItem {
  /** Aligned size in bytes (0 = not placed). */
  size: number;
  /** First and last step alive, inclusive. */
  start: number;
  end: number;
}

export interface ArenaPlan {
  offsets: number[];
  size: number;
  strategy: string;
}

export function alignUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

const overlaps = (a: PlanItem, b: PlanItem): boolean => a.start <= b.end && b.start <= a.end;

/** Largest sum of sizes alive at one step: no plan can be smaller. */
export function lowerBound(items: readonly PlanItem[]): number {
  const events: [number, number][] = [];
  for (const it of items) {
    if (it.size === 0) continue;
    events.push([it.start, it.size], [it.end + 1, -it.size]);
  }
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cur = 0;
  let best = 0;
  for (const [, d] of events) {
    cur += d;
    best = Math.max(best, cur);
  }
  return best;
}

/** Placed items indexed by their lifetime (a segment tree over steps): the items alive at some step of a range are
 *  found without scanning every placed item, so long chains plan in near-linear time. */
class LifetimeIndex {
  private readonly size: number;
  private readonly nodes: number[][];
  private readonly seen: Int32Array;
  private stamp = 0;

  constructor(steps: number, items: number) {
    this.size = Math.max(1, steps);
    this.nodes = [];
    this.seen = new Int32Array(items);
  }

  private bucket(node: number): number[] {
    let b = this.nodes[node];
    if (!b) { b = []; this.nodes[node] = b; }
    return b;
  }

  insert(id: number, a: number, b: number): void {
    const go = (node: number, lo: number, hi: number): void => {
      if (b < lo || hi < a) return;
      if (a <= lo && hi <= b) { this.bucket(node).push(id); return; }
      const mid = (lo + hi) >> 1;
      go(2 * node, lo, mid);
      go(2 * node + 1, mid + 1, hi);
    };
    go(1, 0, this.size - 1);
  }

  /** Items whose lifetime meets [a, b], each once. */
  query(a: number, b: number): number[] {
    const out: number[] = [];
    const stamp = ++this.stamp;
    const go = (node: number, lo: number, hi: number): void => {
      if (b < lo || hi < a) return;
      const here = this.nodes[node];
      if (here) for (const id of here) if (this.seen[id] !== stamp) { this.seen[id] = stamp; out.push(id); }
      if (lo === hi) return;
      const mid = (lo + hi) >> 1;
      go(2 * node, lo, mid);
      go(2 * node + 1, mid + 1, hi);
    };
    go(1, 0, this.size - 1);
    return out;
  }
}

/** Lifetimes up to this many steps are looked up in the index; longer ones scan the placed buffers in offset order. */
const SHORT_LIFETIME = 64;

/** Places items in the given order: first fit (lowest offset) or best fit (smallest gap that holds it). */
function place(items: readonly PlanItem[], order: readonly number[], bestFit: boolean): { offsets: number[]; size: number } {
  const n = items.length;
  const offsets = new Array<number>(n).fill(0);
  const start = Float64Array.from(items, (it) => it.start);
  const end = Float64Array.from(items, (it) => it.end);
  const bytes = Float64Array.from(items, (it) => it.size);
  let steps = 0;
  for (const it of items) if (it.size > 0) steps = Math.max(steps, it.end + 1);
  const index = new LifetimeIndex(steps, n);
  /** Placed buffers in offset order (ties in placement order), kept only when some lifetime is long. */
  const placed: number[] = [];
  const anyLong = items.some((it) => it.size > 0 && it.end - it.start >= SHORT_LIFETIME);
  let size = 0;
  for (const i of order) {
    const need = bytes[i]!;
    if (need === 0) continue;
    const s0 = start[i]!;
    const e0 = end[i]!;
    let candidate = 0;
    let chosen = -1;
    let bestGap = Infinity;
    // One step of the walk up the live buffers in offset order; true when first fit has its place.
    const visit = (j: number): boolean => {
      const gap = offsets[j]! - candidate;
      if (gap >= need) {
        if (!bestFit) { chosen = candidate; return true; }
        if (gap < bestGap) { bestGap = gap; chosen = candidate; }
      }
      candidate = Math.max(candidate, offsets[j]! + bytes[j]!);
      return false;
    };
    if (e0 - s0 < SHORT_LIFETIME) {
      for (const j of index.query(s0, e0).sort((a, b) => offsets[a]! - offsets[b]!)) if (visit(j)) break;
    } else {
      for (const j of placed) if (end[j]! >= s0 && start[j]! <= e0 && visit(j)) break;
    }
    if (chosen < 0) chosen = candidate;
    offsets[i] = chosen;
    index.insert(i, s0, e0);
    if (anyLong) {
      let lo = 0;
      let hi = placed.length;
      while (lo < hi) { const mid = (lo + hi) >> 1; if (offsets[placed[mid]!]! <= chosen) lo = mid + 1; else hi = mid; }
      placed.splice(lo, 0, i);
    }
    size = Math.max(size, chosen + need);
  }
  return { offsets, size };
}

/** TFLM's GreedyMemoryPlanner (greedy_memory_planner.cc): buffers are requested in `requests` order (TFLM: tensor
 *  index order); it lists them from the last request to the first, bubble-sorts by size, largest first (stable, so
 *  among equal sizes the later request comes first), and places each at the lowest gap among the buffers alive with
 *  it, in offset order. */
export function greedyBySize(items: readonly PlanItem[], requests: readonly number[] = items.map((_, i) => i)): ArenaPlan {
  const order = requests.slice().reverse().sort((a, b) => items[b]!.size - items[a]!.size);
  return { ...place(items, order, false), strategy: 'greedy by size (TFLM)' };
}

/** Deterministic PRNG for the perturbation search (results must not change between runs). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Above this many buffers, planArena tries only the size order besides TFLM's greedy plan. */
const LARGE_PLAN = 4096;

export function planArena(items: readonly PlanItem[]): ArenaPlan {
  const bound = lowerBound(items);
  const idx = items.map((_, i) => i);
  const dur = (i: number): number => items[i]!.end - items[i]!.start + 1;
  const orders: [string, number[]][] = [
    ['size', idx.slice().sort((a, b) => items[b]!.size - items[a]!.size || a - b)],
    ['size×lifetime', idx.slice().sort((a, b) => items[b]!.size * dur(b) - items[a]!.size * dur(a) || a - b)],
    ['lifetime', idx.slice().sort((a, b) => dur(b) - dur(a) || items[b]!.size - items[a]!.size || a - b)],
    ['first use', idx.slice().sort((a, b) => items[a]!.start - items[b]!.start || items[b]!.size - items[a]!.size || a - b)],
  ];
  let best: ArenaPlan = greedyBySize(items);
  const consider = (name: string, order: number[], bestFit: boolean): void => {
    const p = place(items, order, bestFit);
    if (p.size < best.size) best = { ...p, strategy: `${name}, ${bestFit ? 'best' : 'first'} fit` };
  };
  // Large graphs: one more order (the search below is bounded by n² anyway), so planning stays near-linear.
  for (const [name, order] of items.length > LARGE_PLAN ? orders.slice(0, 1) : orders) {
    if (best.size <= bound) return best;
    consider(name, order, false);
    if (items.length <= LARGE_PLAN) consider(name, order, true);
  }
  // Perturb the size order: swap neighbours at random, keep improvements. Bounded work (about 4M pair checks).
  const n = items.length;
  const rounds = Math.min(300, Math.floor(4_000_000 / Math.max(1, n * n)));
  const rand = lcg(0x9e3779b9);
  let current = orders[0]![1].slice();
  let currentSize = place(items, current, false).size;
  for (let r = 0; r < rounds && best.size > bound; r++) {
    const next = current.slice();
    const swaps = 1 + Math.floor(rand() * 3);
    for (let k = 0; k < swaps; k++) {
      const i = Math.floor(rand() * (n - 1));
      [next[i], next[i + 1]] = [next[i + 1]!, next[i]!];
    }
    const p = place(items, next, false);
    if (p.size <= currentSize) {
      current = next;
      currentSize = p.size;
      if (p.size < best.size) best = { ...p, strategy: 'perturbed size order, first fit' };
    }
  }
  return best;
}

/** True when no two simultaneously live items overlap in memory and all lie inside the arena. */
export function checkPlan(items: readonly PlanItem[], offsets: readonly number[], size: number): string | null {
  for (let i = 0; i < items.length; i++) {
    const a = items[i]!;
    if (a.size === 0) continue;
    if (offsets[i]! < 0 || offsets[i]! + a.size > size) return `buffer ${i} lies outside the arena`;
    for (let j = i + 1; j < items.length; j++) {
      const b = items[j]!;
      if (b.size === 0 || !overlaps(a, b)) continue;
      if (offsets[i]! < offsets[j]! + b.size && offsets[j]! < offsets[i]! + a.size) return `buffers ${i} and ${j} are alive together and overlap`;
    }
  }
  return null;
}
