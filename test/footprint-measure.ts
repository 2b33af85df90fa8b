// Measures, with arm-none-eabi-gcc and the Cortex-M4 flags of the generated Makefile, what the firmware needs besides
// the arena and the weights: each kernel's code, the C library functions the kernels call, the runtime (harness,
// startup, newlib-nano's stdio) and its static RAM. The results are the data in src/core/codegen/footprint-data.ts,
// which the verdict uses; the footprint test re-measures and requires them to be current.
//   node out/test/footprint-measure.js            print the measurement
//   node out/test/footprint-measure.js --write    rewrite src/core/codegen/footprint-data.ts
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeGeneratedFiles } from '../src/node/write-files';
import { generateC, openModel } from '../src/core/index';
import { KERNEL_PRELUDE_C, KERNEL_PRELUDE_H, KERNELS, kernelClosure } from '../src/core/codegen/kernels';
import { OnnxBuilder } from '../src/core/testing/onnx-builder';
import { tempDir } from './codegen-helpers';
import { ROOT } from './helpers';

export interface FootprintData {
  kernelCode: Record<string, number>;
  kernelLibs: Record<string, string[]>;
  libCode: Record<string, number>;
  runtimeFlash: number;
  runtimeRam: number;
}

const M4 = ['-mcpu=cortex-m4', '-mfloat-abi=hard', '-mfpu=fpv4-sp-d16'];
const FLAGS = ['-std=c99', '-fno-strict-aliasing', '-mthumb', '-O2', '-ffunction-sections', '-fdata-sections'];
const LINK = ['--specs=nano.specs', '--specs=rdimon.specs', '-u', '_printf_float', '-nostartfiles', '-T', 'board.ld', '-Wl,--gc-sections'];

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

/** Bytes an image takes in Flash (text + initialised data) and in RAM (data + bss). */
export function imageSize(elf: string): { flash: number; ram: number } {
  const [text, data, bss] = run('arm-none-eabi-size', [elf], path.dirname(elf)).trim().split('\n').pop()!.trim().split(/\s+/).map(Number) as [number, number, number];
  return { flash: text + data, ram: data + bss };
}

