// Schedules named by users (CLI `--schedule`, a project's .mcu.json): "<split>:<p>x<q>", where <split> is the
// execution step (the # column of the analysis), the name of its operator, or the name of the stage-output tensor.
import { ModelError } from '../errors';
import type { ScheduleContext } from './cost';

export interface ScheduleSpec {
  split: number;
  p: number;
  q: number;
}

/** A schedule as users name it: the split (step #, operator or tensor name) and the tiles. */
export interface ScheduleRef {
  after: string | number;
  tiles: [number, number];
}

const SPEC = /^(.+):(\d+)\s*[x×]\s*(\d+)$/i;

/** Parses "<split>:<p>x<q>" once, where users type it (CLI); the rest of the product passes the result as data. */
export function parseScheduleSpec(text: string): ScheduleRef {
  const m = SPEC.exec(text.trim());
  if (!m) throw new ModelError('bad-schedule', `schedule '${text}': expected <split>:<p>x<q>, e.g. 12:4x4 (split after step #12, 4×4 tiles)`);
  const ref = m[1]!.trim().replace(/^#/, '');
  return { after: /^\d+$/.test(ref) ? Number(ref) : ref, tiles: [Number(m[2]), Number(m[3])] };
}

export const scheduleRefText = (r: ScheduleRef): string => `${r.after}:${r.tiles[0]}x${r.tiles[1]}`;

/** Resolves a schedule against a model; a bad one throws a ModelError naming the problem. */
export function resolveSchedule(ctx: ScheduleContext, ref: ScheduleRef): ScheduleSpec {
  const text = scheduleRefText(ref);
  const [p, q] = ref.tiles;
  const { graph, plan } = ctx;
  let split = -1;
  if (typeof ref.after === 'number') split = ref.after;
  else {
    split = plan.steps.findIndex((s) => s.ops.some((o) => graph.ops[o]!.name === ref.after) || s.outputs.some((t) => graph.tensors[t]!.name === ref.after));
    if (split < 0) throw new ModelError('bad-schedule', `schedule '${text}': no operator or tensor named '${ref.after}'`);
  }
  if (!Number.isInteger(split) || split < 0 || split >= plan.steps.length) throw new ModelError('bad-schedule', `schedule '${text}': the model has ${plan.steps.length} execution steps (0–${plan.steps.length - 1})`);
  const st = ctx.stages[split]!;
  if (!st.ok) throw new ModelError('bad-schedule', `schedule '${text}': cannot split after step #${split}: ${st.reason}`);
  const o = st.stage.slot.get(st.stage.output)!;
  const [h, w] = st.stage.dims[o]!;
  if (!Number.isInteger(p) || !Number.isInteger(q) || p < 1 || q < 1 || p > h || q > w) throw new ModelError('bad-schedule', `schedule '${text}': the stage output is ${h}×${w}; tiles must be between 1×1 and ${h}×${w}`);
  return { split, p, q };
}

/** Resolves "<split>:<p>x<q>" text (parse, then resolve). */
export function resolveScheduleSpec(ctx: ScheduleContext, text: string): ScheduleSpec {
  return resolveSchedule(ctx, parseScheduleSpec(text));
}
