// mcu-mem: argv → core → stdout. Exit status: 0 fits (or no target given), 1 does not fit the target, 2 bad input
// or usage (message on stderr naming the problem), 3 incomplete (operators not sized, the known part fits).
// Settings come in layers: defaults ← <model>.mcu.json (as the VS Code extension reads it) ← options given here.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  advise, BUILTIN_TARGETS, RUNTIMES, RUNTIME_RESERVE_BYTES, codegenOptionsFor, deploymentFileName, describeSchedule, evaluateFit, evaluateSchedule,
  findTarget, footprintPlacement, linesBudget, generateC, isMultiRegion, makeCustomTarget, ModelError, parseScheduleSpec, parseSize, printable, resolveSchedule,
  firmwareFit, openModel, optimizeForTflm, runPipeline, scheduleContext, searchSchedules, type Conventions, type CustomTargetSetting, type Deployment, type FitResult,
  type LinesSetting, type Runtime, type ScheduleReport, type SearchResult, type SettingsLayer, type PipelineOutput,
} from '../core/index';
import { nodeExternalData } from '../node/external-data';
import { writeGeneratedFiles } from '../node/write-files';
import { renderAnalysis, renderSchedule, renderTargets } from './render';
import { chooseStreamPlan, reportJson, scheduleJson, streamFrontier, targetsJson, type StreamPlan } from '../core/index';

import { exampleModel } from '../core/testing/examples';
import { formatBytes } from '../core/units';

export const EXIT_FITS = 0;
export const EXIT_DOES_NOT_FIT = 1;
export const EXIT_BAD_INPUT = 2;
/** Part of the model could not be sized and what was sized fits: unknown is not zero, so no "fits". */
export const EXIT_INCOMPLETE = 3;

const USAGE = `usage:
  mcu-mem analyze MODEL [--target NAME] [--custom-target NAME:SRAM:FLASH[:RESERVE]] [--reserve BYTES]
                        [--as-int8] [--no-input] [--inplace-dw] [--fuse-pad] [--fuse-add] [--no-fuse-act]
                        [--reorder] [--schedule auto|none|lines|lines:RAM|SPLIT:PxQ] [--max-overhead PCT|none] [--json]
                        [--runtime c|tflm] [--deployment FILE | --no-deployment]
      <MODEL>.mcu.json beside the model (the file the VS Code extension's quick fixes write) is read unless
      --no-deployment; --deployment FILE reads another. An option given on the command line wins over the file.
      --runtime tflm: TFLM runs the .tflite file; SRAM is TFLM's tensor arena (predicted to the byte for a 32-bit
      Cortex-M build; printed for every TFLite model), Flash the model file plus TFLM's code (not measured).
  mcu-mem schedule MODEL [--target NAME] [--max-overhead PCT|none] [--max-ram SIZE] [--split SPLIT:PxQ] [--advise]
                        [convention switches as for analyze] [--json]
      patch-based schedules (MCUNetV2): the Pareto set of peak SRAM against extra MACs, the best first.
      SPLIT is the step (# column of analyze) after which the patch stage ends, or its operator or output name;
      PxQ the tiles (rows x columns). --max-overhead limits the extra MACs of the whole model (default 20).
      Also line-buffered plans (rows streamed through fused segments, optionally in column bands): their front, and
      the one chosen: the least peak within --max-overhead, or with --max-ram the fewest extra MACs under SIZE.
  mcu-mem codegen MODEL --out DIR [--target NAME] [--schedule none|auto|lines|lines:RAM|SPLIT:PxQ] [--max-overhead PCT|none]
                        [--no-input] [--line-buffered [--max-ram SIZE]]
      writes a self-contained C99 folder: model.h/.c (static arena at the planned offsets, the patch loop),
      weights.c, the kernels used, a test harness and a Makefile (make host | cortex-m4 | cortex-m7 | run-qemu).
      The linker's RAM and Flash are the target's, so an over-budget build does not link. --line-buffered streams a
      line-buffered plan through ring buffers instead of a patch schedule: the least peak within --max-overhead, or
      with --max-ram SIZE the fewest extra MACs under SIZE (as schedule chooses).
  mcu-mem optimize MODEL.tflite --out OPT.tflite
      writes a copy of the model with our arena plan as OfflineMemoryAllocation metadata, which stock TFLM uses
      instead of its greedy plan (only when TFLM's smallest arena gets smaller; exit 1 when it would not).
  mcu-mem targets [--json]
  mcu-mem example OUT.onnx|OUT.tflite     write the bundled example model (a small MobileNetV2-style network)

Sizes take K/KiB/M/MiB suffixes (binary). Exit status: 0 fits (or no target), 1 does not fit, 2 bad input or usage,
3 incomplete (some operators could not be sized; what was sized fits).`;

