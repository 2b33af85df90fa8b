// The analysed models: one entry per model URI, recomputed when the model file, its deployment file or the settings
// change (file watchers), with an event the views, diagnostics and status bar listen to. Analysis runs off the UI
// path behind withProgress; a broken model is an entry with its error, never an unhandled rejection.
import * as vscode from 'vscode';
import { analyzeModel, effectiveSettings, openModel, parseDeployment, type CoreError, type ModelReport } from '../core/index';
import { Config } from './config';

export type ModelEntry = { uri: vscode.Uri; report: ModelReport; error?: undefined } | { uri: vscode.Uri; report?: undefined; error: CoreError };

export const deploymentUri = (model: vscode.Uri): vscode.Uri => model.with({ path: `${model.path}.mcu.json` });
export const isModel = (uri: vscode.Uri): boolean => /\.(onnx|tflite)$/i.test(uri.path);

export class ModelStore implements vscode.Disposable {
  private readonly entries = new Map<string, ModelEntry>();
  private readonly watchers = new Map<string, vscode.Disposable[]>();
  private readonly changed = new vscode.EventEmitter<ModelEntry>();
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];

  constructor(private readonly config: Config) {
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
    if (!this.watchers.has(key)) this.watch(uri);
    const entry = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: `MCU Memory: analysing ${uri.path.split('/').pop()}` },
      () => this.analyze(uri),
    );
    this.entries.set(key, entry);
    this.changed.fire(entry);
    return entry;
  }

  close(uri: vscode.Uri): void {
    const key = uri.toString();
    this.entries.delete(key);
    for (const d of this.watchers.get(key) ?? []) d.dispose();
    this.watchers.delete(key);
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

  private async analyze(uri: vscode.Uri): Promise<ModelEntry> {
    let bytes: Uint8Array;
    try {
      bytes = await vscode.workspace.fs.readFile(uri);
    } catch (e) {
      return { uri, error: { code: 'empty-file', message: `cannot read the model: ${e instanceof Error ? e.message : String(e)}` } };
    }
    let deploymentText = '';
    try {
      deploymentText = new TextDecoder().decode(await vscode.workspace.fs.readFile(deploymentUri(uri)));
    } catch {
      // No deployment file: settings give the defaults.
    }
    const opened = openModel(bytes, { fileName: uri.path });
    if (!opened.ok) return { uri, error: opened.error };
    const eff = effectiveSettings(this.config.settings(), parseDeployment(deploymentText));
    try {
      return { uri, report: analyzeModel(opened.value, uri.path.split('/').pop()!, eff) };
    } catch (e) {
      return { uri, error: { code: 'internal', message: `analysis failed: ${e instanceof Error ? e.message : String(e)}` } };
    }
  }

  dispose(): void {
    for (const ds of this.watchers.values()) for (const d of ds) d.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
