import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzeGraph, openModel, type Analysis, type Conventions, type Graph } from '../src/core/index';

/** Repository root (tests run from out/test/...). */
export const ROOT = path.resolve(__dirname, '..', '..');
export const SHARED_MODELS = path.resolve(ROOT, '..', 'shared', 'models');
export const HAVE_SHARED = fs.existsSync(SHARED_MODELS);
export const SKIP_SHARED = HAVE_SHARED ? false : `../shared/models is absent (a user's clone): corpus tests skipped`;

export function sharedModel(rel: string): string {
  return path.join(SHARED_MODELS, rel);
}

export function listSharedModels(): string[] {
  if (!HAVE_SHARED) return [];
  const out: string[] = [];
  for (const dir of ['onnx', 'tflite']) {
    const d = path.join(SHARED_MODELS, dir);
    if (!fs.existsSync(d)) continue;
    for (const f of fs.readdirSync(d).sort()) out.push(path.join(d, f));
  }
  return out;
}

export function open(bytes: Uint8Array, fileName?: string): Graph {
  const r = openModel(bytes, { fileName });
  if (!r.ok) throw new Error(`expected the model to open: ${r.error.code}: ${r.error.message}`);
  return r.value;
}

export function openFile(file: string): Graph {
  return open(fs.readFileSync(file), file);
}

export function analyze(bytes: Uint8Array, conventions: Partial<Conventions> = {}): Analysis {
  return analyzeGraph(open(bytes), conventions);
}

/** TFLM's conversion of its test images (MANIFEST): the 9,216 palette indices of the 96×96 BMP, rows top to bottom,
 *  each byte taken as int8. */
export function tflmImage(file: string): Uint8Array {
  const bmp = fs.readFileSync(file);
  const offset = bmp.readUInt32LE(10);
  const rows: Buffer[] = [];
  for (let r = 95; r >= 0; r--) rows.push(bmp.subarray(offset + r * 96, offset + (r + 1) * 96));
  return new Uint8Array(Buffer.concat(rows));
}
