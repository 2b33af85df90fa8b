// Builds real TFLite files with the flatbuffers runtime's Builder, following the TFLite schema: for tests and the
// bundled example.
import { Builder } from 'flatbuffers';

export type TfliteDType = 'float32' | 'int8' | 'int32' | 'int16' | 'uint8' | 'int64' | 'bool' | 'resource';
const TYPE_CODES: Record<TfliteDType, number> = { float32: 0, int32: 2, uint8: 3, int64: 4, bool: 6, int16: 7, int8: 9, resource: 13 };
const WIDTH: Record<TfliteDType, number> = { float32: 4, int32: 4, uint8: 1, int64: 8, bool: 1, int16: 2, int8: 1, resource: 4 };

/** BuiltinOperator codes and their BuiltinOptions union index. */
export const TFL = {
  ADD: [0, 11], AVERAGE_POOL_2D: [1, 5], CONCATENATION: [2, 10], CONV_2D: [3, 1], DEPTHWISE_CONV_2D: [4, 2],
  FULLY_CONNECTED: [9, 8], MAX_POOL_2D: [17, 5], RESHAPE: [22, 17], SOFTMAX: [25, 9], PAD: [34, 22],
  MEAN: [40, 27], TRANSPOSE: [39, 26], QUANTIZE: [114, 0], DEQUANTIZE: [6, 0], RELU6: [21, 0], RELU_0_TO_1: [152, 0], LOGISTIC: [14, 0], CUSTOM: [32, 0],
  RELU: [19, 0], TANH: [28, 0], HARD_SWISH: [117, 91], LEAKY_RELU: [98, 75], ABS: [101, 78], NEG: [59, 42], EXP: [47, 33], PRELU: [54, 0],
  SUB: [41, 28], MUL: [18, 21], DIV: [42, 29], MAXIMUM: [55, 39], MINIMUM: [57, 39], SQUARED_DIFFERENCE: [99, 76],
  STRIDED_SLICE: [45, 32], SLICE: [65, 48], SPLIT: [49, 35], SPLIT_V: [102, 79], SQUEEZE: [43, 30], EXPAND_DIMS: [70, 52],
  PACK: [83, 59], UNPACK: [88, 64], GATHER: [36, 23], RESIZE_BILINEAR: [23, 15], RESIZE_NEAREST_NEIGHBOR: [97, 74],
  PADV2: [60, 43], MIRROR_PAD: [100, 77], SUM: [74, 27], REDUCE_MAX: [82, 27], BATCH_MATMUL: [126, 101], CAST: [53, 37],
  ARG_MAX: [56, 40], ARG_MIN: [79, 57], RSQRT: [76, 0], LOG_SOFTMAX: [50, 36], ELU: [111, 0], SPACE_TO_DEPTH: [26, 19], DEPTH_TO_SPACE: [5, 94],
  L2_NORMALIZATION: [11, 12], SVDF: [27, 6], ADD_N: [106, 82], TILE: [69, 51], EQUAL: [71, 53], GATHER_ND: [107, 83],
  L2_POOL_2D: [12, 5], FILL: [94, 68], BROADCAST_TO: [130, 104], SPACE_TO_BATCH_ND: [38, 25], BATCH_TO_SPACE_ND: [37, 24],
  SELECT_V2: [123, 98], FLOOR_DIV: [90, 65], FLOOR: [8, 0], TRANSPOSE_CONV: [67, 49], UNIDIRECTIONAL_SEQUENCE_LSTM: [44, 71],
  IF: [118, 92], WHILE: [119, 93], CALL_ONCE: [129, 103], VAR_HANDLE: [142, 111], READ_VARIABLE: [143, 112], ASSIGN_VARIABLE: [144, 113],
  LESS: [58, 47],
} as const;
export type TflOp = keyof typeof TFL;

export interface TensorDef {
  name: string;
  shape: number[];
  dtype: TfliteDType;
  buffer: number;
  isVariable: boolean;
  quant?: { scale: number[]; zeroPoint: number[]; axis: number };
}

interface OpDef {
  op: TflOp;
  custom?: string;
  inputs: number[];
  outputs: number[];
  /** Option fields by slot: [slot, kind, value]. */
  options: ([number, 'int8' | 'int32' | 'bool' | 'float32', number] | [number, 'string', string])[];
}

export class TfliteBuilder {
  readonly tensors: TensorDef[] = [];
  private readonly ops: OpDef[] = [];
  inputs: number[] = [];
  outputs: number[] = [];
  private readonly metadata: { name: string; buffer: number }[] = [];
  /** Further subgraphs (1, 2, ...: what IF, WHILE and CALL_ONCE run), sharing this builder's buffers. */
  private readonly children: TfliteBuilder[] = [];

  constructor(private readonly buffers: (Uint8Array | null)[] = [null], readonly subgraphName = 'main') {}

