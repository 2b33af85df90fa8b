// The JSON documents of the CLI's --json and the extension's Export Report (schemas in the README, kept stable:
// fields are only ever added).
import type { Analysis } from '../analysis/analyze';
import { verdictText, type FitResult, type FitStatus, type McuTarget, type RegionFit, type Resource } from '../mcu/catalogue';
import type { Advice } from '../schedule/advisor';
import type { ScheduleContext } from '../schedule/cost';
import { stepRef, type ScheduleReport, type StepRef } from '../schedule/report';
import type { RejectedSplits, SearchResult } from '../schedule/search';
import type { StreamPlan } from '../schedule/stream';
import type { ModelReport, RegionPlanRow } from './session';
import type { Footprint } from '../codegen/footprint';
import type { Runtime, SettingKey, SettingOrigin } from './deployment';
import type { TflmArena } from '../tflm/arena';

export const ANALYSIS_SCHEMA = 'mcu-mem/analysis@1';

export interface AnalysisJson {
  schema: string;
  file: string;
  format: Analysis['format'];
  model: { producer: string | null; opsets: Record<string, number> | null; fileOps: number; inputs: Analysis['inputs']; outputs: Analysis['outputs'] };
  conventions: Analysis['conventions'] & { text: string[] };
  peakBytes: number;
  peakOp: { index: number; op: string; name: string } | null;
  arenaBytes: number;
  arenaStrategy: string;
  lowerBoundBytes: number;
  greedyArenaBytes: number;
  flashBytes: number;
  macs: number;
  target: { name: string; sramBytes: number; flashBytes: number; reserveBytes: number } | null;
  /** null without a target, and when the model is incomplete and what was sized fits (unknown is not zero). */
  fits: boolean | null;
  sramFits: boolean | null;
  flashFits: boolean | null;
  /** 'fits' | 'does-not-fit' | 'incomplete', or null without a target. */
  status: FitStatus | null;
  /** The verdict in words, as the CLI and the extension print it. */
  verdict: string | null;
  /** Resources over their limit. */
  failing: Resource[];
  /** Per RAM region of the target (one for a single-region target): what the firmware places there against its size;
   *  with several regions also the arena's plan there (its lower bound, its buffers). Empty without a target. */
  regions: (RegionFit & { plan?: RegionPlanRow })[];
  complete: boolean;
  /** The C export's firmware with the schedule in force (what the verdict counts), or null when it cannot be exported. */
  firmware: (Footprint & { why: string }) | { why: string };
  /** What runs the model: 'c' (the C export) or 'tflm'; the verdict's SRAM and Flash follow it. */
  runtime: Runtime;
  /** TFLM's tensor arena for this model on a 32-bit Cortex-M (arena_used_bytes, the smallest kTensorArenaSize, head
   *  and tail by kind, the declaration), or why it is not predicted. */
  tflm: (TflmArena & { why: null; optimized: { minArenaBytes: number; arenaUsedBytes: number; why: null } | { why: string } }) | { why: string };
  /** Each setting in force and where it came from (default, VS Code settings, deployment file, command line). */
  settings: Record<SettingKey, SettingOrigin>;
  unsupported: Analysis['unsupported'];
  ops: Analysis['ops'];
  buffers: Analysis['buffers'];
  blocks: Analysis['blocks'];
  reorder: Analysis['reorder'];
  offlinePlan: Analysis['offlinePlan'];
  /** The line-buffered plan in force (--schedule lines), or null; `fits` then uses its arena. */
  lineBuffered: { peakBytes: number; arenaBytes: number; overhead: { modelExact: number }; calls: number; segments: { first: number; last: number; columns: number; peakBytes: number }[] } | null;
  /** The patch-based schedule applied (--schedule), or null for layer by layer; `fits` uses its arena. */
  schedule: (ScheduleReport & { mode: ScheduleChoice['mode']; why: string }) | { mode: 'auto'; why: string; split: null } | null;
  notes: string[];
}

