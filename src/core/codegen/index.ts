// C export (SPEC §2.3): a self-contained C99 folder for a model, layer by layer or with a patch-based schedule.
// Returns the files as text; writing them is the caller's business (CLI, extension).
import type { Graph } from '../graph';
import { capture, type Result } from '../errors';
import type { Finding, ModelReport } from '../report/session';
import type { Conventions } from '../analysis/conventions';
import { arenaRegionSpecs, DEFAULT_RAM_ADDRESS, flashRegions, isMultiRegion, ramRegions, type McuTarget } from '../mcu/catalogue';
import type { ScheduleContext } from '../schedule/cost';
import type { SegmentCost } from '../schedule/stream';
import { emitFiles, weightsBytes, type GeneratedFile } from './emit';
import { lowerProgram, type IoTensor, type LowerOptions } from './program';
import { MIN_STACK_BYTES, programFootprint, type Footprint } from './footprint';

export { CodegenError } from './program';
export type { GeneratedFile } from './emit';
export { quantizeMultiplier } from './quant';
export { MIN_STACK_BYTES, RUNTIME_RESERVE_BYTES, type Footprint } from './footprint';

export interface CodegenOptions {
  conventions?: Partial<Conventions>;
  schedule?: { split: number; p: number; q: number } | null;
  /** Sets the linker's RAM and Flash; without one, the QEMU board's 4 MiB each. */
  target?: McuTarget | null;
  /** Model file name, for comments. */
  source?: string;
  /** Line-buffered: these segments (true: the full-row plan of least peak), streamed row by row through rings, in
   *  column bands where a segment has them (no patch schedule with it). */
  lineBuffered?: boolean | readonly SegmentCost[];
}

export interface CodegenOutput {
  files: GeneratedFile[];
  arenaBytes: number;
  weightsBytes: number;
  kernels: string[];
  steps: number;
  input: IoTensor;
  /** The model outputs in the file's order. */
  outputs: IoTensor[];
  schedule: { split: number; p: number; q: number; stageOutput: string } | null;
  /** The streamed segments of a line-buffered export, or null. */
  lineBuffered: { first: number; last: number }[] | null;
  ramBytes: number;
  flashBytes: number;
  /** What the Cortex-M image needs (the verdict's figures for this export). */
  footprint: Footprint;
}

const BOARD_BYTES = 4 * 1024 * 1024;

/** The firmware footprint of exporting `graph` with these options, without writing the files (the verdict's Flash
 *  and RAM). Fails as generateC would. */
/** `context`: the schedule context the analysis built for the same graph and conventions (its plan is reused). */
export function firmwareFootprint(graph: Graph, options: Pick<CodegenOptions, 'conventions' | 'schedule' | 'target'> & { context?: ScheduleContext } = {}): Result<Footprint> {
  return capture(() => programFootprint(lowerProgram(graph, lowerOptions(options))));
}

/** The target's arena regions when it has several RAM regions (else the one .bss arena). */
function lowerOptions(options: Pick<CodegenOptions, 'conventions' | 'schedule' | 'target' | 'lineBuffered'> & { context?: ScheduleContext }): LowerOptions {
  const t = options.target;
  return {
    conventions: options.conventions, schedule: options.schedule ?? null, ...(options.lineBuffered ? { lineBuffered: options.lineBuffered } : {}),
    ...(options.context ? { context: options.context } : {}),
    ...(t && isMultiRegion(t) ? { regions: arenaRegionSpecs(t, 0) } : {}),
  };
}

export function generateC(graph: Graph, options: CodegenOptions = {}): Result<CodegenOutput> {
  return capture(() => {
    const p = lowerProgram(graph, lowerOptions(options));
    const target = options.target ?? null;
    const ramBytes = target ? target.sramBytes : BOARD_BYTES;
    const flashBytes = target ? target.flashBytes : BOARD_BYTES;
    const scheduleText = p.schedule
      ? `patch-based, split after step #${p.schedule.split} ('${p.schedule.stageOutput}'), ${p.schedule.p}x${p.schedule.q} tiles`
      : p.lineBuffered
        ? `line-buffered, steps ${p.lineBuffered.map((x) => `${x.first}-${x.last}`).join(', ')} streamed row by row through rings`
        : 'layer by layer';
    const files = emitFiles(p, {
      source: options.source ?? 'a model', scheduleText, ramBytes, flashBytes,
      ramRegions: target ? ramRegions(target) : [{ name: 'SRAM', bytes: ramBytes, address: DEFAULT_RAM_ADDRESS }],
      flashAddress: target ? flashRegions(target)[0]!.address : 0,
      targetName: target ? target.name : 'the QEMU mps2 board (no target chosen)', minStackBytes: MIN_STACK_BYTES,
    });
    return {
      files, arenaBytes: p.arenaBytes, weightsBytes: weightsBytes(p.weights), kernels: [...p.kernels].sort(), steps: p.steps,
      input: p.input, outputs: p.outputs, schedule: p.schedule, lineBuffered: p.lineBuffered, ramBytes, flashBytes, footprint: programFootprint(p),
    };
  });
}

/** Export options for a model as the extension shows it: its conventions, target and the schedule in force. */
export function codegenOptionsFor(report: ModelReport): CodegenOptions {
  const s = report.schedule;
  return {
    conventions: report.effective.conventions,
    schedule: s ? { split: s.split.index, p: s.tiles[0], q: s.tiles[1] } : null,
    target: report.effective.target,
    source: report.fileName,
    ...(report.lineBuffered ? { lineBuffered: report.lineBuffered.segments } : {}),
  };
}

/** A failed export as a finding (Problems panel), on the step of the operator it names when there is one. */
export function codegenFinding(report: ModelReport, message: string, opIndex?: number): Finding {
  const step = opIndex === undefined ? -1 : report.analysis.ops.findIndex((r) => r.sourceOps.includes(opIndex));
  return { severity: 'error', code: 'codegen', message, step: step >= 0 ? step : null };
}
