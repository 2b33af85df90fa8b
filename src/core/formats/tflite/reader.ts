// TFLite reader: hand-written, bounds-checked accessors over the TFLite schema (shared/reference/tflite/schema.fbs)
// on the flatbuffers runtime. Reads subgraph 0 into the normalized graph model, with the subgraphs its control-flow
// operators run inlined.
import { ModelError, checkedShape, LIMITS } from '../../errors';
import type { ActivationFn, DType, Graph, Op, OpAttrs, OpKind, Padding, RecurrentAttrs, Tensor } from '../../graph';
import { TFLITE_BUILTIN_OPS } from './builtin-ops';
import { FbFile, FbTable } from './fb';

const TENSOR_TYPES: readonly DType[] = [
  'float32', 'float16', 'int32', 'uint8', 'int64', 'string', 'bool', 'int16', 'complex64', 'int8', 'float64',
  'complex128', 'uint64', 'resource', 'variant', 'uint32', 'uint16', 'int4', 'bfloat16', 'unknown' /* INT2 */, 'uint4',
  'float8', 'float8',
];

const FUSED_ACT: readonly (ActivationFn | undefined)[] = [undefined, 'relu', 'relu_n1_to_1', 'relu6', 'tanh', 'sign_bit'];

const ACTIVATION_OPS: Readonly<Record<string, ActivationFn>> = {
  RELU: 'relu', RELU6: 'relu6', RELU_N1_TO_1: 'relu_n1_to_1', RELU_0_TO_1: 'clip', LOGISTIC: 'sigmoid', TANH: 'tanh',
  HARD_SWISH: 'hardswish', LEAKY_RELU: 'leakyrelu', PRELU: 'prelu', ELU: 'elu', GELU: 'gelu', EXP: 'exp', LOG: 'log',
  ABS: 'abs', NEG: 'neg', SQRT: 'sqrt', RSQRT: 'rsqrt',
};

/** Simple one-to-one kinds. Ops not listed are kept as 'Unknown' with their stored shapes. */
const SIMPLE_KINDS: Readonly<Record<string, OpKind>> = {
  ADD: 'Add', SUB: 'Sub', MUL: 'Mul', DIV: 'Div', MAXIMUM: 'Max', MINIMUM: 'Min', POW: 'Pow', CONCATENATION: 'Concat',
  PAD: 'Pad', PADV2: 'Pad', MIRROR_PAD: 'Pad', RESHAPE: 'Reshape', SQUEEZE: 'Squeeze', EXPAND_DIMS: 'Unsqueeze',
  TRANSPOSE: 'Transpose', SOFTMAX: 'Softmax', LOG_SOFTMAX: 'Softmax', QUANTIZE: 'Quantize', DEQUANTIZE: 'Dequantize',
  MEAN: 'Reduce', SUM: 'Reduce', REDUCE_MAX: 'Reduce', REDUCE_MIN: 'Reduce', REDUCE_PROD: 'Reduce',
  RESIZE_NEAREST_NEIGHBOR: 'Resize', RESIZE_BILINEAR: 'Resize', STRIDED_SLICE: 'Slice', SLICE: 'Slice',
  SPLIT: 'Split', SPLIT_V: 'Split', GATHER: 'Gather', SHAPE: 'Shape', CAST: 'Cast', BATCH_MATMUL: 'MatMul',
  REDUCE_ALL: 'Reduce', REDUCE_ANY: 'Reduce', PACK: 'Pack', UNPACK: 'Unpack', TILE: 'Tile', BROADCAST_TO: 'Expand',
  SPACE_TO_DEPTH: 'SpaceToDepth', DEPTH_TO_SPACE: 'DepthToSpace', SPACE_TO_BATCH_ND: 'SpaceToBatch',
  BATCH_TO_SPACE_ND: 'BatchToSpace', ARG_MAX: 'ArgReduce', ARG_MIN: 'ArgReduce', GATHER_ND: 'GatherND', FILL: 'ConstantOfShape',
  RANGE: 'Range', TOPK_V2: 'TopK', UNIDIRECTIONAL_SEQUENCE_LSTM: 'Recurrent', UNIDIRECTIONAL_SEQUENCE_RNN: 'Recurrent',
  BIDIRECTIONAL_SEQUENCE_LSTM: 'Recurrent', BIDIRECTIONAL_SEQUENCE_RNN: 'Recurrent', LSTM: 'Recurrent', RNN: 'Recurrent',
  SVDF: 'Recurrent', L2_POOL_2D: 'PoolNd', EMBEDDING_LOOKUP: 'Gather', DYNAMIC_UPDATE_SLICE: 'Elementwise',
};

/** Elementwise builtins: broadcasting over every input (comparisons and logic give bool), or shaped like the first
 *  input with the others as parameters (`1`). */
