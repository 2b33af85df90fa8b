// Opening a model: format detection (cheap magic checks, as Netron's readers), the reader, shape inference, layouts
// and graph validation. Takes bytes, returns the normalized graph or an error naming the problem.
import { capture, ModelError, type Result } from './errors';
import type { Graph } from './graph';
import { inferShapes } from './analysis/shapes';
import { assignLayouts } from './analysis/layout';
import { matchOnnx, readOnnx } from './formats/onnx/reader';
import type { ExternalDataHost } from './formats/onnx/external';
import { matchTflite, readTflite } from './formats/tflite/reader';

export interface OpenOptions {
  /** File name (for the extension hint in error messages). */
  fileName?: string;
  /** Resolves ONNX external data inside the model's folder. */
  externalData?: ExternalDataHost;
}

export function openModel(bytes: Uint8Array, options: OpenOptions = {}): Result<Graph> {
  return capture(() => openModelOrThrow(bytes, options));
}

export function openModelOrThrow(bytes: Uint8Array, options: OpenOptions = {}): Graph {
  if (bytes.length === 0) throw new ModelError('empty-file', 'the file is empty (0 bytes)');
  const ext = (options.fileName ?? '').toLowerCase().match(/\.([a-z0-9]+)$/)?.[1];
  let graph: Graph;
  if (matchTflite(bytes)) graph = readTflite(bytes);
  else if (ext === 'tflite') graph = readTflite(bytes); // throws: wrong magic, naming what was found
  else if (ext === 'onnx' || matchOnnx(bytes)) graph = readOnnx(bytes, { externalData: options.externalData });
  else {
    throw new ModelError('unknown-format', `unrecognised model format: no TFLite identifier 'TFL3' at byte 4 and not an ONNX protobuf (first byte 0x${bytes[0]!.toString(16).padStart(2, '0')})`);
  }
  graph.metadata.fileBytes = bytes.length;
  validateGraph(graph);
  inferShapes(graph);
  assignLayouts(graph);
  return graph;
}

/** Every operator input is a constant, a graph input, a variable or an earlier operator's output; no cycles. */
function validateGraph(graph: Graph): void {
  const available = new Set<number>();
  for (const t of graph.tensors) if (t.role !== 'activation') available.add(t.id);
  const producer = new Map<number, number>();
  for (const op of graph.ops) {
    for (const o of op.outputs) {
      if (producer.has(o)) throw new ModelError('bad-graph', `tensor '${graph.tensors[o]!.name}' is written by operators #${producer.get(o)} and #${op.index}`);
      if (graph.tensors[o]!.role === 'constant' || graph.tensors[o]!.role === 'input') {
        throw new ModelError('bad-graph', `operator #${op.index} (${op.sourceType}) writes '${graph.tensors[o]!.name}', which is a ${graph.tensors[o]!.role}`);
      }
      producer.set(o, op.index);
    }
  }
  for (const op of graph.ops) {
    for (const i of [...op.inputs, ...op.params]) {
      if (i < 0 || available.has(i)) continue;
      const name = graph.tensors[i]!.name;
      const p = producer.get(i);
      if (p === undefined && op.kind === 'Custom') {
        // A custom operator's unproduced inputs are its scratch buffers (Ethos-U: scratch, scratch_fast).
        graph.notes.push({ severity: 'info', opIndex: op.index, message: `'${name}' is scratch memory of custom operator #${op.index} (${op.sourceType}), alive while it runs` });
        available.add(i);
        continue;
      }
      if (p === undefined) throw new ModelError('bad-graph', `operator #${op.index} (${op.sourceType}) reads '${name}', which no operator produces and which is not a graph input or constant (dangling edge)`);
      throw new ModelError('bad-graph', `operator #${op.index} (${op.sourceType}) reads '${name}' before operator #${p} produces it (cycle or operators out of order)`);
    }
    for (const o of op.outputs) available.add(o);
  }
  for (const o of graph.outputs) {
    if (!available.has(o)) throw new ModelError('bad-graph', `graph output '${graph.tensors[o]!.name}' is never produced (dangling edge)`);
  }
}
