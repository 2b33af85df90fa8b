// The bundled example: a small MobileNetV2-style network (96×96×3 input, inverted residual blocks with one residual
// Add, global pooling and a classifier), emitted as ONNX (float, NCHW, Conv+Clip) and as TFLite (int8, NHWC, fused
// ReLU6) from one description, so both readers must give the same figures for it.
import { OnnxBuilder } from './onnx-builder';
import { TfliteBuilder } from './tflite-builder';

type Layer =
  | { t: 'conv'; cout: number; k: number; s: number; relu6: boolean }
  | { t: 'dw'; k: number; s: number }
  | { t: 'block'; expand: number; cout: number; s: number };

export const EXAMPLE_INPUT = { h: 96, w: 96, c: 3 };
export const EXAMPLE_LAYERS: readonly Layer[] = [
  { t: 'conv', cout: 16, k: 3, s: 2, relu6: true },
  { t: 'block', expand: 1, cout: 8, s: 1 },
  { t: 'block', expand: 6, cout: 16, s: 2 },
  { t: 'block', expand: 6, cout: 16, s: 1 },
  { t: 'block', expand: 6, cout: 24, s: 2 },
  { t: 'conv', cout: 64, k: 1, s: 1, relu6: true },
];
export const EXAMPLE_CLASSES = 10;

/** The bundled example; `rename` maps every node and tensor name (hostile-name tests). */
export function exampleModel(format: 'onnx' | 'tflite', rename?: (name: string) => string): Uint8Array {
  return format === 'onnx' ? exampleOnnx(rename) : exampleTflite(rename);
}

function exampleOnnx(rename?: (name: string) => string): Uint8Array {
  const b = new OnnxBuilder(13);
  const lo = b.init('relu6_min', [], 'float32', [0]);
  const hi = b.init('relu6_max', [], 'float32', [6]);
  const relu6 = (x: string): string => b.op('Clip', [x, lo, hi]);
  let x = b.input('input', ['batch', EXAMPLE_INPUT.c, EXAMPLE_INPUT.h, EXAMPLE_INPUT.w]);
  let c = EXAMPLE_INPUT.c;
  for (const l of EXAMPLE_LAYERS) {
    if (l.t === 'conv') {
      x = b.conv(x, c, l.cout, l.k, { stride: l.s });
      if (l.relu6) x = relu6(x);
      c = l.cout;
    } else if (l.t === 'block') {
      const skip = x;
      const hidden = c * l.expand;
      let y = x;
      if (l.expand !== 1) y = relu6(b.conv(y, c, hidden, 1));
      y = relu6(b.conv(y, hidden, hidden, 3, { stride: l.s, group: hidden }));
      y = b.conv(y, hidden, l.cout, 1);
      x = l.s === 1 && c === l.cout ? b.op('Add', [skip, y]) : y;
      c = l.cout;
    }
  }
  x = b.op('GlobalAveragePool', [x]);
  x = b.op('Flatten', [x], { axis: 1 });
  const w = b.init('fc_w', [EXAMPLE_CLASSES, c]);
  const bias = b.init('fc_b', [EXAMPLE_CLASSES]);
  x = b.node('Gemm', [x, w, bias], { transB: 1 }, ['logits'])[0]!;
  b.output(x, ['batch', EXAMPLE_CLASSES]);
  return b.build(rename);
}

function exampleTflite(rename?: (name: string) => string): Uint8Array {
  const b = new TfliteBuilder();
  let h = EXAMPLE_INPUT.h;
  let w = EXAMPLE_INPUT.w;
  let c = EXAMPLE_INPUT.c;
  let n = 0;
  const act = (cc: number): number => b.tensor(`act_${n++}`, [1, h, w, cc], 'int8', undefined, { quant: { scale: [0.05], zeroPoint: [-128], axis: 0 } });
  let x = act(c);
  b.inputs = [x];
  for (const l of EXAMPLE_LAYERS) {
    if (l.t === 'conv') {
      h = Math.ceil(h / l.s);
      w = Math.ceil(w / l.s);
      const y = act(l.cout);
      b.conv(x, y, c, l.cout, l.k, l.s, 0, l.relu6 ? 3 : 0);
      x = y;
      c = l.cout;
    } else if (l.t === 'block') {
      const skip = x;
      const hidden = c * l.expand;
      let y = x;
      if (l.expand !== 1) {
        const e = act(hidden);
        b.conv(y, e, c, hidden, 1, 1, 0, 3);
        y = e;
      }
      h = Math.ceil(h / l.s);
      w = Math.ceil(w / l.s);
      const d = act(hidden);
      b.depthwise(y, d, hidden, 3, l.s, 0, 3);
      const p = act(l.cout);
      b.conv(d, p, hidden, l.cout, 1, 1, 0, 0);
      if (l.s === 1 && c === l.cout) {
        const sum = act(l.cout);
        b.op('ADD', [skip, p], [sum], [[0, 'int8', 0]]);
        x = sum;
      } else x = p;
      c = l.cout;
    }
  }
  const pooled = b.tensor('pooled', [1, 1, 1, c], 'int8', undefined, { quant: { scale: [0.05], zeroPoint: [-128], axis: 0 } });
  b.op('AVERAGE_POOL_2D', [x], [pooled], [[0, 'int8', 1], [1, 'int32', 1], [2, 'int32', 1], [3, 'int32', w], [4, 'int32', h], [5, 'int8', 0]]);
  const shape = b.constant('flat_shape', [2], 'int32', [1, c]);
  const flat = b.tensor('flat', [1, c], 'int8', undefined, { quant: { scale: [0.05], zeroPoint: [-128], axis: 0 } });
  b.op('RESHAPE', [pooled, shape], [flat]);
  const fw = b.constant('fc_w', [EXAMPLE_CLASSES, c], 'int8', undefined, { scale: [0.01], zeroPoint: [0], axis: 0 });
  const fb = b.constant('fc_b', [EXAMPLE_CLASSES], 'int32');
  const logits = b.tensor('logits', [1, EXAMPLE_CLASSES], 'int8', undefined, { quant: { scale: [0.002], zeroPoint: [0], axis: 0 } });
  b.op('FULLY_CONNECTED', [flat, fw, fb], [logits], [[0, 'int8', 0]]);
  b.outputs = [logits];
  return b.build(rename);
}
