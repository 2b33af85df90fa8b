// The --json document (schema in the README, kept stable: fields are only ever added).
import type { Analysis, FitResult, Graph, McuTarget } from '../core/index';

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
  fits: boolean | null;
  sramFits: boolean | null;
  flashFits: boolean | null;
  complete: boolean;
  unsupported: Analysis['unsupported'];
  ops: Analysis['ops'];
  buffers: Analysis['buffers'];
  blocks: Analysis['blocks'];
  reorder: Analysis['reorder'];
  offlinePlan: Analysis['offlinePlan'];
  notes: string[];
}

export function analysisJson(file: string, graph: Graph, a: Analysis, fit: FitResult | null): AnalysisJson {
  const peak = a.ops[a.peakStep];
  return {
    schema: ANALYSIS_SCHEMA,
    file,
    format: a.format,
    model: { producer: graph.metadata.producer ?? null, opsets: graph.metadata.opsets ?? null, fileOps: a.fileOps, inputs: a.inputs, outputs: a.outputs },
    conventions: { ...a.conventions, text: a.conventionsText },
    peakBytes: a.peakBytes,
    peakOp: peak ? { index: peak.index, op: peak.op, name: peak.name } : null,
    arenaBytes: a.arenaBytes,
    arenaStrategy: a.arenaStrategy,
    lowerBoundBytes: a.lowerBoundBytes,
    greedyArenaBytes: a.greedyArenaBytes,
    flashBytes: a.flashBytes,
    macs: a.macs,
    target: fit ? { name: fit.target.name, sramBytes: fit.target.sramBytes, flashBytes: fit.target.flashBytes, reserveBytes: fit.target.reserveBytes } : null,
    fits: fit ? fit.fits : null,
    sramFits: fit ? fit.sramFits : null,
    flashFits: fit ? fit.flashFits : null,
    complete: a.complete,
    unsupported: a.unsupported,
    ops: a.ops,
    buffers: a.buffers,
    blocks: a.blocks,
    reorder: a.reorder,
    offlinePlan: a.offlinePlan,
    notes: a.notes,
  };
}

export function targetsJson(targets: readonly McuTarget[]): { schema: string; targets: McuTarget[] } {
  return { schema: 'mcu-mem/targets@1', targets: targets.slice() };
}