  /** A new subgraph of this model; returns it and its index. */
  subgraph(name: string): [TfliteBuilder, number] {
    const sub = new TfliteBuilder(this.buffers, name);
    this.children.push(sub);
    return [sub, this.children.length];
  }

  tensor(name: string, shape: number[], dtype: TfliteDType = 'int8', data?: Uint8Array, opts: { variable?: boolean; quant?: TensorDef['quant'] } = {}): number {
    let buffer = 0;
    if (data) {
      this.buffers.push(data);
      buffer = this.buffers.length - 1;
    }
    this.tensors.push({ name, shape, dtype, buffer, isVariable: opts.variable ?? false, quant: opts.quant });
    return this.tensors.length - 1;
  }

  /** A constant tensor with deterministic contents. */
  constant(name: string, shape: number[], dtype: TfliteDType = 'int8', values?: number[], quant?: TensorDef['quant']): number {
    const n = shape.reduce((a, b) => a * b, 1);
    const raw = new Uint8Array(n * WIDTH[dtype]);
    const dv = new DataView(raw.buffer);
    for (let i = 0; i < n; i++) {
      const v = values ? values[i]! : ((i * 7919) % 17) - 8;
      if (dtype === 'float32') dv.setFloat32(4 * i, v, true);
      else if (dtype === 'int32') dv.setInt32(4 * i, v, true);
      else if (dtype === 'int16') dv.setInt16(2 * i, v, true);
      else if (dtype === 'int64') dv.setBigInt64(8 * i, BigInt(v), true);
      else dv.setInt8(i, v);
    }
    return this.tensor(name, shape, dtype, raw, { quant });
  }

  op(op: TflOp, inputs: number[], outputs: number[], options: OpDef['options'] = [], custom?: string): void {
    this.ops.push({ op, inputs, outputs, options, custom });
  }

  /** CONV_2D (padding 0 = SAME, 1 = VALID) with OHWI weights and int32 bias. */
  conv(x: number, out: number, cin: number, cout: number, k: number, stride = 1, padding = 0, act = 3): void {
    const w = this.constant(`${this.tensors[out]!.name}/w`, [cout, k, k, cin], 'int8', undefined, channelScales(cout, 0));
    const b = this.constant(`${this.tensors[out]!.name}/b`, [cout], 'int32');
    this.op('CONV_2D', [x, w, b], [out], [[0, 'int8', padding], [1, 'int32', stride], [2, 'int32', stride], [3, 'int8', act]]);
  }

  depthwise(x: number, out: number, c: number, k: number, stride = 1, padding = 0, act = 3): void {
    const w = this.constant(`${this.tensors[out]!.name}/w`, [1, k, k, c], 'int8', undefined, channelScales(c, 3));
    const b = this.constant(`${this.tensors[out]!.name}/b`, [c], 'int32');
    this.op('DEPTHWISE_CONV_2D', [x, w, b], [out], [[0, 'int8', padding], [1, 'int32', stride], [2, 'int32', stride], [3, 'int32', 1], [4, 'int8', act]]);
  }

  addMetadata(name: string, data: Uint8Array): void {
    this.buffers.push(data);
    this.metadata.push({ name, buffer: this.buffers.length - 1 });
  }

