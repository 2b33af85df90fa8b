// Execution steps: the operators that run, after the conventions' fusions, and the buffers their tensors live in.
// A step is one executed kernel; it may carry several file operators (Conv+Clip, Pad+Conv, Conv+Add). Tensors that
// share memory (in-place depthwise, fused residual Add) are mapped to one buffer.
import type { ActivationFn, Graph, OpKind } from '../graph';
import { bytesFor, DTYPE_BITS, elementCount } from '../graph';
import type { Conventions } from './conventions';

export interface Step {
  /** File operator indices, the executed one first. */
  ops: number[];
  /** The operator that executes (its kind names the step). */
  main: number;
  /** Activation tensors read (no constants). */
  inputs: number[];
  outputs: number[];
}

export interface BufferInfo {
  id: number;
  /** Tensors stored in this buffer (more than one when a step works in place). */
  tensors: number[];
  bytes: number;
  /** First and last step during which the buffer must hold data (inclusive). */
  start: number;
  end: number;
}

export interface ExecPlan {
  steps: Step[];
  /** Buffer id per tensor id (-1 for constants and unused tensors). */
  bufferOf: Int32Array;
  buffers: BufferInfo[];
  /** The bytes each activation tensor counts under the conventions. */
  tensorBytes: (id: number) => number;
}

const FUSABLE_ACT: ReadonlySet<ActivationFn> = new Set<ActivationFn>([
  'relu', 'relu6', 'relu_n1_to_1', 'clip', 'sigmoid', 'hardsigmoid', 'hardswish', 'leakyrelu', 'tanh', 'elu', 'gelu', 'silu', 'prelu',
]);
const FUSE_INTO: ReadonlySet<OpKind> = new Set<OpKind>([
  'Conv2D', 'DepthwiseConv2D', 'TransposeConv2D', 'FullyConnected', 'MatMul', 'Add', 'Sub', 'Mul', 'Concat',
  'MaxPool2D', 'AvgPool2D', 'GlobalAvgPool', 'BatchNorm', 'Reduce',
]);
const PAD_INTO: ReadonlySet<OpKind> = new Set<OpKind>(['Conv2D', 'DepthwiseConv2D', 'MaxPool2D', 'AvgPool2D']);
const ADD_INTO: ReadonlySet<OpKind> = new Set<OpKind>(['Conv2D', 'DepthwiseConv2D', 'FullyConnected']);

class UnionFind {
  private readonly parent: Int32Array;
  constructor(n: number) {
    this.parent = new Int32Array(n).map((_, i) => i);
  }
  find(i: number): number {
    while (this.parent[i] !== i) {
      this.parent[i] = this.parent[this.parent[i]!]!;
      i = this.parent[i]!;
    }
    return i;
  }
  union(a: number, b: number): void {
    this.parent[this.find(a)] = this.find(b);
  }
}

