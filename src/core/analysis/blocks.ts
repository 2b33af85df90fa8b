// Blocks for charts: residual blocks (a join step whose operands come from a step further back), else runs of
// steps between feature-map resolution changes.
import type { Graph } from '../graph';
import { spatialAxes } from '../graph';
import type { ExecPlan } from './steps';

export interface Block {
  index: number;
  name: string;
  kind: 'residual' | 'stage';
  firstStep: number;
  lastStep: number;
}

export function findBlocks(graph: Graph, plan: ExecPlan): Block[] {
  const n = plan.steps.length;
  const producer = new Map<number, number>();
  plan.steps.forEach((s, i) => s.outputs.forEach((t) => producer.set(t, i)));
  // Residual ranges: a step reading two or more activations, one of them produced more than one step back.
  const ranges: [number, number][] = [];
  plan.steps.forEach((s, i) => {
    if (s.inputs.length < 2) return;
    const from = Math.min(...s.inputs.map((t) => producer.get(t) ?? -1));
    if (from < i - 1) ranges.push([from + 1, i]);
  });
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  // A residual range that covers most of a long model (global skip) says nothing per block: drop it.
  const residual = merged.filter(([a, b]) => n < 8 || b - a + 1 <= n / 2);

  const resolution = (i: number): string => {
    for (const t of plan.steps[i]!.outputs) {
      const tensor = graph.tensors[t]!;
      const ax = spatialAxes(tensor.layout);
      if (ax && tensor.shape) return `${tensor.shape[ax.h]}×${tensor.shape[ax.w]}`;
    }
    return '';
  };
  const blocks: Block[] = [];
  const push = (kind: Block['kind'], a: number, b: number): void => {
    const res = resolution(b) || resolution(a);
    const label = kind === 'residual' ? 'residual block' : res ? 'stage' : 'head';
    blocks.push({ index: blocks.length, name: `${label}${res ? ` ${res}` : ''} (#${a}–#${b})`, kind, firstStep: a, lastStep: b });
  };
  let i = 0;
  let r = 0;
  while (i < n) {
    const next = residual[r];
    if (next && next[0] === i) {
      push('residual', next[0], next[1]);
      i = next[1] + 1;
      r++;
      continue;
    }
    const stop = next ? next[0] : n;
    let j = i;
    const res = resolution(i);
    while (j + 1 < stop && (resolution(j + 1) === res || resolution(j + 1) === '')) j++;
    push('stage', i, j);
    i = j + 1;
  }
  return blocks;
}
