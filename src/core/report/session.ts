// One model analysed the way the extension shows it: analysis under the effective settings, the fit per layer and
// with the schedule in force, candidate schedules, and the findings the Problems panel lists (SPEC §2.1). Pure: the
// extension turns this into diagnostics, the listing, hovers, quick fixes and the webview's data.
import type { Analysis } from '../analysis/analyze';
import { analyzeGraph } from '../analysis/analyze';
import type { Graph, ModelMetadata } from '../graph';
import { ModelError } from '../errors';
import { ARENA_ALIGNMENT, DEFAULT_CONVENTIONS } from '../analysis/conventions';
import { buildExecPlan, type ExecPlan } from '../analysis/steps';
import { alignUp } from '../analysis/planner';
import { arenaRegionSpecs, evaluateFit, isMultiRegion, ramRegions, type FitResult, type McuTarget, type RamPlacement, type SpeedClass } from '../mcu/catalogue';
import { accessCounts, planRegions } from '../analysis/regions';
import { chooseStreamPlan, streamArena, streamFrontier, type StreamPlan } from '../schedule/stream';
import { fusibleBlocks } from '../schedule/fusion';
import { firmwareFootprint, type Footprint } from '../codegen/index';
import { RUNTIME_FLASH_BYTES } from '../codegen/footprint-data';
import { evaluateSchedule, scheduleArenaPlan, scheduleContext, scheduledLive, type ScheduleContext, type ScheduleCost } from '../schedule/cost';
import { describeSchedule, type ScheduleReport } from '../schedule/report';
import { searchSchedules } from '../schedule/search';
import { resolveSchedule, scheduleRefText } from '../schedule/spec';
import { isPatchSetting, linesBudget, scheduleFieldText, type Effective, type LinesSetting, type ScheduleSetting } from './deployment';
import { tflmAllocation, type TflmArena } from '../tflm/arena';
import { tflmBest } from '../tflm/optimize';
import { formatBytes } from '../units';

export type FindingSeverity = 'error' | 'warning' | 'information';

export interface QuickFix {
  title: string;
  /** A patch schedule, or a line-buffered plan by its RAM (the point the title describes). */
  schedule: ScheduleSetting | LinesSetting;
}

export interface Finding {
  severity: FindingSeverity;
  code: 'sram' | 'flash' | 'unsupported' | 'schedule-fits' | 'schedule' | 'deployment' | 'codegen' | 'tflm';
  message: string;
  /** Execution step (listing line) the finding concerns; null for the model as a whole. */
  step: number | null;
  /** Schedules that fix an SRAM error, best first. */
  fixes?: QuickFix[];
}

export interface ModelReport {
  fileName: string;
  /** The file's producer and opsets. */
  metadata: ModelMetadata;
  analysis: Analysis;
  effective: Effective;
  /** Null without a target (the CLI without --target). */
  perLayerFit: FitResult | null;
  /** The fit with the schedule in force (equals perLayerFit without one). */
  fit: FitResult | null;
  schedule: ScheduleReport | null;
  /** The line-buffered plan in force (schedule "lines"), or null. */
  lineBuffered: StreamPlan | null;
  /** The line-buffered plan offered as a fix: the fewest extra MACs whose arena fits the target (null when none does
   *  or nothing needs fixing). */
  lineBufferedFix: StreamPlan | null;
  /** Per execution step with a line-buffered plan in force: its segment (index into lineBuffered.segments) and the
   *  ring its output is held in (null: held whole); null for a step run layer by layer (the listing's hover). */
  /** Per step: its segment and the ring of its output; `inside`: its output is never stored, computed pixel by pixel
   *  inside that step's kernel (a fused block) or channel by channel into it (the channel-wise tail). */
  lineBufferedSteps: ({ segment: number; ring: { rows: number; width: number; bytes: number } | null; inside?: { step: number; how: 'pixel' | 'channel' } } | null)[] | null;
  /** Live bytes per execution step with the schedule (largest tile in the stage); null without one. */
  scheduledLive: number[] | null;
  /** The arena as planned for the schedule in force (layer by layer without one): one rectangle per buffer. With
   *  several RAM regions, each rectangle's offset is inside its region's arena. */
  arenaLayout: ArenaRect[];
  /** A target with several RAM regions: the arena's plan per region (ramRegions order); null otherwise. */
  regionPlan: RegionPlanRow[] | null;
  scheduleWhy: string;
  /** Pareto schedules (best first), at most MAX_CANDIDATES. */
  candidates: ScheduleReport[];
  findings: Finding[];
  /** The firmware of the C export with the schedule in force: what the verdict counts in Flash and RAM. Null when the
   *  model cannot be exported (`firmwareWhy` says why): Flash then counts the stored weights and the runtime only. */
  firmware: Footprint | null;
  firmwareWhy: string;
  /** What TFLM takes from its tensor arena for this model (32-bit Cortex-M); null with `tflmWhy` when not predicted.
   *  With runtime "tflm" the verdict's SRAM is this arena. */
  tflm: TflmArena | null;
  tflmWhy: string | null;
  /** TFLM's arena with our plan written into the file as OfflineMemoryAllocation (`mcu-mem optimize`), when that is
   *  smaller; otherwise null and `tflmOptimizedWhy` says why. */
  tflmOptimized: TflmArena | null;
  tflmOptimizedWhy: string | null;
}

