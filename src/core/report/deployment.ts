// The deployment file `<model>.mcu.json` (SPEC §2.1) and the settings it overrides: target, reserve, analysis
// conventions, the patch schedule, the MACs-overhead limit and C export options. Parsing is tolerant: every field
// that is wrong is reported as a problem (with its JSON path) and left at its default, so a half-edited file still
// analyses. The JSON schema VS Code validates with is media/mcu-deployment.schema.json; a test checks both agree.
import type { Conventions } from '../analysis/conventions';
import { DEFAULT_CONVENTIONS } from '../analysis/conventions';
import { BUILTIN_TARGETS, DEFAULT_RAM_ADDRESS, findTarget, makeCustomTarget, parseSize, SPEED_CLASSES, type McuTarget, type MemoryRegion, type SpeedClass } from '../mcu/catalogue';
import type { ScheduleRef } from '../schedule/spec';

/** A memory region as users write it; RAM unless kind is "flash". */
export interface RegionSetting {
  name: string;
  size: string | number;
  kind?: 'ram' | 'flash';
  /** RAM: "tcm", "sram" (the default) or "external". */
  speed?: SpeedClass;
  /** RAM: whether the arena may use it (default true). */
  arena?: boolean;
  /** Start address, a number or "0x…" (default: 0x20000000 for the first RAM region, then after the previous). */
  address?: string | number;
}

export interface CustomTargetSetting {
  name: string;
  /** Optional when RAM regions are given (their sum). */
  sram?: string | number;
  flash: string | number;
  reserve?: string | number;
  /** Memory regions; the first RAM region holds the stack and data. */
  regions?: RegionSetting[];
}

/** What runs the model on the MCU: the C export ('c', the default) or TFLM with the .tflite file ('tflm'). */
export type Runtime = 'c' | 'tflm';
export const RUNTIMES: readonly Runtime[] = ['c', 'tflm'];

/** A schedule as users write it: `after` is a step #, an operator name or the stage output's name. */
export type ScheduleSetting = ScheduleRef;

/** A line-buffered plan named by its RAM: of the front, the one with the fewest extra MACs whose peak is at most
 *  maxRam bytes (what a quick fix applies: the point it shows). */
export interface LinesSetting { lines: { maxRam: number } }

/** What the `schedule` field holds: 'none', 'auto', 'lines' (the least peak within maxMacsOverhead), a line-buffered
 *  plan by RAM, or a patch schedule. */
export type ScheduleField = 'auto' | 'none' | 'lines' | LinesSetting | ScheduleSetting;

export const isLinesSetting = (s: ScheduleField): s is LinesSetting => typeof s === 'object' && 'lines' in s;
export const isPatchSetting = (s: ScheduleField): s is ScheduleSetting => typeof s === 'object' && 'after' in s;

/** The budget that picks a line-buffered plan from the front, or null when the choice is not line-buffered. */
export function linesBudget(s: ScheduleField, maxOverhead: number | null): { maxOverhead: number | null; maxRam: number | null } | null {
  if (s === 'lines') return { maxOverhead, maxRam: null };
  return isLinesSetting(s) ? { maxOverhead: null, maxRam: s.lines.maxRam } : null;
}

/** The choice in words: "auto", "none", "lines", "lines within 64,000 B of RAM", or the patch schedule's reference. */
export function scheduleFieldText(s: ScheduleField, refText: (r: ScheduleSetting) => string): string {
  if (typeof s === 'string') return s;
  return isLinesSetting(s) ? `lines within ${s.lines.maxRam.toLocaleString('en-US')} B of RAM` : refText(s);
}

export interface Deployment {
  target?: string | CustomTargetSetting;
  reserve?: string | number;
  conventions?: Partial<Conventions>;
  /** 'none' (the default): layer by layer; 'auto': the patch search's best; 'lines': the line-buffered plan of least
   *  peak within maxMacsOverhead (rows streamed through fused segments); {lines: {maxRam}}: the line-buffered plan
   *  with the fewest extra MACs within maxRam; or a given patch schedule. */
  schedule?: ScheduleField;
  /** Percent of the model's MACs; null: no limit. */
  maxMacsOverhead?: number | null;
  codegen?: { outputFolder?: string };
  runtime?: Runtime;
}