  /** The file; `rename` maps every tensor name (hostile-name tests). */
  build(rename: (name: string) => string = (n) => n): Uint8Array {
    const b = new Builder(1024);
    const int32Vec = (v: number[]): number => {
      b.startVector(4, v.length, 4);
      for (let i = v.length - 1; i >= 0; i--) b.addInt32(v[i]!);
      return b.endVector();
    };
    const offsetVec = (v: number[]): number => {
      b.startVector(4, v.length, 4);
      for (let i = v.length - 1; i >= 0; i--) b.addOffset(v[i]!);
      return b.endVector();
    };
    const buffers = this.buffers.map((data) => {
      const d = data ? b.createByteVector(data) : 0;
      b.startObject(3);
      if (d) b.addFieldOffset(0, d, 0);
      return b.endObject();
    });
    const codes: string[] = [];
    const codeIndex = (o: OpDef): number => {
      const key = o.op === 'CUSTOM' ? `CUSTOM:${o.custom}` : o.op;
      let i = codes.indexOf(key);
      if (i < 0) { codes.push(key); i = codes.length - 1; }
      return i;
    };
    // Each subgraph's tensors and operators first, then the operator codes, then the subgraph tables (the order the
    // one-subgraph files have always been written in).
    const encodeSubgraph = (sg: TfliteBuilder): (() => number) => {
      const tensors = sg.tensors.map((t) => {
        const name = b.createString(rename(t.name));
        const shape = int32Vec(t.shape);
        let quant = 0;
        if (t.quant) {
          b.startVector(4, t.quant.scale.length, 4);
          for (let i = t.quant.scale.length - 1; i >= 0; i--) b.addFloat32(t.quant.scale[i]!);
          const scale = b.endVector();
          b.startVector(8, t.quant.zeroPoint.length, 8);
          for (let i = t.quant.zeroPoint.length - 1; i >= 0; i--) b.addInt64(BigInt(t.quant.zeroPoint[i]!));
          const zp = b.endVector();
          b.startObject(7);
          b.addFieldOffset(2, scale, 0);
          b.addFieldOffset(3, zp, 0);
          b.addFieldInt32(6, t.quant.axis, 0);
          quant = b.endObject();
        }
        b.startObject(11);
        b.addFieldOffset(0, shape, 0);
        b.addFieldInt8(1, TYPE_CODES[t.dtype], 0);
        b.addFieldInt32(2, t.buffer, 0);
        b.addFieldOffset(3, name, 0);
        if (quant) b.addFieldOffset(4, quant, 0);
        if (t.isVariable) b.addFieldInt8(5, 1, 0);
        return b.endObject();
      });
      const opOffsets = sg.ops.map((o) => {
        const idx = codeIndex(o);
        const ins = int32Vec(o.inputs);
        const outs = int32Vec(o.outputs);
        let opts = 0;
        const [, unionType] = TFL[o.op];
        if (unionType) {
          const strings = o.options.map((f) => (f[1] === 'string' ? b.createString(f[2]) : 0));
          b.startObject(8);
          o.options.forEach((f, i) => {
            const [slot, kind, v] = f;
            if (kind === 'string') b.addFieldOffset(slot, strings[i]!, 0);
            else if (kind === 'int8' || kind === 'bool') b.addFieldInt8(slot, v as number, -1);
            else if (kind === 'float32') b.addFieldFloat32(slot, v as number, 0);
            else b.addFieldInt32(slot, v as number, -1);
          });
          opts = b.endObject();
        }
        b.startObject(9);
        b.addFieldInt32(0, idx, -1);
        b.addFieldOffset(1, ins, 0);
        b.addFieldOffset(2, outs, 0);
        if (opts) {
          b.addFieldInt8(3, unionType, 0);
          b.addFieldOffset(4, opts, 0);
        }
        return b.endObject();
      });
      return () => {
      const tensorsVec = offsetVec(tensors);
      const inputsVec = int32Vec(sg.inputs);
      const outputsVec = int32Vec(sg.outputs);
      const opsVec = offsetVec(opOffsets);
      const sgName = b.createString(sg.subgraphName);
      b.startObject(6);
      b.addFieldOffset(0, tensorsVec, 0);
      b.addFieldOffset(1, inputsVec, 0);
      b.addFieldOffset(2, outputsVec, 0);
      b.addFieldOffset(3, opsVec, 0);
      b.addFieldOffset(4, sgName, 0);
      return b.endObject();
      };
    };
    const finish = [this, ...this.children].map(encodeSubgraph);
    const codeOffsets = codes.map((key) => {
      const custom = key.startsWith('CUSTOM:') ? b.createString(key.slice(7)) : 0;
      const code = key.startsWith('CUSTOM:') ? 32 : TFL[key as TflOp][0];
      b.startObject(4);
      b.addFieldInt8(0, Math.min(code, 127), 0);
      if (custom) b.addFieldOffset(1, custom, 0);
      b.addFieldInt32(2, 1, 0);
      b.addFieldInt32(3, code, 0);
      return b.endObject();
    });
    const subgraphs = finish.map((f) => f());
    const meta = this.metadata.map((m) => {
      const name = b.createString(m.name);
      b.startObject(2);
      b.addFieldOffset(0, name, 0);
      b.addFieldInt32(1, m.buffer, -1);
      return b.endObject();
    });
    const codesVec = offsetVec(codeOffsets);
    const subgraphsVec = offsetVec(subgraphs);
    const buffersVec = offsetVec(buffers);
    const metaVec = meta.length ? offsetVec(meta) : 0;
    const desc = b.createString('mcu-mem fixture builder');
    b.startObject(8);
    b.addFieldInt32(0, 3, 0);
    b.addFieldOffset(1, codesVec, 0);
    b.addFieldOffset(2, subgraphsVec, 0);
    b.addFieldOffset(3, desc, 0);
    b.addFieldOffset(4, buffersVec, 0);
    if (metaVec) b.addFieldOffset(6, metaVec, 0);
    const model = b.endObject();
    b.finish(model, 'TFL3');
    return b.asUint8Array().slice();
  }
}

/** Per-output-channel weight scales (TFLite: zero points 0) for the builder's int8 convolutions. */
export function channelScales(channels: number, axis: number): NonNullable<TensorDef['quant']> {
  return { scale: Array.from({ length: channels }, (_, i) => 0.004 + 0.001 * (i % 5)), zeroPoint: new Array<number>(channels).fill(0), axis };
}
