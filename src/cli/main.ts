// mcu-mem: argv → core → stdout. Exit status: 0 fits (or no target given), 1 does not fit the target, 2 bad input
// or usage (message on stderr naming the problem).
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  advise, analyzeGraph, BUILTIN_TARGETS, describeSchedule, evaluateFit, evaluateSchedule, findTarget, makeCustomTarget,
  generateC, ModelError, openModel, parseSize, resolveScheduleSpec, scheduleContext, searchSchedules,
  type Conventions, type Graph, type McuTarget, type ScheduleCost, type ScheduleReport, type SearchResult,
} from '../core/index';
import { nodeExternalData } from '../node/external-data';
import { renderAnalysis, renderSchedule, renderTargets } from './render';
import { analysisJson, scheduleJson, targetsJson, type ScheduleChoice } from '../core/index';
import { exampleModel } from '../core/testing/examples';

export const EXIT_FITS = 0;
export const EXIT_DOES_NOT_FIT = 1;
export const EXIT_BAD_INPUT = 2;

const USAGE = `usage:
  mcu-mem analyze MODEL [--target NAME] [--custom-target NAME:SRAM:FLASH[:RESERVE]] [--reserve BYTES]
                        [--as-int8] [--no-input] [--inplace-dw] [--fuse-pad] [--fuse-add] [--no-fuse-act]
                        [--reorder] [--schedule auto|none|SPLIT:PxQ] [--max-overhead PCT|none] [--json]
  mcu-mem schedule MODEL [--target NAME] [--max-overhead PCT|none] [--split SPLIT:PxQ] [--advise]
                        [convention switches as for analyze] [--json]
      patch-based schedules (MCUNetV2): the Pareto set of peak SRAM against extra MACs, the best first.
      SPLIT is the step (# column of analyze) after which the patch stage ends, or its operator or output name;
      PxQ the tiles (rows x columns). --max-overhead limits the extra MACs of the whole model (default 20).
  mcu-mem codegen MODEL --out DIR [--target NAME] [--schedule none|auto|SPLIT:PxQ] [--max-overhead PCT|none]
                        [--no-input]
      writes a self-contained C99 folder: model.h/.c (static arena at the planned offsets, the patch loop),
      weights.c, the kernels used, a test harness and a Makefile (make host | cortex-m4 | cortex-m7 | run-qemu).
      The linker's RAM and Flash are the target's, so an over-budget build does not link.
  mcu-mem targets [--json]
  mcu-mem example OUT.onnx|OUT.tflite     write the bundled example model (a small MobileNetV2-style network)

Sizes take K/KiB/M/MiB suffixes (binary). Exit status: 0 fits (or no target), 1 does not fit, 2 bad input or usage.`;

class UsageError extends Error {}

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

const VALUE_OPTIONS = new Set(['--out', '--target', '--custom-target', '--reserve', '--schedule', '--max-overhead', '--split']);
const FLAGS = new Set(['--json', '--help', '--advise']);

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
      else throw new UsageError(`unknown option ${a}`);
    } else if (a === '-h') args.flags.add('--help');
    else args.positional.push(a);
  }
  return args;
}

function parseCustomTarget(spec: string): McuTarget {
  const parts = spec.split(':');
  if (parts.length < 3 || parts.length > 4 || !parts[0]) throw new UsageError(`--custom-target '${spec}': expected NAME:SRAM:FLASH[:RESERVE], e.g. board:256K:1M:16K`);
  const sizes = parts.slice(1).map((p) => parseSize(p));
  if (sizes.some((s) => s === undefined)) throw new UsageError(`--custom-target '${spec}': sizes must be numbers with optional K/M suffix`);
  return makeCustomTarget({ name: parts[0], sramBytes: sizes[0]!, flashBytes: sizes[1]!, reserveBytes: sizes[2] ?? 0 });
}

