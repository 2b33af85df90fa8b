// npm run bench: median load+analyse time per model in ../shared/models (and the bundled example), repeated in one
// process, next to Python's onnx.load + onnx.shape_inference.infer_shapes for the ONNX files (Debian python3-onnx).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzeGraph, describeSchedule, openModel, scheduleContext, searchSchedules } from '../../src/core/index';
import { exampleModel } from '../../src/core/testing/examples';
import { listSharedModels } from '../helpers';

const RUNS = Number(process.env.BENCH_RUNS ?? 21);
const PYTHON = '/usr/bin/python3';

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timeOurs(bytes: Uint8Array, fileName: string): { ms: number; peak: number } {
  let peak = 0;
  for (let i = 0; i < 3; i++) analyzeGraph((openModel(bytes, { fileName }) as { ok: true; value: never }).value); // warm-up
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const r = openModel(bytes, { fileName });
    if (!r.ok) throw new Error(`${fileName}: ${r.error.message}`);
    peak = analyzeGraph(r.value).peakBytes;
    times.push(performance.now() - t0);
  }
  return { ms: median(times), peak };
}

const PY_TIMER = `
import sys, time, statistics, onnx
path, runs = sys.argv[1], int(sys.argv[2])
onnx.shape_inference.infer_shapes(onnx.load(path))
ts = []
for _ in range(runs):
    t0 = time.perf_counter(); onnx.shape_inference.infer_shapes(onnx.load(path)); ts.append((time.perf_counter() - t0) * 1000)
print(statistics.median(ts))
`;

function timePython(file: string): number | null {
  if (!fs.existsSync(PYTHON)) return null;
  const r = spawnSync(PYTHON, ['-c', PY_TIMER, file, String(RUNS)], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  const v = Number(r.stdout.trim());
  return Number.isFinite(v) ? v : null;
}

const rows: string[][] = [['model', 'bytes', 'ops', 'peak B', 'ours ms (median)', 'onnx.load+infer_shapes ms', 'ratio']];
const example = exampleModel('onnx');
const cases: [string, Uint8Array][] = [['(example) tiny_mobilenet.onnx', example], ['(example) tiny_mobilenet.tflite', exampleModel('tflite')]];
for (const f of listSharedModels()) cases.push([path.relative(path.resolve(__dirname, '../../../..', 'shared', 'models'), f), fs.readFileSync(f)]);
let pyMissing = false;
for (const [name, bytes] of cases) {
  const r = openModel(bytes, { fileName: name });
  if (!r.ok) {
    rows.push([name, String(bytes.length), '-', '-', `error: ${r.error.code}`, '', '']);
    continue;
  }
  const ours = timeOurs(bytes, name);
  let py: number | null = null;
  if (name.endsWith('.onnx') && !name.startsWith('(example)')) {
    py = timePython(path.resolve(__dirname, '../../../..', 'shared', 'models', name));
    if (py === null) pyMissing = true;
  }
  rows.push([name, bytes.length.toLocaleString('en-US'), String(r.value.ops.length), ours.peak.toLocaleString('en-US'), ours.ms.toFixed(2), py === null ? '' : py.toFixed(2), py === null ? '' : `${(py / ours.ms).toFixed(1)}× faster`]);
}
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
console.log(`load + analyse (default conventions), median of ${RUNS} runs in one process, Node ${process.version}`);
for (const r of rows) console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(' | '));
if (pyMissing) console.log(`(${PYTHON} with the onnx module not found: apt-get install python3-onnx for the comparison column)`);

// Patch-based schedule search: full search (every split × p, q in 1..8) per model, median of RUNS, and what it finds
// under the paper's conventions (int8, input not counted, depthwise in place, Pad fused), best within +20% MACs.
const SCHEDULE_CONVENTIONS = { asInt8: true, countInput: false, inplaceDepthwise: true, fusePad: true };
const srows: string[][] = [['model', 'splits', 'evaluated', 'search ms (median)', 'per-layer peak B', 'best patch peak B', 'reduction', 'best schedule', '+MACs model', '+MACs stage (uniform)']];
for (const [name, bytes] of cases) {
  const r = openModel(bytes, { fileName: name });
  if (!r.ok) continue;
  const graph = r.value;
  const times: number[] = [];
  let result = searchSchedules(scheduleContext(graph, SCHEDULE_CONVENTIONS));
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    result = searchSchedules(scheduleContext(graph, SCHEDULE_CONVENTIONS));
    times.push(performance.now() - t0);
  }
  const ctx = scheduleContext(graph, SCHEDULE_CONVENTIONS);
  const best = result.best ? describeSchedule(ctx, result.best) : null;
  srows.push([
    name, String(result.validSplits), String(result.evaluated), median(times).toFixed(2), ctx.perLayerPeakBytes.toLocaleString('en-US'),
    best ? best.peakBytes.toLocaleString('en-US') : '-', best ? `${best.reduction.toFixed(1)}×` : '-',
    best ? `#${best.split.index} ${best.split.output.shape?.join('×')} ${best.tiles.join('×')}` : 'layer by layer',
    best ? `+${(best.overhead.modelExact * 100).toFixed(1)}%` : '', best ? `+${(best.overhead.stageExact * 100).toFixed(1)}% (+${(best.overhead.stageUniform * 100).toFixed(1)}%)` : '',
  ]);
}
const swidths = srows[0]!.map((_, c) => Math.max(...srows.map((r) => r[c]!.length)));
console.log(`\npatch-based schedule search (--as-int8 --no-input --inplace-dw --fuse-pad; best within +20% MACs), median of ${RUNS} runs`);
for (const r of srows) console.log(r.map((cell, c) => (c === 0 || c === 7 ? cell.padEnd(swidths[c]!) : cell.padStart(swidths[c]!))).join(' | '));
