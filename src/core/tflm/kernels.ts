// TFLM's own numbers, as data: the sizes of its structs and what each kernel allocates, on a 32-bit Cortex-M build
// (the ARM EABI with short enums, as arm-none-eabi-gcc builds it). Measured on TFLM at commit 90b983c2 built for
// armhf with -fshort-enums and run under qemu-arm: `scripts/tflm/runner.cc --log` prints every allocation in the
// arena's tail with the phase and the operator that made it (test/corpus/tflm.test.ts checks these against it).
import type { Graph, Op, Tensor } from '../graph';
import { elementCount } from '../graph';

export const TFLM_ABI = {
  pointer: 4,
  /** MicroArenaBufferAlignment(): every planned buffer and every context->AllocatePersistentBuffer. */
  arenaAlignment: 16,
  singleArenaBufferAllocator: 36,
  greedyMemoryPlanner: 44,
  microAllocator: 36,
  microBuiltinDataAllocator: 8,
  subgraphAllocations: 8,
  /** TfLiteEvalTensor: data, dims, type. */
  evalTensor: 12,
  /** NodeAndRegistration: TfLiteNode and the registration pointer. */
  nodeAndRegistration: 32,
  tfLiteTensor: 32,
  /** TfLiteAffineQuantization: scale, zero_point, quantized_dimension. */
  affineQuantization: 12,
  scratchBufferHandle: 4,
  /** internal::ScratchBufferRequest: size_t bytes, int node_idx, int subgraph_idx. */
  scratchRequest: 12,
  /** kMaxScratchBuffersPerOp. */
  maxScratchPerOp: 12,
  /** AllocationInfo: size_t, void**, int, int, int32_t, bool. */
  allocationInfo: 24,
  /** GreedyMemoryPlanner::per_buffer_size(): BufferRequirements, two ints, ListEntry, an int. */
  plannerPerBuffer: 40,
} as const;

export type PrepareRule =
  /** Two int32 arrays (multiplier, shift) of one entry per channel; the channels are the filter's given axis. */
  | { perChannel: number }
  /** FULLY_CONNECTED: the two arrays only for a per-channel quantized filter of an int8/int16 layer. */
  | 'perChannelFc'
  /** SOFTMAX: two int16 lookup tables of 513 entries for an int16 input. */
  | 'softmaxInt16'
  /** The output's dims copied into the tail (CreateWritableTensorDimsWithCopy): a TfLiteIntArray of its rank. */
  | 'outputDims';

export type ScratchRule = 'reduceMeanSum' | 'reduceMinMax' | 'svdf' | 'int4Filter' | 'mirrorPad' | 'lstm' | 'transposeConv';

export interface TflmKernel {
  /** The parsed options struct in the tail: [bytes, alignment]; null when the parser allocates nothing. */
  parse: [number, number] | null;
  /** Bytes of the kernel's Init data (0 when it has none). */
  init: number;
  prepare?: PrepareRule;
  scratch?: ScratchRule;
  /** The temporary TfLiteTensors its Prepare takes: every operand (the default), the first input only, or none. */
  temps?: 'first' | 'none';
}

/** By the operator's name in the TFLite file (`Op.sourceType`). */
export const TFLM_KERNELS: Readonly<Record<string, TflmKernel>> = {
  ABS: { parse: null, init: 28 },
  // Control flow (if.cc, while.cc, call_once.cc): the subgraph indices parsed, copied into OpData at Prepare.
  IF: { parse: [8, 4], init: 8, temps: 'first' },
  WHILE: { parse: [8, 4], init: 8, temps: 'none' },
  CALL_ONCE: { parse: [4, 4], init: 8, temps: 'none' },
  // comparisons.cc: OpData holds ComparisonParams (seven ints and a bool).
  LESS: { parse: null, init: 32 },
  ADD: { parse: [2, 1], init: 60 },
  AVERAGE_POOL_2D: { parse: [40, 4], init: 32 },
  CONCATENATION: { parse: [8, 4], init: 24 },
  CONV_2D: { parse: [28, 4], init: 56, prepare: { perChannel: 0 }, scratch: 'int4Filter' },
  DEPTH_TO_SPACE: { parse: [4, 4], init: 0, prepare: 'outputDims' },
  DEPTHWISE_CONV_2D: { parse: [28, 4], init: 56, prepare: { perChannel: 3 }, scratch: 'int4Filter' },
  DEQUANTIZE: { parse: null, init: 32 },
  DIV: { parse: [1, 1], init: 28 },
  ELU: { parse: null, init: 256 },
  EXP: { parse: null, init: 0 },
  EXPAND_DIMS: { parse: null, init: 0 },
  FULLY_CONNECTED: { parse: [5, 1], init: 48, prepare: 'perChannelFc', scratch: 'int4Filter' },
  GATHER: { parse: [8, 4], init: 0, prepare: 'outputDims' },
  HARD_SWISH: { parse: null, init: 20 },
  L2_NORMALIZATION: { parse: [1, 1], init: 4 },
  LEAKY_RELU: { parse: [4, 4], init: 24 },
  LOGISTIC: { parse: null, init: 16 },
  MAX_POOL_2D: { parse: [40, 4], init: 32 },
  MAXIMUM: { parse: null, init: 0 },
  MEAN: { parse: [1, 1], init: 44, scratch: 'reduceMeanSum' },
  MINIMUM: { parse: null, init: 0 },
  MIRROR_PAD: { parse: [1, 1], init: 20, scratch: 'mirrorPad' },
  MUL: { parse: [1, 1], init: 36 },
  NEG: { parse: null, init: 0 },
  PACK: { parse: [8, 4], init: 0 },
  PAD: { parse: null, init: 56 },
  PADV2: { parse: null, init: 56 },
  QUANTIZE: { parse: null, init: 32 },
  REDUCE_MAX: { parse: [1, 1], init: 44, scratch: 'reduceMinMax' },
  RELU: { parse: null, init: 28 },
  RELU6: { parse: null, init: 8 },
  RESHAPE: { parse: [36, 4], init: 0 },
  RESIZE_BILINEAR: { parse: [2, 1], init: 0 },
  RESIZE_NEAREST_NEIGHBOR: { parse: [2, 1], init: 0 },
  SLICE: { parse: null, init: 0 },
  SOFTMAX: { parse: [4, 4], init: 56, prepare: 'softmaxInt16' },
  SPACE_TO_DEPTH: { parse: [4, 4], init: 0, prepare: 'outputDims' },
  SPLIT: { parse: [4, 4], init: 0 },
  SQUARED_DIFFERENCE: { parse: null, init: 112 },
  SQUEEZE: { parse: [36, 4], init: 0 },
  STRIDED_SLICE: { parse: [24, 4], init: 84 },
  SUB: { parse: [2, 1], init: 52 },
  SUM: { parse: [1, 1], init: 44, scratch: 'reduceMeanSum' },
  SVDF: { parse: [8, 4], init: 36, scratch: 'svdf' },
  TANH: { parse: null, init: 16 },
  TRANSPOSE: { parse: null, init: 0 },
  TRANSPOSE_CONV: { parse: [16, 4], init: 72, prepare: { perChannel: 0 }, scratch: 'transposeConv' },
  UNIDIRECTIONAL_SEQUENCE_LSTM: { parse: [16, 4], init: 688, scratch: 'lstm' },
  UNPACK: { parse: [8, 4], init: 0 },
};

