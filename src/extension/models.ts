// The analysed models: one entry per model URI, recomputed when the model file, its deployment file or the settings
// change (file watchers), with an event the views, diagnostics and status bar listen to. The pipeline runs in a worker
// thread per model (./analysis), behind withProgress: the extension host never blocks on a model, and cancelling ends
// the thread whatever the model's size. A broken model is an entry with its error, never an unhandled rejection.
import * as vscode from 'vscode';
import type { CodegenOptions, CodegenOutput, CoreError, Finding, ModelReport, Result } from '../core/index';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { engine } from './engine';
import { Config } from './config';
import { AnalysisWorker, CANCELLED } from './analysis';

/** A model as the pipeline left it: its report, or the error. */
export type ModelEntry = { uri: vscode.Uri; report: ModelReport; error?: undefined } | { uri: vscode.Uri; report?: undefined; error: CoreError };

export const deploymentUri = (model: vscode.Uri): vscode.Uri => model.with({ path: engine().deploymentFileName(model.path) });
export const isModel = (uri: vscode.Uri): boolean => /\.(onnx|tflite)$/i.test(uri.path);

/** A file's bytes: local files with Node's fs (VS Code's file system API costs 30–250 ms a call in a remote window,
 *  on the way to the first chart), other schemes through VS Code. */
async function readBytes(uri: vscode.Uri): Promise<Uint8Array> {
  return uri.scheme === 'file' ? fs.readFile(uri.fsPath) : vscode.workspace.fs.readFile(uri);
}

async function sizeOf(uri: vscode.Uri): Promise<number> {
  try {
    return uri.scheme === 'file' ? (await fs.stat(uri.fsPath)).size : (await vscode.workspace.fs.stat(uri)).size;
  } catch {
    return 0;
  }
}

/** Models above this size get a cancellable notification while they are analysed; smaller ones a status-bar spinner. */
const BIG_MODEL_BYTES = 4 * 1024 * 1024;

