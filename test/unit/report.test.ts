// The extension's pure layer: deployment file (parser and JSON schema agree), effective settings, findings with
// quick fixes, the layer listing, hovers and the Markdown report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import {
  analyzeModel, ANALYSIS_SCHEMA, DEFAULT_SETTINGS, effectiveSettings, hoverText, listing, parseDeployment, reportJson, reportMarkdown,
  withSchedule, type Settings,
} from '../../src/core/index';
import { exampleModel } from '../../src/core/testing/examples';
import { open, ROOT } from '../helpers';
import { gauge } from '../../src/shared/protocol';
import { memoryViewData } from '../../src/shared/view-model';

const schema: object = JSON.parse(fs.readFileSync(path.join(ROOT, 'media', 'mcu-deployment.schema.json'), 'utf8'));
const validate = new Ajv({ allErrors: true }).compile(schema);

const GOOD = [
  '{}',
  '{"target": "STM32H743"}',
  '{"target": {"name": "board", "sram": "256K", "flash": 1048576, "reserve": "16K"}, "reserve": 4096}',
  '{"conventions": {"asInt8": true, "countInput": false, "inplaceDepthwise": true}, "schedule": "auto", "maxMacsOverhead": 15}',
  '{"schedule": {"after": "act_10", "tiles": [2, 3]}, "maxMacsOverhead": null, "codegen": {"outputFolder": "gen"}}',
  '{"$schema": "x", "schedule": {"after": 12, "tiles": [4, 4]}}',
  '{"schedule": {"lines": {"maxRam": "64K"}}}',
  '{"schedule": {"lines": {"maxRam": 20456}}}',
];
const BAD = [
  '[]',
  '{"target": 5}',
  '{"target": {"name": "b", "sram": "lots", "flash": "1M"}}',
  '{"reserve": -1}',
  '{"conventions": {"asInt8": "yes"}}',
  '{"conventions": {"inPlace": true}}',
  '{"schedule": "sometimes"}',
  '{"schedule": {"after": 3, "tiles": [0, 2]}}',
  '{"schedule": {"after": 3}}',
  '{"schedule": {"lines": {}}}',
  '{"schedule": {"lines": {"maxRam": 0}}}',
  '{"schedule": {"lines": {"maxRam": "lots"}}}',
  '{"schedule": {"lines": {"maxRam": 100}, "after": 3}}',
  '{"maxMacsOverhead": -5}',
  '{"codegen": {"outputFolder": 3}}',
  '{"tagret": "STM32F746"}',
];

test('deployment file: the parser and the contributed JSON schema accept and reject the same files', () => {
  for (const text of GOOD) {
    assert.ok(validate(JSON.parse(text)), `schema rejects ${text}: ${JSON.stringify(validate.errors)}`);
    assert.deepEqual(parseDeployment(text).problems, [], text);
  }
  for (const text of BAD) {
    assert.ok(!validate(JSON.parse(text)), `schema accepts ${text}`);
    const p = parseDeployment(text).problems;
    assert.ok(p.length > 0 && p.every((x) => x.message.length > 10), `parser accepts ${text}`);
  }
  assert.match(parseDeployment('{"target": ').problems[0]!.message, /not valid JSON/);
});

test('effective settings: the deployment file overrides settings; unknown targets are named problems', () => {
  const settings: Settings = { ...DEFAULT_SETTINGS, target: 'STM32F412', reserveBytes: 8192, customTargets: [{ name: 'myboard', sram: '96K', flash: '1M' }] };
  const e = effectiveSettings(settings);
  assert.equal(e.target!.name, 'STM32F412');
  assert.equal(e.target!.reserveBytes, 8192);
  assert.equal(e.maxOverhead, 0.2);
  const d = effectiveSettings(settings, parseDeployment('{"target": "myboard", "reserve": "1K", "maxMacsOverhead": null, "conventions": {"asInt8": true}}'));
  assert.deepEqual([d.target!.name, d.target!.sramBytes, d.target!.reserveBytes, d.maxOverhead, d.conventions.asInt8], ['myboard', 96 * 1024, 1024, null, true]);
  const u = effectiveSettings(settings, parseDeployment('{"target": "STM32F999"}'));
  assert.equal(u.target!.name, 'STM32F412');
  assert.match(u.problems[0]!.message, /unknown target 'STM32F999'/);
});

