// ONNX reader on onnx-proto (protobufjs static code). Builds the normalized graph: initializers and Constant nodes are
// weights, Identity/Dropout are folded, attributes are read as the model's opset defines them, QOperator ops are
// mapped to their float kinds with the quantization operands as params. Weight bytes are never copied: protobufjs
// hands out views into the file for raw_data, and external data is only checked (size and location), never read.
import { onnxCensus } from './census';
import { onnx } from 'onnx-proto';
import { ModelError, checkedShape, LIMITS } from '../../errors';
import type { ActivationFn, DType, Graph, Op, OpAttrs, OpKind, Padding, SpatialAttrs, SpatialNdAttrs, Tensor } from '../../graph';
import { bytesFor, DTYPE_BITS } from '../../graph';
import { checkExternalLocation, type ExternalDataHost } from './external';

const ONNX_DTYPES: Readonly<Record<number, DType>> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool',
  10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 14: 'complex64', 15: 'complex128', 16: 'bfloat16',
  17: 'float8', 18: 'float8', 19: 'float8', 20: 'float8', 21: 'uint4', 22: 'int4',
};

type Long = { toNumber(): number } | { low: number; high: number };
type IntLike = number | Long | null | undefined;

function toInt(v: IntLike): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return v;
  if ('toNumber' in v) return v.toNumber();
  return v.high * 2 ** 32 + (v.low >>> 0);
}

interface OpSpec {
  kind: OpKind;
  /** Positions of the canonical inputs; the rest become params. 'all' keeps every input. */
  x?: number[] | 'all' | 'qconcat';
  act?: ActivationFn;
  /** Elementwise: the function's name (comparisons and logic give bool) and, for several outputs, the input whose
   *  shape each output has. */
  fn?: string;
  like?: number[];
}

const ACT = (act: ActivationFn): OpSpec => ({ kind: 'Activation', act });
/** Elementwise over the broadcast of every input. */
const EW = (fn: string): OpSpec => ({ kind: 'Elementwise', x: 'all', fn });
/** Elementwise on the first input: its output has the first input's shape; the other inputs are parameters. */
const EW1 = (fn: string): OpSpec => ({ kind: 'Elementwise', x: [0], fn });
/** A rarer operator with its own shape rule (analysis/ops.ts SPECIAL_RULES); `x` its data inputs. */
const SP = (fn: string, x: number[] = [0]): OpSpec => ({ kind: 'Special', x, fn });
/** Outputs shaped like given inputs (gradients, optimizer updates). */
const LIKE = (fn: string, like: number[]): OpSpec => ({ kind: 'Elementwise', x: 'all', fn, like });

