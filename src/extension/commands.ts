// Commands in one table. This minimal version analyses the active model file and shows the summary; the Memory
// View, diagnostics and target picker come with the extension issue.
import * as vscode from 'vscode';
import { analyzeGraph, openModel } from '../core/index';

interface CommandDef {
  id: string;
  run: () => Promise<void>;
}

async function analyzeActiveModel(): Promise<void> {
  const uri = vscode.window.activeTextEditor?.document.uri ?? vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  const target = uri instanceof vscode.Uri ? uri : (uri as { uri?: vscode.Uri } | undefined)?.uri;
  if (!target) {
    void vscode.window.showWarningMessage('Open an .onnx or .tflite model first.');
    return;
  }
  const bytes = await vscode.workspace.fs.readFile(target);
  const opened = openModel(bytes, { fileName: target.path });
  if (!opened.ok) {
    void vscode.window.showErrorMessage(`${target.path}: ${opened.error.message}`);
    return;
  }
  const a = analyzeGraph(opened.value);
  const peak = a.ops[a.peakStep];
  void vscode.window.showInformationMessage(
    `Peak SRAM ${a.peakBytes.toLocaleString()} B${peak ? ` at ${peak.op} '${peak.name}'` : ''}; arena ${a.arenaBytes.toLocaleString()} B; Flash ${a.flashBytes.toLocaleString()} B`,
  );
}

export const COMMANDS: readonly CommandDef[] = [{ id: 'mcuMemory.analyzeActiveModel', run: analyzeActiveModel }];

export function registerCommands(): vscode.Disposable[] {
  return COMMANDS.map((c) => vscode.commands.registerCommand(c.id, c.run));
}
