// Fixtures for the scheduler tests, built in both formats, and a tiny float interpreter that runs a patch stage
// whole or tile by tile on the exact regions the scheduler derives.
import { OnnxBuilder } from '../../src/core/testing/onnx-builder';
import { TfliteBuilder } from '../../src/core/testing/tflite-builder';
import { regionRules, spatialAxes, tileRegions, type Graph, type Op, type ScheduleContext } from '../../src/core/index';
import { rowsNeeded } from '../../src/core/schedule/stream';
import { scheduleBands } from '../../src/core/index';

/**
 * A stage with stride 2, a dilated convolution, a depthwise branch joined by a concat, an asymmetric Pad, a valid
 * (unpadded) stride-2 conv, a max pool and a residual Add, on a non-square odd-sized input; then a global pool that
 * no tile can run. ONNX, NCHW.
 */
export function branchyOnnx(): Uint8Array {
  const b = new OnnxBuilder(13);
  const x = b.input('x', [1, 3, 33, 29]);
  const c1 = b.op('Relu', [b.conv(x, 3, 8, 3, { stride: 2 })]);          // 17×15
  const c2 = b.conv(c1, 8, 8, 3, { dilation: 2 });                        // 17×15, dilated
  const d1 = b.conv(c1, 8, 8, 3, { group: 8 });                           // depthwise
  const cat = b.op('Concat', [c2, d1], { axis: 1 });                     // 16 channels
  const pads = b.init('pads', [8], 'int64', [0, 0, 1, 0, 0, 0, 0, 1]);    // top 1, right 1
  const padded = b.op('Pad', [cat, pads]);                                // 18×16
  const c3 = b.conv(padded, 16, 8, 3, { stride: 2, pad: 0 });            // valid: 8×7
  const mp = b.op('MaxPool', [c3], { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1] });
  const add = b.op('Add', [mp, c3]);
  const c4 = b.conv(add, 8, 4, 1);                                        // stage output candidate 8×7×4
  const c5 = b.conv(c4, 4, 4, 3);
  const gap = b.op('GlobalAveragePool', [c5]);
  b.output(gap, [1, 4, 1, 1]);
  return b.build();
}

/** A channel Split inside the streamable part (ShuffleNet's pattern): one part passes, the other goes through a
 *  depthwise convolution, a Concat joins them. For the C export's tests: the Split runs on tiles and rows. */
export function splitChannelsOnnx(): Uint8Array {
  const b = new OnnxBuilder(13);
  const x = b.input('x', [1, 3, 31, 27]);
  const c1 = b.op('Relu', [b.conv(x, 3, 8, 3, { stride: 2 })]);                   // 16×14×8
  const sizes = b.init('sizes', [2], 'int64', [3, 5]);
  const [l, r] = b.node('Split', [c1, sizes], { axis: 1 }, 2) as [string, string];
  const r2 = b.op('Relu', [b.conv(r, 5, 5, 3, { group: 5 })]);
  const cat = b.op('Concat', [l, r2], { axis: 1 });
  const c2 = b.conv(cat, 8, 8, 3, { stride: 2 });
  const gap = b.op('GlobalAveragePool', [c2]);
  b.output(gap, [1, 8, 1, 1]);
  return b.build();
}

/**
 * MobileNetV2's pattern (issue 13's fused blocks): inverted residuals (1×1 expansion, Clip 0..6, 3×3 depthwise, Clip,
 * 1×1 projection), one stride 1 with its residual Add, one stride 2 on an odd map, one with a 5×5 window and the skip
 * as the Add's first operand; then a 1×1
 * convolution whose output only a global average pooling reads (the channel-wise tail). ONNX, NCHW, float.
 */