export function buildExecPlan(graph: Graph, conv: Conventions): ExecPlan {
  const isData = (id: number): boolean => id >= 0 && graph.tensors[id]!.role !== 'constant';
  const graphOutputs = new Set(graph.outputs);
  let steps: Step[] = graph.ops
    .filter((op) => !op.folded)
    .map((op) => ({
      ops: [op.index],
      main: op.index,
      inputs: [...new Set([...op.inputs, ...op.params].filter(isData))],
      outputs: op.outputs.slice(),
    }));
  const kind = (s: Step): OpKind => graph.ops[s.main]!.kind;
  const alias = new UnionFind(graph.tensors.length);

  const index = (): { producer: Map<number, Step>; readers: Map<number, Step[]> } => {
    const producer = new Map<number, Step>();
    const readers = new Map<number, Step[]>();
    for (const s of steps) {
      for (const o of s.outputs) producer.set(o, s);
      for (const i of s.inputs) {
        const r = readers.get(i);
        if (r) r.push(s);
        else readers.set(i, [s]);
      }
    }
    return { producer, readers };
  };
  const replace = (list: number[], from: number, to: number): number[] => [...new Set(list.map((x) => (x === from ? to : x)))];
  const removeSteps = (dead: Set<Step>): void => {
    steps = steps.filter((s) => !dead.has(s));
  };

  if (conv.fuseActivations) {
    const { producer, readers } = index();
    const dead = new Set<Step>();
    for (const s of steps) {
      if (dead.has(s) || kind(s) !== 'Activation') continue;
      const act = graph.ops[s.main]!.attrs.activation;
      const x = s.inputs[0];
      if (x === undefined || !act || !FUSABLE_ACT.has(act) || graphOutputs.has(x)) continue;
      const p = producer.get(x);
      if (!p || dead.has(p) || !FUSE_INTO.has(kind(p))) continue;
      const xr = readers.get(x) ?? [];
      const y = s.outputs[0]!;
      if (xr.length === 1) {
        absorb(p, s, x, y);
        dead.add(s);
        continue;
      }
      // x·sigmoid(x) (SiLU) and x·hardsigmoid(x) (HardSwish as PyTorch exports it)
      if ((act === 'sigmoid' || act === 'hardsigmoid') && xr.length === 2 && !graphOutputs.has(y)) {
        const m = xr.find((r) => r !== s);
        const yr = readers.get(y) ?? [];
        if (m && !dead.has(m) && kind(m) === 'Mul' && yr.length === 1 && yr[0] === m && m.inputs.length === 2 && m.inputs.includes(x) && m.inputs.includes(y)) {
          absorb(p, s, x, y);
          absorb(p, m, y, m.outputs[0]!);
          p.inputs = p.inputs.filter((i) => i !== x && i !== y); // both exist only inside the fused kernel
          dead.add(s);
          dead.add(m);
        }
      }
    }
    removeSteps(dead);
  }

  /** Step p absorbs step s: p's output `from` is replaced by s's output `to`. */
  function absorb(p: Step, s: Step, from: number, to: number): void {
    p.ops.push(...s.ops);
    p.outputs = replace(p.outputs, from, to);
    for (const i of s.inputs) if (i !== from && !p.inputs.includes(i) && !p.outputs.includes(i)) p.inputs.push(i);
  }

  // QDQ (ONNX): QuantizeLinear fused into the producer, DequantizeLinear of activations removed, so quantized
  // operators read and write int8 tensors, as an int8 runtime executes them. A quantization to a wider type (TFLite's
  // QUANTIZE int16 → int32 after a keyword model's SOFTMAX) stays a step of its own: both tensors exist.
  {
    const { producer, readers } = index();
    const dead = new Set<Step>();
    for (const s of steps) {
      if (kind(s) !== 'Quantize' || s.outputs.length !== 1) continue;
      const f = s.inputs[0];
      if (f === undefined || graphOutputs.has(f)) continue;
      if (DTYPE_BITS[graph.tensors[s.outputs[0]!]!.dtype] > DTYPE_BITS[graph.tensors[f]!.dtype]) continue;
      const p = producer.get(f);
      if (!p || dead.has(p) || kind(p) === 'Quantize' || kind(p) === 'Dequantize' || (readers.get(f)?.length ?? 0) !== 1) continue;
      absorb(p, s, f, s.outputs[0]!);
      dead.add(s);
    }
    removeSteps(dead);
  }
  {
    const { readers } = index();
    const dead = new Set<Step>();
    for (const s of steps) {
      if (kind(s) !== 'Dequantize' || s.outputs.length !== 1) continue;
      const q = s.inputs[0];
      const f = s.outputs[0]!;
      const fr = readers.get(f) ?? [];
      if (q === undefined || graphOutputs.has(f) || fr.length === 0) continue;
      if (fr.some((r) => kind(r) === 'Quantize' || kind(r) === 'Dequantize')) continue;
      // Only where every reader quantizes its result again (a QDQ operator): a float tail after a DEQUANTIZE (a
      // TFLite classifier's float LOG_SOFTMAX) reads the float tensor, which the runtime writes.
      if (!fr.every((r) => r.ops.some((o) => graph.ops[o]!.kind === 'Quantize'))) continue;
      for (const r of fr) r.inputs = replace(r.inputs, f, q);
      fr[0]!.ops.push(...s.ops);
      dead.add(s);
    }
    removeSteps(dead);
  }

  if (conv.fusePad) {
    const { readers } = index();
    const dead = new Set<Step>();
    for (const s of steps) {
      // Only constant padding folds into the next window (TFLite's MIRROR_PAD and ONNX's reflect/edge/wrap do not).
      if (kind(s) !== 'Pad' || graph.ops[s.main]!.attrs.activation === 'other' || graph.ops[s.main]!.attrs.padMode !== undefined) continue;
      const p = s.outputs[0]!;
      const pr = readers.get(p) ?? [];
      const x = s.inputs[0];
      if (x === undefined || pr.length !== 1 || graphOutputs.has(p) || !PAD_INTO.has(kind(pr[0]!))) continue;
      const c = pr[0]!;
      if (c.inputs[0] !== p) continue;
      c.inputs = replace(c.inputs, p, x);
      c.ops.push(...s.ops);
      dead.add(s);
    }
    removeSteps(dead);
  }

  const order = (): Map<Step, number> => new Map(steps.map((s, i) => [s, i]));
  const lastReader = (readers: Map<number, Step[]>, pos: Map<Step, number>, t: number): number =>
    Math.max(-1, ...(readers.get(t) ?? []).map((r) => pos.get(r)!));

  if (conv.fuseAdd) {
    const { producer, readers } = index();
    const pos = order();
    const dead = new Set<Step>();
    for (const s of steps) {
      if (kind(s) !== 'Add' || s.inputs.length !== 2 || s.outputs.length !== 1) continue;
      const y = s.outputs[0]!;
      const here = pos.get(s)!;
      // Prefer the operand computed last (the residual branch); the other is the skip tensor.
      const operands = s.inputs
        .map((a) => ({ a, p: producer.get(a) }))
        .filter((o) => o.p && !dead.has(o.p) && ADD_INTO.has(kind(o.p)))
        .sort((u, v) => pos.get(v.p!)! - pos.get(u.p!)!);
      for (const { a, p } of operands) {
        const b = s.inputs.find((i) => i !== a)!;
        const bt = graph.tensors[b]!;
        const yt = graph.tensors[y]!;
        if ((readers.get(a)?.length ?? 0) !== 1 || graphOutputs.has(a) || graphOutputs.has(b) || bt.role === 'variable') continue;
        if (lastReader(readers, pos, b) !== here || !bt.shape || !yt.shape || elementCount(bt.shape) !== elementCount(yt.shape) || bt.dtype !== yt.dtype) continue;
        absorb(p!, s, a, y);
        alias.union(y, b);
        dead.add(s);
        break;
      }
    }
    removeSteps(dead);
  }

  if (conv.inplaceDepthwise) {
    const { readers } = index();
    const pos = order();
    for (const s of steps) {
      const op = graph.ops[s.main]!;
      if (op.kind !== 'DepthwiseConv2D' || (op.attrs.depthMultiplier ?? 1) !== 1 || s.outputs.length !== 1) continue;
      const x = s.inputs[0];
      if (x === undefined || graphOutputs.has(x) || graph.tensors[x]!.role === 'variable') continue;
      if (lastReader(readers, pos, x) !== pos.get(s)) continue;
      alias.union(s.outputs[0]!, x);
    }
  }

  return assignBuffers(graph, conv, steps, alias);
}