const ELEMENTWISE: Readonly<Record<string, [string, 'all' | 1]>> = {
  EQUAL: ['equal', 'all'], NOT_EQUAL: ['not_equal', 'all'], LESS: ['less', 'all'], LESS_EQUAL: ['less_equal', 'all'],
  GREATER: ['greater', 'all'], GREATER_EQUAL: ['greater_equal', 'all'], LOGICAL_AND: ['and', 'all'], LOGICAL_OR: ['or', 'all'],
  LOGICAL_NOT: ['not', 'all'], FLOOR_DIV: ['floor_div', 'all'], FLOOR_MOD: ['mod', 'all'], SQUARED_DIFFERENCE: ['squared_difference', 'all'],
  ADD_N: ['add_n', 'all'], SELECT: ['where', 'all'], SELECT_V2: ['where', 'all'], RIGHT_SHIFT: ['bitshift', 'all'],
  BITWISE_XOR: ['bitwise_xor', 'all'], ATAN2: ['atan2', 'all'], BROADCAST_ARGS: ['broadcast_args', 'all'],
  FLOOR: ['floor', 1], CEIL: ['ceil', 1], ROUND: ['round', 1], SIN: ['sin', 1], COS: ['cos', 1], SQUARE: ['square', 1],
  ZEROS_LIKE: ['zeros_like', 1], ONES_LIKE: ['ones_like', 1], L2_NORMALIZATION: ['l2norm', 1], SIGN: ['sign', 1],
  LOCAL_RESPONSE_NORMALIZATION: ['lrn', 1], CUMSUM: ['cumsum', 1], REVERSE_V2: ['reverse', 1], DYNAMIC_UPDATE_SLICE: ['update', 1],
};

/** The normalized kind the reader gives a builtin operator (the coverage checklist's test reads it). */
export function tfliteKindOf(name: string): OpKind {
  const special: Readonly<Record<string, OpKind>> = {
    CONV_2D: 'Conv2D', DEPTHWISE_CONV_2D: 'DepthwiseConv2D', TRANSPOSE_CONV: 'TransposeConv2D', AVERAGE_POOL_2D: 'AvgPool2D',
    MAX_POOL_2D: 'MaxPool2D', FULLY_CONNECTED: 'FullyConnected', CUSTOM: 'Custom',
    IF: 'Special', WHILE: 'Special', CALL_ONCE: 'Special', VAR_HANDLE: 'Special', READ_VARIABLE: 'Special', ASSIGN_VARIABLE: 'Special',
  };
  if (special[name]) return special[name]!;
  if (ACTIVATION_OPS[name]) return 'Activation';
  if (ELEMENTWISE[name]) return 'Elementwise';
  return SIMPLE_KINDS[name] ?? 'Unknown';
}

const TFLITE_IDENTIFIER = 'TFL3';

/** Cheap check: the FlatBuffer file identifier 'TFL3' at byte 4. */
export function matchTflite(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && bytes[4] === 0x54 && bytes[5] === 0x46 && bytes[6] === 0x4c && bytes[7] === 0x33;
}

interface OpCode {
  name: string;
  custom?: string;
  version: number;
}

interface BufferInfo {
  start: number;
  length: number;
}

export function readTflite(bytes: Uint8Array): Graph {
  if (!matchTflite(bytes)) {
    const found = Array.from(bytes.subarray(4, 8), (b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : '.')).join('');
    throw new ModelError('unknown-format', `not a TFLite file: expected identifier '${TFLITE_IDENTIFIER}' at byte 4, found '${found}'`);
  }
  const f = new FbFile(bytes);
  const model = f.root('model');
  const version = model.uint32(0);

  const opcodes: OpCode[] = model.tableVector(1, 'operator_codes', LIMITS.maxOps).map((t) => {
    const deprecated = t.int8(0);
    const builtin = Math.max(deprecated, t.int32(3));
    const custom = t.string(1, 'custom_code') ?? undefined;
    const name = builtin === 32 ? 'CUSTOM' : (TFLITE_BUILTIN_OPS.get(builtin) ?? `BUILTIN_${builtin}`);
    return { name, custom, version: t.int32(2, 1) };
  });

  const buffers: BufferInfo[] = model.tableVector(4, 'buffers', LIMITS.maxTensors + 1).map((b, i) => {
    const data = b.vector(0, 1, 'data');
    if (data) return { start: data.start, length: data.length };
    const offset = b.uint64(1);
    const size = b.uint64(2);
    if (size > 0) {
      // Large models keep buffer data after the flatbuffer; offsets are from the start of the file.
      f.need(offset, size, `buffer ${i} (offset ${offset}, size ${size})`);
      return { start: offset, length: size };
    }
    return { start: 0, length: 0 };
  });

  const subgraphs = model.tableVector(2, 'subgraphs', LIMITS.maxSubgraphs);
  if (subgraphs.length === 0) throw new ModelError('bad-tflite', 'the model has no subgraphs');
  const sg = subgraphs[0]!;

  const graph: Graph = {
    format: 'tflite',
    tensors: [],
    ops: [],
    inputs: [],
    outputs: [],
    storage: new Map(),
    metadata: { tfliteVersion: version, subgraphCount: subgraphs.length, producer: model.string(3, 'description') ?? undefined },
    notes: [],
  };
  const ctx: SubgraphReader = { subgraphs, buffers, bytes, opcodes, graph, stack: [0] };
  const main = readSubgraphTensors(ctx, 0);
  const nt = main.length;
  const checkIndex = (i: number, where: string): number => {
    if (!Number.isInteger(i) || i < -1 || i >= nt) throw new ModelError('bad-graph', `${where} refers to tensor ${i}, but the subgraph has ${nt} tensors`);
    return i;
  };
  graph.inputs = (sg.int32Vector(1, 'inputs') ?? []).map((i) => checkIndex(i, 'subgraph input'));
  graph.outputs = (sg.int32Vector(2, 'outputs') ?? []).map((i) => checkIndex(i, 'subgraph output'));
  if (graph.outputs.includes(-1)) throw new ModelError('bad-graph', 'subgraph output -1 is not a tensor');
  for (const i of graph.inputs) {
    if (i < 0) throw new ModelError('bad-graph', 'subgraph input -1 is not a tensor');
    const t = graph.tensors[i]!;
    // Graph inputs are inputs, even with a data buffer (it would otherwise fold the whole graph into constants).
    if (t.role === 'constant') {
      graph.notes.push({ severity: 'info', message: `subgraph input '${t.name}' has a data buffer: analysed as an input` });
      t.role = 'input';
      delete t.storage;
      delete t.values;
    } else if (t.role === 'activation') t.role = 'input';
  }

  readSubgraphOps(ctx, 0, main);
  if (subgraphs.length > 1 && !graph.ops.some((op) => op.attrs.calls)) {
    graph.notes.push({ severity: 'info', message: `${subgraphs.length} subgraphs: subgraph 0 is analysed (the others are not run by a control-flow operator)` });
  }
  resolveResourceVariables(graph);

  readMetadata(model, buffers, bytes, graph);
  return graph;
}

