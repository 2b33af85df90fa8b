// The one normalized graph model both readers produce. Later stages (analysis, scheduler, C export) only see this.

export type ModelFormat = 'onnx' | 'tflite';

export type DType =
  | 'float32' | 'float16' | 'bfloat16' | 'float64' | 'float8'
  | 'int4' | 'uint4' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64'
  | 'bool' | 'string' | 'complex64' | 'complex128' | 'resource' | 'variant' | 'unknown';

/** Bits per element; 0 for types without a fixed size (string, variant, unknown). */
export const DTYPE_BITS: Readonly<Record<DType, number>> = {
  float32: 32, float16: 16, bfloat16: 16, float64: 64, float8: 8,
  int4: 4, uint4: 4, int8: 8, uint8: 8, int16: 16, uint16: 16, int32: 32, uint32: 32, int64: 64, uint64: 64,
  // A resource handle (TFLite VAR_HANDLE's output) is an int32 id, as TFLM sizes it (TfLiteTypeSizeOf).
  bool: 8, string: 0, complex64: 64, complex128: 128, resource: 32, variant: 0, unknown: 0,
};

/**
 * Axis letters of a tensor, one per axis: 'NHWC', 'NCHW', 'NC', ... or null when not known.
 * N = batch, H = height, W = width, C = channels. Weights use their own letters (see WeightLayout).
 */
export type Layout = string | null;

export interface Quantization {
  scale: number[];
  zeroPoint: number[];
  /** Axis the per-channel parameters run along (TFLite quantized_dimension, ONNX axis). */
  axis: number;
}

export type TensorRole = 'input' | 'activation' | 'constant' | 'variable';

export interface Tensor {
  id: number;
  name: string;
  dtype: DType;
  /** Known dimensions (symbolic batch already replaced by 1), or null when unknown. */
  shape: number[] | null;
  layout: Layout;
  role: TensorRole;
  quant?: Quantization;
  /** Keys into Graph.storage of the stored bytes this constant comes from (each stored buffer counted once). */
  storage?: string[];
  /** Values of a small constant (at most 64 elements: shapes, pads, axes, scales), when known. */
  values?: number[];
  /** TFLite: the file holds data for this tensor (a non-empty buffer), so TFLM reads it from the model and never plans
   *  it in the arena, even when it is a graph input (which the analysis treats as an input). */
  fileBuffer?: boolean;
  /** True when the shape came from the file rather than from our inference. */
  shapeFromFile?: boolean;
  /** True when inference derived the shape from the producing operator's inputs (equal to the stored one, if any). */
  shapeInferred?: boolean;
}

export type Padding = 'explicit' | 'same_upper' | 'same_lower' | 'valid';

export interface SpatialAttrs {
  /** [kh, kw]; null until known (ONNX may take it from the weight shape). */
  kernel: [number, number] | null;
  strides: [number, number];
  dilations: [number, number];
  padding: Padding;
  /** [top, left, bottom, right]; resolved against the input size by shape inference. */
  pads: [number, number, number, number];
  ceilMode?: boolean;
}

export type OpKind =
  | 'Conv2D' | 'DepthwiseConv2D' | 'TransposeConv2D'
  | 'MaxPool2D' | 'AvgPool2D' | 'GlobalAvgPool' | 'GlobalMaxPool' | 'Reduce'
  | 'FullyConnected' | 'MatMul'
  | 'Add' | 'Sub' | 'Mul' | 'Div' | 'Max' | 'Min' | 'Pow'
  | 'Concat' | 'Split' | 'Slice' | 'Gather'
  | 'Pad' | 'Reshape' | 'Flatten' | 'Squeeze' | 'Unsqueeze' | 'Transpose' | 'Resize'
  | 'Softmax' | 'BatchNorm' | 'Quantize' | 'Dequantize' | 'Activation' | 'Identity' | 'Cast'
  | 'Shape' | 'ConstantOfShape' | 'Custom' | 'Unknown'
  // Sized by the analysis (shape rule and MACs in analysis/ops.ts); C export refuses them.
  | 'ConvNd' | 'PoolNd' | 'Elementwise' | 'Pack' | 'Unpack' | 'Tile' | 'Expand' | 'SpaceToDepth' | 'DepthToSpace'
  | 'SpaceToBatch' | 'BatchToSpace' | 'ArgReduce' | 'Range' | 'Size' | 'GatherND' | 'TopK' | 'Recurrent' | 'Loss'
  | 'Classifier' | 'Attention' | 'GridSample'
  // Rarer operators, each with its own shape rule in analysis/ops.ts (SPECIAL_RULES, by attrs.fn): Einsum, OneHot,
  // DFT, STFT, windows, RoiAlign, MaxUnpool, Col2Im, DeformConv, ...
  | 'Special';