/** Functions each kernel's code defines (static or not). */
function definedFunctions(code: string): string[] {
  return [...code.matchAll(/^(?:static\s+)?(?:inline\s+)?[\w\s*]*?\b(mm_\w+)\s*\([^;]*\)\s*\{/gm)].map((m) => m[1]!);
}

/** A tiny float model (one Relu) whose export gives the harness, startup and linker script. */
function tinyModel(): Uint8Array {
  const b = new OnnxBuilder(13);
  b.node('Relu', [b.input('x', [1, 4])], {}, ['y']);
  b.output('y', [1, 4]);
  return b.build();
}

export function measureFootprint(): FootprintData {
  const dir = tempDir('footprint');
  try {
    // Kernel code: every kernel in one object, function by function.
    const names = kernelClosure(Object.keys(KERNELS)); // dependencies first, as in an export
    fs.writeFileSync(path.join(dir, 'mm_kernels.h'), [KERNEL_PRELUDE_H, ...names.map((n) => KERNELS[n]!.decl)].join('\n'));
    fs.writeFileSync(path.join(dir, 'mm_kernels.c'), [KERNEL_PRELUDE_C, ...names.map((n) => KERNELS[n]!.code)].join('\n'));
    run('arm-none-eabi-gcc', [...M4, ...FLAGS, '-c', 'mm_kernels.c', '-o', 'k.o'], dir);
    const sizes = new Map<string, number>();
    for (const line of run('arm-none-eabi-nm', ['-S', 'k.o'], dir).split('\n')) {
      const p = line.trim().split(/\s+/);
      if (p.length === 4 && /[tT]/.test(p[2]!)) sizes.set(p[3]!, parseInt(p[1]!, 16));
    }
    const undefinedSyms = new Set(run('arm-none-eabi-nm', ['-u', 'k.o'], dir).split('\n').map((l) => l.trim().split(/\s+/).pop()!).filter(Boolean));
    // Library symbols each function's section refers to.
    const refs = new Map<string, Set<string>>();
    let section = '';
    for (const line of run('arm-none-eabi-objdump', ['-r', 'k.o'], dir).split('\n')) {
      const m = /RELOCATION RECORDS FOR \[\.text\.(\w+)\]/.exec(line);
      if (m) { section = m[1]!; continue; }
      const sym = line.trim().split(/\s+/)[2];
      if (section && sym && undefinedSyms.has(sym)) refs.set(section, new Set([...(refs.get(section) ?? []), sym]));
    }
    const kernelCode: Record<string, number> = {};
    const kernelLibs: Record<string, string[]> = {};
    for (const n of names) {
      const fns = definedFunctions(KERNELS[n]!.code);
      kernelCode[n] = fns.reduce((a, f) => a + (sizes.get(f) ?? 0), 0);
      kernelLibs[n] = [...new Set(fns.flatMap((f) => [...(refs.get(f) ?? [])]))].sort();
    }
    // The runtime: the harness and startup of a real export, with the model replaced by a stub.
    const g = openModel(tinyModel(), { fileName: 'tiny.onnx' });
    if (!g.ok) throw new Error(g.error.message);
    const c = generateC(g.value, {});
    if (!c.ok) throw new Error(c.error.message);
    writeGeneratedFiles(dir, c.value.files);
    const stub = `#include <string.h>
#include "model.h"
static float mm_stub[8];
void model_init(void) { memset(mm_stub, 0, sizeof mm_stub); }
model_input_t *model_input(void) { return (model_input_t *)mm_stub; }
const model_output_t *model_output(void) { return (const model_output_t *)(mm_stub + 4); }
void mm_extra(void);
int model_run(const model_input_t *input, model_output_t *output) { (void)input; (void)output; mm_extra(); return 0; }
`;
    fs.writeFileSync(path.join(dir, 'stub.c'), stub);
    const link = (extra: string, out: string): { flash: number; ram: number } => {
      fs.writeFileSync(path.join(dir, 'extra.c'), extra);
      run('arm-none-eabi-gcc', [...M4, ...FLAGS, '-Isrc', ...LINK, '-o', out, 'model_test.c', 'startup.c', 'stub.c', 'extra.c', '-lm'], dir);
      return imageSize(path.join(dir, out));
    };
    const base = link('void mm_extra(void);\nvoid mm_extra(void) { }\n', 'base.elf');
    run('arm-none-eabi-gcc', [...M4, ...FLAGS, '-Isrc', '-c', 'stub.c', '-o', 'stub.o'], dir);
    const stubSize = imageSize(path.join(dir, 'stub.o'));
    const libCode: Record<string, number> = {};
    for (const sym of [...new Set(Object.values(kernelLibs).flat())].sort()) {
      // mm_extra keeps the function: it stores its address (a few bytes of code, counted against the function).
      const withSym = link(`extern char ${sym}[];\nvoid mm_extra(void);\nvoid mm_extra(void) { static void *volatile keep; keep = (void *)${sym}; }\n`, `lib_${sym}.elf`);
      libCode[sym] = Math.max(0, withSym.flash - base.flash);
    }
    return { kernelCode, kernelLibs, libCode, runtimeFlash: base.flash - stubSize.flash, runtimeRam: base.ram - stubSize.ram };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function footprintSource(d: FootprintData): string {
  const rec = (o: Record<string, unknown>): string => Object.entries(o).map(([k, v]) => `  ${k}: ${JSON.stringify(v).replace(/"/g, "'").replace(/,/g, ', ')},`).join('\n');
  return `// Generated by test/footprint-measure.ts (node out/test/footprint-measure.js --write) with arm-none-eabi-gcc, Cortex-M4,
// -O2, newlib-nano: what the firmware holds besides the arena and the weights. Do not edit; the footprint test
// re-measures and fails when this is out of date.

/** Code bytes of each kernel's own functions. */
export const KERNEL_CODE_BYTES: Readonly<Record<string, number>> = {
${rec(d.kernelCode)}
};

/** C library functions each kernel calls. */
export const KERNEL_LIBS: Readonly<Record<string, readonly string[]>> = {
${rec(d.kernelLibs)}
};

/** Flash a C library function adds to the runtime, with what it pulls in. */
export const LIB_CODE_BYTES: Readonly<Record<string, number>> = {
${rec(d.libCode)}
};

/** Flash of the runtime: test harness, startup, newlib-nano stdio and semihosting. */
export const RUNTIME_FLASH_BYTES = ${d.runtimeFlash};

/** Static RAM of the runtime (.data and .bss besides the arena). */
export const RUNTIME_RAM_BYTES = ${d.runtimeRam};
`;
}

if (require.main === module) {
  const d = measureFootprint();
  if (process.argv.includes('--write')) {
    fs.writeFileSync(path.join(ROOT, 'src', 'core', 'codegen', 'footprint-data.ts'), footprintSource(d));
    console.log('wrote src/core/codegen/footprint-data.ts');
  } else console.log(JSON.stringify(d, null, 2));
}