test('withSchedule keeps the other fields and writes a schedule the parser reads back', () => {
  const text = withSchedule('{"target": "STM32H743", "conventions": {"asInt8": true}}', { after: 'act_10', tiles: [2, 3] });
  const p = parseDeployment(text);
  assert.deepEqual(p.problems, []);
  assert.deepEqual(p.deployment.schedule, { after: 'act_10', tiles: [2, 3] });
  assert.equal(p.deployment.target, 'STM32H743');
  assert.ok(validate(JSON.parse(text)));
  assert.deepEqual(parseDeployment(withSchedule('', 'none')).deployment.schedule, 'none');
});

const graph = open(exampleModel('tflite'));
const tight = (sram: string, schedule = '"none"'): ReturnType<typeof analyzeModel> =>
  analyzeModel(graph, 'example.tflite', effectiveSettings(DEFAULT_SETTINGS, parseDeployment(`{"target": {"name": "t", "sram": "${sram}", "flash": "1M"}, "schedule": ${schedule}}`)));

test('findings: an SRAM error on the peak step with quick fixes that fit; a schedule that fits is named; fixes applied remove the error', () => {
  const r = tight('96K');
  assert.equal(r.fit!.sramFits, false);
  const err = r.findings.find((f) => f.code === 'sram')!;
  assert.equal(err.severity, 'error');
  assert.equal(err.step, r.analysis.peakStep);
  assert.match(err.message, /138,240 B .* exceeds t's 98,304 B SRAM by/);
  assert.ok(err.fixes && err.fixes.length > 0);
  assert.match(err.fixes[0]!.title, /^Run steps 0–\d+ in \d+×\d+ patches: peak 135\.0 KiB → \d+\.\d KiB, \+\d+\.\d% MACs$/);
  assert.ok(r.findings.some((f) => f.code === 'schedule-fits' && f.severity === 'information'));
  // Applying the first fix: the deployment file names the schedule; the error is gone.
  const fixed = analyzeModel(graph, 'example.tflite', effectiveSettings(DEFAULT_SETTINGS, parseDeployment(withSchedule('{"target": {"name": "t", "sram": "96K", "flash": "1M"}}', err.fixes[0]!.schedule))));
  assert.equal(fixed.fit!.sramFits, true, JSON.stringify(fixed.findings));
  assert.ok(!fixed.findings.some((f) => f.code === 'sram'));
  assert.ok(fixed.schedule && fixed.schedule.peakBytes < fixed.analysis.peakBytes);
  // The per-step live set with the schedule peaks at the schedule's peak, and matches the analysis after the split.
  const live = fixed.scheduledLive!;
  assert.equal(Math.max(...live), fixed.schedule.peakBytes);
  const after = fixed.analysis.ops.filter((r) => r.index > fixed.schedule!.split.index + 1 && !r.op.includes('ADD'));
  assert.ok(after.some((r) => live[r.index] === r.liveBytes));
  // schedule: auto picks it by itself
  assert.equal(tight("96K", "\"auto\"").fit!.sramFits, true);
  // A big target: nothing to report.
  assert.deepEqual(tight('8M').findings, []);
  // Without a schedule in the file the model runs layer by layer (the quick fixes are offered, not applied).
  assert.equal(effectiveSettings(DEFAULT_SETTINGS).schedule, 'none');
  assert.equal(r.schedule, null);
});

test('Export Report JSON: the analysis@1 document, with the schedule in force and the fit it gives', () => {
  const none = reportJson(tight('96K'));
  assert.equal(none.schema, ANALYSIS_SCHEMA);
  assert.equal(none.schedule, null);
  assert.equal(none.fits, false);
  assert.equal(none.peakBytes, 138_240);
  assert.equal(none.ops.length, tight('96K').analysis.ops.length);
  const auto = reportJson(tight('96K', '"auto"'));
  assert.equal(auto.fits, true);
  assert.ok(auto.schedule && auto.schedule.mode === 'auto' && auto.schedule.split !== null);
  const given = tight('96K', '{"after": 3, "tiles": [2, 2]}');
  const fixed = reportJson(given);
  assert.ok(fixed.schedule && fixed.schedule.mode === 'fixed' && fixed.schedule.split?.index === given.schedule!.split.index);
  JSON.parse(JSON.stringify(fixed));
});

test('findings: a schedule in the file that does not apply is a warning and the model runs layer by layer', () => {
  const r = tight('96K', '{"after": "nosuch", "tiles": [2, 2]}');
  assert.equal(r.schedule, null);
  assert.ok(r.findings.some((f) => f.code === 'schedule' && /no operator or tensor named 'nosuch'/.test(f.message)));
});

test('listing: a line per executed step; hovers give the sizes in full; the Markdown report has every layer', () => {
  const r = tight('96K', '"auto"');
  const l = listing(r);
  const lines = l.text.split('\n');
  assert.equal(l.stepLine.length, r.analysis.ops.length);
  for (const row of r.analysis.ops) {
    const line = lines[l.stepLine[row.index]!]!;
    assert.ok(line.startsWith(String(row.index)), line);
    assert.ok(line.includes(row.liveBytes.toLocaleString('en-US')), line);
  }
  assert.match(lines[l.stepLine[r.analysis.peakStep]!]!, /◀ peak/);
  assert.match(lines[l.stepLine[0]!]!, /\[patch\]/);
  const h = hoverText(r, r.analysis.peakStep)!;
  assert.match(h, new RegExp(`live at this step \\| \\| ${r.analysis.peakBytes.toLocaleString('en-US')}`));
  assert.match(h, /peak step/);
  assert.match(hoverText(r, 0)!, /In the patch stage/);
  assert.equal(hoverText(r, 9999), null);
  const md = reportMarkdown(r);
  assert.equal(md.split('\n').filter((x) => /^\| \d+ \|/.test(x)).length, r.analysis.ops.length);
  assert.match(md, /verdict for t \| DOES NOT FIT \(SRAM\) \| FITS \|/);
});

test('package.json contributes the schema for *.mcu.json and settings whose defaults are the core\'s defaults', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  assert.deepEqual(pkg.contributes.jsonValidation, [{ fileMatch: '*.mcu.json', url: './media/mcu-deployment.schema.json' }]);
  const props = pkg.contributes.configuration.properties;
  assert.equal(props['mcuMemory.target'].default, DEFAULT_SETTINGS.target);
  assert.equal(props['mcuMemory.reserveBytes'].default, DEFAULT_SETTINGS.reserveBytes);
  assert.equal(props['mcuMemory.maxMacsOverhead'].default, DEFAULT_SETTINGS.maxMacsOverhead);
  assert.equal(props['mcuMemory.codegen.outputFolder'].default, DEFAULT_SETTINGS.codegenOutputFolder);
  const schemaConventions = Object.keys((schema as { properties: { conventions: { properties: object } } }).properties.conventions.properties).sort();
  assert.deepEqual(Object.keys(props['mcuMemory.conventions'].properties).sort(), schemaConventions);
});

