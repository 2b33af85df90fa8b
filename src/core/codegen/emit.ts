// The exported folder as text: model.h/.c, weights.h/.c, the kernels used, a test harness, a Makefile with host and
// Cortex-M builds, and a bare-metal startup and linker script whose RAM is the target's SRAM.
import { KERNEL_PRELUDE_C, KERNEL_PRELUDE_H, KERNELS, kernelClosure } from './kernels';
import { arenaNames, arenaPartOf, type IoTensor, type Program, type WeightArray } from './program';
import { cText } from './c-text';
import { projectFiles } from './project';

export interface GeneratedFile {
  path: string;
  text: string;
}

export interface EmitOptions {
  /** Shown in the header comments. */
  source: string;
  scheduleText: string;
  /** Linker memory of the Cortex-M build (the target's SRAM and Flash). */
  ramBytes: number;
  flashBytes: number;
  /** The target's RAM regions, the system region (stack, data, the first arena part) first; and where Flash starts. */
  ramRegions: readonly { name: string; bytes: number; address: number }[];
  flashAddress: number;
  targetName: string;
  /** Stack and heap the linker keeps free above the static data (harness stdio included). */
  minStackBytes: number;
}

/** The arena is split over regions, or lies outside the system region: named sections that board.ld places. */
const regioned = (p: Program): boolean => p.arenas.length > 1 || p.arenas.some((a) => a.ram !== 0);
/** Arena part k's section: the system region's part stays in .bss. */
const sectionOf = (p: Program, k: number): string | null => (p.arenas[k]!.ram === 0 ? null : `.mm_arena.${k}`);

const ctypeOf = (io: IoTensor): string => (io.dtype === 'float32' ? 'float' : io.dtype === 'uint8' ? 'uint8_t' : io.dtype === 'int16' ? 'int16_t' : io.dtype === 'int32' ? 'int32_t' : io.dtype === 'int64' ? 'int64_t' : 'int8_t');
/** The pointer a model reads its input through when the input stays in the caller's buffer (program.ts's mm_in_<elem>). */
const callerInput = (io: IoTensor): { ctype: string; name: string } =>
  io.dtype === 'float32' ? { ctype: 'float', name: 'mm_in_f32' } : io.dtype === 'int16' ? { ctype: 'int16_t', name: 'mm_in_s16' } : io.dtype === 'int32' ? { ctype: 'int32_t', name: 'mm_in_s32' } : io.dtype === 'int64' ? { ctype: 'int64_t', name: 'mm_in_s64' } : { ctype: 'int8_t', name: 'mm_in_s8' };

function ioMacros(prefix: string, io: IoTensor): string[] {
  const n = io.shape.reduce((a, b) => a * b, 1);
  const lines = [
    `/* ${prefix.toLowerCase()} '${cText(io.name)}': ${io.dtype} ${io.shape.join('x')} */`,
    `typedef ${ctypeOf(io)} model_${prefix.toLowerCase()}_t;`,
    `#define MODEL_${prefix}_ELEMENTS ${n}`,
    `#define MODEL_${prefix}_BYTES ${io.bytes}`,
    `#define MODEL_${prefix}_RANK ${io.shape.length}`,
    `#define MODEL_${prefix}_SHAPE {${io.shape.join(', ')}}`,
  ];
  if (io.quant) {
    lines.push(`#define MODEL_${prefix}_SCALE ${io.quant.scale.toPrecision(9)}f`);
    lines.push(`#define MODEL_${prefix}_ZERO_POINT ${io.quant.zp}`);
  }
  return lines;
}

/** The C names of input k: macro prefix, type and accessor (one input: INPUT, model_input_t, model_input). */
function inNames(p: Program, k: number): { macro: string; type: string; fn: string } {
  const suffix = p.inputs.length === 1 ? '' : String(k);
  return { macro: `INPUT${suffix}`, type: `model_input${suffix}_t`, fn: `model_input${suffix}` };
}

/** The C names of output k: macro prefix, type and accessor (one output: OUTPUT, model_output_t, model_output). */
function outNames(p: Program, k: number): { macro: string; type: string; fn: string } {
  const suffix = p.outputs.length === 1 ? '' : String(k);
  return { macro: `OUTPUT${suffix}`, type: `model_output${suffix}_t`, fn: `model_output${suffix}` };
}

