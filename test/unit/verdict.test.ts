// One verdict (issue 11): incomplete is never "fits" (exit 3, JSON fits null, one warning), settings in layers with
// their origins, the CLI and the extension's pipeline agree on the same files and settings, and the words agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EXIT_DOES_NOT_FIT, EXIT_FITS, EXIT_INCOMPLETE, main } from '../../src/cli/main';
import { DEFAULT_SETTINGS, reportJson, reportMarkdown, RUNTIME_RESERVE_BYTES, runPipeline, settingsLayers, type AnalysisJson } from '../../src/core/index';
import { exampleModel } from '../../src/core/testing/examples';
import { OnnxBuilder } from '../../src/core/testing/onnx-builder';
import { memoryViewData } from '../../src/shared/view-model';
import { HAVE_SHARED, sharedModel } from '../helpers';

function cli(...argv: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = main(argv, { out: (s) => { out += `${s}\n`; }, err: (s) => { err += `${s}\n`; } });
  return { code, out, err };
}

/** A graph with an operator nobody can size (a custom op without stored shapes) in the middle. */
function incompleteModel(): Uint8Array {
  const b = new OnnxBuilder(13);
  const x = b.input('x', [1, 3, 32, 32]);
  const c = b.op('Relu', [b.conv(x, 3, 8, 3)]);
  const m = b.node('MysteryOp', [c], {}, ['mystery'], 'com.example')[0]!;
  b.node('Relu', [m], {}, ['y']);
  b.output('y');
  return b.build();
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcu-mem-verdict-'));
const write = (name: string, bytes: Uint8Array | string): string => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, bytes);
  return f;
};
const example = write('example.tflite', exampleModel('tflite'));
const exampleOnnx = write('example.onnx', exampleModel('onnx'));
const incomplete = write('incomplete.onnx', incompleteModel());

test('incomplete: exit 3 and INCOMPLETE, never FITS; JSON fits null with the operators named; exceeding a limit is still DOES NOT FIT', () => {
  const big = cli('analyze', incomplete, '--custom-target', 'big:8M:8M');
  assert.equal(big.code, EXIT_INCOMPLETE, big.out + big.err);
  assert.match(big.out, /at least [\d,]+ B/);
  assert.match(big.out, /→ INCOMPLETE/);
  assert.doesNotMatch(big.out, /→ FITS/);
  const j = JSON.parse(cli('analyze', incomplete, '--custom-target', 'big:8M:8M', '--json').out) as AnalysisJson;
  assert.equal(j.fits, null);
  assert.equal(j.complete, false);
  assert.equal(j.status, 'incomplete');
  assert.deepEqual(j.unsupported.map((u) => u.op), ['com.example.MysteryOp', 'Relu']);
  const tiny = cli('analyze', incomplete, '--custom-target', 'tiny:1K:8M', '--json');
  assert.equal(tiny.code, EXIT_DOES_NOT_FIT, 'the sized part alone exceeds 1 KiB: certain');
  assert.equal((JSON.parse(tiny.out) as AnalysisJson).fits, false);
  assert.deepEqual((JSON.parse(tiny.out) as AnalysisJson).failing, ['SRAM']);
  assert.equal(cli('analyze', incomplete).code, EXIT_FITS, 'no target: no verdict');
  // The extension: one warning that counts and names, a banner, gauges as lower bounds, an amber status.
  const r = runPipeline({ bytes: fs.readFileSync(incomplete), fileName: incomplete, base: settingsLayers(DEFAULT_SETTINGS), deploymentText: '{"target": {"name": "big", "sram": "8M", "flash": "8M"}}' });
  assert.ok(r.ok);
  const warnings = r.value.report.findings.filter((f) => f.code === 'unsupported');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!.message, /^INCOMPLETE: 2 of 4 operators are not sized.*MysteryOp/);
  const v = memoryViewData(r.value.report, { enabled: false, reason: '' });
  assert.deepEqual([v.incomplete?.count, v.sram.atLeast, v.flash.atLeast], [2, true, true]);
  assert.match(v.verdict, /^INCOMPLETE/);
});

