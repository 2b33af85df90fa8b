// Lowering of data movement: split, concat, pad, resize, reshape, transpose and strided copies (slices, gathers, ...).
import { elementCount, type Op } from '../../graph';
import { CodegenError } from '../errors';
import { movementCopies, rowMajorStrides, splitParts } from '../movement';
import { quantizeMultiplier } from '../quant';
import { NEAREST_COORDS, NEAREST_ROUNDING, bilinearAxis, nearestIndices } from '../resize';
import { boxLit, viewLit, type Access, type Emit, type StepLower } from './context';

/** Split, Unpack. */
export function lowerSplit(sl: StepLower): Emit {
  const { P, e, esize, geo, izp, kernels, label, layerAccess, op, params, qOf, x0 } = sl;
  // One copy per output. Along the channels of a feature map it runs on tiles and rows like an elementwise
  // operator (mm_copy from the input's view shifted by the part's first channel); along another axis it copies
  // whole tensors (mm_copy_nd), layer by layer only.
  const x = x0;
  const outs = op.outputs;
  if (e !== 'f32') {
    const qx = qOf(x, 'split input');
    for (const o of outs) { const q = qOf(o, 'split output'); if (q.scale !== qx.scale || izp(o, q) !== izp(x, qx)) throw new CodegenError(`C export: ${label(op)}: an int8 output quantized unlike the input is not generated`, op.index); }
  }
  const gx = geo(x);
  const { axis, parts } = splitParts(op, label(op), gx.shape, outs.map((o) => geo(o).shape));
  const es = esize(e);
  if (op.kind === 'Split' && gx.axes && axis === gx.axes.c && outs.every((o) => geo(o).axes)) {
    kernels.add('copy');
    return (a) => parts.map((p, k) => `mm_copy(${geo(outs[k]!).C}, ${es}, ${a.ptr(x)} + ${p.start} * (${a.view(x)}).sc, ${a.view(x)}, ${a.ptr(outs[k]!)}, ${a.view(outs[k]!)}, ${a.box(outs[k]!)});`);
  }
  kernels.add('copy_nd');
  const pad6 = (v: number[]): string => [...v, ...new Array<number>(6 - v.length).fill(0)].join(', ');
  parts.forEach((p, k) => params.push(`static const mm_copy_nd_t ${P}_${k} = {${p.copy.dims.length}, ${es}, {${pad6(p.copy.dims)}}, {${pad6(p.copy.xStrides)}}, {${pad6(p.copy.yStrides)}}};`));
  return (a) => {
    if (a !== layerAccess) throw new CodegenError(`C export: ${label(op)} along axis ${axis} inside a patch stage or a line-buffered segment is not generated`, op.index);
    return parts.map((p, k) => `mm_copy_nd(&${P}_${k}, (const uint8_t *)${a.ptr(x)} + ${p.copy.xBase * es}, (uint8_t *)${a.ptr(outs[k]!)});`);
  };
}

