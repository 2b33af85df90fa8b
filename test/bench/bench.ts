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

// Large graphs (issue 12): open + analyse + schedule search on generated graphs of 10k–100k operators, where the
// planner, the topological sort and Identity lookups used to be quadratic. Median of 3 runs.
{
  const { OnnxBuilder } = require('../../src/core/testing/onnx-builder') as typeof import('../../src/core/testing/onnx-builder');
  const { onnx } = require('onnx-proto') as typeof import('onnx-proto');
  const chain = (n: number, op: string): Uint8Array => {
    const b = new OnnxBuilder(13);
    let x = b.input('x', [1, 4]);
    for (let i = 0; i < n; i++) x = b.op(op, [x]);
    b.output(x);
    return b.build();
  };
  const unsorted = (n: number): Uint8Array => {
    const node = Array.from({ length: n }, (_, i) => ({ opType: 'Relu', input: [i === 0 ? 'x' : `t${i - 1}`], output: [`t${i}`], name: `n${i}` })).reverse();
    const vi = (name: string): object => ({ name, type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }, { dimValue: 4 }] } } } });
    return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], graph: { name: 'g', node, input: [vi('x')], output: [vi(`t${n - 1}`)] } })).finish();
  };
  const wide = (n: number): Uint8Array => {
    const b = new OnnxBuilder(13);
    const x = b.input('x', [1, 4]);
    b.output(b.op('Concat', Array.from({ length: n }, () => b.op('Relu', [x])), { axis: 1 }));
    return b.build();
  };
  const big: [string, Uint8Array][] = [
    ['chain of 10,000 Relu', chain(10_000, 'Relu')], ['chain of 100,000 Relu', chain(100_000, 'Relu')],
    ['50,000 nodes in reverse order', unsorted(50_000)], ['chain of 20,000 Identity', chain(20_000, 'Identity')],
    ['10,000 parallel Relu into one Concat', wide(10_000)], ['100,000 parallel Relu into one Concat', wide(100_000)],
  ];
  const lrows: string[][] = [['graph', 'bytes', 'open ms', 'analyse ms', 'schedule search ms']];
  for (const [name, bytes] of big) {
    const t = { open: [] as number[], analyse: [] as number[], search: [] as number[] };
    for (let i = 0; i < 3; i++) {
      let t0 = performance.now();
      const r = openModel(bytes, { fileName: 'big.onnx' });
      t.open.push(performance.now() - t0);
      if (!r.ok) throw new Error(`${name}: ${r.error.message}`);
      t0 = performance.now();
      analyzeGraph(r.value);
      t.analyse.push(performance.now() - t0);
      t0 = performance.now();
      searchSchedules(scheduleContext(r.value));
      t.search.push(performance.now() - t0);
    }
    lrows.push([name, bytes.length.toLocaleString('en-US'), median(t.open).toFixed(0), median(t.analyse).toFixed(0), median(t.search).toFixed(0)]);
  }
  const lw = lrows[0]!.map((_, c) => Math.max(...lrows.map((r) => r[c]!.length)));
  console.log('\nlarge graphs: open, analyse (default conventions) and schedule search, median of 3 runs');
  for (const r of lrows) console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(lw[c]!) : cell.padStart(lw[c]!))).join(' | '));
}

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