function modelH(p: Program, o: EmitOptions, weightsBytes: number): string {
  const single = p.outputs.length === 1;
  const outputMacros = p.outputs.map((io, k) => ioMacros(outNames(p, k).macro, io).join('\n')).join('\n\n');
  const multiIn = p.inputs.length > 1;
  const run = multiIn
    ? `/* model_run: runs every layer once. \`inputs[k]\`: input k (MODEL_INPUT<k>_ELEMENTS values of model_input<k>_t in the
 * layout of MODEL_INPUT<k>_SHAPE, row-major), copied into the arena unless it is NULL or model_input<k>() (then it is
 * already there). ${single ? '`output`: where to copy the results, or NULL to read them at model_output().' : 'Output k is copied to outputs[k] unless `outputs` or outputs[k] is NULL.'}
 * Returns 0. Takes no locks and allocates nothing. */
int model_run(const void *const inputs[MODEL_INPUT_COUNT], ${single ? 'model_output_t *output' : 'void *const outputs[MODEL_OUTPUT_COUNT]'});`
    : single
    ? `/* model_run: runs every layer once. \`input\`: MODEL_INPUT_ELEMENTS values of model_input_t in the layout of
 * MODEL_INPUT_SHAPE (row-major, the model's own axis order); copied into the arena unless it is model_input().
 * \`output\`: where to copy the MODEL_OUTPUT_ELEMENTS results, or NULL to read them at model_output().
 * Returns 0. Takes no locks and allocates nothing (stack use per function: the .su files of the Makefile's ARM builds). */
int model_run(const model_input_t *input, model_output_t *output);`
    : `/* model_run: runs every layer once. \`input\`: MODEL_INPUT_ELEMENTS values of model_input_t in the layout of
 * MODEL_INPUT_SHAPE (row-major, the model's own axis order); copied into the arena unless it is model_input().
 * Output k is copied to outputs[k] unless \`outputs\` or outputs[k] is NULL (then read it at model_output<k>()).
 * Returns 0. Takes no locks and allocates nothing. */
int model_run(const model_input_t *input, void *const outputs[MODEL_OUTPUT_COUNT]);`;
  const accessors = p.outputs.map((_, k) => {
    const n = outNames(p, k);
    return `const ${n.type} *${n.fn}(void);`;
  }).join('\n');
  return `#ifndef MODEL_H
#define MODEL_H
/* Generated by MCU Memory Inspector from ${cText(o.source)}.
 * Schedule: ${cText(o.scheduleText, 240)}. No dynamic allocation: one static arena, weights in const arrays.
 *
 * Use:   model_init();  then for every inference: write the input, model_run(), read the output.
 * Memory: ${regioned(p) ? `the arena is ${p.arenas.length} static array${p.arenas.length > 1 ? 's' : ''} in model.c, one per memory region (MODEL_ARENA<k>_BYTES below),
 *   each in its own linker section that board.ld places in its region;` : 'the arena is a static array of MODEL_ARENA_BYTES bytes in model.c (.bss);'} the weights are const (Flash).
 * Quantized tensors: real value = MODEL_<X>_SCALE * (q - MODEL_<X>_ZERO_POINT), with q the stored int8/uint8 value.
 * Thread safety: not reentrant. There is one arena: do not run the model from two threads, or from an interrupt
 *   while a run is in progress; serialize calls (a mutex around model_run and the output reads) if several tasks
 *   share it. The output pointers stay valid until the next model_run or model_init. */
#include <stdint.h>

/* Bytes of the activation arena: the plan the analysis reports for this schedule${regioned(p) ? ' (all regions)' : ''}. */
#define MODEL_ARENA_BYTES ${p.arenaBytes}
${regioned(p) ? p.arenas.map((a, k) => `/* Arena part ${k} in region '${cText(a.region, 60)}' (${sectionOf(p, k) ? `section ${sectionOf(p, k)}` : '.bss'}). */\n#define MODEL_ARENA${k}_BYTES ${a.bytes}\n`).join('') : ''}/* Bytes of the weights, biases and requantization parameters (const, in Flash). */
#define MODEL_WEIGHTS_BYTES ${weightsBytes}
/* Kernel calls of one run. */
#define MODEL_STEPS ${p.steps}

/* The input${multiIn ? 's' : ''}: element type, element count, bytes, rank and shape (and scale and zero point when quantized). */
#define MODEL_INPUT_COUNT ${p.inputs.length}
${p.inputs.map((io, k) => ioMacros(inNames(p, k).macro, io).join('\n')).join('\n\n')}${multiIn ? `\n/* The inputs one after another (model_test reads a file of this many bytes). */\n#define MODEL_INPUTS_BYTES ${p.inputs.reduce((a, io) => a + io.bytes, 0)}` : ''}

/* The outputs, as the input. */
#define MODEL_OUTPUT_COUNT ${p.outputs.length}
${outputMacros}

/* 1 when the input tensor${multiIn ? 's live' : ' lives'} in the arena (the analysis counted ${multiIn ? 'them' : 'it'}): write ${multiIn ? 'input k at model_input<k>() and pass NULL' : 'it at model_input() and pass that pointer'}
 * to model_run, and no second copy of the input is needed. */
#define MODEL_INPUT_IN_ARENA ${p.inputOffset >= 0 ? 1 : 0}

/* model_init: clears the arena (and resets an LSTM's state). Call it once before the first run (the arena is also cleared
   at startup as .bss; a state tensor then keeps its values from run to run, as in TFLM, until model_init). */
void model_init(void);
${run}
${p.inputOffset >= 0 ? `/* ${multiIn ? 'model_input<k>: input k' : 'model_input: the input tensor'} inside the arena. The run may overwrite it: write the input again before every run. */
${p.inputs.map((_, k) => `${inNames(p, k).type} *${inNames(p, k).fn}(void);`).join('\n')}
` : ''}/* The output tensor${single ? '' : 's'} inside the arena: valid after model_run until the next run. */
${accessors}

#endif
`;
}

function modelC(p: Program, o: EmitOptions): string {
  const single = p.outputs.length === 1;
  const lines: string[] = [];
  lines.push(`/* Generated by MCU Memory Inspector from ${cText(o.source)}. Schedule: ${cText(o.scheduleText, 240)}. */`);
  lines.push('#include <math.h>', '#include <string.h>', '#include "model.h"', '#include "mm_kernels.h"', '#include "weights.h"', '');
  if (regioned(p)) {
    lines.push('/* One static arena per memory region; every activation lives in the region and at the offset the planner gave it. */');
    p.arenas.forEach((a, k) => {
      const n = arenaNames(k);
      const section = sectionOf(p, k);
      const at = section ? ` __attribute__((section("${section}")))` : '';
      lines.push(`/* region '${cText(a.region, 60)}' */`, `static union { uint8_t bytes[MODEL_ARENA${k}_BYTES > 0 ? MODEL_ARENA${k}_BYTES : 1]; int64_t align; } ${n.array}${at};`);
      lines.push(`#define ${n.a8}(off) ((int8_t *)(${n.array}.bytes + (off)))`, `#define ${n.a16}(off) ((int16_t *)(${n.array}.bytes + (off)))`, `#define ${n.a32}(off) ((int32_t *)(${n.array}.bytes + (off)))`, `#define ${n.a64}(off) ((int64_t *)(${n.array}.bytes + (off)))`, `#define ${n.af}(off) ((float *)(${n.array}.bytes + (off)))`);
    });
    lines.push('');
  } else {
    lines.push('/* The one static arena; every activation lives at the offset the planner gave it. */');
    lines.push('static union { uint8_t bytes[MODEL_ARENA_BYTES > 0 ? MODEL_ARENA_BYTES : 1]; int64_t align; } mm_arena;');
    lines.push('#define A8(off) ((int8_t *)(mm_arena.bytes + (off)))', '#define A16(off) ((int16_t *)(mm_arena.bytes + (off)))', '#define A32(off) ((int32_t *)(mm_arena.bytes + (off)))', '#define A64(off) ((int64_t *)(mm_arena.bytes + (off)))', '#define AF(off) ((float *)(mm_arena.bytes + (off)))', '');
  }
  /** The bytes at global arena offset `off` (in whichever region's arena holds it). */
  const at = (off: number): string => { const { k, local } = arenaPartOf(p.arenas, off); return `${arenaNames(k).array}.bytes + ${local}`; };
  if (p.inputOffset < 0) {
    lines.push(`static const ${callerInput(p.input).ctype} *${callerInput(p.input).name};`, '');
  }
  lines.push(...p.params, '');
  if (p.tables.length) lines.push(...p.tables, '');
  lines.push(`void model_init(void) { ${[...p.arenas.map((_, k) => `memset(${arenaNames(k).array}.bytes, 0, sizeof ${arenaNames(k).array}.bytes);`), ...p.resets].join(' ')} }`, '');
  // uint8 tensors are stored as int8 − 128: the same bits with the top one flipped, so they are converted in place.
  const flip = (off: number, n: string): string => `  for (int32_t i = 0; i < ${n}; i++) (${at(off)})[i] ^= 0x80u;`;
  if (p.inputOffset >= 0) p.inputs.forEach((_, k) => { const n = inNames(p, k); lines.push(`${n.type} *${n.fn}(void) { return (${n.type} *)(${at(p.inputOffsets[k]!)}); }`); });
  p.outputs.forEach((_, k) => {
    const n = outNames(p, k);
    lines.push(`const ${n.type} *${n.fn}(void) { return (const ${n.type} *)(${at(p.outputOffsets[k]!)}); }`);
  });
  const inParam = p.inputs.length > 1 ? 'const void *const inputs[MODEL_INPUT_COUNT]' : 'const model_input_t *input';
  lines.push('', single ? `int model_run(${inParam}, model_output_t *output) {` : `int model_run(${inParam}, void *const outputs[MODEL_OUTPUT_COUNT]) {`);
  if (p.inputs.length > 1) {
    p.inputs.forEach((io, k) => {
      const n = inNames(p, k);
      lines.push(`  if (inputs && inputs[${k}] && inputs[${k}] != (const void *)${n.fn}()) memcpy(${n.fn}(), inputs[${k}], MODEL_${n.macro}_BYTES);`);
      if (io.dtype === 'uint8') lines.push(flip(p.inputOffsets[k]!, `MODEL_${n.macro}_BYTES`));
    });
  } else if (p.inputOffset >= 0) {
    lines.push('  if (input != model_input()) memcpy(model_input(), input, MODEL_INPUT_BYTES);');
    if (p.input.dtype === 'uint8') lines.push(flip(p.inputOffset, 'MODEL_INPUT_BYTES'));
  } else {
    lines.push(`  ${callerInput(p.input).name} = input;`);
  }
  lines.push(...p.body.map((l) => `  ${l}`));
  p.outputs.forEach((io, k) => {
    const n = outNames(p, k);
    if (io.dtype === 'uint8') lines.push(flip(p.outputOffsets[k]!, `MODEL_${n.macro}_BYTES`));
    if (single) lines.push(`  if (output && output != ${n.fn}()) memcpy(output, ${n.fn}(), MODEL_${n.macro}_BYTES);`);
    else lines.push(`  if (outputs && outputs[${k}] && outputs[${k}] != (const void *)${n.fn}()) memcpy(outputs[${k}], ${n.fn}(), MODEL_${n.macro}_BYTES);`);
  });
  lines.push('  return 0;', '}', '');
  return lines.join('\n');
}

