// The per-block / per-layer memory chart (Chart.js, bundled): live bytes per step or per block in execution order,
// the patch stage in another colour, the SRAM limit as a line; hovering a bar shows the layer's sizes.
import {
  BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip,
  type ChartConfiguration, type TooltipItem, type TooltipModel,
} from 'chart.js';
import type { Plugin } from 'chart.js';
import type { MemoryViewData } from '../src/shared/protocol';
import { byteAxisStep, formatAxisBytes, formatBytes } from '../src/core/units';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Tooltip, Legend);

export interface ChartOptions {
  perLayer: boolean;
  scheduled: boolean;
}

const css = (name: string, fallback: string): string => getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
const fmt = (b: number): string => `${Math.round(b).toLocaleString('en-US')} B`;
const shapes = (s: (number[] | null)[]): string => s.map((x) => (x ? x.join('×') : '?')).join(', ');

function showTooltip(canvas: HTMLCanvasElement, tooltip: TooltipModel<'bar' | 'line'>): void {
  const box = canvas.parentElement;
  if (!box) return;
  let tip = box.querySelector<HTMLDivElement>('.chart-tooltip');
  if (!tip) {
    tip = document.createElement('div');
    tip.className = 'chart-tooltip';
    tip.setAttribute('role', 'tooltip');
    tip.id = 'chart-tooltip';
    box.append(tip);
  }
  if (tooltip.opacity === 0) {
    tip.hidden = true;
    return;
  }
  const lines = [...tooltip.title, ...tooltip.body.flatMap((b) => b.lines), ...tooltip.afterBody];
  tip.replaceChildren(...lines.map((l, i) => {
    const line = document.createElement('div');
    line.textContent = l;
    if (i === 0) line.className = 'title';
    return line;
  }));
  tip.hidden = false;
  // Keep it inside the box: to the left of the caret when the caret is in the right half.
  const left = tooltip.caretX > canvas.clientWidth / 2 ? Math.max(0, tooltip.caretX - tip.offsetWidth - 12) : tooltip.caretX + 12;
  tip.style.left = `${left}px`;
  tip.style.top = `${Math.max(0, Math.min(tooltip.caretY, canvas.clientHeight - tip.offsetHeight))}px`;
}

/** Hides the tooltip (a redraw, the pointer leaving the chart, the view losing focus: it must not linger over what
 *  comes next, the quick pick included). */
export function hideTooltip(): void {
  document.querySelectorAll<HTMLDivElement>('.chart-tooltip').forEach((tip) => { tip.hidden = true; });
}

