// ONNX external data: the location must name a file inside the model's folder. The core only checks the path's
// form; the host (CLI, extension) checks that the file exists there (after resolving symlinks) and is long enough.
import { ModelError } from '../../errors';

export interface ExternalDataHost {
  /**
   * Checks `relativePath` (already normalized, inside the model's folder) holds `length` bytes at `offset`.
   * Returns null when it does, or a message naming the problem.
   */
  check(relativePath: string, offset: number, length: number): string | null;
}

/** Normalizes an external-data location; anything that could leave the model's folder is an error. */
export function checkExternalLocation(location: string, tensorName: string): string {
  const bad = (why: string): never => {
    throw new ModelError('external-data', `tensor '${tensorName}': external data location '${location}' ${why}; external data must stay inside the model's folder`);
  };
  if (location.includes('\0')) bad('contains a NUL byte');
  if (/^[\\/]/.test(location) || /^[a-zA-Z]:/.test(location)) bad('is an absolute path');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) bad('is a URL');
  const parts: string[] = [];
  for (const seg of location.split(/[\\/]+/)) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (parts.length === 0) bad('leaves the folder with ..');
      parts.pop();
    } else parts.push(seg);
  }
  if (parts.length === 0) bad('names no file');
  return parts.join('/');
}
