// Typed messages between the extension host and the Memory View webview, imported by both sides (as
// microsoft/vscode-hexeditor does). Handshake: the webview posts `ready`; the host answers with `show` (or `failed`)
// and sends `show` again whenever the model, the target or the deployment file changes.
import type { Finding, FitStatus, Runtime, ScheduleField, ScheduleReport, ScheduleSetting, TensorSummary } from '../core/index';

/** One bar of the chart / row of the layer table: an execution step. */
export interface LayerView {
  index: number;
  op: string;
  name: string;
  inputShapes: (number[] | null)[];
  outputShapes: (number[] | null)[];
  inputBytes: number;
  outputBytes: number;
  liveBytes: number;
  /** Live bytes with the schedule in force (largest tile inside the patch stage); null without a schedule. */
  scheduledLiveBytes: number | null;
  weightsBytes: number;
  macs: number;
  /** In the patch stage, or in a streamed segment of the line-buffered plan in force. */
  inPatchStage: boolean;
  unsupported?: string;
}

/** A memory region as STM32CubeIDE's Build Analyzer shows it. */
export interface Gauge {
  /** "SRAM", "Flash", or a RAM region's name (a target with several RAM regions). */
  region: string;
  /** A RAM region's speed class ("tcm", "sram", "external"), shown beside its name. */
  speed?: string;
  used: number;
  size: number;
  percent: number;
  free: number;
  /** ok below 70%, warn from 70% to 100%, over above 100%. */
  level: 'ok' | 'warn' | 'over';
  /** The model is incomplete: `used` is a lower bound ("at least"). */
  atLeast: boolean;
}

export interface CandidateView {
  title: string;
  setting: ScheduleSetting;
  report: ScheduleReport;
  applied: boolean;
}

/** `offset` is inside the buffer's region's arena (`region` indexes `arena.regions`). */
export interface ArenaRectView { name: string; offset: number; size: number; first: number; last: number; kind: 'tensor' | 'tile buffer' | 'stage output' | 'ring'; region: number }

/** One region's part of the arena view: drawn from `base` up, `bytes` high. */
export interface ArenaRegionView { name: string; base: number; bytes: number; lowerBound: number }

export const MAX_ARENA_RECTS = 1500;

export interface MemoryViewData {
  fileName: string;
  format: 'onnx' | 'tflite';
  inputs: TensorSummary[];
  outputs: TensorSummary[];
  target: { name: string; sramBytes: number; flashBytes: number; reserveBytes: number };
  sram: Gauge;
  flash: Gauge;
  /** The line-buffered plan in force, or the one offered as a fix; null when neither. `segments` as "#a–#b". */
  /** `segments` in words; `spans`: each segment's first and last step (the chart marks each). */
  lineBuffered: { inForce: boolean; peakBytes: number; arenaBytes: number; overhead: number; calls: number; segments: string[]; spans: { first: number; last: number }[] } | null;
  /** One gauge per RAM region when the target has several (the Build Analyzer's rows); null with one. */
  ramRegions: Gauge[] | null;
  /** The verdict in words (FITS, DOES NOT FIT (SRAM), INCOMPLETE …), as the CLI prints it. */
  verdict: string;
  /** Operators that could not be sized (the banner); null when every operator is sized. */
  incomplete: { count: number; total: number; first: string[] } | null;
  perLayerPeakBytes: number;
  scheduledPeakBytes: number | null;
  macs: number;
  flashBytes: number;
  layers: LayerView[];
  blocks: { name: string; firstStep: number; lastStep: number }[];
  schedule: ScheduleReport | null;
  scheduleWhy: string;
  candidates: CandidateView[];
  findings: Finding[];
  conventions: string[];
  /** The arena as planned (with the schedule in force): buffers as rectangles, execution step across, offset up; the
   *  largest buffers when there are more than MAX_ARENA_RECTS (`hidden` counts the rest). */
  arena: { sizeBytes: number; steps: number; peakStep: number; rects: ArenaRectView[]; hidden: number; scheduled: boolean; regions: ArenaRegionView[] };
  /** The as-int8 what-if: on (every element counted as 1 byte), off, or null when the model is int8 already. */
  asInt8: boolean | null;
  /** What runs the model: the C export or TFLM (then SRAM is TFLM's arena and the schedules do not apply). */
  runtime: Runtime;
  /** The verdict's state: 'incomplete' also when only TFLM's code in Flash is unknown. */
  status: FitStatus;
  /** TFLM's tensor arena (TFLite models): the figures, head and tail by kind, the declaration; or why not predicted. */
  tflm: { usedBytes: number; minBytes: number; parts: { label: string; bytes: number }[]; declaration: string; optimizedMinBytes: number | null } | { why: string } | null;
  /** Generate C: enabled when the C export exists; otherwise the reason, shown as the button's tooltip. */
  generateC: { enabled: boolean; reason: string };
}

export type ToWebview =
  | { type: 'show'; data: MemoryViewData }
  | { type: 'failed'; fileName: string; message: string; code: string }
  | { type: 'busy'; message: string };

export type FromWebview =
  | { type: 'ready' }
  | { type: 'applySchedule'; setting: ScheduleField }
  | { type: 'selectTarget' }
  | { type: 'makeItFit' }
  | { type: 'setInt8'; on: boolean }
  | { type: 'openListing' }
  | { type: 'generateC' }
  | { type: 'exportReport' }
  | { type: 'writeTflmOptimized' };

/** Gauge levels as the embedded tools colour them: green, yellow above 70%, red above 100%. */
export function gauge(region: Gauge['region'], used: number, size: number, atLeast = false, speed?: string): Gauge {
  const percent = size > 0 ? (100 * used) / size : Infinity;
  return { region, used, size, percent, free: size - used, level: percent > 100 ? 'over' : percent >= 70 ? 'warn' : 'ok', atLeast, ...(speed ? { speed } : {}) };
}

/** The schedule of an `applySchedule` message, checked before it is written into a deployment file: the webview is
 *  untrusted input. Null when the message is malformed. */
export function scheduleOfMessage(setting: unknown): ScheduleField | null {
  if (setting === 'auto' || setting === 'none' || setting === 'lines') return setting;
  if (typeof setting !== 'object' || setting === null || Array.isArray(setting)) return null;
  const o = setting as Record<string, unknown>;
  if ('lines' in o) {
    // {lines: {maxRam}}: a line-buffered plan by its RAM (a positive whole number of bytes).
    const l = o['lines'];
    const ram = typeof l === 'object' && l !== null && !Array.isArray(l) && Object.keys(l).length === 1 ? (l as Record<string, unknown>)['maxRam'] : undefined;
    return Object.keys(o).length === 1 && typeof ram === 'number' && Number.isSafeInteger(ram) && ram > 0 ? { lines: { maxRam: ram } } : null;
  }
  if (Object.keys(o).some((k) => k !== 'after' && k !== 'tiles')) return null;
  const after = o['after'];
  const tiles = o['tiles'];
  const afterOk = (typeof after === 'string' && after.length > 0 && after.length <= 1024) || (typeof after === 'number' && Number.isSafeInteger(after) && after >= 0);
  const tilesOk = Array.isArray(tiles) && tiles.length === 2 && tiles.every((t) => Number.isInteger(t) && (t as number) >= 1 && (t as number) <= 64);
  return afterOk && tilesOk ? { after: after as string | number, tiles: [tiles[0] as number, tiles[1] as number] } : null;
}