/** Settings (`mcuMemory.*` in VS Code) with their defaults. */
export interface Settings {
  target: string;
  customTargets: CustomTargetSetting[];
  /** Null: the target's own default reserve. */
  reserveBytes: number | null;
  maxMacsOverhead: number | null;
  conventions: Partial<Conventions>;
  codegenOutputFolder: string;
  runtime: Runtime;
}

export const DEFAULT_SETTINGS: Readonly<Settings> = {
  target: 'STM32F746',
  customTargets: [],
  reserveBytes: null,
  maxMacsOverhead: 20,
  conventions: {},
  codegenOutputFolder: 'mcu_model',
  runtime: 'c',
};

export interface DeploymentProblem {
  /** JSON path of the offending value, e.g. "schedule.tiles". */
  path: string;
  message: string;
}

export interface ParsedDeployment {
  deployment: Deployment;
  problems: DeploymentProblem[];
}

const CONVENTION_KEYS = Object.keys(DEFAULT_CONVENTIONS) as (keyof Conventions)[];
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const sizeOk = (v: unknown): boolean => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) || (typeof v === 'string' && parseSize(v) !== undefined);

const MAX_REGIONS = 16;
const addressOk = (v: unknown): boolean => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= 0xffffffff) || (typeof v === 'string' && parseAddress(v) !== undefined);

/** "0x20000000" or a decimal number, within 32 bits. */
export function parseAddress(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 && v <= 0xffffffff ? v : undefined;
  const m = /^\s*(0x[0-9a-f]{1,8}|\d{1,10})\s*$/i.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n <= 0xffffffff ? n : undefined;
}

/** A custom target's regions; undefined (with problems) when one is malformed. */
function parseRegions(raw: unknown, path: string, problems: DeploymentProblem[]): RegionSetting[] | undefined {
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_REGIONS) {
    problems.push({ path, message: `regions must be a list of 1 to ${MAX_REGIONS} regions {name, size, kind?, speed?, arena?, address?}` });
    return undefined;
  }
  const out: RegionSetting[] = [];
  let ok = true;
  raw.forEach((r: unknown, i) => {
    const at = `${path}[${i}]`;
    if (!isObject(r) || typeof r.name !== 'string' || !r.name || !sizeOk(r.size)) { problems.push({ path: at, message: 'a region needs a name and a size (such as 64K or bytes)' }); ok = false; return; }
    const bad = (field: string, message: string): void => { problems.push({ path: `${at}.${field}`, message }); ok = false; };
    if (r.kind !== undefined && r.kind !== 'ram' && r.kind !== 'flash') bad('kind', 'kind must be "ram" or "flash"');
    if (r.speed !== undefined && !(SPEED_CLASSES as unknown[]).includes(r.speed)) bad('speed', `speed must be one of ${SPEED_CLASSES.map((x) => `"${x}"`).join(', ')}`);
    if (r.arena !== undefined && typeof r.arena !== 'boolean') bad('arena', 'arena must be true or false');
    if (r.address !== undefined && !addressOk(r.address)) bad('address', 'address must be a 32-bit number or "0x…"');
    for (const k of Object.keys(r)) if (!['name', 'size', 'kind', 'speed', 'arena', 'address'].includes(k)) bad(k, `unknown field '${k}'`);
    out.push({ name: r.name, size: r.size as string | number, ...(r.kind !== undefined ? { kind: r.kind as 'ram' | 'flash' } : {}), ...(r.speed !== undefined ? { speed: r.speed as SpeedClass } : {}),
      ...(typeof r.arena === 'boolean' ? { arena: r.arena } : {}), ...(r.address !== undefined ? { address: r.address as string | number } : {}) });
  });
  if (ok && out.some((r) => r.kind !== 'flash') && !out.some((r) => r.kind !== 'flash' && r.arena !== false)) {
    problems.push({ path, message: 'the arena may use none of the RAM regions: give at least one "arena": true' });
    return undefined;
  }
  return ok ? out : undefined;
}