function formatValues(w: WeightArray): string {
  const n = w.values.length;
  const parts: string[] = [];
  const line: string[] = [];
  for (let i = 0; i < n; i++) {
    const v = w.values[i]!;
    if (w.ctype === 'float') {
      const f = Math.fround(v);
      line.push(Number.isFinite(f) ? (f === 0 ? '0' : `${f.toPrecision(9)}f`) : Number.isNaN(f) ? 'NAN' : f > 0 ? 'INFINITY' : '-INFINITY');
    } else line.push(String(v));
    if (line.length === 16) { parts.push(line.join(',')); line.length = 0; }
  }
  if (line.length) parts.push(line.join(','));
  return parts.join(',\n');
}

export function weightsBytes(weights: readonly WeightArray[]): number {
  return weights.reduce((a, w) => a + w.values.length * (w.ctype === 'int8_t' ? 1 : w.ctype === 'int16_t' ? 2 : 4), 0);
}

function weightsH(weights: readonly WeightArray[]): string {
  return ['#ifndef WEIGHTS_H', '#define WEIGHTS_H', '#include <stdint.h>',
    ...weights.map((w) => `extern const ${w.ctype} ${w.name}[${Math.max(1, w.values.length)}];`), '#endif', ''].join('\n');
}

function weightsC(weights: readonly WeightArray[]): string {
  const out: string[] = ['/* Weights, biases, requantization multipliers and shifts, lookup tables: const, so they stay in Flash. */',
    '#include <math.h>', '#include "weights.h"', ''];
  for (const w of weights) {
    out.push(`const ${w.ctype} ${w.name}[${Math.max(1, w.values.length)}] = {`);
    out.push(w.values.length ? formatValues(w) : '0');
    out.push('};', '');
  }
  return out.join('\n');
}

