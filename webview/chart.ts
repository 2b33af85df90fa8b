// The per-block / per-layer memory chart, drawn on a canvas by this file (no chart library: the webview's script is
// a third of its former size, which is most of the time to first chart inside the view). Live bytes per step or per
// block in execution order, the per-layer bars ghosted behind a schedule's, the patch stage and the bars over the
// limit in their colours, the SRAM limit as a dashed line, the peak labelled; hovering a column shows its layers.
import type { MemoryViewData } from '../src/shared/protocol';
import { byteAxisStep, formatAxisBytes, formatBytes } from '../src/core/units';
import { css, setTooltipLines, sizedContext } from './canvas';

export interface ChartOptions {
  perLayer: boolean;
  scheduled: boolean;
}

/** A drawn chart: redrawn when its box is resized, its listeners removed by destroy(). */
export interface MemoryChart {
  destroy(): void;
}

interface Group { label: string; value: number; ghost: number; steps: number[]; stage: boolean }

const fmt = (b: number): string => `${Math.round(b).toLocaleString('en-US')} B`;
const shapes = (s: (number[] | null)[]): string => s.map((x) => (x ? x.join('×') : '?')).join(', ');

/** Hides the tooltip (a redraw, the pointer leaving the chart, the view losing focus: it must not linger over what
 *  comes next, the quick pick included). */
export function hideTooltip(): void {
  document.querySelectorAll<HTMLDivElement>('.chart-tooltip').forEach((tip) => { tip.hidden = true; });
}

function tooltipOf(canvas: HTMLCanvasElement): HTMLDivElement | null {
  const box = canvas.parentElement;
  if (!box) return null;
  let tip = box.querySelector<HTMLDivElement>('.chart-tooltip');
  if (!tip) {
    tip = document.createElement('div');
    tip.className = 'chart-tooltip';
    tip.setAttribute('role', 'tooltip');
    tip.id = 'chart-tooltip';
    tip.hidden = true;
    box.append(tip);
  }
  return tip;
}

export function drawChart(canvas: HTMLCanvasElement, d: MemoryViewData, o: ChartOptions, previous: MemoryChart | null): MemoryChart {
  previous?.destroy();
  hideTooltip();
  const useSchedule = o.scheduled && d.scheduledPeakBytes !== null;
  const perLayerLive = d.layers.map((l) => l.liveBytes);
  const scheduledLive = d.layers.map((l) => l.scheduledLiveBytes ?? l.liveBytes);
  const live = useSchedule ? scheduledLive : perLayerLive;
  const groupOf = (steps: number[], label: string): Group => ({
    label, steps,
    value: steps.reduce((m, s) => Math.max(m, live[s]!), 0),
    ghost: steps.reduce((m, s) => Math.max(m, perLayerLive[s]!), 0),
    stage: steps.some((s) => d.layers[s]!.inPatchStage),
  });
  const groups = o.perLayer
    ? d.layers.map((l) => groupOf([l.index], `#${l.index} ${l.op}`))
    : d.blocks.map((b) => groupOf(d.layers.slice(b.firstStep, b.lastStep + 1).map((l) => l.index), b.name));
  const budget = d.target.sramBytes - d.target.reserveBytes;
  // One scale for both views (with and without the schedule): the per-layer peak, the schedule's and the limit fit.
  const top = Math.max(budget, ...perLayerLive, ...scheduledLive, 1);
  const step = byteAxisStep(top * 1.1);
  const yMax = Math.ceil((top * 1.1) / step) * step;
  const peakIndex = groups.reduce((best, g, i) => (g.value > groups[best]!.value ? i : best), 0);
  // A patch schedule: the end of its stage. A line-buffered plan: each streamed segment, by the columns its steps fall in.
  const lines = useSchedule && d.lineBuffered?.inForce ? d.lineBuffered.spans : [];
  const colOf = (step: number): number => groups.findIndex((g) => g.steps.includes(step));
  const segments = lines.map((sp) => ({ from: colOf(sp.first), to: colOf(sp.last) })).filter((c) => c.from >= 0 && c.to >= c.from);
  const lastStage = useSchedule && lines.length === 0 ? groups.map((g) => g.stage).lastIndexOf(true) : -1;
  const labels = {
    bars: useSchedule ? (d.schedule ? 'live bytes (with schedule)' : 'live bytes (line-buffered)') : 'live bytes (per layer)',
    limit: `SRAM available (${d.target.name})`,
    ghost: 'live bytes (per layer)',
  };
  // What the chart shows, for screen readers and the UI test.
  Object.assign(canvas.dataset, {
    yMax: String(yMax), yStep: String(step), over: String(groups.filter((g) => g.value > budget).length),
    ghost: useSchedule ? 'per layer' : '', peak: `peak ${formatBytes(groups[peakIndex]?.value ?? 0)}`, stageEnd: lastStage >= 0 ? groups[lastStage]!.label : '',
    segments: String(segments.length),
  });

  let columns: { x0: number; x1: number }[] = [];
  let drawn = '';
  const paint = (): void => {
    drawn = `${canvas.clientWidth}x${canvas.clientHeight}`;
    columns = paintChart(canvas, { groups, budget, yMax, step, useSchedule, peakIndex, lastStage, segments, labels });
  };
  const tip = tooltipOf(canvas);
  const onMove = (e: MouseEvent): void => {
    if (!tip) return;
    const r = canvas.getBoundingClientRect();
    const mx = e.clientX - r.left;
    const my = e.clientY - r.top;
    const i = columns.findIndex((c) => mx >= c.x0 && mx < c.x1);
    const g = groups[i];
    if (!g) { tip.hidden = true; return; }
    const lines = [g.label, `${labels.limit}: ${fmt(budget)} (${formatBytes(budget)})`, `${labels.bars}: ${fmt(g.value)} (${formatBytes(g.value)})`];
    if (useSchedule) lines.push(`${labels.ghost}: ${fmt(g.ghost)} (${formatBytes(g.ghost)})`);
    for (const s of g.steps.slice(0, 6)) {
      const l = d.layers[s]!;
      lines.push(`#${l.index} ${l.op} '${l.name}'`, `  in ${shapes(l.inputShapes)} (${fmt(l.inputBytes)}) → out ${shapes(l.outputShapes)} (${fmt(l.outputBytes)})`,
        `  live ${fmt(live[s]!)}, weights ${fmt(l.weightsBytes)}, MACs ${l.macs.toLocaleString('en-US')}`);
    }
    if (g.steps.length > 6) lines.push(`… ${g.steps.length - 6} more`);
    setTooltipLines(tip, lines);
    tip.hidden = false;
    // Keep it inside the box: to the left of the pointer when the pointer is in the right half.
    const left = mx > canvas.clientWidth / 2 ? Math.max(0, mx - tip.offsetWidth - 12) : mx + 12;
    tip.style.left = `${left}px`;
    tip.style.top = `${Math.max(0, Math.min(my, canvas.clientHeight - tip.offsetHeight))}px`;
  };
  canvas.addEventListener('mousemove', onMove);
  canvas.addEventListener('mouseleave', hideTooltip);
  // Redrawn when the box changes size (the first observation reports the size just drawn at).
  const resize = new ResizeObserver(() => { if (`${canvas.clientWidth}x${canvas.clientHeight}` !== drawn) paint(); });
  resize.observe(canvas);
  paint();
  return {
    destroy(): void {
      resize.disconnect();
      canvas.removeEventListener('mousemove', onMove);
      canvas.removeEventListener('mouseleave', hideTooltip);
    },
  };
}