/** Reads a deployment file's text. Never throws: malformed JSON is one problem and an empty deployment. */
export function parseDeployment(text: string): ParsedDeployment {
  const problems: DeploymentProblem[] = [];
  let raw: unknown;
  try {
    raw = text.trim() === '' ? {} : JSON.parse(text);
  } catch (e) {
    return { deployment: {}, problems: [{ path: '', message: `not valid JSON: ${e instanceof Error ? e.message : String(e)}` }] };
  }
  if (!isObject(raw)) return { deployment: {}, problems: [{ path: '', message: 'the deployment file must hold a JSON object' }] };
  const d: Deployment = {};
  const known = new Set(['$schema', 'target', 'reserve', 'conventions', 'schedule', 'maxMacsOverhead', 'codegen', 'runtime']);
  for (const k of Object.keys(raw)) if (!known.has(k)) problems.push({ path: k, message: `unknown field '${k}'` });

  const t = raw.target;
  if (typeof t === 'string') d.target = t;
  else if (isObject(t)) {
    const regions = t.regions === undefined ? undefined : parseRegions(t.regions, 'target.regions', problems);
    const hasRam = regions !== undefined && regions.some((r) => r.kind !== 'flash');
    if (typeof t.name === 'string' && t.name && (sizeOk(t.sram) || (hasRam && t.sram === undefined)) && sizeOk(t.flash) && (t.reserve === undefined || sizeOk(t.reserve)) && (t.regions === undefined || regions !== undefined)) {
      d.target = { name: t.name, ...(t.sram !== undefined ? { sram: t.sram as string | number } : {}), flash: t.flash as string | number, ...(t.reserve !== undefined ? { reserve: t.reserve as string | number } : {}), ...(regions ? { regions } : {}) };
    } else if (t.regions === undefined || regions !== undefined) problems.push({ path: 'target', message: 'a custom target needs name, flash and sram or RAM regions (sizes such as 256K or bytes)' });
  } else if (t !== undefined) problems.push({ path: 'target', message: 'target must be a catalogue name or {name, sram, flash, reserve?, regions?}' });

  if (raw.reserve !== undefined) {
    if (sizeOk(raw.reserve)) d.reserve = raw.reserve as string | number;
    else problems.push({ path: 'reserve', message: 'reserve must be a size such as 16K or a number of bytes' });
  }

  if (raw.conventions !== undefined) {
    if (!isObject(raw.conventions)) problems.push({ path: 'conventions', message: 'conventions must be an object of booleans' });
    else {
      const c: Partial<Conventions> = {};
      for (const [k, v] of Object.entries(raw.conventions)) {
        if (!(CONVENTION_KEYS as string[]).includes(k)) problems.push({ path: `conventions.${k}`, message: `unknown convention '${k}' (known: ${CONVENTION_KEYS.join(', ')})` });
        else if (typeof v !== 'boolean') problems.push({ path: `conventions.${k}`, message: `${k} must be true or false` });
        else c[k as keyof Conventions] = v;
      }
      d.conventions = c;
    }
  }

  const s = raw.schedule;
  const usage = 'schedule must be "auto", "none", "lines", {lines: {maxRam: size}} or {after: step # or name, tiles: [p, q]}';
  if (s === 'auto' || s === 'none' || s === 'lines') d.schedule = s;
  else if (isObject(s) && 'lines' in s) {
    const ram = isObject(s.lines) ? s.lines.maxRam : undefined;
    const bytes = typeof ram === 'number' && Number.isSafeInteger(ram) && ram > 0 ? ram : typeof ram === 'string' ? parseSize(ram) : undefined;
    if (bytes !== undefined && bytes > 0 && Object.keys(s).length === 1) d.schedule = { lines: { maxRam: bytes } };
    else problems.push({ path: 'schedule.lines', message: `${usage}: maxRam is a size such as 64K or a number of bytes` });
  } else if (isObject(s)) {
    const tiles = s.tiles;
    const after = s.after;
    const tilesOk = Array.isArray(tiles) && tiles.length === 2 && tiles.every((x) => Number.isInteger(x) && (x as number) >= 1 && (x as number) <= 64);
    const afterOk = (typeof after === 'string' && after !== '') || (typeof after === 'number' && Number.isInteger(after) && after >= 0);
    if (tilesOk && afterOk) d.schedule = { after: after as string | number, tiles: [tiles[0] as number, tiles[1] as number] };
    else problems.push({ path: 'schedule', message: usage });
  } else if (s !== undefined) problems.push({ path: 'schedule', message: usage });

  if (raw.maxMacsOverhead !== undefined) {
    const m = raw.maxMacsOverhead;
    if (m === null || (typeof m === 'number' && m >= 0 && Number.isFinite(m))) d.maxMacsOverhead = m;
    else problems.push({ path: 'maxMacsOverhead', message: 'maxMacsOverhead must be a percentage (e.g. 20) or null for no limit' });
  }
  if (raw.codegen !== undefined) {
    if (isObject(raw.codegen) && (raw.codegen.outputFolder === undefined || typeof raw.codegen.outputFolder === 'string')) {
      d.codegen = raw.codegen.outputFolder === undefined ? {} : { outputFolder: raw.codegen.outputFolder as string };
    } else problems.push({ path: 'codegen', message: 'codegen must be {outputFolder?: string}' });
  }
  if (raw.runtime !== undefined) {
    if ((RUNTIMES as unknown[]).includes(raw.runtime)) d.runtime = raw.runtime as Runtime;
    else problems.push({ path: 'runtime', message: `runtime must be one of ${RUNTIMES.map((r) => `"${r}"`).join(', ')}` });
  }
  return { deployment: d, problems };
}

