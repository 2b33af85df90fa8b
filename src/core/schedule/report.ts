// A schedule described for people and tools: operators and tensors by name, tile sizes, peaks, arena and MACs.
// The CLI's JSON and the extension both use this shape.
import type { ScheduleContext, ScheduleCost } from './cost';
import { scheduleArena, tileSizes } from './cost';

export interface StepRef {
  /** Execution step (the # column of the analysis). */
  index: number;
  /** Executed operator types, fused ones joined with '+'. */
  op: string;
  name: string;
}

export interface ScheduleReport {
  split: StepRef & { output: { name: string; shape: number[] | null } };
  /** p×q: row bands × column bands. */
  tiles: [number, number];
  tileOutput: { rows: number[]; cols: number[] };
  /** Exact input region per band (border bands smaller) and the interior (uniform) tile input [H, W]. */
  tileInput: { rows: number[]; cols: number[]; interior: [number, number] };
  stagePeakBytes: number;
  stagePeakOp: StepRef;
  /** Tile (row band, column band) where the stage peaks. */
  stagePeakTile: [number, number];
  restPeakBytes: number;
  restPeakOp: StepRef | null;
  peakBytes: number;
  peakOp: StepRef;
  /** Arena of the scheduled execution (aligned buffers, same planner as the analysis). */
  arenaBytes: number;
  perLayerPeakBytes: number;
  /** perLayerPeakBytes / peakBytes. */
  reduction: number;
  macs: ScheduleCost['macs'];
  overhead: ScheduleCost['overhead'];
}

export function stepRef(ctx: ScheduleContext, step: number): StepRef {
  const s = ctx.plan.steps[step]!;
  return { index: step, op: s.ops.map((o) => ctx.graph.ops[o]!.sourceType).join('+'), name: ctx.graph.ops[s.main]!.name };
}

export function describeSchedule(ctx: ScheduleContext, cost: ScheduleCost): ScheduleReport {
  const sizes = tileSizes(ctx, cost);
  const out = ctx.graph.tensors[cost.stageOutput]!;
  return {
    split: { ...stepRef(ctx, cost.split), output: { name: out.name, shape: out.shape } },
    tiles: [cost.p, cost.q],
    tileOutput: { rows: sizes.outputRows, cols: sizes.outputCols },
    tileInput: { rows: sizes.inputRows, cols: sizes.inputCols, interior: sizes.interiorInput },
    stagePeakBytes: cost.stagePeakBytes,
    stagePeakOp: stepRef(ctx, cost.stagePeakStep),
    stagePeakTile: cost.stagePeakTile,
    restPeakBytes: cost.restPeakBytes,
    restPeakOp: cost.restPeakStep >= 0 ? stepRef(ctx, cost.restPeakStep) : null,
    peakBytes: cost.peakBytes,
    peakOp: stepRef(ctx, cost.peakStep),
    arenaBytes: scheduleArena(ctx, cost),
    perLayerPeakBytes: cost.perLayerPeakBytes,
    reduction: cost.peakBytes > 0 ? cost.perLayerPeakBytes / cost.peakBytes : 0,
    macs: cost.macs,
    overhead: cost.overhead,
  };
}
