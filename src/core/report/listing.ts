// The layer listing (SPEC §2.1): a read-only text, one line per executed operator, with hover texts per line, and
// the Markdown report of Export Report. Pure text, so the extension only maps lines to ranges.
import { formatShape } from '../graph';
import type { ModelReport } from './session';
import { verdictText } from '../mcu/catalogue';
import { printable } from '../text';

export interface Listing {
  text: string;
  /** Line number (0-based) of each execution step. */
  stepLine: number[];
  /** Line of the summary header (whole-model findings go there). */
  headerLine: number;
}

const n = (v: number): string => Math.round(v).toLocaleString('en-US');

/** Text from a model in Markdown: one line, nothing that starts markup or ends a table cell. */
const md = (s: string): string => printable(s).replace(/[\\`*<>[\]|]/g, '\\$&');

/** A code span that holds any name: its fence is longer than every run of backticks inside. */
function codeSpan(s: string): string {
  const text = printable(s);
  const fence = '`'.repeat(Math.max(0, ...(text.match(/`+/g) ?? []).map((r) => r.length)) + 1);
  return `${fence} ${text} ${fence}`;
}
const pad = (s: string, w: number): string => (s.length >= w ? s : s + ' '.repeat(w - s.length));
const lpad = (s: string, w: number): string => (s.length >= w ? s : ' '.repeat(w - s.length) + s);

export function listing(r: ModelReport): Listing {
  const a = r.analysis;
  const lines: string[] = [];
  const t = r.effective.target;
  lines.push(`// ${printable(r.fileName)}: ${a.format.toUpperCase()}, ${a.ops.length} executed operators; ${t ? `target ${printable(t.name)} (SRAM ${n(t.sramBytes)} B, Flash ${n(t.flashBytes)} B)` : 'no target'}${r.fit ? `: ${verdictText(r.fit)}` : ''}`);
  const headerLine = 0;
  lines.push(`// peak SRAM ${a.complete ? '' : 'at least '}${n(a.peakBytes)} B per layer${r.schedule ? `, ${n(r.schedule.peakBytes)} B with ${r.schedule.tiles.join('×')} patches after #${r.schedule.split.index}` : ''}; Flash ${n(a.flashBytes)} B; ${n(a.macs)} MACs`);
  // Columns as wide as their longest entry (names above 60 characters keep their end, where TF puts the layer).
  const name = (raw: string): string => {
    const s = printable(raw); // one line per step, whatever the file's names hold
    return s.length > 60 ? `…${s.slice(-59)}` : s;
  };
  const shape = (row: (typeof a.ops)[number]): string => row.outputShapes.map(formatShape).join(', ');
  const wIdx = Math.max(4, String(a.ops.length).length + 1);
  // reduce, not Math.max(...): a spread of 100k arguments overflows the stack
  const widest = (min: number, f: (o: (typeof a.ops)[number]) => number): number => a.ops.reduce((w, o) => Math.max(w, f(o)), min);
  const wOp = widest(2, (o) => printable(o.op).length);
  const wName = widest(4, (o) => name(o.name).length);
  const wShape = widest(6, (o) => shape(o).length);
  lines.push(`${pad('//#', wIdx)} ${pad('op', wOp)} ${pad('name', wName)} ${pad('output', wShape)} ${lpad('act B', 11)} ${lpad('live B', 11)}`);
  const stepLine: number[] = [];
  const stageEnd = r.schedule ? r.schedule.split.index : -1;
  for (const row of a.ops) {
    stepLine.push(lines.length);
    const mark = row.index <= stageEnd ? ' [patch]' : '';
    const peak = row.index === a.peakStep ? ' ◀ peak' : '';
    lines.push(`${pad(String(row.index), wIdx)} ${pad(printable(row.op), wOp)} ${pad(name(row.name), wName)} ${pad(shape(row), wShape)} ${lpad(n(row.outputBytes), 11)} ${lpad(n(row.liveBytes), 11)}${peak}${mark}`);
  }
  return { text: `${lines.join('\n')}\n`, stepLine, headerLine };
}

/** Markdown hover for one execution step: the activation sizes in full. */
export function hoverText(r: ModelReport, step: number): string | null {
  const row = r.analysis.ops[step];
  if (!row) return null;
  const out: string[] = [];
  out.push(`**#${row.index} ${md(row.op)}** ${codeSpan(row.name)}`);
  out.push('');
  out.push('| | shape | bytes |');
  out.push('|---|---|---:|');
  row.inputShapes.forEach((s, i) => out.push(`| input ${i} | ${formatShape(s)} | |`));
  out.push(`| inputs (activations) | | ${n(row.inputBytes)} |`);
  row.outputShapes.forEach((s, i) => out.push(`| output ${i} | ${formatShape(s)} | |`));
  out.push(`| outputs | | ${n(row.outputBytes)} |`);
  out.push(`| live at this step | | ${n(row.liveBytes)} |`);
  out.push(`| weights | | ${n(row.weightsBytes)} |`);
  out.push('');
  out.push(`MACs: ${n(row.macs)}${row.index === r.analysis.peakStep ? ' — **peak step**' : ''}`);
  const s = r.schedule;
  if (s && step <= s.split.index) {
    out.push('');
    out.push(`In the patch stage (${s.tiles.join('×')} tiles after #${s.split.index}): tile input ${s.tileInput.interior.join('×')} (exact bands ${s.tileInput.rows.join('/')} × ${s.tileInput.cols.join('/')}), stage peak ${n(s.stagePeakBytes)} B.`);
  }
  const ls = r.lineBufferedSteps?.[step];
  const seg = ls ? r.lineBuffered?.segments[ls.segment] : undefined;
  if (ls && seg) {
    out.push('');
    const held = ls.inside
      ? `its output is never stored: computed ${ls.inside.how === 'pixel' ? 'pixel by pixel inside' : 'channel by channel into'} step #${ls.inside.step}`
      : ls.ring ? `its output is a ring of ${ls.ring.rows} rows × ${ls.ring.width} columns, ${n(ls.ring.bytes)} B` : 'its output is held whole';
    out.push(`Line-buffered (steps #${seg.first}–#${seg.last}${seg.columns > 1 ? ` in ${seg.columns} column bands` : ''}, segment peak ${n(seg.peakBytes)} B): ${held}.`);
  }
  if (row.unsupported) out.push(`\n⚠ not supported: ${row.unsupported}`);
  return out.join('\n');
}

/** Export Report: the analysis, the schedule and the findings as Markdown. */
export function reportMarkdown(r: ModelReport): string {
  const a = r.analysis;
  const t = r.effective.target;
  const out: string[] = [];
  out.push(`# Memory report: ${md(r.fileName)}`);
  out.push('');
  out.push(`Format ${a.format.toUpperCase()}, ${a.ops.length} executed operators. ${t ? `Target **${md(t.name)}**: SRAM ${n(t.sramBytes)} B${t.reserveBytes ? ` (reserve ${n(t.reserveBytes)} B)` : ''}, Flash ${n(t.flashBytes)} B.` : 'No target.'}`);
  out.push('');
  // The sentence and the table come from the same fit, so they cannot disagree.
  if (r.fit && t) out.push(`**Verdict for ${md(t.name)}: ${verdictText(r.fit)}**${r.schedule ? ' with the patch schedule' : ''}.`, '');
  const least = a.complete ? '' : '≥ ';
  out.push('| | per layer | with schedule |');
  out.push('|---|---:|---:|');
  out.push(`| peak SRAM (live set) | ${least}${n(a.peakBytes)} B | ${r.schedule ? `${least}${n(r.schedule.peakBytes)} B` : '—'} |`);
  out.push(`| arena | ${least}${n(a.arenaBytes)} B | ${r.schedule ? `${least}${n(r.schedule.arenaBytes)} B` : '—'} |`);
  out.push(`| MACs | ${least}${n(a.macs)} | ${r.schedule ? `+${(r.schedule.overhead.modelExact * 100).toFixed(1)}%` : '—'} |`);
  out.push(`| Flash (weights) | ${least}${n(a.flashBytes)} B | ${least}${n(a.flashBytes)} B |`);
  if (r.perLayerFit && r.fit && t) out.push(`| verdict for ${md(t.name)} | ${verdictText(r.perLayerFit)} | ${r.schedule ? verdictText(r.fit) : '—'} |`);
  out.push('');
  if (r.fit && r.fit.regions.length > 1) {
    // The Build Analyzer's rows: one per RAM region, with the arena's part there and its lower bound.
    out.push('| RAM region | speed | needed | size | arena part | its lower bound | buffers | |', '|---|---|---:|---:|---:|---:|---:|---|');
    r.fit.regions.forEach((x, i) => {
      const p = r.regionPlan?.[i];
      out.push(`| ${md(x.name)} | ${x.speed} | ${least}${n(x.needed)} B | ${n(x.bytes)} B | ${p ? `${n(p.arenaBytes)} B` : '—'} | ${p ? `${n(p.lowerBound)} B` : '—'} | ${p ? p.buffers : '—'} | ${x.fits ? 'fits' : '**over**'} |`);
    });
    out.push('');
  }
  out.push(`Schedule: ${r.schedule ? `${r.schedule.tiles.join('×')} tiles after #${r.schedule.split.index} ${md(r.schedule.split.op)} '${md(r.schedule.split.name)}'` : 'none'} — ${md(r.scheduleWhy)}.`);
  out.push('');
  if (a.format === 'tflite') {
    const tf = r.tflm;
    out.push(`## TFLM tensor arena (32-bit Cortex-M)${r.effective.runtime === 'tflm' ? ': the runtime in force' : ''}`, '');
    if (!tf) out.push(`Not predicted: ${md(r.tflmWhy ?? '')}.`, '');
    else {
      out.push(`Smallest \`kTensorArenaSize\`: **${n(tf.minArenaBytes)} B**; \`arena_used_bytes()\` after \`AllocateTensors()\`: ${n(tf.arenaUsedBytes)} B.`, '');
      out.push('| part | bytes |', '|---|---:|');
      out.push(`| head: ${tf.plannedTensors} planned tensors and ${tf.scratchBuffers} scratch buffers | ${n(tf.headBytes)} |`);
      for (const k of tf.tail) out.push(`| tail: ${k.kind} | ${n(k.bytes)} |`);
      out.push('', '```c', tf.declaration, '```', '');
    }
  }
  out.push('Conventions:');
  for (const c of a.conventionsText) out.push(`- ${c}`);
  if (r.findings.length > 0) {
    out.push('');
    out.push('## Findings');
    for (const f of r.findings) out.push(`- **${f.severity}**${f.step !== null ? ` (#${f.step})` : ''}: ${md(f.message)}`);
  }
  out.push('');
  out.push('## Layers');
  out.push('');
  out.push('| # | op | name | output | act B | live B | weights B | MACs |');
  out.push('|---:|---|---|---|---:|---:|---:|---:|');
  for (const row of a.ops) out.push(`| ${row.index} | ${md(row.op)} | ${md(row.name)} | ${row.outputShapes.map(formatShape).join(', ')} | ${n(row.outputBytes)} | ${n(row.liveBytes)} | ${n(row.weightsBytes)} | ${n(row.macs)} |`);
  return `${out.join('\n')}\n`;
}