test('Memory View data: gauges coloured as the Build Analyzer, a bar per step, the patch stage marked, candidates with Apply state', () => {
  assert.deepEqual([gauge('SRAM', 50, 100).level, gauge('SRAM', 70, 100).level, gauge('SRAM', 100, 100).level, gauge('SRAM', 350, 100).level], ['ok', 'warn', 'warn', 'over']);
  assert.equal(gauge('SRAM', 350, 100).free, -250);
  const r = tight('96K', '"auto"');
  const v = memoryViewData(r, { enabled: false, reason: 'C export is not available yet' });
  assert.equal(v.layers.length, r.analysis.ops.length);
  assert.equal(v.sram.used, r.fit!.sramNeeded);
  assert.equal(v.sram.level, r.fit!.sramNeeded > 96 * 1024 ? 'over' : v.sram.percent >= 70 ? 'warn' : 'ok');
  assert.equal(v.scheduledPeakBytes, r.schedule!.peakBytes);
  assert.ok(v.layers.filter((l) => l.inPatchStage).length === r.schedule!.split.index + 1);
  assert.equal(Math.max(...v.layers.map((l) => l.scheduledLiveBytes ?? 0)), r.schedule!.peakBytes);
  assert.equal(v.candidates.filter((c) => c.applied).length, 1);
  assert.ok(JSON.parse(JSON.stringify(v)), 'plain JSON for postMessage');
});