/** Where a setting in force came from. Later layers win: defaults ← VS Code settings (or the CLI's defaults) ←
 *  `<model>.mcu.json` ← options given on the command line. */
export type SettingOrigin = 'default' | 'settings' | 'deployment' | 'flag';
export type SettingKey = 'target' | 'reserve' | 'conventions' | 'schedule' | 'maxMacsOverhead' | 'codegenOutputFolder' | 'runtime';

/** One layer of settings, in the deployment file's vocabulary. */
export interface SettingsLayer {
  origin: SettingOrigin;
  values: Deployment;
  /** Custom targets that a target name in this or a later layer may refer to. */
  customTargets?: CustomTargetSetting[];
  /** Problems found reading the layer (a deployment file's). */
  problems?: DeploymentProblem[];
}

/** What an analysis runs with: the layers resolved. */
export interface Effective {
  /** Null when no layer names a target (the CLI without --target): no verdict. */
  target: McuTarget | null;
  conventions: Partial<Conventions>;
  schedule: ScheduleField;
  /** Fraction (0.2 = 20%) or null. */
  maxOverhead: number | null;
  codegenOutputFolder: string;
  runtime: Runtime;
  problems: DeploymentProblem[];
  origins: Record<SettingKey, SettingOrigin>;
}

/** A custom target from settings or the deployment file; null when a size or an address does not parse. */
export function customTarget(c: CustomTargetSetting): McuTarget | null {
  const size = (v: string | number | undefined): number | undefined => (v === undefined ? undefined : typeof v === 'number' ? v : parseSize(v));
  const flash = size(c.flash);
  const reserve = size(c.reserve);
  // Settings arrive unchecked: the regions are validated as the deployment file's are.
  const checked = c.regions === undefined ? undefined : parseRegions(c.regions, 'regions', []);
  if (c.regions !== undefined && checked === undefined) return null;
  const regions = checked ? customRegions(checked) : undefined;
  if (regions === null) return null;
  const sram = c.sram !== undefined ? size(c.sram) : regions?.filter((r) => r.kind === 'ram').reduce((a, r) => a + r.bytes, 0);
  if (sram === undefined || flash === undefined || (c.reserve !== undefined && reserve === undefined)) return null;
  return makeCustomTarget({ name: c.name, sramBytes: sram, flashBytes: flash, ...(reserve !== undefined ? { reserveBytes: reserve } : {}), ...(regions ? { regions } : {}) });
}