function kernelFiles(used: Iterable<string>): GeneratedFile[] {
  const names = kernelClosure([...used].sort());
  const h = ['#ifndef MM_KERNELS_H', '#define MM_KERNELS_H', KERNEL_PRELUDE_H, ...names.map((n) => KERNELS[n]!.decl), '', '#endif', ''].join('\n');
  const c = [KERNEL_PRELUDE_C, ...names.map((n) => KERNELS[n]!.code), ''].join('\n');
  return [{ path: 'src/mm_kernels.h', text: h }, { path: 'src/mm_kernels.c', text: c }];
}

function harness(p: Program): string {
  // int64 values are printed digit by digit: newlib-nano's printf (the Cortex-M build) has no %lld.
  const fmt = (io: IoTensor, v: string): string => (io.dtype === 'float32' ? `printf("%.9g\\n", (double)${v}[i]);` : io.dtype === 'int64' ? `print_i64(${v}[i]);` : `printf("%d\\n", (int)${v}[i]);`);
  const printI64 = p.outputs.some((io) => io.dtype === 'int64')
    ? `
/* An int64 value and a newline, without printf's %lld (newlib-nano lacks it). */
static void print_i64(int64_t v) {
  char digits[21];
  int n = 0;
  uint64_t u = v < 0 ? 0u - (uint64_t)v : (uint64_t)v;
  do { digits[n++] = (char)('0' + (int)(u % 10u)); u /= 10u; } while (u != 0u);
  if (v < 0) putchar('-');
  while (n > 0) putchar(digits[--n]);
  putchar('\\n');
}
`
    : '';
  // One output: its values. Several: each behind a '# output k' line (lines starting with '#' are not values).
  const prints = p.outputs.map((io, k) => {
    const n = outNames(p, k);
    const v = `out${k}`;
    return [
      ...(p.outputs.length > 1 ? [`  printf("# output ${k} '%s'\\n", "${cText(io.name)}");`] : []),
      `  const ${n.type} *${v} = ${n.fn}();`,
      `  for (int32_t i = 0; i < MODEL_${n.macro}_ELEMENTS; i++) ${fmt(io, v)}`,
    ].join('\n');
  }).join('\n');
  // Several inputs: the file holds them one after another, in the model's order, each read into its place.
  const reads = p.inputs.length > 1
    ? ['  size_t n = 0;', ...p.inputs.map((_, k) => `  n += fread(${inNames(p, k).fn}(), 1, MODEL_${inNames(p, k).macro}_BYTES, f);`)].join('\n')
    : '  const size_t n = fread(INPUT, 1, MODEL_INPUT_BYTES, f);';
  const total = p.inputs.length > 1 ? 'MODEL_INPUTS_BYTES' : 'MODEL_INPUT_BYTES';
  return `/* Test harness: model_test INPUT.bin [--mem | --time N] reads the raw bytes of the input tensor, runs the model and prints
 * the output tensor's values, one per line. On Cortex-M (QEMU, semihosting) --mem adds lines starting with '#':
 * the stack high-water mark (measured by painting) and the heap the C library took for stdio. The input is read
 * straight into the arena when it lives there, and the output is printed from it: the harness adds no buffers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "model.h"

${printI64}#if MODEL_INPUT_COUNT > 1
#define INPUT NULL /* several inputs: read straight into the arena; model_run finds them there */
#elif MODEL_INPUT_IN_ARENA
#define INPUT model_input()
#else
static model_input_t input_buffer[MODEL_INPUT_ELEMENTS];
#define INPUT input_buffer
#endif

#if defined(__arm__) && !defined(__linux__)
#include <stddef.h>
extern char _estack[];
extern char end[];
extern void *_sbrk(ptrdiff_t increment);
static uint32_t *paint_lo, *paint_hi;
static void paint_stack(void) {
  volatile uint32_t here = 0;
  paint_hi = (uint32_t *)(((uintptr_t)&here - 256u) & ~(uintptr_t)3u);
  paint_lo = (uint32_t *)(((uintptr_t)_sbrk(0) + 1024u + 3u) & ~(uintptr_t)3u);
  for (volatile uint32_t *q = paint_lo; q < paint_hi; q++) *q = 0xA5A5A5A5u;
  (void)here;
}
static unsigned long stack_used(void) {
  const uint32_t *q = paint_lo;
  while (q < paint_hi && *q == 0xA5A5A5A5u) q++;
  return (unsigned long)((uintptr_t)_estack - (uintptr_t)q);
}
#endif

/* Reads the input tensor's raw bytes from the file into INPUT; 0 on success. */
static int read_input(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f) setvbuf(f, NULL, _IONBF, 0); /* no stdio buffer on the heap: the reserve stays small and predictable */
  if (!f) {
    fprintf(stderr, "cannot open %s\\n", path);
    return 2;
  }
${reads}
  const int extra = fgetc(f) != EOF;
  fclose(f);
  if (n != ${total} || extra) {
    fprintf(stderr, "%s: the input${p.inputs.length > 1 ? 's take' : ' tensor takes'} %lu bytes; the file holds %s%lu\\n", path, (unsigned long)${total}, extra ? "more than " : "", (unsigned long)n);
    return 2;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s INPUT.bin [--mem | --time N]\\n", argc > 0 ? argv[0] : "model_test");
    return 2;
  }
  setvbuf(stdout, NULL, _IONBF, 0);
  setvbuf(stderr, NULL, _IONBF, 0);
  const int mem = argc > 2 && strcmp(argv[2], "--mem") == 0;
  model_init();
  if (argc > 3 && strcmp(argv[2], "--time") == 0) {
    /* benchmark: --time N runs the model N times and prints the mean time per run (the input, which a run may
     * overwrite in the arena, is read again before each run, outside the timed part) */
    const long runs = strtol(argv[3], NULL, 10);
    clock_t spent = 0;
    for (long r = 0; r < runs; r++) {
      if (read_input(argv[1]) != 0) return 2;
      const clock_t t0 = clock();
      model_run(INPUT, NULL);
      spent += clock() - t0;
    }
    printf("# time per run: %.3f ms\\n", runs > 0 ? 1000.0 * (double)spent / CLOCKS_PER_SEC / (double)runs : 0.0);
  }
  if (read_input(argv[1]) != 0) return 2;
#if defined(__arm__) && !defined(__linux__)
  paint_stack();
#endif
  const int rc = model_run(INPUT, NULL);
${prints}
#if defined(__arm__) && !defined(__linux__)
  /* after printing: printf's float conversion takes stack and heap too */
  const unsigned long stack = stack_used();
  if (mem) {
    printf("# stack high-water: %lu bytes\\n", stack);
    printf("# heap (C library stdio): %lu bytes\\n", (unsigned long)((uintptr_t)_sbrk(0) - (uintptr_t)end));
  }
#else
  (void)mem;
#endif
  return rc;
}
`;
}

