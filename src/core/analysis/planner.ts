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
  /** A given offset (TFLM's offline plan): the buffer is placed there, not planned, and the others around it. */
  offset?: number;
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

/** Placed buffers in offset order (ties in placement order), cut into blocks that know their lifetimes and their
 *  inner gaps. The first-fit walk skips a block whose buffers are all alive with the new one when no gap in it can
 *  hold it, so many simultaneously live buffers (a wide graph) no longer cost a walk over every one of them. The walk
 *  is the same as scanning the buffers one by one: the same offsets come out. */
class OffsetOrder {
  private readonly blocks: Block[] = [];
  /** Block length: about √n, so a walk passes √n blocks and an insertion re-summarises √n buffers. */
  private readonly block: number;

  constructor(count: number, private readonly offsets: readonly number[], private readonly start: Float64Array, private readonly end: Float64Array, private readonly bytes: Float64Array) {
    this.block = Math.max(64, Math.ceil(Math.sqrt(count)));
  }

  /** Placed before the first walk, in placement order: the blocks are built only when a walk needs them (a chain,
   *  whose lifetimes are all short, never does). */
  private pending: number[] | null = [];

  insert(id: number): void {
    if (this.pending) { this.pending.push(id); return; }
    const at = this.offsets[id]!;
    // The last block whose first buffer lies at or below the new offset; the buffer goes after every equal offset.
    let lo = 0;
    let hi = this.blocks.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (this.offsets[this.blocks[mid]!.ids[0]!]! <= at) lo = mid + 1; else hi = mid; }
    const b = Math.max(0, lo - 1);
    if (this.blocks.length === 0) this.blocks.push({ ids: [], minStart: 0, maxStart: 0, minEnd: 0, maxEnd: 0, maxTop: 0, innerGap: 0 });
    const ids = this.blocks[b]!.ids;
    let i = 0;
    let j = ids.length;
    while (i < j) { const mid = (i + j) >> 1; if (this.offsets[ids[mid]!]! <= at) i = mid + 1; else j = mid; }
    ids.splice(i, 0, id);
    if (ids.length > 2 * this.block) {
      const tail = ids.splice(this.block);
      this.blocks.splice(b + 1, 0, this.summarise(tail));
    }
    this.blocks[b] = this.summarise(ids);
  }

  private summarise(ids: number[]): Block {
    const { offsets, start, end, bytes } = this;
    let minStart = Infinity, maxStart = -Infinity, minEnd = Infinity, maxEnd = -Infinity, maxTop = 0, innerGap = -Infinity;
    for (let k = 0; k < ids.length; k++) {
      const j = ids[k]!;
      if (k > 0) innerGap = Math.max(innerGap, offsets[j]! - maxTop);
      minStart = Math.min(minStart, start[j]!); maxStart = Math.max(maxStart, start[j]!);
      minEnd = Math.min(minEnd, end[j]!); maxEnd = Math.max(maxEnd, end[j]!);
      maxTop = Math.max(maxTop, offsets[j]! + bytes[j]!);
    }
    return { ids, minStart, maxStart, minEnd, maxEnd, maxTop, innerGap };
  }

  /** Walks the buffers alive during [s0, e0] in offset order; `visit` returns true to stop. `skip(firstOffset,
   *  innerGap, maxTop)` says whether a block of buffers that are all alive can be passed over whole. */
  walk(s0: number, e0: number, visit: (j: number) => boolean, skip: (first: number, innerGap: number, maxTop: number) => boolean): void {
    const { offsets, start, end } = this;
    if (this.pending) {
      // Offset order, ties in placement order (a stable sort of the placement order).
      const ids = this.pending.sort((a, b) => offsets[a]! - offsets[b]!);
      this.pending = null;
      for (let k = 0; k < ids.length; k += this.block) this.blocks.push(this.summarise(ids.slice(k, k + this.block)));
    }
    for (const b of this.blocks) {
      if (b.minStart > e0 || b.maxEnd < s0) continue;
      if (b.maxStart <= e0 && b.minEnd >= s0 && skip(offsets[b.ids[0]!]!, b.innerGap, b.maxTop)) continue;
      for (const j of b.ids) if (end[j]! >= s0 && start[j]! <= e0 && visit(j)) return;
    }
  }
}

