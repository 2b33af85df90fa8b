// Generate C Code: asks for the folder (default: the deployment file's or the settings' codegen.outputFolder, next to
// the model), generates the code for the model as analysed (conventions, target, schedule in force) behind a
// cancellable progress notification, writes the files and offers to open model.h. A model the generator cannot
// export gets an error naming the operator, in a message and in the Problems panel on that operator's listing line.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CodegenOutput, CoreError, Result } from '../core/index';
import { engine } from './engine';
import { insideWorkspace, requireTrust, writeFiles } from './files';
import type { Services } from './commands';

/** Runs the command for `uri`; `folderArg` (a Uri) skips the question (tests, keybindings). Resolves to the folder written. */
export async function generateC(s: Services, uri: vscode.Uri | undefined, folderArg?: unknown): Promise<vscode.Uri | undefined> {
  if (!uri) {
    void vscode.window.showErrorMessage('Generate C Code: open a model in the Memory View first.');
    return undefined;
  }
  const entry = s.store.get(uri) ?? (await s.store.open(uri));
  if (!entry.report) {
    void vscode.window.showErrorMessage(`Cannot generate C code: ${entry.error.message}`);
    return undefined;
  }
  const { report } = entry;
  if (!requireTrust('Generate C Code')) return undefined;
  const name = uri.path.split('/').pop()!;
  let folder = folderArg instanceof vscode.Uri ? folderArg : undefined;
  if (!folder) {
    const base = vscode.Uri.joinPath(uri, '..');
    const resolve = (v: string): vscode.Uri => (path.isAbsolute(v.trim()) && uri.scheme === 'file' ? vscode.Uri.file(v.trim()) : vscode.Uri.joinPath(base, v.trim()));
    const answer = await vscode.window.showInputBox({
      title: `Generate C code for ${name}`,
      prompt: 'Folder to write model.h, model.c, weights.c, the kernels, the test harness and the Makefile into (relative to the model\'s folder)',
      value: report.effective.codegenOutputFolder,
      validateInput: (v) => (v.trim() === '' ? 'Enter a folder' : insideWorkspace(resolve(v), uri) ? null : 'This folder is outside the workspace: choose one inside it'),
    });
    if (answer === undefined) return undefined;
    folder = resolve(answer);
  }
  const target = folder;
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `MCU Memory: generating C for ${name}`, cancellable: true },
    async (progress, token): Promise<Result<CodegenOutput> | null> => {
      // In the model's analysis thread, from the graph it opened for the Memory View: the export is of exactly what the
      // report describes.
      progress.report({ message: 'generating', increment: 20 });
      const r = await s.store.codegen(uri, engine().codegenOptionsFor(report), token);
      if (!r || !r.ok) return r;
      if (token.isCancellationRequested) return null;
      progress.report({ message: 'writing the files', increment: 40 });
      const files = r.value.files.map((f) => ({ uri: vscode.Uri.joinPath(target, f.path), text: f.text }));
      return (await writeFiles(files, uri, 'Generate C Code')) ? r : null;
    },
  );
  if (!result) {
    void vscode.window.showInformationMessage('C code generation cancelled.');
    return undefined;
  }
  if (!result.ok) {
    reportFailure(s, uri, result.error);
    return undefined;
  }
  const out = result.value;
  const what = out.schedule ? `patch-based (${out.schedule.p}×${out.schedule.q} tiles after step #${out.schedule.split})` : 'layer by layer';
  const open = 'Open model.h';
  // Not awaited: the command resolves once the files are written; the offer stays until the user answers.
  void vscode.window.showInformationMessage(
    `Generated ${out.files.length} files in ${vscode.workspace.asRelativePath(target)}: ${what}, arena ${out.arenaBytes.toLocaleString('en-US')} B, weights ${out.weightsBytes.toLocaleString('en-US')} B. Build with make host / cortex-m4.`,
    open,
  ).then((choice) => (choice === open ? vscode.window.showTextDocument(vscode.Uri.joinPath(target, 'src', 'model.h')) : undefined));
  return target;
}

function reportFailure(s: Services, uri: vscode.Uri, error: CoreError): void {
  const entry = s.store.get(uri);
  if (entry?.report) s.store.addFinding(uri, engine().codegenFinding(entry.report, error.message, error.opIndex));
  void vscode.window.showErrorMessage(`Cannot generate C code: ${error.message}`);
}
