// Shape inference over the normalized graph, shared by both formats. For ONNX it fills the shapes the file does not
// store; for TFLite it resolves SAME/VALID padding into explicit pads and checks our inference against the stored
// shapes (a mismatch is reported as a note). It also folds ops whose inputs are all constants (shape arithmetic,
// dequantized weights): their outputs become constants whose storage is their inputs' storage.
import { checkedShape } from '../errors';
import type { DType, Graph, Op } from '../graph';
import { InferError, isBounded, OP_RULES, type Shape } from './ops';

export function inferShapes(graph: Graph): void {
  for (const op of graph.ops) {
    const all = [...op.inputs, ...op.params].filter((i) => i >= 0);
    // Shape of a tensor whose shape is known is a constant: shape arithmetic downstream folds too.
    if ((op.kind === 'Shape' || op.kind === 'Size') && graph.tensors[op.inputs[0] ?? -1]?.shape) foldOp(op, graph);
    // TFLite DEQUANTIZE of constant weights (fp16 or int8 weights of a float model) is not folded: TFLM runs it on
    // every invoke and writes a float32 tensor into the arena, alive until its consumer has run.
    else if (op.kind !== 'Custom' && op.kind !== 'Unknown' && !(op.kind === 'Dequantize' && graph.format === 'tflite') && all.length > 0 && all.every((i) => graph.tensors[i]!.role === 'constant')) {
      foldOp(op, graph);
    }
    let shapes: (Shape | null)[] | null = null;
    try {
      shapes = inferOp(op, graph);
    } catch (e) {
      // Malformed attributes (a rank mismatch, a zero stride): the op is reported, the rest of the model goes on.
      if (!(e instanceof InferError)) throw e;
      const why = `${op.sourceType} '${op.name}': ${e.message}`;
      if (op.outputs.every((id) => graph.tensors[id]!.shapeFromFile)) {
        graph.notes.push({ severity: 'warning', opIndex: op.index, message: `${why} (the stored shapes are used)` });
        op.shapeConflict ??= e.message;
      } else op.unsupported ??= why;
    }
    op.outputs.forEach((id, k) => {
      const t = graph.tensors[id]!;
      if (t.dtype === 'unknown') t.dtype = outputDType(op, graph, k);
      const inferred = shapes?.[k] ?? null;
      if (!inferred) return;
      const checked = checkedShape(inferred, `output '${t.name}' of ${op.sourceType} '${op.name}'`);
      // An output sized for the most it can hold: a stored shape within that bound (the size one run gave) agrees.
      const withinBound = isBounded(op) && t.shape !== null && t.shape.length === checked.length && t.shape.every((d, i) => d <= checked[i]!);
      if (!t.shape || sameShape(t.shape, checked) || withinBound) {
        t.shape = checked;
        t.shapeInferred = true;
      } else if (t.shapeFromFile) {
        op.shapeConflict ??= `the file stores shape [${t.shape.join(', ')}] for '${t.name}', inference gives [${checked.join(', ')}]`;
        graph.notes.push({
          severity: 'warning',
          opIndex: op.index,
          message: `${op.sourceType} '${op.name}': the file stores shape [${t.shape.join(', ')}] for '${t.name}', inference gives [${checked.join(', ')}]; the stored shape is used`,
        });
      }
    });
    if (isBounded(op) && shapes?.every(Boolean)) {
      const list = shapes.map((sh) => `[${sh!.join(', ')}]`).join(', ');
      graph.notes.push({ severity: 'info', opIndex: op.index, message: `${op.sourceType} '${op.name}': how much its output holds is known only at run time; memory is counted for the most: ${list}` });
    }
    if (!op.unsupported && op.outputs.some((id) => !graph.tensors[id]!.shape)) {
      op.unsupported = op.kind === 'Unknown' || op.kind === 'Custom'
        ? `operator ${op.sourceType} is not supported by the analysis and the file stores no shape for its output`
        : `${op.sourceType} '${op.name}': output shape could not be inferred (an input shape or a constant operand is unknown)`;
    } else if (!op.unsupported && op.kind === 'Unknown') {
      op.unsupported = `operator ${op.sourceType} is not in the analysed operator set: its memory comes from the shapes stored in the file, its MACs are not counted`;
    }
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function foldOp(op: Op, graph: Graph): void {
  op.folded = true;
  const storage = new Set<string>();
  for (const i of [...op.inputs, ...op.params]) if (i >= 0) for (const k of graph.tensors[i]!.storage ?? []) storage.add(k);
  for (const id of op.outputs) {
    const t = graph.tensors[id]!;
    t.role = 'constant';
    t.storage = [...storage];
  }
  let v: number[] | undefined;
  try {
    v = OP_RULES[op.kind].value?.(op, graph);
  } catch (e) {
    if (!(e instanceof InferError)) throw e; // malformed operands: no value; inference reports them below
  }
  if (v && op.outputs[0] !== undefined) graph.tensors[op.outputs[0]]!.values = v;
}

function outputDType(op: Op, graph: Graph, k: number): DType {
  const rule = OP_RULES[op.kind].dtype;
  return rule ? rule(op, graph, k) : (op.attrs.toDType ?? graph.tensors[op.inputs[0] ?? -1]?.dtype ?? 'unknown');
}

function inferOp(op: Op, graph: Graph): (Shape | null)[] | null {
  const x = op.inputs[0];
  return OP_RULES[op.kind].shape(op, graph, x === undefined || x < 0 ? null : (graph.tensors[x]?.shape ?? null));
}
