// What the Memory View's two canvases (chart.ts, arena.ts) share: theme colours, a context sized to the element at the
// device's pixel ratio, and the DOM tooltip's lines.

/** A VS Code theme colour (a CSS variable on the body), or the fallback. */
export const css = (name: string, fallback: string): string => getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;

/** The canvas sized to its element (or the fallback size) at the device's pixel ratio, with a context drawing in CSS
 *  pixels; null without a 2-D context. */
export function sizedContext(canvas: HTMLCanvasElement, fallback: { width: number; height: number }): { ctx: CanvasRenderingContext2D; width: number; height: number } | null {
  const dpr = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || fallback.width;
  const height = canvas.clientHeight || fallback.height;
  canvas.width = Math.round(width * dpr);
  canvas.height = Math.round(height * dpr);
  const ctx = canvas.getContext('2d');
  if (!ctx) return null;
  ctx.scale(dpr, dpr);
  return { ctx, width, height };
}

/** The tooltip's text, one line per element, the first one bold. */
export function setTooltipLines(tip: HTMLElement, lines: readonly string[]): void {
  tip.replaceChildren(...lines.map((l, i) => {
    const line = document.createElement('div');
    line.textContent = l;
    if (i === 0) line.className = 'title';
    return line;
  }));
}