export interface TflmOpFacts {
  op: Op;
  kernel: TflmKernel;
  graph: Graph;
}

/** The operator's i-th input as the file lists it. */
const tensorOf = (f: TflmOpFacts, i: number): Tensor | undefined => f.graph.tensors[(f.op.fileInputs ?? f.op.inputs)[i] ?? -1];

/** Persistent allocations (bytes, each 16-byte aligned) a kernel's Prepare makes. */
export function prepareAllocations(f: TflmOpFacts): number[] {
  const rule = f.kernel.prepare;
  if (!rule) return [];
  if (typeof rule === 'object') {
    const c = tensorOf(f, 1)?.shape?.[rule.perChannel] ?? 0;
    return [4 * c, 4 * c];
  }
  const input = tensorOf(f, 0);
  if (rule === 'outputDims') {
    const rank = f.graph.tensors[f.op.outputs[0] ?? -1]?.shape?.length ?? 0;
    return [4 + 4 * rank];
  }
  if (rule === 'perChannelFc') {
    const n = tensorOf(f, 1)?.quant?.scale.length ?? 0;
    return (input?.dtype === 'int8' || input?.dtype === 'int16') && n > 1 ? [4 * n, 4 * n] : [];
  }
  return input?.dtype === 'int16' ? [2 * 513, 2 * 513] : [];
}

/** Scratch buffer requests (bytes, in request order) a kernel's Prepare makes. */
export function scratchRequests(f: TflmOpFacts): number[] {
  const input = tensorOf(f, 0);
  const output = f.graph.tensors[f.op.outputs[0] ?? -1];
  const rank = input?.shape?.length ?? 0;
  const axisCount = tensorOf(f, 1)?.shape ? elementCount(tensorOf(f, 1)!.shape!) : 0;
  const outElements = output?.shape ? elementCount(output.shape) : 0;
  switch (f.kernel.scratch) {
    case 'reduceMeanSum':
      return [...(input?.dtype === 'int8' || input?.dtype === 'int16' ? [4 * outElements] : []), 4 * rank, 4 * axisCount];
    case 'reduceMinMax':
      return [4 * rank, 4 * axisCount];
    case 'svdf': {
      const batch = input?.shape?.[0] ?? 1;
      const filters = tensorOf(f, 1)?.shape?.[0] ?? 0;
      return input?.dtype === 'float32' ? [4 * batch * filters] : [4 * batch * filters, 4 * outElements];
    }
    case 'mirrorPad':
      return [4 * rank, 4 * rank];
    case 'transposeConv': {
      // Quantized: one accumulator per output element (int32 for int8, int64 for int16); float: none. The data input
      // is the file's third (after output_shape and the weights).
      // int16 with an int16 bias: then (CalculateOpData) its bias widened to int64.
      const x = tensorOf(f, 2);
      const bias = tensorOf(f, 3);
      const widened = x?.dtype === 'int16' && bias?.dtype === 'int16' && bias.shape ? [8 * elementCount(bias.shape)] : [];
      return x?.dtype === 'int8' ? [4 * outElements] : x?.dtype === 'int16' ? [8 * outElements, ...widened] : [];
    }
    case 'lstm': {
      // Four gate buffers of batch × state in the cell state's type (input 19: float32, or int16 for int8 LSTMs).
      const state = tensorOf(f, 19);
      const n = state?.shape ? elementCount(state.shape) : 0;
      const b = 4 * n * (state?.dtype === 'int16' ? 2 : 4);
      return [b / 4, b / 4, b / 4, b / 4];
    }
    case 'int4Filter': {
      const w = tensorOf(f, 1);
      return w?.dtype === 'int4' && w.shape ? [elementCount(w.shape)] : [];
    }
    default:
      return [];
  }
}
