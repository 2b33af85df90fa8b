// MCU catalogue: usable SRAM and Flash per part, from the vendors' datasheets. `reserveBytes` is SRAM the firmware
// needs besides the arena (stack, heap, C runtime, the harness): by default what the generated C measurably needs
// (RUNTIME_RESERVE_BYTES); a reserve the user gives wins.

import { RUNTIME_RESERVE_BYTES } from '../codegen/footprint';
import type { RegionSpec } from '../analysis/regions';

/** How fast a RAM region is: tightly coupled (zero wait states), on-chip SRAM on a bus, or external (PSRAM, SDRAM).
 *  The planner fills faster classes first. */
export type SpeedClass = 'tcm' | 'sram' | 'external';
export const SPEED_CLASSES: readonly SpeedClass[] = ['tcm', 'sram', 'external'];

/** A memory region of a target: RAM the firmware may use, or Flash. */
export interface MemoryRegion {
  name: string;
  kind: 'ram' | 'flash';
  bytes: number;
  /** RAM only. */
  speed: SpeedClass;
  /** RAM only: the activation arena may be placed here. */
  arena: boolean;
  /** Start address (the generated linker script places the region's arena there). */
  address: number;
}

export interface McuTarget {
  name: string;
  core: string;
  /** All RAM the firmware may use: the sum of the RAM regions. */
  sramBytes: number;
  /** All Flash: the sum of the Flash regions. */
  flashBytes: number;
  reserveBytes: number;
  notes?: string;
  /** False for user-defined targets. */
  builtin: boolean;
  /** Several RAM regions (absent: one region of sramBytes at 0x20000000, as every target had before regions). The
   *  first RAM region is the system region: it holds the reserve (stack, heap, C runtime) and the firmware's other
   *  static data besides the arena. */
  regions?: MemoryRegion[];
}

const KiB = 1024;
const MiB = 1024 * 1024;

const t = (name: string, core: string, sram: number, flash: number, notes?: string): McuTarget =>
  ({ name, core, sramBytes: sram, flashBytes: flash, reserveBytes: RUNTIME_RESERVE_BYTES, notes, builtin: true });

const ram = (name: string, bytes: number, speed: SpeedClass, address: number, arena = true): MemoryRegion => ({ name, kind: 'ram', bytes, speed, arena, address });
const flash = (name: string, bytes: number, address: number): MemoryRegion => ({ name, kind: 'flash', bytes, speed: 'sram', arena: false, address });

/** A target with several regions: SRAM and Flash are their sums. */
const multi = (name: string, core: string, regions: MemoryRegion[], notes: string): McuTarget => ({
  name, core, notes, builtin: true, reserveBytes: RUNTIME_RESERVE_BYTES, regions,
  sramBytes: regions.filter((r) => r.kind === 'ram').reduce((a, r) => a + r.bytes, 0),
  flashBytes: regions.filter((r) => r.kind === 'flash').reduce((a, r) => a + r.bytes, 0),
});