/** Op metadata as data: ONNX op type → normalized kind and which inputs are data. */
const ONNX_OPS: Readonly<Record<string, OpSpec>> = {
  Conv: { kind: 'Conv2D', x: [0, 1, 2] },
  QLinearConv: { kind: 'Conv2D', x: [0, 3, 8] },
  ConvInteger: { kind: 'Conv2D', x: [0, 1] },
  ConvTranspose: { kind: 'TransposeConv2D', x: [0, 1, 2] },
  MaxPool: { kind: 'MaxPool2D' },
  AveragePool: { kind: 'AvgPool2D' },
  QLinearAveragePool: { kind: 'AvgPool2D' },
  GlobalAveragePool: { kind: 'GlobalAvgPool' },
  QLinearGlobalAveragePool: { kind: 'GlobalAvgPool' },
  GlobalMaxPool: { kind: 'GlobalMaxPool' },
  ReduceMean: { kind: 'Reduce' }, ReduceMax: { kind: 'Reduce' }, ReduceMin: { kind: 'Reduce' },
  ReduceSum: { kind: 'Reduce' }, ReduceProd: { kind: 'Reduce' }, ReduceL2: { kind: 'Reduce' },
  ReduceL1: { kind: 'Reduce' }, ReduceLogSum: { kind: 'Reduce' }, ReduceLogSumExp: { kind: 'Reduce' }, ReduceSumSquare: { kind: 'Reduce' },
  Gemm: { kind: 'FullyConnected', x: [0, 1, 2] },
  QGemm: { kind: 'FullyConnected', x: [0, 3, 6] },
  MatMul: { kind: 'MatMul', x: [0, 1] },
  QLinearMatMul: { kind: 'MatMul', x: [0, 3] },
  MatMulInteger: { kind: 'MatMul', x: [0, 1] },
  Add: { kind: 'Add', x: 'all' }, Sub: { kind: 'Sub', x: 'all' }, Mul: { kind: 'Mul', x: 'all' }, Div: { kind: 'Div', x: 'all' },
  Max: { kind: 'Max', x: 'all' }, Min: { kind: 'Min', x: 'all' }, Pow: { kind: 'Pow', x: 'all' }, Sum: { kind: 'Add', x: 'all' },
  QLinearAdd: { kind: 'Add', x: [0, 3] }, QLinearMul: { kind: 'Mul', x: [0, 3] },
  Concat: { kind: 'Concat', x: 'all' }, QLinearConcat: { kind: 'Concat', x: 'qconcat' },
  Split: { kind: 'Split' }, Slice: { kind: 'Slice' }, Gather: { kind: 'Gather', x: [0, 1] },
  Pad: { kind: 'Pad' }, Reshape: { kind: 'Reshape' }, Flatten: { kind: 'Flatten' }, Squeeze: { kind: 'Squeeze' },
  Unsqueeze: { kind: 'Unsqueeze' }, Transpose: { kind: 'Transpose' }, Resize: { kind: 'Resize' }, Upsample: { kind: 'Resize' },
  Softmax: { kind: 'Softmax' }, LogSoftmax: { kind: 'Softmax' },
  BatchNormalization: { kind: 'BatchNorm' }, InstanceNormalization: { kind: 'BatchNorm' }, LayerNormalization: { kind: 'BatchNorm' },
  QuantizeLinear: { kind: 'Quantize' }, DequantizeLinear: { kind: 'Dequantize' }, DynamicQuantizeLinear: { kind: 'Quantize' },
  Cast: { kind: 'Cast' }, Shape: { kind: 'Shape' }, ConstantOfShape: { kind: 'ConstantOfShape' },
  Relu: ACT('relu'), Clip: ACT('clip'), Sigmoid: ACT('sigmoid'), HardSigmoid: ACT('hardsigmoid'), HardSwish: ACT('hardswish'),
  LeakyRelu: ACT('leakyrelu'), Tanh: ACT('tanh'), Elu: ACT('elu'), Selu: ACT('selu'), PRelu: ACT('prelu'), Gelu: ACT('gelu'),
  Exp: ACT('exp'), Log: ACT('log'), Abs: ACT('abs'), Neg: ACT('neg'), Sqrt: ACT('sqrt'), Erf: ACT('erf'),
  Softplus: ACT('softplus'), Mish: ACT('mish'), Reciprocal: ACT('reciprocal'), Floor: ACT('floor'), Ceil: ACT('ceil'), Round: ACT('round'),
  QLinearSigmoid: ACT('sigmoid'), QLinearLeakyRelu: ACT('leakyrelu'),
  LpPool: { kind: 'PoolNd' },
  // Elementwise arithmetic, comparisons and logic (broadcasting), and shape-preserving functions of one input.
  Equal: EW('equal'), Less: EW('less'), LessOrEqual: EW('less_equal'), Greater: EW('greater'), GreaterOrEqual: EW('greater_equal'),
  And: EW('and'), Or: EW('or'), Xor: EW('xor'), Not: EW('not'), Mod: EW('mod'), BitShift: EW('bitshift'), Where: EW('where'),
  BitwiseAnd: EW('bitwise_and'), BitwiseOr: EW('bitwise_or'), BitwiseXor: EW('bitwise_xor'), BitwiseNot: EW('bitwise_not'),
  Mean: EW('mean'), Dropout: LIKE('dropout', [0, 0]), IsNaN: EW1('isnan'), IsInf: EW1('isinf'), Sign: EW1('sign'), Shrink: EW1('shrink'), Sin: EW1('sin'),
  Cos: EW1('cos'), Tan: EW1('tan'), Asin: EW1('asin'), Acos: EW1('acos'), Atan: EW1('atan'), Sinh: EW1('sinh'), Cosh: EW1('cosh'),
  Asinh: EW1('asinh'), Acosh: EW1('acosh'), Atanh: EW1('atanh'), Softsign: EW1('softsign'), Celu: EW1('celu'),
  ThresholdedRelu: EW1('thresholdedrelu'), Hardmax: EW1('hardmax'), LRN: EW1('lrn'), CumSum: EW1('cumsum'), Trilu: EW1('trilu'),
  CumProd: EW1('cumprod'), GatherElements: LIKE('gatherelements', [1]), Attention: { kind: 'Attention', x: [0, 1, 2, 3, 4, 5] }, GridSample: { kind: 'GridSample', x: [0, 1] },
  RotaryEmbedding: EW1('rotaryembedding'), SwiGLU: EW('swiglu'),
  // Operators with a shape rule of their own: signal processing, detection heads' sampling, index encodings.
  Einsum: { kind: 'Special', x: 'all', fn: 'einsum' }, OneHot: SP('onehot'), DeformConv: SP('deformconv', [0, 1]),
  RoiAlign: SP('roialign', [0, 1]), MaxUnpool: SP('maxunpool'), Col2Im: SP('col2im'), CenterCropPad: SP('centercroppad'),
  AffineGrid: SP('affinegrid'), HannWindow: SP('window', []), HammingWindow: SP('window', []), BlackmanWindow: SP('window', []),
  DFT: SP('dft'), STFT: SP('stft'), MelWeightMatrix: SP('melweightmatrix', []), Det: SP('det'), BitCast: SP('bitcast'),
  CausalConvWithState: SP('causalconv', [0, 1]), LinearAttention: SP('linearattention', [0, 1, 2]),
  // Outputs whose size depends on the data: sized for the most they can hold.
  NonMaxSuppression: SP('nonmaxsuppression'), NonZero: SP('nonzero'), Compress: SP('compress'), Unique: SP('unique'),
  ReverseSequence: EW1('reversesequence'), CastLike: EW1('castlike'), GroupNormalization: EW1('groupnorm'),
  RMSNormalization: EW1('rmsnorm'), MeanVarianceNormalization: EW1('mvn'), LpNormalization: EW1('lpnorm'), Swish: EW1('swish'),
  Bernoulli: EW1('bernoulli'), RandomUniformLike: EW1('random'), RandomNormalLike: EW1('random'), EyeLike: EW1('eyelike'),
  ScatterND: EW1('scatter'), ScatterElements: EW1('scatter'), Scatter: EW1('scatter'), TensorScatter: EW1('scatter'),
  RandomUniform: { kind: 'ConstantOfShape', x: [] }, RandomNormal: { kind: 'ConstantOfShape', x: [] },
  Tile: { kind: 'Tile' }, Expand: { kind: 'Expand' }, SpaceToDepth: { kind: 'SpaceToDepth' }, DepthToSpace: { kind: 'DepthToSpace' },
  ArgMax: { kind: 'ArgReduce' }, ArgMin: { kind: 'ArgReduce' }, GatherND: { kind: 'GatherND', x: [0, 1] },
  TopK: { kind: 'TopK' }, Range: { kind: 'Range', x: 'all' }, Size: { kind: 'Size' },
  LSTM: { kind: 'Recurrent', x: [0, 1, 2] }, GRU: { kind: 'Recurrent', x: [0, 1, 2] }, RNN: { kind: 'Recurrent', x: [0, 1, 2] },
  SoftmaxCrossEntropyLoss: { kind: 'Loss' }, NegativeLogLikelihoodLoss: { kind: 'Loss' },
  // Training graphs (onnxruntime training, Deeploy's on-device training): gradients and updates have the shapes of
  // the tensors they are the gradient or update of.
  SoftmaxGrad: LIKE('grad', [0]), GeluGrad: LIKE('grad', [1]), FastGeluGrad: LIKE('grad', [1]), ReluGrad: LIKE('grad', [1]),
  LayerNormalizationGrad: LIKE('grad', [1, 2, 2]), SoftmaxCrossEntropyLossGrad: LIKE('grad', [1]), SGD: LIKE('update', [0]),
  // Deeploy's integer operators (pulp-platform/Deeploy): requantization and integer approximations of functions,
  // each elementwise or along the last axis, shaped like its first input.
  RequantShift: EW1('requantshift'), 'ai.onnx.contrib.RequantShift': EW1('requantshift'), 'PACTOps.RequantShift': EW1('requantshift'),
  iSoftmax: EW1('isoftmax'), iGELU: EW1('igelu'), iHardswish: EW1('ihardswish'),
  iLayerNorm: EW1('ilayernorm'), iRMSNorm: EW1('irmsnorm'), iNoNorm: EW1('inonorm'), iLeakyReLU: EW1('ileakyrelu'),
  ITAMax: EW1('itamax'), ITAPartialMax: EW1('itapartialmax'), RMSNorm: EW1('rmsnorm'), TrueIntegerDiv: EW1('trueintegerdiv'),
  IntegerMean: { kind: 'Reduce' },
  // Quantizers of QONNX and Brevitas exports: elementwise fake quantization.
  'onnx.brevitas.Quant': EW1('quant'), 'qonnx.custom_op.general.Quant': EW1('quant'), 'qonnx.custom_op.general.Trunc': EW1('quant'),
  'qonnx.custom_op.general.BipolarQuant': EW1('quant'), 'qonnx.custom_op.general.MultiThreshold': EW1('multithreshold'),
  // Classic ML classifiers: a label per row and a score per class.
  'ai.onnx.ml.SVMClassifier': { kind: 'Classifier' }, 'ai.onnx.ml.LinearClassifier': { kind: 'Classifier' },
  'ai.onnx.ml.TreeEnsembleClassifier': { kind: 'Classifier' },
  'ai.onnx.ml.Scaler': EW1('scaler'), 'ai.onnx.ml.Normalizer': EW1('normalizer'),
};

/** Cheap check: an ONNX ModelProto starts with field 1 (ir_version, varint) in every exporter we know. */
export function matchOnnx(bytes: Uint8Array): boolean {
  return bytes.length > 2 && bytes[0] === 0x08;
}

export interface OnnxReadOptions {
  /** Answers whether external data exists inside the model's folder. Without it, external data is an error. */
  externalData?: ExternalDataHost;
}

type Attr = onnx.IAttributeProto;

class NodeAttrs {
  private readonly map = new Map<string, Attr>();
  constructor(attrs: readonly Attr[] | null | undefined) {
    for (const a of attrs ?? []) if (a.name) this.map.set(a.name, a);
  }
  has(name: string): boolean { return this.map.has(name); }
  int(name: string, def: number): number { const a = this.map.get(name); return a ? toInt(a.i) : def; }
  float(name: string, def: number): number { const a = this.map.get(name); return a?.f ?? def; }
  ints(name: string): number[] | undefined { const a = this.map.get(name); return a ? (a.ints ?? []).map(toInt) : undefined; }
  floats(name: string): number[] | undefined { const a = this.map.get(name); return a ? (a.floats ?? []).slice() : undefined; }
  str(name: string): string | undefined {
    const s = this.map.get(name)?.s;
    return s ? String.fromCharCode(...s.subarray(0, 256)) : undefined;
  }
  tensor(name: string): onnx.ITensorProto | undefined { return this.map.get(name)?.t ?? undefined; }
  graph(name: string): onnx.IGraphProto | undefined { return this.map.get(name)?.g ?? undefined; }
  /** Number of values of a list attribute (ints, floats or strings). */
  count(name: string): number | undefined {
    const a = this.map.get(name);
    return a ? Math.max(a.ints?.length ?? 0, a.floats?.length ?? 0, a.strings?.length ?? 0) : undefined;
  }
  strs(name: string): string[] | undefined {
    const a = this.map.get(name);
    return a ? (a.strings ?? []).slice(0, 64).map((s) => String.fromCharCode(...s.subarray(0, 64))) : undefined;
  }
}

