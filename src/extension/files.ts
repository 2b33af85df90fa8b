// Writing files for the user (Apply Schedule, Export Report, Generate C): only in a trusted workspace, only inside the
// workspace (or the model's folder when no folder is open), never through a symbolic link planted where we write, and
// never over a file we did not generate without asking.
import * as path from 'node:path';
import * as vscode from 'vscode';

/** False, with a message, in Restricted Mode. */
export function requireTrust(what: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window.showErrorMessage(`${what} writes files, which Restricted Mode does not allow: trust this workspace first (Manage Workspace Trust).`);
  return false;
}

/** Whether `target` lies inside a workspace folder (or, without one, inside the model's folder). */
export function insideWorkspace(target: vscode.Uri, model: vscode.Uri): boolean {
  const roots = vscode.workspace.workspaceFolders?.map((f) => f.uri) ?? [vscode.Uri.joinPath(model, '..')];
  return roots.some((root) => {
    if (root.scheme !== target.scheme || root.authority !== target.authority) return false;
    const rel = path.posix.relative(path.posix.normalize(root.path), path.posix.normalize(target.path));
    return rel === '' || (rel !== '..' && !rel.startsWith('../') && !path.posix.isAbsolute(rel));
  });
}

async function statOf(uri: vscode.Uri): Promise<vscode.FileStat | null> {
  try {
    return await vscode.workspace.fs.stat(uri);
  } catch {
    return null;
  }
}

export interface PlannedFile {
  uri: vscode.Uri;
  /** Text, or the bytes of a binary file. */
  text: string | Uint8Array;
}

/** A file we wrote before starts with the same line as the one we are about to write. */
const sameFirstLine = (existing: string, planned: PlannedFile): boolean =>
  typeof planned.text === 'string' && existing.split('\n', 1)[0] === planned.text.split('\n', 1)[0];

/** Writes the files after the checks above. `ours` tells a file we generated before (overwritten without asking)
 *  from the user's own. Resolves to false when nothing was written. */
export async function writeFiles(files: readonly PlannedFile[], model: vscode.Uri, what: string, ours: (existing: string, planned: PlannedFile) => boolean = sameFirstLine): Promise<boolean> {
  if (!requireTrust(what)) return false;
  const outside = files.find((f) => !insideWorkspace(f.uri, model));
  if (outside) {
    void vscode.window.showErrorMessage(`${what}: ${outside.uri.fsPath} is outside the workspace; choose a folder inside it.`);
    return false;
  }
  const foreign: string[] = [];
  for (const f of files) {
    for (const u of [f.uri, vscode.Uri.joinPath(f.uri, '..')]) {
      const st = await statOf(u);
      if (st && st.type & vscode.FileType.SymbolicLink) {
        void vscode.window.showErrorMessage(`${what}: ${u.fsPath} is a symbolic link; not writing through it.`);
        return false;
      }
    }
    const st = await statOf(f.uri);
    if (st) {
      const head = new TextDecoder().decode((await vscode.workspace.fs.readFile(f.uri)).subarray(0, 4096));
      if (!ours(head, f)) foreign.push(path.posix.basename(f.uri.path));
    }
  }
  if (foreign.length > 0) {
    const overwrite = 'Overwrite';
    const answer = await vscode.window.showWarningMessage(`${what} would overwrite ${foreign.length} file${foreign.length > 1 ? 's' : ''} it did not write: ${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? ', …' : ''}.`, { modal: true }, overwrite);
    if (answer !== overwrite) return false;
  }
  for (const f of files) {
    await vscode.workspace.fs.createDirectory(vscode.Uri.joinPath(f.uri, '..'));
    await vscode.workspace.fs.writeFile(f.uri, typeof f.text === 'string' ? new TextEncoder().encode(f.text) : f.text);
  }
  return true;
}
