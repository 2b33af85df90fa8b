// The arena view: the memory plan as a picture (the one Deeploy and Vela users draw by hand). Execution step across,
// arena offset up, one rectangle per buffer for the steps it is alive; the peak step marked; hovering a rectangle
// names the tensor. With a patch schedule the tile buffers and the stage output have their own colours.
import type { ArenaRectView, MemoryViewData } from '../src/shared/protocol';
import { byteAxisStep, formatAxisBytes, formatBytes } from '../src/core/units';
import { css, setTooltipLines, sizedContext } from './canvas';


export function drawArena(canvas: HTMLCanvasElement, tip: HTMLElement, a: MemoryViewData['arena']): void {
  const sized = sizedContext(canvas, { width: 600, height: 260 });
  if (!sized) return;
  const { ctx, width, height } = sized;
  const text = css('--vscode-foreground', '#cccccc');
  const grid = css('--vscode-editorWidget-border', '#454545');
  const colours: Record<ArenaRectView['kind'], string> = {
    tensor: css('--vscode-charts-blue', '#3794ff'),
    'tile buffer': css('--vscode-charts-purple', '#b180d7'),
    'stage output': css('--vscode-charts-orange', '#d18616'),
    ring: css('--vscode-charts-green', '#89d185'),
  };
  const left = 64;
  const bottom = 22;
  const plotW = Math.max(10, width - left - 8);
  const plotH = Math.max(10, height - bottom - 8);
  const size = Math.max(1, a.sizeBytes);
  const step = byteAxisStep(size);
  const top = Math.ceil(size / step) * step;
  const x = (s: number): number => left + (s / Math.max(1, a.steps)) * plotW;
  const y = (b: number): number => 8 + plotH - (b / top) * plotH;
  ctx.font = '11px sans-serif';
  ctx.fillStyle = text;
  ctx.strokeStyle = grid;
  ctx.textAlign = 'right';
  for (let v = 0; v <= top; v += step) {
    ctx.beginPath();
    ctx.moveTo(left, y(v));
    ctx.lineTo(left + plotW, y(v));
    ctx.stroke();
    ctx.fillText(formatAxisBytes(v), left - 4, y(v) + 4);
  }
  ctx.textAlign = 'center';
  ctx.fillText('execution step →', left + plotW / 2, height - 6);
  const base = (r: ArenaRectView): number => a.regions[r.region]?.base ?? 0;
  const boxes = a.rects.map((r) => ({ r, x0: x(r.first), x1: x(r.last + 1), y0: y(base(r) + r.offset + r.size), y1: y(base(r) + r.offset) }));
  for (const b of boxes) {
    ctx.fillStyle = `${colours[b.r.kind]}b0`;
    ctx.fillRect(b.x0, b.y0, Math.max(1, b.x1 - b.x0 - 1), Math.max(1, b.y1 - b.y0 - 1));
  }
  if (a.regions.length > 1) {
    // Several memory regions: each region's arena above the one before, its name at its foot.
    ctx.strokeStyle = text;
    ctx.textAlign = 'left';
    for (const g of a.regions) {
      ctx.beginPath();
      ctx.moveTo(left, y(g.base));
      ctx.lineTo(left + plotW, y(g.base));
      ctx.stroke();
      ctx.fillStyle = text;
      if (g.bytes > 0) ctx.fillText(`${g.name}: ${formatBytes(g.bytes)}${g.lowerBound < g.bytes ? ` (lower bound ${formatBytes(g.lowerBound)})` : ' (at its lower bound)'}`, left + 4, y(g.base) - 3);
    }
    ctx.textAlign = 'center';
  }
  if (a.peakStep >= 0) {
    // The peak step: where the arena is fullest.
    const px = (x(a.peakStep) + x(a.peakStep + 1)) / 2;
    ctx.strokeStyle = css('--vscode-charts-red', '#f14c4c');
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    ctx.moveTo(px, 8);
    ctx.lineTo(px, 8 + plotH);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = text;
    ctx.fillText(`peak #${a.peakStep}`, Math.min(px, left + plotW - 30), 18);
  }
  canvas.dataset.rects = String(a.rects.length);
  canvas.dataset.regions = a.regions.map((g) => g.name).join(',');
  canvas.dataset.kinds = [...new Set(a.rects.map((r) => r.kind))].sort().join(',');
  canvas.onmousemove = (e): void => {
    const rect = canvas.getBoundingClientRect();
    const mx = e.clientX - rect.left;
    const my = e.clientY - rect.top;
    const hit = boxes.find((b) => mx >= b.x0 && mx < b.x1 && my >= b.y0 && my < b.y1);
    if (!hit) { tip.hidden = true; return; }
    const r = hit.r;
    const where = a.regions.length > 1 ? ` in ${a.regions[r.region]?.name ?? '?'}` : '';
    setTooltipLines(tip, [`'${r.name}'`, `${r.kind}: ${r.size.toLocaleString('en-US')} B (${formatBytes(r.size)}) at offset ${r.offset.toLocaleString('en-US')}${where}`, `alive from step #${r.first} to #${r.last}`]);
    tip.hidden = false;
    tip.style.left = `${Math.min(mx + 12, width - tip.offsetWidth - 4)}px`;
    tip.style.top = `${Math.max(0, my - tip.offsetHeight - 6)}px`;
  };
  canvas.onmouseleave = (): void => { tip.hidden = true; };
}