export function drawChart(canvas: HTMLCanvasElement, d: MemoryViewData, o: ChartOptions, previous: Chart | null): Chart {
  previous?.destroy();
  hideTooltip();
  canvas.addEventListener('mouseleave', hideTooltip);
  const useSchedule = o.scheduled && d.scheduledPeakBytes !== null;
  const perLayerLive = d.layers.map((l) => l.liveBytes);
  const scheduledLive = d.layers.map((l) => l.scheduledLiveBytes ?? l.liveBytes);
  const live = useSchedule ? scheduledLive : perLayerLive;
  const groupOf = (steps: number[], label: string): { label: string; value: number; ghost: number; steps: number[]; stage: boolean } => ({
    label, steps,
    value: steps.reduce((m, s) => Math.max(m, live[s]!), 0),
    ghost: steps.reduce((m, s) => Math.max(m, perLayerLive[s]!), 0),
    stage: steps.some((s) => d.layers[s]!.inPatchStage),
  });
  const groups = o.perLayer
    ? d.layers.map((l) => groupOf([l.index], `#${l.index} ${l.op}`))
    : d.blocks.map((b) => groupOf(d.layers.slice(b.firstStep, b.lastStep + 1).map((l) => l.index), b.name));
  const normal = css('--vscode-charts-blue', '#3794ff');
  const stage = css('--vscode-charts-purple', '#b180d7');
  const limit = css('--vscode-charts-red', '#f14c4c');
  const text = css('--vscode-foreground', '#cccccc');
  const budget = d.target.sramBytes - d.target.reserveBytes;
  // One scale for both views (with and without the schedule): the per-layer peak, the schedule's and the limit fit.
  const top = Math.max(budget, ...perLayerLive, ...scheduledLive, 1);
  const step = byteAxisStep(top * 1.1);
  const yMax = Math.ceil((top * 1.1) / step) * step;
  const colour = (g: (typeof groups)[number]): string => (g.value > budget ? limit : g.stage && useSchedule ? stage : normal);
  const peakIndex = groups.reduce((best, g, i) => (g.value > groups[best]!.value ? i : best), 0);
  const lastStage = useSchedule ? groups.map((g) => g.stage).lastIndexOf(true) : -1;
  // What the chart shows, for screen readers and the UI test.
  Object.assign(canvas.dataset, {
    yMax: String(yMax), yStep: String(step), over: String(groups.filter((g) => g.value > budget).length),
    ghost: useSchedule ? 'per layer' : '', peak: `peak ${formatBytes(groups[peakIndex]?.value ?? 0)}`, stageEnd: lastStage >= 0 ? groups[lastStage]!.label : '',
  });
  const marks: Plugin<'bar' | 'line'> = {
    id: 'mcuMarks',
    afterDatasetsDraw(chart) {
      const meta = chart.getDatasetMeta(0);
      const ctx = chart.ctx;
      ctx.save();
      ctx.fillStyle = text;
      ctx.strokeStyle = text;
      ctx.font = '11px sans-serif';
      ctx.textAlign = 'center';
      const bar = meta.data[peakIndex];
      if (bar) ctx.fillText(canvas.dataset.peak!, bar.x, Math.max(10, bar.y - 5));
      const end = meta.data[lastStage];
      const next = meta.data[lastStage + 1];
      if (end) {
        // The end of the patch stage: a dashed line after its last bar.
        const x = next ? (end.x + next.x) / 2 : end.x + 8;
        ctx.setLineDash([3, 3]);
        ctx.beginPath();
        ctx.moveTo(x, chart.chartArea.top);
        ctx.lineTo(x, chart.chartArea.bottom);
        ctx.stroke();
        ctx.textAlign = 'left';
        ctx.fillText('patch stage ◀', x + 3, chart.chartArea.top + 10);
      }
      ctx.restore();
    },
  };
  const config: ChartConfiguration<'bar' | 'line'> = {
    type: 'bar',
    data: {
      labels: groups.map((g) => g.label),
      datasets: [
        { type: 'bar', label: useSchedule ? (d.schedule ? 'live bytes (with schedule)' : 'live bytes (line-buffered)') : 'live bytes (per layer)', data: groups.map((g) => g.value), backgroundColor: groups.map(colour), grouped: false, order: 1 },
        { type: 'line', label: `SRAM available (${d.target.name})`, data: groups.map(() => budget), borderColor: limit, borderDash: [6, 4], pointRadius: 0, borderWidth: 2, order: 0 },
        // Behind the scheduled bars, the per-layer ones they replace.
        ...(useSchedule ? [{ type: 'bar' as const, label: 'live bytes (per layer)', data: groups.map((g) => g.ghost), backgroundColor: `${normal}40`, borderColor: normal, borderWidth: 1, grouped: false, order: 2 }] : []),
      ],
    },
    plugins: [marks],
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'index', intersect: false },
      scales: {
        x: { ticks: { color: text, autoSkip: true, maxRotation: 60 } },
        y: { min: 0, max: yMax, ticks: { color: text, stepSize: step, callback: (v) => formatAxisBytes(Number(v)) }, beginAtZero: true },
      },
      plugins: {
        legend: { labels: { color: text } },
        // Drawn as a DOM element (themed like VS Code's hovers, readable by screen readers and by the UI test), not on the canvas.
        tooltip: {
          enabled: false,
          external: ({ chart, tooltip }) => showTooltip(chart.canvas, tooltip),
          callbacks: {
            label: (item: TooltipItem<'bar' | 'line'>) => `${item.dataset.label ?? ''}: ${fmt(Number(item.raw))} (${formatBytes(Number(item.raw))})`,
            afterBody: (items: TooltipItem<'bar' | 'line'>[]) => {
              const g = groups[items[0]?.dataIndex ?? -1];
              if (!g) return [];
              const lines: string[] = [];
              for (const s of g.steps.slice(0, 6)) {
                const l = d.layers[s]!;
                lines.push(`#${l.index} ${l.op} '${l.name}'`, `  in ${shapes(l.inputShapes)} (${fmt(l.inputBytes)}) → out ${shapes(l.outputShapes)} (${fmt(l.outputBytes)})`,
                  `  live ${fmt(live[s]!)}, weights ${fmt(l.weightsBytes)}, MACs ${l.macs.toLocaleString('en-US')}`);
              }
              if (g.steps.length > 6) lines.push(`… ${g.steps.length - 6} more`);
              return lines;
            },
          },
        },
      },
    },
  };
  return new Chart(canvas, config);
}
