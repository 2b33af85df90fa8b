// Activation only registers (narrow activation: contributed editors, commands and languages activate it). Every
// disposable goes into context.subscriptions; errors at activation are shown to the user, not swallowed.
import * as vscode from 'vscode';
import { applySchedule, setInt8, registerCommands, type Services } from './commands';
import { Config } from './config';
import { Diagnostics } from './diagnostics';
import { LISTING_SCHEME, ListingProvider } from './listing';
import { MemoryViewProvider, VIEW_TYPE } from './memory-view';
import { ModelStore } from './models';
import { workerScript } from './analysis';
import { StatusBar } from './status';
import { scheduleOfMessage, type FromWebview } from '../shared/protocol';

/** Set by the bundle's first line (scripts/build.mjs), so that loading the bundle counts as activation time. */
declare const __mcuMemLoadStarted: number | undefined;

export function activate(context: vscode.ExtensionContext): Services | undefined {
  const started = performance.now();
  try {
    const config = new Config();
    const store = new ModelStore(config, workerScript(context.extensionPath));
    const listings = new ListingProvider(store);
    const status = new StatusBar(store);
    const onMessage = (model: vscode.Uri, m: FromWebview): void => {
      if (m.type === 'applySchedule') {
        // The webview is untrusted input: only a well-formed schedule reaches the deployment file.
        const setting = scheduleOfMessage(m.setting);
        if (setting) void applySchedule(services, model, setting);
      }
      else if (m.type === 'selectTarget') void vscode.commands.executeCommand('mcuMemory.selectTarget');
      else if (m.type === 'makeItFit') void vscode.commands.executeCommand('mcuMemory.makeItFit', model);
      else if (m.type === 'setInt8' && typeof m.on === 'boolean') void setInt8(services, model, m.on);
      else if (m.type === 'openListing') void vscode.commands.executeCommand('mcuMemory.openLayerListing', model);
      else if (m.type === 'generateC') void vscode.commands.executeCommand('mcuMemory.generateC', model);
      else if (m.type === 'exportReport') void vscode.commands.executeCommand('mcuMemory.exportReport', model);
      else if (m.type === 'writeTflmOptimized') void vscode.commands.executeCommand('mcuMemory.writeTflmOptimized', model);
    };
    const views = new MemoryViewProvider(context.extensionUri, store, status, onMessage);
    const services: Services = { config, store, status, views, activationMs: () => activationMs };
    context.subscriptions.push(
      store, listings, status, new Diagnostics(store, listings),
      vscode.window.registerCustomEditorProvider(VIEW_TYPE, views, { webviewOptions: { retainContextWhenHidden: false }, supportsMultipleEditorsPerDocument: false }),
      vscode.workspace.registerTextDocumentContentProvider(LISTING_SCHEME, listings),
      vscode.languages.registerHoverProvider({ scheme: LISTING_SCHEME }, listings),
      vscode.languages.registerCodeActionsProvider({ scheme: LISTING_SCHEME }, listings, { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] }),
      ...registerCommands(services),
    );
    // As VS Code counts it (Show Running Extensions): loading the code plus the activate() call, without the time the
    // extension host spends between the two (creating the context, storage).
    activationMs = loadMs + (performance.now() - started);
    // A compiled analysis thread waiting for the first model (the workspace has models: see activationEvents), unless
    // opening a model is what activated the extension (that model's thread is then already starting).
    // The view then builds its page once from the example's report: the engine bundle is loaded in this host and its
    // view model compiled before the first model needs them (50–100 ms of a new window's first chart). A failed
    // warm-up only costs the first model that time.
    setTimeout(() => void store.warmUp().then((report) => { if (report) views.warmUp(report); }).catch(() => undefined), 300);
    return services;
  } catch (e) {
    void vscode.window.showErrorMessage(`MCU Memory Inspector failed to activate: ${e instanceof Error ? e.message : String(e)}`);
    throw e;
  }
}

/** How long activation took (measured by the integration tests, reported in the README). */
let activationMs = 0;
/** Evaluating the bundle: from its first line to here, the last statement of the entry module. */
const loadMs = typeof __mcuMemLoadStarted === 'number' ? performance.now() - __mcuMemLoadStarted : 0;

export function deactivate(): void {}
