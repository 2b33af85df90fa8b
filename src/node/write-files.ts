// Writes generated files (C export, optimized models) under a folder, creating the subfolders they name (src/, zephyr/).
import * as fs from 'node:fs';
import * as path from 'node:path';

export function writeGeneratedFiles(dir: string, files: readonly { path: string; text: string }[]): void {
  for (const f of files) {
    const target = path.join(dir, f.path);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, f.text);
  }
}