/** The schedule `analyze --schedule` applies: found by the search (auto) or given (fixed); null report = per layer. */
export interface ScheduleChoice {
  mode: 'auto' | 'fixed';
  report: ScheduleReport | null;
  why: string;
}

const targetJson = (fit: FitResult | null): AnalysisJson['target'] =>
  fit ? { name: fit.target.name, sramBytes: fit.target.sramBytes, flashBytes: fit.target.flashBytes, reserveBytes: fit.target.reserveBytes } : null;

const fitsJson = (fit: FitResult | null): Pick<AnalysisJson, 'fits' | 'sramFits' | 'flashFits' | 'status' | 'verdict' | 'failing'> => ({
  fits: !fit || fit.status === 'incomplete' ? null : fit.fits,
  sramFits: !fit || (fit.status === 'incomplete' && fit.sramFits) ? null : fit.sramFits,
  flashFits: !fit || (fit.status === 'incomplete' && fit.flashFits) ? null : fit.flashFits,
  status: fit ? fit.status : null,
  verdict: fit ? verdictText(fit) : null,
  failing: fit ? fit.failing : [],
});

/** The analysis document of a model report (the CLI's --json, Export Report): the schedule in force, the fit with it,
 *  the firmware the verdict counts, and where each setting came from. */
export function reportJson(r: ModelReport): AnalysisJson {
  const a = r.analysis;
  const fit = r.fit;
  const choice: ScheduleChoice | null = r.schedule
    ? { mode: r.effective.schedule === 'auto' ? 'auto' : 'fixed', report: r.schedule, why: r.scheduleWhy }
    : r.effective.schedule === 'auto' ? { mode: 'auto', report: null, why: r.scheduleWhy } : null;
  const peak = a.ops[a.peakStep];
  return {
    schema: ANALYSIS_SCHEMA,
    file: r.fileName,
    format: a.format,
    model: { producer: r.metadata.producer ?? null, opsets: r.metadata.opsets ?? null, fileOps: a.fileOps, inputs: a.inputs, outputs: a.outputs },
    conventions: { ...a.conventions, text: a.conventionsText },
    peakBytes: a.peakBytes,
    peakOp: peak ? { index: peak.index, op: peak.op, name: peak.name } : null,
    arenaBytes: a.arenaBytes,
    arenaStrategy: a.arenaStrategy,
    lowerBoundBytes: a.lowerBoundBytes,
    greedyArenaBytes: a.greedyArenaBytes,
    flashBytes: a.flashBytes,
    macs: a.macs,
    target: targetJson(fit),
    ...fitsJson(fit),
    regions: fit ? fit.regions.map((x, i) => ({ ...x, ...(r.regionPlan?.[i] ? { plan: r.regionPlan[i] } : {}) })) : [],
    lineBuffered: r.lineBuffered ? {
      peakBytes: r.lineBuffered.peakBytes, arenaBytes: r.lineBuffered.arenaBytes, overhead: { modelExact: r.lineBuffered.overhead }, calls: r.lineBuffered.calls,
      segments: r.lineBuffered.segments.map((x) => ({ first: x.first, last: x.last, columns: x.columns, peakBytes: x.peakBytes })),
    } : null,
    complete: a.complete,
    runtime: r.effective.runtime,
    tflm: r.tflm
      ? { ...r.tflm, why: null, optimized: r.tflmOptimized ? { minArenaBytes: r.tflmOptimized.minArenaBytes, arenaUsedBytes: r.tflmOptimized.arenaUsedBytes, why: null } : { why: r.tflmOptimizedWhy ?? '' } }
      : { why: r.tflmWhy ?? 'not predicted' },
    settings: r.effective.origins,
    firmware: r.firmware ? { ...r.firmware, why: r.firmwareWhy } : { why: r.firmwareWhy },
    unsupported: a.unsupported,
    ops: a.ops,
    buffers: a.buffers,
    blocks: a.blocks,
    reorder: a.reorder,
    offlinePlan: a.offlinePlan,
    schedule: !choice ? null : choice.report ? { mode: choice.mode, why: choice.why, ...choice.report } : { mode: 'auto', why: choice.why, split: null },
    notes: a.notes,
  };
}