// ---- subgraphs: control flow inlined as TFLM plans it -------------------------------------------------------------

interface SubgraphReader {
  subgraphs: FbTable[];
  buffers: BufferInfo[];
  bytes: Uint8Array;
  opcodes: OpCode[];
  graph: Graph;
  /** The subgraphs being read, outermost first (a subgraph that runs itself is refused). */
  stack: number[];
}

/** Reads subgraph k's tensors into the graph; returns the graph id of each (a called subgraph's names get its name as
 *  a prefix, since subgraphs reuse names). */
function readSubgraphTensors(ctx: SubgraphReader, k: number): number[] {
  const sg = ctx.subgraphs[k]!;
  const prefix = k === 0 ? '' : `${sg.string(4, 'subgraph name') || `subgraph${k}`}/`;
  const tables = sg.tableVector(0, 'tensors', LIMITS.maxTensors, true);
  if (ctx.graph.tensors.length + tables.length > LIMITS.maxTensors) throw new ModelError('too-large', `the subgraphs the model runs hold more than ${LIMITS.maxTensors} tensors`);
  return tables.map((t) => {
    const id = ctx.graph.tensors.length;
    const tensor = readTensor(t, id, ctx.buffers, ctx.bytes, ctx.graph);
    tensor.name = prefix + tensor.name;
    ctx.graph.tensors.push(tensor);
    return id;
  });
}

/** IF (then, else), WHILE (cond, body), CALL_ONCE (init): the subgraphs the operator runs, in TFLM's planning order. */
function calledSubgraphs(name: string, o: FbTable | null): number[] | null {
  if (name === 'IF' || name === 'WHILE') return [o?.int32(0, 0) ?? 0, o?.int32(1, 0) ?? 0];
  if (name === 'CALL_ONCE') return [o?.int32(0, 0) ?? 0];
  return null;
}

/** Reads subgraph k's operators; `ids` maps its tensor indices to graph ids. */
function readSubgraphOps(ctx: SubgraphReader, k: number, ids: number[]): void {
  const sg = ctx.subgraphs[k]!;
  const graph = ctx.graph;
  const local = (i: number, where: string): number => {
    if (!Number.isInteger(i) || i < -1 || i >= ids.length) throw new ModelError('bad-graph', `${where} refers to tensor ${i}, but the subgraph has ${ids.length} tensors`);
    return i < 0 ? -1 : ids[i]!;
  };
  const opTables = sg.tableVector(3, 'operators', LIMITS.maxOps, true);
  opTables.forEach((t, index) => {
    const code = ctx.opcodes[t.uint32(0)];
    const at = k === 0 ? `operator ${index}` : `operator ${index} of subgraph ${k}`;
    if (!code) throw new ModelError('bad-tflite', `${at} uses opcode index ${t.uint32(0)}, but the model has ${ctx.opcodes.length} operator codes`);
    const inputs = (t.int32Vector(1, 'inputs') ?? []).map((i) => local(i, `${at} (${code.name}) input`));
    const outputs = (t.int32Vector(2, 'outputs') ?? []).map((i) => local(i, `${at} (${code.name}) output`));
    if (outputs.some((o) => o < 0)) throw new ModelError('bad-graph', `${at} (${code.name}) has an output -1`);
    const optionsType = t.uint8(3);
    const options = optionsType ? t.table(4, 'builtin_options') : null;
    const calls = calledSubgraphs(code.name, options);
    const first = graph.ops.length;
    if (calls) inlineCall(ctx, code, inputs, outputs, calls, at);
    else graph.ops.push(makeOp(graph.ops.length, code, inputs, outputs, options, graph));
    if (k > 0) graph.ops[first]!.subgraph = k;
    if (graph.ops.length > LIMITS.maxOps) throw new ModelError('too-large', `the model runs more than ${LIMITS.maxOps} operators with its subgraphs inlined`);
  });
}