export const BUILTIN_TARGETS: readonly McuTarget[] = [
  t('STM32F410', 'Cortex-M4F @ 100 MHz', 32 * KiB, 128 * KiB, 'STM32F410RB; the MCUNetV2 paper\'s 32 kB VWW class'),
  t('STM32F411', 'Cortex-M4F @ 100 MHz', 128 * KiB, 512 * KiB, 'STM32F411RE'),
  t('STM32F412', 'Cortex-M4F @ 100 MHz', 256 * KiB, 1 * MiB, 'STM32F412ZG (MCUNet/MCUNetV2 board)'),
  t('STM32F746', 'Cortex-M7 @ 216 MHz', 320 * KiB, 1 * MiB, 'STM32F746NG Discovery (MCUNet/MCUNetV2 board); DTCM, SRAM1 and SRAM2 are contiguous, so one arena may span them (STM32F746 regions: the busiest buffers in DTCM)'),
  multi('STM32F746 regions', 'Cortex-M7 @ 216 MHz', [
    ram('DTCM', 64 * KiB, 'tcm', 0x20000000), ram('SRAM1', 240 * KiB, 'sram', 0x20010000), ram('SRAM2', 16 * KiB, 'sram', 0x2004C000),
    flash('Flash', 1 * MiB, 0x08000000),
  ], 'STM32F746 (RM0385) with its RAM as three regions: the planner puts the busiest buffers in the zero-wait DTCM'),
  t('STM32F767', 'Cortex-M7 @ 216 MHz', 512 * KiB, 2 * MiB, 'STM32F767ZI'),
  t('STM32H743', 'Cortex-M7 @ 480 MHz', 512 * KiB, 2 * MiB, '512 KiB usable for one contiguous arena (AXI SRAM), as the MCUNetV2 paper counts; 1 MiB in all (STM32H743 regions: every RAM region)'),
  multi('STM32H743 regions', 'Cortex-M7 @ 480 MHz', [
    ram('DTCM', 128 * KiB, 'tcm', 0x20000000), ram('AXI SRAM', 512 * KiB, 'sram', 0x24000000),
    ram('SRAM1-3', 288 * KiB, 'sram', 0x30000000), ram('SRAM4', 64 * KiB, 'sram', 0x38000000),
    flash('Flash bank 1', 1 * MiB, 0x08000000), flash('Flash bank 2', 1 * MiB, 0x08100000),
  ], 'every RAM region of the STM32H743 (RM0433 memory map; ITCM kept for code): the stack and the C runtime in DTCM, as STM32CubeMX places them'),
  t('STM32L4R5', 'Cortex-M4F @ 120 MHz', 640 * KiB, 2 * MiB, 'STM32L4R5ZI'),
  t('nRF52840', 'Cortex-M4F @ 64 MHz', 256 * KiB, 1 * MiB, 'Nordic nRF52840 (Arduino Nano 33 BLE Sense)'),
  t('nRF5340', 'Cortex-M33 @ 128 MHz', 512 * KiB, 1 * MiB, 'application core'),
  t('ESP32-S3', 'Xtensa LX7 @ 240 MHz', 320 * KiB, 8 * MiB, 'of the 512 KiB internal SRAM, ESP-IDF\'s code in IRAM, its caches and its own data leave about 320 KiB of DRAM to an application (less with Wi-Fi, and less in one block; PSRAM, when fitted, is a separate, slower region); Flash is the module\'s external QSPI (8 MiB typical)'),
  multi('ESP32-S3 PSRAM', 'Xtensa LX7 @ 240 MHz', [
    ram('internal DRAM', 320 * KiB, 'sram', 0x3fc88000), ram('PSRAM', 8 * MiB, 'external', 0x3c000000),
    flash('QSPI Flash', 8 * MiB, 0x42000000),
  ], 'ESP32-S3 module with 8 MiB octal PSRAM (N8R8): the arena spills into PSRAM only for what the internal DRAM cannot hold'),
  t('RP2040', 'Cortex-M0+ @ 133 MHz', 264 * KiB, 2 * MiB, 'Raspberry Pi Pico: 264 KiB SRAM, 2 MiB external QSPI Flash'),
  t('i.MX RT1062', 'Cortex-M7 @ 600 MHz', 512 * KiB, 8 * MiB, '512 KiB usable for one contiguous arena: FlexRAM (as DTCM) and OCRAM are separate 512 KiB regions, 1 MiB in all; Flash external (Teensy 4.1: 8 MiB; i.MX RT1062 regions: both)'),
  multi('i.MX RT1062 regions', 'Cortex-M7 @ 600 MHz', [
    ram('DTCM', 384 * KiB, 'tcm', 0x20000000), ram('OCRAM', 512 * KiB, 'sram', 0x20200000),
    flash('QSPI Flash', 8 * MiB, 0x60000000),
  ], 'Teensy 4.1 layout: FlexRAM as 128 KiB ITCM (code) and 384 KiB DTCM (the stack and data), the 512 KiB OCRAM beside it'),
  t('SAMD51', 'Cortex-M4F @ 120 MHz', 192 * KiB, 512 * KiB, 'ATSAMD51J19A (Adafruit M4 boards)'),
  t('Apollo3', 'Cortex-M4F @ 48 MHz', 384 * KiB, 1 * MiB, 'Ambiq Apollo3 Blue (SparkFun Edge)'),
];

export interface CustomTargetSpec {
  name: string;
  sramBytes: number;
  flashBytes: number;
  reserveBytes?: number;
  /** RAM regions (the first holds the stack and data); SRAM is then their sum. */
  regions?: MemoryRegion[];
}

export function makeCustomTarget(spec: CustomTargetSpec): McuTarget {
  const regions = spec.regions && spec.regions.length > 0 ? spec.regions : undefined;
  const sram = regions?.some((r) => r.kind === 'ram') ? regions.filter((r) => r.kind === 'ram').reduce((a, r) => a + r.bytes, 0) : spec.sramBytes;
  return { name: spec.name, core: 'custom', sramBytes: sram, flashBytes: spec.flashBytes, reserveBytes: spec.reserveBytes ?? RUNTIME_RESERVE_BYTES, builtin: false, ...(regions ? { regions } : {}) };
}

/** Where single-region targets' RAM starts (the generated linker script's, and QEMU mps2-an386's SRAM). */
export const DEFAULT_RAM_ADDRESS = 0x20000000;

/** A target's RAM regions, the system region first; a single-region target has one, "SRAM". */
export function ramRegions(t: McuTarget): MemoryRegion[] {
  const r = t.regions?.filter((x) => x.kind === 'ram') ?? [];
  return r.length > 0 ? r : [{ name: 'SRAM', kind: 'ram', bytes: t.sramBytes, speed: 'sram', arena: true, address: DEFAULT_RAM_ADDRESS }];
}

