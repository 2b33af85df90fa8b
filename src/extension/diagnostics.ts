// Findings → the Problems panel, one entry per finding: on the lines of the model's listing while a tab shows the
// listing (there the quick fixes are a Ctrl+. away), else on the model file (the Memory View's document).
import * as vscode from 'vscode';
import type { FindingSeverity } from '../core/index';
import { LISTING_SCHEME, listingUri, modelOfListing, type ListingProvider } from './listing';
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
    // A listing tab opened or closed moves its model's findings.
    const tabsChanged = (e: vscode.TabChangeEvent): void => {
      for (const tab of [...e.opened, ...e.closed]) {
        const uri = tab.input instanceof vscode.TabInputText ? tab.input.uri : null;
        const entry = uri?.scheme === LISTING_SCHEME ? store.get(modelOfListing(uri)) : undefined;
        if (entry) this.update(entry);
      }
    };
    this.subscriptions = [store.onDidChange((e) => this.update(e)), store.onDidClose((uri) => this.clear(uri)), vscode.window.tabGroups.onDidChangeTabs(tabsChanged)];
  }

  /** The listing is open in a tab (a document VS Code merely keeps loaded does not count). */
  private listingOpen(entry: ModelEntry): boolean {
    const key = listingUri(entry.uri).toString();
    return vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => t.input instanceof vscode.TabInputText && t.input.uri.toString() === key));
  }

  update(entry: ModelEntry): void {
    const onListing = !entry.error && this.listingOpen(entry);
    const list: vscode.Diagnostic[] = [];
    const top = new vscode.Range(0, 0, 0, 0);
    if (entry.error) {
      const d = new vscode.Diagnostic(top, `${entry.error.message} [${entry.error.code}]`, vscode.DiagnosticSeverity.Error);
      d.source = 'MCU Memory';
      d.code = entry.error.code;
      list.push(d);
    } else {
      for (const f of entry.report.findings) {
        const line = this.listings.lineOf(entry, f);
        const d = new vscode.Diagnostic(onListing ? new vscode.Range(line, 0, line, 500) : top, f.message, SEVERITY[f.severity]);
        d.source = 'MCU Memory';
        d.code = f.code;
        list.push(d);
      }
    }
    this.collection.set(entry.uri, onListing ? [] : list);
    this.collection.set(listingUri(entry.uri), onListing ? list : []);
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