export const SCHEDULE_SCHEMA = 'mcu-mem/schedule@1';

export interface ScheduleJson {
  schema: string;
  file: string;
  format: Analysis['format'];
  conventions: Analysis['conventions'] & { text: string[] };
  perLayer: { peakBytes: number; peakOp: StepRef | null; arenaBytes: number; macs: number };
  target: AnalysisJson['target'];
  /** Limit on the whole model's extra MACs used to pick the best, in percent; null = none. */
  maxOverheadPercent: number | null;
  evaluated: number;
  validSplits: number;
  /** The schedule shown first: the search's best, or the one given with --split. */
  best: ScheduleReport | null;
  chosenBy: 'search' | 'split';
  why: string;
  fits: boolean | null;
  sramFits: boolean | null;
  flashFits: boolean | null;
  status: FitStatus | null;
  verdict: string | null;
  failing: Resource[];
  complete: boolean;
  flashBytes: number;
  /** SRAM (with the reserve) and Flash (the firmware image) the schedule shown needs; null without a target. */
  need: { sramBytes: number; flashBytes: number } | null;
  /** The Pareto set of each plan kind: patch stages (`kind: 'patch'`, the fields of `best`; the search's best first,
   *  as before) then line-buffered plans (`kind: 'lines'`, the fields of `lineBufferedFront`'s points, least peak
   *  first). Every entry has `peakBytes` and `overhead.modelExact`; `onFront` says whether it is on the front over
   *  both kinds (no point of either kind has a smaller or equal peak with fewer or equal extra MACs). */
  pareto: ParetoPoint[];
  rejected: RejectedSplits[];
  advice: Advice | null;
  /** The line-buffered plan chosen (rows streamed through fused segments, in column bands where that pays): the least
   *  peak within maxOverheadPercent, or with --max-ram the fewest extra MACs under it; null when none qualifies.
   *  `codegen --line-buffered` exports the plan chosen the same way. */
  lineBuffered: LineBufferedJson | null;
  /** The front of line-buffered plans, peak against extra MACs, least peak first (the last has no extra MACs). */
  lineBufferedFront: LineBufferedJson[];
  /** The RAM budget given with --max-ram, or null. */
  maxRamBytes: number | null;
}

/** A point of the schedule JSON's Pareto set: a patch stage or a line-buffered plan. */
export type ParetoPoint = ((ScheduleReport & { kind: 'patch' }) | (LineBufferedJson & { kind: 'lines' })) & { onFront: boolean };

/** Each kind's points in their order, tagged with their kind and whether they are on the front over both kinds. */
export function mergedPareto(patch: readonly ScheduleReport[], lines: readonly LineBufferedJson[]): ParetoPoint[] {
  const beats = (b: { peakBytes: number; overhead: { modelExact: number } }, a: typeof b): boolean =>
    b !== a && b.peakBytes <= a.peakBytes && b.overhead.modelExact <= a.overhead.modelExact + 1e-12
    && (b.peakBytes < a.peakBytes || b.overhead.modelExact < a.overhead.modelExact - 1e-12);
  const all = [...patch, ...lines];
  const onFront = (a: (typeof all)[number]): boolean => !all.some((b) => beats(b, a));
  return [...patch.map((p) => ({ kind: 'patch' as const, ...p, onFront: onFront(p) })), ...lines.map((l) => ({ kind: 'lines' as const, ...l, onFront: onFront(l) }))];
}

