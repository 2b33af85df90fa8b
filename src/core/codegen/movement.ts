// Lowering of the data-movement operators (Transpose, Slice/STRIDED_SLICE, Gather with constant indices, Pack, Tile, Expand and
// BROADCAST_TO, SpaceToDepth/DepthToSpace; Split/SPLIT/SPLIT_V and Unpack, one copy per output): each is a list of strided copies, y[i0..] = x[...] with, per copy, a base
// element in x and y, the dimensions walked, and the input's and output's element strides per dimension (mm_copy_nd,
// up to 6 dimensions). Pure: shapes and attributes in, copy descriptions out; program.ts emits them.
import type { Graph, Op } from '../graph';
import { elementCount } from '../graph';
import { InferError, resolveSlice } from '../analysis/ops';
import { CodegenError } from './errors';

export interface StridedCopy {
  xBase: number;
  yBase: number;
  dims: number[];
  xStrides: number[];
  yStrides: number[];
}

const MAX_RANK = 6;

export function rowMajorStrides(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) st[i] = st[i + 1]! * shape[i + 1]!;
  return st;
}

/** A copy whose output is written whole and contiguously, row-major over `dims`. */
function contiguous(dims: number[], xStrides: number[], xBase = 0, yBase = 0): StridedCopy {
  return { xBase, yBase, dims, xStrides, yStrides: rowMajorStrides(dims) };
}

/** The copies that compute `op` from its data input shapes `xs` (first input) to output shape `ys`. */
export function movementCopies(op: Op, graph: Graph, label: string, xs: readonly number[], ys: readonly number[], inputShapes: readonly (readonly number[])[]): StridedCopy[] {
  const st = rowMajorStrides(xs);
  const fail = (why: string): never => {
    throw new CodegenError(`C export: ${label}: ${why}`, op.index);
  };
  const copies = ((): StridedCopy[] => {
    switch (op.kind) {
      case 'Slice': {
        let r: ReturnType<typeof resolveSlice>;
        try {
          r = resolveSlice(op, graph, [...xs]);
        } catch (e) {
          if (e instanceof InferError) fail(e.message);
          throw e;
        }
        if (!r) return fail('slice bounds computed at run time');
        return [contiguous(r.axes.map((a) => a.count), r.axes.map((a, i) => a.step * st[i]!), r.axes.reduce((s, a, i) => s + a.start * st[i]!, 0))];
      }
      case 'Gather': {
        const idx = graph.tensors[op.inputs[1] ?? -1]?.values;
        if (!idx) return fail('gather indices computed at run time (or too many to read)');
        const rank = xs.length;
        const axis = ((op.attrs.axis ?? 0) + rank) % rank;
        const n = xs[axis]!;
        const outer = elementCount(xs.slice(0, axis));
        const inner = elementCount(xs.slice(axis + 1));
        return idx.map((raw, j) => {
          const i = raw < 0 ? raw + n : raw;
          if (!Number.isInteger(i) || i < 0 || i >= n) fail(`index ${raw} is outside axis ${axis} of size ${n}`);
          return { xBase: i * inner, yBase: j * inner, dims: [outer, inner], xStrides: [n * inner, 1], yStrides: [idx.length * inner, 1] };
        });
      }
      case 'Pack': {
        const rank = ys.length;
        const axis = ((op.attrs.axis ?? 0) + rank) % rank;
        const count = inputShapes.length;
        const outer = elementCount(ys.slice(0, axis));
        const inner = elementCount(ys.slice(axis + 1));
        return inputShapes.map((_, k) => ({ xBase: 0, yBase: k * inner, dims: [outer, inner], xStrides: [inner, 1], yStrides: [count * inner, 1] }));
      }
      case 'Transpose': {
        // y[i0..] = x at the permuted index: the output's dims are the input's in perm order, read with its strides.
        const perm = op.attrs.perm ?? xs.map((_, i) => xs.length - 1 - i);
        return [contiguous(perm.map((p) => xs[p]!), perm.map((p) => st[p]!))];
      }
      case 'Expand': {
        // Broadcast: an input axis of size 1 (or a missing leading axis) is read with stride 0.
        const lead = ys.length - xs.length;
        return [contiguous([...ys], ys.map((_, i) => (i < lead || xs[i - lead] === 1 ? 0 : st[i - lead]!)))];
      }
      case 'Tile': {
        // y[j·d + i] = x[i] per axis: walk (j, i) pairs, j with stride 0.
        // Axes without repeats walk once.
        const rep = (i: number): boolean => ys[i]! !== xs[i]!;
        return [contiguous(xs.flatMap((d, i) => (rep(i) ? [ys[i]! / d, d] : [d])), xs.flatMap((_, i) => (rep(i) ? [0, st[i]!] : [st[i]!])))];
      }
      case 'SpaceToDepth': case 'DepthToSpace': {
        const b = op.attrs.blockSize ?? 0;
        if (xs.length !== 4 || b <= 0) return fail('needs a 4-D input and a block size');
        const toDepth = op.kind === 'SpaceToDepth';
        if (op.attrs.layout === 'NHWC') {
          const [N, H, W, C] = xs as [number, number, number, number];
          if (toDepth) return [contiguous([N, H / b, W / b, b, b, C], [H * W * C, b * W * C, b * C, W * C, C, 1])];
          const c = C / (b * b);
          return [contiguous([N, H, b, W, b, c], [H * W * C, W * C, b * c, C, c, 1])];
        }
        const [N, C, H, W] = xs as [number, number, number, number];
        if (toDepth) return [contiguous([N, b, b, C, H / b, W / b], [C * H * W, W, 1, H * W, b * W, b])];
        const c = C / (b * b);
        if (op.attrs.depthMode === 'CRD') return [contiguous([N, c, H, b, W, b], [C * H * W, b * b * H * W, W, b * H * W, 1, H * W])];
        return [contiguous([N, c, H, b, W, b], [C * H * W, H * W, W, b * c * H * W, 1, c * H * W])];
      }
      default:
        return fail('not a data-movement operator');
    }
  })();
  for (const c of copies) if (c.dims.length > MAX_RANK) fail(`${c.dims.length} dimensions to walk (up to ${MAX_RANK} are generated)`);
  const total = copies.reduce((s, c) => s + elementCount(c.dims), 0);
  if (op.kind !== 'Gather' && total !== elementCount(ys)) fail(`the copies write ${total} of ${elementCount(ys)} output elements`);
  return copies;
}