function assignBuffers(graph: Graph, conv: Conventions, steps: Step[], alias: UnionFind): ExecPlan {
  const n = steps.length;
  const graphInputs = new Set(graph.inputs);
  const tensorBytes = (id: number): number => {
    const t = graph.tensors[id]!;
    if (!t.shape || t.role === 'constant') return 0;
    if (!conv.countInput && graphInputs.has(id)) return 0;
    return conv.asInt8 ? bytesFor(t.dtype, t.shape, 8) : bytesFor(t.dtype, t.shape);
  };
  const bufferOf = new Int32Array(graph.tensors.length).fill(-1);
  const byRoot = new Map<number, BufferInfo>();
  const touch = (t: number, at: number, writes: boolean): void => {
    const tensor = graph.tensors[t]!;
    if (tensor.role === 'constant') return;
    const root = alias.find(t);
    let b = byRoot.get(root);
    if (!b) {
      b = { id: byRoot.size, tensors: [], bytes: 0, start: Infinity, end: -Infinity };
      byRoot.set(root, b);
    }
    if (bufferOf[t] === -1) {
      bufferOf[t] = b.id;
      b.tensors.push(t);
      b.bytes = Math.max(b.bytes, tensorBytes(t));
    }
    const alwaysLive = tensor.role === 'variable';
    const from = alwaysLive || (tensor.role === 'input' && !writes) ? 0 : at;
    b.start = Math.min(b.start, from);
    b.end = Math.max(b.end, alwaysLive ? n - 1 : at);
  };
  for (const t of graph.inputs) touch(t, 0, false);
  for (const t of graph.tensors) if (t.role === 'variable') touch(t.id, 0, false);
  steps.forEach((s, i) => {
    for (const t of s.inputs) touch(t, i, false);
    for (const t of s.outputs) touch(t, i, true);
  });
  for (const t of graph.outputs) touch(t, Math.max(n - 1, 0), false); // constants are skipped by touch
  const buffers = [...byRoot.values()].sort((a, b) => a.id - b.id);
  for (const b of buffers) {
    if (!Number.isFinite(b.start)) b.start = 0;
    if (!Number.isFinite(b.end)) b.end = b.start;
  }
  return { steps, bufferOf, buffers, tensorBytes };
}

/** Bytes alive at each step: the live set. */
export function liveBytes(plan: ExecPlan): number[] {
  const n = plan.steps.length;
  const diff = new Float64Array(n + 1);
  for (const b of plan.buffers) {
    if (b.bytes === 0 || n === 0) continue;
    diff[Math.max(0, b.start)]! += b.bytes;
    diff[Math.min(n - 1, b.end) + 1]! -= b.bytes;
  }
  const live: number[] = [];
  let acc = 0;
  for (let i = 0; i < n; i++) {
    acc += diff[i]!;
    live.push(acc);
  }
  return live;
}
