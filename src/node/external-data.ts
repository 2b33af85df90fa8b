// ONNX external data for the CLI and the extension (local files): the file must exist inside the model's folder after
// resolving symlinks, and be long enough for the tensor. Nothing is read.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ExternalDataHost } from '../core/index';

export function nodeExternalData(modelDir: string): ExternalDataHost {
  return {
    check(relativePath, offset, length) {
      let root: string;
      let real: string;
      try {
        root = fs.realpathSync(modelDir);
        real = fs.realpathSync(path.join(modelDir, relativePath));
      } catch {
        return `external data file '${relativePath}' does not exist next to the model`;
      }
      const rel = path.relative(root, real);
      if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return `external data file '${relativePath}' resolves outside the model's folder (${real})`;
      const st = fs.statSync(real);
      if (!st.isFile()) return `external data '${relativePath}' is not a regular file`;
      if (offset + length > st.size) return `external data file '${relativePath}' has ${st.size} bytes, the tensor needs bytes ${offset}..${offset + length}`;
      return null;
    },
  };
}
