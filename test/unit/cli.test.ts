import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli/main';
import { versusPerLayer } from '../../src/cli/render';
import { HAVE_SHARED, sharedModel } from '../helpers';
import { exampleModel } from '../../src/core/testing/examples';
import { OnnxBuilder } from '../../src/core/testing/onnx-builder';

function cli(...argv: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = main(argv, { out: (s) => { out += `${s}\n`; }, err: (s) => { err += `${s}\n`; } });
  return { code, out, err };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcu-mem-'));
const model = path.join(dir, 'example.tflite');
fs.writeFileSync(model, exampleModel('tflite'));

test('analyze: exit 0 when it fits, 1 when it does not, with the verdict printed', () => {
  const fits = cli('analyze', model, '--target', 'STM32H743');
  assert.equal(fits.code, 0, fits.err);
  assert.match(fits.out, /FITS/);
  assert.match(fits.out, /Conventions:/);
  assert.match(fits.out, /◀ peak/);
  const tiny = cli('analyze', model, '--custom-target', 'tiny:64K:1M');
  assert.equal(tiny.code, 1);
  assert.match(tiny.out, /DOES NOT FIT/);
  assert.equal(cli('analyze', model).code, 0, 'no target: exit 0');
});

test('analyze --json: the documented fields, and a consistent arena plan', () => {
  const r = cli('analyze', model, '--target', 'stm32f746', '--json', '--inplace-dw');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  for (const k of ['format', 'conventions', 'peakBytes', 'peakOp', 'arenaBytes', 'lowerBoundBytes', 'greedyArenaBytes', 'flashBytes', 'macs', 'target', 'fits', 'ops', 'buffers']) {
    assert.ok(k in j, k);
  }
  assert.equal(j.format, 'tflite');
  assert.equal(j.conventions.inplaceDepthwise, true);
  assert.equal(j.target.name, 'STM32F746');
  assert.equal(j.fits, true);
  for (const k of ['index', 'op', 'name', 'outputShapes', 'outputBytes', 'liveBytes', 'weightsBytes', 'macs']) assert.ok(k in j.ops[0], k);
  for (const k of ['name', 'bytes', 'firstOp', 'lastOp', 'offset']) assert.ok(k in j.buffers[0], k);
  assert.equal(Math.max(...j.ops.map((o: { liveBytes: number }) => o.liveBytes)), j.peakBytes);
});

test('bad input and usage: exit 2 with a message naming the problem', () => {
  const empty = path.join(dir, 'empty.onnx');
  fs.writeFileSync(empty, new Uint8Array(0));
  let r = cli('analyze', empty);
  assert.equal(r.code, 2);
  assert.match(r.err, /empty/);
  r = cli('analyze', path.join(dir, 'missing.onnx'));
  assert.equal(r.code, 2);
  assert.match(r.err, /cannot read '.*missing\.onnx': no such file$/m);
  assert.doesNotMatch(r.err, /ENOENT/);
  r = cli('analyze', dir);
  assert.match(r.err, /it is a folder, not a model file/);
  r = cli('analyze', model, '--target', 'Z80');
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown target 'Z80'/);
  r = cli('analyze', model, '--bogus');
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown option --bogus/);
  assert.equal(cli('frobnicate').code, 2);
  assert.equal(cli().code, 2);
});

