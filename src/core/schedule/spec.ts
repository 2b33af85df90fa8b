// Schedules named by users (CLI `--schedule`, a project's .mcu.json): "<split>:<p>x<q>", where <split> is the
// execution step (the # column of the analysis), the name of its operator, or the name of the stage-output tensor.
import { ModelError } from '../errors';
import type { ScheduleContext } from './cost';

export interface ScheduleSpec {
  split: number;
  p: number;
  q: number;
}

const SPEC = /^(.+):(\d+)\s*[x×]\s*(\d+)$/i;

/** Resolves a schedule spec against a model; bad specs throw a ModelError naming the problem. */
export function resolveScheduleSpec(ctx: ScheduleContext, text: string): ScheduleSpec {
  const m = SPEC.exec(text.trim());
  if (!m) throw new ModelError('bad-schedule', `schedule '${text}': expected <split>:<p>x<q>, e.g. 12:4x4 (split after step #12, 4×4 tiles)`);
  const ref = m[1]!.trim().replace(/^#/, '');
  const p = Number(m[2]);
  const q = Number(m[3]);
  const { graph, plan } = ctx;
  let split = -1;
  if (/^\d+$/.test(ref)) split = Number(ref);
  else {
    split = plan.steps.findIndex((s) => s.ops.some((o) => graph.ops[o]!.name === ref) || s.outputs.some((t) => graph.tensors[t]!.name === ref));
    if (split < 0) throw new ModelError('bad-schedule', `schedule '${text}': no operator or tensor named '${ref}'`);
  }
  if (split >= plan.steps.length) throw new ModelError('bad-schedule', `schedule '${text}': the model has ${plan.steps.length} execution steps (0–${plan.steps.length - 1})`);
  const st = ctx.stages[split]!;
  if (!st.ok) throw new ModelError('bad-schedule', `schedule '${text}': cannot split after step #${split}: ${st.reason}`);
  const o = st.stage.slot.get(st.stage.output)!;
  const [h, w] = st.stage.dims[o]!;
  if (p < 1 || q < 1 || p > h || q > w) throw new ModelError('bad-schedule', `schedule '${text}': the stage output is ${h}×${w}; tiles must be between 1×1 and ${h}×${w}`);
  return { split, p, q };
}