export type ActivationFn =
  | 'relu' | 'relu6' | 'relu_n1_to_1' | 'clip' | 'sigmoid' | 'hardsigmoid' | 'hardswish' | 'leakyrelu'
  | 'tanh' | 'elu' | 'prelu' | 'silu' | 'gelu' | 'exp' | 'log' | 'abs' | 'neg' | 'sqrt' | 'rsqrt' | 'erf'
  | 'selu' | 'softplus' | 'mish' | 'reciprocal' | 'floor' | 'ceil' | 'round'
  | 'sign_bit' | 'other';

export interface OpAttrs {
  /** Layout of the data tensors this op assumes (spatial ops): 'NCHW' for ONNX, 'NHWC' for TFLite. */
  layout?: 'NCHW' | 'NHWC';
  spatial?: SpatialAttrs;
  group?: number;
  depthMultiplier?: number;
  /** Activation already fused into this op by the file (TFLite fused_activation_function, ONNX QLinear* none). */
  fusedActivation?: ActivationFn;
  /** Activation function of an 'Activation' op. */
  activation?: ActivationFn;
  axis?: number;
  axes?: number[];
  keepDims?: boolean;
  /** ArgMax/ArgMin: on ties the last index (ONNX select_last_index), else the first. */
  selectLast?: boolean;
  /** ONNX Attention (opset 23): the head counts of 3-D Q and K/V (q_num_heads, kv_num_heads), and the output
   *  position (Y, present_key, present_value, qk_matmul_output) of each output the node has. */
  heads?: { q: number; kv: number; slots: number[] };
  perm?: number[];
  /** Pad op: [before_0.., after_0..] per axis (ONNX order), resolved when the pads are constant. */
  padAmounts?: number[];
  /** ONNX Pad (opset ≥ 11): the pads, constant_value and axes tensors by position, -1 where left out. */
  padOperands?: [number, number, number];
  /** ONNX Softmax/LogSoftmax before opset 13: the input is flattened at `axis` into 2-D and normalized over the
   *  trailing block. */
  softmaxFlatten?: boolean;
  /** ONNX Pad before opset 11: the constant it pads with (its `value` attribute). */
  padValue?: number;
  /** Pad op: how the border is filled when not with a constant: ONNX 'reflect' (numpy's: the edge not repeated),
   *  'edge', 'wrap'; TFLite MIRROR_PAD 'reflect' or 'symmetric' (the edge repeated). */
  padMode?: 'reflect' | 'edge' | 'wrap' | 'symmetric' | 'unknown';
  /** Reshape target (may hold 0/-1 as ONNX/TFLite allow). */
  newShape?: number[];
  /** Gemm: transpose flags. */
  transA?: boolean;
  transB?: boolean;
  /** Resize: output spatial size or scale, when constant. */
  sizes?: number[];
  scales?: number[];
  /** Resize: interpolation and how output coordinates map to input ones, in ONNX's vocabulary (TFLite's
   *  align_corners / half_pixel_centers flags are translated; `tflite` marks TFLite's own rounding). */
  resize?: { mode: 'nearest' | 'linear' | 'cubic'; coord: string; nearest: string; tflite?: boolean };
  /** FullyConnected (TFLite): keep the input's leading dims. */
  keepNumDims?: boolean;
  /** Split: sizes along axis. */
  splitSizes?: number[];
  /** Slice/StridedSlice parameters when constant. */
  starts?: number[];
  ends?: number[];
  steps?: number[];
  /** ConstantOfShape, Cast target etc. */
  toDType?: DType;
  /** Gather indices when constant (small). */
  indices?: number[];
  /** Scalar attributes values are computed with (Gemm alpha/beta, HardSigmoid, LeakyRelu and Elu alpha, Softmax beta). */
  alpha?: number;
  beta?: number;
  /** BatchNormalization: the epsilon added to the variance. */
  epsilon?: number;
  /** GELU: the tanh approximation (ONNX approximate='tanh', com.microsoft.FastGelu, TFLite's approximate). */
  approximate?: boolean;
  /** AveragePool: padding counts in the divisor (ONNX count_include_pad). */
  countIncludePad?: boolean;
  /** Clip bounds given as attributes (ONNX opset < 11); later opsets pass them as inputs. */
  clip?: [number, number];
  /** ONNX Clip (opset ≥ 11): the tensors holding min and max, -1 where the file leaves one out (params cannot say which
   *  bound a lone operand is). */
  clipOperands?: [number, number];
  /** Convolution and pooling over 1 or 3 spatial axes (ConvNd, PoolNd), and the ONNX attributes of every rank. */
  nd?: SpatialNdAttrs;
  /** Elementwise: the function in lower case ('equal', 'requantshift', 'floor', ...); comparisons and logic give bool. */
  fn?: string;
  /** Elementwise with several outputs (gradients, optimizers): output k has the shape of data input `outputLike[k]`. */
  outputLike?: number[];
  /** SpaceToDepth/DepthToSpace block size; DepthToSpace ONNX mode 'CRD' or 'DCR' (the default). */
  blockSize?: number;
  depthMode?: 'DCR' | 'CRD';
  /** Pack/Unpack: the number of values; Tile: the repeats; TopK: k. */
  count?: number;
  multiples?: number[];
  /** Recurrent layers (ONNX LSTM/GRU/RNN, TFLite sequence LSTM/RNN and SVDF). */
  recurrent?: RecurrentAttrs;
  /** ONNX operands given as inputs (axes, split sizes, slice bounds, resize sizes, pads), by input position, -1 for a
   *  left-out one: when the graph computes them, shape inference reads them once constant propagation has folded them. */
  operands?: number[];
  /** TFLite STRIDED_SLICE's masks (bit i for axis i) and its offset flag (end is relative to begin). */
  sliceMasks?: { begin: number; end: number; ellipsis: number; newAxis: number; shrink: number; offset: boolean };
  /** ConstantOfShape's fill value (ONNX 'value' attribute, TFLite FILL's operand). */
  fill?: number;
  /** Loss: ONNX reduction ('none', 'mean', 'sum'). */
  reduction?: string;
  /** Einsum: its equation, as the file writes it. */
  equation?: string;
  /** Special operators: their integer and float attributes by ONNX name (onesided, inverse, output_height, ...). */
  opts?: Readonly<Record<string, number>>;
  /** TFLite VAR_HANDLE: the resource it names (container/shared_name); every handle of one name is one variable. */
  resource?: string;
  /** Control flow (TFLite IF, WHILE, CALL_ONCE; ONNX If, Loop, Scan): the subgraphs it runs, inlined (then/else,
   *  cond/body, init, body), by the tensors their inputs and outputs became. */
  calls?: { inputs: number[]; outputs: number[] }[];
  /** ai.onnx.ml operators: the constant tensor each list attribute became (support_vectors, coefficients, ...). */
  arrays?: Readonly<Record<string, number>>;
  /** ONNX Scan: the axis each scan input is sliced along and each scan output stacked along. */
  scanAxes?: { input: number[]; output: number[] };
}

