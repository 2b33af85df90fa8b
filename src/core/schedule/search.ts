// Schedule search (SPEC §4): every valid split point × p, q in 1..8; the Pareto set of (peak SRAM, MACs overhead of
// the whole model with exact border tiles). A schedule whose peak is not below the per-layer peak is never returned
// (TinyEngine's patch-based mode could raise the peak: tinyengine#104).
import type { McuTarget } from '../mcu/catalogue';
import { evaluate, evaluateSchedule, restPeakOf, scheduleArena, type ScheduleContext, type ScheduleCost } from './cost';

export const MAX_TILES_PER_AXIS = 8;

/**
 * Default limit on the extra MACs of the whole model (exact borders) when choosing the best schedule: MCUNetV2's
 * Fig. 5 reports 8–17% for its 4×4 schedules. Without a limit the lowest peak often costs twice the MACs.
 */
export const DEFAULT_MAX_OVERHEAD = 0.2;

export interface SearchOptions {
  target?: McuTarget | null;
  /** Largest acceptable MACs overhead of the whole model (exact borders), as a fraction: 0.1 = +10%.
   *  Undefined: DEFAULT_MAX_OVERHEAD; null: no limit. */
  maxOverhead?: number | null;
  /** Per-layer arena (from the analysis), so "already fits" is judged as the analysis judges it. */
  perLayerArenaBytes?: number;
}

export interface RejectedSplits {
  /** Execution steps (inclusive) after which a split is not possible for this reason. */
  fromStep: number;
  toStep: number;
  kind: 'operator' | 'branch' | 'unused';
  reason: string;
}

export interface SearchResult {
  /** Schedules evaluated (split points × tilings). */
  evaluated: number;
  validSplits: number;
  /** Pareto-optimal schedules: the best first, then by increasing peak. */
  pareto: ScheduleCost[];
  /** The recommended schedule, or null when running layer by layer is the best answer (it already fits, or nothing is lower). */
  best: ScheduleCost | null;
  /** Arena of the best schedule's execution (bytes), or the per-layer arena when best is null. */
  bestArenaBytes: number;
  /** Why `best` was chosen, in words. */
  why: string;
  /** The overhead limit applied (fraction), or null for none. */
  maxOverhead: number | null;
  /** Whether the chosen plan fits the target's SRAM (null without a target). */
  fits: boolean | null;
  rejected: RejectedSplits[];
}

export function paretoFront(costs: readonly ScheduleCost[]): ScheduleCost[] {
  const sorted = costs.slice().sort((a, b) => a.peakBytes - b.peakBytes || a.overhead.modelExact - b.overhead.modelExact || a.p * a.q - b.p * b.q || a.split - b.split);
  const front: ScheduleCost[] = [];
  let bestOverhead = Infinity;
  for (const c of sorted) {
    if (c.overhead.modelExact < bestOverhead - 1e-12) {
      front.push(c);
      bestOverhead = c.overhead.modelExact;
    }
  }
  return front;
}

export function searchSchedules(ctx: ScheduleContext, options: SearchOptions = {}): SearchResult {
  const costs: ScheduleCost[] = [];
  let evaluated = 0;
  let validSplits = 0;
  const rejected: RejectedSplits[] = [];
  for (const st of ctx.stages) {
    if (!st.ok) {
      const kind: RejectedSplits['kind'] = st.reason.startsWith('step #') ? 'operator' : st.reason.startsWith('nothing') ? 'unused' : 'branch';
      const reason = kind === 'branch' ? 'a skip connection or branch is open: more than one tensor crosses the split' : st.reason;
      const last = rejected[rejected.length - 1];
      if (last && last.reason === reason && last.toStep === st.split - 1) last.toStep = st.split;
      else rejected.push({ fromStep: st.split, toStep: st.split, kind, reason });
      continue;
    }
    validSplits++;
    // The layer-by-layer rest bounds every schedule with this split from below.
    if (restPeakOf(ctx, st.stage.split) >= ctx.perLayerPeakBytes) continue;
    const o = st.stage.slot.get(st.stage.output)!;
    const [h, w] = st.stage.dims[o]!;
    for (let p = 1; p <= Math.min(MAX_TILES_PER_AXIS, h); p++) {
      for (let q = 1; q <= Math.min(MAX_TILES_PER_AXIS, w); q++) {
        if (p === 1 && q === 1) continue;
        const c = evaluate(ctx, st.stage.split, p, q, true);
        evaluated++;
        if (c.peakBytes < ctx.perLayerPeakBytes) costs.push(c);
      }
    }
  }
  const front = paretoFront(costs).map((c) => (c.stagePeakExact ? c : evaluateSchedule(ctx, c.split, c.p, c.q)));
  const limit = options.maxOverhead === undefined ? DEFAULT_MAX_OVERHEAD : options.maxOverhead ?? Infinity;
  const eligible = front.filter((c) => c.overhead.modelExact <= limit + 1e-12);
  const target = options.target ?? null;
  const perLayerArena = options.perLayerArenaBytes ?? ctx.perLayerPeakBytes;
  let best: ScheduleCost | null = null;
  let bestArenaBytes = perLayerArena;
  let why: string;
  let fits: boolean | null = null;
  const limitText = Number.isFinite(limit) ? ` within +${(limit * 100).toFixed(1)}% MACs` : '';
  if (target) {
    const budget = target.sramBytes - target.reserveBytes;
    if (perLayerArena <= budget) {
      fits = true;
      why = `runs layer by layer in ${target.name}'s SRAM already; no recomputation needed`;
    } else {
      const byOverhead = eligible.filter((c) => c.peakBytes <= budget).sort((a, b) => a.overhead.modelExact - b.overhead.modelExact || a.peakBytes - b.peakBytes);
      for (const c of byOverhead) {
        const arena = scheduleArena(ctx, c);
        if (arena <= budget) { best = c; bestArenaBytes = arena; break; }
      }
      if (best) {
        fits = true;
        why = `least recomputation among the schedules that fit ${target.name}${limitText}`;
      } else {
        fits = false;
        best = eligible[0] ?? null;
        if (best) bestArenaBytes = scheduleArena(ctx, best);
        why = best
          ? `nothing fits ${target.name}${limitText}; lowest peak shown`
          : `no schedule lowers the peak${limitText}; running layer by layer`;
      }
    }
  } else {
    best = eligible[0] ?? null;
    if (best) bestArenaBytes = scheduleArena(ctx, best);
    why = best ? `lowest peak${limitText}` : `no schedule lowers the peak${limitText}; running layer by layer`;
  }
  const pareto = best ? [best, ...front.filter((c) => c !== best)] : front;
  return { evaluated, validSplits, pareto, best, bestArenaBytes, why, fits, maxOverhead: Number.isFinite(limit) ? limit : null, rejected };
}
