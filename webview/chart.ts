// The per-block / per-layer memory chart (Chart.js, bundled): live bytes per step or per block in execution order,
// the patch stage in another colour, the SRAM limit as a line; hovering a bar shows the layer's sizes.
import {
  BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip,
  type ChartConfiguration, type TooltipItem, type TooltipModel,
} from 'chart.js';
import type { MemoryViewData } from '../src/shared/protocol';

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

export function drawChart(canvas: HTMLCanvasElement, d: MemoryViewData, o: ChartOptions, previous: Chart | null): Chart {
  previous?.destroy();
  const useSchedule = o.scheduled && d.schedule !== null;
  const live = d.layers.map((l) => (useSchedule ? l.scheduledLiveBytes ?? l.liveBytes : l.liveBytes));
  const groups = o.perLayer
    ? d.layers.map((l, i) => ({ label: `#${l.index} ${l.op}`, value: live[i]!, steps: [l.index], stage: l.inPatchStage }))
    : d.blocks.map((b) => {
      const steps = d.layers.slice(b.firstStep, b.lastStep + 1).map((l) => l.index);
      return { label: b.name, value: steps.reduce((m, s) => Math.max(m, live[s]!), 0), steps, stage: steps.some((s) => d.layers[s]!.inPatchStage) };
    });
  const normal = css('--vscode-charts-blue', '#3794ff');
  const stage = css('--vscode-charts-purple', '#b180d7');
  const limit = css('--vscode-charts-red', '#f14c4c');
  const text = css('--vscode-foreground', '#cccccc');
  const budget = d.target.sramBytes - d.target.reserveBytes;
  const config: ChartConfiguration<'bar' | 'line'> = {
    type: 'bar',
    data: {
      labels: groups.map((g) => g.label),
      datasets: [
        { type: 'bar', label: useSchedule ? 'live bytes (with schedule)' : 'live bytes (per layer)', data: groups.map((g) => g.value), backgroundColor: groups.map((g) => (g.stage && useSchedule ? stage : normal)) },
        { type: 'line', label: `SRAM available (${d.target.name})`, data: groups.map(() => budget), borderColor: limit, borderDash: [6, 4], pointRadius: 0, borderWidth: 2 },
      ],
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'index', intersect: false },
      scales: {
        x: { ticks: { color: text, autoSkip: true, maxRotation: 60 } },
        y: { ticks: { color: text, callback: (v) => `${Math.round(Number(v) / 1024)} KiB` }, beginAtZero: true },
      },
      plugins: {
        legend: { labels: { color: text } },
        // Drawn as a DOM element (themed like VS Code's hovers, readable by screen readers and by the UI test), not on the canvas.
        tooltip: {
          enabled: false,
          external: ({ chart, tooltip }) => showTooltip(chart.canvas, tooltip),
          callbacks: {
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