/** The arena's part in one memory region. */
export interface RegionPlanRow {
  name: string;
  speed: SpeedClass;
  /** The region's size, and what the arena may take of it (less the reserve and static data in the system region). */
  bytes: number;
  capacity: number;
  arenaBytes: number;
  /** The most bytes of the buffers placed here that are alive at one step. */
  lowerBound: number;
  /** How many buffers live here. */
  buffers: number;
}

/** A buffer in the arena: bytes [offset, offset + size) from step `first` to step `last`. */
export interface ArenaRect {
  name: string;
  /** The plan buffer it stores (whole, or one tile's part in the patch stage). */
  buffer: number;
  /** Index of its memory region in the target's RAM regions (0 with one region). */
  region: number;
  /** Steps that read or write it: the region planner puts the most bytes × accesses in the fastest region. */
  accesses: number;
  offset: number;
  size: number;
  first: number;
  last: number;
  kind: 'tensor' | 'tile buffer' | 'stage output' | 'ring';
}

export const MAX_CANDIDATES = 6;
/** Patch schedules spread over a multi-region target's regions to find the fixes that fit each region. */
const MAX_REGION_CHECKS = 6;

function perLayerLayout(a: Analysis, plan: ExecPlan): ArenaRect[] {
  const access = accessCounts(plan);
  return a.buffers.map((b, i) => ({ name: b.name, buffer: i, region: 0, accesses: access[i] ?? 1, offset: b.offset, size: alignUp(b.bytes, ARENA_ALIGNMENT), first: b.firstOp, last: b.lastOp, kind: 'tensor' as const }));
}

function scheduleLayout(ctx: ScheduleContext, cost: ScheduleCost): ArenaRect[] {
  const p = scheduleArenaPlan(ctx, cost);
  const access = accessCounts(ctx.plan);
  const st = ctx.stages[cost.split];
  const output = st && st.ok ? st.stage.output : -1;
  return p.rects.map((r) => {
    const b = ctx.plan.buffers[r.buffer]!;
    const name = ctx.graph.tensors[b.tensors[0]!]?.name ?? `buffer ${r.buffer}`;
    return { name, buffer: r.buffer, region: 0, accesses: access[r.buffer] ?? 1, offset: r.offset, size: r.size, first: r.start, last: r.end, kind: r.tile ? 'tile buffer' as const : b.tensors.includes(output) ? 'stage output' as const : 'tensor' as const };
  });
}

/** The layout spread over the target's RAM regions as the C export spreads it (the same planner, the same items):
 *  the rectangles with their region and offset in it, and the plan per region. `staticBytes`: the firmware's RAM
 *  besides the arena (in the system region). */
export function regionLayout(target: McuTarget, rects: readonly ArenaRect[], staticBytes: number): { rects: ArenaRect[]; rows: RegionPlanRow[]; fits: boolean } {
  const specs = arenaRegionSpecs(target, staticBytes);
  const placed = planRegions(rects.map((r) => ({ size: r.size, start: r.first, end: r.last })), specs.map((x) => x.spec), rects.map((r) => r.size * r.accesses));
  const regions = ramRegions(target);
  const rows: RegionPlanRow[] = regions.map((r, i) => {
    const k = specs.findIndex((x) => x.ram === i);
    return { name: r.name, speed: r.speed, bytes: r.bytes, capacity: k >= 0 ? Math.max(0, specs[k]!.spec.capacity) : 0,
      arenaBytes: k >= 0 ? placed.sizes[k]! : 0, lowerBound: k >= 0 ? placed.lowerBounds[k]! : 0, buffers: placed.region.filter((x) => x === k && k >= 0).length };
  });
  return { rects: rects.map((r, i) => ({ ...r, region: specs[placed.region[i]!]?.ram ?? 0, offset: placed.offsets[i]! })), rows, fits: placed.fits };
}

/** The verdict's placement from the export's footprint: its arena per region, the input buffer as static data. */
export function footprintPlacement(target: McuTarget, fw: Footprint): RamPlacement {
  const arena = ramRegions(target).map(() => 0);
  for (const part of fw.arenaParts) arena[part.ram] = (arena[part.ram] ?? 0) + part.bytes;
  return { arena, staticBytes: fw.inputBufferBytes };
}

const kib = formatBytes;
const bytes = (b: number): string => `${Math.round(b).toLocaleString('en-US')} B`;

/** "Run steps 0–12 in 4×4 patches: peak 1.34 MiB → 196.0 KiB, +9.3% MACs" */
export function scheduleTitle(r: ScheduleReport): string {
  return `Run steps 0–${r.split.index} in ${r.tiles[0]}×${r.tiles[1]} patches: peak ${kib(r.perLayerPeakBytes)} → ${kib(r.peakBytes)}, +${(r.overhead.modelExact * 100).toFixed(1)}% MACs`;
}

/** How a schedule is written into the deployment file: after the stage output's name (stable across conventions). */
export const scheduleSetting = (r: ScheduleReport): ScheduleSetting => ({ after: r.split.output.name || r.split.index, tiles: r.tiles });

interface Applied {
  report: ScheduleReport | null;
  cost: ScheduleCost | null;
  /** The line-buffered plan in force (schedule "lines"). */
  lines: StreamPlan | null;
  /** The line-buffered plan offered as a fix. */
  linesFix: StreamPlan | null;
  why: string;
  error?: string;
  candidates: ScheduleReport[];
  fixes: ScheduleReport[];
}

