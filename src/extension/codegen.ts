// Generate C Code: asks for the folder (default: the deployment file's or the settings' codegen.outputFolder, next to
// the model), generates the code for the model as analysed (conventions, target, schedule in force) behind a
// cancellable progress notification, writes the files and offers to open model.h. A model the generator cannot
// export gets an error naming the operator, in a message and in the Problems panel on that operator's listing line.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CodegenOutput, CoreError, Result } from '../core/index';
import { engine } from './engine';
import type { Services } from './commands';

const breathe = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

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
  const { report, graph } = entry;
  const name = uri.path.split('/').pop()!;
  let folder = folderArg instanceof vscode.Uri ? folderArg : undefined;
  if (!folder) {
    const base = vscode.Uri.joinPath(uri, '..');
    const answer = await vscode.window.showInputBox({
      title: `Generate C code for ${name}`,
      prompt: 'Folder to write model.h, model.c, weights.c, the kernels, the test harness and the Makefile into (relative to the model\'s folder)',
      value: report.effective.codegenOutputFolder,
      validateInput: (v) => (v.trim() === '' ? 'Enter a folder' : null),
    });
    if (answer === undefined) return undefined;
    folder = path.isAbsolute(answer.trim()) && uri.scheme === 'file' ? vscode.Uri.file(answer.trim()) : vscode.Uri.joinPath(base, answer.trim());
  }
  const target = folder;
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `MCU Memory: generating C for ${name}`, cancellable: true },
    async (progress, token): Promise<Result<CodegenOutput> | null> => {
      // The graph the pipeline opened for the Memory View: the export is of exactly what the report describes.
      progress.report({ message: 'generating', increment: 20 });
      await breathe();
      if (token.isCancellationRequested) return null;
      const r = engine().generateC(graph, engine().codegenOptionsFor(report));
      if (!r.ok) return r;
      await vscode.workspace.fs.createDirectory(target);
      const step = 70 / r.value.files.length;
      for (const f of r.value.files) {
        if (token.isCancellationRequested) return null;
        progress.report({ message: `writing ${f.path}`, increment: step });
        await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(target, f.path), new TextEncoder().encode(f.text));
      }
      return r;
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
  ).then((choice) => (choice === open ? vscode.window.showTextDocument(vscode.Uri.joinPath(target, 'model.h')) : undefined));
  return target;
}

function reportFailure(s: Services, uri: vscode.Uri, error: CoreError): void {
  const entry = s.store.get(uri);
  if (entry?.report) s.store.addFinding(uri, engine().codegenFinding(entry.report, error.message, error.opIndex));
  void vscode.window.showErrorMessage(`Cannot generate C code: ${error.message}`);
}