function resolveTarget(args: Args): McuTarget | null {
  const custom = (args.values.get('--custom-target') ?? []).map(parseCustomTarget);
  const names = args.values.get('--target') ?? [];
  let target: McuTarget | null = null;
  if (names.length > 0) {
    const name = names[names.length - 1]!;
    const found = findTarget(name, custom);
    if (!found) throw new UsageError(`unknown target '${name}'; run 'mcu-mem targets' for the list, or define one with --custom-target NAME:SRAM:FLASH`);
    target = { ...found };
  } else if (custom.length === 1) target = { ...custom[0]! };
  const reserve = args.values.get('--reserve');
  if (reserve) {
    const r = parseSize(reserve[reserve.length - 1]!);
    if (r === undefined) throw new UsageError(`--reserve '${reserve[reserve.length - 1]}': expected a size such as 16K`);
    if (!target) throw new UsageError('--reserve needs a target (--target or --custom-target)');
    target.reserveBytes = r;
  }
  return target;
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

/** Reads and opens MODEL; on failure writes the error and returns the exit code. */
function loadModel(file: string, io: Io): Graph | number {
  let bytes: Uint8Array;
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) throw new Error('not a regular file');
    bytes = fs.readFileSync(file);
  } catch (e) {
    io.err(`mcu-mem: cannot read '${file}': ${e instanceof Error ? e.message : String(e)}`);
    return EXIT_BAD_INPUT;
  }
  const opened = openModel(bytes, { fileName: file, externalData: nodeExternalData(path.dirname(path.resolve(file))) });
  if (!opened.ok) {
    io.err(`mcu-mem: ${file}: ${opened.error.message} [${opened.error.code}]`);
    return EXIT_BAD_INPUT;
  }
  return opened.value;
}

function conventionsOf(args: Args): Partial<Conventions> {
  const conventions: Partial<Conventions> = {};
  for (const f of args.flags) SWITCHES[f]?.(conventions);
  return conventions;
}

/** The schedule named by --schedule (none, auto: the search's best for the target, or SPLIT:PxQ) and why. */
function chooseSchedule(
  graph: Graph, conventions: Partial<Conventions>, scheduleArg: string, target: McuTarget | null, maxOverhead: number | null | undefined, perLayerArenaBytes: number,
): { choice: ScheduleChoice | null; cost: ScheduleCost | null } {
  if (scheduleArg === 'none') return { choice: null, cost: null };
  const ctx = scheduleContext(graph, conventions);
  if (scheduleArg === 'auto') {
    const r = searchSchedules(ctx, { target, maxOverhead, perLayerArenaBytes });
    return { choice: { mode: 'auto', report: r.best ? describeSchedule(ctx, r.best) : null, why: r.why }, cost: r.best };
  }
  const spec = resolveScheduleSpec(ctx, scheduleArg);
  const cost = evaluateSchedule(ctx, spec.split, spec.p, spec.q);
  return { choice: { mode: 'fixed', report: describeSchedule(ctx, cost), why: `as given: ${scheduleArg}` }, cost };
}

/** The arguments analyze, schedule and codegen share: one MODEL file, conventions, target, overhead limit. */
function modelArgs(args: Args, command: string): { file: string; conventions: Partial<Conventions>; target: McuTarget | null; maxOverhead: number | null | undefined } {
  const file = args.positional[1];
  if (!file || args.positional.length > 2) throw new UsageError(`${command} takes exactly one MODEL file`);
  return { file, conventions: conventionsOf(args), target: resolveTarget(args), maxOverhead: parseMaxOverhead(args) };
}

function analyzeCommand(args: Args, io: Io): number {
  const { file, conventions, target, maxOverhead } = modelArgs(args, 'analyze');
  const scheduleArg = lastValue(args, '--schedule') ?? 'none';
  const graph = loadModel(file, io);
  if (typeof graph === 'number') return graph;
  const analysis = analyzeGraph(graph, conventions);

  const { choice } = chooseSchedule(graph, conventions, scheduleArg, target, maxOverhead, analysis.arenaBytes);
  const arena = choice?.report ? choice.report.arenaBytes : analysis.arenaBytes;
  const fit = target ? evaluateFit(target, arena, analysis.flashBytes) : null;
  if (args.flags.has('--json')) io.out(JSON.stringify(analysisJson(file, graph, analysis, fit, choice), null, 2));
  else io.out(renderAnalysis(file, graph, analysis, fit, choice));
  return fit && !fit.fits ? EXIT_DOES_NOT_FIT : EXIT_FITS;
}