test('settings layers: the CLI reads <model>.mcu.json; --no-deployment, --deployment FILE; an option given wins; origins reported', () => {
  const model = write('layers.tflite', exampleModel('tflite'));
  write('layers.tflite.mcu.json', JSON.stringify({ target: { name: 'board96', sram: '96K', flash: '1M' }, schedule: 'auto', maxMacsOverhead: 30 }));
  const fromFile = JSON.parse(cli('analyze', model, '--json').out) as AnalysisJson;
  assert.equal(fromFile.target?.name, 'board96');
  assert.equal(fromFile.status, 'fits', 'the file\'s schedule auto makes it fit 96 KiB');
  assert.deepEqual(fromFile.settings, { target: 'deployment', reserve: 'default', conventions: 'default', schedule: 'deployment', maxMacsOverhead: 'deployment', codegenOutputFolder: 'default', runtime: 'default' });
  const human = cli('analyze', model);
  assert.match(human.out, /Settings: target board96 \(deployment file\).*schedule auto \(deployment file\)/);
  const flag = JSON.parse(cli('analyze', model, '--json', '--schedule', 'none').out) as AnalysisJson;
  assert.deepEqual([flag.status, flag.settings?.schedule, flag.settings?.target], ['does-not-fit', 'flag', 'deployment']);
  const none = JSON.parse(cli('analyze', model, '--json', '--no-deployment').out) as AnalysisJson;
  assert.deepEqual([none.target, none.fits], [null, null]);
  const other = write('other.json', '{"target": "STM32H743"}');
  assert.equal((JSON.parse(cli('analyze', model, '--json', '--deployment', other).out) as AnalysisJson).target?.name, 'STM32H743');
  assert.equal(cli('analyze', model, '--deployment', path.join(dir, 'missing.json')).code, 2);
  assert.equal(cli('analyze', model, '--deployment', other, '--no-deployment').code, 2);
  const broken = write('broken.tflite', exampleModel('tflite'));
  write('broken.tflite.mcu.json', '{"target": "STM32F999", "schedule": 7}');
  const b = cli('analyze', broken);
  assert.match(b.err, /warning: deployment file \(target\): unknown target 'STM32F999'/);
});

test('one pipeline: the CLI and the extension\'s pipeline give the same verdict and figures on the same files and settings', () => {
  const models = [example, exampleOnnx, incomplete, ...(HAVE_SHARED ? ['tflite/person_detect.tflite', 'onnx/mobilenet_v2_w035_144.onnx'].map(sharedModel) : [])];
  const deployments = [
    { target: 'STM32F746' },
    { target: { name: 'small', sram: '64K', flash: '256K' }, schedule: 'auto' },
    { target: 'STM32F410', schedule: 'auto', conventions: { inplaceDepthwise: true } },
    { target: { name: 'r', sram: '512K', flash: '4M', reserve: '40K' }, maxMacsOverhead: null, schedule: 'auto' },
  ];
  let compared = 0;
  for (const m of models) {
    for (const d of deployments) {
      const text = JSON.stringify(d);
      const copy = write(`p${compared}${path.extname(m)}`, fs.readFileSync(m));
      write(`${path.basename(copy)}.mcu.json`, text);
      const c = cli('analyze', copy, '--json');
      assert.ok(c.code !== 2, c.err);
      const viaCli = JSON.parse(c.out) as AnalysisJson;
      const r = runPipeline({ bytes: fs.readFileSync(copy), fileName: copy, base: settingsLayers(DEFAULT_SETTINGS), deploymentText: text });
      assert.ok(r.ok);
      const viaExt = reportJson(r.value.report);
      const pick = (j: AnalysisJson): unknown => [j.status, j.verdict, j.fits, j.failing, j.complete, j.target, j.peakBytes, j.arenaBytes, j.flashBytes, j.macs,
        j.schedule && 'tiles' in j.schedule ? [j.schedule.split.index, j.schedule.tiles, j.schedule.arenaBytes] : null];
      assert.deepEqual(pick(viaCli), pick(viaExt), `${path.basename(m)} with ${text}`);
      // `schedule` shows the search's best, as analyze applies it with "auto": the same verdict and need.
      if ((d as { schedule?: string }).schedule === 'auto') {
        const s = JSON.parse(cli('schedule', copy, '--json').out) as { status: string; need: { sramBytes: number; flashBytes: number } | null };
        assert.equal(s.status, viaCli.status, `schedule vs analyze: ${path.basename(m)} with ${text}`);
        if (viaCli.firmware && 'flashBytes' in viaCli.firmware) assert.equal(s.need?.flashBytes, viaCli.firmware.flashBytes, `schedule's Flash: ${path.basename(m)}`);
      }
      compared++;
    }
  }
  assert.ok(compared >= 12);
});