export function invertedOnnx(): Uint8Array {
  const b = new OnnxBuilder(13);
  const x = b.input('x', [1, 3, 23, 19]);
  const clip = (t: string): string => b.op('Clip', [t, b.init(`lo${t}`, [], 'float32', [0]), b.init(`hi${t}`, [], 'float32', [6])]);
  const block = (t: string, cin: number, cexp: number, cout: number, k: number, stride: number): string => {
    const e = clip(b.conv(t, cin, cexp, 1));
    const d = clip(b.conv(e, cexp, cexp, k, { group: cexp, stride }));
    return b.conv(d, cexp, cout, 1);
  };
  const c0 = clip(b.conv(x, 3, 8, 3, { stride: 1 }));                   // 23×19×8
  const r1 = b.op('Add', [block(c0, 8, 24, 8, 3, 1), c0]);             // residual, stride 1
  const s2 = block(r1, 8, 24, 12, 3, 2);                                // 12×10×12
  const k5 = b.op('Add', [s2, block(s2, 12, 36, 12, 5, 1)]);           // 5×5 window, residual (the skip first)
  const head = clip(b.conv(k5, 12, 40, 1));                             // 1×1 head
  const gap = b.op('GlobalAveragePool', [head]);
  b.output(gap, [1, 40, 1, 1]);
  return b.build();
}

/**
 * A chain in TFLite (NHWC) and ONNX (NCHW) with the same geometry: every stride-2 layer gets an odd input size, so
 * TF's SAME padding is symmetric like ONNX's explicit pads. `end`: a global average (the interpreter's) or a max over
 * H and W (ONNX ReduceMax, TFLite REDUCE_MAX; for the C export's tests, which compare exports with each other).
 */
export function chain(format: 'onnx' | 'tflite', end: 'mean' | 'max' = 'mean'): Uint8Array {
  const layers: { cout: number; k: number; s: number; dw?: boolean; dil?: number }[] = [
    { cout: 8, k: 3, s: 2 }, { cout: 8, k: 3, s: 1, dw: true }, { cout: 16, k: 1, s: 1 },
    { cout: 16, k: 5, s: 2, dw: true }, { cout: 8, k: 1, s: 1 }, { cout: 8, k: 3, s: 1, dil: 2 }, { cout: 8, k: 3, s: 2 },
  ];
  const H = 49, W = 41; // stride-2 inputs: 49, 25, 13 and 41, 21, 11
  if (format === 'onnx') {
    const b = new OnnxBuilder(13);
    let x = b.input('x', [1, 3, H, W]);
    let c = 3;
    for (const l of layers) {
      x = b.op('Relu', [b.conv(x, c, l.cout, l.k, { stride: l.s, group: l.dw ? c : 1, dilation: l.dil ?? 1 })]);
      c = l.cout;
    }
    const gap = end === 'max' ? b.op('ReduceMax', [x], { axes: [2, 3], keepdims: 1 }) : b.op('GlobalAveragePool', [x]);
    b.output(gap, [1, c, 1, 1]);
    return b.build();
  }
  const b = new TfliteBuilder();
  let h = H, w = W, c = 3;
  let x = b.tensor('x', [1, h, w, c], 'float32');
  b.inputs = [x];
  layers.forEach((l, i) => {
    h = Math.ceil(h / l.s); w = Math.ceil(w / l.s);
    const y = b.tensor(`t${i}`, [1, h, w, l.cout], 'float32');
    if (l.dw) b.depthwise(x, y, c, l.k, l.s, 0, 1);
    else {
      const wt = b.constant(`t${i}/w`, [l.cout, l.k, l.k, c], 'float32');
      const bias = b.constant(`t${i}/b`, [l.cout], 'float32');
      b.op('CONV_2D', [x, wt, bias], [y], [[0, 'int8', 0], [1, 'int32', l.s], [2, 'int32', l.s], [3, 'int8', 1], [4, 'int32', l.dil ?? 1], [5, 'int32', l.dil ?? 1]]);
    }
    x = y;
    c = l.cout;
  });
  const axes = b.constant('axes', [2], 'int32', [1, 2]);
  const out = b.tensor('gap', [1, 1, 1, c], 'float32');
  b.op(end === 'max' ? 'REDUCE_MAX' : 'MEAN', [x, axes], [out], [[0, 'bool', 1]]);
  b.outputs = [out];
  return b.build();
}

/** A tensor region held by the interpreter: channels × rows × columns starting at (h0, w0). */
export interface Region {
  h0: number;
  w0: number;
  hn: number;
  wn: number;
  c: number;
  data: Float64Array;
}

function dimsOf(graph: Graph, t: number): { H: number; W: number; C: number } {
  const tensor = graph.tensors[t]!;
  const ax = spatialAxes(tensor.layout);
  // No spatial layout (a pooled vector): one pixel of every element.
  if (!ax) return { H: 1, W: 1, C: tensor.shape!.reduce((a, b) => a * b, 1) };
  return { H: tensor.shape![ax.h]!, W: tensor.shape![ax.w]!, C: tensor.shape![ax.c]! };
}