interface Block {
  ids: number[];
  minStart: number;
  maxStart: number;
  minEnd: number;
  maxEnd: number;
  /** Highest end offset of the block's buffers. */
  maxTop: number;
  /** Largest gap between a buffer and the highest top of the buffers before it in the block (-Infinity if one). */
  innerGap: number;
}

/** Lifetimes up to this many steps are looked up in the lifetime index, unless it finds more than this many live
 *  buffers; otherwise the walk goes through the offset-ordered blocks. */
const SHORT_LIFETIME = 64;
const SHORT_QUERY = 256;

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
  const placed = new OffsetOrder(n, offsets, start, end, bytes);
  let size = 0;
  for (const i of order) {
    const need = bytes[i]!;
    if (need === 0) continue;
    const s0 = start[i]!;
    const e0 = end[i]!;
    const given = items[i]!.offset;
    if (given !== undefined) {
      offsets[i] = given;
      index.insert(i, s0, e0);
      placed.insert(i);
      size = Math.max(size, given + need);
      continue;
    }
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
    // A block of live buffers changes only the candidate when none of its gaps can hold this one (best fit: the first
    // gap could, but not more tightly than the best so far): the first buffer's gap is measured from the candidate;
    // the others are at most their gap to the tops before them in the block, which `innerGap` bounds.
    const skip = (first: number, innerGap: number, maxTop: number): boolean => {
      const gap = first - candidate;
      if ((gap >= need && (!bestFit || gap < bestGap)) || innerGap >= need) return false;
      candidate = Math.max(candidate, maxTop);
      return true;
    };
    const live = e0 - s0 < SHORT_LIFETIME ? index.query(s0, e0) : null;
    if (live && live.length <= SHORT_QUERY) {
      for (const j of live.sort((a, b) => offsets[a]! - offsets[b]!)) if (visit(j)) break;
    } else {
      placed.walk(s0, e0, visit, skip);
    }
    if (chosen < 0) chosen = candidate;
    offsets[i] = chosen;
    index.insert(i, s0, e0);
    placed.insert(i);
    size = Math.max(size, chosen + need);
  }
  return { offsets, size };
}

/** TFLM's GreedyMemoryPlanner (greedy_memory_planner.cc): buffers are requested in `requests` order (TFLM: tensor
 *  index order); it lists them from the last request to the first, bubble-sorts by size, largest first (stable, so
 *  among equal sizes the later request comes first), and places each at the lowest gap among the buffers alive with
 *  it, in offset order. Buffers with an offline offset are placed at it before all others. */
export function greedyBySize(items: readonly PlanItem[], requests: readonly number[] = items.map((_, i) => i)): ArenaPlan {
  // Buffers with a given offset (TFLM's offline plan) are placed first, in request order; the others around them.
  const fixed = requests.filter((i) => items[i]!.offset !== undefined);
  const online = requests.filter((i) => items[i]!.offset === undefined);
  const order = [...fixed, ...online.reverse().sort((a, b) => items[b]!.size - items[a]!.size)];
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

/** `stopAt`: a plan this small is good enough (the search stops there); `perturb: false` skips the perturbation
 *  search (a quick check that a set of buffers fits a given size). */
export function planArena(items: readonly PlanItem[], options: { stopAt?: number; perturb?: boolean } = {}): ArenaPlan {
  const bound = Math.max(lowerBound(items), options.stopAt ?? 0);
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
  const rounds = options.perturb === false ? 0 : Math.min(3000, Math.floor(4_000_000 / Math.max(1, n * n)));
  const rand = lcg(0x9e3779b9);
  // From the size order, and from the first-use order (a line-buffered plan's segments follow one another).
  for (const start of [0, 3]) {
    let current = orders[start]![1].slice();
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
        if (p.size < best.size) best = { ...p, strategy: `perturbed ${orders[start]![0]} order, first fit` };
      }
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
