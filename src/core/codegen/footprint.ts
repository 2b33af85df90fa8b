// What the firmware of a C export needs, so that "fits" means the Cortex-M build links and runs (issue 11, item 3).
// Flash: the weights exactly as weights.c emits them, the kernels the model uses and the C library functions they call
// (measured once with arm-none-eabi-gcc: footprint-data.ts), model.c (its parameter structs and patch tables exactly,
// its code estimated per statement and literal), and the runtime. RAM: the arena, the input buffer when the input is
// not in the arena, the runtime's static data, and the stack and heap the linker script keeps free (MIN_STACK_BYTES).
import { kernelClosure } from './kernels';
import { KERNEL_CODE_BYTES, KERNEL_LIBS, LIB_CODE_BYTES, RUNTIME_FLASH_BYTES, RUNTIME_RAM_BYTES } from './footprint-data';
import type { Program } from './program';
import { weightsBytes } from './emit';

/** Stack and heap the generated linker script keeps free above the static data. Measured under QEMU on every shared
 *  model that exports: stack high-water mark 308–544 B, heap 436 B (newlib-nano, unbuffered stdio). */
export const MIN_STACK_BYTES = 1792;

/** RAM the runtime needs besides the arena: its static data plus the stack and heap kept free; with the arena's
 *  alignment (the end of .bss is aligned to 8). This is every target's default reserve. */
export const RUNTIME_RESERVE_BYTES = RUNTIME_RAM_BYTES + MIN_STACK_BYTES + 16;

/** model.c code per statement and per numeric literal in model_run, and its fixed functions (init, accessors, the
 *  input and output copies): upper bounds of what arm-none-eabi-gcc -O2 emits, fitted on the shared models. */
const CODE_PER_STATEMENT = 12;
const CODE_PER_LITERAL = 7.5;
const MODEL_C_FIXED = 160;

export interface Footprint {
  /** The image in Flash: the sum of the parts below. */
  flashBytes: number;
  weightsBytes: number;
  /** Kernel code and the C library functions the kernels call. */
  kernelsBytes: number;
  /** model.c: parameter structs and patch tables (exact) and model_run's code (estimated). */
  modelBytes: number;
  runtimeFlashBytes: number;
  /** RAM besides the target's reserve: the arena and, when the input is not in it, the input buffer. */
  ramBytes: number;
  arenaBytes: number;
  /** The arena per memory region (one part for a single-region target): what the verdict judges per region. */
  arenaParts: { region: string; ram: number; bytes: number }[];
  inputBufferBytes: number;
}

/** Scalars in a C initializer: every field of the generated structs and tables is 4 bytes on a 32-bit MCU. */
function initializerScalars(decl: string): number {
  const eq = decl.indexOf('=');
  if (eq < 0) return 0;
  return (decl.slice(eq + 1).match(/[^\s{},;]+/g) ?? []).length;
}

export function programFootprint(p: Program): Footprint {
  const weights = weightsBytes(p.weights);
  const kernels = kernelClosure([...p.kernels].sort());
  const libs = new Set(kernels.flatMap((k) => KERNEL_LIBS[k] ?? []));
  const kernelsBytes = kernels.reduce((a, k) => a + (KERNEL_CODE_BYTES[k] ?? 0), 0) + [...libs].reduce((a, l) => a + (LIB_CODE_BYTES[l] ?? 0), 0);
  const constBytes = 4 * [...p.params, ...p.tables].filter((d) => d.startsWith('static const')).reduce((a, d) => a + initializerScalars(d), 0);
  const statements = p.body.filter((l) => l.trim().endsWith(';') || l.trim().endsWith('}')).length;
  const literals = p.body.reduce((a, l) => a + (l.startsWith('/*') ? 0 : (l.match(/-?\b\d+\b/g) ?? []).length), 0);
  const modelBytes = constBytes + Math.ceil(CODE_PER_STATEMENT * statements + CODE_PER_LITERAL * literals) + MODEL_C_FIXED;
  const inputBufferBytes = p.inputOffset >= 0 ? 0 : p.input.bytes;
  return {
    flashBytes: weights + kernelsBytes + modelBytes + RUNTIME_FLASH_BYTES,
    weightsBytes: weights, kernelsBytes, modelBytes, runtimeFlashBytes: RUNTIME_FLASH_BYTES,
    ramBytes: p.arenaBytes + inputBufferBytes, arenaBytes: p.arenaBytes, inputBufferBytes,
    arenaParts: p.arenas.map((a) => ({ region: a.region, ram: a.ram, bytes: a.bytes })),
  };
}