interface Scene {
  groups: Group[]; budget: number; yMax: number; step: number; useSchedule: boolean; peakIndex: number; lastStage: number;
  /** Streamed segments as column ranges (line-buffered plans). */
  segments: { from: number; to: number }[];
  labels: { bars: string; limit: string; ghost: string };
}

/** Draws the scene at the canvas's size; returns each column's extent (what the pointer hits). */
function paintChart(canvas: HTMLCanvasElement, s: Scene): { x0: number; x1: number }[] {
  const sized = sizedContext(canvas, { width: 600, height: 320 });
  if (!sized) return [];
  const { ctx, width, height } = sized;
  const normal = css('--vscode-charts-blue', '#3794ff');
  const stage = css('--vscode-charts-purple', '#b180d7');
  const limit = css('--vscode-charts-red', '#f14c4c');
  const text = css('--vscode-foreground', '#cccccc');
  const grid = css('--vscode-editorWidget-border', '#454545');
  ctx.font = '11px sans-serif';
  // Room for the x labels: rotated when they do not fit side by side, every k-th shown when they do not fit at all.
  const n = Math.max(1, s.groups.length);
  // Long names shortened on the axis (the tooltip has them whole).
  const short = s.groups.map((g) => (g.label.length > 24 ? `${g.label.slice(0, 23)}…` : g.label));
  const longest = short.reduce((m, l) => Math.max(m, ctx.measureText(l).width), 0);
  const left = 64;
  const legendH = 22;
  const plotW = Math.max(10, width - left - 8);
  const slot = plotW / n;
  const rotate = longest + 6 > slot;
  const labelH = rotate ? Math.min(140, longest * Math.sin(Math.PI / 3) + 14) : 16;
  const every = rotate ? Math.max(1, Math.ceil(14 / slot)) : 1;
  const plotTop = legendH + 8;
  const plotH = Math.max(10, height - plotTop - labelH - 6);
  const y = (b: number): number => plotTop + plotH - (Math.min(b, s.yMax) / s.yMax) * plotH;

  // Legend.
  const legend: [string, string, boolean][] = [[s.labels.limit, limit, true], [s.labels.bars, normal, false]];
  if (s.useSchedule) legend.push([s.labels.ghost, `${normal}40`, false]);
  if (s.segments.length > 0) legend.push(['streamed segments S1…', `${stage}1f`, false]);
  let lx = left;
  ctx.textAlign = 'left';
  for (const [label, colour, line] of legend) {
    ctx.fillStyle = colour;
    ctx.strokeStyle = colour;
    if (line) {
      ctx.setLineDash([6, 4]);
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(lx, 12);
      ctx.lineTo(lx + 24, 12);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.lineWidth = 1;
    } else ctx.fillRect(lx, 6, 24, 12);
    ctx.fillStyle = text;
    ctx.fillText(label, lx + 30, 16);
    lx += 30 + ctx.measureText(label).width + 18;
  }

  // The y axis: round steps in KiB/MiB, grid lines.
  ctx.textAlign = 'right';
  ctx.strokeStyle = grid;
  for (let v = 0; v <= s.yMax; v += s.step) {
    ctx.beginPath();
    ctx.moveTo(left, Math.round(y(v)) + 0.5);
    ctx.lineTo(left + plotW, Math.round(y(v)) + 0.5);
    ctx.stroke();
    ctx.fillStyle = text;
    ctx.fillText(formatAxisBytes(v), left - 4, y(v) + 4);
  }

  // Streamed segments: a band behind their columns, numbered.
  s.segments.forEach((seg, k) => {
    const x0 = left + seg.from * slot;
    const x1 = left + (seg.to + 1) * slot;
    ctx.fillStyle = `${stage}1f`;
    ctx.fillRect(x0 + 1, plotTop, Math.max(1, x1 - x0 - 2), plotH);
    ctx.fillStyle = text;
    ctx.textAlign = 'center';
    ctx.fillText(`S${k + 1}`, (x0 + x1) / 2, plotTop + 10);
  });

  // Bars: the per-layer ghost behind, the bar in front (the error colour over the limit, the stage's colour).
  const columns = s.groups.map((_, i) => ({ x0: left + i * slot, x1: left + (i + 1) * slot }));
  const barW = Math.max(1, slot * 0.8);
  s.groups.forEach((g, i) => {
    const x = left + i * slot + (slot - barW) / 2;
    if (s.useSchedule) {
      ctx.fillStyle = `${normal}40`;
      ctx.strokeStyle = normal;
      ctx.fillRect(x, y(g.ghost), barW, plotTop + plotH - y(g.ghost));
      ctx.strokeRect(x + 0.5, y(g.ghost) + 0.5, Math.max(0, barW - 1), Math.max(0, plotTop + plotH - y(g.ghost) - 1));
    }
    ctx.fillStyle = g.value > s.budget ? limit : g.stage && s.useSchedule ? stage : normal;
    ctx.fillRect(x, y(g.value), barW, plotTop + plotH - y(g.value));
  });

  // The x labels.
  ctx.fillStyle = text;
  short.forEach((label, i) => {
    if (i % every !== 0) return;
    const cx = left + (i + 0.5) * slot;
    const top = plotTop + plotH + 4;
    if (!rotate) {
      ctx.textAlign = 'center';
      ctx.fillText(label, cx, top + 10);
      return;
    }
    ctx.save();
    ctx.translate(cx + 4, top);
    ctx.rotate(-Math.PI / 3);
    ctx.textAlign = 'right';
    ctx.fillText(label, 0, 0);
    ctx.restore();
  });

  // The SRAM limit.
  ctx.strokeStyle = limit;
  ctx.lineWidth = 2;
  ctx.setLineDash([6, 4]);
  ctx.beginPath();
  ctx.moveTo(left, y(s.budget));
  ctx.lineTo(left + plotW, y(s.budget));
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.lineWidth = 1;

  // The peak labelled; the end of the patch stage as a dashed line after its last bar.
  ctx.fillStyle = text;
  ctx.strokeStyle = text;
  const peak = s.groups[s.peakIndex];
  if (peak) {
    ctx.textAlign = 'center';
    const cx = Math.min(Math.max(left + (s.peakIndex + 0.5) * slot, left + 40), left + plotW - 40);
    ctx.fillText(canvas.dataset.peak ?? '', cx, Math.max(plotTop + 10, y(peak.value) - 5));
  }
  if (s.lastStage >= 0) {
    const x = left + (s.lastStage + 1) * slot;
    ctx.setLineDash([3, 3]);
    ctx.beginPath();
    ctx.moveTo(x, plotTop);
    ctx.lineTo(x, plotTop + plotH);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.textAlign = 'left';
    ctx.fillText('patch stage ◀', x + 3, plotTop + 10);
  }
  return columns;
}