export interface SpatialNdAttrs {
  /** Kernel per spatial axis (from the attribute or, for convolutions, the weights), or null while unknown. */
  kernel: number[] | null;
  strides?: number[];
  dilations?: number[];
  /** [begin_0.., end_0..] per spatial axis, resolved by shape inference. */
  pads?: number[];
  padding: Padding;
  ceilMode: boolean;
  /** ConvTranspose: output_padding and output_shape attributes; a transposed convolution. */
  outputPadding?: number[];
  outputShape?: number[];
  transposed?: boolean;
}

export interface RecurrentAttrs {
  cell: 'lstm' | 'gru' | 'rnn' | 'svdf';
  /** Gates per cell: LSTM 4, GRU 3, RNN 1. */
  gates: number;
  /** ONNX direction count (2 when bidirectional); TFLite bidirectional ops 2. */
  directions: number;
  /** Time is the first axis (ONNX layout 0, TFLite time_major). */
  timeMajor: boolean;
  hiddenSize?: number;
  /** SVDF rank. */
  rank?: number;
  /** ONNX: the output position (Y, Y_h, Y_c) of each output the node has (left-out outputs are not tensors). */
  outputSlots?: number[];
  /** ONNX LSTM: direction 'reverse', the gate clip, input_forget, and the activations attribute when given.
   *  TFLite's UNIDIRECTIONAL_SEQUENCE_LSTM: clip is its cell clip, with the fused activation code of the cell and
   *  hidden state (TFLite ActivationFunctionType: 4 tanh) and the projection clip. */
  reverse?: boolean;
  clip?: number;
  cellActivation?: number;
  projClip?: number;
  inputForget?: boolean;
  activations?: string[];
}

