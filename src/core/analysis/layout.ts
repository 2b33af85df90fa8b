// Layout per tensor: which axes are N, H, W, C (N, C, W for 1-D maps). Spatial operators fix the layout of their data tensors (NCHW for
// ONNX, NHWC for TFLite); it then spreads through layout-preserving operators in both directions and through
// Transpose by its permutation (so an NCHW graph input followed by TRANSPOSE in a TFLite file is labelled NCHW).
import type { Graph, Op } from '../graph';

const SPATIAL = new Set(['Conv2D', 'DepthwiseConv2D', 'TransposeConv2D', 'MaxPool2D', 'AvgPool2D', 'GlobalAvgPool', 'GlobalMaxPool', 'ConvNd', 'PoolNd', 'BatchNorm']);
const PRESERVING = new Set(['Activation', 'Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Quantize', 'Dequantize', 'Pad', 'Concat', 'BatchNorm', 'Identity', 'Cast', 'Resize', 'Softmax']);

export function assignLayouts(graph: Graph): void {
  const defaultLayout = graph.format === 'onnx' ? 'NCHW' : 'NHWC';
  const set = (id: number, layout: string): boolean => {
    const t = graph.tensors[id];
    if (!t || t.role === 'constant' || !t.shape || t.shape.length !== layout.length || t.layout) return false;
    t.layout = layout;
    return true;
  };
  for (const op of graph.ops) {
    if (op.folded) continue;
    // TFLite's RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR are defined on NHWC tensors.
    // LayerNormalization shares BatchNorm's kind but not its channel axis.
    if ((SPATIAL.has(op.kind) && op.sourceType !== 'LayerNormalization') || (op.kind === 'Resize' && graph.format === 'tflite')) {
      const l = op.attrs.layout ?? defaultLayout;
      // 1-D convolution and pooling (audio, keyword spotting, vibration): N, C and the one spatial axis, W.
      const of = (id: number): string => (graph.tensors[id]?.shape?.length === 3 ? l.replace('H', '') : l);
      set(op.inputs[0] ?? -1, of(op.inputs[0] ?? -1));
      for (const o of op.outputs) set(o, of(o));
    }
    if (op.kind === 'FullyConnected' || op.kind === 'MatMul') {
      for (const o of op.outputs) set(o, 'NC');
      set(op.inputs[0] ?? -1, 'NC');
    }
  }
  // Spread until nothing changes (each pass can only fill tensors, so at most one pass per tensor).
  for (let pass = 0; pass < graph.tensors.length + 1; pass++) {
    let changed = false;
    for (const op of graph.ops) if (!op.folded) changed = spread(op, graph, set) || changed;
    if (!changed) break;
  }
  // Rank-2 activations are batch × features.
  for (const t of graph.tensors) if (!t.layout && t.role !== 'constant' && t.shape?.length === 2) t.layout = 'NC';
}

function spread(op: Op, graph: Graph, set: (id: number, l: string) => boolean): boolean {
  const data = [...op.inputs.filter((i) => i >= 0), ...op.outputs];
  let changed = false;
  // Deeploy's RequantShift is a pointwise requantization (an activation, as far as axes go).
  if (PRESERVING.has(op.kind) || (op.kind === 'Elementwise' && op.attrs.fn === 'requantshift')) {
    const known = data.map((i) => graph.tensors[i]!).find((t) => t.layout && t.role !== 'constant');
    if (known?.layout) for (const i of data) changed = set(i, known.layout) || changed;
  } else if (op.kind === 'Transpose') {
    const x = graph.tensors[op.inputs[0] ?? -1];
    const y = graph.tensors[op.outputs[0] ?? -1];
    const perm = op.attrs.perm;
    if (!x || !y || !perm) return false;
    if (x.layout && !y.layout) changed = set(y.id, perm.map((p) => x.layout![p] ?? '?').join(''));
    else if (y.layout && !x.layout) {
      const letters = new Array<string>(perm.length).fill('?');
      perm.forEach((p, i) => { letters[p] = y.layout![i] ?? '?'; });
      changed = set(x.id, letters.join(''));
    }
  }
  return changed;
}