/** Deterministic weights: the interpreter proves regions, so any fixed values do (dyadic, so sums are exact). */
const weight = (op: number, o: number, i: number, ky: number, kx: number): number => ((((op * 31 + o * 17 + i * 13 + ky * 7 + kx * 3) % 11) + 11) % 11 - 5) / 8;

export class MissingPixel extends Error {}

function read(r: Region, ch: number, y: number, x: number): number {
  if (y < r.h0 || y >= r.h0 + r.hn || x < r.w0 || x >= r.w0 + r.wn) throw new MissingPixel(`pixel (${y}, ${x}) is inside the image but not in the region [${r.h0}, ${r.h0 + r.hn}) × [${r.w0}, ${r.w0 + r.wn})`);
  return r.data[(ch * r.hn + (y - r.h0)) * r.wn + (x - r.w0)]!;
}

function activate(op: Op, v: number): number {
  const a = op.attrs.fusedActivation ?? (op.kind === 'Activation' ? op.attrs.activation : undefined);
  if (a === 'relu') return Math.max(0, v);
  if (a === 'relu6') return Math.min(6, Math.max(0, v));
  return v;
}

/** Runs one file operator over `out` (rows [h0,h1), cols [w0,w1)) of its output. */
export function runOp(graph: Graph, op: Op, env: Map<number, Region>, out: { h: [number, number]; w: [number, number] }): Region {
  const y = op.outputs[0]!;
  const { C } = dimsOf(graph, y);
  const r: Region = { h0: out.h[0], w0: out.w[0], hn: out.h[1] - out.h[0], wn: out.w[1] - out.w[0], c: C, data: new Float64Array(0) };
  r.data = new Float64Array(r.c * r.hn * r.wn);
  const xin = env.get(op.inputs[0]!)!;
  const xd = dimsOf(graph, op.inputs[0]!);
  const set = (ch: number, yy: number, xx: number, v: number): void => { r.data[(ch * r.hn + yy) * r.wn + xx] = activate(op, v); };
  for (let ch = 0; ch < C; ch++) {
    for (let yy = 0; yy < r.hn; yy++) {
      for (let xx = 0; xx < r.wn; xx++) {
        const oy = r.h0 + yy, ox = r.w0 + xx;
        switch (op.kind) {
          case 'Conv2D': case 'DepthwiseConv2D': case 'MaxPool2D': {
            const sp = op.attrs.spatial!;
            const [kh, kw] = sp.kernel!;
            const g = op.kind === 'MaxPool2D' ? xd.C : op.attrs.group ?? 1;
            const cinPerGroup = op.kind === 'MaxPool2D' ? 1 : xd.C / g;
            const group = op.kind === 'MaxPool2D' ? ch : Math.floor(ch / (C / g));
            let acc = op.kind === 'MaxPool2D' ? -Infinity : weight(op.index, ch, -1, 0, 0);
            for (let i = 0; i < cinPerGroup; i++) {
              const ic = group * cinPerGroup + i;
              for (let ky = 0; ky < kh; ky++) {
                const iy = oy * sp.strides[0] - sp.pads[0] + ky * sp.dilations[0];
                if (iy < 0 || iy >= xd.H) continue;
                for (let kx = 0; kx < kw; kx++) {
                  const ix = ox * sp.strides[1] - sp.pads[1] + kx * sp.dilations[1];
                  if (ix < 0 || ix >= xd.W) continue;
                  const v = read(xin, ic, iy, ix);
                  acc = op.kind === 'MaxPool2D' ? Math.max(acc, v) : acc + v * weight(op.index, ch, i, ky, kx);
                }
              }
            }
            set(ch, yy, xx, acc);
            break;
          }
          case 'Activation':
            set(ch, yy, xx, read(xin, ch, oy, ox));
            break;
          case 'GlobalAvgPool': case 'Reduce': {
            // Global average pooling, or a mean over H and W (TFLite MEAN).
            let acc = 0;
            for (let iy = 0; iy < xd.H; iy++) for (let ix = 0; ix < xd.W; ix++) acc += read(xin, ch, iy, ix);
            set(ch, yy, xx, acc / (xd.H * xd.W));
            break;
          }
          case 'Add':
            set(ch, yy, xx, read(xin, ch, oy, ox) + read(env.get(op.inputs[1]!)!, ch, oy, ox));
            break;
          case 'Concat': {
            let base = 0;
            for (const t of op.inputs) {
              const c = dimsOf(graph, t).C;
              if (ch < base + c) { set(ch, yy, xx, read(env.get(t)!, ch - base, oy, ox)); break; }
              base += c;
            }
            break;
          }
          case 'Pad': {
            const ax = spatialAxes(graph.tensors[op.inputs[0]!]!.layout)!;
            const iy = oy - op.attrs.padAmounts![ax.h]!, ix = ox - op.attrs.padAmounts![ax.w]!;
            set(ch, yy, xx, iy < 0 || iy >= xd.H || ix < 0 || ix >= xd.W ? 0 : read(xin, ch, iy, ix));
            break;
          }
          default:
            throw new Error(`interpreter: ${op.kind} not implemented`);
        }
      }
    }
  }
  return r;
}