// Line-buffered plans (issue 13): the front of peak against extra MACs (full rows and column bands, every
// segmentation), the same conventions, median of RUNS; the points users ask for.
{
  const { chooseStreamPlan, streamFrontier } = require('../../src/core/index') as typeof import('../../src/core/index');
  const lrows2: string[][] = [['model', 'front ms (median)', 'points', 'per-layer peak B', '+0% MACs', '≤ +10%', '≤ +30%', '≤ +80%', 'least peak']];
  for (const [name, bytes] of cases) {
    const r = openModel(bytes, { fileName: name });
    if (!r.ok) continue;
    const times: number[] = [];
    let front = streamFrontier(scheduleContext(r.value, SCHEDULE_CONVENTIONS));
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      front = streamFrontier(scheduleContext(r.value, SCHEDULE_CONVENTIONS));
      times.push(performance.now() - t0);
    }
    const ctx = scheduleContext(r.value, SCHEDULE_CONVENTIONS);
    const at = (o: number): string => {
      const p = chooseStreamPlan(front, { maxOverhead: o, maxRam: null });
      return p ? `${p.peakBytes.toLocaleString('en-US')}${o > 0 ? ` (+${(p.overhead * 100).toFixed(1)}%)` : ''}` : '-';
    };
    const least = front[0];
    lrows2.push([name, median(times).toFixed(0), String(front.length), ctx.perLayerPeakBytes.toLocaleString('en-US'), at(0), at(0.1), at(0.3), at(0.8),
      least ? `${least.peakBytes.toLocaleString('en-US')} (+${(least.overhead * 100).toFixed(1)}%)` : '-']);
  }
  const w = lrows2[0]!.map((_, c) => Math.max(...lrows2.map((x) => x[c]!.length)));
  console.log(`\nline-buffered plans (--as-int8 --no-input --inplace-dw --fuse-pad): front search including the execution plan, median of ${RUNS} runs; peak B (extra MACs of the model)`);
  for (const x of lrows2) console.log(x.map((cell, c) => (c === 0 ? cell.padEnd(w[c]!) : cell.padStart(w[c]!))).join(' | '));
}

// Time to first chart, the analysis part: the whole report the Memory View's worker computes (analysis, schedule
// search, firmware footprint, TFLM arena and its optimization) for a model opened with the default settings.
{
  const { runPipeline, settingsLayers, DEFAULT_SETTINGS } = require('../../src/core/index') as typeof import('../../src/core/index');
  const prows: string[][] = [['model', 'report ms (median)']];
  for (const name of ['tflite/person_detect.tflite', 'onnx/mobilenet_v2_224.onnx']) {
    const bytes = cases.find(([n]) => n === name)?.[1];
    if (!bytes) continue;
    const once = (): number => {
      const t0 = performance.now();
      // VS Code's default settings: target STM32F746 (the float MobileNetV2 does not fit it: its fixes are searched).
      const r = runPipeline({ bytes, fileName: name, base: settingsLayers(DEFAULT_SETTINGS), deploymentText: null });
      if (!r.ok) throw new Error(`${name}: ${r.error.message}`);
      return performance.now() - t0;
    };
    once();
    const runs = bytes.length > 4e6 ? 5 : RUNS;
    prows.push([name, median(Array.from({ length: runs }, once)).toFixed(1)]);
  }
  console.log('\nthe report pipeline (the analysis part of the time to first chart), median');
  for (const r of prows) console.log(r.join(' | '));
}