test('manifest: every command in the extension\'s command table is contributed, under the "MCU Memory" category, and vice versa', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const table = fs.readFileSync(path.join(ROOT, 'src', 'extension', 'commands.ts'), 'utf8');
  const ids = [...table.matchAll(/\bid: '([\w.]+)'/g)].map((m) => m[1]).sort();
  const contributed = pkg.contributes.commands.map((c: { command: string }) => c.command).sort();
  assert.deepEqual(contributed, ids);
  assert.ok(pkg.contributes.commands.every((c: { category: string }) => c.category === 'MCU Memory'));
  assert.deepEqual(pkg.contributes.customEditors[0].selector, [{ filenamePattern: '*.onnx' }, { filenamePattern: '*.tflite' }]);
  assert.ok(fs.existsSync(path.join(ROOT, pkg.contributes.grammars[0].path)));
});

test('units: one formatter for bytes; round axis steps in the unit engineers use', async () => {
  const { byteAxisStep, formatAxisBytes, formatBytes, formatCount } = await import('../../src/core/units');
  assert.equal(formatBytes(1000), '1000 B');
  assert.equal(formatBytes(55296), '54.0 KiB');
  assert.equal(formatBytes(6021120), '5.74 MiB');
  assert.equal(formatCount(2834.2e6), '2.83G');
  // The examples of the issue: 59 KiB, 6 MiB, 29 KiB peaks get 8 KiB, 1 MiB and 4 KiB steps.
  assert.equal(byteAxisStep(59 * 1024), 8192);
  assert.equal(byteAxisStep(6021120 * 1.1), 1 << 20);
  assert.equal(byteAxisStep(29 * 1024), 4096);
  for (const max of [300, 5000, 70000, 1e6, 3e7]) {
    const s = byteAxisStep(max);
    assert.ok((s & (s - 1)) === 0 && max / s <= 8 && max / s > 4 - 1e-9 || s === 256, `${max}: ${s}`);
  }
  assert.deepEqual([0, 512, 16384, 49152, 524288, 1572864].map(formatAxisBytes), ['0', '512 B', '16 KiB', '48 KiB', '512 KiB', '1.5 MiB']);
});

test('target overview (the picker): the verdict\'s figures per target, and whether a patch schedule would make it fit', async () => {
  const { makeCustomTarget, targetsOverview } = await import('../../src/core/index');
  const r = tight('96K');
  const small = makeCustomTarget({ name: 'small', sramBytes: 96 << 10, flashBytes: 1 << 20 });
  const big = makeCustomTarget({ name: 'big', sramBytes: 1 << 20, flashBytes: 1 << 20 });
  const tiny = makeCustomTarget({ name: 'tiny', sramBytes: 8 << 10, flashBytes: 1 << 20 });
  const [s, b, t] = targetsOverview(r, [small, big, tiny]);
  // The same figures as the report's own verdict on its target.
  assert.equal(s!.fit.sramNeeded, r.fit!.sramNeeded);
  assert.equal(s!.fit.status, r.fit!.status);
  assert.equal(b!.fit.status, 'fits');
  assert.equal(b!.scheduleArenaBytes, null, 'no schedule offered where it fits already');
  assert.equal(s!.fit.sramFits, false);
  assert.ok(s!.scheduleArenaBytes !== null && s!.scheduleArenaBytes < r.analysis.arenaBytes);
  assert.equal(s!.scheduleFits, s!.fit.sramNeeded - r.analysis.arenaBytes + s!.scheduleArenaBytes! <= small.sramBytes);
  assert.equal(t!.scheduleFits, false, 'nothing fits 8 KiB');
});