/** Concat. */
export function lowerConcat(sl: StepLower): Emit {
  const { P, T, e, esize, fin, geo, izp, kernels, label, op, params, qOf, withEpi, y } = sl;
  const gy = geo(y);
  const rank = gy.shape.length;
  const axis = ((op.attrs.axis ?? 0) + rank) % rank;
  const parts = op.inputs.filter((i) => i >= 0);
  for (const i of parts) if (T(i).role === 'constant') throw new CodegenError(`C export: ${label(op)}: concatenating a constant is not generated`, op.index);
  const channel = gy.axes ? axis === gy.axes.c : rank >= 1;
  const es = esize(e);
  if (gy.axes && channel) {
    let c0 = 0;
    const calls: ((a: Access) => string)[] = [];
    parts.forEach((x, k) => {
      const cx = geo(x).C;
      const at = c0;
      const requant = e !== 'f32' && (qOf(x, 'concat input').scale !== fin.q!.scale || izp(x, qOf(x, 'concat input')) !== fin.zp);
      if (requant && e === 's16') throw new CodegenError(`C export: ${label(op)}: int16 concatenation of unlike scales is not generated`, op.index);
      if (requant) {
        const qx = qOf(x, 'concat input');
        const [m, s] = quantizeMultiplier(qx.scale / fin.q!.scale);
        kernels.add('requant_s8');
        params.push(`static const mm_requant_s8_t ${P}_${k} = {${cx}, ${-izp(x, qx)}, ${fin.zp}, ${m}, ${s}};`);
        calls.push((a) => `mm_requant_s8(&${P}_${k}, ${a.ptr(x)}, ${a.view(x)}, ${a.ptr(y)} + ${at} * ${a.view(y)}.sc, ${a.view(y)}, ${a.box(y)});`);
      } else {
        kernels.add('copy');
        calls.push((a) => `mm_copy(${cx}, ${es}, ${a.ptr(x)}, ${a.view(x)}, ${a.ptr(y)} + ${at} * ${a.view(y)}.sc, ${a.view(y)}, ${a.box(y)});`);
      }
      c0 += cx;
    });
    return withEpi((a) => calls.map((c) => c(a)));
  }
  const outer = elementCount(gy.shape.slice(0, axis));
  const outInner = elementCount(gy.shape.slice(axis));
  let off = 0;
  const calls: ((a: Access) => string)[] = [];
  for (const x of parts) {
    if (e !== 'f32' && (qOf(x, 'concat input').scale !== fin.q!.scale || izp(x, qOf(x, 'concat input')) !== fin.zp)) throw new CodegenError(`C export: ${label(op)}: ${T(y).dtype} concatenation of unlike scales along a non-channel axis`, op.index);
    const inner = elementCount(geo(x).shape.slice(axis));
    const at = off;
    kernels.add('concat');
    calls.push((a) => `mm_concat(${outer}, ${inner}, ${outInner}, ${at}, ${es}, ${a.ptr(x)}, ${a.ptr(y)});`);
    off += inner;
  }
  return withEpi((a) => calls.map((c) => c(a)));
}

/** Pad. */
export function lowerPad(sl: StepLower): Emit {
  const { P, T, e, esize, fin, geo, kernels, label, layerAccess, op, params, scalarOf, withEpi, x0, y } = sl;
  const x = x0;
  const gx = geo(x);
  const gy = geo(y);
  const pads = op.attrs.padAmounts;
  const rank = gx.shape.length;
  if (!pads || pads.length !== 2 * rank) throw new CodegenError(`C export: ${label(op)}: padding amounts unknown`, op.index);
  const mode = op.attrs.padMode ?? (op.attrs.activation === 'other' || op.sourceType === 'MIRROR_PAD' ? 'unknown' : undefined);
  if (mode !== undefined) return padMode(sl, mode);
  // A 4-D tensor whose layout no spatial operator fixed (a padding model on its own) is padded as row-major
  // N×H×W×C: padding only moves values, so the letters do not matter; its views are the whole tensor's.
  const asNhwc = !gx.axes && rank === 4 ? { c: 3, h: 1, w: 2 } : null;
  if (asNhwc && gx.shape[0] !== 1) throw new CodegenError(`C export: ${label(op)}: padding a batch of ${gx.shape[0]} tensors of unknown layout is not generated`, op.index);
  const ax = gx.axes ?? asNhwc;
  for (let a = 0; a < rank; a++) {
    const isChw = ax ? a === ax.c || a === ax.h || a === ax.w : rank === 1;
    if (!isChw && (pads[a] !== 0 || pads[a + rank] !== 0)) throw new CodegenError(`C export: ${label(op)}: padding along axis ${a} (${ax ? 'batch' : 'of a tensor of unknown layout'}) is not generated`, op.index);
  }
  const pc = ax ? pads[ax.c]! : 0;
  const pt = ax ? pads[ax.h]! : 0;
  const pl = ax ? pads[ax.w]! : 0;
  // Pad value: ONNX constant_value input / TFLite PADV2 value; else zero (the zero point in int8).
  const valueOperand = op.attrs.padOperands ? op.attrs.padOperands[1] : op.params[1] ?? -1;
  const valueId = valueOperand >= 0 ? valueOperand : undefined;
  let bits: number;
  if (e === 'f32') {
    const v = valueId !== undefined ? scalarOf(valueId, 0) : op.attrs.padValue ?? 0;
    bits = new Uint32Array(new Float32Array([v]).buffer)[0]!;
  } else {
    if (op.attrs.padValue !== undefined && op.attrs.padValue !== 0) throw new CodegenError(`C export: ${label(op)}: a quantized Pad with the value ${op.attrs.padValue} is not generated`, op.index);
    let v = fin.zp;
    if (valueId !== undefined && T(valueId).dtype !== 'float32') v = scalarOf(valueId, 0) - (T(valueId).dtype === 'uint8' ? 128 : 0);
    bits = e === 's16' ? v & 0xffff : v & 0xff;
  }
  kernels.add('pad');
  if (asNhwc) {
    const [, h, w, c] = gx.shape as [number, number, number, number];
    const [, ho, wo, co] = gy.shape as [number, number, number, number];
    params.push(`static const mm_pad_t ${P} = {${co}, ${esize(e)}, ${c}, ${h}, ${w}, ${pc}, ${pt}, ${pl}, ${bits}u};`);
    const xv = viewLit({ h0: 0, w0: 0, sc: 1, sh: w * c, sw: c });
    const yv = viewLit({ h0: 0, w0: 0, sc: 1, sh: wo * co, sw: co });
    return withEpi((a) => {
      if (a !== layerAccess) throw new CodegenError(`C export: ${label(op)} on a tensor of unknown layout inside a patch stage or a line-buffered segment is not generated`, op.index);
      return [`mm_pad(&${P}, ${a.ptr(x)}, ${xv}, ${a.ptr(y)}, ${yv}, ${boxLit({ h0: 0, h1: ho, w0: 0, w1: wo })});`];
    });
  }
  params.push(`static const mm_pad_t ${P} = {${gy.C}, ${esize(e)}, ${gx.C}, ${gx.H}, ${gx.W}, ${pc}, ${pt}, ${pl}, ${bits}u};`);
  return withEpi((a) => [`mm_pad(&${P}, ${a.ptr(x)}, ${a.view(x)}, ${a.ptr(y)}, ${a.view(y)}, ${a.box(y)});`]);
}

