// Findings → the Problems panel: on the model file (the Memory View's document) and on the lines of its listing.
import * as vscode from 'vscode';
import type { FindingSeverity } from '../core/index';
import { listingUri, type ListingProvider } from './listing';
import type { ModelEntry, ModelStore } from './models';

const SEVERITY: Record<FindingSeverity, vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  information: vscode.DiagnosticSeverity.Information,
};

export class Diagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('mcuMemory');
  private readonly subscriptions: vscode.Disposable[];

  constructor(store: ModelStore, private readonly listings: ListingProvider) {
    this.subscriptions = [store.onDidChange((e) => this.update(e)), store.onDidClose((uri) => this.clear(uri))];
  }

  update(entry: ModelEntry): void {
    const onModel: vscode.Diagnostic[] = [];
    const onListing: vscode.Diagnostic[] = [];
    const top = new vscode.Range(0, 0, 0, 0);
    if (entry.error) {
      const d = new vscode.Diagnostic(top, `${entry.error.message} [${entry.error.code}]`, vscode.DiagnosticSeverity.Error);
      d.source = 'MCU Memory';
      d.code = entry.error.code;
      onModel.push(d);
    } else {
      for (const f of entry.report.findings) {
        const line = this.listings.lineOf(entry, f);
        for (const [list, range] of [[onModel, top], [onListing, new vscode.Range(line, 0, line, 500)]] as const) {
          const d = new vscode.Diagnostic(range, f.message, SEVERITY[f.severity]);
          d.source = 'MCU Memory';
          d.code = f.code;
          list.push(d);
        }
      }
    }
    this.collection.set(entry.uri, onModel);
    this.collection.set(listingUri(entry.uri), onListing);
  }

  clear(uri: vscode.Uri): void {
    this.collection.delete(uri);
    this.collection.delete(listingUri(uri));
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.collection.dispose();
  }
}
