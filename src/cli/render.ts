// Human output: a per-layer table and a summary, conventions always printed.
import { flashRegions, formatShape, isMultiRegion, printable, ramRegions, scheduleFieldText, scheduleRefText, verdictText, type Effective, type Graph, type McuTarget, type ModelReport, type ScheduleReport, type SettingOrigin, type StepRef } from '../core/index';
import type { ScheduleJson } from '../core/index';
import { formatBytes, formatCount } from '../core/units';

const n = (v: number): string => Math.round(v).toLocaleString('en-US');

function table(rows: string[][], rightAligned: ReadonlySet<number>): string {
  const widths = rows[0]!.map((_, c) => rows.reduce((w, r) => Math.max(w, (r[c] ?? '').length), 0));
  return rows
    .map((r) => r.map((cell, c) => (rightAligned.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd())
    .join('\n');
}

const clip = (s: string, max: number): string => {
  const p = printable(s);
  return p.length <= max ? p : `…${p.slice(p.length - max + 1)}`;
};

const ORIGIN: Record<SettingOrigin, string> = { default: 'default', settings: 'VS Code settings', deployment: 'deployment file', flag: 'command line' };

/** "target STM32F746 (command line), reserve 0 B (target's default), schedule auto (deployment file), …" */
export function settingsLine(eff: Effective): string {
  const o = eff.origins;
  const t = eff.target;
  const sched = scheduleFieldText(eff.schedule, scheduleRefText);
  return [
    `target ${t ? printable(t.name) : 'none'} (${ORIGIN[o.target]})`,
    ...(t ? [`reserve ${n(t.reserveBytes)} B (${o.reserve === 'default' ? "the target's default" : ORIGIN[o.reserve]})`] : []),
    `schedule ${printable(sched)} (${ORIGIN[o.schedule]})`,
    `max MACs overhead ${eff.maxOverhead === null ? 'none' : `${Math.round(eff.maxOverhead * 100)}%`} (${ORIGIN[o.maxMacsOverhead]})`,
    `conventions (${ORIGIN[o.conventions]})`,
    `runtime ${eff.runtime === 'tflm' ? 'TFLM' : 'the C export'} (${ORIGIN[o.runtime]})`,
  ].join(', ');
}

export function renderAnalysis(r: ModelReport, graph: Graph): string {
  const a = r.analysis;
  const out: string[] = [];
  const opset = graph.metadata.opsets?.[''];
  out.push(`${printable(r.fileName)}: ${a.format.toUpperCase()}${opset ? ` opset ${opset}` : ''}, ${a.fileOps} operators in the file, ${a.ops.length} executed`);
  for (const t of a.inputs) out.push(`  input  ${clip(t.name, 80)}: ${formatShape(t.shape)} ${t.dtype}${t.layout ? ` (${t.layout})` : ''}`);
  for (const t of a.outputs) out.push(`  output ${clip(t.name, 80)}: ${formatShape(t.shape)} ${t.dtype}`);
  out.push(`Settings: ${settingsLine(r.effective)}`);
  out.push('Conventions:');
  for (const c of a.conventionsText) out.push(`  - ${c}`);
  out.push('');
  const rows: string[][] = [['#', 'op', 'name', 'output', 'out B', 'live B', 'weights B', 'MACs', '']];
  for (const row of a.ops) {
    rows.push([
      String(row.index), clip(row.op, 28), clip(row.name, 36), row.outputShapes.map(formatShape).join(', '), n(row.outputBytes), n(row.liveBytes),
      n(row.weightsBytes), formatCount(row.macs), row.index === a.peakStep ? '◀ peak' : row.unsupported ? '(not sized)' : '',
    ]);
  }
  out.push(table(rows, new Set([0, 4, 5, 6, 7])));
  out.push('');
  const peak = a.ops[a.peakStep];
  const least = a.complete ? '' : 'at least ';
  out.push('Summary');
  out.push(`  Peak SRAM (live set)   ${least}${n(a.peakBytes)} B (${formatBytes(a.peakBytes)})${peak ? ` at #${peak.index} ${peak.op} '${clip(peak.name, 60)}'` : ''}`);
  out.push(`  Arena plan             ${least}${n(a.arenaBytes)} B (${a.arenaStrategy}); lower bound ${n(a.lowerBoundBytes)} B; TFLM greedy ${n(a.greedyArenaBytes)} B`);
  out.push(`  Flash (weights)        ${least}${n(a.flashBytes)} B (${formatBytes(a.flashBytes)}) as stored in the file`);
  const fw = r.firmware;
  if (r.effective.runtime !== 'tflm') out.push(fw
    ? `  Firmware (C export)    Flash ${n(fw.flashBytes)} B: weights ${n(fw.weightsBytes)}, kernels ${n(fw.kernelsBytes)}, model code ${n(fw.modelBytes)}, runtime ${n(fw.runtimeFlashBytes)}; RAM ${n(fw.ramBytes)} B + reserve`
    : `  Firmware (C export)    not possible (${printable(r.firmwareWhy)}); Flash counts the stored weights and the runtime`);
  out.push(...tflmLines(r));
  out.push(`  MACs                   ${least}${n(a.macs)} (${formatCount(a.macs)})`);
  if (a.reorder) {
    out.push(a.reorder.improved
      ? `  Reordered (--reorder)  peak ${n(a.reorder.peakBytes)} B, arena ${n(a.reorder.arenaBytes)} B with order ${a.reorder.order.join(',')}${a.reorder.complete ? '' : ' (search capped)'}`
      : `  Reordered (--reorder)  no operator order lowers the peak${a.reorder.complete ? '' : ' (search capped)'}`);
  }
  if (a.offlinePlan) out.push(`  Offline plan (file)    ${a.offlinePlan.planned}/${a.offlinePlan.tensors} tensors planned, arena ≥ ${n(a.offlinePlan.arenaBytes)} B (OfflineMemoryAllocation metadata)`);
  if (r.schedule) {
    out.push('Patch-based schedule');
    out.push(...scheduleLines(r.schedule, '  '));
    out.push(`  chosen: ${printable(r.scheduleWhy)}`);
  } else if (r.lineBuffered) {
    const l = r.lineBuffered;
    out.push('Line-buffered plan');
    out.push(`  peak ${n(l.peakBytes)} B, arena ${n(l.arenaBytes)} B, +${(l.overhead * 100).toFixed(1)}% MACs, ${n(l.calls)} kernel calls; streamed: ${l.segments.map((s) => `#${s.first}–#${s.last}${s.columns > 1 ? ` (${s.columns} column bands)` : ''}`).join(', ')}`);
    out.push(`  chosen: ${printable(r.scheduleWhy)}`);
  } else if (r.effective.schedule !== 'none') out.push(`  Schedule: ${printable(r.scheduleWhy)}`);
  const fit = r.fit;
  if (fit) {
    const t = fit.target;
    // With TFLM the arena is exact when predicted; Flash lacks TFLM's code.
    const tflm = r.effective.runtime === 'tflm';
    const sramLeast = tflm ? (r.tflm ? '' : 'at least ') : least;
    const flashLeast = tflm ? 'at least ' : least;
    out.push(`  Target ${printable(t.name)}: SRAM ${sramLeast}${n(fit.sramNeeded)} / ${n(t.sramBytes)} B (${Math.round((100 * fit.sramNeeded) / t.sramBytes)}%${t.reserveBytes ? `, incl. ${n(t.reserveBytes)} B reserve` : ''})` +
      `, Flash ${flashLeast}${n(fit.flashNeeded)} / ${n(t.flashBytes)} B (${Math.round((100 * fit.flashNeeded) / t.flashBytes)}%) → ${verdictText(fit)}`);
    if (fit.regions.length > 1) out.push(...regionLines(r, sramLeast));
  }
  for (const f of r.findings) if (f.code !== 'sram' && f.code !== 'flash') out.push(`  ${f.severity}: ${printable(f.message)}`);
  for (const note of a.notes) out.push(`  note: ${printable(note)}`);
  return out.join('\n');
}

/** One line per RAM region: its need against its size, the arena's part there and that part's lower bound. */
function regionLines(r: ModelReport, atLeast: string): string[] {
  const fit = r.fit!;
  const width = Math.max(...fit.regions.map((x) => printable(x.name).length));
  return fit.regions.map((x, i) => {
    const plan = r.regionPlan?.[i];
    const parts = [
      ...(plan ? [`arena ${n(plan.arenaBytes)} B (${plan.buffers} buffers, lower bound ${n(plan.lowerBound)} B)`] : x.plannedBytes ? [`${n(x.plannedBytes)} B planned`] : ['unused']),
      ...(x.reserveBytes ? [`reserve ${n(x.reserveBytes)} B`] : []),
    ];
    return `    ${printable(x.name).padEnd(width)}  ${x.speed.padEnd(8)} ${atLeast}${n(x.needed)} / ${n(x.bytes)} B (${Math.round((100 * x.needed) / Math.max(1, x.bytes))}%) ${x.fits ? 'fits' : 'OVER'}: ${parts.join(', ')}`;
  });
}

/** TFLM's arena: the two figures, the breakdown, the declaration to paste. */
function tflmLines(r: ModelReport): string[] {
  if (r.analysis.format !== 'tflite') return [];
  const t = r.tflm;
  if (!t) return [`  TFLM arena (32-bit)    not predicted: ${printable(r.tflmWhy ?? '')}`];
  return [
    `  TFLM arena (32-bit)    ${n(t.minArenaBytes)} B smallest kTensorArenaSize; arena_used_bytes ${n(t.arenaUsedBytes)} B = head ${n(t.headBytes)} (${t.plannedTensors} tensors, ${t.scratchBuffers} scratch buffers) + tail ${n(t.tailBytes)}`,
    `                         tail: ${t.tail.map((k) => `${k.kind} ${n(k.bytes)}`).join(', ')}`,
    `                         ${t.declaration}`,
    r.tflmOptimized
      ? `  TFLM, optimized file   ${n(r.tflmOptimized.minArenaBytes)} B smallest kTensorArenaSize with our plan as OfflineMemoryAllocation (mcu-mem optimize)`
      : `  TFLM, optimized file   none: ${printable(r.tflmOptimizedWhy ?? '')}`,
  ];
}

export function renderTargets(targets: readonly McuTarget[]): string {
  const rows = [['target', 'core', 'SRAM', 'Flash', 'notes']];
  for (const t of targets) {
    rows.push([t.name, t.core, formatBytes(t.sramBytes), formatBytes(t.flashBytes), t.notes ?? '']);
    // Several regions: one row each, under the target.
    if (isMultiRegion(t)) {
      for (const r of [...ramRegions(t), ...flashRegions(t)]) {
        rows.push([`  ${r.name}`, r.kind === 'ram' ? `${r.speed}${r.arena ? '' : ', no arena'}` : 'flash', r.kind === 'ram' ? formatBytes(r.bytes) : '', r.kind === 'flash' ? formatBytes(r.bytes) : '', `at 0x${r.address.toString(16).padStart(8, '0')}`]);
      }
    }
  }
  return `${table(rows, new Set([2, 3]))}\n\nCustom targets: --custom-target NAME:SRAM:FLASH[:RESERVE] (e.g. myboard:256K:1M:16K); with memory regions, in the deployment file: {"target": {"name", "flash", "regions": [{"name", "size", "speed", "address"}, …]}}`;
}

const pct = (f: number): string => `${f >= 0 ? '+' : ''}${(f * 100).toFixed(1)}%`;
const step = (r: StepRef): string => `#${r.index} ${r.op} '${clip(r.name, 48)}'`;

function scheduleLines(r: ScheduleReport, indent: string): string[] {
  const o = r.split.output.shape ? formatShape(r.split.output.shape) : '?';
  const m = r.macs;
  return [
    `split after ${step(r.split)} (stage output ${o}), ${r.tiles[0]}×${r.tiles[1]} tiles`,
    `tile output ${r.tileOutput.rows.join(',')} rows × ${r.tileOutput.cols.join(',')} cols; tile input ${r.tileInput.interior.join('×')} interior, exact rows ${r.tileInput.rows.join(',')}, cols ${r.tileInput.cols.join(',')}`,
    `stage peak ${n(r.stagePeakBytes)} B at ${step(r.stagePeakOp)} (tile ${r.stagePeakTile.join(',')}); rest peak ${n(r.restPeakBytes)} B${r.restPeakOp ? ` at ${step(r.restPeakOp)}` : ''}`,
    `peak ${n(r.peakBytes)} B (${formatBytes(r.peakBytes)}), ${versusPerLayer(r.peakBytes, r.perLayerPeakBytes)}; arena ${n(r.arenaBytes)} B`,
    `MACs of the stage ${formatCount(m.stagePerLayer)} → ${formatCount(m.stageExact)} exact borders (${pct(r.overhead.stageExact)}), ${formatCount(m.stageUniform)} uniform tiles (${pct(r.overhead.stageUniform)}); whole model ${pct(r.overhead.modelExact)} (uniform ${pct(r.overhead.modelUniform)})`,
  ].map((l) => indent + l);
}

export function renderSchedule(d: ScheduleJson): string {
  const out: string[] = [];
  const p = d.perLayer;
  out.push(`${d.file}: per-layer peak ${n(p.peakBytes)} B (${formatBytes(p.peakBytes)})${p.peakOp ? ` at ${step(p.peakOp)}` : ''}; arena ${n(p.arenaBytes)} B; ${formatCount(p.macs)} MACs`);
  out.push('Conventions:');
  for (const c of d.conventions.text) out.push(`  - ${c}`);
  out.push('');
  out.push(`Searched ${d.evaluated} schedules over ${d.validSplits} split points (tiles 1..8 per axis).`);
  if (d.best) {
    out.push(d.chosenBy === 'split' ? 'Schedule (--split):' : 'Best schedule:');
    out.push(...scheduleLines(d.best, '  '));
  } else out.push('Best: run layer by layer.');
  out.push(`  why: ${d.why}`);
  if (d.target) {
    const least = d.complete ? '' : 'at least ';
    out.push(`  Target ${printable(d.target.name)}: SRAM ${least}${n(d.need!.sramBytes)} / ${n(d.target.sramBytes)} B, Flash ${least}${n(d.need!.flashBytes)} / ${n(d.target.flashBytes)} B → ${d.verdict}`);
  }
  out.push('');
  if (d.pareto.some((r) => r.kind === 'patch')) {
    const patch = d.pareto.filter((r) => r.kind === 'patch');
    const beaten = patch.filter((r) => !r.onFront).length;
    out.push(`Pareto set: peak SRAM against extra MACs (whole model, exact borders)${d.maxOverheadPercent !== null ? `; best chosen within +${d.maxOverheadPercent}%` : ''}${beaten ? `; * beaten on both by a line-buffered plan (${beaten} of ${patch.length})` : ''}`);
    const rows: string[][] = [['split', 'stage output', 'tiles', 'tile in', 'stage peak', 'rest peak', 'peak B', '×', 'MACs model', 'stage', 'uniform']];
    for (const r of d.pareto) {
      if (r.kind !== 'patch') continue;
      rows.push([
        `${r.onFront ? '' : '*'}#${r.split.index}`, r.split.output.shape ? formatShape(r.split.output.shape) : '?', `${r.tiles[0]}×${r.tiles[1]}`, r.tileInput.interior.join('×'),
        n(r.stagePeakBytes), n(r.restPeakBytes), n(r.peakBytes), r.reduction.toFixed(1), pct(r.overhead.modelExact), pct(r.overhead.stageExact), pct(r.overhead.stageUniform),
      ]);
    }
    out.push(table(rows, new Set([4, 5, 6, 7, 8, 9, 10])));
  } else out.push('No schedule lowers the per-layer peak.');
  out.push('', ...lineBufferedLines(d));
  if (d.rejected.length > 0) {
    out.push('');
    out.push('Split points not possible:');
    const range = (r: ScheduleJson['rejected'][number]): string => `#${r.fromStep}${r.toStep > r.fromStep ? `–#${r.toStep}` : ''}`;
    const byReason = new Map<string, string[]>();
    for (const r of d.rejected) byReason.set(r.reason, [...(byReason.get(r.reason) ?? []), range(r)]);
    for (const [reason, ranges] of byReason) out.push(`  after ${ranges.join(', ')}: ${reason}`);
  }
  if (d.advice) {
    const a = d.advice;
    out.push('');
    out.push(`Overlap (--advise): the tile input is ${a.overlap.join('×')} pixels larger than without overlap; who causes it:`);
    const rows: string[][] = [['op', 'name', 'kernel', 'stride', 'dilation', 'growth H×W', 'share']];
    for (const s of a.shares.filter((x) => x.share > 0)) {
      rows.push([`${s.op}`, clip(s.name, 44), s.kernel.join('×'), s.strides.join('×'), s.dilations.join('×'), s.growth.map((g) => g.toFixed(g % 1 ? 1 : 0)).join('×'), `${(s.share * 100).toFixed(0)}%`]);
    }
    out.push(table(rows, new Set([5, 6])));
    if (a.whatIfs.length > 0) {
      out.push('What-ifs, computed on an edited copy of the graph with the same split and tiles:');
      const w: string[][] = [['name', 'change', 'tile in', 'peak B', 'MACs model', 'stage', 'model MACs Δ']];
      for (const x of a.whatIfs) w.push([clip(x.name, 40), x.change, x.interiorInput.join('×'), n(x.peakBytes), pct(x.overheadModel), pct(x.overheadStage), formatCount(x.modelMacsDelta)]);
      out.push(table(w, new Set([3, 4, 5, 6])));
    }
  }
  return out.join('\n');
}

const FRONT_ROWS = 12;

/** Line-buffered plans: the front (peak against extra MACs), then the plan chosen with one row per segment. */
function lineBufferedLines(d: ScheduleJson): string[] {
  const front = d.lineBufferedFront;
  const head = 'Line-buffered plans (rows streamed through fused segments, in column bands where that pays; `codegen --line-buffered` exports the plan chosen the same way):';
  if (front.length === 0 || front.every((p) => p.segments.length === 0)) return [`${head} none lowers the per-layer peak.`];
  const out = [head];
  const rows: string[][] = [['peak B', 'reduction', '+MACs model', 'kernel calls', 'segments', 'column bands']];
  // At most FRONT_ROWS points: the ends and evenly spaced ones between (--json lists them all).
  const shown = front.length <= FRONT_ROWS ? front : front.filter((_, i) => i === front.length - 1 || i % Math.ceil(front.length / (FRONT_ROWS - 1)) === 0);
  if (shown.length < front.length) out.push(`  ${shown.length} of the ${front.length} points of the front (--json lists them all):`);
  for (const p of shown) {
    rows.push([n(p.peakBytes), `${(d.perLayer.peakBytes / Math.max(1, p.peakBytes)).toFixed(1)}×`, pct(p.overhead.modelExact), n(p.calls), String(p.segments.length),
      p.segments.some((s) => s.columns > 1) ? `up to ${Math.max(...p.segments.map((s) => s.columns))}` : 'full rows']);
  }
  out.push(table(rows, new Set([0, 1, 2, 3, 4])));
  const l = d.lineBuffered;
  const rule = d.maxRamBytes !== null ? `the fewest extra MACs under --max-ram ${n(d.maxRamBytes)} B` : `the least peak within ${d.maxOverheadPercent === null ? 'any overhead' : `+${d.maxOverheadPercent}% MACs`}`;
  if (!l) return [...out, `  chosen (${rule}): none qualifies`];
  const at = 'segment' in l.peakAt ? `in segment ${l.peakAt.segment + 1}` : `at ${step(l.peakAt.step)}, run layer by layer`;
  out.push(`Chosen (${rule}): peak ${n(l.peakBytes)} B (${formatBytes(l.peakBytes)}) ${at}, ${versusPerLayer(l.peakBytes, d.perLayer.peakBytes)}; arena ${n(l.arenaBytes)} B; ${pct(l.overhead.modelExact)} MACs; ${n(l.calls)} kernel calls (layer by layer ${n(l.perLayerCalls)})`);
  const seg: string[][] = [['segment', 'steps', 'columns', 'peak B', 'whole B', 'rings B', 'rings', 'rows at most', 'calls', 'fused per pixel']];
  l.segments.forEach((s, i) => seg.push([
    String(i + 1), `#${s.first.index}–#${s.last.index}`, String(s.columns), n(s.peakBytes), n(s.wholeBytes), n(s.ringBytes),
    String(s.rings.length), String(Math.max(0, ...s.rings.map((r) => r.rows))), n(s.calls), fusedText(s),
  ]));
  out.push(table(seg, new Set([2, 3, 4, 5, 6, 7, 8])));
  if (l.segments.some((s) => s.fused.length > 0 || s.channelwise)) {
    out.push('  (fused per pixel: the depthwise steps whose output is computed pixel by pixel inside the next 1×1 convolution (and its residual Add), never stored; E: the 1×1 expansion before it recomputed for each window too. channel by channel: a 1×1 convolution and its global pooling run one output channel at a time.)');
  }
  return out;
}

/** A segment's fused blocks in a few characters: "#4 #7E …", or "channel by channel". */
function fusedText(s: NonNullable<ScheduleJson['lineBuffered']>['segments'][number]): string {
  if (s.channelwise) return 'channel by channel';
  return s.fused.map((f) => `#${f.depthwise.index}${f.expandRecomputed ? 'E' : ''}`).join(' ') || '-';
}

/** How a schedule's peak compares with the per-layer peak, in words that stay true when it is no better. */
export function versusPerLayer(peak: number, perLayer: number): string {
  const n = (v: number): string => v.toLocaleString('en-US');
  if (peak < perLayer) return `${(perLayer / peak).toFixed(perLayer / peak < 10 ? 2 : 1)}× below per-layer ${n(perLayer)} B`;
  if (peak === perLayer) return `the same as per-layer (${n(perLayer)} B)`;
  return `${n(peak - perLayer)} B above per-layer ${n(perLayer)} B: worse than running layer by layer`;
}

