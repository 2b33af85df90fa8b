// TFLite's own interpreter as a reference, in Node: the WASM build shipped in npm @tensorflow/tfjs-tflite
// (tflite_web_api_cc, loaded with `require` and its .wasm read from disk; no browser, no tfjs backend).
//
// Two things stand between that build and a per-kernel reference, and a copy of the model (`probeModel`) removes both:
// - it applies XNNPACK by default, which requantizes differently from TFLite's built-in kernels. TFLite skips a
//   delegate that needs static shapes when the graph has a dynamic-sized tensor, so the copy adds one: a RESHAPE of a
//   new int32 input by itself (its shape operand is not a constant). The profile then lists every built-in kernel by
//   name and no delegate node; `tfliteRun` checks that.
// - it returns only graph outputs; the copy lists every tensor asked for as an output (the planner then keeps them).
// The copy also sets `quantized_dimension` to 0 where it is not an axis of the tensor (TFLite refuses 3 on the 1-D
// biases of person_detect.tflite; TFLM ignores it).
//
// The copy is written without touching the original bytes' offsets: a new root Model, SubGraph and vectors are put
// in front of the file (flatbuffers offsets are unsigned and point forward, so new tables may refer to the old ones
// after them, never the other way), and the old file follows unchanged at a 16-byte-aligned offset.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FbFile } from '../src/core/formats/tflite/fb';
import type { Graph } from '../src/core/index';

const RESHAPE = 22;
const INT32 = 2;

type Target = { old: number } | { label: string };
type Field = { slot: number; u32: number } | { slot: number; u8: number } | { slot: number; ref: Target };

/** Writes flatbuffer objects front to back; references are resolved at the end (and must point forward). */
class Prefix {
  private buf = new Uint8Array(1024);
  private len = 0;
  private readonly labels = new Map<string, number>();
  private readonly fixups: { at: number; target: Target }[] = [];

  private grow(n: number): number {
    while (this.len + n > this.buf.length) {
      const b = new Uint8Array(this.buf.length * 2);
      b.set(this.buf);
      this.buf = b;
    }
    const at = this.len;
    this.len += n;
    return at;
  }
  align(n: number): void {
    this.grow((n - (this.len % n)) % n);
  }
  private dv(): DataView {
    return new DataView(this.buf.buffer);
  }
  u16(v: number): void {
    this.dv().setUint16(this.grow(2), v, true);
  }
  u32(v: number): number {
    const at = this.grow(4);
    this.dv().setUint32(at, v >>> 0, true);
    return at;
  }
  ref(target: Target): void {
    this.fixups.push({ at: this.u32(0), target });
  }
  label(name: string): void {
    this.labels.set(name, this.len);
  }
  /** A table: its vtable first, then the table (every field in a 4-byte slot). */
  table(label: string, fields: Field[]): void {
    const slots = fields.length ? Math.max(...fields.map((f) => f.slot)) + 1 : 0;
    this.align(4);
    const vt = this.len;
    this.u16(4 + 2 * slots);
    this.u16(4 + 4 * fields.length);
    for (let s = 0; s < slots; s++) {
      const k = fields.findIndex((f) => f.slot === s);
      this.u16(k < 0 ? 0 : 4 + 4 * k);
    }
    this.align(4);
    this.label(label);
    const at = this.u32(0);
    this.dv().setInt32(at, at - vt, true);
    for (const f of fields) {
      if ('ref' in f) this.ref(f.ref);
      else if ('u32' in f) this.u32(f.u32);
      else this.u32(f.u8 & 0xff);
    }
  }
  vector(label: string, items: (number | Target)[]): void {
    this.align(4);
    this.label(label);
    this.u32(items.length);
    for (const it of items) {
      if (typeof it === 'number') this.u32(it);
      else this.ref(it);
    }
  }
  string(label: string, s: string): void {
    this.align(4);
    this.label(label);
    this.u32(s.length);
    for (const c of s) this.buf[this.grow(1)] = c.charCodeAt(0);
    this.grow(1);
  }
  /** The prefix followed by `old`, every reference resolved. */
  finish(old: Uint8Array): Uint8Array {
    this.align(16);
    const p = this.len;
    const out = new Uint8Array(p + old.length);
    out.set(this.buf.subarray(0, p));
    out.set(old, p);
    const dv = new DataView(out.buffer);
    for (const { at, target } of this.fixups) {
      const abs = 'old' in target ? target.old + p : this.labels.get(target.label);
      if (abs === undefined) throw new Error(`probe model: no label ${JSON.stringify(target)}`);
      if (abs <= at) throw new Error('probe model: a reference points backwards');
      dv.setUint32(at, abs - at, true);
    }
    return out;
  }
}

/** Absolute positions of the tables a vector field points to. */
function tablesOf(f: FbFile, v: { start: number; length: number } | null): number[] {
  if (!v) return [];
  return Array.from({ length: v.length }, (_, i) => v.start + 4 * i + f.bb.readUint32(v.start + 4 * i));
}