/** A line-buffered plan, as the schedule JSON gives it. */
export interface LineBufferedJson {
  peakBytes: number;
  arenaBytes: number;
  /** Extra MACs (the column bands' overlap) as a fraction of the model's. */
  overhead: { modelExact: number };
  extraMacs: number;
  /** Kernel calls of one inference, against one per step layer by layer. */
  calls: number;
  perLayerCalls: number;
  /** Where the peak is: a segment (index into segments) or a step run layer by layer. */
  peakAt: { segment: number } | { step: StepRef };
  segments: {
    first: StepRef;
    last: StepRef;
    /** Column bands (1: full rows). */
    columns: number;
    extraMacs: number;
    peakBytes: number;
    wholeBytes: number;
    ringBytes: number;
    calls: number;
    rings: { tensor: string; rows: number; height: number; width: number; bytes: number }[];
    /** Inverted residuals fused per output pixel: the depthwise step (its output not stored) and whether the 1×1
     *  expansion before it is recomputed per window (not stored either). */
    fused: { depthwise: StepRef; expandRecomputed: boolean }[];
    /** A 1×1 convolution and its global pooling run output channel by output channel (no rings, no sums). */
    channelwise: boolean;
    /** Scratch while a fused block or the channel-wise tail runs (counted in wholeBytes). */
    scratchBytes: number;
  }[];
}

export function lineBufferedJson(ctx: ScheduleContext, p: StreamPlan): LineBufferedJson {
  return {
    peakBytes: p.peakBytes, arenaBytes: p.arenaBytes, overhead: { modelExact: p.overhead }, extraMacs: p.extraMacs, calls: p.calls, perLayerCalls: ctx.plan.steps.length,
    peakAt: 'segment' in p.peakAt ? p.peakAt : { step: stepRef(ctx, p.peakAt.step) },
    segments: p.segments.map((s) => ({
      first: stepRef(ctx, s.first), last: stepRef(ctx, s.last), columns: s.columns, extraMacs: s.extraMacs, peakBytes: s.peakBytes, wholeBytes: s.wholeBytes, ringBytes: s.ringBytes, calls: s.calls,
      rings: s.rings.map((r) => ({ tensor: ctx.graph.tensors[r.tensor]!.name, rows: r.rows, height: r.height, width: r.width, bytes: r.bytes })),
      fused: s.fused.map((f) => ({ depthwise: stepRef(ctx, f.step), expandRecomputed: f.expand })),
      channelwise: s.channelwise === true,
      scratchBytes: s.scratchBytes,
    })),
  };
}

export function scheduleJson(
  file: string, ctx: ScheduleContext, a: Analysis, r: SearchResult, best: ScheduleReport | null, split: string | null,
  pareto: ScheduleReport[], advice: Advice | null, fit: FitResult | null, lineBuffered: StreamPlan | null, lineBufferedFront: readonly StreamPlan[] = [],
  maxRamBytes: number | null = null,
): ScheduleJson {
  return {
    schema: SCHEDULE_SCHEMA,
    file,
    format: a.format,
    conventions: { ...a.conventions, text: a.conventionsText },
    perLayer: { peakBytes: ctx.perLayerPeakBytes, peakOp: ctx.perLayerPeakStep >= 0 ? stepRef(ctx, ctx.perLayerPeakStep) : null, arenaBytes: a.arenaBytes, macs: ctx.modelMacs },
    target: targetJson(fit),
    maxOverheadPercent: r.maxOverhead === null ? null : r.maxOverhead * 100,
    evaluated: r.evaluated,
    validSplits: r.validSplits,
    best,
    chosenBy: split ? 'split' : 'search',
    why: split ? `as given: --split ${split}` : r.why,
    ...fitsJson(fit),
    complete: a.complete,
    flashBytes: a.flashBytes,
    need: fit ? { sramBytes: fit.sramNeeded, flashBytes: fit.flashNeeded } : null,
    pareto: mergedPareto(pareto, lineBufferedFront.filter((p) => p.segments.length > 0 && p.peakBytes < ctx.perLayerPeakBytes).map((p) => lineBufferedJson(ctx, p))),
    rejected: r.rejected,
    advice,
    lineBuffered: lineBuffered ? lineBufferedJson(ctx, lineBuffered) : null,
    lineBufferedFront: lineBufferedFront.map((p) => lineBufferedJson(ctx, p)),
    maxRamBytes,
  };
}

export function targetsJson(targets: readonly McuTarget[]): { schema: string; targets: McuTarget[] } {
  return { schema: 'mcu-mem/targets@1', targets: targets.slice() };
}
