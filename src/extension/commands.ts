// Commands in one table (rust-analyzer's pattern). Each takes the model from its argument (explorer, quick fix),
// else from the active Memory View or listing.
import * as vscode from 'vscode';
import type { ScheduleField } from '../core/index';
import { engine } from './engine';
import type { Config } from './config';
import { listingUri, LISTING_SCHEME, modelOfListing } from './listing';
import { VIEW_TYPE, type MemoryViewProvider } from './memory-view';
import { generateC } from './codegen';
import { deploymentUri, isModel, type ModelStore } from './models';
import { pickTarget, type StatusBar } from './status';
import { writeFiles } from './files';
import { scheduleOfMessage } from '../shared/protocol';

/** What activate() builds; also the extension's exports, which the integration tests read. */
export interface Services {
  config: Config;
  store: ModelStore;
  status: StatusBar;
  views: MemoryViewProvider;
  activationMs: () => number;
}

interface CommandDef {
  id: string;
  run: (s: Services, ...args: unknown[]) => Promise<unknown>;
}

/** The model a command applies to. */
export function activeModel(arg?: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg.scheme === LISTING_SCHEME ? modelOfListing(arg) : isModel(arg) ? arg : undefined;
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputCustom && input.viewType === VIEW_TYPE) return input.uri;
  const doc = vscode.window.activeTextEditor?.document.uri;
  if (doc?.scheme === LISTING_SCHEME) return modelOfListing(doc);
  return undefined;
}

async function requireModel(arg?: unknown): Promise<vscode.Uri | undefined> {
  const uri = activeModel(arg);
  if (uri) return uri;
  const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { Models: ['onnx', 'tflite'] }, title: 'Choose an ONNX or TFLite model' });
  return picked?.[0];
}

/** Edits <model>.mcu.json (created if missing) and re-analyses. The deployment file is the user's: the change is
 *  merged into it, other fields kept. */
async function editDeployment(s: Services, model: vscode.Uri, what: string, edit: (text: string) => string): Promise<void> {
  const file = deploymentUri(model);
  let text = '';
  try {
    text = new TextDecoder().decode(await vscode.workspace.fs.readFile(file));
  } catch {
    // created below
  }
  if (!(await writeFiles([{ uri: file, text: edit(text) }], model, what, () => true))) return;
  await s.store.open(model);
}

/** Writes the schedule into the deployment file. */
export async function applySchedule(s: Services, model: vscode.Uri, schedule: ScheduleField): Promise<void> {
  await editDeployment(s, model, 'Apply Schedule', (text) => engine().withSchedule(text, schedule));
}

/** Switches the as-int8 what-if in the deployment file (every element counted as 1 byte). */
export async function setInt8(s: Services, model: vscode.Uri, on: boolean): Promise<void> {
  await editDeployment(s, model, 'As int8', (text) => engine().withConventions(text, { asInt8: on }));
}