/** A copy of a TFLite file whose main subgraph lists `outputs` as its outputs. With `builtinKernels` (for TFLite's
 *  interpreter; TFLM has no dynamic shapes) it also makes TFLite run its built-in kernels (see the file comment): the
 *  copy then has one more input, last, an int32 [1] tensor to be set to 1. */
export function probeModel(bytes: Uint8Array, outputs: readonly number[], builtinKernels = true): Uint8Array {
  const f = new FbFile(bytes);
  const model = f.root('model');
  const sgs = tablesOf(f, model.vector(2, 4, 'subgraphs'));
  const sg = f.tableAt(sgs[0]!, 'subgraph 0');
  const tensors = tablesOf(f, sg.vector(0, 4, 'tensors'));
  const ops = tablesOf(f, sg.vector(3, 4, 'operators'));
  const codes = tablesOf(f, model.vector(1, 4, 'operator_codes'));
  const inputs = sg.int32Vector(1, 'inputs') ?? [];
  for (const b of model.tableVector(4, 'buffers', 1 << 20)) {
    if (b.uint64(2) > 0) throw new Error('probe model: buffers stored after the flatbuffer are not supported');
  }
  let reshape = codes.findIndex((c) => {
    const t = f.tableAt(c, 'operator code');
    return Math.max(t.int8(0), t.int32(3)) === RESHAPE;
  });
  const newCode = builtinKernels && reshape < 0;
  if (newCode) reshape = codes.length;
  const nt = tensors.length;

  const w = new Prefix();
  w.ref({ label: 'model' });
  w.u32(0x334c4654); // the file identifier, 'TFL3'
  const old = (pos: number): Target => ({ old: pos });
  const keep = (slot: number, what: string): Field[] => {
    const p = model.ref(slot, what);
    return p ? [{ slot, ref: old(p) }] : [];
  };
  w.table('model', [
    { slot: 0, u32: model.uint32(0) },
    { slot: 1, ref: newCode ? { label: 'codes' } : old(model.ref(1, 'operator_codes')) },
    { slot: 2, ref: { label: 'subgraphs' } },
    ...keep(3, 'description'), ...keep(4, 'buffers'), ...keep(5, 'metadata_buffer'), ...keep(6, 'metadata'), ...keep(7, 'signature_defs'),
  ]);
  w.vector('subgraphs', [{ label: 'sg' }, ...sgs.slice(1).map(old)]);
  const name = sg.ref(4, 'name');
  w.table('sg', [
    { slot: 0, ref: { label: 'tensors' } },
    { slot: 1, ref: { label: 'inputs' } },
    { slot: 2, ref: { label: 'outputs' } },
    { slot: 3, ref: { label: 'ops' } },
    ...(name ? [{ slot: 4, ref: old(name) }] : []),
  ]);
  w.vector('tensors', [...tensors.map(old), ...(builtinKernels ? [{ label: 's' }, { label: 'z' }] : [])]);
  w.vector('inputs', [...inputs, ...(builtinKernels ? [nt] : [])]);
  w.vector('outputs', [...outputs, ...(builtinKernels ? [nt + 1] : [])]);
  w.vector('ops', [...ops.map(old), ...(builtinKernels ? [{ label: 'op' }] : [])]);
  if (newCode) w.vector('codes', [...codes.map(old), { label: 'code' }]);
  if (builtinKernels) {
    for (const [label, n] of [['s', 'mcu_mem_probe_shape'], ['z', 'mcu_mem_probe_dynamic']] as const) {
      w.table(label, [{ slot: 0, ref: { label: `${label}.shape` } }, { slot: 1, u8: INT32 }, { slot: 2, u32: 0 }, { slot: 3, ref: { label: `${label}.name` } }]);
      w.vector(`${label}.shape`, [1]);
      w.string(`${label}.name`, n);
    }
    w.table('op', [{ slot: 0, u32: reshape }, { slot: 1, ref: { label: 'op.in' } }, { slot: 2, ref: { label: 'op.out' } }]);
    w.vector('op.in', [nt, nt]);
    w.vector('op.out', [nt + 1]);
  }
  if (newCode) w.table('code', [{ slot: 0, u8: RESHAPE }, { slot: 2, u32: 1 }, { slot: 3, u32: RESHAPE }]);

  // TFLite checks quantized_dimension < rank; TFLM does not (person_detect's 1-D biases say 3).
  const copy = bytes.slice();
  const dv = new DataView(copy.buffer);
  for (const t of tensors) {
    const table = f.tableAt(t, 'tensor');
    const rank = table.vector(0, 4, 'shape')?.length ?? 0;
    const at = table.table(4, 'quantization')?.at(6, 4) ?? 0;
    if (at && rank > 0 && dv.getInt32(at, true) >= rank) dv.setInt32(at, 0, true);
  }
  return w.finish(copy);
}