/** "Stream rows (line-buffered): peak 1.34 MiB → 141.3 KiB, +0.0% MACs" */
export function linesTitle(perLayerPeak: number, p: StreamPlan): string {
  return `Stream rows through fused segments (line-buffered): peak ${kib(perLayerPeak)} → ${kib(p.peakBytes)}, +${(p.overhead * 100).toFixed(1)}% MACs`;
}

function appliedSchedule(ctx: ScheduleContext, eff: Effective, perLayerArena: number): Applied {
  const target = eff.target;
  const found = searchSchedules(ctx, { target, maxOverhead: eff.maxOverhead, perLayerArenaBytes: perLayerArena });
  const candidates = found.pareto.slice(0, MAX_CANDIDATES).map((c) => describeSchedule(ctx, c));
  // Fixes for an SRAM error: schedules whose arena fits, least overhead first (ignoring the limit, which the title
  // shows). The Pareto set does not depend on the limit: only the choice of `best` does.
  const budget = target ? target.sramBytes - target.reserveBytes : -1;
  // With several RAM regions the arena must fit each: the candidate's buffers are spread as the export would.
  // (At most MAX_REGION_CHECKS candidates are spread; the others are not offered.)
  let checks = 0;
  const regionsHold = (c: ScheduleCost): boolean => !target || !isMultiRegion(target)
    || (checks++ < MAX_REGION_CHECKS && regionLayout(target, scheduleLayout(ctx, c), staticGuess(ctx.graph, eff, ctx.plan)).fits);
  const fixes = found.pareto
    .filter((c) => c.peakBytes <= budget)
    .sort((a, b) => a.overhead.modelExact - b.overhead.modelExact)
    .reduce<ScheduleCost[]>((kept, c) => (kept.length < 3 && regionsHold(c) ? [...kept, c] : kept), [])
    .map((c) => describeSchedule(ctx, c))
    .filter((r) => r.arenaBytes <= budget);
  const from = eff.origins.schedule === 'flag' ? 'as given on the command line' : eff.origins.schedule === 'deployment' ? 'as given in the deployment file' : 'as given';
  // Line-buffered plans: computed when in force, or when the per-layer arena does not fit the target (a fix); with
  // several RAM regions the fix's rings and buffers must fit each region, spread as the export spreads them.
  const budgetOfLines = linesBudget(eff.schedule, eff.maxOverhead);
  const front = budgetOfLines ? streamFrontier(ctx) : [];
  // The fix: the point of the front under the budget with the fewest extra MACs (the front searched only there, which
  // keeps it quick when little or nothing fits).
  let linesFix: StreamPlan | null = null;
  if (target && perLayerArena > budget) {
    const under = front.length > 0 ? front : streamFrontier(ctx, budget);
    let spread = 0;
    const linesHold = (p: StreamPlan): boolean => !isMultiRegion(target)
      || (spread++ < MAX_REGION_CHECKS && regionLayout(target, linesLayout(ctx, p), staticGuess(ctx.graph, eff, ctx.plan)).fits);
    // The fewest extra MACs whose arena fits, among the points its own RAM ({lines: {maxRam: peak}}) selects again.
    linesFix = under.filter((p) => p.arenaBytes <= budget && p.arenaBytes < perLayerArena && p.segments.length > 0)
      .sort((a, b) => a.extraMacs - b.extraMacs || a.calls - b.calls)
      .find((p) => chooseStreamPlan(under, { maxOverhead: null, maxRam: p.peakBytes }) === p && linesHold(p)) ?? null;
  }
  const base = { candidates, fixes, linesFix, lines: null };
  if (eff.schedule === 'none') return { ...base, report: null, cost: null, why: `layer by layer (schedule "none", ${eff.origins.schedule === 'default' ? 'the default' : from.replace('as given', 'given')})` };
  if (eff.schedule === 'auto') return { ...base, report: found.best ? describeSchedule(ctx, found.best) : null, cost: found.best, why: found.why };
  if (budgetOfLines) {
    const lines = chooseStreamPlan(front, budgetOfLines);
    const rule = budgetOfLines.maxRam !== null ? `the fewest extra MACs within ${budgetOfLines.maxRam.toLocaleString('en-US')} B`
      : `the least peak ${eff.maxOverhead === null ? 'with no MACs limit' : `within +${Math.round(eff.maxOverhead * 1000) / 10}% MACs`}`;
    const given = `schedule ${JSON.stringify(scheduleFieldText(eff.schedule, scheduleRefText))}, ${from.replace('as given', 'given')}`;
    const within = budgetOfLines.maxRam !== null ? ` within ${budgetOfLines.maxRam.toLocaleString('en-US')} B` : '';
    if (!lines || lines.segments.length === 0) return { ...base, report: null, cost: null, why: `layer by layer: no line-buffered plan lowers the peak${within} (${given})` };
    return { ...base, report: null, cost: null, lines, why: `line-buffered, ${rule} (${given})` };
  }
  if (!isPatchSetting(eff.schedule)) throw new Error(`unreachable: schedule ${JSON.stringify(eff.schedule)}`);
  const text = scheduleRefText(eff.schedule);
  try {
    const spec = resolveSchedule(ctx, eff.schedule);
    const cost = evaluateSchedule(ctx, spec.split, spec.p, spec.q);
    return { ...base, report: describeSchedule(ctx, cost), cost, why: `${from} (${text})` };
  } catch (e) {
    if (!(e instanceof ModelError)) throw e;
    return { ...base, report: null, cost: null, why: `layer by layer: the schedule ${from.replace('as given', 'given')} does not apply`, error: e.message };
  }
}

