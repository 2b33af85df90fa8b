// Small generated TFLite models, one or two operators each, for the kernels the shared models do not exercise: the
// TFLM mode's figures are checked on them against TFLM itself (test/corpus/tflm.test.ts).
import { TfliteBuilder, type TflOp, type TfliteDType } from '../src/core/testing/tflite-builder';

type Quant = { scale: number[]; zeroPoint: number[]; axis: number };
const q = (scale: number[], axis = 0, zeroPoint = 0): Quant => ({ scale, zeroPoint: scale.map(() => zeroPoint), axis });

interface Operand { shape: number[]; dtype?: TfliteDType; quant?: Quant; values?: number[] }
interface OneOp {
  name: string;
  op: TflOp;
  /** Graph inputs (activations). */
  inputs: Operand[];
  /** Constant operands after the inputs. */
  constants?: Operand[];
  outputs: Operand[];
  options?: [number, 'int8' | 'int32' | 'bool', number][];
  /** The constants come before the inputs in the operator's operand list (SPLIT: axis, then the tensor). */
  constantsFirst?: boolean;
}

function build(c: OneOp): Uint8Array {
  const b = new TfliteBuilder();
  const ins = c.inputs.map((o, i) => b.tensor(`in${i}`, o.shape, o.dtype ?? 'float32', undefined, o.quant ? { quant: o.quant } : {}));
  const consts = (c.constants ?? []).map((o, i) => b.constant(`c${i}`, o.shape, o.dtype ?? 'int32', o.values, o.quant));
  const outs = c.outputs.map((o, i) => b.tensor(`out${i}`, o.shape, o.dtype ?? 'float32', undefined, o.quant ? { quant: o.quant } : {}));
  b.op(c.op, c.constantsFirst ? [...consts, ...ins] : [...ins, ...consts], outs, c.options ?? []);
  b.inputs = ins;
  b.outputs = outs;
  return b.build();
}

const F = (shape: number[]): Operand => ({ shape });
const I8 = (shape: number[], scale = 0.05, zp = 0): Operand => ({ shape, dtype: 'int8', quant: q([scale], 0, zp) });
const C32 = (values: number[], shape = [values.length]): Operand => ({ shape, dtype: 'int32', values });