export interface Op {
  index: number;
  kind: OpKind;
  /** The operator's name in the file's own vocabulary: 'Conv', 'QLinearConv', 'CONV_2D', custom code, ... */
  sourceType: string;
  /** Node/operator name, or a generated one (`#index`). */
  name: string;
  /** Canonical data inputs for the kind (Conv2D: [x, w, b?]); -1 marks an absent optional input. */
  inputs: number[];
  /** Other inputs the file wires in (quantization scales and zero points, clip bounds, shape operands). */
  params: number[];
  outputs: number[];
  attrs: OpAttrs;
  /** TFLite: the operator's inputs as the file lists them (-1 for a left-out one), before `inputs`/`params` sorting. */
  fileInputs?: number[];
  /** TFLite: the subgraph the operator comes from, when not the main one (inlined where a control-flow operator runs
   *  it). */
  subgraph?: number;
  /** Custom operator code (TFLite custom_code, ONNX non-standard domain). */
  customCode?: string;
  /** Why this op cannot be analysed fully, if it cannot. */
  unsupported?: string;
  /** All inputs are constants: the op is evaluated ahead of time (shape arithmetic, weight dequantization). */
  folded?: boolean;
  /** The file's stored shapes contradict the operator (its stored output shape differs from inference, or inference
   *  refused its operands and the stored shapes were used): the analysis goes on with the stored shapes, C export
   *  refuses the operator. */
  shapeConflict?: string;
}

export interface OfflinePlan {
  version: number;
  subgraphs: number;
  /** Arena offset per tensor of subgraph 0; -1 means planned at run time. */
  offsets: number[];
}

export interface ModelMetadata {
  /** Producer, e.g. 'pytorch 1.13.1' or 'TOCO Converted.' */
  producer?: string;
  /** ONNX opset per domain ('' = ai.onnx). */
  opsets?: Record<string, number>;
  irVersion?: number;
  tfliteVersion?: number;
  subgraphCount?: number;
  /** TFLite: the subgraphs inlined where control-flow operators run them, in that order: the subgraph's index and the
   *  graph ids its tensors got (first, count). */
  inlined?: { subgraph: number; firstTensor: number; tensorCount: number }[];
  offlinePlan?: OfflinePlan;
  metadataNames?: string[];
  /** Size of the model file in bytes (what a runtime that reads the file, like TFLM, keeps in Flash). */
  fileBytes?: number;
}

export interface ModelNote {
  severity: 'warning' | 'info';
  message: string;
  opIndex?: number;
}

export interface StoredData {
  bytes: number;
  elements: number;
  /**
   * The stored values as little-endian bytes of the tensor's dtype (what C export writes into weights.c): a view into
   * the file where it holds them that way (TFLite buffers, ONNX raw_data), else encoded on call (ONNX typed fields).
   * Absent where the bytes are not in the file (ONNX external data: only checked, never read, by the analysis).
   */
  data?: () => Uint8Array;
}

export interface Graph {
  format: ModelFormat;
  tensors: Tensor[];
  /** Operators in the order stored in the file (ONNX nodes topologically sorted if the file was not). */
  ops: Op[];
  inputs: number[];
  outputs: number[];
  /** Stored constant data by key (every stored buffer once): its bytes and element count. */
  storage: Map<string, StoredData>;
  metadata: ModelMetadata;
  notes: ModelNote[];
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function bytesFor(dtype: DType, shape: readonly number[], elementBitsOverride?: number): number {
  const bits = elementBitsOverride ?? DTYPE_BITS[dtype];
  return Math.ceil((elementCount(shape) * bits) / 8);
}

/** Index of the H, W and C axes of a tensor, from its layout letters. */
export function spatialAxes(layout: Layout): { h: number; w: number; c: number } | null {
  if (!layout) return null;
  const h = layout.indexOf('H');
  const w = layout.indexOf('W');
  const c = layout.indexOf('C');
  return h >= 0 && w >= 0 && c >= 0 ? { h, w, c } : null;
}

export function formatShape(shape: readonly number[] | null): string {
  return shape ? shape.join('×') : '?';
}