/** The arena of a line-buffered plan as rectangles: whole buffers and rings. */
function linesLayout(ctx: ScheduleContext, p: StreamPlan): ArenaRect[] {
  const a = streamArena(ctx, p.segments);
  const access = accessCounts(ctx.plan);
  return a.owners.map((o, i) => {
    const it = a.items[i]!;
    const common = { offset: a.plan.offsets[i]!, size: it.size, first: it.start, last: it.end, region: 0 };
    if ('buffer' in o) {
      const b = ctx.plan.buffers[o.buffer]!;
      return { ...common, name: ctx.graph.tensors[b.tensors[0]!]?.name ?? `buffer ${o.buffer}`, buffer: o.buffer, accesses: access[o.buffer] ?? 1, kind: 'tensor' as const };
    }
    if ('accumulator' in o) return { ...common, name: `pooling sums (steps from #${o.accumulator})`, buffer: -1, accesses: 1, kind: 'ring' as const };
    if ('scratch' in o) return { ...common, name: `fused blocks' scratch (steps from #${o.scratch})`, buffer: -1, accesses: 1, kind: 'ring' as const };
    const b = ctx.plan.bufferOf[o.ring] ?? -1;
    return { ...common, name: ctx.graph.tensors[o.ring]?.name ?? `tensor ${o.ring}`, buffer: b, accesses: access[b] ?? 1, kind: 'ring' as const };
  });
}

/** Each step's segment and the ring of its output, for the listing. */
function linesSteps(ctx: ScheduleContext, p: StreamPlan): NonNullable<ModelReport['lineBufferedSteps']> {
  const out: NonNullable<ModelReport['lineBufferedSteps']> = ctx.plan.steps.map(() => null);
  const blocks = fusibleBlocks(ctx);
  p.segments.forEach((s, k) => {
    const rings = new Map(s.rings.map((r) => [r.tensor, r]));
    const inside = new Map<number, { step: number; how: 'pixel' | 'channel' }>();
    for (const f of s.fused) {
      const b = blocks.get(f.step)!;
      inside.set(b.dw, { step: b.project, how: 'pixel' });
      if (f.expand) inside.set(b.expand!, { step: b.project, how: 'pixel' });
    }
    if (s.channelwise) inside.set(s.first, { step: s.last, how: 'channel' });
    for (let i = s.first; i <= s.last; i++) {
      const ring = ctx.plan.steps[i]!.outputs.map((t) => rings.get(t)).find((r) => r !== undefined);
      const at = inside.get(i);
      out[i] = { segment: k, ring: ring ? { rows: ring.rows, width: ring.width, bytes: ring.bytes } : null, ...(at ? { inside: at } : {}) };
    }
  });
  return out;
}

/** Live bytes per step with a line-buffered plan: a segment's peak on each of its steps, the per-layer set elsewhere. */
function linesLive(ctx: ScheduleContext, p: StreamPlan): number[] {
  const live = ctx.live.slice();
  for (const s of p.segments) for (let k = s.first; k <= s.last; k++) live[k] = s.peakBytes;
  return live;
}

/** The target and fits of a report made with a target. The extension's always are: its settings' defaults name one. */
export function targetFit(r: ModelReport): { target: McuTarget; fit: FitResult; perLayerFit: FitResult } {
  const target = r.effective.target;
  if (!target || !r.fit || !r.perLayerFit) throw new Error('internal: a report without a target where one is required');
  return { target, fit: r.fit, perLayerFit: r.perLayerFit };
}

/** How the model of a report fares on other targets (the target picker): the same figures as the report's verdict
 *  (the schedule in force), per target; and, when its SRAM is short, whether the smallest patch-schedule arena found
 *  would fit (the firmware's RAM is its arena plus the runtime's static data, so only the arena changes). */
export interface TargetOverview {
  target: McuTarget;
  fit: FitResult;
  /** The smallest arena a patch schedule reaches, when the SRAM does not fit as configured and one is smaller. */
  scheduleArenaBytes: number | null;
  /** With that schedule, SRAM and Flash fit (and every operator is sized). */
  scheduleFits: boolean;
}

export function targetsOverview(r: ModelReport, targets: readonly McuTarget[]): TargetOverview[] {
  const cur = r.fit;
  const tflm = r.effective.runtime === 'tflm';
  const arenaNow = r.schedule ? r.schedule.arenaBytes : r.analysis.arenaBytes;
  const staticBytes = r.firmware?.inputBufferBytes ?? 0;
  // The firmware's RAM as one arena (the report's own target may have spread it over regions).
  const ram = tflm && cur ? cur.sramNeeded - cur.target.reserveBytes : cur || r.firmware ? arenaNow + staticBytes : r.analysis.arenaBytes;
  const flash = cur ? cur.flashNeeded : (r.firmware?.flashBytes ?? r.analysis.flashBytes + RUNTIME_FLASH_BYTES);
  const complete = cur ? cur.complete : r.analysis.complete;
  const best = tflm || r.candidates.length === 0 ? null : Math.min(...r.candidates.map((c) => c.arenaBytes));
  return targets.map((target) => {
    // Several regions: the arena in force spread over them as the export would (TFLM's arena stays one block).
    const spread = !tflm && isMultiRegion(target) ? regionLayout(target, r.arenaLayout, staticBytes) : null;
    const arena = spread ? spread.rows.map((x) => x.arenaBytes) : null;
    const fit = arena
      ? evaluateFit(target, staticBytes + arena.reduce((a, b) => a + b, 0), flash, complete, cur?.unknown, { arena, staticBytes })
      : evaluateFit(target, ram, flash, complete, cur?.unknown);
    const scheduleArenaBytes = !fit.sramFits && best !== null && best < arenaNow ? best : null;
    const scheduleFits = scheduleArenaBytes !== null && fit.flashFits && complete && !isMultiRegion(target) && ram - arenaNow + scheduleArenaBytes + target.reserveBytes <= target.sramBytes;
    return { target, fit, scheduleArenaBytes, scheduleFits };
  });
}

