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

/** Places items in the given order: first fit (lowest offset) or best fit (smallest gap that holds it). */
function place(items: readonly PlanItem[], order: readonly number[], bestFit: boolean): { offsets: number[]; size: number } {
  const offsets = new Array<number>(items.length).fill(0);
  const placed: number[] = [];
  let size = 0;
  for (const i of order) {
    const it = items[i]!;
    if (it.size === 0) continue;
    const live = placed.filter((j) => overlaps(items[j]!, it)).sort((a, b) => offsets[a]! - offsets[b]!);
    let candidate = 0;
    let chosen = -1;
    let bestGap = Infinity;
    for (const j of live) {
      const gap = offsets[j]! - candidate;
      if (gap >= it.size) {
        if (!bestFit) { chosen = candidate; break; }
        if (gap < bestGap) { bestGap = gap; chosen = candidate; }
      }
      candidate = Math.max(candidate, offsets[j]! + items[j]!.size);
    }
    if (chosen < 0) chosen = candidate;
    offsets[i] = chosen;
    placed.push(i);
    size = Math.max(size, chosen + it.size);
  }
  return { offsets, size };
}

export function greedyBySize(items: readonly PlanItem[]): ArenaPlan {
  const order = items.map((_, i) => i).sort((a, b) => items[b]!.size - items[a]!.size || a - b);
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
  for (const [name, order] of orders) {
    if (best.size <= bound) return best;
    consider(name, order, false);
    consider(name, order, true);
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