test('Make It Fit: schedules with their effect, those that fit first; another target last; nothing when it fits; reachable by Ctrl+. in the listing', async () => {
  const { fitChoices } = await import('../../src/core/index');
  const r = tight('96K');
  assert.equal(r.fit!.status, 'does-not-fit');
  const choices = fitChoices(r);
  assert.ok(choices.length >= 2);
  const last = choices[choices.length - 1]!;
  assert.deepEqual(last.action, { selectTarget: true });
  const first = choices[0]!;
  assert.ok(first.fits && 'schedule' in first.action, JSON.stringify(first));
  assert.match(first.title, /^Run steps 0–\d+ in \d+×\d+ patches: peak [\d.]+ KiB → [\d.]+ KiB, \+[\d.]+% MACs$/);
  assert.match(first.detail, /^SRAM [\d,]+ B of 98,304 B: fits t \(arena [\d,]+ B\)$/);
  const firstMiss = choices.findIndex((c) => !c.fits);
  assert.ok(choices.slice(firstMiss).every((c) => !c.fits), 'those that fit come first');
  assert.deepEqual(fitChoices(tight('4M')), [], 'nothing to do when it fits');
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  assert.ok(pkg.contributes.keybindings.some((k: { command: string; key: string; when: string }) => k.command === 'mcuMemory.makeItFit' && k.key === 'ctrl+.' && /mcu-listing/.test(k.when)));
});

test('deployment file: the as-int8 what-if is written into conventions, the other fields kept', async () => {
  const { withConventions, parseDeployment } = await import('../../src/core/index');
  const text = withConventions('{ "target": "STM32F746", "conventions": { "fusePad": true } }', { asInt8: true });
  const d = parseDeployment(text);
  assert.deepEqual(d.deployment.conventions, { fusePad: true, asInt8: true });
  assert.equal(d.deployment.target, 'STM32F746');
  assert.equal(parseDeployment(withConventions(text, { asInt8: false })).deployment.conventions?.asInt8, false);
  assert.deepEqual(parseDeployment(withConventions("not json", { asInt8: true })).deployment.conventions, { asInt8: true });
});

test('arena layout (the arena view): one rectangle per buffer, no two overlapping in time and space; with a schedule, tile buffers and the stage output', () => {
  const overlapFree = (rects: { offset: number; size: number; first: number; last: number }[]): boolean =>
    rects.every((a, i) => rects.every((b, j) => j <= i || a.last < b.first || b.last < a.first || a.offset + a.size <= b.offset || b.offset + b.size <= a.offset));
  const plain = tight('4M');
  assert.ok(plain.arenaLayout.length >= 10);
  assert.ok(plain.arenaLayout.every((r) => r.kind === 'tensor'));
  assert.equal(Math.max(...plain.arenaLayout.map((r) => r.offset + r.size)), plain.analysis.arenaBytes);
  assert.ok(overlapFree(plain.arenaLayout));
  const sched = tight('96K', '"auto"');
  assert.ok(sched.schedule);
  const kinds = new Set(sched.arenaLayout.map((r) => r.kind));
  assert.ok(kinds.has('tile buffer') && kinds.has('stage output'), [...kinds].join());
  assert.equal(Math.max(...sched.arenaLayout.map((r) => r.offset + r.size)), sched.schedule!.arenaBytes);
  assert.ok(overlapFree(sched.arenaLayout));
});