/** What would make the model fit its target, best first (Make It Fit…): patch schedules with their effect, whether
 *  each fits (the firmware's RAM changes by the arena only), the least MACs overhead first among those that do; and,
 *  when Flash or SRAM cannot be saved by a schedule, another target. Empty when it fits already. */
export interface FitChoice {
  title: string;
  detail: string;
  /** Apply this schedule (a patch schedule or a line-buffered plan by its RAM), or choose another target. */
  action: { schedule: ScheduleSetting | LinesSetting } | { selectTarget: true };
  fits: boolean;
}

export function fitChoices(r: ModelReport): FitChoice[] {
  const fit = r.fit;
  if (!fit || fit.status === 'fits') return [];
  const t = fit.target;
  const arenaNow = r.schedule ? r.schedule.arenaBytes : r.analysis.arenaBytes;
  // Several RAM regions: a schedule fits when the report's fixes (checked region by region) include it.
  const checked = fit.regions.length > 1 ? new Set(r.findings.flatMap((f) => f.fixes ?? []).map((x) => JSON.stringify(x.schedule))) : null;
  const out: FitChoice[] = r.effective.runtime === 'tflm' ? [] : r.candidates
    .filter((c) => c.arenaBytes < arenaNow)
    .map((c) => {
      const need = fit.sramNeeded - arenaNow + c.arenaBytes;
      const ramFits = checked ? checked.has(JSON.stringify(scheduleSetting(c))) : need <= t.sramBytes;
      const fits = ramFits && fit.flashFits && fit.complete;
      return {
        title: scheduleTitle(c),
        detail: `SRAM ${bytes(need)} of ${bytes(t.sramBytes)}: ${fits ? `fits ${t.name}` : ramFits ? `SRAM fits, but ${fit.flashFits ? 'the analysis is incomplete' : 'Flash does not'}` : need > t.sramBytes ? `still ${bytes(need - t.sramBytes)} over` : 'a memory region is still over'} (arena ${bytes(c.arenaBytes)})`,
        action: { schedule: scheduleSetting(c) },
        fits,
      };
    })
    .sort((a, b) => Number(b.fits) - Number(a.fits));
  const lf = r.lineBufferedFix;
  if (lf && !r.lineBuffered && r.effective.runtime !== 'tflm') {
    // The line-buffered plan with the fewest extra MACs whose arena fits (the firmware's RAM changes by the arena only).
    const need = fit.sramNeeded - arenaNow + lf.arenaBytes;
    const fits = need <= t.sramBytes && fit.flashFits && fit.complete;
    out.push({
      title: linesTitle(r.analysis.peakBytes, lf),
      detail: `SRAM ${bytes(need)} of ${bytes(t.sramBytes)}: ${fits ? `fits ${t.name}` : need <= t.sramBytes ? `SRAM fits, but ${fit.flashFits ? 'the analysis is incomplete' : 'Flash does not'}` : `still ${bytes(need - t.sramBytes)} over`} (arena ${bytes(lf.arenaBytes)}, ${lf.calls.toLocaleString('en-US')} kernel calls)`,
      action: { schedule: { lines: { maxRam: lf.peakBytes } } }, fits,
    });
    out.sort((a, b) => Number(b.fits) - Number(a.fits));
  }
  const why = !fit.flashFits ? `Flash needs ${bytes(fit.flashNeeded)} of ${bytes(t.flashBytes)}: no schedule changes the weights` : out.some((c) => c.fits) ? 'or a target with more memory' : 'no patch schedule is enough';
  out.push({ title: 'Select another target…', detail: why, action: { selectTarget: true }, fits: false });
  return out;
}

/** "Fits" means the firmware links: the C export's Flash and RAM with `schedule` (null: layer by layer) against the
 *  target. When the model cannot be exported, `firmware` is the reason and Flash counts the stored weights and the
 *  runtime. The one place a verdict is computed (analyze, schedule and the extension). */
