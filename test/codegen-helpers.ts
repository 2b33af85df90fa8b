// Builds generated C folders with the real compilers and runs them; runs onnxruntime as the reference.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeGeneratedFiles } from '../src/node/write-files';
import * as ort from 'onnxruntime-node';
import { generateC, type CodegenOptions, type CodegenOutput, type Graph } from '../src/core/index';

const ok = (cmd: string, args: string[]): boolean => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
export const HAVE_CC = ok('cc', ['--version']) && ok('make', ['--version']);
export const HAVE_ARM = ok('arm-none-eabi-gcc', ['--version']) && ok('qemu-system-arm', ['--version']);
if (!HAVE_ARM && process.env['MCU_MEM_REQUIRE_ARM'] === '1') throw new Error('MCU_MEM_REQUIRE_ARM=1 but arm-none-eabi-gcc or qemu-system-arm is missing');
export const HAVE_CMAKE = ok('cmake', ['--version']);
if (!HAVE_CMAKE && process.env['MCU_MEM_REQUIRE_ARM'] === '1') throw new Error('MCU_MEM_REQUIRE_ARM=1 but cmake is missing (scripts/setup-arm.sh installs it)');
export const SKIP_ARM = HAVE_ARM ? false : 'arm-none-eabi-gcc or qemu-system-arm is not installed (scripts/setup-arm.sh installs them)';

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `mcu-mem-${prefix}-`));
}

/** Generates the C folder for a model into `dir`; throws with the error message when export fails. */
export function generate(graph: Graph, options: CodegenOptions, dir: string): CodegenOutput {
  const r = generateC(graph, options);
  if (!r.ok) throw new Error(`codegen failed: ${r.error.message}`);
  fs.mkdirSync(dir, { recursive: true });
  writeGeneratedFiles(dir, r.value.files);
  return r.value;
}

export function make(dir: string, target: string, extra: string[] = []): { status: number; out: string } {
  const r = spawnSync('make', ['-s', '-C', dir, target, ...extra], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

/** Runs ./model_test on the input bytes; returns the printed values. */
/** The harness's outputs after `runs` runs on the same input (a model with state carries it from run to run). */
export function runHost(dir: string, input: Uint8Array, runs = 1): number[] {
  const file = path.join(dir, 'input.bin');
  fs.writeFileSync(file, input);
  const r = spawnSync(path.join(dir, 'model_test'), runs > 1 ? [file, '--time', String(runs - 1)] : [file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`model_test exited ${r.status}: ${r.stderr}`);
  return parseValues(r.stdout);
}

export function parseValues(text: string): number[] {
  return text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')).map(Number);
}

/** A firmware-style C caller of a generated model: reads the input file into its own buffer, initialises the model,
 *  then runs `body` (declarations `decls` at file scope). */
export function callerSource(decls: string, body: string): string {
  return `#include <stdio.h>
#include "model.h"
static model_input_t in[MODEL_INPUT_ELEMENTS];
${decls}
int main(int argc, char **argv) {
  FILE *f = argc > 1 ? fopen(argv[1], "rb") : NULL;
  if (!f || fread(in, 1, sizeof in, f) != sizeof in) return 2;
  fclose(f);
  model_init();
${body}
  return 0;
}
`;
}

/** The copying API: the input in the caller's buffer, the output copied into another, run twice (a run may overwrite
 *  the arena's copy of the input, never the caller's buffer). */
const CALLER_C = callerSource('static model_output_t out[MODEL_OUTPUT_ELEMENTS];', `  for (int r = 0; r < 2; r++)
    if (model_run(in, out) != 0) return 1;
  for (int i = 0; i < MODEL_OUTPUT_ELEMENTS; i++) printf("%.9g\\n", (double)out[i]);`);

/** Builds a caller (CALLER_C unless given) against a generated folder (already holding input.bin from runHost), runs
 *  it and returns the values it prints. */
export function runCaller(dir: string, source = CALLER_C): number[] {
  fs.writeFileSync(path.join(dir, 'caller.c'), source);
  const cc = spawnSync('cc', ['-std=c99', '-Wall', '-Wextra', '-Werror', '-fno-strict-aliasing', '-O2', '-Isrc', '-o', 'caller', 'src/model.c', 'src/weights.c', 'src/mm_kernels.c', 'caller.c', '-lm'], { cwd: dir, encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`cc caller.c failed:\n${cc.stderr}`);
  const r = spawnSync(path.join(dir, 'caller'), [path.join(dir, 'input.bin')], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`caller exited ${r.status}: ${r.stderr}`);
  return parseValues(r.stdout);
}

/** Generates, builds for the host and runs; the folder is removed afterwards unless `keep`. */
export function buildAndRun(graph: Graph, options: CodegenOptions, input: Uint8Array, keep = false, runs = 1): { values: number[]; out: CodegenOutput; dir: string } {
  const dir = tempDir('cg');
  const out = generate(graph, options, dir);
  const m = make(dir, 'host');
  if (m.status !== 0) throw new Error(`make host failed:\n${m.out}`);
  const values = runHost(dir, input, runs);
  if (!keep) fs.rmSync(dir, { recursive: true, force: true });
  return { values, out, dir };
}

export type OrtInput = Float32Array | Int8Array | Uint8Array;

/** onnxruntime's output (the first) for one input, as numbers. */
export async function ortRun(model: Uint8Array, input: OrtInput, dims: number[]): Promise<number[]> {
  return (await ortRunAll(model, input, dims))[0]!;
}

/** onnxruntime's outputs, in the graph's order, for one input. */
export async function ortRunAll(model: Uint8Array, input: OrtInput, dims: number[]): Promise<number[][]> {
  const session = await ort.InferenceSession.create(model);
  const type = input instanceof Float32Array ? 'float32' : input instanceof Int8Array ? 'int8' : 'uint8';
  const result = await session.run({ [session.inputNames[0]!]: new ort.Tensor(type, input, dims) });
  return session.outputNames.map((name) => Array.from(result[name]!.data as ArrayLike<number>, Number));
}

/** Largest absolute difference over the largest reference magnitude. */
export function relativeError(got: readonly number[], want: readonly number[]): number {
  if (got.length !== want.length) return Infinity;
  let d = 0;
  let m = 0;
  for (let i = 0; i < want.length; i++) {
    d = Math.max(d, Math.abs(got[i]! - want[i]!));
    m = Math.max(m, Math.abs(want[i]!));
  }
  return m === 0 ? d : d / m;
}

export const bytesOf = (a: Float32Array | Int8Array | Int16Array | Int32Array | Uint8Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Deterministic pseudo-random values in [lo, hi). */
export function randomFloats(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((hi - lo) * s) / 2 ** 32;
  }
  return out;
}

export function randomInt8(n: number, seed: number): Int8Array {
  const f = randomFloats(n, seed, -128, 128);
  return Int8Array.from(f, (v) => Math.floor(v));
}