test('external data: resolved inside the model folder only (symlinks checked)', () => {
  const sub = fs.mkdtempSync(path.join(os.tmpdir(), 'mcu-ext-'));
  const write = (loc: string): string => {
    const b = new OnnxBuilder(13);
    const x = b.input('x', [1, 4]);
    b.output(b.op('MatMul', [x, b.externalInit('w', [4, 4], loc)]));
    const f = path.join(sub, 'm.onnx');
    fs.writeFileSync(f, b.build());
    return f;
  };
  fs.writeFileSync(path.join(sub, 'w.bin'), new Uint8Array(64));
  assert.equal(cli('analyze', write('w.bin')).code, 0);
  let r = cli('analyze', write('short.bin'));
  assert.equal(r.code, 2);
  assert.match(r.err, /does not exist/);
  fs.writeFileSync(path.join(sub, 'short.bin'), new Uint8Array(10));
  r = cli('analyze', write('short.bin'));
  assert.match(r.err, /has 10 bytes/);
  const outside = path.join(os.tmpdir(), `outside-${process.pid}.bin`);
  fs.writeFileSync(outside, new Uint8Array(64));
  fs.symlinkSync(outside, path.join(sub, 'link.bin'));
  r = cli('analyze', write('link.bin'));
  assert.equal(r.code, 2);
  assert.match(r.err, /resolves outside the model's folder/);
  r = cli('analyze', write('../w.bin'));
  assert.equal(r.code, 2);
  assert.match(r.err, /leaves the folder/);
});

test('targets: the catalogue, human and JSON', () => {
  const r = cli('targets', '--json');
  const names = JSON.parse(r.out).targets.map((t: { name: string }) => t.name);
  for (const n of ['STM32F410', 'STM32F412', 'STM32F746', 'STM32H743', 'STM32L4R5', 'nRF52840', 'ESP32-S3', 'RP2040', 'i.MX RT1062', 'SAMD51']) assert.ok(names.includes(n), n);
  const h743 = JSON.parse(r.out).targets.find((t: { name: string }) => t.name === 'STM32H743');
  assert.equal(h743.sramBytes, 512 * 1024);
  assert.match(cli('targets').out, /STM32F746/);
});

test('example: writes a model that analyses (the README\'s first command)', () => {
  const out = path.join(dir, 'ex', 'tiny.onnx');
  assert.equal(cli('example', out).code, 0);
  const r = cli('analyze', out, '--target', 'STM32L4R5', '--json');
  assert.equal(r.code, 0, r.err);
  assert.equal(JSON.parse(r.out).peakBytes, 552_960);
  assert.equal(cli('analyze', out, '--target', 'STM32F412').code, 1);
  assert.equal(cli('example', path.join(dir, 'x.txt')).code, 2);
});

test('schedule --json: Pareto set with the best first, tile sizes, MACs overheads; --advise adds the overlap shares', () => {
  const r = cli('schedule', model, '--json', '--advise', '--max-overhead', 'none');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.schema, 'mcu-mem/schedule@1');
  assert.ok(j.pareto.length > 1);
  assert.equal(j.maxOverheadPercent, null);
  for (const k of ['split', 'tiles', 'tileInput', 'tileOutput', 'stagePeakBytes', 'restPeakBytes', 'peakBytes', 'arenaBytes', 'reduction', 'macs', 'overhead']) assert.ok(k in j.best, k);
  assert.ok(j.best.peakBytes < j.perLayer.peakBytes);
  // pareto[]: each kind's front, tagged (issue 13, item 5): the patch stages as before (the best first), then the
  // line-buffered plans as in lineBufferedFront; onFront marks the points no plan of either kind beats on both axes.
  type Point = { kind: string; onFront: boolean; peakBytes: number; overhead: { modelExact: number } };
  const pareto = j.pareto as Point[];
  const { kind, onFront, ...first } = j.pareto[0];
  assert.equal(kind, 'patch');
  assert.deepEqual(first, j.best);
  assert.equal(j.best.peakBytes, Math.min(...pareto.filter((p) => p.kind === 'patch').map((p) => p.peakBytes)));
  const lines = pareto.filter((p) => p.kind === 'lines');
  assert.deepEqual(lines.map(({ kind: _k, onFront: _f, ...p }) => p), (j.lineBufferedFront as { segments: unknown[]; peakBytes: number }[]).filter((p) => p.segments.length > 0 && p.peakBytes < j.perLayer.peakBytes));
  assert.equal(pareto.length, lines.length + pareto.filter((p) => p.kind === 'patch').length);
  const beats = (b: Point, a: Point): boolean => b.peakBytes <= a.peakBytes && b.overhead.modelExact <= a.overhead.modelExact && (b.peakBytes < a.peakBytes || b.overhead.modelExact < a.overhead.modelExact);
  for (const a of pareto) assert.equal(a.onFront, !pareto.some((b) => beats(b, a)), `${a.kind} ${a.peakBytes}`);
  assert.ok(pareto.some((p) => p.onFront));
  assert.ok(j.advice.shares.length > 0 && j.advice.whatIfs.length > 0);
  assert.ok(j.rejected.some((x: { reason: string }) => /skip connection/.test(x.reason)));
  // Line-buffered plans (issue 13): new fields; pareto[] and best keep theirs.
  const lb = j.lineBuffered;
  const front = j.lineBufferedFront as { peakBytes: number; extraMacs: number; overhead: { modelExact: number } }[];
  assert.ok(lb.peakBytes <= j.perLayer.peakBytes && lb.arenaBytes >= lb.peakBytes);
  assert.ok(lb.segments.length > 0 && lb.segments.every((s: { peakBytes: number; wholeBytes: number; ringBytes: number }) => s.peakBytes === s.wholeBytes + s.ringBytes));
  assert.ok(lb.calls > lb.perLayerCalls);
  assert.equal(front[front.length - 1]!.overhead.modelExact, 0, 'the front ends with full rows, no extra MACs');
  for (let i = 1; i < front.length; i++) assert.ok(front[i]!.peakBytes > front[i - 1]!.peakBytes && front[i]!.extraMacs < front[i - 1]!.extraMacs, 'a Pareto front');
  assert.equal(lb.peakBytes, Math.min(...front.map((p) => p.peakBytes)), 'no overhead limit: the least peak');
  // --max-ram: the fewest extra MACs under the budget.
  const budget = front[Math.floor(front.length / 2)]!.peakBytes;
  const ram = JSON.parse(cli('schedule', model, '--json', '--max-ram', String(budget)).out);
  assert.equal(ram.maxRamBytes, budget);
  assert.equal(ram.lineBuffered.extraMacs, Math.min(...front.filter((p) => p.peakBytes <= budget).map((p) => p.extraMacs)));
  assert.equal(JSON.parse(cli('schedule', model, '--json', '--max-ram', '16').out).lineBuffered, null, 'no plan under 16 B');
  assert.equal(cli('schedule', model, '--max-ram', 'lots').code, 2);
  const human = cli('schedule', model, '--advise');
  assert.match(human.out, /Best schedule:/);
  assert.match(human.out, /Pareto set/);
  assert.match(human.out, /What-ifs/);
  assert.match(human.out, /Line-buffered plans \(rows streamed through fused segments/);
});

test('analyze --schedule: auto makes a model fit a target it does not fit layer by layer; fits uses the schedule', () => {
  const without = cli('analyze', model, '--custom-target', 'mid:96K:1M', '--json');
  assert.equal(without.code, 1);
  assert.equal(JSON.parse(without.out).schedule, null);
  const auto = cli('analyze', model, '--custom-target', 'mid:96K:1M', '--schedule', 'auto', '--json');
  assert.equal(auto.code, 0, auto.err);
  const j = JSON.parse(auto.out);
  assert.equal(j.fits, true);
  assert.equal(j.schedule.mode, 'auto');
  assert.ok(j.schedule.arenaBytes <= 96 * 1024);
  assert.ok(j.peakBytes > 96 * 1024, 'the per-layer figures stay in the document');
  const given = JSON.parse(cli('analyze', model, '--schedule', `${j.schedule.split.index}:2x3`, '--json').out);
  assert.equal(given.schedule.mode, 'fixed');
  assert.deepEqual(given.schedule.tiles, [2, 3]);
  assert.match(cli('analyze', model, '--schedule', 'auto').out, /Patch-based schedule/);
});

test('schedule: exit 1 when nothing fits the target; bad schedules and limits are usage errors naming the problem', () => {
  const r = cli('schedule', model, '--custom-target', 'tiny:8K:1M');
  assert.equal(r.code, 1);
  assert.match(r.out, /nothing fits tiny/);
  const bad = cli('analyze', model, '--schedule', '7:2x2');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /cannot split after step #7: 2 tensors cross the split .*skip connection/);
  const limit = cli('schedule', model, '--max-overhead', 'lots');
  assert.equal(limit.code, 2);
  assert.match(limit.err, /--max-overhead 'lots'/);
});

test('codegen: writes the C folder and reports the arena; a schedule and a target are honoured; usage errors exit 2', () => {
  const out = path.join(dir, 'c_example');
  const r = cli('codegen', model, '--out', out, '--schedule', 'auto', '--custom-target', 'small:96K:1M');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /chosen automatically/);
  for (const f of ['src/model.h', 'src/model.c', 'src/weights.c', 'src/weights.h', 'src/mm_kernels.c', 'src/mm_kernels.h', 'model_test.c', 'Makefile', 'board.ld', 'startup.c', 'CMakeLists.txt', 'library.json', 'library.properties', 'idf_component.yml', 'zephyr/module.yml', 'README.md']) assert.ok(fs.existsSync(path.join(out, f)), f);
  const arena = Number(/#define MODEL_ARENA_BYTES (\d+)/.exec(fs.readFileSync(path.join(out, 'src', 'model.h'), 'utf8'))![1]);
  assert.ok(arena <= 96 * 1024 && r.out.includes(arena.toLocaleString('en-US')), `${arena}: ${r.out}`);
  assert.match(fs.readFileSync(path.join(out, 'board.ld'), 'utf8'), /LENGTH = 98304/);
  const tooSmall = cli('codegen', model, '--out', path.join(dir, 'c_small'), '--custom-target', 'tiny:16K:1M');
  assert.equal(tooSmall.code, 1, 'does not fit: exit 1 (the files are still written)');
  assert.match(tooSmall.err, /will not link/);
  assert.equal(cli('codegen', model).code, 2, 'no --out');
});

test('CLI habits: --version, "did you mean" for options, commands and targets, the usage of the command at hand only', () => {
  const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../package.json'), 'utf8')) as { version: string };
  assert.deepEqual([cli('--version').code, cli('--version').out.trim()], [0, `mcu-mem ${pkg.version}`]);
  let r = cli('analyze', model, '--tagret', 'STM32F746');
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown option --tagret \(did you mean --target\?\)/);
  assert.match(r.err, /usage:\n  mcu-mem analyze MODEL/);
  assert.doesNotMatch(r.err, /mcu-mem codegen MODEL/, 'only the analyze lines');
  r = cli('analyze', model, '--target', 'stm32f4');
  assert.match(r.err, /unknown target 'stm32f4' \(did you mean STM32F410, STM32F411, STM32F412/);
  r = cli('anlyze', model);
  assert.match(r.err, /unknown command 'anlyze' \(did you mean analyze\?\)/);
  r = cli('codegen', model);
  assert.match(r.err, /codegen needs --out DIR/);
  assert.match(r.err, /usage:\n  mcu-mem codegen MODEL --out DIR/);
  assert.doesNotMatch(r.err, /mcu-mem analyze MODEL/);
  assert.equal(cli('analyze', model, '--frobnicate-everything').err.includes('did you mean'), false, 'no suggestion when nothing is close');
  // Words: the schedule line says "layer by layer" once.
  const out = cli('codegen', model, '--out', path.join(dir, 'habits_c'), '--no-deployment').out;
  assert.match(out, /^schedule: layer by layer \(schedule "none", the default\)$/m);
});

test('schedule --split: the peak is compared with per-layer in words that stay true when it is worse', () => {
  assert.equal(versusPerLayer(27648, 55296), '2.00× below per-layer 55,296 B');
  assert.equal(versusPerLayer(55296, 55296), 'the same as per-layer (55,296 B)');
  assert.equal(versusPerLayer(55688, 55296), '392 B above per-layer 55,296 B: worse than running layer by layer');
  if (!HAVE_SHARED) return;
  const r = cli('schedule', sharedModel('tflite/person_detect.tflite'), '--split', '2:2x2');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /peak 55,688 B \(54\.4 KiB\), 392 B above per-layer 55,296 B: worse than running layer by layer/);
});
