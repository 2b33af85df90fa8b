import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzeGraph, openModel, type Analysis, type Conventions, type Graph } from '../src/core/index';
import { OnnxBuilder } from '../src/core/testing/onnx-builder';

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

/** ONNX control flow: an If on the sign of x's sum (x + x, or x · c with c the branch's initializer) into a Relu 'z';
 *  a Loop of 4 iterations carrying v + x ('v_final') and stacking v·v ('stacked'); a Scan summing the 5 rows of s
 *  ('sum') and stacking each row squared along axis 1 ('rows'). */
export function onnxControlFlowModel(): Uint8Array {
  const b = new OnnxBuilder(13);
  const x = b.input('x', [2, 3]);
  // If: the sign of x's sum picks x + x or x · c (c an initializer of the branch).
  const cond = b.op('Greater', [b.op('ReduceSum', [x], { keepdims: 0 }), b.init('zero', [], 'float32', [0])]);
  const thenB = new OnnxBuilder(13);
  thenB.node('Add', [x, x], {}, ['t_y']);
  thenB.output('t_y', [2, 3]);
  const elseB = new OnnxBuilder(13);
  elseB.node('Mul', [x, elseB.init('c', [2, 3], 'float32', [1, 2, 3, 4, 5, 6])], {}, ['e_y']);
  elseB.output('e_y', [2, 3]);
  const [y] = b.node('If', [cond], { then_branch: thenB.asSubgraph('then'), else_branch: elseB.asSubgraph('else') }, ['y']);
  b.node('Relu', [y!], {}, ['z']);
  // Loop: 4 iterations carrying v (v + x) and stacking v·v; the body reads x from outside.
  const body = new OnnxBuilder(13);
  body.input('i', [], 'int64');
  body.input('c_in', [], 'bool');
  body.input('v', [2, 3]);
  body.node('Identity', ['c_in'], {}, ['c_out']);
  body.node('Add', ['v', x], {}, ['v2']);
  body.node('Mul', ['v2', 'v2'], {}, ['sq']);
  body.output('c_out', [], 'bool');
  body.output('v2', [2, 3]);
  body.output('sq', [2, 3]);
  const [vFinal, stacked] = b.node('Loop', [b.init('trips', [], 'int64', [4]), b.init('go', [], 'bool', [1]), x], { body: body.asSubgraph('body') }, ['v_final', 'stacked']);
  // Scan: a running sum over the 5 rows of s (the state) and each row squared, stacked along axis 1.
  const s = b.input('s', [5, 3]);
  const sb = new OnnxBuilder(13);
  sb.input('acc', [3]);
  sb.input('row', [3]);
  sb.node('Add', ['acc', 'row'], {}, ['acc2']);
  sb.node('Mul', ['row', 'row'], {}, ['row2']);
  sb.output('acc2', [3]);
  sb.output('row2', [3]);
  const [sum, rows] = b.node('Scan', [b.init('acc0', [3], 'float32', [0, 0, 0]), s], { body: sb.asSubgraph('scan'), num_scan_inputs: 1, scan_output_axes: [1] }, ['sum', 'rows']);
  for (const o of ['z', vFinal!, stacked!, sum!, rows!]) b.output(o);
  return b.build();
}
