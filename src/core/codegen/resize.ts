// Nearest-neighbour resizing: which input row (or column) each output row reads, computed at export time the way the
// reference runtimes compute it, in float32: TFLite's GetNearestNeighbor (align_corners, half_pixel_centers) and
// onnxruntime's Resize (coordinate_transformation_mode, nearest_mode). The generated kernel only looks the indices up.
import type { OpAttrs } from '../graph';

type ResizeAttrs = NonNullable<OpAttrs['resize']>;

const f = Math.fround;

/** The transforms and roundings generated code follows; anything else stops the export. */
export const NEAREST_COORDS = ['asymmetric', 'half_pixel', 'pytorch_half_pixel', 'tf_half_pixel_for_nn', 'align_corners'];
export const NEAREST_ROUNDING = ['floor', 'ceil', 'round_prefer_floor', 'round_prefer_ceil', 'round_half_away', 'simple'];

/**
 * Source index along one axis for every output index. `scale` is the output/input ratio the file gives (ONNX
 * scales); without one it is outSize / inSize, as both runtimes compute it from sizes.
 */
export function nearestIndices(inSize: number, outSize: number, r: ResizeAttrs, scale?: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < outSize; i++) out.push(r.tflite ? tfliteIndex(i, inSize, outSize, r) : onnxIndex(i, inSize, outSize, r, scale ?? f(outSize / inSize)));
  return out;
}

function tfliteIndex(i: number, inSize: number, outSize: number, r: ResizeAttrs): number {
  const align = r.coord === 'align_corners';
  const scale = align && outSize > 1 ? f((inSize - 1) / (outSize - 1)) : f(inSize / outSize);
  const offset = r.coord === 'tf_half_pixel_for_nn' ? 0.5 : 0;
  const v = f(f(i + offset) * scale);
  // TfLiteRound rounds halves away from zero; v is never negative here.
  let idx = Math.min(align ? Math.floor(v + 0.5) : Math.floor(v), inSize - 1);
  if (offset) idx = Math.max(0, idx);
  return idx;
}

function onnxIndex(i: number, inSize: number, outSize: number, r: ResizeAttrs, scale: number): number {
  const x = f(i);
  let o: number;
  switch (r.coord) {
    case 'asymmetric': o = f(x / scale); break;
    case 'half_pixel': o = f(f(f(x + 0.5) / scale) - 0.5); break;
    case 'pytorch_half_pixel': o = outSize > 1 ? f(f(f(x + 0.5) / scale) - 0.5) : 0; break;
    case 'tf_half_pixel_for_nn': o = f(f(x + 0.5) / scale); break;
    case 'align_corners': o = outSize === 1 ? 0 : f(f(x * (inSize - 1)) / (outSize - 1)); break;
    default: throw new Error(`coordinate transformation '${r.coord}'`);
  }
  let idx: number;
  switch (r.nearest) {
    case 'floor': idx = Math.floor(o); break;
    case 'ceil': idx = Math.ceil(o); break;
    // Upsample and Resize before opset 11: truncate when enlarging, round up when shrinking (onnxruntime's SIMPLE).
    case 'simple': idx = scale < 1 ? Math.ceil(o) : Math.trunc(o); break;
    // onnxruntime: a value exactly halfway goes down; otherwise std::round.
    case 'round_prefer_floor': idx = o === Math.trunc(o) + 0.5 ? Math.floor(o) : roundHalfAway(o); break;
    case 'round_prefer_ceil': idx = roundHalfAway(o); break;
    default: throw new Error(`nearest mode '${r.nearest}'`);
  }
  return Math.min(Math.max(idx, 0), inSize - 1);
}

const roundHalfAway = (v: number): number => (v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5));

/** TFLite's bilinear resizing along one axis, as its reference kernels compute the sample positions: per output index
 *  the lower and upper source index and the position, in float32 (float models: ComputeInterpolationValues) or in
 *  1/1024 steps (integer models: ComputeInterpolationValuesInteger). */
export interface BilinearAxis { lo: number[]; hi: number[]; pos: number[] }
export function bilinearAxis(inSize: number, outSize: number, r: ResizeAttrs, integer: boolean): BilinearAxis {
  const align = r.coord === 'align_corners' && outSize > 1;
  const half = r.coord === 'half_pixel';
  const out: BilinearAxis = { lo: [], hi: [], pos: [] };
  if (integer) {
    const scale10 = align ? Math.trunc((1024 * (inSize - 1) + Math.trunc((outSize - 1) / 2)) / (outSize - 1)) : Math.trunc((1024 * inSize + Math.trunc(outSize / 2)) / outSize);
    for (let i = 0; i < outSize; i++) {
      const v = half ? i * scale10 + Math.trunc(scale10 / 2) - 512 : i * scale10;
      out.pos.push(v);
      out.lo.push(Math.max(Math.trunc(v / 1024), 0));
      out.hi.push(Math.min(Math.trunc((v + 1023) / 1024), inSize - 1));
    }
    return out;
  }
  const scale = align ? f((inSize - 1) / (outSize - 1)) : f(inSize / outSize);
  for (let i = 0; i < outSize; i++) {
    const v = half ? f(f(f(i + 0.5) * scale) - 0.5) : f(i * scale);
    out.pos.push(v);
    out.lo.push(Math.max(Math.floor(v), 0));
    out.hi.push(Math.min(Math.ceil(v), inSize - 1));
  }
  return out;
}
