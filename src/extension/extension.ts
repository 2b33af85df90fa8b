// Activation only registers: the command table lives in commands.ts.
import * as vscode from 'vscode';
import { registerCommands } from './commands';

export function activate(context: vscode.ExtensionContext): void {
  try {
    context.subscriptions.push(...registerCommands());
  } catch (e) {
    void vscode.window.showErrorMessage(`MCU Memory Inspector failed to activate: ${e instanceof Error ? e.message : String(e)}`);
    throw e;
  }
}

export function deactivate(): void {}