/** Regions with sizes and addresses resolved: a RAM region without an address follows the previous one (the first
 *  starts at 0x20000000); Flash without one starts at 0. Null when a value does not parse. */
function customRegions(list: readonly RegionSetting[]): MemoryRegion[] | null {
  const out: MemoryRegion[] = [];
  let nextRam = DEFAULT_RAM_ADDRESS;
  let nextFlash = 0;
  for (const r of list) {
    const bytes = typeof r.size === 'number' ? r.size : parseSize(r.size);
    const given = r.address === undefined ? undefined : parseAddress(r.address);
    if (bytes === undefined || !Number.isSafeInteger(bytes) || bytes < 0 || (r.address !== undefined && given === undefined)) return null;
    const kind = r.kind ?? 'ram';
    const address = given ?? (kind === 'ram' ? nextRam : nextFlash);
    if (kind === 'ram') nextRam = address + bytes; else nextFlash = address + bytes;
    out.push({ name: r.name, kind, bytes, speed: r.speed ?? 'sram', arena: kind === 'ram' && (r.arena ?? true), address });
  }
  return out;
}

/** Resolves settings layers (lowest priority first). A layer's unknown target is a problem and leaves the one before. */
export function resolveSettings(layers: readonly SettingsLayer[]): Effective {
  const problems = layers.flatMap((l) => l.problems ?? []);
  const customs = layers.flatMap((l) => l.customTargets ?? []).map(customTarget).filter((t): t is McuTarget => t !== null);
  const origins: Record<SettingKey, SettingOrigin> = {
    target: 'default', reserve: 'default', conventions: 'default', schedule: 'default', maxMacsOverhead: 'default', codegenOutputFolder: 'default',
    runtime: 'default',
  };
  let target: McuTarget | null = null;
  /** The target's own definition gives its reserve (a custom target with `reserve`). */
  let targetReserve = false;
  let reserve: number | undefined;
  let conventions: Partial<Conventions> = {};
  let schedule: Effective['schedule'] = 'none';
  let overhead: number | null = DEFAULT_SETTINGS.maxMacsOverhead;
  let folder = DEFAULT_SETTINGS.codegenOutputFolder;
  let runtime = DEFAULT_SETTINGS.runtime;
  for (const { origin, values: d } of layers) {
    if (isObject(d.target)) {
      const t = customTarget(d.target as CustomTargetSetting);
      if (t) {
        target = t;
        origins.target = origin;
        targetReserve = d.target.reserve !== undefined;
        if (targetReserve) reserve = undefined; // its own reserve wins over one from an earlier layer
      } else problems.push({ path: 'target', message: `custom target '${d.target.name}': a size does not parse` });
    } else if (typeof d.target === 'string') {
      const t = findTarget(d.target, customs);
      if (t) {
        target = t;
        origins.target = origin;
        const c = layers.flatMap((l) => l.customTargets ?? []).find((x) => x.name === t.name && !t.builtin);
        targetReserve = c?.reserve !== undefined;
        if (targetReserve) reserve = undefined;
      } else {
        problems.push({ path: 'target', message: `unknown target '${d.target}' (known: ${BUILTIN_TARGETS.map((x) => x.name).join(', ')}${customs.length ? `, ${customs.map((x) => x.name).join(', ')}` : ''})` });
      }
    }
    if (d.reserve !== undefined) {
      const r = typeof d.reserve === 'number' ? d.reserve : parseSize(d.reserve);
      if (r !== undefined) { reserve = r; origins.reserve = origin; }
    }
    if (d.conventions && Object.keys(d.conventions).length > 0) { conventions = { ...conventions, ...d.conventions }; origins.conventions = origin; }
    if (d.schedule !== undefined) { schedule = d.schedule; origins.schedule = origin; }
    if (d.maxMacsOverhead !== undefined) { overhead = d.maxMacsOverhead; origins.maxMacsOverhead = origin; }
    if (d.codegen?.outputFolder !== undefined) { folder = d.codegen.outputFolder; origins.codegenOutputFolder = origin; }
    if (d.runtime !== undefined) { runtime = d.runtime; origins.runtime = origin; }
  }
  if (target) {
    target = { ...target };
    // A reserve given in any layer wins over the target's own; otherwise the target's default reserve applies.
    if (reserve !== undefined) target.reserveBytes = reserve;
    else origins.reserve = targetReserve ? origins.target : 'default';
  }
  return { target, conventions, schedule, maxOverhead: overhead === null ? null : overhead / 100, codegenOutputFolder: folder, runtime, problems, origins };
}

