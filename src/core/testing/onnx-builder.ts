// Builds real ONNX files (protobuf via onnx-proto) for tests and the bundled example: no Python needed.
import { onnx } from 'onnx-proto';

export type OnnxDType = 'float32' | 'int8' | 'uint8' | 'int32' | 'int64' | 'bool';
const CODES: Record<OnnxDType, number> = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9 };
const WIDTH: Record<OnnxDType, number> = { float32: 4, uint8: 1, int8: 1, int32: 4, int64: 8, bool: 1 };

export type AttrValue = number | number[] | string | { floats: number[] } | { float: number } | { graph: onnx.IGraphProto } | { scalarTensor: number };

export interface BuiltOnnx {
  bytes: Uint8Array;
}

export class OnnxBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly inits: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly valueInfo: onnx.IValueInfoProto[] = [];
  private counter = 0;

  private readonly extraOpsets: { domain: string; version: number }[] = [];

  constructor(private readonly opset = 13) {}

  /** Imports another operator domain (ai.onnx.ml for the classic classifiers). */
  importDomain(domain: string, version: number): this {
    this.extraOpsets.push({ domain, version });
    return this;
  }

  input(name: string, shape: (number | string)[], dtype: OnnxDType = 'float32'): string {
    this.inputs.push(valueInfo(name, shape, dtype));
    return name;
  }

  output(name: string, shape?: (number | string)[], dtype: OnnxDType = 'float32'): void {
    this.outputs.push(shape ? valueInfo(name, shape, dtype) : { name, type: { tensorType: { elemType: CODES[dtype] } } });
  }

  /** Records a stored shape for an intermediate tensor (value_info). */
  shape(name: string, shape: number[], dtype: OnnxDType = 'float32'): void {
    this.valueInfo.push(valueInfo(name, shape, dtype));
  }

  /** An initializer with raw_data filled by a deterministic pattern (or the given values). */
  init(name: string, shape: number[], dtype: OnnxDType = 'float32', values?: number[]): string {
    const n = shape.reduce((a, b) => a * b, 1);
    const raw = new Uint8Array(n * WIDTH[dtype]);
    const dv = new DataView(raw.buffer);
    for (let i = 0; i < n; i++) {
      const v = values ? values[i]! : ((i * 7919) % 17) - 8;
      if (dtype === 'float32') dv.setFloat32(4 * i, values ? v : v / 64, true);
      else if (dtype === 'int64') dv.setBigInt64(8 * i, BigInt(Math.trunc(v)), true);
      else if (dtype === 'int32') dv.setInt32(4 * i, v, true);
      else if (dtype === 'int8') dv.setInt8(i, v);
      else dv.setUint8(i, v & 0xff);
    }
    this.inits.push({ name, dims: shape, dataType: CODES[dtype], rawData: raw });
    return name;
  }

  /** An initializer held in the typed fields (float_data, int32_data, int64_data) instead of raw_data. */
  typedInit(name: string, shape: number[], dtype: OnnxDType, values: number[]): string {
    const t: onnx.ITensorProto = { name, dims: shape, dataType: CODES[dtype] };
    if (dtype === 'float32') t.floatData = values;
    else if (dtype === 'int64') t.int64Data = values;
    else t.int32Data = values;
    this.inits.push(t);
    return name;
  }

  /** An initializer whose data lives in an external file (only the reference is written). */
  externalInit(name: string, shape: number[], location: string, offset = 0, dtype: OnnxDType = 'float32'): string {
    const length = shape.reduce((a, b) => a * b, 1) * WIDTH[dtype];
    this.inits.push({
      name, dims: shape, dataType: CODES[dtype], dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [{ key: 'location', value: location }, { key: 'offset', value: String(offset) }, { key: 'length', value: String(length) }],
    });
    return name;
  }

  node(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs?: string[] | number, domain?: string): string[] {
    const outs = Array.isArray(outputs) ? outputs : Array.from({ length: outputs ?? 1 }, () => `${opType.toLowerCase()}_${this.counter++}`);
    const attribute: onnx.IAttributeProto[] = Object.entries(attrs).map(([name, v]) => attr(name, v));
    this.nodes.push({ opType, input: inputs, output: outs, name: `${opType}_${this.nodes.length}`, attribute, domain: domain ?? '' });
    return outs;
  }

  /** A Constant node holding a float vector (value_floats). */
  constantNode(out: string, floats: number[]): string {
    this.nodes.push({ opType: 'Constant', input: [], output: [out], name: `Constant_${this.nodes.length}`, attribute: [attr('value_floats', { floats })] });
    return out;
  }

  /** Shorthand for single-output nodes. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, domain?: string): string {
    return this.node(opType, inputs, attrs, 1, domain)[0]!;
  }

  /** Conv with generated weights (and bias); ONNX OIHW. */
  conv(x: string, cin: number, cout: number, k: number, opts: { stride?: number; group?: number; pad?: number; dilation?: number } = {}): string {
    const g = opts.group ?? 1;
    const w = this.init(`w${this.counter++}`, [cout, cin / g, k, k]);
    const b = this.init(`b${this.counter++}`, [cout]);
    const p = opts.pad ?? Math.floor(((k - 1) * (opts.dilation ?? 1)) / 2);
    return this.op('Conv', [x, w, b], {
      kernel_shape: [k, k], strides: [opts.stride ?? 1, opts.stride ?? 1], pads: [p, p, p, p], group: g, dilations: [opts.dilation ?? 1, opts.dilation ?? 1],
    });
  }

  /** The file; `rename` maps every node and tensor name (hostile-name tests). */
  build(rename: (name: string) => string = (n) => n): Uint8Array {
    const r = (n: string | null | undefined): string => (n ? rename(n) : '');
    const named = <T extends { name?: string | null }>(v: T): T => ({ ...v, name: r(v.name) });
    const node = this.nodes.map((n) => ({ ...named(n), input: (n.input ?? []).map(r), output: (n.output ?? []).map(r) }));
    const model: onnx.IModelProto = {
      irVersion: 8,
      producerName: 'mcu-mem fixture builder',
      opsetImport: [{ domain: '', version: this.opset }, { domain: 'com.microsoft', version: 1 }, ...this.extraOpsets],
      graph: {
        name: 'fixture', node, initializer: this.inits.map(named), input: this.inputs.map(named), output: this.outputs.map(named),
        valueInfo: this.valueInfo.map(named),
      },
    };
    return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
  }

  /** This builder's nodes, initializers, inputs and outputs as a graph attribute (If branches, Loop and Scan bodies):
   *  names not defined in it refer to the graph around it. */
  asSubgraph(name: string): { graph: onnx.IGraphProto } {
    return { graph: { name, node: this.nodes, initializer: this.inits, input: this.inputs, output: this.outputs, valueInfo: this.valueInfo } };
  }
}

function valueInfo(name: string, shape: (number | string)[], dtype: OnnxDType): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: CODES[dtype], shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

function attr(name: string, v: AttrValue): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') return { name, type: T.INT, i: v };
  if (typeof v === 'string') return { name, type: T.STRING, s: new Uint8Array([...v].map((c) => c.charCodeAt(0))) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if ('floats' in v) return { name, type: T.FLOATS, floats: v.floats };
  if ('graph' in v) return { name, type: T.GRAPH, g: v.graph };
  if ('scalarTensor' in v) return { name, type: T.TENSOR, t: { dims: [], dataType: CODES.int64, int64Data: [v.scalarTensor] } };
  return { name, type: T.FLOAT, f: v.float };
}