export function tflmCases(): { name: string; bytes: Uint8Array }[] {
  const x = [1, 8, 8, 4];
  const list: OneOp[] = [
    { name: 'CONCATENATION float', op: 'CONCATENATION', inputs: [F([1, 4, 4, 3]), F([1, 4, 4, 5])], outputs: [F([1, 4, 4, 8])], options: [[0, 'int32', 3]] },
    { name: 'CONCATENATION int8', op: 'CONCATENATION', inputs: [I8([1, 4, 4, 3]), I8([1, 4, 4, 5])], outputs: [I8([1, 4, 4, 8])], options: [[0, 'int32', 3]] },
    ...(['RELU', 'RELU6', 'LOGISTIC', 'TANH', 'HARD_SWISH', 'LEAKY_RELU', 'ABS', 'NEG', 'EXP', 'ELU'] as const).map((op): OneOp => ({ name: `${op} float`, op, inputs: [F(x)], outputs: [F(x)] })),
    ...(['RELU', 'RELU6', 'LOGISTIC', 'TANH', 'HARD_SWISH', 'LEAKY_RELU'] as const).map((op): OneOp => ({
      name: `${op} int8`, op, inputs: [I8(x, 0.05, 3)],
      outputs: [op === 'LOGISTIC' ? I8(x, 1 / 256, -128) : op === 'TANH' ? I8(x, 1 / 128, 0) : I8(x, 0.06, -5)],
    })),
    ...(['SUB', 'MUL', 'DIV', 'MAXIMUM', 'MINIMUM', 'SQUARED_DIFFERENCE'] as const).map((op): OneOp => ({ name: `${op} float`, op, inputs: [F(x), F(x)], outputs: [F(x)] })),
    ...(['SUB', 'MUL', 'MAXIMUM', 'MINIMUM'] as const).map((op): OneOp => ({ name: `${op} int8`, op, inputs: [I8(x), I8(x, 0.04, 2)], outputs: [I8(x, 0.1, -3)] })),
    { name: 'ADD int8 broadcast', op: 'ADD', inputs: [I8(x), I8([1, 1, 1, 4], 0.04, 2)], outputs: [I8(x, 0.1, -3)] },
    { name: 'STRIDED_SLICE', op: 'STRIDED_SLICE', inputs: [F(x)], constants: [C32([0, 0, 0, 0]), C32([1, 8, 8, 4]), C32([1, 2, 1, 1])], outputs: [F([1, 4, 8, 4])] },
    { name: 'SLICE', op: 'SLICE', inputs: [F(x)], constants: [C32([0, 2, 0, 0]), C32([1, 4, 4, 4])], outputs: [F([1, 4, 4, 4])] },
    { name: 'SPLIT', op: 'SPLIT', inputs: [F(x)], constants: [C32([3], [])], constantsFirst: true, outputs: [F([1, 8, 8, 2]), F([1, 8, 8, 2])], options: [[0, 'int32', 2]] },
    { name: 'SQUEEZE', op: 'SQUEEZE', inputs: [F([1, 1, 1, 8])], outputs: [F([8])] },
    { name: 'EXPAND_DIMS', op: 'EXPAND_DIMS', inputs: [F([8])], constants: [C32([0])], outputs: [F([1, 8])] },
    { name: 'PACK', op: 'PACK', inputs: [F([4]), F([4])], outputs: [F([2, 4])], options: [[0, 'int32', 2], [1, 'int32', 0]] },
    { name: 'UNPACK', op: 'UNPACK', inputs: [F([2, 4])], outputs: [F([4]), F([4])], options: [[0, 'int32', 2], [1, 'int32', 0]] },
    { name: 'GATHER', op: 'GATHER', inputs: [F([10, 4])], constants: [C32([1, 5, 7])], outputs: [F([3, 4])], options: [[0, 'int32', 0]] },
    { name: 'RESIZE_BILINEAR', op: 'RESIZE_BILINEAR', inputs: [F([1, 4, 4, 3])], constants: [C32([8, 8])], outputs: [F([1, 8, 8, 3])] },
    { name: 'RESIZE_NEAREST_NEIGHBOR float', op: 'RESIZE_NEAREST_NEIGHBOR', inputs: [F([1, 4, 4, 3])], constants: [C32([8, 8])], outputs: [F([1, 8, 8, 3])] },
    { name: 'PADV2', op: 'PADV2', inputs: [F([1, 4, 4, 3])], constants: [C32([0, 0, 1, 1, 1, 1, 0, 0], [4, 2]), { shape: [], dtype: 'float32', values: [0] }], outputs: [F([1, 6, 6, 3])] },
    { name: 'MIRROR_PAD', op: 'MIRROR_PAD', inputs: [F([1, 4, 4, 3])], constants: [C32([0, 0, 1, 1, 1, 1, 0, 0], [4, 2])], outputs: [F([1, 6, 6, 3])] },
    { name: 'SUM float', op: 'SUM', inputs: [F(x)], constants: [C32([1, 2])], outputs: [F([1, 1, 1, 4])], options: [[0, 'bool', 1]] },
    { name: 'SUM int8', op: 'SUM', inputs: [I8(x)], constants: [C32([1, 2])], outputs: [I8([1, 1, 1, 4], 0.5)], options: [[0, 'bool', 1]] },
    { name: 'REDUCE_MAX int8', op: 'REDUCE_MAX', inputs: [I8(x)], constants: [C32([1, 2])], outputs: [I8([1, 1, 1, 4])], options: [[0, 'bool', 1]] },
    { name: 'MEAN int16 axis 3', op: 'MEAN', inputs: [{ shape: x, dtype: 'int16', quant: q([0.01]) }], constants: [C32([3])], outputs: [{ shape: [1, 8, 8], dtype: 'int16', quant: q([0.01]) }] },
    { name: 'SPACE_TO_DEPTH', op: 'SPACE_TO_DEPTH', inputs: [F(x)], outputs: [F([1, 4, 4, 16])], options: [[0, 'int32', 2]] },
    { name: 'DEPTH_TO_SPACE', op: 'DEPTH_TO_SPACE', inputs: [F(x)], outputs: [F([1, 16, 16, 1])], options: [[0, 'int32', 2]] },
    { name: 'L2_NORMALIZATION', op: 'L2_NORMALIZATION', inputs: [F([1, 8])], outputs: [F([1, 8])] },
    // Per-channel weights: the kernel's multiplier and shift arrays in the tail.
    {
      name: 'FULLY_CONNECTED per-channel', op: 'FULLY_CONNECTED', inputs: [I8([1, 16])], outputs: [I8([1, 8], 0.1)], options: [[0, 'int8', 0]],
      constants: [
        { shape: [8, 16], dtype: 'int8', quant: q(Array.from({ length: 8 }, (_, i) => 0.01 + i * 0.001)) },
        { shape: [8], dtype: 'int32', quant: q(Array.from({ length: 8 }, (_, i) => 0.05 * (0.01 + i * 0.001))) },
      ],
    },
    // int16 input: the two 513-entry lookup tables in the tail.
    { name: 'SOFTMAX int16', op: 'SOFTMAX', inputs: [{ shape: [1, 10], dtype: 'int16', quant: q([1 / 4096]) }], outputs: [{ shape: [1, 10], dtype: 'int16', quant: q([1 / 32768]) }] },
  ];
  return [...list.map((c) => ({ name: c.name, bytes: build(c) })), { name: 'DEQUANTIZE of constant int8 weights, then FULLY_CONNECTED float', bytes: dequantizedWeights() }];
}