/**
 * A control-flow operator as TFLM plans it (micro_allocation_info.cc): its outputs are created when it starts; each
 * subgraph it runs follows, its inputs copied in, its operators, its outputs last read at its end; the operator's own
 * inputs stay alive until all have run. Here: the operator (its outputs), per subgraph a copy-in, the subgraph's
 * operators and a read of its outputs, then the operator's end (a read of its inputs and outputs). Both branches of an IF are
 * planned, one after the other; a WHILE's condition and body once, as one iteration.
 */
function inlineCall(ctx: SubgraphReader, code: OpCode, inputs: number[], outputs: number[], calls: number[], at: string): void {
  const graph = ctx.graph;
  const name = graph.tensors[outputs[0] ?? -1]?.name ?? `#${graph.ops.length}`;
  const fn = code.name === 'IF' ? 'if' : code.name === 'WHILE' ? 'while' : 'call_once';
  const push = (part: string, ins: number[], outs: number[], extra: Partial<OpAttrs> = {}): Op => {
    const op: Op = { index: graph.ops.length, kind: 'Special', sourceType: code.name, name: part ? `${name}:${part}` : name, inputs: ins, params: [], outputs: outs, attrs: { fn: part ? (part === 'end' ? 'call_end' : part.endsWith(' in') ? 'call_in' : 'call_out') : fn, ...extra }, fileInputs: ins.slice() };
    graph.ops.push(op);
    return op;
  };
  const head = push('', inputs.filter((i) => i >= 0), outputs, { calls: [] });
  const operands = code.name === 'IF' ? inputs.slice(1) : inputs;
  const roles = code.name === 'IF' ? ['then', 'else'] : code.name === 'WHILE' ? ['cond', 'body'] : ['init'];
  calls.forEach((k, n) => {
    if (!Number.isInteger(k) || k < 1 || k >= ctx.subgraphs.length) throw new ModelError('bad-graph', `${at} (${code.name}) runs subgraph ${k}, but the model has subgraphs 0 to ${ctx.subgraphs.length - 1} (0 is the main one)`);
    if (ctx.stack.includes(k)) throw new ModelError('bad-graph', `${at} (${code.name}) runs subgraph ${k}, which is already running (recursion): TFLM cannot plan it`);
    const ids = readSubgraphTensors(ctx, k);
    (graph.metadata.inlined ??= []).push({ subgraph: k, firstTensor: ids[0] ?? graph.tensors.length, tensorCount: ids.length });
    const sg = ctx.subgraphs[k]!;
    const io = (slot: number, what: string): number[] => (sg.int32Vector(slot, what) ?? []).map((i) => {
      if (!Number.isInteger(i) || i < 0 || i >= ids.length) throw new ModelError('bad-graph', `subgraph ${k} ${what} refers to tensor ${i}, but it has ${ids.length} tensors`);
      return ids[i]!;
    });
    const subIn = io(1, 'inputs');
    const subOut = io(2, 'outputs');
    for (const i of subIn) if (graph.tensors[i]!.role === 'constant') graph.tensors[i]!.role = 'activation';
    head.attrs.calls!.push({ inputs: subIn, outputs: subOut });
    push(`${roles[n]} in`, operands.filter((i) => i >= 0), subIn);
    ctx.stack.push(k);
    readSubgraphOps(ctx, k, ids);
    ctx.stack.pop();
    push(`${roles[n]} out`, subOut, []);
  });
  push('end', [...inputs.filter((i) => i >= 0), ...outputs], []);
  const why = code.name === 'IF'
    ? 'both branches are planned one after the other, as TFLM plans them; the MACs count both, though one runs'
    : code.name === 'WHILE' ? 'its condition and body are counted once: the number of iterations is known only at run time' : 'its subgraph runs once, on the first invoke';
  graph.notes.push({ severity: 'info', opIndex: head.index, message: `${code.name} '${name}': ${why}` });
}

/** TFLite resource variables: one variable tensor per resource name, alive for the whole run (TFLM allocates it once,
 *  persistently, when ASSIGN_VARIABLE is prepared), shaped like the first value assigned to it (or read from it). */