/** Split (ONNX Split, TFLite SPLIT/SPLIT_V) and Unpack: output k is the input's k-th part along one axis (Unpack drops
 *  that axis). The axis is where the outputs' shapes differ from the input's (Unpack: its `axis`). */
export function splitParts(op: Op, label: string, xs: readonly number[], outShapes: readonly (readonly number[])[]): { axis: number; parts: { start: number; copy: StridedCopy }[] } {
  const st = rowMajorStrides(xs);
  const rank = xs.length;
  if (rank > MAX_RANK) throw new CodegenError(`C export: ${label}: rank ${rank} (at most ${MAX_RANK} generated)`, op.index);
  const unpack = op.kind === 'Unpack';
  const axis = unpack ? (((op.attrs.axis ?? 0) % rank) + rank) % rank : Math.max(0, xs.findIndex((d, i) => outShapes.some((s) => s[i] !== d)));
  let start = 0;
  const parts = outShapes.map((s) => {
    const size = unpack ? 1 : s[axis]!;
    const counts = xs.map((d, i) => (i === axis ? size : d));
    if (!unpack && (s.length !== rank || s.some((d, i) => d !== counts[i]))) throw new CodegenError(`C export: ${label}: output ${s.join('×')} is not a part of ${xs.join('×')} along one axis`, op.index);
    if (unpack && elementCount(s) !== elementCount(counts)) throw new CodegenError(`C export: ${label}: output ${s.join('×')} is not one slice of ${xs.join('×')}`, op.index);
    const part = { start, copy: contiguous(counts, st, start * st[axis]!) };
    start += size;
    return part;
  });
  if (start !== xs[axis]) throw new CodegenError(`C export: ${label}: the outputs cover ${start} of the ${xs[axis]} along axis ${axis}`, op.index);
  return { axis, parts };
}