/** A float model whose weights are stored as int8 and dequantized on every invoke (TFLM writes them into the arena). */
function dequantizedWeights(): Uint8Array {
  const b = new TfliteBuilder();
  const x = b.tensor('x', [1, 16], 'float32');
  const wq = b.constant('w_int8', [8, 16], 'int8', undefined, q([0.02]));
  const w = b.tensor('w', [8, 16], 'float32');
  const y = b.tensor('y', [1, 8], 'float32');
  b.op('DEQUANTIZE', [wq], [w]);
  b.op('FULLY_CONNECTED', [x, w, -1], [y], [[0, 'int8', 0]]);
  b.inputs = [x];
  b.outputs = [y];
  return b.build();
}

/** Two branches stored interleaved (conv A, conv B, then each one's pooling): both 16×16×16 float maps are alive at
 *  once in the stored order; run branch by branch, one at a time. The operator order is what makes TFLM's arena
 *  smaller here, not the offsets. */
export function interleavedBranches(): Uint8Array {
  const b = new TfliteBuilder();
  const x = b.tensor('x', [1, 16, 16, 4], 'float32');
  const branch = (name: string, seed: number): { conv: () => void; pool: () => void; out: number } => {
    const w = b.constant(`${name}_w`, [16, 3, 3, 4], 'float32', Array.from({ length: 576 }, (_, i) => (((i * 37 + seed) % 19) - 9) / 40));
    const bias = b.constant(`${name}_b`, [16], 'float32', Array.from({ length: 16 }, (_, i) => (i - 8) / 50));
    const big = b.tensor(`${name}_map`, [1, 16, 16, 16], 'float32');
    const small = b.tensor(`${name}_pooled`, [1, 4, 4, 16], 'float32');
    return {
      conv: () => b.op('CONV_2D', [x, w, bias], [big], [[0, 'int8', 0], [1, 'int32', 1], [2, 'int32', 1], [3, 'int8', 1]]),
      pool: () => b.op('MAX_POOL_2D', [big], [small], [[0, 'int8', 1], [1, 'int32', 4], [2, 'int32', 4], [3, 'int32', 4], [4, 'int32', 4]]),
      out: small,
    };
  };
  const A = branch('a', 1);
  const B = branch('b', 5);
  A.conv();
  B.conv();
  A.pool();
  B.pool();
  const y = b.tensor('y', [1, 4, 4, 32], 'float32');
  b.op('CONCATENATION', [A.out, B.out], [y], [[0, 'int32', 3]]);
  b.inputs = [x];
  b.outputs = [y];
  return b.build();
}

/** Control flow: IF (both branches), WHILE (a counter and a float carried through the body), CALL_ONCE (an init
 *  subgraph of constants) and a WHILE whose body runs an IF; and resource variables (TFLM needs them handed to the
 *  interpreter, which the runner does not). */