/** The target's Flash regions (one, "Flash", when it describes none). */
export function flashRegions(t: McuTarget): MemoryRegion[] {
  const r = t.regions?.filter((x) => x.kind === 'flash') ?? [];
  return r.length > 0 ? r : [{ name: 'Flash', kind: 'flash', bytes: t.flashBytes, speed: 'sram', arena: false, address: 0 }];
}

/** More than one RAM region: the arena is planned across regions and judged per region. */
export const isMultiRegion = (t: McuTarget): boolean => ramRegions(t).length > 1;

const SPEED_RANK: Record<SpeedClass, number> = { tcm: 0, sram: 1, external: 2 };

/** The regions the arena may use, for the region planner: `ram` indexes ramRegions(t); the capacity is the region's
 *  size, less, in the system region (the first), the reserve and `staticBytes` (the firmware's RAM besides the arena). */
export function arenaRegionSpecs(t: McuTarget, staticBytes: number): { ram: number; name: string; spec: RegionSpec }[] {
  return ramRegions(t).flatMap((r, i) => (r.arena
    ? [{ ram: i, name: r.name, spec: { capacity: r.bytes - (i === 0 ? t.reserveBytes + staticBytes : 0), rank: SPEED_RANK[r.speed] } }]
    : []));
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

/** One RAM region's need: what the firmware places there against its size. */
export interface RegionFit {
  name: string;
  speed: SpeedClass;
  bytes: number;
  /** The arena's part here (and, in the system region, the firmware's other static RAM). */
  plannedBytes: number;
  /** The reserve (the system region only). */
  reserveBytes: number;
  needed: number;
  fits: boolean;
}

/** Where the firmware's RAM goes: arena bytes per RAM region (ramRegions order) and static RAM besides the arena. */
export interface RamPlacement {
  arena: number[];
  staticBytes: number;
}

export interface FitResult {
  target: McuTarget;
  /** Per RAM region (one row for a single-region target); SRAM fits when every row does. */
  regions: RegionFit[];
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

/** Without a planned placement, the RAM is one block: in the fastest region the arena may use that holds it (the
 *  system region counting the reserve), else in the largest, where it does not fit. */
function oneBlock(target: McuTarget, ramBytes: number): RamPlacement {
  const regions = ramRegions(target);
  const arena = regions.map(() => 0);
  const room = (i: number): number => regions[i]!.bytes - (i === 0 ? target.reserveBytes : 0);
  const usable = regions.map((_, i) => i).filter((i) => regions[i]!.arena || i === 0);
  const ranked = [...usable].sort((a, b) => SPEED_RANK[regions[a]!.speed] - SPEED_RANK[regions[b]!.speed] || a - b);
  const at = ranked.find((i) => ramBytes <= room(i)) ?? usable.reduce((m, i) => (room(i) > room(m) ? i : m), usable[0] ?? 0);
  arena[at] = ramBytes;
  return { arena, staticBytes: 0 };
}

/** `ramBytes`: the firmware's RAM besides the reserve; `placement`: how it is spread over the target's RAM regions
 *  (the arena per region and the static rest, which sits in the system region). */
export function evaluateFit(target: McuTarget, ramBytes: number, flashBytes: number, complete = true, unknown?: string, placement?: RamPlacement): FitResult {
  const sramNeeded = ramBytes + target.reserveBytes;
  const place = placement ?? oneBlock(target, ramBytes);
  const regions: RegionFit[] = ramRegions(target).map((r, i) => {
    const plannedBytes = (place.arena[i] ?? 0) + (i === 0 ? place.staticBytes : 0);
    const reserveBytes = i === 0 ? target.reserveBytes : 0;
    const needed = plannedBytes + reserveBytes;
    return { name: r.name, speed: r.speed, bytes: r.bytes, plannedBytes, reserveBytes, needed, fits: needed <= r.bytes };
  });
  const sramFits = regions.every((r) => r.fits) && sramNeeded <= target.sramBytes;
  const flashFits = flashBytes <= target.flashBytes;
  const failing: Resource[] = [...(sramFits ? [] : ['SRAM' as const]), ...(flashFits ? [] : ['Flash' as const])];
  const status: FitStatus = failing.length > 0 ? 'does-not-fit' : complete ? 'fits' : 'incomplete';
  return { target, regions, sramNeeded, flashNeeded: flashBytes, sramFits, flashFits, complete, status, fits: status === 'fits', failing, ...(unknown !== undefined && !complete ? { unknown } : {}) };
}

/** The verdict in words, the same on every face: "FITS", "DOES NOT FIT (SRAM and Flash)", "INCOMPLETE (...)". */
export function verdictText(fit: FitResult): string {
  if (fit.status === 'fits') return 'FITS';
  if (fit.status === 'does-not-fit') return `DOES NOT FIT (${fit.failing.join(' and ')})`;
  return `INCOMPLETE (${fit.unknown ?? 'not every operator is sized: the need is at least this'})`;
}