test('coherent words: no "fits" when Flash fails; the report\'s sentence and table agree; the failing resource is named', () => {
  const model = write('words.tflite', exampleModel('tflite'));
  // SRAM needs a schedule, Flash is too small whatever the schedule.
  const text = '{"target": {"name": "f410like", "sram": "96K", "flash": "8K"}}';
  const r = runPipeline({ bytes: fs.readFileSync(model), fileName: model, base: settingsLayers(DEFAULT_SETTINGS), deploymentText: text });
  assert.ok(r.ok);
  const rep = r.value.report;
  const info = rep.findings.filter((f) => f.severity === 'information');
  assert.ok(info.length > 0);
  for (const f of info) assert.doesNotMatch(f.message, /makes it fit|fits f410like/, f.message);
  assert.ok(info.some((f) => /still exceed its Flash/.test(f.message)));
  assert.deepEqual(rep.fit?.failing, ['SRAM', 'Flash']);
  const flash = rep.findings.find((f) => f.code === 'flash');
  assert.equal(flash?.severity, 'error');
  const md = reportMarkdown(rep);
  assert.match(md, /\*\*Verdict for f410like: DOES NOT FIT \(SRAM and Flash\)\*\*/);
  assert.match(md, /\| verdict for f410like \| DOES NOT FIT \(SRAM and Flash\) \| — \|/);
  // With the schedule applied, SRAM fits, Flash does not: the sentence, the table and the finding say so.
  const withSched = runPipeline({ bytes: fs.readFileSync(model), fileName: model, base: settingsLayers(DEFAULT_SETTINGS), deploymentText: text.replace('}}', '}, "schedule": "auto"}') });
  assert.ok(withSched.ok);
  const md2 = reportMarkdown(withSched.value.report);
  assert.match(md2, /\*\*Verdict for f410like: DOES NOT FIT \(Flash\)\*\* with the patch schedule/);
  assert.match(md2, /\| verdict for f410like \| DOES NOT FIT \(SRAM and Flash\) \| DOES NOT FIT \(Flash\) \|/);
  assert.ok(!withSched.value.report.findings.some((f) => /^fits /.test(f.message)));
  const c = cli('analyze', model, '--deployment', path.join(dir, 'words.json'));
  assert.equal(c.code, 2, 'missing --deployment file');
  write('words.json', text);
  const c2 = cli('analyze', model, '--deployment', path.join(dir, 'words.json'));
  assert.equal(c2.code, EXIT_DOES_NOT_FIT);
  assert.match(c2.out, /→ DOES NOT FIT \(SRAM and Flash\)/);
});

test('settings layers: a reserve from a later layer wins; a custom target\'s own reserve wins over an earlier layer\'s', () => {
  const withReserve = { ...DEFAULT_SETTINGS, reserveBytes: 4096 };
  const run = (settings: typeof DEFAULT_SETTINGS, text: string | null): number => {
    const r = runPipeline({ bytes: exampleModel('tflite'), fileName: 'm.tflite', base: settingsLayers(settings), deploymentText: text });
    assert.ok(r.ok);
    return r.value.report.effective.target!.reserveBytes;
  };
  assert.equal(run(DEFAULT_SETTINGS, null), RUNTIME_RESERVE_BYTES, 'the default');
  assert.equal(run(withReserve, null), 4096, 'VS Code setting');
  assert.equal(run(withReserve, '{"target": {"name": "b", "sram": "96K", "flash": "1M", "reserve": "1K"}}'), 1024, 'the file\'s custom target');
  assert.equal(run(withReserve, '{"target": {"name": "b", "sram": "96K", "flash": "1M"}}'), 4096, 'a custom target without one');
  assert.equal(run(withReserve, '{"reserve": 512}'), 512, 'the file\'s reserve');
});