/** The source index of output index i of an axis of n values padded by `before`: reflect (numpy's, the edge not
 *  repeated), symmetric (the edge repeated), edge (clamped) or wrap; null when the mode cannot reach it (reflecting
 *  a single value, or padding past what one reflection covers, which ONNX and TFLite refuse). */
export function padSource(mode: 'reflect' | 'edge' | 'wrap' | 'symmetric', i: number, before: number, n: number): number | null {
  const j = i - before;
  if (j >= 0 && j < n) return j;
  switch (mode) {
    case 'edge': return j < 0 ? 0 : n - 1;
    case 'wrap': return ((j % n) + n) % n;
    case 'reflect': {
      const r = j < 0 ? -j : 2 * (n - 1) - j;
      return r >= 0 && r < n && n > 1 ? r : null;
    }
    case 'symmetric': {
      const r = j < 0 ? -j - 1 : 2 * n - 1 - j;
      return r >= 0 && r < n ? r : null;
    }
  }
}

/** Reflect, edge, symmetric or wrap padding along any axes of a tensor of up to 6 dimensions: per axis a table of the
 *  source index of every output index (layer by layer only: the border reads the map's interior, which the
 *  scheduler does not tile). */
function padMode(sl: StepLower, mode: NonNullable<StepLower['op']['attrs']['padMode']>): Emit {
  const { P, addWeights, e, esize, geo, kernels, label, layerAccess, op, params, si, withEpi, x0, y } = sl;
  const x = x0;
  const xs = geo(x).shape;
  const ys = geo(y).shape;
  const pads = op.attrs.padAmounts!;
  const rank = xs.length;
  if (mode === 'unknown') throw new CodegenError(`C export: ${label(op)}: its padding mode is not known`, op.index);
  if (rank < 1 || rank > 6 || ys.length !== rank) throw new CodegenError(`C export: ${label(op)}: ${mode} padding of a ${rank}-D tensor (up to 6-D is generated)`, op.index);
  const tables = xs.map((n, a) => addWeights(`pt${si}_${a}`, 'int32_t', Array.from({ length: ys[a]! }, (_, i) => {
    const r = padSource(mode, i, pads[a]!, n);
    if (r === null) throw new CodegenError(`C export: ${label(op)}: ${mode} padding by ${pads[a]} and ${pads[a + rank]} of ${n} values along axis ${a} reaches beyond one reflection`, op.index);
    return r;
  })));
  const six = (v: readonly (number | string)[], fill: number | string): string => [...v, ...new Array<number | string>(6 - v.length).fill(fill)].join(', ');
  kernels.add('pad_mode');
  params.push(`static const mm_pad_mode_t ${P} = {${rank}, ${esize(e)}, {${six(ys, 1)}}, {${six(rowMajorStrides(xs), 0)}}, {${six(tables, 'NULL')}}};`);
  return withEpi((a) => {
    if (a !== layerAccess) throw new CodegenError(`C export: ${label(op)}: ${mode} padding inside a patch stage or a line-buffered segment is not generated`, op.index);
    return [`mm_pad_mode(&${P}, ${a.ptr(x)}, ${a.ptr(y)});`];
  });
}

