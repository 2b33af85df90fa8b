// What TFLM's MicroInterpreter takes from the tensor arena for a TFLite model, to the byte, on a 32-bit Cortex-M
// build: `arena_used_bytes()` after AllocateTensors() and the smallest arena that AllocateTensors() accepts. It follows
// TFLM (micro_allocator.cc, micro_interpreter.cc, micro_allocation_info.cc, single_arena_buffer_allocator.cc) step by
// step: the tail is every persistent allocation in TFLM's order, each aligned as TFLM aligns it; the head is TFLM's
// greedy plan of the tensors it allocates and the kernels' scratch buffers. Sizes of TFLM's structs and kernels are in
// kernels.ts, measured on TFLM's own 32-bit build (scripts/tflm/runner.cc --log).
import type { Graph, Op, Tensor } from '../graph';
import { DTYPE_BITS, elementCount } from '../graph';
import { alignUp, greedyBySize, type PlanItem } from '../analysis/planner';
import { TFLM_ABI, TFLM_KERNELS, prepareAllocations, scratchRequests, type TflmOpFacts } from './kernels';

/** Kinds of tail allocation. 'kernel data': each kernel's Init (its OpData); 'prepare data': what Prepare allocates
 *  (per-channel multipliers and shifts, int16 softmax tables, copied output dims). */
export type TflmTailKind =
  | 'interpreter' | 'tensor structs' | 'operator structs' | 'operator parameters' | 'kernel data'
  | 'prepare data' | 'scratch handles' | 'variables' | 'inputs and outputs';

export const TFLM_TAIL_KINDS: readonly TflmTailKind[] = [
  'interpreter', 'tensor structs', 'operator structs', 'operator parameters', 'kernel data', 'prepare data',
  'scratch handles', 'variables', 'inputs and outputs',
];

export interface TflmArena {
  /** MicroInterpreter::arena_used_bytes() after AllocateTensors(): head + tail. */
  arenaUsedBytes: number;
  /** The smallest kTensorArenaSize (multiple of 16, the arena 16-byte aligned) for which AllocateTensors() succeeds:
   *  larger than arenaUsedBytes when planning needs more room than the final plan (small models). */
  minArenaBytes: number;
  /** The planned section: TFLM's greedy plan of the tensors it allocates and the kernels' scratch buffers. */
  headBytes: number;
  /** The persistent section, by kind (each allocation with the alignment padding it caused). */
  tailBytes: number;
  tail: { kind: TflmTailKind; bytes: number }[];
  /** Buffers TFLM plans in the head: tensors and scratch buffers. */
  plannedTensors: number;
  scratchBuffers: number;
  /** The declaration to paste into the firmware. */
  declaration: string;
}

export type TflmResult = { ok: true; value: TflmArena } | { ok: false; reason: string };

/** The buffers TFLM plans in the head, in its request order: tensors (with their index) then scratch buffers. */
export interface TflmHead {
  items: PlanItem[];
  /** Tensor index of each item; -1 for a scratch buffer. */
  tensorOf: number[];
}

/** Bytes TFLM gives a tensor (TfLiteEvalTensorByteLength): element size × element count. */
function tensorBytes(t: Tensor): number | null {
  if (!t.shape) return null;
  const bits = DTYPE_BITS[t.dtype];
  if (bits === 0 || bits % 8 !== 0) return null;
  return (bits / 8) * elementCount(t.shape);
}

/** The tail: TFLM's persistent allocations, from the end of the arena downwards. */
class Tail {
  used = 0;
  readonly byKind = new Map<TflmTailKind, number>();
  alloc(bytes: number, align: number, kind: TflmTailKind): void {
    const before = this.used;
    this.used = alignUp(this.used + bytes, align);
    this.byKind.set(kind, (this.byKind.get(kind) ?? 0) + this.used - before);
  }
}

/** The operands of a TFLite operator, as the file lists them. */
function rawInputs(op: Op): number[] {
  return (op.fileInputs ?? [...op.inputs, ...op.params]).filter((i) => i >= 0);
}