/** A usage error; `command` selects the usage lines printed with it (all of them when absent). */
class UsageError extends Error {
  constructor(message: string, readonly command?: string) {
    super(message);
  }
}

/** The usage lines of one command (its block in USAGE), or all of them. */
function usageOf(command: string | undefined): string {
  if (!command) return USAGE;
  const lines = USAGE.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`  mcu-mem ${command} `) || l === `  mcu-mem ${command}`);
  if (start < 0) return USAGE;
  let end = start + 1;
  while (end < lines.length && lines[end]!.startsWith('    ') && !lines[end]!.startsWith('  mcu-mem ')) end++;
  return `usage:\n${lines.slice(start, end).join('\n')}\n(mcu-mem --help lists every command and option)`;
}

/** Edit distance (Levenshtein) for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length]!;
}

/** " (did you mean X?)" for the closest candidates: within two edits, or those the word is a prefix of. */
function didYouMean(word: string, candidates: readonly string[]): string {
  const norm = (s: string): string => s.toLowerCase().replace(/[^a-z0-9-]/g, '');
  const w = norm(word);
  const scored = candidates.map((c) => ({ c, d: distance(w, norm(c)) })).filter((x) => x.d <= 2 || (w.length >= 3 && norm(x.c).startsWith(w)));
  if (scored.length === 0) return '';
  scored.sort((x, y) => x.d - y.d);
  const best = scored.filter((x) => x.d === scored[0]!.d || norm(x.c).startsWith(w)).slice(0, 4).map((x) => x.c);
  return ` (did you mean ${best.join(', ')}?)`;
}

const COMMANDS = ['analyze', 'schedule', 'codegen', 'optimize', 'targets', 'example'];

/** The package's version, from package.json beside the bundle (dist/) or the compiled sources (out/src/cli/). */
function version(): string {
  for (const rel of ['../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, rel), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'mcu-memory-inspector' && pkg.version) return pkg.version;
    } catch {
      // try the next place
    }
  }
  return 'unknown';
}

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

const SWITCHES: Readonly<Record<string, (c: Partial<Conventions>) => void>> = {
  '--as-int8': (c) => { c.asInt8 = true; },
  '--no-input': (c) => { c.countInput = false; },
  '--inplace-dw': (c) => { c.inplaceDepthwise = true; },
  '--fuse-pad': (c) => { c.fusePad = true; },
  '--fuse-add': (c) => { c.fuseAdd = true; },
  '--no-fuse-act': (c) => { c.fuseActivations = false; },
  '--reorder': (c) => { c.reorder = true; },
};

interface Args {
  positional: string[];
  flags: Set<string>;
  values: Map<string, string[]>;
}

