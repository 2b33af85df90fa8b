// The coverage checklist: every builtin operator TFLM registers (MicroMutableOpResolver at the pinned commit, 101
// entries), and whether the analysis sizes it (a shape rule and MACs in analysis/ops.ts, through the reader's kind)
// or why it does not. test/unit/coverage.test.ts checks it against TFLM's resolver and the reader.

/** `true`: sized; a string: why not. */
export const TFLM_BUILTINS: Readonly<Record<string, true | string>> = {
  ABS: true, ADD: true, ADD_N: true, ARG_MAX: true, ARG_MIN: true, AVERAGE_POOL_2D: true, BATCH_MATMUL: true,
  BATCH_TO_SPACE_ND: true, BROADCAST_ARGS: true, BROADCAST_TO: true, CAST: true, CEIL: true, CONCATENATION: true,
  CONV_2D: true, COS: true, CUMSUM: true, DEPTHWISE_CONV_2D: true, DEPTH_TO_SPACE: true, DEQUANTIZE: true, DIV: true,
  DYNAMIC_UPDATE_SLICE: true, ELU: true, EMBEDDING_LOOKUP: true, EQUAL: true, EXP: true, EXPAND_DIMS: true, FILL: true,
  FLOOR: true, FLOOR_DIV: true, FLOOR_MOD: true, FULLY_CONNECTED: true, GATHER: true, GATHER_ND: true, GREATER: true,
  GREATER_EQUAL: true, HARD_SWISH: true, L2_NORMALIZATION: true, L2_POOL_2D: true, LEAKY_RELU: true, LESS: true,
  LESS_EQUAL: true, LOG: true, LOGICAL_AND: true, LOGICAL_NOT: true, LOGICAL_OR: true, LOGISTIC: true, LOG_SOFTMAX: true,
  MAXIMUM: true, MAX_POOL_2D: true, MEAN: true, MINIMUM: true, MIRROR_PAD: true, MUL: true, NEG: true, NOT_EQUAL: true,
  PACK: true, PAD: true, PADV2: true, PRELU: true, QUANTIZE: true, REDUCE_ALL: true, REDUCE_MAX: true, REDUCE_MIN: true,
  RELU: true, RELU6: true, RESHAPE: true, RESIZE_BILINEAR: true, RESIZE_NEAREST_NEIGHBOR: true, REVERSE_V2: true,
  ROUND: true, RSQRT: true, SELECT_V2: true, SHAPE: true, SIN: true, SLICE: true, SOFTMAX: true, SPACE_TO_BATCH_ND: true,
  SPACE_TO_DEPTH: true, SPLIT: true, SPLIT_V: true, SQRT: true, SQUARE: true, SQUARED_DIFFERENCE: true, SQUEEZE: true,
  STRIDED_SLICE: true, SUB: true, SUM: true, SVDF: true, TANH: true, TRANSPOSE: true, TRANSPOSE_CONV: true,
  UNIDIRECTIONAL_SEQUENCE_LSTM: true, UNPACK: true, ZEROS_LIKE: true,
  // Control flow: the subgraphs it runs are inlined where TFLM plans them (the reader); resource variables are
  // variable tensors alive for the whole run.
  CALL_ONCE: true, IF: true, WHILE: true, VAR_HANDLE: true, READ_VARIABLE: true, ASSIGN_VARIABLE: true,
  CUSTOM: 'custom operators are named one by one (Ethos-U command streams, Edge TPU, signal processing): memory from the stored shapes, MACs unknown',
};