/** Resize. */
export function lowerResize(sl: StepLower): Emit {
  const { P, addWeights, e, elemOf, esize, fin, geo, izp, kernels, label, op, params, qOf, si, withEpi, x0, y } = sl;
  const r = op.attrs.resize;
  if (r && r.mode === 'linear' && r.tflite) return bilinear(sl, r);
  if (!r || r.mode !== 'nearest') throw new CodegenError(`C export: ${label(op)}: only nearest-neighbour and TFLite's bilinear resizing are generated`, op.index);
  if (!NEAREST_COORDS.includes(r.coord) || !NEAREST_ROUNDING.includes(r.nearest)) throw new CodegenError(`C export: ${label(op)}: coordinate mode '${r.coord}' with rounding '${r.nearest}' is not generated`, op.index);
  const x = x0;
  const gx = geo(x);
  const gy = geo(y);
  if (!gx.axes || !gy.axes || gx.C !== gy.C || gx.shape[0] !== gy.shape[0]) throw new CodegenError(`C export: ${label(op)}: only the height and width of a 4-D feature map are resized`, op.index);
  if (e !== elemOf(x)) throw new CodegenError(`C export: ${label(op)} changes the element type`, op.index);
  if (e !== 'f32') {
    const qx = qOf(x, 'resize input');
    if (qx.scale !== fin.q!.scale || izp(x, qx) !== fin.zp) throw new CodegenError(`C export: ${label(op)}: input and output quantization differ (a requantizing resize is not generated)`, op.index);
  }
  const sc = op.attrs.scales && op.attrs.scales.length === gx.shape.length ? op.attrs.scales : null;
  const rows = nearestIndices(gx.H, gy.H, r, sc ? sc[gx.axes.h] : undefined);
  const cols = nearestIndices(gx.W, gy.W, r, sc ? sc[gx.axes.w] : undefined);
  const rn = addWeights(`rr${si}`, 'int32_t', rows);
  const cn = addWeights(`rc${si}`, 'int32_t', cols);
  kernels.add('resize_nearest');
  params.push(`static const mm_resize_t ${P} = {${gx.C}, ${esize(e)}, ${rn}, ${cn}};`);
  return withEpi((a) => [`mm_resize_nearest(&${P}, ${a.ptr(x)}, ${a.view(x)}, ${a.ptr(y)}, ${a.view(y)}, ${a.box(y)});`]);
}

/** Reshape, Flatten, Squeeze, Unsqueeze, Identity. */
export function lowerReshape(sl: StepLower): Emit {
  const { e, esize, fin, geo, izp, label, op, qOf, withEpi, x0, y } = sl;
  const x = x0;
  // Plain integers (an ArgMax's indices) carry no quantization to keep.
  if (e !== 'f32' && fin.q) {
    const qx = qOf(x, 'reshape input');
    if (qx.scale !== fin.q!.scale || izp(x, qx) !== fin.zp) throw new CodegenError(`C export: ${label(op)} changes the quantization; not generated`, op.index);
  }
  const bytes = elementCount(geo(y).shape) * esize(e);
  return withEpi((a) => (a.ptr(x) === a.ptr(y) ? [] : [`memmove(${a.ptr(y)}, ${a.ptr(x)}, ${bytes});`]));
}

/** A Cast to the type the tensor already has (sklearn-onnx ends its classifiers so): a copy. */
export function lowerCast(sl: StepLower): Emit {
  const { T, label, op, x0, y } = sl;
  if (T(x0).dtype !== T(y).dtype) throw new CodegenError(`C export: ${label(op)}: a Cast from ${T(x0).dtype} to ${T(y).dtype} is not generated (one to the same type is a copy)`, op.index);
  return lowerReshape(sl);
}