export class ModelStore implements vscode.Disposable {
  private readonly entries = new Map<string, ModelEntry>();
  private readonly watchers = new Map<string, vscode.Disposable[]>();
  /** Per model, the number of the latest analysis started: an older one that finishes later is dropped. */
  private readonly generation = new Map<string, number>();
  private readonly changed = new vscode.EventEmitter<ModelEntry>();
  readonly onDidChange = this.changed.event;
  private readonly closed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidClose = this.closed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed, this.closed];
  /** Per model, its analysis thread (it keeps the opened graph for C export). */
  private readonly workers = new Map<string, AnalysisWorker>();
  /** A thread no model uses, already compiled: started by warmUp, or left by a closed model. The next model opened
   *  takes it (a new thread spends 100–200 ms loading and compiling the engine before its first analysis). */
  private spare: AnalysisWorker | null = null;
  /** Per model, the source that cancels the analysis in flight when a newer one starts. */
  private readonly inFlight = new Map<string, vscode.CancellationTokenSource>();

  constructor(private readonly config: Config, private readonly workerScript: string) {
    // Trusting the workspace lifts Restricted Mode's limits on the deployment file: analyse again.
    this.disposables.push(vscode.workspace.onDidGrantWorkspaceTrust(() => void this.refreshAll()));
    this.disposables.push(vscode.workspace.onDidChangeConfiguration((e) => {
      if (Config.affects(e)) void this.refreshAll();
    }));
  }

  get(uri: vscode.Uri): ModelEntry | undefined {
    return this.entries.get(uri.toString());
  }

  all(): ModelEntry[] {
    return [...this.entries.values()];
  }

  /** Analyses the model (again) and starts watching it and its deployment file. */
  async open(uri: vscode.Uri): Promise<ModelEntry> {
    const key = uri.toString();
    // Its thread loads the engine while the model is read and the Memory View's webview is created.
    this.workerOf(uri).prepare();
    if (!this.watchers.has(key)) this.watch(uri);
    const generation = (this.generation.get(key) ?? 0) + 1;
    this.generation.set(key, generation);
    const size = await sizeOf(uri);
    const big = size > BIG_MODEL_BYTES;
    const name = uri.path.split('/').pop()!;
    // A newer analysis of the same model ends the one in flight (its thread is stopped, not just its result dropped).
    this.inFlight.get(key)?.cancel();
    const source = new vscode.CancellationTokenSource();
    this.inFlight.set(key, source);
    const entry = await vscode.window.withProgress(
      { location: big ? vscode.ProgressLocation.Notification : vscode.ProgressLocation.Window, title: `MCU Memory: analysing ${name}`, cancellable: big },
      (_progress, token) => {
        const sub = token.onCancellationRequested(() => source.cancel());
        return this.analyze(uri, source.token).finally(() => sub.dispose());
      },
    );
    if (this.inFlight.get(key) === source) this.inFlight.delete(key);
    source.dispose();
    if (this.generation.get(key) !== generation) return this.entries.get(key) ?? entry;
    this.entries.set(key, entry);
    this.changed.fire(entry);
    return entry;
  }

  /** Adds a finding to a model's report until its next analysis (a failed C export); views and Problems update. */
  addFinding(uri: vscode.Uri, finding: Finding): void {
    const entry = this.entries.get(uri.toString());
    if (!entry?.report) return;
    entry.report.findings = [...entry.report.findings.filter((f) => f.code !== finding.code), finding];
    this.changed.fire(entry);
  }

  /** Starts the spare thread and has it analyse the bundled examples (activation in a workspace with models); not
   *  when a model is open already (its thread becomes the spare when it closes). Resolves with an example's report. */
  warmUp(): Promise<ModelReport | null> {
    if (this.spare || this.workers.size > 0) return Promise.resolve(null);
    this.spare = new AnalysisWorker(this.workerScript);
    return this.spare.run({ type: 'warm' }).then((r) => (r.ok && 'report' in r ? r.report : null));
  }

  /** Forgets a model whose Memory View closed: its watchers stop and its diagnostics go; its thread, if it is not
   *  busy, drops the graph and becomes the spare. */
  close(uri: vscode.Uri): void {
    const key = uri.toString();
    this.inFlight.get(key)?.cancel();
    const worker = this.workers.get(key);
    if (worker?.idle) {
      this.spare?.stop();
      this.spare = worker;
      void worker.run({ type: 'forget' });
    } else worker?.stop();
    this.workers.delete(key);
    this.entries.delete(key);
    this.generation.delete(key);
    for (const d of this.watchers.get(key) ?? []) d.dispose();
    this.watchers.delete(key);
    this.closed.fire(uri);
  }

  async refreshAll(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => this.open(e.uri)));
  }

  private watch(uri: vscode.Uri): void {
    const base = vscode.Uri.joinPath(uri, '..');
    const name = uri.path.split('/').pop()!;
    const disposables: vscode.Disposable[] = [];
    for (const pattern of [name, `${name}.mcu.json`]) {
      const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(base, pattern));
      const again = (): void => { if (this.entries.has(uri.toString())) void this.open(uri); };
      disposables.push(w, w.onDidChange(again), w.onDidCreate(again), w.onDidDelete(again));
    }
    this.watchers.set(uri.toString(), disposables);
  }

  private workerOf(uri: vscode.Uri): AnalysisWorker {
    const key = uri.toString();
    let w = this.workers.get(key);
    if (!w) {
      w = this.spare ?? new AnalysisWorker(this.workerScript);
      this.spare = null;
      this.workers.set(key, w);
    }
    return w;
  }

  private async analyze(uri: vscode.Uri, token: vscode.CancellationToken): Promise<ModelEntry> {
    let bytes: Uint8Array;
    try {
      bytes = await readBytes(uri);
    } catch (e) {
      return { uri, error: { code: 'empty-file', message: `cannot read the model: ${e instanceof Error ? e.message : String(e)}` } };
    }
    let deploymentText: string | null = null;
    try {
      deploymentText = new TextDecoder().decode(await readBytes(deploymentUri(uri)));
    } catch {
      // No deployment file: settings give the defaults.
    }
    if (token.isCancellationRequested) return { uri, error: { ...CANCELLED } };
    // ONNX external data is checked next to local models; elsewhere (remote schemes) it is reported as unsupported.
    const r = await this.workerOf(uri).run({
      type: 'analyze', bytes, fileName: uri.path, dir: uri.scheme === 'file' ? path.dirname(uri.fsPath) : null,
      base: engine().settingsLayers(this.config.settings()), deploymentText, restricted: !vscode.workspace.isTrusted,
    }, token);
    return r.ok && 'report' in r ? { uri, report: r.report } : { uri, error: r.ok ? { code: 'internal', message: 'unexpected reply' } : r.error };
  }

  /** C export of the model as last analysed, from the graph its worker opened. */
  async codegen(uri: vscode.Uri, options: CodegenOptions, token: vscode.CancellationToken): Promise<Result<CodegenOutput> | null> {
    const r = await this.workerOf(uri).run({ type: 'codegen', options }, token);
    if (!r.ok) return r.error.code === 'cancelled' ? null : { ok: false, error: r.error };
    return 'codegen' in r ? { ok: true, value: r.codegen } : { ok: false, error: { code: 'internal', message: 'unexpected reply' } };
  }

  /** The model file with our arena plan as OfflineMemoryAllocation (stock TFLM), from its worker's graph. */
  async optimizeForTflm(uri: vscode.Uri, token: vscode.CancellationToken): Promise<Result<{ bytes: Uint8Array; before: number; after: number }> | null> {
    const r = await this.workerOf(uri).run({ type: 'optimize' }, token);
    if (!r.ok) return r.error.code === 'cancelled' ? null : { ok: false, error: r.error };
    return 'optimized' in r ? { ok: true, value: { bytes: r.optimized, before: r.before, after: r.after } } : { ok: false, error: { code: 'internal', message: 'unexpected reply' } };
  }

  dispose(): void {
    this.spare?.stop();
    for (const w of this.workers.values()) w.stop();
    for (const ds of this.watchers.values()) for (const d of ds) d.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