export function inputRegion(graph: Graph, t: number): Region {
  const { H, W, C } = dimsOf(graph, t);
  const data = new Float64Array(C * H * W).map((_, i) => ((i * 37) % 23) / 4 - 2);
  return { h0: 0, w0: 0, hn: H, wn: W, c: C, data };
}

/** The stage's file operators in file order. */
function stageOps(ctx: ScheduleContext, split: number): Op[] {
  const ids = new Set(ctx.plan.steps.slice(0, split + 1).flatMap((s) => s.ops));
  return ctx.graph.ops.filter((o) => ids.has(o.index));
}

/** Runs the stage on the whole image; returns the stage output. */
export function runWhole(ctx: ScheduleContext, split: number, output: number): Region {
  const { graph } = ctx;
  const env = new Map<number, Region>();
  for (const t of graph.inputs) env.set(t, inputRegion(graph, t));
  for (const op of stageOps(ctx, split)) {
    const { H, W } = dimsOf(graph, op.outputs[0]!);
    env.set(op.outputs[0]!, runOp(graph, op, env, { h: [0, H], w: [0, W] }));
  }
  return env.get(output)!;
}

/**
 * Runs the stage tile by tile, each tile on exactly the regions the scheduler derived (reading a pixel outside them
 * throws MissingPixel); assembles the stage output and counts how often each element was written.
 */
export function runTiled(ctx: ScheduleContext, split: number, p: number, q: number): { output: Region; writes: Uint8Array } {
  const { graph } = ctx;
  const { stage, rows, cols } = scheduleBands(ctx, split, p, q);
  const O = stage.output;
  const full = inputRegion(graph, O); // shape only; overwritten
  full.data.fill(NaN);
  const writes = new Uint8Array(full.data.length);
  for (const r of rows) {
    for (const c of cols) {
      const regions = new Map(tileRegions(stage, r, c).map((x) => [x.tensor, x]));
      const env = new Map<number, Region>();
      for (const t of graph.inputs) {
        const whole = inputRegion(graph, t);
        const reg = regions.get(t);
        if (!reg) continue;
        // Copy only the region: the tile must not see more of the input than the scheduler says it needs.
        const part: Region = { h0: reg.h[0], w0: reg.w[0], hn: reg.h[1] - reg.h[0], wn: reg.w[1] - reg.w[0], c: whole.c, data: new Float64Array(0) };
        part.data = new Float64Array(part.c * part.hn * part.wn);
        for (let ch = 0; ch < part.c; ch++) for (let y = 0; y < part.hn; y++) for (let x = 0; x < part.wn; x++) part.data[(ch * part.hn + y) * part.wn + x] = read(whole, ch, part.h0 + y, part.w0 + x);
        env.set(t, part);
      }
      for (const op of stageOps(ctx, split)) {
        const reg = regions.get(op.outputs[0]!);
        if (!reg) continue;
        env.set(op.outputs[0]!, runOp(graph, op, env, reg));
      }
      const o = env.get(O)!;
      for (let ch = 0; ch < o.c; ch++) {
        for (let y = 0; y < o.hn; y++) {
          for (let x = 0; x < o.wn; x++) {
            const at = (ch * full.hn + o.h0 + y) * full.wn + o.w0 + x;
            full.data[at] = o.data[(ch * o.hn + y) * o.wn + x]!;
            writes[at]!++;
          }
        }
      }
    }
  }
  return { output: full, writes };
}