function scheduleCommand(args: Args, io: Io): number {
  const { file, conventions, target, maxOverhead } = modelArgs(args, 'schedule');
  const graph = loadModel(file, io);
  if (typeof graph === 'number') return graph;
  const analysis = analyzeGraph(graph, conventions);
  const ctx = scheduleContext(graph, conventions);
  const result: SearchResult = searchSchedules(ctx, { target, maxOverhead, perLayerArenaBytes: analysis.arenaBytes });
  const splitArg = lastValue(args, '--split');
  let chosen = result.best;
  if (splitArg) {
    const spec = resolveScheduleSpec(ctx, splitArg);
    chosen = evaluateSchedule(ctx, spec.split, spec.p, spec.q);
  }
  const best: ScheduleReport | null = chosen ? describeSchedule(ctx, chosen) : null;
  const pareto = result.pareto.map((c) => (c === result.best && best && !splitArg ? best : describeSchedule(ctx, c)));
  const advice = args.flags.has('--advise') && chosen ? advise(ctx, chosen) : null;
  const arena = best ? best.arenaBytes : analysis.arenaBytes;
  const fit = target ? evaluateFit(target, arena, analysis.flashBytes) : null;
  const doc = scheduleJson(file, ctx, analysis, result, best, splitArg ?? null, pareto, advice, fit);
  if (args.flags.has('--json')) io.out(JSON.stringify(doc, null, 2));
  else io.out(renderSchedule(doc));
  return fit && !fit.fits ? EXIT_DOES_NOT_FIT : EXIT_FITS;
}

function codegenCommand(args: Args, io: Io): number {
  const { file, conventions, target, maxOverhead } = modelArgs(args, 'codegen');
  const out = lastValue(args, '--out');
  if (!out) throw new UsageError('codegen needs --out DIR, the folder to write the C files into');
  const scheduleArg = lastValue(args, '--schedule') ?? 'none';
  const graph = loadModel(file, io);
  if (typeof graph === 'number') return graph;
  const { choice, cost } = chooseSchedule(graph, conventions, scheduleArg, target, maxOverhead, scheduleArg === 'auto' ? analyzeGraph(graph, conventions).arenaBytes : 0);
  const schedule = cost ? { split: cost.split, p: cost.p, q: cost.q } : null;
  const why = !choice ? 'no --schedule given'
    : choice.mode === 'fixed' ? `patch-based, ${choice.why}`
      : cost ? 'patch-based, chosen automatically' : `layer by layer (${choice.why})`;
  const result = generateC(graph, { conventions, schedule, target, source: path.basename(file) });
  if (!result.ok) {
    io.err(`mcu-mem: ${file}: ${result.error.message} [${result.error.code}]`);
    return EXIT_BAD_INPUT;
  }
  const r = result.value;
  fs.mkdirSync(out, { recursive: true });
  for (const f of r.files) fs.writeFileSync(path.join(out, f.path), f.text);
  const kib = (n: number): string => `${n.toLocaleString('en-US')} B (${(n / 1024).toFixed(1)} KiB)`;
  io.out([
    `wrote ${r.files.length} files to ${out}: ${r.files.map((f) => f.path).join(', ')}`,
    `schedule: ${r.schedule ? `split after step #${r.schedule.split} ('${r.schedule.stageOutput}'), ${r.schedule.p}x${r.schedule.q} tiles` : 'layer by layer'} (${why})`,
    `arena: ${kib(r.arenaBytes)}; weights: ${kib(r.weightsBytes)}; ${r.steps} steps; kernels: ${r.kernels.join(', ')}`,
    `Cortex-M link: RAM ${kib(r.ramBytes)}, Flash ${kib(r.flashBytes)}${target ? ` (${target.name})` : ' (QEMU board; pass --target to link into an MCU\'s memory)'}`,
    `next: make -C ${out} host && ${path.join(out, 'model_test')} INPUT.bin`,
  ].join('\n'));
  const fit = target ? evaluateFit(target, r.arenaBytes, r.weightsBytes) : null;
  if (fit && !fit.fits) {
    io.err(`mcu-mem: the generated code does not fit ${target!.name}: the Cortex-M build will not link`);
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

export function main(argv: readonly string[], io: Io): number {
  try {
    const args = parseArgs(argv);
    const command = args.positional[0];
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
      default: throw new UsageError(`unknown command '${command}'`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`mcu-mem: ${e.message}\n\n${USAGE}`);
      return EXIT_BAD_INPUT;
    }
    if (e instanceof ModelError) {
      io.err(`mcu-mem: ${e.message} [${e.code}]`);
      return EXIT_BAD_INPUT;
    }
    io.err(`mcu-mem: internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
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