/** VS Code's settings as layers: the defaults, then what the user changed. */
export function settingsLayers(settings: Settings): SettingsLayer[] {
  const values: Deployment = {};
  if (settings.target !== DEFAULT_SETTINGS.target) values.target = settings.target;
  if (settings.reserveBytes !== null) values.reserve = settings.reserveBytes;
  if (Object.keys(settings.conventions).length > 0) values.conventions = settings.conventions;
  if (settings.maxMacsOverhead !== DEFAULT_SETTINGS.maxMacsOverhead) values.maxMacsOverhead = settings.maxMacsOverhead;
  if (settings.codegenOutputFolder !== DEFAULT_SETTINGS.codegenOutputFolder) values.codegen = { outputFolder: settings.codegenOutputFolder };
  if (settings.runtime !== DEFAULT_SETTINGS.runtime) values.runtime = settings.runtime;
  return [{ origin: 'default', values: { target: DEFAULT_SETTINGS.target } }, { origin: 'settings', values, customTargets: settings.customTargets }];
}

/** A parsed deployment file as a layer. */
export function deploymentLayer(parsed: ParsedDeployment): SettingsLayer {
  return { origin: 'deployment', values: parsed.deployment, problems: parsed.problems };
}

/** The extension's settings: VS Code's settings overridden by the deployment file. */
export function effectiveSettings(settings: Settings, deployment: ParsedDeployment = { deployment: {}, problems: [] }): Effective {
  return resolveSettings([...settingsLayers(settings), deploymentLayer(deployment)]);
}

/** The deployment file's text with the schedule replaced (other fields kept, 2-space JSON). */
export function withSchedule(text: string, schedule: Deployment['schedule']): string {
  return withFields(text, (raw) => { raw.schedule = schedule; });
}

/** The deployment file's text with conventions switched (the other conventions and fields kept). */
export function withConventions(text: string, patch: { asInt8?: boolean }): string {
  return withFields(text, (raw) => {
    const c: Record<string, unknown> = isObject(raw.conventions) ? { ...raw.conventions } : {};
    for (const [k, v] of Object.entries(patch)) if (v !== undefined) c[k] = v;
    raw.conventions = c;
  });
}

function withFields(text: string, edit: (raw: Record<string, unknown>) => void): string {
  let raw: Record<string, unknown> = {};
  try {
    const parsed: unknown = text.trim() === '' ? {} : JSON.parse(text);
    if (isObject(parsed)) raw = parsed;
  } catch {
    // A broken file is replaced by one that holds the change; the caller shows the old problems first.
  }
  if (!('$schema' in raw)) raw = { $schema: DEPLOYMENT_SCHEMA_ID, ...raw };
  edit(raw);
  return `${JSON.stringify(raw, null, 2)}\n`;
}

/** The deployment file of a model: `<model file>.mcu.json` beside it. */
export const deploymentFileName = (model: string): string => `${model}.mcu.json`;

export const DEPLOYMENT_SCHEMA_ID = 'https://mcu-memory-inspector.invalid/schemas/mcu-deployment.schema.json';
