// Arena planning across memory regions (a target with TCM, SRAM and PSRAM): every buffer goes to one region and gets
// an offset in that region's arena, buffers alive together in a region never overlap, and no region's arena exceeds
// its capacity. The goals, in order: the fewest bytes in slower regions; the busiest buffers (most bytes written and
// read) in the fastest. A region of the fastest class that holds the whole single-arena plan gets it all.
import { lowerBound, planArena, type PlanItem } from './planner';
import type { ExecPlan } from './steps';

export interface RegionSpec {
  /** Bytes the arena may take in this region. */
  capacity: number;
  /** 0 is the fastest; equal ranks keep their order. */
  rank: number;
}

export interface RegionPlacement {
  /** Region index per item (-1 for an item of size 0). */
  region: number[];
  /** Offset of each item inside its region's arena. */
  offsets: number[];
  /** Arena bytes per region. */
  sizes: number[];
  /** Per region: the most bytes of its buffers alive at one step (no plan of those buffers is smaller). */
  lowerBounds: number[];
  /** Every region's arena is within its capacity. */
  fits: boolean;
  /** No placement can keep fewer bytes alive at once outside the fastest class: the live bytes above the fastest
   *  regions' capacity at the busiest step. */
  slowLowerBound: number;
}

/** Above this many items, the promotion pass (moving buffers into faster regions) is skipped. */
const PROMOTE_ITEMS = 2000;
/** Up to this many items, every greedy order is improved, not only the two best. */
const IMPROVE_ALL = 64;
/** At most this many promotion attempts (each plans one region again). */
const PROMOTE_TRIES = 200;

/** How many steps read or write each buffer of a plan: a buffer's traffic is its size times this. */
export function accessCounts(plan: ExecPlan): number[] {
  const n = new Array<number>(plan.buffers.length).fill(0);
  for (const s of plan.steps) {
    const seen = new Set<number>();
    for (const t of [...s.inputs, ...s.outputs]) {
      const b = plan.bufferOf[t] ?? -1;
      if (b >= 0 && !seen.has(b)) { seen.add(b); n[b]!++; }
    }
  }
  return n.map((x) => Math.max(1, x));
}

export function planRegions(items: readonly PlanItem[], regions: readonly RegionSpec[], traffic: readonly number[] = items.map((it) => it.size)): RegionPlacement {
  const byRank = regions.map((_, i) => i).sort((a, b) => regions[a]!.rank - regions[b]!.rank || a - b);
  const fastRank = regions.length ? regions[byRank[0]!]!.rank : 0;
  const fastCapacity = regions.reduce((a, r) => a + (r.rank === fastRank ? Math.max(0, r.capacity) : 0), 0);
  const slowLowerBound = Math.max(0, lowerBound(items) - fastCapacity);
  const n = items.length;
  const finish = (region: number[], offsets: number[]): RegionPlacement => {
    const sizes = regions.map(() => 0);
    const lowerBounds = regions.map((_, r) => lowerBound(items.filter((_, i) => region[i] === r)));
    items.forEach((it, i) => { const r = region[i]!; if (r >= 0) sizes[r] = Math.max(sizes[r]!, offsets[i]! + it.size); });
    return { region, offsets, sizes, lowerBounds, fits: sizes.every((s, r) => s <= regions[r]!.capacity), slowLowerBound };
  };

  // The whole arena in one region of the fastest class, when one holds it.
  const whole = planArena(items);
  for (const r of byRank) {
    if (regions[r]!.rank !== fastRank) break;
    if (whole.size <= regions[r]!.capacity) return finish(items.map((it) => (it.size > 0 ? r : -1)), whole.offsets);
  }

  // Several orders (busiest first, largest first, longest-lived first, ...) each placed greedily, then improved; the
  // placement with the fewest bytes in the slowest class wins (then the next class, ...), ties going to the one with
  // the most traffic in the fastest.
  const live = items.map((_, i) => i).filter((i) => items[i]!.size > 0);
  const dur = (i: number): number => items[i]!.end - items[i]!.start + 1;
  const busiest = live.slice().sort((a, b) => traffic[b]! - traffic[a]! || items[b]!.size - items[a]!.size || a - b);
  const orders = [
    busiest,
    live.slice().sort((a, b) => items[b]!.size - items[a]!.size || traffic[b]! - traffic[a]! || a - b),
    live.slice().sort((a, b) => items[b]!.size * dur(b) - items[a]!.size * dur(a) || a - b),
    live.slice().sort((a, b) => items[a]!.size * dur(a) - items[b]!.size * dur(b) || a - b),
    live.slice().sort((a, b) => items[a]!.start - items[b]!.start || items[b]!.size - items[a]!.size || a - b),
  ];
  const ranks = [...new Set(regions.map((r) => r.rank))].sort((a, b) => b - a);
  const score = (region: readonly number[]): number[] => [
    ...ranks.map((k) => items.reduce((a, it, i) => a + (region[i]! >= 0 && regions[region[i]!]!.rank === k ? it.size : 0), 0)),
    -items.reduce((a, _, i) => a + (region[i]! >= 0 && regions[region[i]!]!.rank === fastRank ? traffic[i]! : 0), 0),
  ];
  const better = (a: number[], b: number[]): boolean => {
    for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return a[k]! < b[k]!;
    return false;
  };
  // Every order placed greedily; the two best improved (promotion and exchange cost most; every one on small
  // graphs), the best of those kept.
  const greedy = (n > PROMOTE_ITEMS ? orders.slice(0, 2) : orders).map((order) => {
    const placed = placeInOrder(items, regions, byRank, order, busiest, false);
    return { order, ...placed, score: score(placed.region) };
  }).sort((a, b) => (better(a.score, b.score) ? -1 : better(b.score, a.score) ? 1 : 0));
  let best: { region: number[]; offsets: number[]; score: number[] } | null = greedy[0] ?? null;
  if (n <= PROMOTE_ITEMS) {
    for (const g of n <= IMPROVE_ALL ? greedy : greedy.slice(0, 2)) {
      const placed = placeInOrder(items, regions, byRank, g.order, busiest, true);
      const sc = score(placed.region);
      if (!best || better(sc, best.score)) best = { ...placed, score: sc };
    }
  }
  return finish(best ? best.region : items.map(() => -1), best ? best.offsets : items.map(() => 0));
}