const STARTUP = `/* Bare-metal start for Cortex-M under QEMU (mps2-an386 / mps2-an500) with semihosting: the vector table (its first
 * word, the stack top, comes from board.ld), .data copied from Flash, .bss cleared, the FPU enabled, the command
 * line read through semihosting, then main; its return value becomes QEMU's exit status. The stack is the top of
 * the linker's RAM region, so everything the program uses lies inside the target's SRAM. */
#include <stdint.h>
#include <stdlib.h>

extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[];
extern int main(int argc, char **argv);
extern void initialise_monitor_handles(void);

void Reset_Handler(void);
void Default_Handler(void);
/* No C++ constructors or destructors: the C library's init/fini hooks are empty. */
void _init(void);
void _fini(void);
void _init(void) { }
void _fini(void) { }
void Default_Handler(void) { for (;;) { } }

__attribute__((section(".isr_vector"), used)) void (*const mm_vectors[15])(void) = {
  Reset_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
  0, 0, 0, 0, Default_Handler, Default_Handler, 0, Default_Handler,
};

static int semihost(int op, void *arg) {
  register int r0 __asm__("r0") = op;
  register void *r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

static char cmdline[256];
static char *args[8];

void Reset_Handler(void) {
  for (uint32_t *s = _sidata, *d = _sdata; d < _edata;) *d++ = *s++;
  for (uint32_t *d = _sbss; d < _ebss;) *d++ = 0;
#if defined(__ARM_FP)
  *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
  __asm__ volatile("dsb\\n\\tisb");
#endif
  initialise_monitor_handles();
  struct { char *buf; int len; } block = { cmdline, (int)sizeof cmdline - 1 };
  int argc = 0;
  if (semihost(0x15, &block) == 0) {
    char *c = cmdline;
    while (*c && argc < 8) {
      while (*c == ' ') *c++ = 0;
      if (!*c) break;
      args[argc++] = c;
      while (*c && *c != ' ') c++;
    }
  }
  exit(main(argc, args));
}
`;