const isInlinePart = (op: Op): boolean => op.kind === 'Special' && ['call_in', 'call_out', 'call_end'].includes(op.attrs.fn ?? '');

export function tflmArena(graph: Graph): TflmResult {
  const r = tflmAllocation(graph);
  return r.ok ? { ok: true, value: r.value.arena } : r;
}

export type TflmAllocation = { ok: true; value: { arena: TflmArena; head: TflmHead } } | { ok: false; reason: string };

/** TFLM's allocation: the figures, and the head's buffers (for a better offline plan). */
export function tflmAllocation(graph: Graph): TflmAllocation {
  if (graph.format !== 'tflite') return { ok: false, reason: 'TFLM runs TFLite models; this is an ONNX model' };
  const subgraphs = graph.metadata.subgraphCount ?? 1;
  const runs = new Array<number>(subgraphs).fill(0);
  for (const c of graph.metadata.inlined ?? []) runs[c.subgraph] = (runs[c.subgraph] ?? 0) + 1;
  const odd = runs.findIndex((n, k) => k > 0 && n !== 1);
  if (odd > 0) return { ok: false, reason: `subgraph ${odd} is run by ${runs[odd]} control-flow operators: TFLM's arena is predicted when each subgraph runs from one place` };
  const A = TFLM_ABI;
  const facts: TflmOpFacts[] = [];
  // The parts of an inlined control-flow operator (its subgraphs' copy-in, read-out and end) are not TFLM operators.
  for (const op of graph.ops.filter((o) => !isInlinePart(o))) {
    const k = TFLM_KERNELS[op.sourceType];
    if (!k) return { ok: false, reason: `operator #${op.index} ${op.sourceType}${op.customCode ? ` (${op.customCode})` : ''}: its TFLM kernel is not modelled` };
    // dequantize_common.cc: TFLM dequantizes int8, int16 and uint8 only (fp16 weights fail in Prepare).
    const dqIn = op.sourceType === 'DEQUANTIZE' ? graph.tensors[op.inputs[0] ?? -1]?.dtype : undefined;
    if (dqIn && !['int8', 'int16', 'uint8'].includes(dqIn)) return { ok: false, reason: `operator #${op.index} DEQUANTIZE reads ${dqIn}: TFLM dequantizes int8, int16 and uint8 only, so it cannot run this model` };
    facts.push({ op, kernel: k, graph });
  }
  // TFLM initialises and prepares subgraph by subgraph, in index order (the inlined order keeps each one's own order).
  facts.sort((a, b) => (a.op.subgraph ?? 0) - (b.op.subgraph ?? 0));
  // An offline plan (OfflineMemoryAllocation metadata) gives tensors their offsets; -1 leaves one to the planner.
  const offline = graph.metadata.offlinePlan?.offsets ?? null;
  if (offline && offline.length !== graph.tensors.length) return { ok: false, reason: `the offline memory plan has ${offline.length} offsets for ${graph.tensors.length} tensors, which TFLM refuses` };
  const offlineAt = (i: number): number | undefined => (offline && offline[i] !== -1 ? offline[i] : undefined);
  const bytes: (number | null)[] = graph.tensors.map(tensorBytes);
  for (const [i, t] of graph.tensors.entries()) {
    if (bytes[i] === null && !t.fileBuffer) return { ok: false, reason: `tensor '${t.name}' has no known size` };
  }
  const tail = new Tail();

  // MicroInterpreter(model, resolver, arena, size): MicroAllocator::Create makes the arena allocator, the greedy
  // planner and the MicroAllocator in the tail.
  tail.alloc(A.singleArenaBufferAllocator, A.pointer, 'interpreter');
  tail.alloc(A.greedyMemoryPlanner, A.pointer, 'interpreter');
  tail.alloc(A.microAllocator, A.pointer, 'interpreter');
  // AllocateTensors → StartModelAllocation: the builtin-data allocator, the scratch-request list in the head,
  // SubgraphAllocations, one TfLiteEvalTensor per tensor, one NodeAndRegistration per operator.
  tail.alloc(A.microBuiltinDataAllocator, A.pointer, 'interpreter');
  tail.alloc(A.subgraphAllocations * subgraphs, A.pointer, 'interpreter');
  tail.alloc(A.evalTensor * graph.tensors.length, A.pointer, 'tensor structs');
  tail.alloc(A.nodeAndRegistration * facts.length, A.pointer, 'operator structs');
  // PrepareNodeAndRegistrationDataFromFlatbuffer: each operator's parsed options.
  for (const f of facts) if (f.kernel.parse) tail.alloc(f.kernel.parse[0], f.kernel.parse[1], 'operator parameters');
  // InitSubgraphs: each kernel's Init data (16-byte aligned, as every context->AllocatePersistentBuffer).
  for (const f of facts) if (f.kernel.init > 0) tail.alloc(f.kernel.init, A.arenaAlignment, 'kernel data');
  // PrepareSubgraphs: per-channel arrays and the like in the tail, scratch buffer requests for the head. After each
  // operator the request list in the head grows to hold 12 more requests: that head and the tail must fit together.
  const scratch: { bytes: number; op: number }[] = [];
  let peakDuringPrepare = 0;
  // A kernel's Prepare first takes a temporary TfLiteTensor (with its quantization) for each operand, inputs then
  // outputs, above the request list; then it allocates in the tail, which TFLM checks against the request list only.
  // The temporaries it still reads afterwards must not be overwritten: all but the last output's quantization.
  const quantBytes = (t: number): number => {
    const q = graph.tensors[t]?.quant;
    return q && q.scale.length > 0 ? A.affineQuantization + 4 + 4 * q.scale.length : 0;
  };
  for (const f of facts) {
    const operands = f.kernel.temps === 'none' ? [] : f.kernel.temps === 'first' ? rawInputs(f.op).slice(0, 1) : [...rawInputs(f.op), ...f.op.outputs];
    const temps = operands.reduce((sum, t) => sum + A.tfLiteTensor + quantBytes(t), 0);
    const requests = A.scratchRequest * (scratch.length + A.maxScratchPerOp);
    peakDuringPrepare = Math.max(peakDuringPrepare, tail.used + requests + temps);
    const allocations = prepareAllocations(f);
    for (const b of allocations) tail.alloc(b, A.arenaAlignment, 'prepare data');
    if (allocations.length > 0) peakDuringPrepare = Math.max(peakDuringPrepare, tail.used + requests + temps - quantBytes(operands.at(-1) ?? -1));
    for (const b of scratchRequests(f)) scratch.push({ bytes: b, op: f.op.index });
    peakDuringPrepare = Math.max(peakDuringPrepare, tail.used + A.scratchRequest * (scratch.length + A.maxScratchPerOp));
  }
  const requestList = A.scratchRequest * (scratch.length + A.maxScratchPerOp);

  // FinishModelAllocation: the scratch buffer handles, then CommitStaticMemoryPlan: the planning data as temporary
  // allocations in the head, the variable tensors in the tail, the plan.
  if (scratch.length > 0) tail.alloc(A.scratchBufferHandle * scratch.length, A.pointer, 'scratch handles');
  const tailBeforeVariables = tail.used;
  const temp = alignUp(alignUp(requestList, A.pointer) + A.pointer * subgraphs /* subgraph offsets */, A.pointer) + A.allocationInfo * (graph.tensors.length + scratch.length);
  // Variable tensors live in the tail, unless the offline plan places them in the head.
  for (const [i, t] of graph.tensors.entries()) if (t.role === 'variable' && offlineAt(i) === undefined) tail.alloc(bytes[i] ?? 0, A.arenaAlignment, 'variables');

  // Lifetimes as micro_allocation_info.cc marks them: graph inputs at scope 0, operator i at scope i + 1 (its outputs
  // created there, its inputs and outputs used there), graph outputs kept to the last scope. Shifted by one so that a
  // tensor nothing uses (scope -1) stays a valid step.
  const first = new Array<number>(graph.tensors.length).fill(-1);
  const last = new Array<number>(graph.tensors.length).fill(-1);
  const create = (t: number, s: number): void => { if (first[t] === -1) first[t] = s; };
  for (const t of graph.inputs) { create(t, 0); last[t] = 0; }
  graph.ops.forEach((op, i) => {
    for (const t of op.outputs) create(t, i + 1);
    for (const t of rawInputs(op)) last[t] = i + 1;
    for (const t of op.outputs) last[t] = i + 1;
  });
  const end = graph.ops.length;
  for (const t of graph.outputs) { create(t, end); last[t] = end; }
  const items: PlanItem[] = [];
  const tensorOf: number[] = [];
  // TFLM lists the tensors subgraph by subgraph, in index order (the inlined ones were read in the order they run).
  const ranges = [...(graph.metadata.inlined ?? [])].sort((a, b) => a.subgraph - b.subgraph);
  const mainCount = graph.metadata.inlined?.[0]?.firstTensor ?? graph.tensors.length;
  const order = [...Array.from({ length: mainCount }, (_, i) => i), ...ranges.flatMap((r) => Array.from({ length: r.tensorCount }, (_, j) => r.firstTensor + j))];
  order.forEach((i) => {
    const t = graph.tensors[i]!;
    const b = bytes[i] ?? 0;
    const at = offlineAt(i);
    // micro_allocation_info.cc: no file data, not a variable, not empty; or a variable the offline plan places.
    const planned = (!t.fileBuffer && t.role !== 'variable' && b !== 0) || (t.role === 'variable' && at !== undefined);
    if (!planned) return;
    items.push({ size: alignUp(b, A.arenaAlignment), start: first[i]! + 1, end: last[i]! + 1, ...(at !== undefined ? { offset: at } : {}) });
    tensorOf.push(i);
  });
  const plannedTensors = items.length;
  for (const s of scratch) {
    items.push({ size: alignUp(s.bytes, A.arenaAlignment), start: s.op + 2, end: s.op + 2 });
    tensorOf.push(-1);
  }
  const head = greedyBySize(items).size;

  // The planner's working memory: what is left between the temporary allocations and the tail must hold its
  // per-buffer records.
  const planning = alignUp(tail.used, A.arenaAlignment) + alignUp(temp, A.arenaAlignment) + A.plannerPerBuffer * items.length;
  const beforeVariables = tailBeforeVariables + temp;

  // AllocateTensors, after planning: the input and output tensor arrays and a persistent TfLiteTensor for each (with
  // its quantization parameters and a zero-point array per channel).
  const io = (list: number[]): void => {
    tail.alloc(A.pointer * list.length, A.arenaAlignment, 'inputs and outputs');
    for (const t of list) {
      tail.alloc(A.tfLiteTensor, A.pointer, 'inputs and outputs');
      const q = graph.tensors[t]!.quant;
      if (q && q.scale.length > 0) {
        tail.alloc(A.affineQuantization, A.pointer, 'inputs and outputs');
        tail.alloc(4 + 4 * q.scale.length, 4, 'inputs and outputs');
      }
    }
  };
  io(graph.inputs);
  io(graph.outputs);
  const used = head + tail.used;
  const min = alignUp(Math.max(used, planning, beforeVariables, peakDuringPrepare), A.arenaAlignment);
  const arena: TflmArena = {
    arenaUsedBytes: used,
    minArenaBytes: min,
    headBytes: head,
    tailBytes: tail.used,
    tail: TFLM_TAIL_KINDS.map((kind) => ({ kind, bytes: tail.byKind.get(kind) ?? 0 })).filter((k) => k.bytes > 0),
    plannedTensors,
    scratchBuffers: scratch.length,
    declaration: `alignas(16) static uint8_t tensor_arena[${min}];`,
  };
  return { ok: true, value: { arena, head: { items, tensorOf } } };
}
