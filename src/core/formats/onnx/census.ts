// Counts what an ONNX file declares before protobufjs decodes it: decoding builds one object per node, tensor and
// value info, so a small file of millions of empty nodes would exhaust memory before any limit applied. This walks
// the protobuf wire format (ModelProto.graph → GraphProto.node → NodeProto.attribute → AttributeProto.g/graphs, for
// subgraphs) and only counts. Malformed bytes end the walk: the decoder then reports them.
import { LIMITS, ModelError } from '../../errors';

export interface OnnxCensus {
  nodes: number;
  /** Initializers, inputs, outputs and value infos. */
  tensors: number;
}

const MAX_NESTING = 64;

/** Field number and the [start, end) of each length-delimited field of the message at [start, end). */
function* fields(b: Uint8Array, start: number, end: number): Generator<[number, number, number]> {
  let p = start;
  const varint = (): number => {
    let v = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (p >= end) return -1;
      const byte = b[p++]!;
      v += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return v;
    }
    return -1;
  };
  while (p < end) {
    const tag = varint();
    if (tag < 0) return;
    const wire = tag % 8;
    const field = Math.floor(tag / 8);
    if (wire === 0) { if (varint() < 0) return; } else if (wire === 1) p += 8;
    else if (wire === 5) p += 4;
    else if (wire === 2) {
      const len = varint();
      if (len < 0 || p + len > end) return;
      yield [field, p, p + len];
      p += len;
    } else return; // groups or garbage: leave it to the decoder
  }
}

function countGraph(b: Uint8Array, start: number, end: number, c: OnnxCensus, depth: number): void {
  if (depth > MAX_NESTING) throw new ModelError('bad-onnx', `subgraphs nested more than ${MAX_NESTING} deep`);
  for (const [field, s, e] of fields(b, start, end)) {
    if (field === 1) {
      if (++c.nodes > LIMITS.maxOps) throw new ModelError('too-large', `more than ${LIMITS.maxOps} nodes (limit ${LIMITS.maxOps}), counted before decoding`);
      for (const [nf, as, ae] of fields(b, s, e)) {
        if (nf !== 5) continue; // NodeProto.attribute
        for (const [af, gs, ge] of fields(b, as, ae)) if (af === 6 || af === 11) countGraph(b, gs, ge, c, depth + 1); // g, graphs
      }
    } else if (field === 5 || field === 11 || field === 12 || field === 13 || field === 15) {
      if (++c.tensors > LIMITS.maxTensors) throw new ModelError('too-large', `more than ${LIMITS.maxTensors} initializers and value infos (limit ${LIMITS.maxTensors}), counted before decoding`);
    }
  }
}

/** Counts nodes and tensors; throws a named error when a limit is passed. */
export function onnxCensus(bytes: Uint8Array): OnnxCensus {
  const c: OnnxCensus = { nodes: 0, tensors: 0 };
  for (const [field, s, e] of fields(bytes, 0, bytes.length)) if (field === 7) countGraph(bytes, s, e, c, 0); // ModelProto.graph
  return c;
}