function resolveResourceVariables(graph: Graph): void {
  const handles = new Map<number, string>();
  for (const op of graph.ops) if (op.attrs.fn === 'varhandle' && op.attrs.resource !== undefined && op.outputs[0] !== undefined) handles.set(op.outputs[0], op.attrs.resource);
  const variables = new Map<string, number>();
  const variable = (key: string, like: Tensor): number => {
    let id = variables.get(key);
    if (id === undefined) {
      id = graph.tensors.length;
      graph.tensors.push({ id, name: `resource ${key}`, dtype: like.dtype, shape: like.shape?.slice() ?? null, layout: null, role: 'variable', ...(like.shapeFromFile ? { shapeFromFile: true } : {}) });
      variables.set(key, id);
    }
    return id;
  };
  for (const fn of ['assignvariable', 'readvariable']) {
    for (const op of graph.ops) {
      if (op.attrs.fn !== fn) continue;
      const key = handles.get(op.inputs[0] ?? -1);
      const like = graph.tensors[(fn === 'assignvariable' ? op.inputs[1] : op.outputs[0]) ?? -1];
      if (key === undefined || !like) { op.unsupported ??= `${op.sourceType} '${op.name}': its resource handle does not come from a VAR_HANDLE`; continue; }
      op.params.push(variable(key, like));
    }
  }
}

function readTensor(t: FbTable, id: number, buffers: BufferInfo[], bytes: Uint8Array, graph: Graph): Tensor {
  const name = t.string(3, 'name') ?? `tensor_${id}`;
  const typeCode = t.int8(1);
  const dtype = TENSOR_TYPES[typeCode] ?? 'unknown';
  const rawShape = t.int32Vector(0, `tensor '${name}' shape`);
  const signature = t.int32Vector(7, 'shape_signature');
  let shape: number[] | null = null;
  if (rawShape) {
    // Dynamic dimensions are -1 in shape_signature and usually 1 in shape; a -1 left in shape is a batch of 1.
    const dims = rawShape.map((d, i) => (d === -1 && (i === 0 || signature?.[i] === -1) ? 1 : d));
    shape = checkedShape(dims, `tensor '${name}'`);
  }
  const bufferIndex = t.uint32(2);
  const isVariable = t.bool(5);
  const buf = buffers[bufferIndex];
  if (bufferIndex !== 0 && !buf) throw new ModelError('bad-tflite', `tensor '${name}' uses buffer ${bufferIndex}, but the model has ${buffers.length} buffers`);
  const tensor: Tensor = { id, name, dtype, shape, layout: null, role: 'activation', shapeFromFile: shape !== null };
  if (buf && buf.length > 0) tensor.fileBuffer = true;
  if (isVariable) tensor.role = 'variable';
  else if (buf && buf.length > 0) {
    tensor.role = 'constant';
    const key = `buffer:${bufferIndex}`;
    tensor.storage = [key];
    graph.storage.set(key, { bytes: buf.length, elements: shape ? shape.reduce((a, b) => a * b, 1) : buf.length, data: () => bytes.subarray(buf.start, buf.start + buf.length) });
    if (shape && (dtype === 'int32' || dtype === 'int64')) tensor.values = smallInts(bytes, buf, dtype === 'int32' ? 4 : 8, shape);
  }
  const q = t.table(4, 'quantization');
  if (q) {
    const scale = q.float32Vector(2, 'scale');
    const zeroPoint = q.int64Vector(3, 'zero_point');
    if (scale && scale.length > 0) tensor.quant = { scale, zeroPoint: zeroPoint ?? scale.map(() => 0), axis: q.int32(6) };
  }
  return tensor;
}

function padding(code: number): Padding {
  return code === 1 ? 'valid' : 'same_upper';
}

