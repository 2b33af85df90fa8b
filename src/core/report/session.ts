// One model analysed the way the extension shows it: analysis under the effective settings, the fit per layer and
// with the schedule in force, candidate schedules, and the findings the Problems panel lists (SPEC §2.1). Pure: the
// extension turns this into diagnostics, the listing, hovers, quick fixes and the webview's data.
import type { Analysis } from '../analysis/analyze';
import { analyzeGraph } from '../analysis/analyze';
import type { Graph, ModelMetadata } from '../graph';
import { ModelError } from '../errors';
import { evaluateFit, type FitResult } from '../mcu/catalogue';
import { evaluateSchedule, scheduleContext, scheduledLive, type ScheduleContext, type ScheduleCost } from '../schedule/cost';
import { describeSchedule, type ScheduleReport } from '../schedule/report';
import { searchSchedules } from '../schedule/search';
import { resolveScheduleSpec } from '../schedule/spec';
import type { Effective, ScheduleSetting } from './deployment';

export type FindingSeverity = 'error' | 'warning' | 'information';

export interface QuickFix {
  title: string;
  schedule: ScheduleSetting;
}

export interface Finding {
  severity: FindingSeverity;
  code: 'sram' | 'flash' | 'unsupported' | 'schedule-fits' | 'schedule' | 'deployment' | 'codegen';
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
  perLayerFit: FitResult;
  /** The fit with the schedule in force (equals perLayerFit without one). */
  fit: FitResult;
  schedule: ScheduleReport | null;
  /** Live bytes per execution step with the schedule (largest tile in the stage); null without one. */
  scheduledLive: number[] | null;
  scheduleWhy: string;
  /** Pareto schedules (best first), at most MAX_CANDIDATES. */
  candidates: ScheduleReport[];
  findings: Finding[];
}

export const MAX_CANDIDATES = 6;

const kib = (b: number): string => (b >= 1024 * 1024 ? `${(b / 1024 / 1024).toFixed(2)} MiB` : `${(b / 1024).toFixed(1)} KiB`);
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
  why: string;
  error?: string;
  candidates: ScheduleReport[];
  fixes: ScheduleReport[];
}

function appliedSchedule(ctx: ScheduleContext, eff: Effective, perLayerArena: number): Applied {
  const found = searchSchedules(ctx, { target: eff.target, maxOverhead: eff.maxOverhead, perLayerArenaBytes: perLayerArena });
  const candidates = found.pareto.slice(0, MAX_CANDIDATES).map((c) => describeSchedule(ctx, c));
  // Fixes for an SRAM error: schedules whose arena fits, least overhead first (ignoring the limit, which the title
  // shows). The Pareto set does not depend on the limit: only the choice of `best` does.
  const budget = eff.target.sramBytes - eff.target.reserveBytes;
  const fixes = found.pareto
    .filter((c) => c.peakBytes <= budget)
    .sort((a, b) => a.overhead.modelExact - b.overhead.modelExact)
    .slice(0, 3)
    .map((c) => describeSchedule(ctx, c))
    .filter((r) => r.arenaBytes <= budget);
  if (eff.schedule === 'none') return { report: null, cost: null, why: 'layer by layer (schedule: none)', candidates, fixes };
  if (eff.schedule === 'auto') return { report: found.best ? describeSchedule(ctx, found.best) : null, cost: found.best, why: found.why, candidates, fixes };
  const text = `${eff.schedule.after}:${eff.schedule.tiles[0]}x${eff.schedule.tiles[1]}`;
  try {
    const spec = resolveScheduleSpec(ctx, text);
    const cost = evaluateSchedule(ctx, spec.split, spec.p, spec.q);
    return { report: describeSchedule(ctx, cost), cost, why: `as given in the deployment file (${text})`, candidates, fixes };
  } catch (e) {
    if (!(e instanceof ModelError)) throw e;
    return { report: null, cost: null, why: 'layer by layer: the schedule in the deployment file does not apply', error: e.message, candidates, fixes };
  }
}

export function analyzeModel(graph: Graph, fileName: string, eff: Effective): ModelReport {
  const analysis = analyzeGraph(graph, eff.conventions);
  const ctx = scheduleContext(graph, eff.conventions);
  const applied = appliedSchedule(ctx, eff, analysis.arenaBytes);
  const perLayerFit = evaluateFit(eff.target, analysis.arenaBytes, analysis.flashBytes);
  const fit = applied.report ? evaluateFit(eff.target, applied.report.arenaBytes, analysis.flashBytes) : perLayerFit;
  const t = eff.target;
  const findings: Finding[] = [];
  for (const p of eff.problems) findings.push({ severity: 'warning', code: 'deployment', message: `deployment file${p.path ? ` (${p.path})` : ''}: ${p.message}`, step: null });
  if (applied.error) findings.push({ severity: 'warning', code: 'schedule', message: applied.error, step: null });

  if (!fit.sramFits) {
    const s = applied.report;
    const peakStep = s ? s.peakOp.index : analysis.peakStep;
    const row = analysis.ops[peakStep];
    const what = s ? `with ${s.tiles[0]}×${s.tiles[1]} patches after step #${s.split.index}, peak ${bytes(s.peakBytes)} (arena ${bytes(s.arenaBytes)})` : `peak SRAM ${bytes(analysis.peakBytes)} (arena ${bytes(analysis.arenaBytes)})`;
    findings.push({
      severity: 'error', code: 'sram', step: peakStep >= 0 ? peakStep : null,
      message: `${what}${t.reserveBytes ? ` + reserve ${bytes(t.reserveBytes)}` : ''} exceeds ${t.name}'s ${bytes(t.sramBytes)} SRAM by ${bytes(fit.sramNeeded - t.sramBytes)}${row ? `; peak at #${row.index} ${row.op} '${row.name}'` : ''}`,
      fixes: applied.fixes.map((r) => ({ title: scheduleTitle(r), schedule: scheduleSetting(r) })),
    });
    if (applied.fixes.length > 0 && !s) {
      const best = applied.fixes[0]!;
      findings.push({ severity: 'information', code: 'schedule-fits', step: best.split.index, message: `a patch schedule makes it fit ${t.name}: ${scheduleTitle(best)}` });
    }
  } else if (applied.report && !perLayerFit.sramFits) {
    findings.push({ severity: 'information', code: 'schedule-fits', step: applied.report.split.index, message: `fits ${t.name} with the patch schedule: ${scheduleTitle(applied.report)}` });
  }
  if (!fit.flashFits) {
    findings.push({ severity: 'warning', code: 'flash', step: null, message: `weights ${bytes(analysis.flashBytes)} exceed ${t.name}'s ${bytes(t.flashBytes)} Flash by ${bytes(analysis.flashBytes - t.flashBytes)}` });
  }
  const stepOf = new Map<number, number>();
  analysis.ops.forEach((r) => r.sourceOps.forEach((o) => stepOf.set(o, r.index)));
  for (const u of analysis.unsupported) {
    findings.push({ severity: 'warning', code: 'unsupported', step: stepOf.get(u.opIndex) ?? null, message: `${u.op} '${u.name}' is not supported: ${u.reason}` });
  }
  return { fileName, metadata: graph.metadata, analysis, effective: eff, perLayerFit, fit, schedule: applied.report,
    scheduledLive: applied.cost ? scheduledLive(ctx, applied.cost) : null, scheduleWhy: applied.why, candidates: applied.candidates, findings };
}