const hex = (n: number): string => `0x${n.toString(16).toUpperCase().padStart(8, '0')}`;

function boardLd(p: Program, o: EmitOptions): string {
  const multi = regioned(p);
  const sys = o.ramRegions[0] ?? { name: 'SRAM', bytes: o.ramBytes, address: 0x20000000 };
  const others = p.arenas.map((a, k) => ({ k, a, r: o.ramRegions[a.ram] })).filter((x) => x.a.ram !== 0);
  const mem = multi
    ? [`  RAM   (rwx) : ORIGIN = ${hex(sys.address)}, LENGTH = ${sys.bytes} /* ${cText(sys.name, 60)}: stack, data and arena part 0 */`,
      ...others.map(({ k, a, r }) => `  RAM${k}  (rwx) : ORIGIN = ${hex(r?.address ?? 0)}, LENGTH = ${r?.bytes ?? 0} /* ${cText(a.region, 60)}: arena part ${k} */`)]
    : [`  RAM   (rwx) : ORIGIN = 0x20000000, LENGTH = ${o.ramBytes}`];
  const sections = others.map(({ k }) => `  .mm_arena.${k} (NOLOAD) : { . = ALIGN(8); KEEP(*(.mm_arena.${k})) } > RAM${k}`);
  return `/* Memory of ${cText(o.targetName)}: ${multi ? 'one RAM region per memory region the arena uses, each its size, so a build whose arena part exceeds a region does not link. QEMU\'s mps2-an386 maps code at 0x00000000, 4 MiB of RAM at 0x20000000 and 16 MiB at 0x21000000: a target whose regions lie there runs under make run-qemu.' : "RAM is the target's SRAM, so a build that needs more does not link."} */
ENTRY(Reset_Handler)
MEMORY {
  FLASH (rx)  : ORIGIN = ${hex(o.flashAddress)}, LENGTH = ${o.flashBytes}
${mem.join('\n')}
}
_estack = ORIGIN(RAM) + LENGTH(RAM);
_min_stack = ${o.minStackBytes};
SECTIONS {
  .isr_vector : { LONG(_estack); KEEP(*(.isr_vector)) } > FLASH
  .text : { *(.text*) *(.rodata*) . = ALIGN(4); } > FLASH
  .ARM.extab : { *(.ARM.extab* .gnu.linkonce.armextab.*) } > FLASH
  .ARM.exidx : { __exidx_start = .; *(.ARM.exidx*) __exidx_end = .; } > FLASH
  .init_array : { __init_array_start = .; KEEP(*(.init_array*)) __init_array_end = .; } > FLASH
  .fini_array : { __fini_array_start = .; KEEP(*(.fini_array*)) __fini_array_end = .; } > FLASH
  _sidata = LOADADDR(.data);
  .data : { . = ALIGN(4); _sdata = .; *(.data*) . = ALIGN(4); _edata = .; } > RAM AT > FLASH
  .bss (NOLOAD) : { . = ALIGN(4); _sbss = .; __bss_start__ = .; *(.bss*) *(COMMON) . = ALIGN(4); _ebss = .; __bss_end__ = .; } > RAM
  . = ALIGN(8);
  end = .; _end = .; __end__ = .;
  ASSERT(end + _min_stack <= _estack, "the model's static RAM plus the minimum stack does not fit the target's SRAM")
${sections.length ? `  /* The arena's other regions (not cleared at startup: model_init clears them). */\n${sections.join('\n')}\n` : ''}}
`;
}