function makeOp(index: number, code: OpCode, inputs: number[], outputs: number[], o: FbTable | null, graph: Graph): Op {
  const name = graph.tensors[outputs[0] ?? -1]?.name ?? `#${index}`;
  const op: Op = { index, kind: 'Unknown', sourceType: code.name, name, inputs, params: [], outputs, attrs: {}, fileInputs: inputs.slice() };
  const attrs: OpAttrs = op.attrs;
  const act = (slot: number): void => {
    const a = FUSED_ACT[o?.int8(slot) ?? 0];
    if (a) attrs.fusedActivation = a;
  };
  const weightShape = (): number[] | null => graph.tensors[inputs[1] ?? -1]?.shape ?? null;
  const splitParams = (keep: number): void => {
    op.params = inputs.slice(keep).filter((i) => i >= 0);
    op.inputs = inputs.slice(0, keep);
  };
  switch (code.name) {
    case 'CONV_2D':
    case 'DEPTHWISE_CONV_2D': {
      const dw = code.name === 'DEPTHWISE_CONV_2D';
      op.kind = dw ? 'DepthwiseConv2D' : 'Conv2D';
      attrs.layout = 'NHWC';
      const ws = weightShape();
      attrs.spatial = {
        kernel: ws && ws.length === 4 ? [ws[1]!, ws[2]!] : null,
        strides: [o?.int32(2, 1) || 1, o?.int32(1, 1) || 1],
        dilations: [o?.int32(dw ? 6 : 5, 1) || 1, o?.int32(dw ? 5 : 4, 1) || 1],
        padding: padding(o?.int8(0) ?? 0),
        pads: [0, 0, 0, 0],
      };
      if (dw) {
        attrs.depthMultiplier = o?.int32(3, 1) || 1;
        act(4);
      } else act(3);
      break;
    }
    case 'TRANSPOSE_CONV': {
      // inputs: output_shape, weights, input, bias
      op.kind = 'TransposeConv2D';
      attrs.layout = 'NHWC';
      const ws = graph.tensors[inputs[1] ?? -1]?.shape;
      attrs.spatial = {
        kernel: ws && ws.length === 4 ? [ws[1]!, ws[2]!] : null,
        strides: [o?.int32(2, 1) || 1, o?.int32(1, 1) || 1],
        dilations: [1, 1],
        padding: padding(o?.int8(0) ?? 0),
        pads: [0, 0, 0, 0],
      };
      act(3);
      op.inputs = [inputs[2] ?? -1, inputs[1] ?? -1, inputs[3] ?? -1];
      op.params = inputs[0] !== undefined && inputs[0] >= 0 ? [inputs[0]] : [];
      break;
    }
    case 'AVERAGE_POOL_2D':
    case 'MAX_POOL_2D':
      op.kind = code.name === 'MAX_POOL_2D' ? 'MaxPool2D' : 'AvgPool2D';
      attrs.layout = 'NHWC';
      attrs.spatial = {
        kernel: [o?.int32(4, 1) || 1, o?.int32(3, 1) || 1],
        strides: [o?.int32(2, 1) || 1, o?.int32(1, 1) || 1],
        dilations: [1, 1],
        padding: padding(o?.int8(0) ?? 0),
        pads: [0, 0, 0, 0],
      };
      act(5);
      break;
    case 'FULLY_CONNECTED':
      op.kind = 'FullyConnected';
      act(0);
      attrs.keepNumDims = o?.bool(2) ?? false;
      break;
    case 'VAR_HANDLE': case 'READ_VARIABLE': case 'ASSIGN_VARIABLE':
      // VarHandleOptions: container (0), shared_name (1).
      op.kind = 'Special';
      attrs.fn = code.name === 'VAR_HANDLE' ? 'varhandle' : code.name === 'READ_VARIABLE' ? 'readvariable' : 'assignvariable';
      if (code.name === 'VAR_HANDLE') attrs.resource = `${o?.string(0, 'container') ?? ''}/${o?.string(1, 'shared_name') ?? ''}`;
      break;
    case 'CUSTOM':
      op.kind = 'Custom';
      op.customCode = code.custom ?? '?';
      op.sourceType = `CUSTOM:${op.customCode}`;
      op.unsupported = customReason(op.customCode);
      break;
    default: {
      const activation = ACTIVATION_OPS[code.name];
      if (activation) {
        op.kind = 'Activation';
        attrs.activation = activation;
        // The schema's default is 0.0 (and TFLite parses a missing table as 0): a writer omits alpha = 0.
        if (code.name === 'LEAKY_RELU') attrs.alpha = o?.float32(0, 0) ?? 0;
        if (code.name === 'RELU_0_TO_1') attrs.clip = [0, 1];
        if (code.name === 'GELU') attrs.approximate = (o?.int8(0, 0) ?? 0) !== 0;
        splitParams(1);
        break;
      }
      const ew = ELEMENTWISE[code.name];
      op.kind = ew ? 'Elementwise' : (SIMPLE_KINDS[code.name] ?? 'Unknown');
      switch (op.kind) {
        case 'Elementwise':
          attrs.fn = ew![0];
          if (ew![1] === 1) splitParams(1);
          break;
        case 'Pack': case 'Unpack':
          // PackOptions / UnpackOptions: values_count or num (0), axis (1)
          attrs.axis = o?.int32(1) ?? 0;
          break;
        case 'Tile': case 'Expand': case 'SpaceToBatch': case 'BatchToSpace': case 'ArgReduce': case 'TopK': case 'ConstantOfShape':
          splitParams(1);
          if (op.kind === 'ArgReduce') attrs.toDType = o?.int8(0) === 4 ? 'int64' : 'int32';
          break;
        case 'MatMul':
          // BatchMatMulOptions: adj_x (0), adj_y (1): the last two axes of an operand swapped.
          if (o?.bool(0)) attrs.transA = true;
          if (o?.bool(1)) attrs.transB = true;
          break;
        case 'SpaceToDepth': case 'DepthToSpace':
          attrs.layout = 'NHWC';
          attrs.blockSize = o?.int32(0) ?? 0;
          break;
        case 'Gather':
          if (code.name === 'EMBEDDING_LOOKUP') op.inputs = [inputs[1] ?? -1, inputs[0] ?? -1]; // (ids, table)
          else attrs.axis = o?.int32(0) ?? 0;
          break;
        case 'PoolNd':
          // L2_POOL_2D, with Pool2DOptions: padding, stride_w, stride_h, filter_width, filter_height
          attrs.layout = 'NHWC';
          attrs.nd = {
            kernel: [o?.int32(4, 1) || 1, o?.int32(3, 1) || 1],
            strides: [o?.int32(2, 1) || 1, o?.int32(1, 1) || 1],
            padding: padding(o?.int8(0) ?? 0),
            ceilMode: false,
          };
          act(5);
          break;
        case 'Recurrent':
          attrs.recurrent = tfliteRecurrent(code.name, inputs, o, graph);
          if (code.name === 'SVDF') act(1); // SVDFOptions: rank (0), fused_activation_function (1)
          break;
        case 'Add': case 'Sub': case 'Mul': case 'Div':
          act(0);
          break;
        case 'Concat':
          attrs.axis = o?.int32(0) ?? 0;
          act(1);
          break;
        case 'Pad': case 'Reshape': case 'Transpose': case 'Reduce': case 'Resize': case 'Slice':
          splitParams(1);
          if (code.name === 'STRIDED_SLICE') {
            // StridedSliceOptions: begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask, offset
            attrs.sliceMasks = { begin: o?.int32(0) ?? 0, end: o?.int32(1) ?? 0, ellipsis: o?.int32(2) ?? 0, newAxis: o?.int32(3) ?? 0, shrink: o?.int32(4) ?? 0, offset: o?.bool(5) ?? false };
          }
          if (op.kind === 'Reduce') attrs.keepDims = o?.bool(0) ?? false;
          // MirrorPadOptions: mode (0): REFLECT = 0, SYMMETRIC = 1.
          if (code.name === 'MIRROR_PAD') attrs.padMode = (o?.int8(0) ?? 0) === 1 ? 'symmetric' : (o?.int8(0) ?? 0) === 0 ? 'reflect' : 'unknown';
          if (op.kind === 'Resize') {
            // ResizeNearestNeighborOptions: align_corners (0), half_pixel_centers (1); ResizeBilinearOptions: 2, 3.
            const nearest = code.name === 'RESIZE_NEAREST_NEIGHBOR';
            const alignCorners = o?.bool(nearest ? 0 : 2) ?? false;
            const halfPixel = o?.bool(nearest ? 1 : 3) ?? false;
            attrs.resize = {
              mode: nearest ? 'nearest' : 'linear',
              coord: alignCorners ? 'align_corners' : halfPixel ? (nearest ? 'tf_half_pixel_for_nn' : 'half_pixel') : 'asymmetric',
              nearest: alignCorners ? 'round_half_away' : 'floor',
              tflite: true,
            };
          }
          break;
        case 'Squeeze':
          attrs.axes = o?.int32Vector(0, 'squeeze_dims') ?? [];
          break;
        case 'Unsqueeze':
          splitParams(1); // EXPAND_DIMS: the axis is an operand
          break;
        case 'Softmax':
          if (code.name === 'SOFTMAX') attrs.beta = o?.float32(0, 1) ?? 1;
          break;
        case 'Split':
          if (code.name === 'SPLIT') {
            op.inputs = [inputs[1] ?? -1];
            op.params = inputs[0] !== undefined && inputs[0] >= 0 ? [inputs[0]] : [];
          } else splitParams(1);
          break;
        default:
          break;
      }
    }
  }
  if (op.kind === 'Unknown') {
    graph.notes.push({ severity: 'info', opIndex: index, message: `operator #${index} ${code.name}: memory from the shapes stored in the file; MACs not counted` });
  }
  readConstantInts(op, graph);
  return op;
}