export function firmwareFit(
  graph: Graph, eff: Effective, analysis: Analysis, schedule: ScheduleCost | null, arenaBytes: number, context?: ScheduleContext, lines?: StreamPlan,
): { firmware: Footprint | string; fit: FitResult | null } {
  const t = eff.target;
  const r = firmwareFootprint(graph, {
    conventions: eff.conventions, schedule: schedule ? { split: schedule.split, p: schedule.p, q: schedule.q } : null, target: t,
    ...(context ? { context } : {}), ...(lines ? { lineBuffered: lines.segments } : {}),
  });
  const firmware = r.ok ? r.value : r.error.message;
  const [ram, flash] = r.ok ? [r.value.ramBytes, r.value.flashBytes] : [arenaBytes, analysis.flashBytes + RUNTIME_FLASH_BYTES];
  const placement = t && isMultiRegion(t) ? (r.ok ? footprintPlacement(t, r.value) : analysisPlacement(graph, eff, analysis, t, schedule, context, lines)) : undefined;
  return { firmware, fit: t ? evaluateFit(t, ram, flash, analysis.complete, undefined, placement) : null };
}

/** The firmware's RAM besides the arena as the export has it: the caller's input buffer when the input is not in
 *  the arena. */
function staticGuess(graph: Graph, eff: Effective, plan: ExecPlan): number {
  const conventions = { ...DEFAULT_CONVENTIONS, ...eff.conventions };
  return conventions.countInput || graph.inputs.length === 0 ? 0 : plan.tensorBytes(graph.inputs[0]!);
}

/** When the model does not export: the arena in force spread over the regions as the export would, the input
 *  outside the arena counted as static data. */
function analysisPlacement(graph: Graph, eff: Effective, analysis: Analysis, t: McuTarget, schedule: ScheduleCost | null, context?: ScheduleContext, lines?: StreamPlan): RamPlacement {
  const plan = context?.plan ?? buildExecPlan(graph, { ...DEFAULT_CONVENTIONS, ...eff.conventions });
  const staticBytes = staticGuess(graph, eff, plan);
  const rects = schedule && context ? scheduleLayout(context, schedule) : lines && context ? linesLayout(context, lines) : perLayerLayout(analysis, plan);
  return { arena: regionLayout(t, rects, staticBytes).rows.map((r) => r.arenaBytes), staticBytes };
}

/** How many unsized operators a finding names before "and N more". */
const NAMED_UNSIZED = 3;

/** The verdict when TFLM runs the model: SRAM is TFLM's smallest working arena plus the reserve; Flash holds the model
 *  file and TFLM's code, which is not measured, so the verdict is at best incomplete. */
function tflmFit(graph: Graph, eff: Effective, tflm: TflmArena | null, tflmWhy: string | null): FitResult | null {
  if (!eff.target) return null;
  const file = graph.metadata.fileBytes ?? 0;
  const why = tflm ? `TFLM's own code in Flash is not measured: the need is at least the model file` : `TFLM's arena is not predicted: ${tflmWhy}`;
  return evaluateFit(eff.target, tflm ? tflm.minArenaBytes : 0, file, false, why);
}

/** TFLM's figures for a report: as the file is, and with our offline plan. */
interface TflmFigures {
  tflm: TflmArena | null;
  tflmWhy: string | null;
  tflmOptimized: TflmArena | null;
  tflmOptimizedWhy: string | null;
}

function tflmFigures(graph: Graph, plan: ExecPlan): TflmFigures {
  const current = tflmAllocation(graph);
  if (!current.ok) return { tflm: null, tflmWhy: current.reason, tflmOptimized: null, tflmOptimizedWhy: null };
  const o = tflmBest(graph, current, plan);
  return { tflm: current.value.arena, tflmWhy: null, tflmOptimized: o.ok ? o.value.after : null, tflmOptimizedWhy: o.ok ? null : o.error.message };
}

