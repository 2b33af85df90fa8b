// Per-kernel ("forced") comparison of the C export with a reference runtime: every step of a model is exported on its
// own (a one-operator graph whose inputs are that step's operands), fed the reference's own values of those operands,
// and its outputs are compared with the reference's outputs of that step. Differences cannot compound, and a
// difference names the step and kernel it comes from.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DType, Graph } from '../src/core/index';
import { bytesOf, generate, parseValues, randomFloats, randomInt8, tempDir } from './codegen-helpers';

/** A graph of one step of `graph`: its non-constant operands become the graph inputs. */
export function stepGraph(graph: Graph, opIndex: number): Graph {
  const op = graph.ops[opIndex]!;
  const ins = [...new Set(op.inputs.filter((t) => t >= 0 && graph.tensors[t]!.role !== 'constant'))];
  const tensors = graph.tensors.map((t) => (ins.includes(t.id) ? { ...t, role: 'input' as const } : t));
  return { ...graph, tensors, ops: [{ ...op, index: 0 }], inputs: ins, outputs: [...op.outputs], notes: [] };
}

/** The values of raw little-endian tensor bytes. */
export function decode(bytes: Uint8Array, dtype: DType): number[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width: Partial<Record<DType, number>> = { int8: 1, uint8: 1, bool: 1, int16: 2, int32: 4, int64: 8, float32: 4 };
  const w = width[dtype];
  if (!w) throw new Error(`cannot decode ${dtype}`);
  const out: number[] = [];
  for (let i = 0; i + w <= bytes.length; i += w) {
    if (dtype === 'int8') out.push(dv.getInt8(i));
    else if (dtype === 'uint8' || dtype === 'bool') out.push(dv.getUint8(i));
    else if (dtype === 'int16') out.push(dv.getInt16(i, true));
    else if (dtype === 'int32') out.push(dv.getInt32(i, true));
    else if (dtype === 'int64') out.push(Number(dv.getBigInt64(i, true)));
    else out.push(dv.getFloat32(i, true));
  }
  return out;
}

export interface StepResult {
  op: number;
  kernel: string;
  /** Integer outputs: largest difference in steps; float outputs: largest difference over the largest magnitude. */
  worst: number;
  float: boolean;
  elements: number;
  exact: number;
  /** Set when the step could not be exported or run. */
  error?: string;
}

function run(cmd: string, args: string[], opts: { cwd?: string } = {}): Promise<{ status: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('close', (status) => resolve({ status: status ?? -1, out, err }));
  });
}

/** A reference runtime's values of every tensor of one run, by tensor index. */
export type Reference = ReadonlyMap<number, Uint8Array>;

function compare(graph: Graph, g: Graph, ours: number[], reference: Reference, base: StepResult): StepResult {
  const want = g.outputs.flatMap((t) => decode(reference.get(t)!, graph.tensors[t]!.dtype));
  if (ours.length !== want.length) return { ...base, error: `${ours.length} values, the reference has ${want.length}` };
  let worst = 0;
  let exact = 0;
  let scale = 0;
  want.forEach((v, i) => {
    // Printed floats (9 digits) read back as float32 are the float32 the C computed.
    const d = Math.abs((base.float ? Math.fround(ours[i]!) : ours[i]!) - v);
    if (d === 0) exact++;
    worst = Math.max(worst, d);
    scale = Math.max(scale, Math.abs(v));
  });
  return { ...base, elements: want.length, exact, worst: base.float && scale > 0 ? worst / scale : worst };
}