// ---- The interpreter (embind classes of tflite_web_api_cc).
interface CppVector<T> {
  size(): number;
  get(i: number): T;
  delete(): void;
}
interface TensorInfo {
  id: number;
  dataType: string;
  data(): Int8Array | Uint8Array | Int16Array | Int32Array | Float32Array;
}
interface Runner {
  GetInputs(): CppVector<TensorInfo>;
  GetOutputs(): CppVector<TensorInfo>;
  Infer(): boolean;
  GetProfilingResults(): CppVector<{ nodeType: string }>;
  delete(): void;
}
interface TfliteModule {
  HEAPU8: Uint8Array;
  _malloc(n: number): number;
  _free(p: number): void;
  TFLiteWebModelRunner: {
    CreateFromBufferAndOptions(p: number, n: number, o: { numThreads: number; enableProfiling: boolean; maxProfilingBufferEntries: number }): {
      ok(): boolean;
      errorMessage(): string;
      value(): Runner;
    };
  };
}

const WASM_DIR = (() => {
  try {
    return path.join(path.dirname(require.resolve('@tensorflow/tfjs-tflite/package.json')), 'wasm');
  } catch {
    return null;
  }
})();
export const HAVE_TFLITE = WASM_DIR !== null && fs.existsSync(path.join(WASM_DIR, 'tflite_web_api_cc.wasm'));

let loaded: Promise<TfliteModule> | undefined;
const messages: string[] = [];
function tfliteModule(): Promise<TfliteModule> {
  if (!WASM_DIR) throw new Error('npm @tensorflow/tfjs-tflite is not installed');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const factory = require(path.join(WASM_DIR, 'tflite_web_api_cc.js')) as (m: object) => Promise<TfliteModule>;
  loaded ??= factory({
    wasmBinary: fs.readFileSync(path.join(WASM_DIR, 'tflite_web_api_cc.wasm')),
    print: (s: string) => messages.push(s),
    printErr: (s: string) => messages.push(s),
  });
  return loaded;
}

export interface TfliteRun {
  /** Raw bytes of every tensor asked for, by tensor index. */
  tensors: Map<number, Uint8Array>;
  /** The kernels TFLite ran, in order (from its profiler). */
  kernels: string[];
}

/** Runs a TFLite model in TFLite's interpreter with its built-in kernels: `inputs` are the raw bytes of the graph
 *  inputs in order; returns the bytes of the `wanted` tensors after the run. Throws if a delegate ran any node. */
export async function tfliteRun(bytes: Uint8Array, inputs: readonly Uint8Array[], wanted: readonly number[]): Promise<TfliteRun> {
  const m = await tfliteModule();
  const probe = probeModel(bytes, wanted);
  messages.length = 0;
  const p = m._malloc(probe.length);
  m.HEAPU8.set(probe, p);
  const created = m.TFLiteWebModelRunner.CreateFromBufferAndOptions(p, probe.length, { numThreads: 1, enableProfiling: true, maxProfilingBufferEntries: 1 << 16 });
  if (!created.ok()) {
    m._free(p);
    throw new Error(`TFLite refused the model: ${created.errorMessage()} ${messages.join(' | ')}`);
  }
  const runner = created.value();
  try {
    const ins = runner.GetInputs();
    if (ins.size() !== inputs.length + 1) throw new Error(`the model has ${ins.size() - 1} inputs, ${inputs.length} given`);
    for (let k = 0; k <= inputs.length; k++) {
      const d = ins.get(k).data();
      const raw = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
      const src = k < inputs.length ? inputs[k]! : new Uint8Array(new Int32Array([1]).buffer);
      if (src.length !== raw.length) throw new Error(`input ${k}: ${src.length} bytes given, ${raw.length} expected`);
      raw.set(src);
    }
    ins.delete();
    if (!runner.Infer()) throw new Error(`TFLite failed to run the model: ${messages.join(' | ')}`);
    const prof = runner.GetProfilingResults();
    const kernels = Array.from({ length: prof.size() }, (_, i) => prof.get(i).nodeType);
    prof.delete();
    const delegated = kernels.filter((k) => /delegate/i.test(k));
    if (delegated.length) throw new Error(`a delegate ran nodes (${delegated.join(', ')}): not TFLite's built-in kernels`);
    const outs = runner.GetOutputs();
    const tensors = new Map<number, Uint8Array>();
    for (let k = 0; k < outs.size(); k++) {
      const info = outs.get(k);
      const d = info.data();
      tensors.set(info.id, new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice());
    }
    outs.delete();
    return { tensors, kernels: kernels.slice(0, -1) };
  } finally {
    runner.delete();
    m._free(p);
  }
}

/** The activation tensors a TFLite graph computes or takes (every tensor an operator reads or writes that is not a
 *  constant), in index order: what `tfliteRun` is asked for to see every step's operands. */
export function activationTensors(graph: Graph): number[] {
  const s = new Set<number>();
  for (const op of graph.ops) for (const t of [...op.inputs, ...op.outputs]) if (t >= 0 && graph.tensors[t]!.role !== 'constant') s.add(t);
  return [...s].sort((a, b) => a - b);
}