test('runtime tflm: SRAM is TFLM\'s arena plus the reserve, Flash at least the model file, never FITS; origins, problems, schedule ignored, views', () => {
  const model = write('tflm.tflite', exampleModel('tflite'));
  const json = (...extra: string[]): { code: number; doc: AnalysisJson } => {
    const r = cli('analyze', model, '--json', '--no-deployment', ...extra);
    return { code: r.code, doc: JSON.parse(r.out) as AnalysisJson };
  };
  const big = json('--runtime', 'tflm', '--custom-target', 'big:8M:8M');
  assert.equal(big.code, EXIT_INCOMPLETE);
  assert.equal(big.doc.runtime, 'tflm');
  assert.equal(big.doc.settings.runtime, 'flag');
  assert.equal(big.doc.status, 'incomplete');
  assert.match(big.doc.verdict ?? '', /^INCOMPLETE \(TFLM's own code in Flash is not measured/);
  const t = big.doc.tflm;
  assert.ok(t.why === null, 'the example model is predicted');
  if (t.why === null) {
    assert.ok(t.minArenaBytes >= t.arenaUsedBytes && t.arenaUsedBytes === t.headBytes + t.tailBytes);
    assert.match(t.declaration, /^alignas\(16\) static uint8_t tensor_arena\[\d+\];$/);
    // Without TFLM the same report still carries TFLM's figures, and the verdict is the C export's.
    const c = json('--custom-target', 'big:8M:8M');
    assert.deepEqual([c.doc.runtime, c.doc.status, c.doc.tflm.why === null && c.doc.tflm.minArenaBytes], ['c', 'fits', t.minArenaBytes]);
    // One byte of SRAM short of the arena plus the reserve: DOES NOT FIT (SRAM), exit 1, the finding names TFLM's arena.
    const need = t.minArenaBytes + big.doc.target!.reserveBytes;
    const small = cli('analyze', model, '--no-deployment', '--runtime', 'tflm', '--custom-target', `small:${need - 1}:8M`);
    assert.equal(small.code, EXIT_DOES_NOT_FIT);
    assert.match(small.out, /→ DOES NOT FIT \(SRAM\)/);
    const exact = json('--runtime', 'tflm', '--custom-target', `exact:${need}:8M`);
    assert.deepEqual([exact.doc.sramFits, exact.doc.status], [null, 'incomplete'], 'SRAM fits exactly; Flash unknown');
  }
  // Deployment file: runtime from the file, a bad value named; a schedule is not applied with TFLM.
  write('tflm.tflite.mcu.json', JSON.stringify({ runtime: 'tflm', schedule: 'auto', target: { name: 'b', sram: '8M', flash: '8M' } }));
  const r = runPipeline({ bytes: exampleModel('tflite'), fileName: model, base: settingsLayers(DEFAULT_SETTINGS), deploymentText: fs.readFileSync(`${model}.mcu.json`, 'utf8') });
  assert.ok(r.ok);
  assert.equal(r.value.report.effective.origins.runtime, 'deployment');
  const rep = r.value.report;
  assert.equal(rep.fit!.sramNeeded, rep.tflm!.minArenaBytes + rep.effective.target!.reserveBytes, 'SRAM: the smallest arena and the reserve');
  assert.equal(rep.fit!.flashNeeded, exampleModel('tflite').length, 'Flash: the model file');
  const md = reportMarkdown(rep);
  assert.match(md, /## TFLM tensor arena \(32-bit Cortex-M\): the runtime in force/);
  assert.ok(md.includes(rep.tflm!.declaration) && md.includes(`**${rep.tflm!.minArenaBytes.toLocaleString('en-US')} B**`));
  assert.equal(r.value.report.schedule, null);
  assert.ok(r.value.report.findings.some((f) => f.code === 'schedule' && /TFLM runs the model layer by layer/.test(f.message)));
  const v = memoryViewData(r.value.report, { enabled: false, reason: '' });
  assert.deepEqual([v.runtime, v.status, v.sram.atLeast, v.flash.atLeast], ['tflm', 'incomplete', false, true]);
  assert.ok(v.tflm && !('why' in v.tflm) && /tensor_arena/.test(v.tflm.declaration) && v.tflm.parts.reduce((s, p) => s + p.bytes, 0) === v.tflm.usedBytes);
  const bad = runPipeline({ bytes: exampleModel('tflite'), fileName: model, base: settingsLayers(DEFAULT_SETTINGS), deploymentText: '{"runtime": "tensorflow"}' });
  assert.ok(bad.ok);
  assert.ok(bad.value.report.findings.some((f) => f.code === 'deployment' && /runtime must be one of "c", "tflm"/.test(f.message)));
  assert.equal(bad.value.report.effective.runtime, 'c');
  assert.equal(cli('analyze', model, '--runtime', 'tensorflow').code, 2);
  // An ONNX model with TFLM: not predicted, named, INCOMPLETE.
  const onnx = write('tflm.onnx', exampleModel('onnx'));
  const o = JSON.parse(cli('analyze', onnx, '--json', '--runtime', 'tflm', '--custom-target', 'big:8M:8M').out) as AnalysisJson;
  assert.deepEqual([o.status, o.tflm.why], ['incomplete', 'TFLM runs TFLite models; this is an ONNX model']);
});

test('one pipeline: the execution plan is built once per analysis (analysis, schedule search and the C lowering share it)', () => {
  // The compiled modules call buildExecPlan through the steps module's exports, so counting calls there sees them all.
  const steps = require('../../src/core/analysis/steps') as { buildExecPlan: (...a: unknown[]) => unknown };
  const original = steps.buildExecPlan;
  let calls = 0;
  steps.buildExecPlan = (...a: unknown[]) => { calls++; return original(...a); };
  try {
    for (const schedule of ['none', 'auto']) {
      calls = 0;
      const r = runPipeline({ bytes: exampleModel('tflite'), fileName: 'm.tflite', base: settingsLayers(DEFAULT_SETTINGS), deploymentText: JSON.stringify({ schedule, target: { name: 'b', sram: '96K', flash: '1M' } }) });
      assert.ok(r.ok);
      assert.ok(r.value.report.firmware, 'the C lowering ran (the verdict counts its firmware)');
      if (schedule === 'auto') assert.ok(r.value.report.schedule, 'a schedule applies');
      assert.equal(calls, 1, `schedule ${schedule}: buildExecPlan called ${calls} times`);
    }
  } finally {
    steps.buildExecPlan = original;
  }
});