/** One greedy placement: items in `order`, each into the fastest region with room at its lowest free offset (or, when
 *  none has room, into the slowest beyond its capacity); then each region planned again on its own, then buffers
 *  moved into faster regions (`promote` order) while the faster region, planned again, still holds all. */
function placeInOrder(items: readonly PlanItem[], regions: readonly RegionSpec[], byRank: readonly number[], order: readonly number[], promote: readonly number[], promotion: boolean): { region: number[]; offsets: number[] } {
  const n = items.length;
  const region = new Array<number>(n).fill(-1);
  const offsets = new Array<number>(n).fill(0);
  const members: number[][] = regions.map(() => []);
  const firstFit = (r: number, i: number): number => {
    const it = items[i]!;
    const live = members[r]!.filter((j) => items[j]!.start <= it.end && it.start <= items[j]!.end).sort((a, b) => offsets[a]! - offsets[b]!);
    let at = 0;
    for (const j of live) {
      if (offsets[j]! - at >= it.size) break;
      at = Math.max(at, offsets[j]! + items[j]!.size);
    }
    return at;
  };
  for (const i of order) {
    let chosen = -1;
    let at = 0;
    for (const r of byRank) {
      const o = firstFit(r, i);
      if (o + items[i]!.size <= regions[r]!.capacity) { chosen = r; at = o; break; }
    }
    if (chosen < 0) {
      // Nowhere with room: the largest of the slowest regions takes it beyond its capacity (the verdict says it
      // does not fit).
      const slowest = regions[byRank[byRank.length - 1]!]!.rank;
      chosen = byRank.filter((r) => regions[r]!.rank === slowest).reduce((m, r) => (regions[r]!.capacity > regions[m]!.capacity ? r : m));
      at = firstFit(chosen, i);
    }
    region[i] = chosen;
    offsets[i] = at;
    members[chosen]!.push(i);
  }

  // Each region planned again on its own (the single-arena planner packs tighter than one greedy pass).
  /** A region's buffers planned again: a quick plan, good enough once within `capacity` (the final plans are full). */
  const replan = (ids: readonly number[], capacity = 0): { offsets: number[]; size: number } => {
    const p = planArena(ids.map((i) => items[i]!), capacity > 0 ? { stopAt: capacity, perturb: false } : {});
    return { offsets: p.offsets, size: p.size };
  };
  const regionSize = (r: number): number => members[r]!.reduce((m, j) => Math.max(m, offsets[j]! + items[j]!.size), 0);
  for (let r = 0; r < regions.length; r++) {
    const p = replan(members[r]!);
    if (p.size < regionSize(r)) members[r]!.forEach((j, k) => { offsets[j] = p.offsets[k]!; });
  }
  if (!promotion) return { region, offsets };
  const final = (): { region: number[]; offsets: number[] } => {
    for (let r = 0; r < regions.length; r++) {
      const p = replan(members[r]!);
      if (p.size < regionSize(r)) members[r]!.forEach((j, k) => { offsets[j] = p.offsets[k]!; });
    }
    return { region, offsets };
  };

  /** Moves: `into` takes these buffers and loses `out`, which go to `from`; both planned again. False (and nothing
   *  changed) when either region would exceed its capacity. */
  const move = (into: number, add: readonly number[], from: number, out: readonly number[]): boolean => {
    // One buffer into a gap that is already free: no planning needed.
    if (add.length === 1 && out.length === 0) {
      const i = add[0]!;
      const at = firstFit(into, i);
      if (at + items[i]!.size <= regions[into]!.capacity) {
        members[from] = members[from]!.filter((j) => j !== i);
        members[into]!.push(i);
        region[i] = into;
        offsets[i] = at;
        return true;
      }
    }
    const gone = new Set(add);
    const left = new Set(out);
    const intoIds = [...members[into]!.filter((j) => !left.has(j)), ...add];
    const p = replan(intoIds, regions[into]!.capacity);
    if (p.size > regions[into]!.capacity) return false;
    const fromIds = [...members[from]!.filter((j) => !gone.has(j)), ...out];
    const q = replan(fromIds, Math.max(1, regions[from]!.capacity));
    if (out.length > 0 && q.size > regions[from]!.capacity) return false;
    intoIds.forEach((j, k) => { offsets[j] = p.offsets[k]!; region[j] = into; });
    fromIds.forEach((j, k) => { offsets[j] = q.offsets[k]!; region[j] = from; });
    members[into] = intoIds;
    members[from] = fromIds;
    return true;
  };
  let tries = 0;
  // Promotion: a buffer in a slower region moves to a faster one when that region, planned again, still holds all.
  for (const i of promote) {
    if (tries >= PROMOTE_TRIES) break;
    for (const r of byRank) {
      if (regions[r]!.rank >= regions[region[i]!]!.rank) break;
      tries++;
      if (move(r, [i], region[i]!, [])) break;
    }
  }
  // Exchange: a buffer in a slower region takes the place of smaller buffers alive with it in a faster one (fewer
  // bytes end up slow), the smallest evicted first until the faster region holds it.
  for (const i of promote) {
    if (tries >= 2 * PROMOTE_TRIES) break;
    const from = region[i]!;
    const it = items[i]!;
    for (const r of byRank) {
      if (regions[r]!.rank >= regions[from]!.rank) break;
      const rivals = members[r]!.filter((j) => items[j]!.start <= it.end && it.start <= items[j]!.end && items[j]!.size < it.size)
        .sort((a, b) => items[a]!.size - items[b]!.size || a - b);
      const out: number[] = [];
      let freed = 0;
      let done = false;
      for (const j of rivals) {
        if (freed + items[j]!.size >= it.size) break;
        out.push(j);
        freed += items[j]!.size;
        tries++;
        if (move(r, [i], from, out)) { done = true; break; }
      }
      if (done) break;
    }
  }
  return final();
}

/** Places the arena's buffers (`buffers[i]`: the plan buffer item i stores, whole or as a tile buffer) across
 *  regions, a buffer's traffic being its size times the steps that read or write it. The C export and the report
 *  both call this with the same items, so the arena view shows what the firmware does. */
export function placeBuffers(items: readonly PlanItem[], buffers: readonly number[], plan: ExecPlan, regions: readonly RegionSpec[]): RegionPlacement {
  const access = accessCounts(plan);
  return planRegions(items, regions, items.map((it, i) => it.size * (access[buffers[i]!] ?? 1)));
}