/**
 * Runs the steps before `seg` whole, then the segment row by row in the order the stream scheduler gives, every tensor
 * it produces that does not stay whole held in a ring of `ringRows` rows (row r in slot r mod rows; a row pushed out
 * and read again throws MissingPixel). Returns the whole tensors the segment produces.
 */
export function runStreamed(ctx: ScheduleContext, seg: { first: number; last: number }, events: readonly { op: number; row: number }[], ringRows: ReadonlyMap<number, number>, fusedAway: ReadonlySet<number> = new Set()): Map<number, Region> {
  const { graph } = ctx;
  const env = new Map<number, Region>();
  for (const t of graph.inputs) env.set(t, inputRegion(graph, t));
  const before = new Set(ctx.plan.steps.slice(0, seg.first).flatMap((s) => s.ops));
  for (const op of graph.ops.filter((o) => before.has(o.index))) {
    const { H, W } = dimsOf(graph, op.outputs[0]!);
    env.set(op.outputs[0]!, runOp(graph, op, env, { h: [0, H], w: [0, W] }));
  }
  // Storage of the segment's tensors: rings (slot → row held) or whole (rows written so far).
  const rings = new Map<number, { rows: number; slots: (Float64Array | null)[]; tags: number[]; last: number }>();
  const wholes = new Map<number, { region: Region; written: Set<number> }>();
  const storeOf = (t: number): void => {
    if (rings.has(t) || wholes.has(t)) return;
    const { H, W, C } = dimsOf(graph, t);
    const rows = ringRows.get(t);
    if (rows !== undefined) rings.set(t, { rows, slots: new Array(rows).fill(null), tags: new Array(rows).fill(-1), last: -1 });
    else wholes.set(t, { region: { h0: 0, w0: 0, hn: H, wn: W, c: C, data: new Float64Array(C * H * W).fill(NaN) }, written: new Set() });
  };
  /** What an operator may read of tensor t now: the whole tensor, the rows written, or the rows its ring holds. */
  const view = (t: number): Region | undefined => {
    const ring = rings.get(t);
    const whole = wholes.get(t);
    if (!ring && !whole) return env.get(t);
    const { H, W, C } = dimsOf(graph, t);
    if (whole) {
      const held = [...whole.written].sort((a, b) => a - b);
      if (held.length === 0) return { h0: 0, w0: 0, hn: 0, wn: W, c: C, data: new Float64Array(0) };
      const h0 = held[0]!;
      const hn = held[held.length - 1]! - h0 + 1;
      if (hn !== held.length) throw new Error('rows of a whole tensor written out of order');
      const r: Region = { h0, w0: 0, hn, wn: W, c: C, data: new Float64Array(C * hn * W) };
      for (let ch = 0; ch < C; ch++) for (let y = 0; y < hn; y++) for (let x = 0; x < W; x++) r.data[(ch * hn + y) * W + x] = whole.region.data[(ch * H + h0 + y) * W + x]!;
      return r;
    }
    const g = ring!;
    if (g.last < 0) return { h0: 0, w0: 0, hn: 0, wn: W, c: C, data: new Float64Array(0) };
    const h0 = Math.max(0, g.last - g.rows + 1);
    const hn = g.last - h0 + 1;
    const r: Region = { h0, w0: 0, hn, wn: W, c: C, data: new Float64Array(C * hn * W) };
    for (let y = h0; y <= g.last; y++) {
      const slot = y % g.rows;
      if (g.tags[slot] !== y) throw new MissingPixel(`ring of '${graph.tensors[t]!.name}' does not hold row ${y}`);
      const row = g.slots[slot]!;
      for (let ch = 0; ch < C; ch++) for (let x = 0; x < W; x++) r.data[(ch * hn + (y - h0)) * W + x] = row[ch * W + x]!;
    }
    return r;
  };
  // Tensors of a fused step that the plan never stores (virtual): not kept at all; the rows a reader needs are
  // recomputed from their producer's inputs when read.
  const segOps = new Set(ctx.plan.steps.slice(seg.first, seg.last + 1).flatMap((s) => s.ops));
  const producerOf = new Map<number, Op>();
  for (const o of graph.ops) if (segOps.has(o.index)) for (const t of o.outputs) producerOf.set(t, o);
  const isVirtual = (t: number): boolean => producerOf.has(t) && ringRows.has(t) && ((ctx.plan.bufferOf[t] ?? -1) < 0 || fusedAway.has(t));
  const inputsOf = (op: Op, row: number): Map<number, Region> => {
    const local = new Map<number, Region>();
    const rules = regionRules(graph, op);
    if ('reason' in rules) throw new Error(rules.reason);
    for (const { tensor: x, rule } of rules.inputs) {
      if (isVirtual(x)) {
        const { H, W, C } = dimsOf(graph, x);
        const [lo, hi] = rowsNeeded(rule, row, H);
        const p = producerOf.get(x)!;
        if (hi <= lo) { local.set(x, { h0: lo, w0: 0, hn: 0, wn: W, c: C, data: new Float64Array(0) }); continue; }
        // Recompute rows [lo, hi) of x one by one from what its inputs hold now.
        const r: Region = { h0: lo, w0: 0, hn: hi - lo, wn: W, c: C, data: new Float64Array(C * (hi - lo) * W) };
        for (let y = lo; y < hi; y++) {
          const one = runOp(graph, p, inputsOf(p, y), { h: [y, y + 1], w: [0, W] });
          for (let ch = 0; ch < C; ch++) for (let xx = 0; xx < W; xx++) r.data[(ch * r.hn + (y - lo)) * W + xx] = one.data[ch * W + xx]!;
        }
        local.set(x, r);
        continue;
      }
      const v = view(x);
      if (v) local.set(x, v);
    }
    return local;
  };
  // Accumulating operators (global pooling): an event reads one input row into the sums; the last writes the output.
  const sums = new Map<number, Float64Array>();
  for (const { op: oi, row } of events) {
    const op = graph.ops[oi]!;
    const y = op.outputs[0]!;
    if (op.kind === 'GlobalAvgPool' || op.kind === 'Reduce') {
      const x = op.inputs[0]!;
      const { H, W, C } = dimsOf(graph, x);
      const v = view(x)!;
      const acc = sums.get(oi) ?? new Float64Array(C);
      for (let ch = 0; ch < C; ch++) for (let xx = 0; xx < W; xx++) acc[ch]! += read(v, ch, row, xx);
      sums.set(oi, acc);
      if (row === H - 1) {
        storeOf(y);
        const w = wholes.get(y)!;
        for (let ch = 0; ch < C; ch++) w.region.data[ch] = acc[ch]! / (H * W);
        w.written.add(0);
      }
      continue;
    }
    if (isVirtual(y)) continue; // computed when read
    const local = inputsOf(op, row);
    storeOf(y);
    const { W, C } = dimsOf(graph, y);
    const out = runOp(graph, op, local, { h: [row, row + 1], w: [0, W] });
    const ring = rings.get(y);
    if (ring) {
      const slot = row % ring.rows;
      ring.slots[slot] = Float64Array.from({ length: C * W }, (_, i) => out.data[i]!);
      ring.tags[slot] = row;
      ring.last = row;
    } else {
      const w = wholes.get(y)!;
      const { H } = dimsOf(graph, y);
      for (let ch = 0; ch < C; ch++) for (let x = 0; x < W; x++) w.region.data[(ch * H + row) * W + x] = out.data[ch * W + x]!;
      w.written.add(row);
    }
  }
  return new Map([...wholes].map(([t, w]) => [t, w.region]));
}

/** Runs every file operator whole; the environment of all tensors. */
export function runAllWhole(ctx: ScheduleContext, upto: number): Map<number, Region> {
  const { graph } = ctx;
  const env = new Map<number, Region>();
  for (const t of graph.inputs) env.set(t, inputRegion(graph, t));
  const ids = new Set(ctx.plan.steps.slice(0, upto + 1).flatMap((s) => s.ops));
  for (const op of graph.ops.filter((o) => ids.has(o.index))) {
    const { H, W } = dimsOf(graph, op.outputs[0]!);
    env.set(op.outputs[0]!, runOp(graph, op, env, { h: [0, H], w: [0, W] }));
  }
  return env;
}