/** Recurrent builtins: the cell, its gates and its output width from the weights (TFLite's input order). */
function tfliteRecurrent(name: string, inputs: readonly number[], o: FbTable | null, graph: Graph): RecurrentAttrs {
  const dims = (k: number): number[] | undefined => graph.tensors[inputs[k] ?? -1]?.shape ?? undefined;
  if (name === 'SVDF') {
    // input, weights_feature [filters, in], weights_time [filters, memory], bias, state; SVDFOptions: rank (0)
    const rank = o?.int32(0, 1) || 1;
    const filters = dims(1)?.[0];
    return { cell: 'svdf', gates: 1, directions: 1, timeMajor: false, rank, ...(filters !== undefined ? { hiddenSize: Math.floor(filters / rank) } : {}) };
  }
  if (name.endsWith('RNN')) {
    // input, weights [units, in], recurrent_weights [units, units], bias, hidden_state; time_major is option 0
    const units = dims(1)?.[0];
    return { cell: 'rnn', gates: 1, directions: name.startsWith('BIDIRECTIONAL') ? 2 : 1, timeMajor: name === 'RNN' ? false : (o?.bool(0) ?? false), ...(units !== undefined ? { hiddenSize: units } : {}) };
  }
  // LSTM: input, 4 input weights [cell, in], 4 recurrent weights [cell, out] (index 5..8), ..., projection [out, cell] (16)
  const projection = dims(16)?.[0];
  const out = projection ?? dims(8)?.[1];
  const attrs: RecurrentAttrs = { cell: 'lstm', gates: 4, directions: name.startsWith('BIDIRECTIONAL') ? 2 : 1, timeMajor: name === 'UNIDIRECTIONAL_SEQUENCE_LSTM' ? (o?.bool(3) ?? false) : true, ...(out !== undefined ? { hiddenSize: out } : {}) };
  if (name === 'UNIDIRECTIONAL_SEQUENCE_LSTM') {
    // UnidirectionalSequenceLSTMOptions: fused_activation_function (0), cell_clip (1), proj_clip (2).
    attrs.cellActivation = o?.int8(0, 0) ?? 0;
    attrs.clip = o?.float32(1, 0) ?? 0;
    attrs.projClip = o?.float32(2, 0) ?? 0;
  }
  return attrs;
}

