// Memory View webview (bundled by esbuild for the browser). Ready handshake with the host; renders the header with
// SRAM/Flash gauges, the chart, schedules with Apply, the findings and the layer table; view options are kept with
// setState so the view comes back as it was when the tab is shown again.
import type { FromWebview, Gauge, MemoryViewData, ToWebview } from '../src/shared/protocol';
import { drawArena } from './arena';
import { drawChart, hideTooltip, type MemoryChart } from './chart';
import { button, checkbox, tag } from './controls';
import { formatBytes } from '../src/core/units';

interface ViewState {
  perLayer: boolean;
  scheduled: boolean;
  scrollY: number;
}

interface VsCodeApi {
  postMessage(message: FromWebview): void;
  getState(): ViewState | undefined;
  setState(state: ViewState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const api = acquireVsCodeApi();
const state: ViewState = { perLayer: false, scheduled: true, scrollY: 0, ...api.getState() };
const save = (): void => api.setState(state);
let chart: MemoryChart | null = null;
let data: MemoryViewData | null = null;

const n = (v: number): string => Math.round(v).toLocaleString('en-US');

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

function gaugeRow(g: Gauge): HTMLElement {
  const pct = Number.isFinite(g.percent) ? g.percent : 999;
  const bar = el('div', { class: `gauge-fill ${g.level}`, role: 'presentation' });
  bar.style.width = `${Math.min(100, pct)}%`;
  return el('tr', {},
    el('th', { scope: 'row' }, g.region, ...(g.speed ? [el('span', { class: 'speed' }, ` ${g.speed}`)] : [])),
    el('td', { class: 'num' }, `${g.atLeast ? '≥ ' : ''}${n(g.used)}`),
    el('td', { class: 'num' }, n(g.size)),
    el('td', { class: 'gauge-cell' }, el('div', { class: 'gauge', role: 'meter', 'aria-valuenow': String(Math.round(pct)), 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-label': `${g.region} used` }, bar)),
    el('td', { class: `num ${g.level}` }, `${g.atLeast ? '≥ ' : ''}${pct >= 999 ? '>999' : pct.toFixed(1)}%`),
    el('td', { class: 'num' }, n(g.free)),
  );
}

function render(d: MemoryViewData): void {
  const root = document.getElementById('root')!;
  root.replaceChildren();
  const io = (label: string, ts: MemoryViewData['inputs']): string => ts.map((t) => `${label} '${t.name}': ${t.shape ? t.shape.join('×') : '?'} ${t.dtype}`).join('; ');
  root.append(
    el('header', {},
      el('h1', {}, d.fileName),
      el('p', { class: 'facts' }, `${d.format.toUpperCase()} · ${d.layers.length} executed operators · ${n(d.macs)} MACs · weights ${formatBytes(d.flashBytes)}`),
      el('p', { class: 'facts' }, `${io('input', d.inputs)} → ${io('output', d.outputs)}`),
    ),
  );

  if (d.incomplete) {
    const i = d.incomplete;
    root.append(el('section', { class: 'banner incomplete', role: 'alert', 'aria-label': 'Incomplete analysis' },
      el('strong', {}, 'INCOMPLETE: '),
      `${i.count} of ${i.total} operators could not be sized (${i.first.join(', ')}${i.count > i.first.length ? ', …' : ''}). ` +
      'Figures are lower bounds ("at least"), and no verdict says the model fits.'));
  }
  const target = el('section', { 'aria-label': 'Target' },
    el('h2', {}, `Target ${d.target.name}: `, el('span', { class: `verdict ${d.status === 'incomplete' ? 'warn' : d.status === 'does-not-fit' ? 'over' : 'ok'}` }, d.verdict),
      ...(d.asInt8 === true ? [' ', tag('as int8 (what-if)')] : [])),
    el('table', { class: 'gauges' },
      el('thead', {}, el('tr', {}, ...['Region', 'Used', 'Size', '', '%', 'Free'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, ...(d.ramRegions ?? [d.sram]).map(gaugeRow), gaugeRow(d.flash)),
    ),
    el('p', {}, `Peak SRAM ${d.incomplete ? 'at least ' : ''}${n(d.perLayerPeakBytes)} B per layer${d.scheduledPeakBytes !== null ? `, ${n(d.scheduledPeakBytes)} B ${d.schedule ? 'with the patch schedule' : 'line-buffered'}` : ''}${d.target.reserveBytes ? `; reserve ${n(d.target.reserveBytes)} B` : ''}.`),
  );
  target.append(el('div', { class: 'actions' },
    ...(d.status === 'does-not-fit' ? [button('Make It Fit…', () => api.postMessage({ type: 'makeItFit' }), { appearance: 'primary' })] : []),
    button('Select Target…', () => api.postMessage({ type: 'selectTarget' })),
    ...(d.asInt8 === false ? [button('What If int8?', () => api.postMessage({ type: 'setInt8', on: true }), { title: 'Count every tensor as 1 byte, as after int8 quantization (writes conventions.asInt8 into the deployment file)' })] : []),
    ...(d.asInt8 === true ? [button('Back to the Model\'s Types', () => api.postMessage({ type: 'setInt8', on: false }), { title: 'Count each tensor with its own type again' })] : []),
    button('Open Layer Listing', () => api.postMessage({ type: 'openListing' })),
    button('Export Report', () => api.postMessage({ type: 'exportReport' })),
    button('Generate C Code', () => api.postMessage({ type: 'generateC' }), { appearance: 'primary', disabled: !d.generateC.enabled, title: d.generateC.reason }),
  ));
  root.append(target);
  if (d.tflm) root.append(tflmSection(d.tflm, d.runtime));

  const canvas = el('canvas', { id: 'chart', role: 'img', 'aria-label': 'Live bytes per block in execution order, with the SRAM limit' });
  const chartSection = el('section', { 'aria-label': 'Memory chart' },
    el('h2', {}, 'Memory per block'),
    el('div', { class: 'actions' },
      checkbox('per layer', state.perLayer, (v) => { state.perLayer = v; save(); redrawChart(); }),
      // Without a schedule in force there is nothing to show with it: the box is off and disabled.
      checkbox(d.lineBuffered?.inForce ? 'line-buffered' : 'with patch schedule', state.scheduled && d.scheduledPeakBytes !== null, (v) => { state.scheduled = v; save(); redrawChart(); },
        d.scheduledPeakBytes === null ? { disabled: true, title: 'No patch schedule or line-buffered plan is in force (Apply one below, or Make It Fit…)' } : {}),
    ),
    el('div', { class: 'chart-box' }, canvas),
  );
  root.append(chartSection);
  // The figures first, the chart right after them (a few ms on a canvas), in the same frame.
  queueMicrotask(() => {
    chart = drawChart(canvas, d, state, chart);
    mark('chart');
  });

  // The arena as planned: buffers as rectangles (step across, offset up).
  const arenaCanvas = el('canvas', { id: 'arena', role: 'img', 'aria-label': 'Arena plan: one rectangle per buffer, execution step across, arena offset up' });
  const arenaTip = el('div', { class: 'chart-tooltip', id: 'arena-tooltip', role: 'tooltip' });
  arenaTip.hidden = true;
  const ar = d.arena;
  root.append(el('section', { 'aria-label': 'Arena plan' },
    el('h2', {}, `Arena plan${ar.scheduled ? ' (with the patch schedule)' : d.lineBuffered?.inForce ? ' (line-buffered)' : ''}: ${n(ar.sizeBytes)} B`),
    el('p', { class: 'facts' }, `${ar.rects.length} buffers${ar.hidden ? ` (the ${n(ar.hidden)} smallest not drawn)` : ''} · blue: tensors${ar.scheduled ? ' · purple: tile buffers · orange: the stage output' : ''}${d.lineBuffered?.inForce ? ' · green: rings of rows' : ''} · dashed: the peak step`),
    el('div', { class: 'arena-box' }, arenaCanvas, arenaTip)));
  requestAnimationFrame(() => drawArena(arenaCanvas, arenaTip, ar));

  const sched = el('section', { 'aria-label': 'Patch schedules' }, el('h2', {}, 'Patch schedules'));
  sched.append(el('p', {}, d.schedule
    ? `In force: ${d.schedule.tiles.join('×')} tiles after #${d.schedule.split.index} ${d.schedule.split.op} — ${d.scheduleWhy}.`
    : `In force: ${d.scheduleWhy}.`));
  const list = el('ul', { class: 'candidates' });
  for (const c of d.candidates) {
    list.append(el('li', {}, `${c.title} (arena ${n(c.report.arenaBytes)} B) `,
      c.applied ? tag('applied') : button('Apply', () => api.postMessage({ type: 'applySchedule', setting: c.setting }))));
  }
  if (d.candidates.length === 0) list.append(el('li', {}, 'No schedule lowers the peak.'));
  sched.append(list, el('div', { class: 'actions' },
    button('Use the best automatically', () => api.postMessage({ type: 'applySchedule', setting: 'auto' })),
    d.lineBuffered?.inForce ? tag('line-buffered in force') : button('Stream Rows (Line-Buffered)', () => api.postMessage({ type: 'applySchedule', setting: 'lines' })),
    button('Run layer by layer', () => api.postMessage({ type: 'applySchedule', setting: 'none' })),
  ));
  if (d.lineBuffered) {
    const l = d.lineBuffered;
    sched.append(el('p', { class: 'facts' }, `Line-buffered${l.inForce ? ' (in force)' : ''}: peak ${n(l.peakBytes)} B, arena ${n(l.arenaBytes)} B, +${(l.overhead * 100).toFixed(1)}% MACs, ${n(l.calls)} kernel calls; streamed: ${l.segments.join(', ')}.`));
  }
  root.append(sched);

  if (d.findings.length > 0) {
    root.append(el('section', { 'aria-label': 'Findings' }, el('h2', {}, 'Findings'),
      el('ul', {}, ...d.findings.map((f) => el('li', { class: f.severity }, `${f.severity}: ${f.message}`)))));
  }

  const head = ['#', 'op', 'name', 'input', 'output', 'act B', 'live B', 'weights B', 'MACs'];
  const rows = d.layers.map((l) => {
    const live = state.scheduled && l.scheduledLiveBytes !== null ? l.scheduledLiveBytes : l.liveBytes;
    const tr = el('tr', { tabindex: '0', class: l.inPatchStage ? 'stage' : '', title: `#${l.index} ${l.op} '${l.name}': in ${n(l.inputBytes)} B, out ${n(l.outputBytes)} B, live ${n(live)} B, weights ${n(l.weightsBytes)} B, ${n(l.macs)} MACs` },
      el('td', { class: 'num' }, String(l.index)), el('td', {}, l.op), el('td', {}, l.name),
      el('td', {}, l.inputShapes.map((s) => (s ? s.join('×') : '?')).join(', ')), el('td', {}, l.outputShapes.map((s) => (s ? s.join('×') : '?')).join(', ')),
      el('td', { class: 'num' }, n(l.outputBytes)), el('td', { class: 'num' }, n(live)), el('td', { class: 'num' }, n(l.weightsBytes)), el('td', { class: 'num' }, n(l.macs)));
    tr.addEventListener('keydown', (e) => {
      const next = e.key === 'ArrowDown' ? tr.nextElementSibling : e.key === 'ArrowUp' ? tr.previousElementSibling : null;
      if (next instanceof HTMLElement) { next.focus(); e.preventDefault(); }
    });
    return tr;
  });
  root.append(el('section', { 'aria-label': 'Layers' }, el('h2', {}, 'Layers'),
    el('table', { class: 'layers' }, el('thead', {}, el('tr', {}, ...head.map((h) => el('th', { scope: 'col' }, h)))), el('tbody', {}, ...rows))));
  root.append(el('details', {}, el('summary', {}, 'Conventions'), el('ul', {}, ...d.conventions.map((c) => el('li', {}, c)))));
  window.scrollTo(0, state.scrollY);
}

/** TFLM's tensor arena: both figures, the breakdown, the declaration to paste. */
// Open when TFLM is the runtime in force; otherwise a one-line summary that unfolds.
function tflmSection(t: NonNullable<MemoryViewData['tflm']>, runtime: MemoryViewData['runtime']): HTMLElement {
  const title = `TFLM tensor arena (32-bit Cortex-M): ${'why' in t ? 'not predicted' : `${n(t.minBytes)} B`}${runtime === 'tflm' ? ' — the runtime in force' : ''}`;
  const s = el('details', { 'aria-label': 'TFLM tensor arena', class: 'tflm', ...(runtime === 'tflm' ? { open: '' } : {}) }, el('summary', {}, title));
  if ('why' in t) {
    s.append(el('p', {}, `Not predicted: ${t.why}.`));
    return s;
  }
  s.append(
    el('p', {}, `Smallest kTensorArenaSize ${n(t.minBytes)} B; arena_used_bytes() after AllocateTensors() ${n(t.usedBytes)} B.`),
    el('table', { class: 'tflm' },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Part'), el('th', { scope: 'col' }, 'Bytes'))),
      el('tbody', {}, ...t.parts.map((p) => el('tr', {}, el('td', {}, p.label), el('td', { class: 'num' }, n(p.bytes)))))),
    el('pre', { class: 'declaration', 'aria-label': 'Declaration to paste' }, t.declaration),
  );
  if (t.optimizedMinBytes !== null) {
    s.append(el('p', {}, `With our arena plan written into the file as OfflineMemoryAllocation, stock TFLM needs ${n(t.optimizedMinBytes)} B. `,
      button('Write TFLM-Optimized Model', () => api.postMessage({ type: 'writeTflmOptimized' }))));
  }
  return s;
}

/** Time to first chart, in ms since the webview was created: its script running, the analysis arriving, the figures
 *  on screen, the chart drawn (the first of each; read by the UI test from body[data-timing]). */
const timing: Record<string, number> = {};
function mark(what: 'script' | 'data' | 'figures' | 'chart'): void {
  if (timing[what] !== undefined) return;
  // The webview's creation as wall-clock time, so the UI test can count from the user's keypress.
  timing.origin ??= Math.round(performance.timeOrigin);
  timing[what] = Math.round(performance.now());
  document.body.dataset.timing = JSON.stringify(timing);
}

function show(d: MemoryViewData): void {
  mark('data');
  data = d;
  render(d);
  mark('figures');
}

function redrawChart(): void {
  const canvas = document.getElementById('chart');
  if (data && canvas instanceof HTMLCanvasElement) chart = drawChart(canvas, data, state, chart);
}

// A theme change (VS Code sets the body's class) redraws the canvases in the new colours.
new MutationObserver(() => { if (data) render(data); }).observe(document.body, { attributes: true, attributeFilter: ['class'] });
window.addEventListener('blur', hideTooltip);
document.addEventListener('visibilitychange', hideTooltip);
window.addEventListener('scroll', () => { state.scrollY = window.scrollY; save(); }, { passive: true });
window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const m = event.data;
  const root = document.getElementById('root');
  if (!root) return;
  if (m.type === 'show') show(m.data);
  else if (m.type === 'failed') {
    chart?.destroy();
    chart = null;
    root.replaceChildren(el('section', { class: 'error', role: 'alert' }, el('h1', {}, m.fileName), el('p', {}, `This model cannot be analysed: ${m.message}`), el('p', {}, `[${m.code}]`)));
  } else root.replaceChildren(el('p', { class: 'busy' }, m.message));
});
mark('script');
// The analysis the host wrote into the page when it had it before the page was made: drawn now, not after `ready`.
const inPage = document.getElementById('data')?.textContent;
if (inPage) show(JSON.parse(inPage) as MemoryViewData);
api.postMessage({ type: 'ready' });