const VALUE_OPTIONS = new Set(['--out', '--target', '--custom-target', '--reserve', '--schedule', '--max-overhead', '--max-ram', '--split', '--deployment', '--runtime']);
const FLAGS = new Set(['--json', '--help', '--advise', '--no-deployment', '--version', '--line-buffered']);

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { positional: [], flags: new Set(), values: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') { args.positional.push(...argv.slice(i + 1)); break; }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(0, eq) : a;
      if (VALUE_OPTIONS.has(name)) {
        const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
        if (v === undefined) throw new UsageError(`${name} needs a value`);
        args.values.set(name, [...(args.values.get(name) ?? []), v]);
      } else if (name in SWITCHES || FLAGS.has(name)) args.flags.add(name);
      else throw new UsageError(`unknown option ${a}${didYouMean(name, [...VALUE_OPTIONS, ...Object.keys(SWITCHES), ...FLAGS])}`, argv.find((x) => COMMANDS.includes(x)));
    } else if (a === '-h') args.flags.add('--help');
    else args.positional.push(a);
  }
  return args;
}

function parseCustomTarget(spec: string): CustomTargetSetting {
  const parts = spec.split(':');
  if (parts.length < 3 || parts.length > 4 || !parts[0]) throw new UsageError(`--custom-target '${spec}': expected NAME:SRAM:FLASH[:RESERVE], e.g. board:256K:1M:16K`);
  const sizes = parts.slice(1).map((p) => parseSize(p));
  if (sizes.some((s) => s === undefined)) throw new UsageError(`--custom-target '${spec}': sizes must be numbers with optional K/M suffix`);
  return { name: parts[0], sram: sizes[0]!, flash: sizes[1]!, ...(sizes[2] !== undefined ? { reserve: sizes[2] } : {}) };
}

const lastValue = (args: Args, name: string): string | undefined => args.values.get(name)?.at(-1);

function parseMaxOverhead(args: Args): number | null | undefined {
  const v = lastValue(args, '--max-overhead');
  if (v === undefined) return undefined;
  if (/^none$/i.test(v)) return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(v);
  if (!m) throw new UsageError(`--max-overhead '${v}': expected a percentage such as 20, or 'none'`);
  return Number(m[1]) / 100;
}


function conventionsOf(args: Args): Partial<Conventions> {
  const conventions: Partial<Conventions> = {};
  for (const f of args.flags) SWITCHES[f]?.(conventions);
  return conventions;
}

/** The options given on the command line as the top settings layer (only what was given). */
function flagLayer(args: Args): SettingsLayer {
  const customs = (args.values.get('--custom-target') ?? []).map(parseCustomTarget);
  const values: Deployment = {};
  const name = lastValue(args, '--target');
  if (name !== undefined) {
    const known = findTarget(name, customs.map((c) => makeCustomTarget({ name: c.name, sramBytes: 0, flashBytes: 0 })));
    if (!known) throw new UsageError(`unknown target '${name}'${didYouMean(name, [...BUILTIN_TARGETS.map((t) => t.name), ...customs.map((c) => c.name)])}; run 'mcu-mem targets' for the list, or define one with --custom-target NAME:SRAM:FLASH`, args.positional[0]);
    values.target = name;
  } else if (customs.length === 1) values.target = customs[0]!;
  const reserve = lastValue(args, '--reserve');
  if (reserve !== undefined) {
    const r = parseSize(reserve);
    if (r === undefined) throw new UsageError(`--reserve '${reserve}': expected a size such as 16K`);
    values.reserve = r;
  }
  const conventions = conventionsOf(args);
  if (Object.keys(conventions).length > 0) values.conventions = conventions;
  const schedule = lastValue(args, '--schedule');
  if (schedule !== undefined) values.schedule = schedule === 'auto' || schedule === 'none' || schedule === 'lines' ? schedule : linesSpec(schedule) ?? parseScheduleSpec(schedule);
  const overhead = parseMaxOverhead(args);
  if (overhead !== undefined) values.maxMacsOverhead = overhead === null ? null : overhead * 100;
  const runtime = lastValue(args, '--runtime');
  if (runtime !== undefined) {
    if (!(RUNTIMES as readonly string[]).includes(runtime)) throw new UsageError(`--runtime '${runtime}': expected ${RUNTIMES.join(' or ')}`);
    values.runtime = runtime as Runtime;
  }
  return { origin: 'flag', values, customTargets: customs };
}