/** The report with runtime "tflm": TFLM runs the .tflite file layer by layer, with its own arena. */
function tflmModelReport(graph: Graph, fileName: string, eff: Effective, analysis: Analysis, plan: ExecPlan, figures: TflmFigures): ModelReport {
  const { tflm, tflmWhy } = figures;
  const fit = tflmFit(graph, eff, tflm, tflmWhy);
  const t = eff.target;
  const findings: Finding[] = [];
  for (const p of eff.problems) findings.push({ severity: 'warning', code: 'deployment', message: `deployment file${p.path ? ` (${p.path})` : ''}: ${p.message}`, step: null });
  if (eff.schedule !== 'none') findings.push({ severity: 'warning', code: 'schedule', step: null, message: `runtime "tflm": TFLM runs the model layer by layer, so the schedule (${scheduleFieldText(eff.schedule, scheduleRefText)}) is not applied` });
  if (t && fit && tflm && !fit.sramFits) {
    findings.push({ severity: 'error', code: 'sram', step: null, message: `TFLM's tensor arena ${bytes(tflm.minArenaBytes)} (the smallest that works; arena_used_bytes ${bytes(tflm.arenaUsedBytes)})${t.reserveBytes ? ` + reserve ${bytes(t.reserveBytes)}` : ''} exceeds ${t.name}'s ${bytes(t.sramBytes)} SRAM by ${bytes(fit.sramNeeded - t.sramBytes)}` });
  }
  if (t && fit && !fit.flashFits) {
    findings.push({ severity: 'error', code: 'flash', step: null, message: `the model file, ${bytes(fit.flashNeeded)}, which TFLM reads from Flash, exceeds ${t.name}'s ${bytes(t.flashBytes)} Flash by at least ${bytes(fit.flashNeeded - t.flashBytes)}` });
  }
  const opt = figures.tflmOptimized;
  if (tflm && opt) {
    findings.push({ severity: 'information', code: 'tflm', step: null, message: `with our arena plan written into the file (mcu-mem optimize, or the command Write TFLM-Optimized Model), TFLM needs ${bytes(opt.minArenaBytes)} instead of ${bytes(tflm.minArenaBytes)}${t && tflm.minArenaBytes + t.reserveBytes > t.sramBytes && opt.minArenaBytes + t.reserveBytes <= t.sramBytes ? `, which fits ${t.name}'s SRAM` : ''}` });
  }
  if (!tflm) findings.push({ severity: 'warning', code: 'tflm', step: null, message: `INCOMPLETE: TFLM's arena is not predicted: ${tflmWhy}` });
  else if (t && fit && fit.status === 'incomplete') findings.push({ severity: 'warning', code: 'tflm', step: null, message: `INCOMPLETE: TFLM's arena fits ${t.name} (${bytes(fit.sramNeeded)} with the reserve), and the model file takes ${bytes(fit.flashNeeded)} of its Flash; TFLM's own code in Flash is not measured, so no verdict says it fits` });
  return { fileName, metadata: graph.metadata, analysis, effective: eff, perLayerFit: fit, fit, schedule: null, scheduledLive: null, arenaLayout: perLayerLayout(analysis, plan), regionPlan: null,
    lineBuffered: null, lineBufferedFix: null, lineBufferedSteps: null, scheduleWhy: 'layer by layer (runtime "tflm")', candidates: [], findings, firmware: null, firmwareWhy: 'runtime "tflm": the C export is not used', ...figures };
}

export function analyzeModel(graph: Graph, fileName: string, eff: Effective): ModelReport {
  // TFLM runs the file layer by layer: no schedule context to build.
  if (eff.runtime === 'tflm') {
    const plan = buildExecPlan(graph, { ...DEFAULT_CONVENTIONS, ...eff.conventions });
    return tflmModelReport(graph, fileName, eff, analyzeGraph(graph, eff.conventions, plan), plan, tflmFigures(graph, plan));
  }
  // One execution plan for the analysis, the schedule search, the TFLM operator-order search and the C lowering the
  // verdict counts.
  const ctx = scheduleContext(graph, eff.conventions);
  const figures = tflmFigures(graph, ctx.plan);
  const analysis = analyzeGraph(graph, eff.conventions, ctx.plan);
  const applied = appliedSchedule(ctx, eff, analysis.arenaBytes);
  const t = eff.target;
  const perLayer = firmwareFit(graph, eff, analysis, null, analysis.arenaBytes, ctx);
  const scheduled = applied.cost && applied.report ? firmwareFit(graph, eff, analysis, applied.cost, applied.report.arenaBytes, ctx)
    : applied.lines ? firmwareFit(graph, eff, analysis, null, applied.lines.arenaBytes, ctx, applied.lines) : perLayer;
  const lines = applied.lines;
  const quickFixes = (): QuickFix[] => [
    ...applied.fixes.map((r) => ({ title: scheduleTitle(r), schedule: scheduleSetting(r) })),
    ...(applied.linesFix && !lines ? [{ title: linesTitle(analysis.peakBytes, applied.linesFix), schedule: { lines: { maxRam: applied.linesFix.peakBytes } } }] : []),
  ];
  const fw = scheduled.firmware;
  const perLayerFit = perLayer.fit;
  const fit = scheduled.fit;
  const findings: Finding[] = [];
  for (const p of eff.problems) findings.push({ severity: 'warning', code: 'deployment', message: `deployment file${p.path ? ` (${p.path})` : ''}: ${p.message}`, step: null });
  if (applied.error) findings.push({ severity: 'warning', code: 'schedule', message: applied.error, step: null });
  const atLeast = analysis.complete ? '' : 'at least ';
  const layout = applied.cost ? scheduleLayout(ctx, applied.cost) : lines ? linesLayout(ctx, lines) : perLayerLayout(analysis, ctx.plan);
  const staticBytes = typeof fw !== 'string' ? fw.inputBufferBytes : staticGuess(graph, eff, ctx.plan);
  const regioned = t && isMultiRegion(t) ? regionLayout(t, layout, staticBytes) : null;

  if (t && fit && perLayerFit && !fit.sramFits && fit.regions.length > 1) {
    const over = fit.regions.filter((r) => !r.fits).map((r) => `${r.name} needs ${atLeast}${bytes(r.needed)} of ${bytes(r.bytes)}${r.reserveBytes ? ` (reserve ${bytes(r.reserveBytes)} included)` : ''}`);
    findings.push({
      severity: 'error', code: 'sram', step: null,
      message: `the arena${applied.report ? ' with the patch schedule' : lines ? ' of the line-buffered plan' : ''} does not fit ${t.name}'s memory regions: ${over.join('; ')}${fit.sramNeeded > t.sramBytes ? ` (${atLeast}${bytes(fit.sramNeeded)} in all, ${bytes(t.sramBytes)} of RAM)` : ''}`,
      fixes: quickFixes(),
    });
  } else if (t && fit && perLayerFit && !fit.sramFits) {
    const s = applied.report;
    const peakStep = s ? s.peakOp.index : lines ? ('step' in lines.peakAt ? lines.peakAt.step : lines.segments[lines.peakAt.segment]!.first) : analysis.peakStep;
    const row = analysis.ops[peakStep];
    const what = s ? `with ${s.tiles[0]}×${s.tiles[1]} patches after step #${s.split.index}, peak ${atLeast}${bytes(s.peakBytes)} (arena ${bytes(s.arenaBytes)})`
      : lines ? `with the line-buffered plan, peak ${atLeast}${bytes(lines.peakBytes)} (arena ${bytes(lines.arenaBytes)})`
        : `peak SRAM ${atLeast}${bytes(analysis.peakBytes)} (arena ${bytes(analysis.arenaBytes)})`;
    findings.push({
      severity: 'error', code: 'sram', step: peakStep >= 0 ? peakStep : null,
      message: `${what}${t.reserveBytes ? ` + reserve ${bytes(t.reserveBytes)}` : ''} exceeds ${t.name}'s ${bytes(t.sramBytes)} SRAM by ${atLeast}${bytes(fit.sramNeeded - t.sramBytes)}${row ? `; peak at #${row.index} ${row.op} '${row.name}'` : ''}`,
      fixes: quickFixes(),
    });
    if (applied.fixes.length === 0 && applied.linesFix && !s && !lines) {
      findings.push({
        severity: 'information', code: 'schedule-fits', step: applied.linesFix.segments[0]?.first ?? null,
        message: fit.flashFits && analysis.complete
          ? `a line-buffered plan makes it fit ${t.name}: ${linesTitle(analysis.peakBytes, applied.linesFix)}`
          : `a line-buffered plan brings SRAM within ${t.name}'s ${bytes(t.sramBytes)}: ${linesTitle(analysis.peakBytes, applied.linesFix)}${fit.flashFits ? '' : `; the weights still exceed its Flash`}`,
      });
    }
    if (applied.fixes.length > 0 && !s && !lines) {
      const best = applied.fixes[0]!;
      findings.push({
        severity: 'information', code: 'schedule-fits', step: best.split.index,
        message: fit.flashFits && analysis.complete
          ? `a patch schedule makes it fit ${t.name}: ${scheduleTitle(best)}`
          : `a patch schedule brings SRAM within ${t.name}'s ${bytes(t.sramBytes)}: ${scheduleTitle(best)}${fit.flashFits ? '' : `; the weights still exceed its Flash`}`,
      });
    }
  } else if (t && fit && perLayerFit && applied.report && !perLayerFit.sramFits) {
    findings.push({
      severity: 'information', code: 'schedule-fits', step: applied.report.split.index,
      message: fit.fits ? `fits ${t.name} with the patch schedule: ${scheduleTitle(applied.report)}` : `SRAM fits ${t.name} with the patch schedule: ${scheduleTitle(applied.report)}`,
    });
  } else if (t && fit && perLayerFit && lines && !perLayerFit.sramFits) {
    findings.push({
      severity: 'information', code: 'schedule-fits', step: lines.segments[0]?.first ?? null,
      message: `${fit.fits ? 'fits' : 'SRAM fits'} ${t.name} with the line-buffered plan: ${linesTitle(analysis.peakBytes, lines)}`,
    });
  }
  if (t && fit && !fit.flashFits) {
    const what = typeof fw === 'string' ? `weights ${atLeast}${bytes(analysis.flashBytes)} and the runtime` : `the firmware image (weights ${bytes(fw.weightsBytes)} as exported, kernels, model code, runtime), ${bytes(fw.flashBytes)},`;
    findings.push({ severity: 'error', code: 'flash', step: null, message: `${what} exceed${typeof fw === 'string' ? '' : 's'} ${t.name}'s ${bytes(t.flashBytes)} Flash by ${atLeast}${bytes(fit.flashNeeded - t.flashBytes)}` });
  }
  const incomplete = incompleteFinding(analysis, atLeast);
  if (incomplete) findings.push(incomplete);
  return { fileName, metadata: graph.metadata, analysis, effective: eff, perLayerFit, fit, schedule: applied.report, lineBuffered: lines, lineBufferedFix: applied.linesFix,
    lineBufferedSteps: lines ? linesSteps(ctx, lines) : null,
    scheduledLive: applied.cost ? scheduledLive(ctx, applied.cost) : lines ? linesLive(ctx, lines) : null,
    arenaLayout: regioned ? regioned.rects : layout, regionPlan: regioned ? regioned.rows : null, scheduleWhy: applied.why, candidates: applied.candidates, findings,
    firmware: typeof fw === 'string' ? null : fw, firmwareWhy: typeof fw === 'string' ? fw : 'the C export with the schedule in force', ...figures };
}

/** One warning for every unsized operator: how many, the first few by name, and that the figures are lower bounds. */
function incompleteFinding(analysis: Analysis, atLeast: string): Finding | null {
  const u = analysis.unsupported;
  if (u.length === 0) return null;
  const stepOf = new Map<number, number>();
  analysis.ops.forEach((r) => r.sourceOps.forEach((o) => stepOf.set(o, r.index)));
  const named = u.slice(0, NAMED_UNSIZED).map((x) => `#${stepOf.get(x.opIndex) ?? x.opIndex} ${x.op} '${x.name}' (${x.reason})`);
  const more = u.length > NAMED_UNSIZED ? `, and ${u.length - NAMED_UNSIZED} more` : '';
  return {
    severity: 'warning', code: 'unsupported', step: stepOf.get(u[0]!.opIndex) ?? null,
    message: `INCOMPLETE: ${u.length} of ${analysis.fileOps} operators are not sized, so the peak (${atLeast}${bytes(analysis.peakBytes)}) is a lower bound and no verdict says it fits: ${named.join('; ')}${more}`,
  };
}