export function controlFlowCases(): { name: string; bytes: Uint8Array }[] {
  const none: [number, 'int8', number] = [0, 'int8', 0];
  /** A subgraph of one operator on a [1, 8] float input: b = op(a, a). Returns its index. */
  const branch = (b: TfliteBuilder, name: string, op: 'ADD' | 'MUL'): number => {
    const [g, index] = b.subgraph(name);
    const a = g.tensor('a', [1, 8], 'float32');
    const out = g.tensor('b', [1, 8], 'float32');
    g.inputs = [a];
    g.outputs = [out];
    g.op(op, [a, a], [out], [none]);
    return index;
  };
  // IF: then adds x twice (two operators), else squares it; the result then added to x.
  const ifModel = (): Uint8Array => {
    const b = new TfliteBuilder();
    const x = b.tensor('x', [1, 8], 'float32');
    const cond = b.tensor('cond', [1], 'bool', Uint8Array.from([1]));
    const y = b.tensor('y', [1, 8], 'float32');
    const z = b.tensor('z', [1, 8], 'float32');
    const [t, ti] = b.subgraph('then');
    const ta = t.tensor('a', [1, 8], 'float32');
    const tb = t.tensor('b', [1, 8], 'float32');
    const tc = t.tensor('c', [1, 8], 'float32');
    t.inputs = [ta];
    t.outputs = [tc];
    t.op('ADD', [ta, ta], [tb], [none]);
    t.op('ADD', [tb, ta], [tc], [none]);
    const ei = branch(b, 'else', 'MUL');
    b.inputs = [x];
    b.outputs = [z];
    b.op('IF', [cond, x], [y], [[0, 'int32', ti], [1, 'int32', ei]]);
    b.op('ADD', [y, x], [z], [none]);
    return b.build();
  };
  // WHILE (i < 3): i + 1, x + x; `nested` puts an IF (on a constant) in the body.
  const whileModel = (nested: boolean): Uint8Array => {
    const b = new TfliteBuilder();
    const x = b.tensor('x', [1, 8], 'float32');
    const i0 = b.constant('i0', [1], 'int32', [0]);
    const iOut = b.tensor('i_out', [1], 'int32');
    const y = b.tensor('y', [1, 8], 'float32');
    const [c, ci] = b.subgraph('cond');
    const cI = c.tensor('i', [1], 'int32');
    const cX = c.tensor('x', [1, 8], 'float32');
    const go = c.tensor('go', [1], 'bool');
    c.inputs = [cI, cX];
    c.outputs = [go];
    c.op('LESS', [cI, c.constant('limit', [1], 'int32', [3])], [go]);
    const [body, bi] = b.subgraph('body');
    const bI = body.tensor('i', [1], 'int32');
    const bX = body.tensor('x', [1, 8], 'float32');
    const bI2 = body.tensor('i2', [1], 'int32');
    const bX2 = body.tensor('x2', [1, 8], 'float32');
    body.inputs = [bI, bX];
    body.outputs = [bI2, bX2];
    body.op('ADD', [bI, body.constant('one', [1], 'int32', [1])], [bI2], [none]);
    if (nested) {
      const ti = branch(b, 'double', 'ADD');
      const ei = branch(b, 'square', 'MUL');
      body.op('IF', [body.tensor('flag', [1], 'bool', Uint8Array.from([0])), bX], [bX2], [[0, 'int32', ti], [1, 'int32', ei]]);
    } else body.op('ADD', [bX, bX], [bX2], [none]);
    b.inputs = [x];
    b.outputs = [y];
    b.op('WHILE', [i0, x], [iOut, y], [[0, 'int32', ci], [1, 'int32', bi]]);
    return b.build();
  };
  // CALL_ONCE: an init subgraph adding two constants into a tensor of its own; then the main operator.
  const callOnce = (): Uint8Array => {
    const b = new TfliteBuilder();
    const x = b.tensor('x', [1, 8], 'float32');
    const y = b.tensor('y', [1, 8], 'float32');
    const [init, ii] = b.subgraph('init');
    init.op('ADD', [init.constant('p', [4], 'float32', [1, 2, 3, 4]), init.constant('q', [4], 'float32', [4, 3, 2, 1])], [init.tensor('s', [4], 'float32')], [none]);
    b.inputs = [x];
    b.outputs = [y];
    b.op('CALL_ONCE', [], [], [[0, 'int32', ii]]);
    b.op('RELU', [x], [y]);
    return b.build();
  };
  // Resource variables: CALL_ONCE's init assigns [1, 8] of constants to 'acc'; the main graph reads it, adds x, and
  // assigns the sum back.
  const variables = (): Uint8Array => {
    const b = new TfliteBuilder();
    const x = b.tensor('x', [1, 8], 'float32');
    const y = b.tensor('y', [1, 8], 'float32');
    const [init, ii] = b.subgraph('init');
    const h0 = init.tensor('h', [], 'resource');
    init.op('VAR_HANDLE', [], [h0], [[1, 'string', 'acc']]);
    init.op('ASSIGN_VARIABLE', [h0, init.constant('zero', [1, 8], 'float32', new Array<number>(8).fill(0))], []);
    const h = b.tensor('h', [], 'resource');
    const v = b.tensor('v', [1, 8], 'float32');
    b.inputs = [x];
    b.outputs = [y];
    b.op('CALL_ONCE', [], [], [[0, 'int32', ii]]);
    b.op('VAR_HANDLE', [], [h], [[1, 'string', 'acc']]);
    b.op('READ_VARIABLE', [h], [v]);
    b.op('ADD', [v, x], [y], [none]);
    b.op('ASSIGN_VARIABLE', [h, y], []);
    return b.build();
  };
  return [
    { name: 'IF', bytes: ifModel() },
    { name: 'WHILE', bytes: whileModel(false) },
    { name: 'WHILE with an IF in its body', bytes: whileModel(true) },
    { name: 'CALL_ONCE', bytes: callOnce() },
    { name: 'resource variables', bytes: variables() },
  ];
}