export function readOnnx(bytes: Uint8Array, options: OnnxReadOptions = {}): Graph {
  let model: onnx.ModelProto;
  onnxCensus(bytes); // limits before decoding: decoding builds an object per node and tensor
  try {
    // A plain Uint8Array view: given a Node Buffer, protobufjs makes empty bytes fields with `new Buffer(0)`, which
    // Node reports as deprecated (DEP0005) in the bundled CLI.
    model = onnx.ModelProto.decode(bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new ModelError('bad-onnx', `not a valid ONNX file: protobuf decoding failed (${why})`);
  }
  const g = model.graph;
  if (!g) throw new ModelError('bad-onnx', 'not a valid ONNX file: the ModelProto has no graph');

  const opsets: Record<string, number> = {};
  for (const o of model.opsetImport ?? []) opsets[o.domain ?? ''] = toInt(o.version);
  if (opsets['ai.onnx'] !== undefined && opsets[''] === undefined) opsets[''] = opsets['ai.onnx']!;
  const graph: Graph = {
    format: 'onnx',
    tensors: [],
    ops: [],
    inputs: [],
    outputs: [],
    storage: new Map(),
    metadata: {
      irVersion: toInt(model.irVersion),
      opsets,
      producer: [model.producerName, model.producerVersion].filter(Boolean).join(' ') || undefined,
    },
    notes: [],
  };
  if (opsets[''] === undefined) {
    opsets[''] = 1;
    graph.notes.push({ severity: 'warning', message: 'the model declares no default-domain opset; opset 1 semantics assumed' });
  }
  const opset = opsets['']!;

  const byName = new Map<string, number>();
  const alias = new Map<string, string>();
  const resolve = (name: string): string => {
    let n = name;
    for (let hops = 0; alias.has(n); hops++) {
      if (hops > alias.size) throw new ModelError('bad-graph', `Identity nodes form a cycle through '${name}'`);
      n = alias.get(n)!;
    }
    // Path compression: every name on the way now points at the end, so a chain of Identity nodes resolves in
    // near-constant time per lookup.
    for (let m = name; alias.has(m) && m !== n;) {
      const next = alias.get(m)!;
      alias.set(m, n);
      m = next;
    }
    return n;
  };
  const addTensor = (t: Omit<Tensor, 'id'>): Tensor => {
    if (byName.has(t.name)) throw new ModelError('bad-graph', `tensor '${t.name}' is defined twice`);
    if (graph.tensors.length >= LIMITS.maxTensors) throw new ModelError('too-large', `more than ${LIMITS.maxTensors} tensors`);
    const tensor: Tensor = { id: graph.tensors.length, ...t };
    graph.tensors.push(tensor);
    byName.set(t.name, tensor.id);
    return tensor;
  };

  /** ai.onnx.ml operators keep their parameters in attributes (an SVM's support vectors and coefficients, a tree
   *  ensemble's nodes, a linear classifier's weights): each list is stored data the firmware holds in Flash, a constant
   *  operand of the operator (float32, int64 or the strings' bytes). */
  const storeAttributeArrays = (op: Op, list: readonly onnx.IAttributeProto[]): void => {
    const arrays: Record<string, number> = {};
    op.attrs.arrays = arrays;
    for (const at of list) {
      const floats = at.floats ?? [];
      const ints = at.ints ?? [];
      const strings = at.strings ?? [];
      const n = floats.length || ints.length || strings.length;
      if (!at.name || n === 0) continue;
      const name = `${op.name}.${at.name}`;
      const key = `attribute:${name}#${graph.ops.length}`;
      const dtype: DType = floats.length ? 'float32' : ints.length ? 'int64' : 'uint8';
      const data = (): Uint8Array => {
        if (dtype === 'float32') return new Uint8Array(Float32Array.from(floats).buffer);
        if (dtype === 'int64') return new Uint8Array(BigInt64Array.from(ints.map((v) => BigInt(toInt(v)))).buffer);
        const out = new Uint8Array(strings.reduce((sum, s) => sum + s.length + 1, 0));
        let pos = 0;
        for (const s of strings) { out.set(s, pos); pos += s.length + 1; }
        return out;
      };
      const bytes = dtype === 'float32' ? 4 * n : dtype === 'int64' ? 8 * n : strings.reduce((sum, s) => sum + s.length + 1, 0);
      graph.storage.set(key, { bytes, elements: dtype === 'uint8' ? bytes : n, data });
      const shape = [dtype === 'uint8' ? bytes : n];
      const values = n <= 64 && dtype !== 'uint8' ? (dtype === 'float32' ? floats.slice() : ints.map(toInt)) : undefined;
      const id = addTensor({ name: `${name}#${graph.ops.length}`, dtype, shape, layout: null, role: 'constant', storage: [key], ...(values ? { values } : {}), shapeFromFile: true }).id;
      op.params.push(id);
      arrays[at.name] = id;
    }
  };

  const addConstant = (tp: onnx.ITensorProto, name: string, key: string): void => {
    const { dtype, shape, bytes: stored, values, data } = readTensorProto(tp, name, options);
    graph.storage.set(key, { bytes: stored, elements: shape.reduce((a, b) => a * b, 1), ...(data ? { data } : {}) });
    addTensor({ name, dtype, shape, layout: null, role: 'constant', storage: [key], values, shapeFromFile: true });
  };

  // Graph inputs are inputs. An initializer of the same name is a default value (IR >= 4) when no graph input is
  // without one; otherwise the inputs with initializers are weights that the exporter also listed as inputs
  // (IR < 4, or PyTorch's keep_initializers_as_inputs).
  const initNames = new Set((g.initializer ?? []).map((i) => i.name ?? ''));
  const inputNames = (g.input ?? []).map((vi) => vi.name ?? '').filter(Boolean);
  const defaults = new Map<string, onnx.ITensorProto>();
  if (inputNames.length > 0 && inputNames.every((n) => initNames.has(n))) {
    for (const init of g.initializer ?? []) if (inputNames.includes(init.name ?? '')) defaults.set(init.name!, init);
    graph.notes.push({ severity: 'info', message: `graph input${defaults.size > 1 ? 's' : ''} ${[...defaults.keys()].map((n) => `'${n}'`).join(', ')} also ${defaults.size > 1 ? 'have initializers' : 'has an initializer'}: a default value, analysed as an input` });
  }
  for (const init of g.initializer ?? []) {
    const name = init.name ?? '';
    if (!name) throw new ModelError('bad-onnx', 'an initializer has no name');
    if (defaults.has(name)) continue;
    addConstant(init, name, `initializer:${name}`);
  }

  // Stored shapes of everything that is not an initializer: inputs, outputs, value_info.
  const stored = new Map<string, { dtype: DType; shape: number[] | null }>();
  const readValueInfo = (vi: onnx.IValueInfoProto, isInput: boolean): void => {
    const name = vi.name ?? '';
    const tt = vi.type?.tensorType;
    if (!name || !tt) return;
    const dtype = ONNX_DTYPES[tt.elemType ?? 0] ?? 'unknown';
    let shape: number[] | null = null;
    if (tt.shape) {
      const dims = (tt.shape.dim ?? []).map((d, axis) => {
        // A negative value is a dynamic dimension written as a number (some exporters write -1 for the batch).
        const fixed = (d as onnx.TensorShapeProto.Dimension).value === 'dimValue' ? toInt(d.dimValue) : -1;
        if (fixed >= 0) return fixed;
        // A symbolic batch dimension counts as 1 (and a graph input's negative or missing one); a stored dimension with
        // neither a size nor a name leaves the shape to inference elsewhere (an empty dimension is not a 1).
        if (axis === 0 && (isInput || d.dimParam)) return 1;
        if (isInput) {
          const what = d.dimParam ? `a symbolic dimension '${d.dimParam}'` : d.dimValue !== undefined && d.dimValue !== null ? `a dynamic dimension ${String(d.dimValue)}` : 'a dimension without a size';
          throw new ModelError('unsupported', `graph input '${name}' has ${what} at axis ${axis}: only the batch dimension may be symbolic (it counts as 1); export the model with a fixed input size`);
        }
        return -1;
      });
      shape = dims.includes(-1) ? null : checkedShape(dims, `tensor '${name}'`);
    }
    stored.set(name, { dtype, shape });
  };
  for (const vi of g.input ?? []) if (!byName.has(vi.name ?? '')) readValueInfo(vi, true);
  for (const vi of g.valueInfo ?? []) readValueInfo(vi, false);
  for (const vi of g.output ?? []) readValueInfo(vi, false);

  for (const vi of g.input ?? []) {
    const name = vi.name ?? '';
    if (!name || byName.has(name)) continue; // IR < 4 lists initializers as inputs too
    const s = stored.get(name);
    if (!s) {
      const t = vi.type;
      const kind = t?.sequenceType ? 'a sequence' : t?.optionalType ? 'an optional' : t?.mapType ? 'a map' : t?.sparseTensorType ? 'a sparse tensor' : null;
      if (kind) throw new ModelError('unsupported', `graph input '${name}' is ${kind}, an unsupported input type: the analysis sizes tensor inputs`);
      throw new ModelError('bad-onnx', `graph input '${name}' has no tensor type`);
    }
    const dflt = defaults.get(name);
    if (!s.shape && dflt) s.shape = checkedShape((dflt.dims ?? []).map(toInt), `graph input '${name}'`);
    if (!s.shape) throw new ModelError('unsupported', `graph input '${name}' has no shape: the analysis needs a fixed input size`);
    graph.inputs.push(addTensor({ name, dtype: s.dtype, shape: s.shape, layout: null, role: 'input', shapeFromFile: true }).id);
  }

  const nodes = topoSort(g.node ?? [], new Set(byName.keys()));
  /** Names some node reads or the graph outputs (a Dropout mask is an output of its own only when one of them uses it). */
  const consumed = new Set<string>([...nodes.flatMap((n) => n.input ?? []), ...(g.output ?? []).map((o) => o.name ?? '')]);
  if (nodes.length > LIMITS.maxOps) throw new ModelError('too-large', `${nodes.length} nodes (limit ${LIMITS.maxOps})`);
  const lookup = (name: string, nodeDesc: string): number => {
    if (name === '') return -1;
    const id = byName.get(resolve(name));
    if (id === undefined) throw new ModelError('bad-graph', `${nodeDesc} reads '${name}', which no node, initializer or graph input produces`);
    return id;
  };
  const defineOutput = (name: string): number => {
    const s = stored.get(name);
    return addTensor({ name, dtype: s?.dtype ?? 'unknown', shape: s?.shape ?? null, layout: null, role: 'activation', shapeFromFile: !!s?.shape }).id;
  };

  /** One node of the main graph or of an inlined subgraph (its names already the graph's); `scope` maps the names
   *  the subgraphs of a control-flow node read from around them. */
  const readNode = (node: onnx.INodeProto, scope: (name: string) => string, depth: number): void => {
    if (graph.ops.length >= LIMITS.maxOps) throw new ModelError('too-large', `more than ${LIMITS.maxOps} operators with the subgraphs of control flow inlined`);
    const type = node.opType ?? '';
    const domain = node.domain ?? '';
    const nodeName = node.name || `${type}#${graph.ops.length}`;
    const desc = `node '${nodeName}' (${type})`;
    const outs = (node.output ?? []).filter((o) => o !== '');
    const attrs = new NodeAttrs(node.attribute);

    if (type === 'Constant' && (domain === '' || domain === 'ai.onnx')) {
      const out = outs[0];
      if (!out) return;
      addConstant(constantValue(attrs, desc), out, `constant:${out}`);
      return;
    }
    // Identity, and Dropout whose mask nothing reads, are aliases; a Dropout whose mask is used is an operator below.
    if ((type === 'Identity' || (type === 'Dropout' && !(outs[1] !== undefined && consumed.has(outs[1])))) && (domain === '' || domain === 'ai.onnx')) {
      const src = node.input?.[0];
      if (!src || !outs[0]) throw new ModelError('bad-graph', `${desc} has no input or output`);
      lookup(src, desc);
      alias.set(outs[0], src);
      return;
    }

    if ((type === 'If' || type === 'Loop' || (type === 'Scan' && opset >= 9)) && (domain === '' || domain === 'ai.onnx')) {
      inlineControlFlow(node, type, attrs, nodeName, outs, scope, depth);
      return;
    }
    const inputIds = (node.input ?? []).map((n) => lookup(n, desc));
    const outputIds = outs.map(defineOutput);
    const known = domain === '' || domain === 'ai.onnx' || domain === 'com.microsoft';
    const spec = known ? ONNX_OPS[type] : ONNX_OPS[`${domain}.${type}`];
    const op: Op = {
      index: graph.ops.length,
      kind: spec?.kind ?? (known ? 'Unknown' : 'Custom'),
      sourceType: domain && domain !== 'ai.onnx' ? `${domain}.${type}` : type,
      name: nodeName,
      inputs: inputIds,
      params: [],
      outputs: outputIds,
      attrs: {},
    };
    if (!spec) {
      if (!known) op.customCode = `${domain}.${type}`;
    } else {
      if (spec.fn) op.attrs.fn = spec.fn;
      if (spec.like) op.attrs.outputLike = spec.like.slice();
      splitInputs(op, spec, inputIds);
      readAttrs(op, type, attrs, opset, graph, spec, inputIds);
      if (op.attrs.recurrent) op.attrs.recurrent.outputSlots = (node.output ?? []).map((o, i) => (o ? i : -1)).filter((i) => i >= 0);
      if (op.kind === 'Attention') {
        op.attrs.heads = { q: attrs.int('q_num_heads', 0), kv: attrs.int('kv_num_heads', 0), slots: (node.output ?? []).map((o, i) => (o ? i : -1)).filter((i) => i >= 0) };
      }
      // onnxruntime's loss gradient takes (dY, log_prob, label); Deeploy's takes (log_prob, label).
      if (type === 'SoftmaxCrossEntropyLossGrad' && inputIds.length < 3) op.attrs.outputLike = [0];
    }
    if (domain === 'ai.onnx.ml') storeAttributeArrays(op, node.attribute ?? []);
    graph.ops.push(op);
  };

  /**
   * ONNX control flow, inlined: the subgraph's initializers, stored shapes and nodes join the graph under a prefix
   * (`<first output>/<then|else|body>/`), reading the names around them through `outer`; `before` defines its inputs
   * (the copy of the loop's values in). Returns the ids of its outputs.
   */
  const inlineGraph = (sub: onnx.IGraphProto, prefix: string, outer: (name: string) => string, depth: number, before: (inputs: string[]) => void): number[] => {
    if (depth > 64) throw new ModelError('too-large', `control flow nested more than 64 deep at '${prefix}'`);
    const local = new Set<string>([
      ...(sub.input ?? []).map((v) => v.name ?? ''), ...(sub.initializer ?? []).map((t) => t.name ?? ''),
      ...(sub.node ?? []).flatMap((n) => n.output ?? []),
    ].filter(Boolean));
    const rename = (n: string): string => (n === '' ? '' : local.has(n) ? prefix + n : outer(n));
    for (const init of sub.initializer ?? []) {
      const name = init.name ?? '';
      if (!name) throw new ModelError('bad-onnx', `an initializer of subgraph '${prefix}' has no name`);
      addConstant(init, prefix + name, `initializer:${prefix + name}`);
    }
    for (const vi of [...(sub.input ?? []), ...(sub.valueInfo ?? []), ...(sub.output ?? [])]) {
      if (vi.name && local.has(vi.name)) readValueInfo({ ...vi, name: prefix + vi.name }, false);
    }
    before((sub.input ?? []).map((v) => prefix + (v.name ?? '')));
    const copies = (sub.node ?? []).map((n) => ({ ...n, input: (n.input ?? []).map(rename), output: (n.output ?? []).map((o) => (o ? prefix + o : '')) }));
    for (const n of copies) for (const i of n.input) consumed.add(i);
    for (const o of sub.output ?? []) consumed.add(rename(o.name ?? ''));
    for (const n of topoSort(copies, new Set(byName.keys()))) readNode(n, rename, depth + 1);
    return (sub.output ?? []).map((o) => lookup(rename(o.name ?? ''), `subgraph '${prefix}' output`));
  };

  /** If (both branches, one after the other, then the If reading both), Loop and Scan (their values copied in, the
   *  body once, then the operator: the values carried out and the scan outputs stacked). */
  const inlineControlFlow = (node: onnx.INodeProto, type: string, attrs: NodeAttrs, nodeName: string, outs: string[], scope: (name: string) => string, depth: number): void => {
    const desc = `node '${nodeName}' (${type})`;
    const inputIds = (node.input ?? []).map((n) => lookup(n, desc));
    const tag = outs[0] ?? nodeName;
    const calls: { inputs: number[]; outputs: number[] }[] = [];
    const bodies: [string, onnx.IGraphProto | undefined][] = type === 'If' ? [['then', attrs.graph('then_branch')], ['else', attrs.graph('else_branch')]] : [['body', attrs.graph('body')]];
    const extra: OpAttrs = {};
    if (type === 'Loop') extra.opts = { carried: Math.max(0, inputIds.length - 2) };
    if (type === 'Scan') {
      const scans = attrs.int('num_scan_inputs', 0);
      extra.opts = { carried: inputIds.length - scans };
      extra.scanAxes = { input: attrs.ints('scan_input_axes') ?? new Array<number>(scans).fill(0), output: attrs.ints('scan_output_axes') ?? [] };
    }
    for (const [role, sub] of bodies) {
      if (!sub) throw new ModelError('bad-onnx', `${desc} has no ${role} graph`);
      const call = { inputs: [] as number[], outputs: [] as number[] };
      call.outputs = inlineGraph(sub, `${tag}/${role}/`, scope, depth, (names) => {
        if (type === 'If') return;
        call.inputs = names.map(defineOutput);
        graph.ops.push({ index: graph.ops.length, kind: 'Special', sourceType: type, name: `${nodeName}:${role} in`, inputs: inputIds.slice(), params: [], outputs: call.inputs, attrs: { fn: type === 'Loop' ? 'loop_in' : 'scan_in', ...extra } });
      });
      calls.push(call);
    }
    graph.ops.push({
      index: graph.ops.length, kind: 'Special', sourceType: type, name: nodeName,
      inputs: [...inputIds, ...calls.flatMap((c) => c.outputs)], params: [], outputs: outs.map(defineOutput),
      attrs: { fn: type.toLowerCase(), calls, operands: inputIds.slice(), ...extra },
    });
    const why = type === 'If' ? 'both branches run one after the other here, the outputs of each kept until the If; the MACs count both, though one runs'
      : 'its body is counted once: memory for one iteration (the carried values, and the scan outputs whole), MACs of one iteration';
    graph.notes.push({ severity: 'info', opIndex: graph.ops.length - 1, message: `${type} '${nodeName}': ${why}` });
  };

  for (const node of nodes) readNode(node, (n) => n, 0);

  for (const vi of g.output ?? []) {
    const name = vi.name ?? '';
    if (!name) throw new ModelError('bad-graph', 'a graph output has an empty name');
    const id = lookup(name, 'graph output');
    graph.outputs.push(id);
    const s = stored.get(name);
    const t = graph.tensors[id]!;
    if (s?.shape && !t.shape) { t.shape = s.shape; t.shapeFromFile = true; }
  }
  return graph;
}

function splitInputs(op: Op, spec: OpSpec, ids: number[]): void {
  if (spec.x === 'all') { op.inputs = ids.slice(); return; }
  if (spec.x === 'qconcat') {
    op.inputs = ids.filter((_, i) => i >= 2 && (i - 2) % 3 === 0);
    op.params = ids.filter((id, i) => !(i >= 2 && (i - 2) % 3 === 0) && id >= 0);
    return;
  }
  const x = spec.x ?? [0];
  op.inputs = x.map((i) => ids[i] ?? -1);
  op.params = ids.filter((id, i) => !x.includes(i) && id >= 0);
}

function paddingOf(attrs: NodeAttrs): Padding {
  const autoPad = attrs.str('auto_pad') ?? 'NOTSET';
  return autoPad === 'SAME_UPPER' ? 'same_upper' : autoPad === 'SAME_LOWER' ? 'same_lower' : autoPad === 'VALID' ? 'valid' : 'explicit';
}

/** The window attributes for any number of spatial axes (1-D and 3-D convolution and pooling use these). */
function readNd(attrs: NodeAttrs): SpatialNdAttrs {
  const nd: SpatialNdAttrs = { kernel: attrs.ints('kernel_shape') ?? null, padding: paddingOf(attrs), ceilMode: attrs.int('ceil_mode', 0) === 1 };
  const put = (key: 'strides' | 'dilations' | 'pads' | 'outputPadding' | 'outputShape', name: string): void => {
    const v = attrs.ints(name);
    if (v) nd[key] = v;
  };
  put('strides', 'strides');
  put('dilations', 'dilations');
  put('pads', 'pads');
  put('outputPadding', 'output_padding');
  put('outputShape', 'output_shape');
  return nd;
}

/** The attributes of the Special operators their shape rules read; every operand stays addressable by position. */
function readSpecial(op: Op, type: string, attrs: NodeAttrs, opset: number, inputIds: number[]): void {
  const a = op.attrs;
  a.operands = inputIds.slice();
  const opts: Record<string, number> = {};
  const put = (name: string, def: number): void => { opts[name] = attrs.has(name) ? attrs.int(name, def) : def; };
  switch (type) {
    case 'Einsum': a.equation = attrs.str('equation') ?? ''; break;
    case 'OneHot': a.axis = attrs.int('axis', -1); break;
    case 'Compress': case 'Unique': if (attrs.has('axis')) a.axis = attrs.int('axis', 0); break;
    case 'DeformConv': a.group = attrs.int('group', 1); a.nd = readNd(attrs); break;
    case 'MaxUnpool': a.nd = readNd(attrs); break;
    case 'RoiAlign': put('output_height', 1); put('output_width', 1); break;
    case 'CenterCropPad': { const axes = attrs.ints('axes'); if (axes) a.axes = axes; break; }
    case 'HannWindow': case 'HammingWindow': case 'BlackmanWindow': case 'MelWeightMatrix':
      a.toDType = ONNX_DTYPES[attrs.int('output_datatype', 1)] ?? 'unknown';
      put('periodic', 1);
      break;
    case 'DFT':
      put('onesided', 0); put('inverse', 0);
      // Opset 17 takes the axis as an attribute (default 1); opset 20 as its third input (default -2).
      if (opset < 20) opts.axis = attrs.int('axis', 1);
      break;
    case 'STFT': put('onesided', 1); break;
    case 'BitCast': a.toDType = ONNX_DTYPES[attrs.int('to', 0)] ?? 'unknown'; break;
    case 'LinearAttention': put('q_num_heads', 0); put('kv_num_heads', 0); break;
  }
  a.opts = opts;
}

function readSpatial(attrs: NodeAttrs, kernel: [number, number] | null): SpatialAttrs {
  const pads = attrs.ints('pads') ?? [0, 0, 0, 0];
  const k = attrs.ints('kernel_shape');
  const s = attrs.ints('strides') ?? [1, 1];
  const d = attrs.ints('dilations') ?? [1, 1];
  return {
    kernel: k && k.length === 2 ? [k[0]!, k[1]!] : kernel,
    strides: [s[0] ?? 1, s[1] ?? 1],
    dilations: [d[0] ?? 1, d[1] ?? 1],
    padding: paddingOf(attrs),
    pads: pads.length === 4 ? [pads[0]!, pads[1]!, pads[2]!, pads[3]!] : [0, 0, 0, 0],
    ceilMode: attrs.int('ceil_mode', 0) === 1,
  };
}

/** `inputIds`: the node's inputs by position, -1 where the file leaves an optional one out (''): operands after an
 *  empty one are read by position, since op.params drops the empty ones. */
function readAttrs(op: Op, type: string, attrs: NodeAttrs, opset: number, graph: Graph, spec: OpSpec, inputIds: number[]): void {
  const a: OpAttrs = op.attrs;
  const param = (i: number): Tensor | undefined => graph.tensors[op.params[i] ?? -1];
  const input = (i: number): Tensor | undefined => graph.tensors[inputIds[i] ?? -1];
  switch (op.kind) {
    case 'Conv2D': case 'TransposeConv2D':
      a.layout = 'NCHW';
      a.group = attrs.int('group', 1);
      a.spatial = readSpatial(attrs, null);
      a.nd = readNd(attrs);
      break;
    case 'MaxPool2D': case 'AvgPool2D': case 'PoolNd':
      a.layout = 'NCHW';
      a.spatial = readSpatial(attrs, null);
      a.nd = readNd(attrs);
      a.countIncludePad = attrs.int('count_include_pad', 0) === 1;
      if (!a.nd.kernel) op.unsupported = `${type} without kernel_shape`;
      break;
    case 'Elementwise':
      if (type === 'CastLike') a.toDType = input(1)?.dtype;
      if (type === 'GatherElements') a.toDType = input(0)?.dtype;
      if (type === 'ThresholdedRelu' || type === 'Celu') a.alpha = attrs.float('alpha', 1);
      if (type === 'Shrink') { a.alpha = attrs.float('lambd', 0.5); a.beta = attrs.float('bias', 0); }
      // RMS normalization: ONNX's over the axes from `axis`; Deeploy's float RMSNorm over the last, its epsilon 'eps'.
      if (type === 'RMSNormalization') { a.axis = attrs.int('axis', -1); a.epsilon = attrs.float('epsilon', 1e-5); }
      if (type === 'RMSNorm') { a.axis = -1; a.epsilon = attrs.float('eps', 1e-5); }
      if (type === 'RequantShift') {
        // Deeploy's requantization: its div, n_levels (or n_levels_out) and signed, written as integer or tensor
        // attributes.
        const num = (name: string): number | undefined => {
          if (!attrs.has(name)) return undefined;
          const t = attrs.tensor(name);
          return t ? readTensorProto(t, `${op.name}.${name}`, {}).values?.[0] : attrs.int(name, NaN);
        };
        const opts: Record<string, number> = {};
        for (const [key, name] of [['div', 'div'], ['levels', 'n_levels_out'], ['levels', 'n_levels'], ['signed', 'signed']] as const) {
          const v = num(name);
          if (v !== undefined && opts[key] === undefined) opts[key] = v;
        }
        a.opts = opts;
      }
      break;
    case 'SpaceToDepth': case 'DepthToSpace':
      a.layout = 'NCHW';
      a.blockSize = attrs.int('blocksize', 0);
      if (attrs.str('mode') === 'CRD') a.depthMode = 'CRD';
      break;
    case 'ArgReduce':
      a.axis = attrs.int('axis', 0);
      a.keepDims = attrs.int('keepdims', 1) === 1;
      if (attrs.int('select_last_index', 0) === 1) a.selectLast = true;
      a.toDType = 'int64';
      break;
    case 'GatherND':
      a.axis = attrs.int('batch_dims', 0);
      break;
    case 'Special':
      readSpecial(op, type, attrs, opset, inputIds);
      break;
    case 'TopK':
      a.axis = attrs.int('axis', -1);
      if (opset < 10) a.count = attrs.int('k', 0);
      break;
    case 'Recurrent': {
      const gates = type === 'LSTM' ? 4 : type === 'GRU' ? 3 : 1;
      const directions = attrs.str('direction') === 'bidirectional' ? 2 : 1;
      const r = input(2)?.shape; // R: [directions, gates·hidden, hidden]
      const hidden = attrs.has('hidden_size') ? attrs.int('hidden_size', 0) : r?.[2];
      a.recurrent = { cell: type === 'LSTM' ? 'lstm' : type === 'GRU' ? 'gru' : 'rnn', gates, directions, timeMajor: attrs.int('layout', 0) === 0, ...(hidden !== undefined ? { hiddenSize: hidden } : {}) };
      if (type === 'LSTM') {
        a.recurrent.reverse = attrs.str('direction') === 'reverse';
        if (attrs.has('clip')) a.recurrent.clip = attrs.float('clip', 0);
        a.recurrent.inputForget = attrs.int('input_forget', 0) === 1;
        const acts = attrs.strs('activations');
        if (acts) a.recurrent.activations = acts;
      }
      a.operands = inputIds.slice();
      break;
    }
    case 'Loss':
      a.reduction = attrs.str('reduction') ?? 'mean';
      break;
    case 'Classifier': {
      const n = attrs.count('classlabels_ints') || attrs.count('classlabels_strings');
      if (n) a.count = n;
      // The work per row: an SVM's kernel over its support vectors (features each); a linear classifier's weights.
      const vectors = (attrs.ints('vectors_per_class') ?? []).reduce((x, y) => x + Math.max(0, y), 0);
      const values = type === 'SVMClassifier' ? (attrs.count('support_vectors') ?? 0) : (attrs.count('coefficients') ?? 0);
      // SVMClassifier: its kernel (LINEAR 0, POLY 1, RBF 2, SIGMOID 3), whether it gives probabilities (prob_a), its
      // pairwise decisions (rho), and its post_transform (NONE 0, else 1).
      const kernel = ['LINEAR', 'POLY', 'RBF', 'SIGMOID'].indexOf(attrs.str('kernel_type') ?? 'LINEAR');
      a.opts = { vectors, values, classes: n ?? 0, kernel, proba: attrs.count('prob_a') ?? 0, rho: attrs.count('rho') ?? 0, post: (attrs.str('post_transform') ?? 'NONE') === 'NONE' ? 0 : 1 };
      break;
    }
    case 'ConstantOfShape':
      if (type === 'ConstantOfShape') {
        const tp = attrs.tensor('value');
        const v = tp ? readTensorProto(tp, `${op.name}.value`, {}).values?.[0] : undefined;
        if (v !== undefined) a.fill = v;
      } else {
        a.newShape = attrs.ints('shape');
        a.toDType = ONNX_DTYPES[attrs.int('dtype', 1)] ?? 'float32';
      }
      break;
    case 'GlobalAvgPool': case 'GlobalMaxPool':
      a.layout = 'NCHW';
      break;
    case 'Reduce': {
      a.keepDims = attrs.int('keepdims', 1) === 1;
      const axesFromInput = type === 'IntegerMean' ? false : type === 'ReduceSum' ? opset >= 13 : opset >= 18;
      a.axes = axesFromInput ? param(0)?.values : attrs.ints('axes');
      if (axesFromInput) a.operands = inputIds.slice();
      break;
    }
    case 'FullyConnected':
      a.transA = attrs.int('transA', 0) === 1;
      a.transB = attrs.int('transB', 0) === 1;
      a.alpha = attrs.float('alpha', 1);
      a.beta = attrs.float('beta', 1);
      break;
    case 'Concat':
      a.axis = attrs.int('axis', 0);
      break;
    case 'Split':
      a.axis = attrs.int('axis', 0);
      a.splitSizes = opset >= 13 ? param(0)?.values : attrs.ints('split');
      if (opset >= 13) a.operands = inputIds.slice();
      break;
    case 'Gather':
      a.axis = attrs.int('axis', 0);
      break;
    case 'Softmax':
      a.axis = attrs.int('axis', opset >= 13 ? -1 : 1);
      if (opset < 13) a.softmaxFlatten = true;
      break;
    case 'BatchNorm':
      a.epsilon = attrs.float('epsilon', 1e-5);
      if (type === 'LayerNormalization') a.axis = attrs.int('axis', -1);
      break;
    case 'Flatten':
      a.axis = attrs.int('axis', 1);
      break;
    case 'Shape':
      if (attrs.has('start')) a.starts = [attrs.int('start', 0)];
      if (attrs.has('end')) a.ends = [attrs.int('end', 0)];
      break;
    case 'Transpose':
      a.perm = attrs.ints('perm');
      break;
    case 'Squeeze': case 'Unsqueeze':
      a.axes = opset >= 13 ? param(0)?.values : attrs.ints('axes');
      if (opset >= 13) a.operands = inputIds.slice();
      break;
    case 'Reshape':
      a.newShape = opset >= 5 ? param(0)?.values : attrs.ints('shape');
      break;
    case 'Pad': {
      const mode = attrs.str('mode') ?? 'constant';
      if (opset >= 11) {
        // With an axes operand (opset 18) the pads are resolved by shape inference, which knows the rank.
        if (!input(3)) a.padAmounts = input(1)?.values;
        a.operands = inputIds.slice();
        a.padOperands = [inputIds[1] ?? -1, inputIds[2] ?? -1, inputIds[3] ?? -1];
      } else {
        a.padAmounts = attrs.ints('pads') ?? attrs.ints('paddings');
        a.padValue = attrs.float('value', 0);
      }
      if (mode !== 'constant') {
        a.activation = 'other';
        a.padMode = mode === 'reflect' || mode === 'edge' || mode === 'wrap' ? mode : 'unknown';
      }
      break;
    }
    case 'Resize': {
      const mode = (attrs.str('mode') ?? 'nearest') === 'nearest' ? 'nearest' : (attrs.str('mode') ?? '').includes('linear') ? 'linear' : 'cubic';
      // Upsample and Resize before opset 11 have no coordinate attributes: asymmetric, truncating ('simple').
      const old = type === 'Upsample' || opset < 11;
      a.resize = {
        mode,
        coord: old ? 'asymmetric' : attrs.str('coordinate_transformation_mode') ?? 'half_pixel',
        nearest: old ? 'simple' : attrs.str('nearest_mode') ?? 'round_prefer_floor',
      };
      // opset 10 and Upsample: (X, scales); opset >= 11 Resize: (X, roi, scales, sizes)
      if (type === 'Upsample' && opset < 9) a.scales = attrs.floats('scales');
      else if (old) a.scales = input(1)?.values;
      else {
        const scales = input(2)?.values;
        a.scales = scales && scales.length > 0 ? scales : undefined;
        a.sizes = input(3)?.values;
        a.operands = inputIds.slice();
      }
      break;
    }
    case 'Slice':
      if (opset >= 10) {
        a.starts = input(1)?.values;
        a.ends = input(2)?.values;
        a.axes = input(3)?.values;
        a.steps = input(4)?.values;
        a.operands = inputIds.slice();
      } else {
        a.starts = attrs.ints('starts');
        a.ends = attrs.ints('ends');
        a.axes = attrs.ints('axes');
      }
      break;
    case 'Cast':
      a.toDType = ONNX_DTYPES[attrs.int('to', 1)] ?? 'unknown';
      break;
    case 'Quantize':
      a.axis = attrs.int('axis', 1);
      a.toDType = type === 'DynamicQuantizeLinear' ? 'uint8' : (param(1)?.dtype ?? 'uint8');
      break;
    case 'Dequantize':
      a.axis = attrs.int('axis', 1);
      break;
    case 'Activation':
      a.activation = spec.act;
      if (type === 'HardSigmoid') { a.alpha = attrs.float('alpha', 0.2); a.beta = attrs.float('beta', 0.5); }
      if (type === 'LeakyRelu') a.alpha = attrs.float('alpha', 0.01);
      if (type === 'Elu') a.alpha = attrs.float('alpha', 1);
      if (type === 'Selu') { a.alpha = attrs.float('alpha', 1.67326319217681884765625); a.beta = attrs.float('gamma', 1.05070102214813232421875); }
      if (type === 'Gelu') a.approximate = attrs.str('approximate') === 'tanh';
      if (type === 'Clip' && opset < 11) a.clip = [attrs.float('min', -3.4028234663852886e38), attrs.float('max', 3.4028234663852886e38)];
      if (type === 'Clip' && opset >= 11) a.clipOperands = [inputIds[1] ?? -1, inputIds[2] ?? -1];
      break;
    default:
      break;
  }
  if (type.startsWith('QLinear') || type === 'QGemm') {
    // The output dtype is the output zero point's (last param of every QLinear op, or 'y_zero_point').
    const yzp = type === 'QLinearConcat' ? graph.tensors[op.params[1] ?? -1] : graph.tensors[op.params[op.params.length - 1] ?? -1];
    if (yzp && (yzp.dtype === 'int8' || yzp.dtype === 'uint8')) a.toDType = yzp.dtype;
    else a.toDType = 'uint8';
  }
  if (type === 'ConvInteger' || type === 'MatMulInteger') a.toDType = 'int32';
}

function constantValue(attrs: NodeAttrs, desc: string): onnx.ITensorProto {
  const t = attrs.tensor('value');
  if (t) return t;
  const f = attrs.floats('value_floats');
  if (f) return { dataType: 1, dims: [f.length], floatData: f };
  if (attrs.has('value_float')) return { dataType: 1, dims: [], floatData: [attrs.float('value_float', 0)] };
  const i = attrs.ints('value_ints');
  if (i) return { dataType: 7, dims: [i.length], int64Data: i };
  if (attrs.has('value_int')) return { dataType: 7, dims: [], int64Data: [attrs.int('value_int', 0)] };
  throw new ModelError('unsupported', `${desc}: Constant without a tensor, float or int value (sparse and string constants are not supported)`);
}

interface ReadTensor {
  dtype: DType;
  shape: number[];
  bytes: number;
  values?: number[];
  data?: () => Uint8Array;
}

function readTensorProto(tp: onnx.ITensorProto, name: string, options: OnnxReadOptions): ReadTensor {
  const dtype = ONNX_DTYPES[tp.dataType ?? 0];
  if (!dtype) throw new ModelError('bad-onnx', `tensor '${name}' has unknown data type ${tp.dataType}`);
  const shape = checkedShape((tp.dims ?? []).map(toInt), `tensor '${name}'`);
  const expected = bytesFor(dtype, shape);
  let bytes: number;
  if (tp.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    const kv = new Map((tp.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const location = kv.get('location');
    if (!location) throw new ModelError('external-data', `tensor '${name}' is stored externally but names no location`);
    const offset = Number(kv.get('offset') ?? 0);
    const length = kv.has('length') ? Number(kv.get('length')) : expected;
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
      throw new ModelError('external-data', `tensor '${name}': invalid external offset/length (${kv.get('offset')}, ${kv.get('length')})`);
    }
    const rel = checkExternalLocation(location, name);
    if (!options.externalData) {
      throw new ModelError('external-data', `tensor '${name}' is stored in external file '${location}', but the model was opened without its folder`);
    }
    const problem = options.externalData.check(rel, offset, length);
    if (problem) throw new ModelError('external-data', `tensor '${name}': ${problem}`);
    if (DTYPE_BITS[dtype] && length !== expected) {
      throw new ModelError('external-data', `tensor '${name}' has ${length} external bytes, but its shape ${shape.join('×')} (${dtype}) needs ${expected}`);
    }
    bytes = length;
  } else if (tp.rawData && tp.rawData.length > 0) {
    bytes = tp.rawData.length;
    if (DTYPE_BITS[dtype] && bytes !== expected) {
      throw new ModelError('bad-onnx', `tensor '${name}' holds ${bytes} bytes, but its shape ${shape.join('×')} (${dtype}) needs ${expected}`);
    }
  } else {
    const counts = [tp.floatData, tp.int32Data, tp.int64Data, tp.doubleData, tp.uint64Data, tp.stringData].map((a) => a?.length ?? 0);
    const n = Math.max(...counts);
    const elements = shape.reduce((x, y) => x * y, 1);
    if (n !== elements && !(n === 0 && elements === 0)) {
      throw new ModelError('bad-onnx', `tensor '${name}' holds ${n} values, but its shape ${shape.join('×')} needs ${elements}`);
    }
    bytes = expected;
  }
  const out: ReadTensor = { dtype, shape, bytes };
  const elements = shape.reduce((x, y) => x * y, 1);
  if (tp.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) {
    const raw = tp.rawData;
    if (raw && raw.length > 0) out.data = () => raw;
    else if (DTYPE_BITS[dtype] >= 8) out.data = () => encodeTypedData(tp, dtype, elements, bytes);
  }
  if ((dtype === 'int64' || dtype === 'int32' || dtype === 'float32' || dtype === 'bool') && elements <= 64 && tp.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) {
    out.values = smallValues(tp, dtype, elements);
  }
  return out;
}

/**
 * The little-endian bytes of a constant held in the TensorProto's typed fields (ONNX puts every type up to 32 bits
 * in int32_data, 16-bit floats as their bit patterns; uint32/uint64 in uint64_data). Counts were checked on reading.
 */
function encodeTypedData(tp: onnx.ITensorProto, dtype: DType, elements: number, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  const dv = new DataView(out.buffer);
  const num = (v: IntLike): number => toInt(v);
  for (let i = 0; i < elements; i++) {
    switch (dtype) {
      case 'float32': dv.setFloat32(4 * i, tp.floatData?.[i] ?? 0, true); break;
      case 'float64': dv.setFloat64(8 * i, tp.doubleData?.[i] ?? 0, true); break;
      case 'int64': dv.setBigInt64(8 * i, BigInt(num(tp.int64Data?.[i])), true); break;
      case 'uint64': dv.setBigUint64(8 * i, BigInt(num(tp.uint64Data?.[i])), true); break;
      case 'uint32': dv.setUint32(4 * i, num(tp.uint64Data?.[i]), true); break;
      case 'int32': dv.setInt32(4 * i, tp.int32Data?.[i] ?? 0, true); break;
      case 'int16': dv.setInt16(2 * i, tp.int32Data?.[i] ?? 0, true); break;
      case 'uint16': case 'float16': case 'bfloat16': dv.setUint16(2 * i, (tp.int32Data?.[i] ?? 0) & 0xffff, true); break;
      case 'int8': dv.setInt8(i, tp.int32Data?.[i] ?? 0); break;
      case 'uint8': case 'bool': case 'float8': dv.setUint8(i, (tp.int32Data?.[i] ?? 0) & 0xff); break;
      default: return out;
    }
  }
  return out;
}

/** Values of a small constant (shape operands, scales): int64/int32 exactly, float32 as read. */
function smallValues(tp: onnx.ITensorProto, dtype: DType, n: number): number[] | undefined {
  const raw = tp.rawData;
  if (raw && raw.length > 0) {
    if (dtype === 'bool') return raw.length < n ? undefined : Array.from(raw.subarray(0, n), (v) => (v ? 1 : 0));
    const w = dtype === 'int64' ? 8 : 4;
    if (raw.length < n * w) return undefined;
    const dv = new DataView(raw.buffer, raw.byteOffset, n * w);
    return Array.from({ length: n }, (_, i) =>
      dtype === 'int64' ? Number(dv.getBigInt64(8 * i, true)) : dtype === 'int32' ? dv.getInt32(4 * i, true) : dv.getFloat32(4 * i, true));
  }
  if (dtype === 'int64') return (tp.int64Data ?? []).map(toInt);
  if (dtype === 'int32') return (tp.int32Data ?? []).slice();
  if (dtype === 'bool') return (tp.int32Data ?? []).map((v) => (v ? 1 : 0));
  return (tp.floatData ?? []).slice();
}

/**
 * Nodes in an order where every input is defined first. ONNX requires files to be sorted already; a file that is
 * not gets sorted (stable), and a cycle is an error naming a node on it.
 */
function topoSort(nodes: onnx.INodeProto[], defined: Set<string>): onnx.INodeProto[] {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => {
    for (const o of n.output ?? []) {
      if (!o) continue;
      if (producer.has(o) || defined.has(o)) throw new ModelError('bad-graph', `tensor '${o}' is produced twice (node '${n.name || n.opType}')`);
      producer.set(o, i);
    }
  });
  let sorted = true;
  nodes.forEach((n, i) => {
    for (const x of n.input ?? []) {
      const p = producer.get(x);
      if (p !== undefined && p >= i) sorted = false;
    }
  });
  if (sorted) return nodes;
  const indeg = new Array<number>(nodes.length).fill(0);
  const users: number[][] = nodes.map(() => []);
  nodes.forEach((n, i) => {
    for (const x of new Set(n.input ?? [])) {
      const p = producer.get(x);
      if (p !== undefined) { indeg[i]!++; users[p]!.push(i); }
    }
  });
  // Kahn's algorithm taking the lowest ready index first (file order where possible), with a binary heap.
  const heap: number[] = [];
  const push = (v: number): void => {
    heap.push(v);
    for (let k = heap.length - 1; k > 0;) {
      const up = (k - 1) >> 1;
      if (heap[up]! <= heap[k]!) break;
      [heap[up], heap[k]] = [heap[k]!, heap[up]!];
      k = up;
    }
  };
  const pop = (): number => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let k = 0; ;) {
        const l = 2 * k + 1;
        const r = l + 1;
        let m = k;
        if (l < heap.length && heap[l]! < heap[m]!) m = l;
        if (r < heap.length && heap[r]! < heap[m]!) m = r;
        if (m === k) break;
        [heap[m], heap[k]] = [heap[k]!, heap[m]!];
        k = m;
      }
    }
    return top;
  };
  indeg.forEach((d, i) => { if (d === 0) push(i); });
  const order: number[] = [];
  while (heap.length) {
    const i = pop();
    order.push(i);
    for (const u of users[i]!) if (--indeg[u]! === 0) push(u);
  }
  if (order.length < nodes.length) {
    const stuck = nodes.find((_, i) => indeg[i]! > 0)!;
    throw new ModelError('bad-graph', `the graph has a cycle through node '${stuck.name || stuck.opType}' (ONNX graphs must be acyclic)`);
  }
  return order.map((i) => nodes[i]!);
}