// C export: generation time per model; the generated code's host inference time next to onnxruntime's (float ONNX);
// Flash and RAM of the Cortex-M4 build, per-layer against the best patch schedule, RAM measured under QEMU.
void (async () => {
  const { bytesOf, generate, HAVE_ARM, HAVE_CC, make, randomFloats, randomInt8, tempDir } = await import('../codegen-helpers');
  const { generateC } = await import('../../src/core/index');
  const CODEGEN_MODELS = ['(example) tiny_mobilenet.tflite', 'tflite/person_detect.tflite', 'tflite/mlperf_vww_96_int8.tflite', 'tflite/mlperf_resnet8_int8.tflite', 'tflite/mlperf_kws_dscnn_int8.tflite', 'tflite/tinyengine_mcunet_vww.tflite', 'onnx/mobilenet_v2_224.onnx'];
  const crows: string[][] = [['model', 'codegen ms (median)', 'files KB', 'host inference ms', 'onnxruntime ms', 'schedule', 'arena B', 'Flash B (text+data)', 'RAM B (data+bss+stack)', 'stack B']];
  const byName = new Map(cases);
  const inputOf = (graph: import('../../src/core/index').Graph): Uint8Array => {
    const t = graph.tensors[graph.inputs[0]!]!;
    const n = t.shape!.reduce((a, b) => a * b, 1);
    return t.dtype === 'float32' ? bytesOf(randomFloats(n, 1)) : bytesOf(randomInt8(n, 1));
  };
  for (const name of CODEGEN_MODELS) {
    const bytes = byName.get(name);
    if (!bytes) continue;
    const opened = openModel(bytes, { fileName: name });
    if (!opened.ok) continue;
    const graph = opened.value;
    const runs = bytes.length > 4e6 ? 3 : RUNS;
    const times: number[] = [];
    let size = 0;
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const r = generateC(graph);
      times.push(performance.now() - t0);
      if (r.ok) size = r.value.files.reduce((a, f) => a + f.text.length, 0);
    }
    const ctx = scheduleContext(graph);
    const found = searchSchedules(ctx, { maxOverhead: null });
    const best = found.best ?? found.pareto[found.pareto.length - 1];
    const input = inputOf(graph);
    for (const schedule of [null, best ? { split: best.split, p: best.p, q: best.q } : null]) {
      const label = schedule ? `#${schedule.split} ${schedule.p}×${schedule.q}` : 'per-layer';
      const row = [name, schedule ? '' : median(times).toFixed(1), schedule ? '' : (size / 1024).toFixed(0), '', '', label, '', '', '', ''];
      if (HAVE_CC) {
        const dir = tempDir('bench');
        const out = generate(graph, { schedule }, dir);
        row[6] = out.arenaBytes.toLocaleString('en-US');
        if (make(dir, 'host').status === 0) {
          fs.writeFileSync(path.join(dir, 'in.bin'), input);
          const reps = bytes.length > 4e6 ? 5 : 50;
          const t = spawnSync(path.join(dir, 'model_test'), [path.join(dir, 'in.bin'), '--time', String(reps)], { encoding: 'utf8' });
          row[3] = /# time per run: ([\d.]+)/.exec(t.stdout)?.[1] ?? '?';
        }
        if (!schedule && name.endsWith('.onnx')) {
          const ort = await import('onnxruntime-node');
          const s = await ort.InferenceSession.create(bytes);
          const x = new ort.Tensor('float32', randomFloats(input.length / 4, 1), graph.tensors[graph.inputs[0]!]!.shape!);
          await s.run({ [s.inputNames[0]!]: x });
          const ts: number[] = [];
          for (let i = 0; i < 10; i++) { const t0 = performance.now(); await s.run({ [s.inputNames[0]!]: x }); ts.push(performance.now() - t0); }
          row[4] = median(ts).toFixed(3);
        }
        if (HAVE_ARM && bytes.length < 4e6 && make(dir, 'cortex-m4').status === 0) {
          const size = spawnSync('arm-none-eabi-size', [path.join(dir, 'model_test_m4.elf')], { encoding: 'utf8' }).stdout.split('\n')[1]!.trim().split(/\s+/).map(Number);
          // QEMU's semihosting console drops output into a full pipe: to a file.
          spawnSync('sh', ['-c', 'make -s run-qemu INPUT=in.bin MEM=1 > qemu.out'], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
          const q = { stdout: fs.readFileSync(path.join(dir, 'qemu.out'), 'utf8') };
          const stack = Number(/# stack high-water: (\d+)/.exec(q.stdout)?.[1] ?? NaN);
          row[7] = (size[0]! + size[1]!).toLocaleString('en-US');
          row[8] = (size[1]! + size[2]! + stack).toLocaleString('en-US');
          row[9] = String(stack);
        }
        fs.rmSync(dir, { recursive: true, force: true });
      }
      crows.push(row);
    }
  }
  const cw = crows[0]!.map((_, c) => Math.max(...crows.map((r) => r[c]!.length)));
  console.log(`\nC export: codegen time (median of ${RUNS}, 3 for models over 4 MB); host inference (cc -O2, mean of 50 runs, 5 for big models) and onnxruntime-node (median of 10);`);
  console.log('Cortex-M4 build (arm-none-eabi-gcc -O2) on QEMU mps2-an386: Flash = text+data, RAM = data+bss (arena, C library) + measured stack; best patch schedule without an overhead limit');
  for (const r of crows) console.log(r.map((cell, c) => (c === 0 || c === 5 ? cell.padEnd(cw[c]!) : cell.padStart(cw[c]!))).join(' | '));
  if (!HAVE_CC) console.log('(no cc: generated code not built)');
})();