function customReason(code: string): string {
  if (/ethos-?u/i.test(code)) {
    return `custom operator "${code}" is an Arm Ethos-U NPU command stream (Vela-compiled): the layers run inside the NPU, so the model cannot be analysed layer by layer; compile without Vela to analyse it`;
  }
  return `custom operator "${code}" is not a TFLite builtin: its memory comes from the shapes stored in the file, its MACs are unknown, and C export cannot run it`;
}

/** Reads small int32 constant operands (pads, perms, shapes, axes, sizes) into op attributes. */
function readConstantInts(op: Op, graph: Graph): void {
  const param = (i: number): Tensor | undefined => graph.tensors[op.params[i] ?? -1];
  const v = (t: Tensor | undefined): number[] | undefined => t?.values;
  switch (op.kind) {
    case 'Pad': {
      const p = v(param(0));
      if (p && p.length % 2 === 0) {
        const rank = p.length / 2;
        op.attrs.padAmounts = [...Array.from({ length: rank }, (_, i) => p[2 * i]!), ...Array.from({ length: rank }, (_, i) => p[2 * i + 1]!)];
      }
      break;
    }
    case 'Transpose': op.attrs.perm = v(param(0)); break;
    case 'Reshape': op.attrs.newShape = v(param(0)); break;
    case 'Reduce': op.attrs.axes = v(param(0)); break;
    case 'Tile': op.attrs.multiples = v(param(0)); break;
    case 'ArgReduce': case 'Unsqueeze': {
      const axis = v(param(0))?.[0];
      if (axis === undefined) break;
      if (op.kind === 'ArgReduce') op.attrs.axis = axis;
      else op.attrs.axes = [axis];
      break;
    }
    case 'Resize': op.attrs.sizes = v(param(0)); break;
    case 'Split': {
      // SPLIT: (axis); SPLIT_V: (size_splits, axis), one size may be -1 (the rest).
      const axis = v(param(op.params.length - 1))?.[0];
      if (axis !== undefined) op.attrs.axis = axis;
      if (op.params.length === 2) op.attrs.splitSizes = v(param(0));
      break;
    }
    default: break;
  }
}

function readMetadata(model: FbTable, buffers: BufferInfo[], bytes: Uint8Array, graph: Graph): void {
  const entries = model.tableVector(6, 'metadata', LIMITS.maxTensors);
  const names: string[] = [];
  for (const m of entries) {
    const name = m.string(0, 'name') ?? '';
    names.push(name);
    if (name !== 'OfflineMemoryAllocation') continue;
    const buf = buffers[m.uint32(1)];
    if (!buf || buf.length < 12) {
      graph.notes.push({ severity: 'warning', message: 'OfflineMemoryAllocation metadata is present but its buffer is missing or too short' });
      continue;
    }
    const words = Math.floor(buf.length / 4);
    const dv = new DataView(bytes.buffer, bytes.byteOffset + buf.start, words * 4);
    const version = dv.getInt32(0, true);
    const subgraphs = dv.getInt32(4, true);
    const n = dv.getInt32(8, true);
    if (n < 0 || n > words - 3) {
      graph.notes.push({ severity: 'warning', message: `OfflineMemoryAllocation claims ${n} offsets but holds ${words - 3}` });
      continue;
    }
    const offsets: number[] = [];
    for (let i = 0; i < n; i++) offsets.push(dv.getInt32(12 + 4 * i, true));
    graph.metadata.offlinePlan = { version, subgraphs, offsets };
  }
  if (names.length) graph.metadata.metadataNames = names;
}

/** Values of a small integer constant (at most 64: pads, perms, shapes, axes), read from its buffer. */
function smallInts(bytes: Uint8Array, buf: BufferInfo, width: 4 | 8, shape: number[]): number[] | undefined {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n > 64 || buf.length < n * width) return undefined;
  const dv = new DataView(bytes.buffer, bytes.byteOffset + buf.start, n * width);
  return Array.from({ length: n }, (_, i) => (width === 4 ? dv.getInt32(4 * i, true) : Number(dv.getBigInt64(8 * i, true))));
}