function makefile(o: EmitOptions): string {
  return `# Generated by MCU Memory Inspector. Targets:
#   make host                      ./model_test INPUT.bin  (prints the output values, one per line)
#   make cortex-m4 / cortex-m7     bare-metal ELF, linked into the target's SRAM (${o.ramBytes} B) and Flash (${o.flashBytes} B)
#   make run-qemu INPUT=file.bin   runs the Cortex-M4 build on QEMU mps2-an386, reading the file through semihosting
CC ?= cc
ARM_CC ?= arm-none-eabi-gcc
ARM_SIZE ?= arm-none-eabi-size
QEMU ?= qemu-system-arm
comma := ,
WARN = -std=c99 -Wall -Wextra -Werror -fno-strict-aliasing -Isrc
SRCS = src/model.c src/weights.c src/mm_kernels.c model_test.c
HDRS = src/model.h src/weights.h src/mm_kernels.h
ARM_FLAGS = $(WARN) -mthumb -O2 -ffunction-sections -fdata-sections -fstack-usage --specs=nano.specs --specs=rdimon.specs -u _printf_float -nostartfiles -T board.ld -Wl,--gc-sections
M4 = -mcpu=cortex-m4 -mfloat-abi=hard -mfpu=fpv4-sp-d16
M7 = -mcpu=cortex-m7 -mfloat-abi=hard -mfpu=fpv5-d16

.PHONY: host cortex-m4 cortex-m7 run-qemu clean
host: model_test
model_test: $(SRCS) $(HDRS)
\t$(CC) $(WARN) -O2 -o $@ $(SRCS) -lm

cortex-m4: model_test_m4.elf
model_test_m4.elf: $(SRCS) $(HDRS) startup.c board.ld
\t$(ARM_CC) $(M4) $(ARM_FLAGS) -o $@ $(SRCS) startup.c -lm
\t$(ARM_SIZE) $@

cortex-m7: model_test_m7.elf
model_test_m7.elf: $(SRCS) $(HDRS) startup.c board.ld
\t$(ARM_CC) $(M7) $(ARM_FLAGS) -o $@ $(SRCS) startup.c -lm
\t$(ARM_SIZE) $@

run-qemu: model_test_m4.elf
\t@test -n "$(INPUT)" || { echo "usage: make run-qemu INPUT=file.bin" >&2; exit 2; }
\t@$(QEMU) -M mps2-an386 -nographic -monitor none -semihosting-config enable=on,target=native,arg=model_test,arg=$(INPUT)$(if $(MEM),$(comma)arg=--mem,) -kernel model_test_m4.elf

clean:
\trm -f model_test model_test_m4.elf model_test_m7.elf *.su *.o
`;
}

export function emitFiles(p: Program, o: EmitOptions): GeneratedFile[] {
  const wb = weightsBytes(p.weights);
  return [
    { path: 'src/model.h', text: modelH(p, o, wb) },
    { path: 'src/model.c', text: modelC(p, o) },
    { path: 'src/weights.h', text: weightsH(p.weights) },
    { path: 'src/weights.c', text: weightsC(p.weights) },
    ...kernelFiles(p.kernels),
    { path: 'model_test.c', text: harness(p) },
    { path: 'startup.c', text: STARTUP },
    { path: 'board.ld', text: boardLd(p, o) },
    { path: 'Makefile', text: makefile(o) },
    ...projectFiles({ source: o.source, arenaBytes: p.arenaBytes, weightsBytes: wb, inputInArena: p.inputOffset >= 0, inputCount: p.inputs.length, outputCount: p.outputs.length,
      ...(regioned(p) ? { extraArenas: p.arenas.flatMap((a, k) => { const section = sectionOf(p, k); return section ? [{ section, region: a.region, bytes: a.bytes }] : []; }) } : {}) }),
  ];
}
