// The Memory View: a CustomReadonlyEditorProvider for *.onnx and *.tflite. The webview gets a strict CSP with a
// nonce from crypto, its script and style written into its HTML under that nonce, and typed messages (src/shared/protocol):
// it posts `ready`, the host answers with `show` or `failed`, and sends `show` again whenever the model changes.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ModelReport } from '../core/index';
import type { FromWebview, ToWebview } from '../shared/protocol';
import { engine } from './engine';
import type { ModelEntry, ModelStore } from './models';
import type { StatusBar } from './status';

export const VIEW_TYPE = 'mcuMemory.memoryView';

/** How long a new Memory View waits for the analysis before its page is written without it (the figures then come
 *  with the answer to the webview's `ready`). */
const INLINE_WAIT_MS = 250;

export const GENERATE_C = { enabled: true, reason: 'Generate a C99 folder for this model with the schedule in force' };

/** What a Memory View has done, per model (read by the integration tests: proves the webview script ran under the CSP). */
export interface ViewTrace {
  ready: number;
  /** Milliseconds from resolving the editor to: the webview's first `ready`, the analysis in the store, the first
   *  `show` posted (the host's share of the time to first chart). */
  timeline: { ready?: number; analysed?: number; posted?: number };
  lastPosted: ToWebview['type'] | null;
  /** `show` messages posted, and analyses not posted because the view already shows the same data. */
  shows: number;
  unchanged: number;
  /** The first analysis was written into the page (not posted). */
  inlined: boolean;
}

export class MemoryViewProvider implements vscode.CustomReadonlyEditorProvider {
  readonly traces = new Map<string, ViewTrace>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly store: ModelStore,
    private readonly status: StatusBar,
    private readonly onMessage: (model: vscode.Uri, m: FromWebview) => void,
  ) {}

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => this.store.close(uri) };
  }

  async resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): Promise<void> {
    const { webview } = panel;
    webview.options = {
      enableScripts: true,
      // Nothing is loaded from disk: the script and style are in the page.
      localResourceRoots: [],
    };
    const t0 = performance.now();
    const resolvedAt = Date.now();
    const trace: ViewTrace = { ready: 0, timeline: {}, lastPosted: null, shows: 0, unchanged: 0, inlined: false };
    const at = (k: keyof ViewTrace['timeline']): void => { trace.timeline[k] ??= Math.round(performance.now() - t0); };
    this.traces.set(document.uri.toString(), trace);
    // The data last shown, serialised. Applying a schedule re-analyses and so does the deployment file's watcher; the
    // second, identical result is not posted (the webview would rebuild its DOM under the user's pointer).
    let shown: string | null = null;
    /** The analysis written into the page (see below), until the webview's first `ready`. */
    let inPage: ModelEntry | null = null;
    const post = (m: ToWebview): void => {
      trace.lastPosted = m.type;
      if (m.type === 'show') { trace.shows++; at('posted'); }
      void webview.postMessage(m);
    };
    /** `fresh`: the webview (re)started and has nothing on screen. Nothing is posted before the webview's first
     * `ready`: a message queued before its script ran would be shown, then shown again in answer to `ready`. */
    const send = (fresh: boolean): void => {
      const entry = this.store.get(document.uri);
      if (!entry) {
        if (fresh) post({ type: 'busy', message: 'Analysing…' });
        return;
      }
      at('analysed');
      if (panel.active) this.status.show(entry);
      if (trace.ready === 0) return;
      // The first `ready` of a page that already shows this very analysis: nothing to compute or post.
      const wasInPage = fresh && entry === inPage;
      inPage = null;
      if (wasInPage) { trace.unchanged++; return; }
      if (entry.error) {
        shown = null;
        post({ type: 'failed', fileName: document.uri.path.split('/').pop()!, message: entry.error.message, code: entry.error.code });
        return;
      }
      const data = engine().memoryViewData(entry.report, GENERATE_C);
      const json = JSON.stringify(data);
      if (json === shown && !fresh) { trace.unchanged++; return; }
      shown = json;
      post({ type: 'show', data });
    };
    const subscriptions = [
      webview.onDidReceiveMessage((m: FromWebview) => {
        if (m.type === 'ready') { trace.ready++; at('ready'); send(true); }
        else this.onMessage(document.uri, m);
      }),
      this.store.onDidChange((e) => { if (e.uri.toString() === document.uri.toString()) send(false); }),
      panel.onDidChangeViewState(() => { const e = this.store.get(document.uri); if (panel.active && e) this.status.show(e); }),
    ];
    let disposed = false;
    panel.onDidDispose(() => { disposed = true; subscriptions.forEach((s) => s.dispose()); });
    // The editor is shown at once (resolving does not wait for the analysis). Its HTML is set when the analysis is
    // done, or after INLINE_WAIT_MS: VS Code builds the webview's frame meanwhile, and an analysis done by then (a
    // warm thread takes tens of ms) is written into the page, drawn as its script runs, without the ready → show
    // round trip.
    const opened = this.store.open(document.uri);
    void Promise.race([opened.catch(() => undefined), new Promise<undefined>((ok) => setTimeout(ok, INLINE_WAIT_MS, undefined))]).then((entry) => {
      if (disposed) return;
      let data: string | null = null;
      if (entry?.report && !entry.error) {
        data = JSON.stringify(engine().memoryViewData(entry.report, GENERATE_C));
        shown = data;
        inPage = entry;
        trace.inlined = true;
      }
      webview.html = this.html(data, { resolved: resolvedAt, written: Date.now() });
    });
  }

  /** Loads the engine, reads the page's assets and builds a page from `report` (discarded): done once, while the
   *  window is idle, so that the first Memory View does not wait for it. */
  warmUp(report: ModelReport): void {
    this.html(JSON.stringify(engine().memoryViewData(report, GENERATE_C)), { resolved: 0, written: 0 });
  }

  /** The webview's script and style, read once. They are written into its HTML under the CSP nonce rather than
   *  fetched: a webview fetches its resources through VS Code's service worker, which took 70–90 ms of the time to
   *  first chart. A `</script` or `</style` in them is escaped so that it cannot end the element early. */
  private assets: { script: string; style: string } | null = null;

  private inline(): { script: string; style: string } {
    const read = (...p: string[]): string => readFileSync(path.join(this.extensionUri.fsPath, ...p), 'utf8');
    this.assets ??= {
      script: read('dist', 'webview.js').replace(/<\/(script)/gi, '<\\/$1'),
      style: read('media', 'memory-view.css').replace(/<\/(style)/gi, '\\3C/$1'),
    };
    return this.assets;
  }

  /** `data`: the Memory View's data as JSON, written into the page (`<` escaped: no text in it can end the element).
   *  `host`: when the editor was resolved and the page written (wall-clock ms, read by the time-to-first-chart bench). */
  private html(data: string | null, host: { resolved: number; written: number }): string {
    const nonce = randomBytes(16).toString('base64');
    const { script, style } = this.inline();
    const csp = [
      "default-src 'none'",
      // Only the page's own <style> and <script> elements, by their nonce; no resource is fetched.
      `style-src 'nonce-${nonce}'`,
      `script-src 'nonce-${nonce}'`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<style nonce="${nonce}">${style}</style>
<title>Memory View</title>
</head>
<body data-host="${host.resolved},${host.written}">
<div id="root">Loading…</div>
${data !== null ? `<script nonce="${nonce}" type="application/json" id="data">${data.replace(/</g, '\\u003c')}</script>\n` : ''}<script nonce="${nonce}">${script}</script>
</body>
</html>`;
  }
}