/** The text of MODEL's deployment file: beside it unless --no-deployment, or --deployment FILE (which must exist). */
function deploymentTextOf(args: Args, file: string): string | null {
  if (args.flags.has('--no-deployment')) {
    if (args.values.has('--deployment')) throw new UsageError('--deployment and --no-deployment exclude each other');
    return null;
  }
  const given = lastValue(args, '--deployment');
  const where = given ?? deploymentFileName(file);
  try {
    return fs.readFileSync(where, 'utf8');
  } catch (e) {
    if (given === undefined && (e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new UsageError(`cannot read the deployment file '${where}': ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The one MODEL file that analyze, schedule and codegen take. */
function modelFile(args: Args, command: string): string {
  const file = args.positional[1];
  if (!file || args.positional.length > 2) throw new UsageError(`${command} takes exactly one MODEL file`);
  return file;
}

/** Exit status of a verdict: no target or fits 0, does not fit 1, incomplete 3. */
export function exitStatus(fit: FitResult | null): number {
  if (!fit) return EXIT_FITS;
  return fit.status === 'fits' ? EXIT_FITS : fit.status === 'does-not-fit' ? EXIT_DOES_NOT_FIT : EXIT_INCOMPLETE;
}

/** The one pipeline, as every face runs it: settings (defaults ← deployment file ← options given), open, analyse,
 *  schedule, fit, findings. On a bad model, writes the error and returns the exit status. */
function reportOf(args: Args, command: string, io: Io): PipelineOutput | number {
  const file = modelFile(args, command);
  const top = flagLayer(args);
  const deploymentText = deploymentTextOf(args, file);
  let bytes: Uint8Array;
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: st.isDirectory() ? 'EISDIR' : undefined });
    bytes = fs.readFileSync(file);
  } catch (e) {
    io.err(readError(file, e));
    return EXIT_BAD_INPUT;
  }
  const r = runPipeline({ bytes, fileName: file, externalData: nodeExternalData(path.dirname(path.resolve(file))), base: [], deploymentText, top: [top] });
  if (!r.ok) {
    io.err(`mcu-mem: ${printable(file)}: ${printable(r.error.message)} [${r.error.code}]`);
    return EXIT_BAD_INPUT;
  }
  const { report } = r.value;
  const eff = report.effective;
  if (top.values.reserve !== undefined && !eff.target) throw new UsageError('--reserve needs a target (--target, --custom-target or the deployment file)');
  // A schedule typed on the command line that does not apply is a usage error, not a silent per-layer run.
  const bad = report.findings.find((f) => f.code === 'schedule');
  if (bad && eff.origins.schedule === 'flag') throw new ModelError('bad-schedule', bad.message);
  for (const f of report.findings) if (f.code === 'deployment') io.err(`mcu-mem: warning: ${printable(f.message)}`);
  return r.value;
}

function analyzeCommand(args: Args, io: Io): number {
  const r = reportOf(args, 'analyze', io);
  if (typeof r === 'number') return r;
  if (args.flags.has('--json')) io.out(JSON.stringify(reportJson(r.report), null, 2));
  else io.out(renderAnalysis(r.report, r.graph));
  return exitStatus(r.report.fit);
}

/** `--schedule lines:SIZE`: the line-buffered plan with the fewest extra MACs within SIZE of RAM. */
function linesSpec(text: string): LinesSetting | null {
  const m = /^lines:(.+)$/.exec(text);
  if (!m) return null;
  const ram = parseSize(m[1]!);
  if (ram === undefined || ram <= 0) throw new UsageError(`--schedule '${text}': expected lines:SIZE, SIZE such as 64K or a number of bytes`);
  return { lines: { maxRam: ram } };
}

function scheduleCommand(args: Args, io: Io): number {
  const r = reportOf(args, 'schedule', io);
  if (typeof r === 'number') return r;
  const { graph, report } = r;
  const eff = report.effective;
  const file = modelFile(args, 'schedule');
  const analysis = report.analysis;
  const ctx = scheduleContext(graph, eff.conventions);
  const result: SearchResult = searchSchedules(ctx, { target: eff.target, maxOverhead: eff.maxOverhead, perLayerArenaBytes: analysis.arenaBytes });
  const splitArg = lastValue(args, '--split');
  let chosen = result.best;
  if (splitArg) {
    const spec = resolveSchedule(ctx, parseScheduleSpec(splitArg));
    chosen = evaluateSchedule(ctx, spec.split, spec.p, spec.q);
  }
  const best: ScheduleReport | null = chosen ? describeSchedule(ctx, chosen) : null;
  const pareto = result.pareto.map((c) => (c === result.best && best && !splitArg ? best : describeSchedule(ctx, c)));
  const advice = args.flags.has('--advise') && chosen ? advise(ctx, chosen) : null;
  // The verdict as analyze gives it: the firmware of the schedule shown (its Flash includes the patch tables).
  const { fit } = firmwareFit(graph, eff, analysis, chosen, best ? best.arenaBytes : analysis.arenaBytes);
  const ramArg = lastValue(args, '--max-ram');
  const maxRam = ramArg === undefined ? null : parseSize(ramArg);
  if (maxRam === undefined) throw new UsageError(`--max-ram '${ramArg}': expected a size such as 128K or a number of bytes`);
  const front = streamFrontier(ctx);
  const doc = scheduleJson(file, ctx, analysis, result, best, splitArg ?? null, pareto, advice, fit, chooseStreamPlan(front, { maxOverhead: eff.maxOverhead, maxRam }), front, maxRam);
  if (args.flags.has('--json')) io.out(JSON.stringify(doc, null, 2));
  else io.out(renderSchedule(doc));
  return exitStatus(fit);
}

/** optimize: the .tflite file with our arena plan as OfflineMemoryAllocation, for stock TFLM. Exit 0 when written,
 *  1 when TFLM's own plan is already as small (nothing written), 2 on bad input. */
function optimizeCommand(args: Args, io: Io): number {
  const file = modelFile(args, 'optimize');
  const out = lastValue(args, '--out');
  if (!out) throw new UsageError('optimize needs --out FILE, the optimized .tflite to write');
  if (path.resolve(out) === path.resolve(file)) throw new UsageError('optimize never overwrites the model: give --out another file');
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(fs.readFileSync(file));
  } catch (e) {
    io.err(readError(file, e));
    return EXIT_BAD_INPUT;
  }
  const opened = openModel(bytes, { fileName: file });
  if (!opened.ok) {
    io.err(`mcu-mem: ${printable(file)}: ${printable(opened.error.message)} [${opened.error.code}]`);
    return EXIT_BAD_INPUT;
  }
  if (opened.value.format !== 'tflite') throw new UsageError('optimize writes TFLite files for TFLM: give a .tflite model');
  const r = optimizeForTflm(bytes, opened.value);
  if (!r.ok) {
    io.err(`mcu-mem: ${printable(file)}: nothing written: ${printable(r.error.message)}`);
    return r.error.code === 'no-gain' ? EXIT_DOES_NOT_FIT : EXIT_BAD_INPUT;
  }
  fs.writeFileSync(out, r.value.bytes);
  const { before, after } = r.value;
  const n = (v: number): string => `${v.toLocaleString('en-US')} B`;
  io.out([
    `wrote ${out}: the model ${[
      ...(r.value.order ? [`with its operators in another order (${r.value.order.filter((v, i) => v !== i).length} moved; the outputs are the same)`] : []),
      ...(r.value.offsets.some((o) => o >= 0) ? [`with our arena plan as OfflineMemoryAllocation metadata (${r.value.offsets.filter((o) => o >= 0).length} tensors placed)`] : []),
    ].join(' and ')}`,
    `TFLM's smallest arena ${n(before.minArenaBytes)} → ${n(after.minArenaBytes)} (−${n(before.minArenaBytes - after.minArenaBytes)}); head ${n(before.headBytes)} → ${n(after.headBytes)}; tail ${n(after.tailBytes)}`,
    `  ${after.declaration}`,
  ].join('\n'));
  return EXIT_FITS;
}

function codegenCommand(args: Args, io: Io): number {
  const out = lastValue(args, '--out');
  if (!out) throw new UsageError('codegen needs --out DIR, the folder to write the C files into');
  const rep = reportOf(args, 'codegen', io);
  if (typeof rep === 'number') return rep;
  const { graph, report } = rep;
  const eff = report.effective;
  const file = modelFile(args, 'codegen');
  const lines = linesBudget(eff.schedule, eff.maxOverhead);
  const lineBuffered = args.flags.has('--line-buffered') || lines !== null;
  if (lineBuffered && report.schedule) throw new UsageError('--line-buffered streams rows instead of a patch schedule: leave --schedule out (or give none)');
  // The line-buffered plan: the one `schedule` would choose by --max-overhead or --max-ram (the export runs every plan:
  // global pooling and a mean or max over H and W accumulate rows).
  let streams: StreamPlan | null = null;
  if (lineBuffered) {
    const ramArg = lastValue(args, '--max-ram');
    const maxRam = ramArg === undefined ? lines?.maxRam ?? null : parseSize(ramArg);
    if (maxRam === undefined) throw new UsageError(`--max-ram '${ramArg}': expected a size such as 128K or a number of bytes`);
    streams = chooseStreamPlan(streamFrontier(scheduleContext(graph, eff.conventions)), { maxOverhead: eff.maxOverhead, maxRam });
    if (!streams) {
      io.err(`mcu-mem: ${printable(file)}: no line-buffered plan ${maxRam !== null ? `needs at most ${maxRam} B` : 'is within the MACs limit'}`);
      return EXIT_DOES_NOT_FIT;
    }
  }
  const result = generateC(graph, { ...codegenOptionsFor(report), source: path.basename(file), ...(streams ? { lineBuffered: streams.segments } : {}) });
  if (!result.ok) {
    io.err(`mcu-mem: ${printable(file)}: ${printable(result.error.message)} [${result.error.code}]`);
    return EXIT_BAD_INPUT;
  }
  const r = result.value;
  fs.mkdirSync(out, { recursive: true });
  writeGeneratedFiles(out, r.files);
  const kib = (n: number): string => `${n.toLocaleString('en-US')} B (${formatBytes(n)})`;
  const target = eff.target;
  io.out([
    `wrote ${r.files.length} files to ${out}: ${r.files.map((f) => f.path).join(', ')}`,
    `schedule: ${r.schedule ? `split after step #${r.schedule.split} ('${printable(r.schedule.stageOutput)}'), ${r.schedule.p}x${r.schedule.q} tiles (${eff.schedule === 'auto' ? 'chosen automatically: ' : ''}${printable(report.scheduleWhy)})` : streams ? `line-buffered (--line-buffered): steps ${streams.segments.map((x) => `#${x.first}-#${x.last}${x.columns > 1 ? ` in ${x.columns} column bands` : ''}`).join(', ')} streamed row by row through rings, the rest layer by layer; peak ${streams.peakBytes.toLocaleString('en-US')} B, +${(streams.overhead * 100).toFixed(1)}% MACs` : printable(report.scheduleWhy)}`,
    `arena: ${kib(r.arenaBytes)}; weights: ${kib(r.weightsBytes)}; ${r.steps} steps; kernels: ${r.kernels.join(', ')}`,
    `firmware: Flash ${kib(r.footprint.flashBytes)} (weights, kernels ${r.footprint.kernelsBytes} B, model code ${r.footprint.modelBytes} B, runtime ${r.footprint.runtimeFlashBytes} B); RAM ${kib(r.footprint.ramBytes)} + reserve ${target ? target.reserveBytes : RUNTIME_RESERVE_BYTES} B (runtime data, stack and heap)`,
    `Cortex-M link: RAM ${kib(r.ramBytes)}, Flash ${kib(r.flashBytes)}${target ? ` (${target.name})` : ' (QEMU board; pass --target to link into an MCU\'s memory)'}`,
    `next: make -C ${out} host && ${path.join(out, 'model_test')} INPUT.bin`,
  ].join('\n'));
  const fit = target ? evaluateFit(target, r.footprint.ramBytes, r.footprint.flashBytes, true, undefined, isMultiRegion(target) ? footprintPlacement(target, r.footprint) : undefined) : null;
  if (fit && !fit.fits) {
    io.err(`mcu-mem: the generated code does not fit ${target!.name} (${fit.failing.join(' and ')}): the Cortex-M build will not link`);
    return EXIT_DOES_NOT_FIT;
  }
  return EXIT_FITS;
}

function exampleCommand(args: Args, io: Io): number {
  const out = args.positional[1];
  if (!out || !/\.(onnx|tflite)$/i.test(out)) throw new UsageError('example takes an output file ending in .onnx or .tflite');
  const bytes = exampleModel(out.toLowerCase().endsWith('.onnx') ? 'onnx' : 'tflite');
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  fs.writeFileSync(out, bytes);
  io.out(`wrote ${out} (${bytes.length} bytes): a MobileNetV2-style network, 96×96×3 input`);
  return EXIT_FITS;
}

/** Why a file cannot be read, in words ("no such file", not "ENOENT: … stat"). */
function readError(file: string, e: unknown): string {
  const code = (e as { code?: string } | null)?.code;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'it is a folder, not a model file'
    : e instanceof Error ? e.message : String(e);
  return `mcu-mem: cannot read '${printable(file)}': ${printable(why)}`;
}

export function main(argv: readonly string[], io: Io): number {
  let command: string | undefined;
  try {
    if (argv.includes('--version') || argv.includes('-V')) {
      io.out(`mcu-mem ${version()}`);
      return EXIT_FITS;
    }
    const args = parseArgs(argv);
    command = args.positional[0];
    if (args.flags.has('--help') || !command) {
      (command || args.flags.has('--help') ? io.out : io.err)(USAGE);
      return command || args.flags.has('--help') ? EXIT_FITS : EXIT_BAD_INPUT;
    }
    switch (command) {
      case 'analyze': return analyzeCommand(args, io);
      case 'schedule': return scheduleCommand(args, io);
      case 'targets':
        io.out(args.flags.has('--json') ? JSON.stringify(targetsJson(BUILTIN_TARGETS), null, 2) : renderTargets(BUILTIN_TARGETS));
        return EXIT_FITS;
      case 'example': return exampleCommand(args, io);
      case 'codegen': return codegenCommand(args, io);
      case 'optimize': return optimizeCommand(args, io);
      default: throw new UsageError(`unknown command '${command}'${didYouMean(command, COMMANDS)}`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`mcu-mem: ${printable(e.message)}\n\n${usageOf(e.command ?? (command && COMMANDS.includes(command) ? command : undefined))}`);
      return EXIT_BAD_INPUT;
    }
    if (e instanceof ModelError) {
      io.err(`mcu-mem: ${printable(e.message)} [${e.code}]`);
      return EXIT_BAD_INPUT;
    }
    io.err(`mcu-mem: internal error: ${printable(e instanceof Error ? e.message : String(e))} (please report it with the model)`);
    return EXIT_BAD_INPUT;
  }
}

if (require.main === module) {
  const code = main(process.argv.slice(2), {
    out: (s) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`),
    err: (s) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`),
  });
  process.exitCode = code;
}