export const COMMANDS: readonly CommandDef[] = [
  {
    id: 'mcuMemory.selectTarget',
    run: async (s, name) => {
      const model = activeModel() ?? s.status.currentModel();
      return pickTarget(s.config, name, (model && s.store.get(model)?.report) || undefined);
    },
  },
  {
    id: 'mcuMemory.openMemoryView',
    run: async (_s, arg) => {
      const uri = await requireModel(arg);
      if (uri) await vscode.commands.executeCommand('vscode.openWith', uri, VIEW_TYPE);
    },
  },
  {
    id: 'mcuMemory.openLayerListing',
    run: async (s, arg) => {
      const uri = await requireModel(arg);
      if (!uri) return;
      if (!s.store.get(uri)) await s.store.open(uri);
      const doc = await vscode.workspace.openTextDocument(listingUri(uri));
      await vscode.window.showTextDocument(doc, { preview: false });
    },
  },
  {
    id: 'mcuMemory.applyBestSchedule',
    run: async (s, arg) => {
      const uri = await requireModel(arg);
      if (uri) await applySchedule(s, uri, 'auto');
    },
  },
  {
    id: 'mcuMemory.applySchedule',
    run: async (s, model, schedule) => {
      const setting = scheduleOfMessage(schedule);
      if (model instanceof vscode.Uri && setting) await applySchedule(s, model, setting);
    },
  },
  {
    // Reachable from the keyboard (Command Palette; Ctrl+. in the listing, which as a read-only document gets no Quick
    // Fix) and from the Memory View: every way to make the model fit, with its effect.
    id: 'mcuMemory.makeItFit',
    run: async (s, arg) => {
      const uri = activeModel(arg) ?? s.status.currentModel();
      const entry = uri ? s.store.get(uri) ?? (await s.store.open(uri)) : undefined;
      if (!uri || !entry?.report) {
        void vscode.window.showInformationMessage('Make It Fit: open a model first (its Memory View or listing).');
        return undefined;
      }
      const choices = engine().fitChoices(entry.report);
      if (choices.length === 0) {
        void vscode.window.showInformationMessage(`${entry.report.fileName} already fits ${entry.report.fit?.target.name ?? 'its target'}.`);
        return undefined;
      }
      const picked = await vscode.window.showQuickPick(choices.map((c) => ({ label: `${c.fits ? '$(pass)' : '$(circle-slash)'} ${c.title}`, detail: c.detail, choice: c })),
        { title: `Make ${entry.report.fileName} fit ${entry.report.fit?.target.name ?? ''}`, matchOnDetail: true });
      if (!picked) return undefined;
      const a = picked.choice.action;
      if ('schedule' in a) await applySchedule(s, uri, a.schedule);
      else await vscode.commands.executeCommand('mcuMemory.selectTarget');
      return picked.choice.title;
    },
  },
  { id: 'mcuMemory.generateC', run: async (s, arg, folder) => generateC(s, activeModel(arg), folder) },
  {
    // <model>.optimized.tflite beside the model: the same model with our arena plan for stock TFLM.
    id: 'mcuMemory.writeTflmOptimized',
    run: async (s, arg) => {
      const uri = await requireModel(arg);
      if (!uri) return undefined;
      const entry = s.store.get(uri) ?? (await s.store.open(uri));
      if (!entry.report) {
        void vscode.window.showErrorMessage(`Cannot write an optimized model: ${entry.error.message}`);
        return undefined;
      }
      if (!entry.report.tflmOptimized) {
        void vscode.window.showInformationMessage(`No TFLM-optimized model for ${uri.path.split('/').pop()}: ${entry.report.tflmOptimizedWhy ?? entry.report.tflmWhy ?? 'not a TFLite model'}.`);
        return undefined;
      }
      const out = uri.with({ path: uri.path.replace(/(\.tflite)?$/i, '.optimized.tflite') });
      const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'MCU Memory: writing the TFLM-optimized model', cancellable: true },
        (_p, token) => s.store.optimizeForTflm(uri, token));
      if (!r) return undefined;
      if (!r.ok) {
        void vscode.window.showErrorMessage(`Cannot write an optimized model: ${r.error.message}`);
        return undefined;
      }
      if (!(await writeFiles([{ uri: out, text: r.value.bytes }], uri, 'Write TFLM-Optimized Model', (old) => old.includes('OfflineMemoryAllocation')))) return undefined;
      const n = (v: number): string => `${v.toLocaleString('en-US')} B`;
      void vscode.window.showInformationMessage(`Wrote ${out.path.split('/').pop()}: TFLM's arena ${n(r.value.before)} → ${n(r.value.after)} (alignas(16) static uint8_t tensor_arena[${r.value.after}];)`);
      return out;
    },
  },
  {
    id: 'mcuMemory.exportReport',
    run: async (s, arg) => {
      const uri = await requireModel(arg);
      if (!uri) return;
      const entry = s.store.get(uri) ?? (await s.store.open(uri));
      if (!entry.report) {
        void vscode.window.showErrorMessage(`Cannot export a report: ${entry.error.message}`);
        return;
      }
      const md = uri.with({ path: `${uri.path}.report.md` });
      const json = uri.with({ path: `${uri.path}.report.json` });
      const files = [
        { uri: md, text: engine().reportMarkdown(entry.report) },
        { uri: json, text: `${JSON.stringify(engine().reportJson(entry.report), null, 2)}\n` },
      ];
      if (!(await writeFiles(files, uri, 'Export Report', (old) => old.startsWith('# Memory report:') || old.includes('"schema": "mcu-mem/analysis@')))) return;
      void vscode.window.showInformationMessage(`Wrote ${md.path.split('/').pop()} and ${json.path.split('/').pop()}`);
    },
  },
];

export function registerCommands(s: Services): vscode.Disposable[] {
  return COMMANDS.map((c) => vscode.commands.registerCommand(c.id, (...args: unknown[]) => c.run(s, ...args)));
}
