// The layer listing: a read-only virtual document per model (scheme mcu-listing, language mcu-listing), hovers with
// the activation sizes, and quick fixes on the SRAM error that write a patch schedule into the deployment file.
import * as vscode from 'vscode';
import type { Finding, Listing } from '../core/index';
import { engine } from './engine';
import type { ModelEntry, ModelStore } from './models';

export const LISTING_SCHEME = 'mcu-listing';
export const LISTING_LANGUAGE = 'mcu-listing';

export const listingUri = (model: vscode.Uri): vscode.Uri =>
  vscode.Uri.from({ scheme: LISTING_SCHEME, path: `${model.path}.mculisting`, query: model.toString() });
export const modelOfListing = (uri: vscode.Uri): vscode.Uri => vscode.Uri.parse(uri.query);

export class ListingProvider implements vscode.TextDocumentContentProvider, vscode.HoverProvider, vscode.CodeActionProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly listings = new Map<string, Listing>();
  private readonly subscription: vscode.Disposable;

  constructor(private readonly store: ModelStore) {
    this.subscription = store.onDidChange((e) => {
      this.listings.delete(e.uri.toString());
      this.changed.fire(listingUri(e.uri));
    });
  }

  /** The listing of an analysed model (cached until the model changes). */
  listingOf(entry: ModelEntry): Listing | null {
    if (!entry.report) return null;
    const key = entry.uri.toString();
    let l = this.listings.get(key);
    if (!l) { l = engine().listing(entry.report); this.listings.set(key, l); }
    return l;
  }

  lineOf(entry: ModelEntry, f: Finding): number {
    const l = this.listingOf(entry);
    if (!l) return 0;
    return f.step !== null ? l.stepLine[f.step] ?? l.headerLine : l.headerLine;
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const model = modelOfListing(uri);
    const entry = this.store.get(model) ?? (await this.store.open(model));
    if (entry.error) return `// ${model.path}: ${entry.error.message} [${entry.error.code}]\n`;
    return this.listingOf(entry)!.text;
  }

  provideHover(doc: vscode.TextDocument, pos: vscode.Position): vscode.Hover | null {
    const entry = this.store.get(modelOfListing(doc.uri));
    const l = entry && this.listingOf(entry);
    if (!entry?.report || !l) return null;
    const step = l.stepLine.indexOf(pos.line);
    if (step < 0) return null;
    const text = engine().hoverText(entry.report, step);
    return text ? new vscode.Hover(new vscode.MarkdownString(text), doc.lineAt(pos.line).range) : null;
  }

  provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const model = modelOfListing(doc.uri);
    const entry = this.store.get(model);
    const finding = entry?.report?.findings.find((f) => f.code === 'sram');
    if (!finding?.fixes || !context.diagnostics.some((d) => d.code === 'sram')) return [];
    return finding.fixes.map((fix, i) => {
      const action = new vscode.CodeAction(fix.title, vscode.CodeActionKind.QuickFix);
      action.command = { command: 'mcuMemory.applySchedule', title: fix.title, arguments: [model, fix.schedule] };
      action.diagnostics = context.diagnostics.filter((d) => d.code === 'sram');
      action.isPreferred = i === 0;
      return action;
    });
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