/** Transpose. */
export function lowerTranspose(sl: StepLower): Emit {
  const { e, esize, geo, graph, kernels, label, op, stridedCopies, withEpi, x0, y } = sl;
  const x = x0;
  const gx = geo(x);
  const gy = geo(y);
  // Spatial letters follow the permutation (layout.ts), so a transpose between spatial layouts (NCHW ↔ NHWC) is a
  // strided copy through the two views: it runs on a tile like any elementwise operator.
  if (gx.axes && gy.axes && gx.C === gy.C && gx.H === gy.H && gx.W === gy.W && elementCount(gx.shape) === gx.C * gx.H * gx.W) {
    kernels.add('copy');
    return withEpi((a) => [`mm_copy(${gy.C}, ${esize(e)}, ${a.ptr(x)}, ${a.view(x)}, ${a.ptr(y)}, ${a.view(y)}, ${a.box(y)});`]);
  }
  // Otherwise a strided copy of the whole tensor (mm_copy_nd walks it row-major and must not run inside the
  // patch stage, where its output is a tile buffer).
  return stridedCopies(movementCopies(op, graph, label(op), gx.shape, gy.shape, [gx.shape]), () => x);
}

/** Slice, Gather, Pack, Tile, Expand, SpaceToDepth, DepthToSpace. */
export function lowerCopies(sl: StepLower): Emit {
  const { e, fin, geo, graph, izp, label, op, qOf, stored, stridedCopies, x0, y } = sl;
  // Data movement: strided copies (codegen/movement.ts). Values are copied, so int8 needs one quantization.
  const parts = op.kind === 'Pack' ? op.inputs.filter((i) => i >= 0) : [x0];
  for (const x of parts) {
    if (stored(x)) throw new CodegenError(`C export: ${label(op)}: a constant operand is not generated`, op.index);
    if (e !== 'f32' && fin.q) {
      const qx = qOf(x, 'input');
      if (qx.scale !== fin.q!.scale || izp(x, qx) !== fin.zp) throw new CodegenError(`C export: ${label(op)} changes the quantization; not generated`, op.index);
    }
  }
  const copies = movementCopies(op, graph, label(op), geo(x0).shape, geo(y).shape, parts.map((x) => geo(x).shape));
  return stridedCopies(copies, (k) => (op.kind === 'Pack' ? parts[k]! : x0));
}

/** TFLite's RESIZE_BILINEAR (float32 and int8, as TFLM runs them): the sample positions are tables made at export. */
function bilinear(sl: StepLower, r: NonNullable<Op['attrs']['resize']>): Emit {
  const { P, T, addWeights, e, elemOf, fin, geo, izp, kernels, label, layerAccess, op, params, qOf, si, withEpi, x0, y } = sl;
  const x = x0;
  const gx = geo(x);
  const gy = geo(y);
  if (!gx.axes || !gy.axes || gx.C !== gy.C || gx.shape[0] !== gy.shape[0]) throw new CodegenError(`C export: ${label(op)}: only the height and width of a 4-D feature map are resized`, op.index);
  if (r.coord !== 'asymmetric' && r.coord !== 'align_corners' && r.coord !== 'half_pixel') throw new CodegenError(`C export: ${label(op)}: coordinate mode '${r.coord}' is not generated`, op.index);
  if (e !== elemOf(x) || e === 's16' || T(x).dtype === 'uint8') throw new CodegenError(`C export: ${label(op)}: bilinear resizing of ${T(x).dtype} is not generated (float32 and int8 are)`, op.index);
  if (e === 's8') {
    const qx = qOf(x, 'resize input');
    if (qx.scale !== fin.q!.scale || izp(x, qx) !== fin.zp) throw new CodegenError(`C export: ${label(op)}: input and output quantization differ (a requantizing resize is not generated)`, op.index);
  }
  const rows = bilinearAxis(gx.H, gy.H, r, e === 's8');
  const cols = bilinearAxis(gx.W, gy.W, r, e === 's8');
  const tables = [rows.lo, rows.hi, cols.lo, cols.hi].map((v, k) => addWeights(`rb${si}_${k}`, 'int32_t', v));
  const pos = [rows.pos, cols.pos].map((v, k) => addWeights(`rp${si}_${k}`, e === 's8' ? 'int32_t' : 'float', v));
  const k = e === 's8' ? 'resize_bilinear_s8' : 'resize_bilinear_f32';
  kernels.add(k);
  params.push(`static const mm_bilinear_${e}_t ${P} = {${gx.C}, ${tables.join(', ')}, ${pos.join(', ')}};`);
  return withEpi((a) => {
    if (a !== layerAccess) throw new CodegenError(`C export: ${label(op)} inside a patch stage or a line-buffered segment is not generated`, op.index);
    return [`mm_${k}(&${P}, ${a.ptr(x)}, ${a.view(x)}, ${a.ptr(y)}, ${a.view(y)}, ${a.box(y)});`];
  });
}
