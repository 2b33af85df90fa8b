// MCU catalogue: usable SRAM and Flash per part, from the vendors' datasheets. `reserveBytes` is SRAM the firmware
// needs besides the arena (stack, heap, C runtime, the harness): by default what the generated C measurably needs
// (RUNTIME_RESERVE_BYTES); a reserve the user gives wins.

import { RUNTIME_RESERVE_BYTES } from '../codegen/footprint';

export interface McuTarget {
  name: string;
  core: string;
  sramBytes: number;
  flashBytes: number;
  reserveBytes: number;
  notes?: string;
  /** False for user-defined targets. */
  builtin: boolean;
}

const KiB = 1024;
const MiB = 1024 * 1024;

const t = (name: string, core: string, sram: number, flash: number, notes?: string): McuTarget =>
  ({ name, core, sramBytes: sram, flashBytes: flash, reserveBytes: RUNTIME_RESERVE_BYTES, notes, builtin: true });

export const BUILTIN_TARGETS: readonly McuTarget[] = [
  t('STM32F410', 'Cortex-M4F @ 100 MHz', 32 * KiB, 128 * KiB, 'STM32F410RB; the MCUNetV2 paper\'s 32 kB VWW class'),
  t('STM32F411', 'Cortex-M4F @ 100 MHz', 128 * KiB, 512 * KiB, 'STM32F411RE'),
  t('STM32F412', 'Cortex-M4F @ 100 MHz', 256 * KiB, 1 * MiB, 'STM32F412ZG (MCUNet/MCUNetV2 board)'),
  t('STM32F746', 'Cortex-M7 @ 216 MHz', 320 * KiB, 1 * MiB, 'STM32F746NG Discovery (MCUNet/MCUNetV2 board)'),
  t('STM32F767', 'Cortex-M7 @ 216 MHz', 512 * KiB, 2 * MiB, 'STM32F767ZI'),
  t('STM32H743', 'Cortex-M7 @ 480 MHz', 512 * KiB, 2 * MiB, '512 KiB usable for one contiguous arena (AXI SRAM), as the MCUNetV2 paper counts; 1 MiB in all'),
  t('STM32L4R5', 'Cortex-M4F @ 120 MHz', 640 * KiB, 2 * MiB, 'STM32L4R5ZI'),
  t('nRF52840', 'Cortex-M4F @ 64 MHz', 256 * KiB, 1 * MiB, 'Nordic nRF52840 (Arduino Nano 33 BLE Sense)'),
  t('nRF5340', 'Cortex-M33 @ 128 MHz', 512 * KiB, 1 * MiB, 'application core'),
  t('ESP32-S3', 'Xtensa LX7 @ 240 MHz', 320 * KiB, 8 * MiB, 'of the 512 KiB internal SRAM, ESP-IDF\'s code in IRAM, its caches and its own data leave about 320 KiB of DRAM to an application (less with Wi-Fi, and less in one block; PSRAM, when fitted, is a separate, slower region); Flash is the module\'s external QSPI (8 MiB typical)'),
  t('RP2040', 'Cortex-M0+ @ 133 MHz', 264 * KiB, 2 * MiB, 'Raspberry Pi Pico: 264 KiB SRAM, 2 MiB external QSPI Flash'),
  t('i.MX RT1062', 'Cortex-M7 @ 600 MHz', 512 * KiB, 8 * MiB, '512 KiB usable for one contiguous arena: FlexRAM (as DTCM) and OCRAM are separate 512 KiB regions, 1 MiB in all; Flash external (Teensy 4.1: 8 MiB)'),
  t('SAMD51', 'Cortex-M4F @ 120 MHz', 192 * KiB, 512 * KiB, 'ATSAMD51J19A (Adafruit M4 boards)'),
  t('Apollo3', 'Cortex-M4F @ 48 MHz', 384 * KiB, 1 * MiB, 'Ambiq Apollo3 Blue (SparkFun Edge)'),
];

export interface CustomTargetSpec {
  name: string;
  sramBytes: number;
  flashBytes: number;
  reserveBytes?: number;
}

export function makeCustomTarget(spec: CustomTargetSpec): McuTarget {
  return { name: spec.name, core: 'custom', sramBytes: spec.sramBytes, flashBytes: spec.flashBytes, reserveBytes: spec.reserveBytes ?? RUNTIME_RESERVE_BYTES, builtin: false };
}

const key = (s: string): string => s.toLowerCase().replace(/[\s_.-]/g, '');

/** Finds a target by name (case, spaces, dots, dashes and underscores ignored); custom targets win over built-ins. */
export function findTarget(name: string, custom: readonly McuTarget[] = []): McuTarget | undefined {
  const k = key(name);
  return custom.find((x) => key(x.name) === k) ?? BUILTIN_TARGETS.find((x) => key(x.name) === k);
}

/** Parses sizes such as 320K, 320KiB, 1M, 1.5MiB, 262144. K/M are binary (1024). */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(k|kb|kib|m|mb|mib|b)?\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = (m[2] ?? 'b').toLowerCase();
  const mult = unit.startsWith('k') ? KiB : unit.startsWith('m') ? MiB : 1;
  const v = Math.round(Number(m[1]) * mult);
  return Number.isSafeInteger(v) ? v : undefined;
}

export type Resource = 'SRAM' | 'Flash';

/** The verdict: 'incomplete' when part of the model could not be sized and what was sized does not already exceed
 *  the target (unknown is never zero, so never 'fits'); an exceeded limit is certain even when sizes are missing. */
export type FitStatus = 'fits' | 'does-not-fit' | 'incomplete';

export interface FitResult {
  target: McuTarget;
  /** SRAM the model needs: the arena plan plus the target's reserve (a lower bound when incomplete). */
  sramNeeded: number;
  /** Flash the model needs (a lower bound when incomplete). */
  flashNeeded: number;
  /** The need is within the limit (or, when incomplete, the known part is). */
  sramFits: boolean;
  flashFits: boolean;
  /** Every operator was sized. */
  complete: boolean;
  status: FitStatus;
  /** True only for status 'fits'. */
  fits: boolean;
  /** The resources over their limit. */
  failing: Resource[];
  /** Why the verdict is incomplete, when it is for another reason than unsized operators. */
  unknown?: string;
}

export function evaluateFit(target: McuTarget, arenaBytes: number, flashBytes: number, complete = true, unknown?: string): FitResult {
  const sramNeeded = arenaBytes + target.reserveBytes;
  const sramFits = sramNeeded <= target.sramBytes;
  const flashFits = flashBytes <= target.flashBytes;
  const failing: Resource[] = [...(sramFits ? [] : ['SRAM' as const]), ...(flashFits ? [] : ['Flash' as const])];
  const status: FitStatus = failing.length > 0 ? 'does-not-fit' : complete ? 'fits' : 'incomplete';
  return { target, sramNeeded, flashNeeded: flashBytes, sramFits, flashFits, complete, status, fits: status === 'fits', failing, ...(unknown !== undefined && !complete ? { unknown } : {}) };
}

/** The verdict in words, the same on every face: "FITS", "DOES NOT FIT (SRAM and Flash)", "INCOMPLETE (...)". */
export function verdictText(fit: FitResult): string {
  if (fit.status === 'fits') return 'FITS';
  if (fit.status === 'does-not-fit') return `DOES NOT FIT (${fit.failing.join(' and ')})`;
  return `INCOMPLETE (${fit.unknown ?? 'not every operator is sized: the need is at least this'})`;
}