/** One step exported and built once, then run on each reference's operands: one result per reference. */
async function checkStep(graph: Graph, opIndex: number, references: readonly Reference[]): Promise<StepResult[]> {
  const op = graph.ops[opIndex]!;
  const g = stepGraph(graph, opIndex);
  const float = g.outputs.some((t) => graph.tensors[t]!.dtype === 'float32');
  const base: StepResult = { op: opIndex, kernel: op.sourceType, float, elements: 0, exact: 0, worst: 0 };
  const fail = (error: string): StepResult[] => references.map(() => ({ ...base, error }));
  const dir = tempDir('step');
  try {
    try {
      generate(g, {}, dir);
    } catch (e) {
      return fail((e as Error).message);
    }
    const m = await run('make', ['-s', '-C', dir, 'host']);
    if (m.status !== 0) return fail(`make: ${m.out}${m.err}`);
    const results: StepResult[] = [];
    for (const reference of references) {
      const missing = g.inputs.find((t) => !reference.has(t));
      if (missing !== undefined) throw new Error(`the reference has no value for tensor ${missing}`);
      const input = path.join(dir, 'input.bin');
      fs.writeFileSync(input, Buffer.concat(g.inputs.map((t) => reference.get(t)!)));
      const r = await run(path.join(dir, 'model_test'), [input]);
      results.push(r.status !== 0 ? { ...base, error: `model_test exited ${r.status}: ${r.err}` } : compare(graph, g, parseValues(r.out), reference, base));
    }
    return results;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Every step that computes something from activations (not folded ahead of time), checked against each reference's
 *  tensors (one build per step, two builds at a time): per reference, one result per step. */
export async function checkSteps(graph: Graph, references: readonly Reference[]): Promise<StepResult[][]> {
  // A step that reads only stored constants (a DEQUANTIZE of an SSD's anchors) has no operand to force.
  const steps = graph.ops.filter((op) => !op.folded && stepGraph(graph, op.index).inputs.length > 0).map((op) => op.index);
  const results: StepResult[][] = new Array(steps.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < steps.length) {
      const k = next++;
      results[k] = await checkStep(graph, steps[k]!, references);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(4, os.availableParallelism())) }, worker));
  return references.map((_, r) => results.map((x) => x[r]!));
}

export interface KernelRow {
  model: string;
  kernel: string;
  steps: number;
  elements: number;
  exact: number;
  worst: number;
  float: boolean;
}

/** Results summed per model and kernel, in the order kernels first appear. */
export function kernelRows(model: string, results: readonly StepResult[]): KernelRow[] {
  const rows = new Map<string, KernelRow>();
  for (const r of results) {
    const key = `${r.kernel}${r.float ? ' (float)' : ''}`;
    const row = rows.get(key) ?? { model, kernel: key, steps: 0, elements: 0, exact: 0, worst: 0, float: r.float };
    row.steps++;
    row.elements += r.elements;
    row.exact += r.exact;
    row.worst = Math.max(row.worst, r.worst);
    rows.set(key, row);
  }
  return [...rows.values()];
}

/** One markdown table, a row per model and kernel, two columns (exact elements, largest difference) per reference. */
export function kernelTable(columns: readonly { label: string; rows: readonly KernelRow[] }[]): string {
  const fmt = (n: number): string => n.toLocaleString('en-US');
  const diff = (r: KernelRow): string => (r.worst === 0 ? '0' : r.float ? r.worst.toExponential(1) : `${r.worst} LSB`);
  const key = (r: KernelRow): string => `${r.model}|${r.kernel}`;
  const first = columns[0]?.rows ?? [];
  const byKey = columns.map((c) => new Map(c.rows.map((r) => [key(r), r])));
  const head = ['model', 'kernel', 'steps', 'elements', ...columns.flatMap((c) => [`exact (${c.label})`, `max difference (${c.label})`])];
  return [`| ${head.join(' | ')} |`, `|---|---|${'---:|'.repeat(head.length - 2)}`, ...first.map((r) => {
    const cells = byKey.flatMap((m) => {
      const x = m.get(key(r));
      return x ? [fmt(x.exact), diff(x)] : ['–', '–'];
    });
    return `| ${r.model} | ${r.kernel} | ${r.steps} | ${fmt(r.elements)} | ${cells.join(' | ')} |`;
  })].join('\n');
}

/** The shared int8 TFLite models the C export runs (their inputs int8 or float). */
export const EXPORTED_TFLITE = ['person_detect', 'mlperf_kws_dscnn_int8', 'mlperf_resnet8_int8', 'mlperf_vww_96_int8', 'mlperf_ad01_int8',
  'mobilenet_v2_int8_224', 'tinyengine_mcunet_vww', 'tinyengine_detection', 'tinyengine_mcunetv2_large'];

/** A seeded random input for a graph's first input (int8, int16 and int32 over their whole range, float in [-1, 1)). */
export function randomInput(graph: Graph, seed: number): Uint8Array {
  const t = graph.tensors[graph.inputs[0]!]!;
  const n = t.shape!.reduce((a, b) => a * b, 1);
  if (t.dtype === 'int16') return bytesOf(Int16Array.from(randomFloats(n, seed, -32768, 32768), Math.floor));
  if (t.dtype === 'int32') return bytesOf(Int32Array.from(randomFloats(n, seed, -(2 ** 31), 2 ** 31), Math.floor));
  return t.dtype === 'float32' ? bytesOf(randomFloats(n, seed, -1, 1)) : bytesOf(randomInt8(n, seed));
}
