// Integration tests, run inside a real VS Code (the VS Code server through headless Chromium here, desktop VS Code on a
// laptop) through the real `vscode` API. The workspace holds TFLM's person_detect.tflite, our example ONNX model and
// a broken file (scripts/integration/run.mjs). Expected figures are worked out by hand from the model's shapes:
// step #2 (Conv2d_1_pointwise) reads the 48×48×8 int8 depthwise output (18,432 B) and writes 48×48×16 (36,864 B),
// so 55,296 B are live there: the per-layer peak. The SRAM need adds the default reserve of 2,768 B (runtime data,
// stack and heap of the generated firmware).
import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import * as vscode from 'vscode';
import type { Services } from '../../../src/extension/commands';

const EXTENSION_ID = 'mcu-memory-inspector.mcu-memory-inspector';
const VIEW_TYPE = 'mcuMemory.memoryView';
const PEAK = 55_296;
const TINY = { name: 'Tiny32K', sram: '32KiB', flash: '512KiB' };

const ws = (): vscode.Uri => vscode.workspace.workspaceFolders![0]!.uri;
const file = (name: string): vscode.Uri => vscode.Uri.joinPath(ws(), name);
const person = (): vscode.Uri => file('person_detect.tflite');
const deployment = (): string => `${person().fsPath}.mcu.json`;

async function waitFor<T>(what: string, probe: () => T | undefined | null | false, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Protobuf by hand: a varint, and a length-delimited field. */
const varint = (v: number): number[] => { const o: number[] = []; while (v >= 0x80) { o.push((v & 0x7f) | 0x80); v = Math.floor(v / 128); } o.push(v); return o; };
const field = (n: number, body: number[]): number[] => [(n << 3) | 2, ...varint(body.length), ...body];
const str = (n: number, s: string): number[] => field(n, [...Buffer.from(s)]);

/** An ONNX model: x[1,4] → n Relu nodes in a chain → y. */
function longChainOnnx(n: number): Uint8Array {
  const vi = (name: string): number[] => field(11, [...str(1, name), ...field(2, field(1, [0x08, 0x01, ...field(2, [...field(1, [0x08, 1]), ...field(1, [0x08, 4])])]))]);
  const nodes: number[] = [];
  for (let i = 0; i < n; i++) nodes.push(...field(1, [...str(1, i === 0 ? 'x' : `t${i - 1}`), ...str(2, `t${i}`), ...str(4, 'Relu')]));
  const out = vi(`t${n - 1}`);
  out[0] = (12 << 3) | 2; // graph.output
  const graph = [...nodes, ...str(2, 'g'), ...vi('x'), ...out];
  return Uint8Array.from([0x08, 0x08, ...field(7, graph), ...field(8, [0x10, 13])]);
}

const cfg = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('mcuMemory');
async function setTarget(name: string): Promise<void> {
  await cfg().update('customTargets', [TINY], vscode.ConfigurationTarget.Workspace);
  await cfg().update('target', name, vscode.ConfigurationTarget.Workspace);
}

const sramError = (uri: vscode.Uri): vscode.Diagnostic | undefined =>
  vscode.languages.getDiagnostics(uri).find((d) => d.code === 'sram' && d.severity === vscode.DiagnosticSeverity.Error);
/** The model's listing (as the extension names it): with a listing tab open, the findings are on its lines. */
const listingOf = (model: vscode.Uri): vscode.Uri => vscode.Uri.from({ scheme: 'mcu-listing', path: `${model.path}.mculisting`, query: model.toString() });
/** The SRAM error wherever it is, on the model or on its listing (one entry per finding). */
const sramErrorOf = (model: vscode.Uri): vscode.Diagnostic | undefined => sramError(model) ?? sramError(listingOf(model));
const problems = (uri: vscode.Uri): vscode.Diagnostic[] =>
  vscode.languages.getDiagnostics(uri).filter((d) => d.severity <= vscode.DiagnosticSeverity.Warning);

function activeCustomEditor(): vscode.TabInputCustom | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  return input instanceof vscode.TabInputCustom ? input : undefined;
}

function hoverString(h: vscode.Hover): string {
  return h.contents.map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : '')).join('\n');
}

describe('MCU Memory Inspector in VS Code', function () {
  let api: Services;

  before(async () => {
    if (existsSync(deployment())) rmSync(deployment());
    await cfg().update('target', undefined, vscode.ConfigurationTarget.Workspace);
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('activates in a workspace with models before one is opened (narrow activation events: workspaceContains only)', async () => {
    const ext = vscode.extensions.getExtension<Services>(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} is installed`);
    // Besides its contributions (the Memory View, its commands, the listing language), only a workspace holding an
    // ONNX or TFLite file activates it; this one does, so it is active with no model open yet: the first model opened
    // does not wait for activation, and a spare analysis thread is ready for it.
    const events = (ext.packageJSON as { activationEvents: string[] }).activationEvents;
    assert.deepEqual(events, ['workspaceContains:**/*.onnx', 'workspaceContains:**/*.tflite']);
    assert.equal(vscode.window.tabGroups.all.flatMap((g) => g.tabs).some((t) => t.input instanceof vscode.TabInputCustom), false);
    await waitFor('activation by workspaceContains', () => ext.isActive);
  });

  it('opening person_detect.tflite opens the Memory View, whose webview script runs and receives the analysis', async () => {
    await vscode.commands.executeCommand('vscode.open', person());
    const input = await waitFor('the Memory View tab', activeCustomEditor);
    assert.equal(input.viewType, VIEW_TYPE);
    assert.equal(input.uri.toString(), person().toString());
    const ext = vscode.extensions.getExtension<Services>(EXTENSION_ID)!;
    assert.ok(ext.isActive);
    api = ext.exports;
    // `ready` comes from the webview's own script: it ran under the CSP; the host then answered with `show`.
    // The analysis reaches the webview once: written into its page when it was done in time, else posted after ready.
    const trace = await waitFor('the webview handshake', () => {
      const t = api.views.traces.get(person().toString());
      return t && t.ready > 0 && (t.inlined || t.lastPosted === 'show') ? t : undefined;
    });
    assert.equal(trace.shows + (trace.inlined ? 1 : 0), 1, `the analysis reached the webview once (inlined: ${trace.inlined})`);
    // The host's share of the time to first chart (from resolving the editor): webview ready, analysis done, posted.
    const tl = trace.timeline;
    console.log(`      host timeline (ms): webview ready ${tl.ready}, analysis done ${tl.analysed}, posted ${tl.posted}`);
    assert.ok(tl.ready !== undefined && tl.analysed !== undefined && (trace.inlined || (tl.posted !== undefined && tl.posted >= Math.max(tl.ready, tl.analysed))), JSON.stringify(tl));
    const entry = api.store.get(person());
    assert.ok(entry?.report, 'the model was analysed');
    assert.equal(entry.report.analysis.peakBytes, PEAK);
    assert.equal(entry.report.analysis.peakStep, 2);
    assert.equal(entry.report.analysis.ops.length, 31);
  });

  it('activates in under 50 ms', () => {
    const ms = api.activationMs();
    console.log(`      activation (bundle load + activate): ${ms.toFixed(1)} ms`);
    assert.ok(ms > 0 && ms < 50, `activation took ${ms.toFixed(1)} ms`);
  });

  it('reports an SRAM error with the numbers for a tiny custom target, and none for STM32H743', async () => {
    await setTarget(TINY.name);
    const d = await waitFor('the SRAM error', () => sramError(person()));
    assert.match(d.message, /peak SRAM 55,296 B/);
    assert.match(d.message, /exceeds Tiny32K's 32,768 B SRAM by 25,296 B/);
    assert.match(d.message, /#2 CONV_2D 'MobilenetV1\/MobilenetV1\/Conv2d_1_pointwise\/Relu6'/);
    assert.equal(d.source, 'MCU Memory');
    const info = vscode.languages.getDiagnostics(person()).find((x) => x.code === 'schedule-fits');
    assert.ok(info, 'an Information entry names the schedule that would make it fit');
    assert.equal(info.severity, vscode.DiagnosticSeverity.Information);
    assert.match(info.message, /a patch schedule makes it fit Tiny32K: Run steps 0–\d+ in \d+×\d+ patches/);

    await setTarget('STM32H743');
    await waitFor('the diagnostics to clear', () => problems(person()).length === 0);
    assert.deepEqual(problems(person()), []);
  });

  it('the target command changes the status bar', async () => {
    await vscode.commands.executeCommand('mcuMemory.selectTarget', 'STM32F746');
    await waitFor('the status bar to show STM32F746', () => api.status.item.text.includes('STM32F746'));
    assert.equal(cfg().get('target'), 'STM32F746');
    assert.equal(api.status.item.text, '$(chip) STM32F746 · 57/320 KiB', 'the 55,296 B arena + the 2,768 B reserve');
    assert.equal(api.status.item.backgroundColor, undefined);
    await vscode.commands.executeCommand('mcuMemory.selectTarget', TINY.name);
    await waitFor('the status bar to show Tiny32K', () => api.status.item.text.includes(TINY.name));
    assert.equal(api.status.item.text, '$(chip) Tiny32K · 57/32 KiB · SRAM over');
    assert.equal((api.status.item.backgroundColor as { id?: string } | undefined)?.id, 'statusBarItem.errorBackground', 'coloured when it does not fit');
  });

  it('the layer listing shows one line per operator, with hovers giving the activation bytes and the diagnostic on the peak line', async () => {
    await vscode.commands.executeCommand('mcuMemory.openLayerListing', person());
    const editor = await waitFor('the listing editor', () => vscode.window.activeTextEditor?.document.uri.scheme === 'mcu-listing' && vscode.window.activeTextEditor);
    const doc = editor.document;
    assert.equal(doc.languageId, 'mcu-listing');
    // The listing's × and ◀ are not flagged as ambiguous characters (no yellow boxes).
    assert.equal(vscode.workspace.getConfiguration('editor', { languageId: 'mcu-listing' }).get('unicodeHighlight.ambiguousCharacters'), false);
    const opLines = doc.getText().split('\n').filter((l) => /^\d+\s/.test(l));
    assert.equal(opLines.length, 31);
    const line = doc.getText().split('\n').findIndex((l) => /^2\s+CONV_2D/.test(l));
    assert.ok(line > 0);
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, new vscode.Position(line, 3));
    const text = hovers.map(hoverString).join('\n');
    assert.match(text, /#2 CONV_2D/);
    assert.match(text, /\| inputs \(activations\) \| \| 18,432 \|/);
    assert.match(text, /\| outputs \| \| 36,864 \|/);
    assert.match(text, /\| live at this step \| \| 55,296 \|/);
    assert.match(text, /peak step/);
    const onLine = await waitFor('the SRAM error on the listing', () => sramError(doc.uri));
    assert.equal(onLine.range.start.line, line);
    // One entry per finding: with the listing open, the findings are on its lines and no longer on the model.
    await waitFor('the findings to leave the model', () => vscode.languages.getDiagnostics(person()).length === 0);
    assert.equal(vscode.languages.getDiagnostics(doc.uri).filter((d) => d.code === 'sram').length, 1);
  });

  it('a quick fix writes the schedule into person_detect.tflite.mcu.json, and the peak drops', async () => {
    const listing = vscode.window.activeTextEditor!.document.uri;
    const diag = await waitFor('the SRAM error on the listing', () => sramError(listing));
    const all = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', listing, diag.range, vscode.CodeActionKind.QuickFix.value);
    const all2 = all.filter((a) => a.command?.command === 'mcuMemory.applySchedule');
    // Up to three patch schedules, and the line-buffered plan that fits with the fewest extra MACs, named by its RAM.
    const isLines = (a: vscode.CodeAction): boolean => typeof a.command!.arguments![1] === 'object' && 'lines' in (a.command!.arguments![1] as object);
    const lines = all2.filter(isLines);
    assert.equal(lines.length, 1, 'one line-buffered fix');
    assert.match(lines[0]!.title, /^Stream rows through fused segments \(line-buffered\): peak 54\.0 KiB → [\d.]+ KiB, \+[\d.]+% MACs$/);
    assert.ok(Number.isSafeInteger((lines[0]!.command!.arguments![1] as { lines: { maxRam: number } }).lines.maxRam));
    const actions = all2.filter((a) => !isLines(a));
    assert.ok(actions.length >= 1 && actions.length <= 3, `${actions.length} quick fixes`);
    for (const a of actions) assert.match(a.title, /^Run steps 0–\d+ in \d+×\d+ patches: peak 54\.0 KiB → [\d.]+ KiB, \+[\d.]+% MACs$/);
    const best = actions.find((a) => a.isPreferred) ?? actions[0]!;
    const [model, schedule] = best.command!.arguments as [vscode.Uri, { after: string; tiles: [number, number] }];
    assert.equal(model.toString(), person().toString());
    await vscode.commands.executeCommand(best.command!.command, ...best.command!.arguments!);

    const written = JSON.parse(readFileSync(deployment(), 'utf8')) as { schedule: unknown };
    assert.deepEqual(written.schedule, schedule);
    assert.equal(typeof schedule.after, 'string');
    const report = await waitFor('the scheduled analysis', () => {
      const r = api.store.get(person())?.report;
      return r?.schedule ? r : undefined;
    });
    assert.ok(report.fit!.sramNeeded < PEAK && report.fit!.sramNeeded <= 32 * 1024, `scheduled need ${report.fit!.sramNeeded} B`);
    await waitFor('the SRAM error to go', () => !sramError(person()) && !sramError(listing));
    assert.match(api.status.item.text, /^\$\(chip\) Tiny32K · \d+\/32 KiB$/);
    assert.equal(api.status.item.backgroundColor, undefined);
    const infos = [...vscode.languages.getDiagnostics(person()), ...vscode.languages.getDiagnostics(listing)].filter((x) => x.code === 'schedule-fits');
    assert.equal(infos.length, 1, 'one entry per finding');
    assert.match(infos[0]!.message, /fits Tiny32K with the patch schedule/);

    // Analysing an unchanged model again (Apply does, then the deployment file's watcher does) posts nothing new to
    // the Memory View: the webview keeps its DOM instead of rebuilding it under the pointer.
    const trace = api.views.traces.get(person().toString())!;
    const { shows, unchanged } = trace;
    await api.store.open(person());
    await api.store.open(person());
    assert.equal(trace.shows, shows, 'an identical analysis was posted again');
    // (A watcher event landing meanwhile supersedes one of the two, so at least one is counted.)
    assert.ok(trace.unchanged > unchanged, 'the identical analysis was neither posted nor held back: is the view open?');
  });

  it('editing the deployment file by hand re-runs the analysis (file watcher)', async () => {
    writeFileSync(deployment(), '{ "schedule": "none" }\n');
    await waitFor('the SRAM error to come back', () => sramErrorOf(person()), 30_000);
    writeFileSync(deployment(), '{ "schedule": "none", "target": "STM32H743" }\n');
    await waitFor('the deployment file to override the settings', () => problems(person()).length + problems(listingOf(person())).length === 0, 30_000);
    assert.equal(api.store.get(person())?.report?.effective.target?.name, 'STM32H743');
  });

  it('a broken model shows the error page and exactly one diagnostic', async () => {
    const broken = file('broken.onnx');
    await vscode.commands.executeCommand('vscode.open', broken);
    await waitFor('the error page', () => api.views.traces.get(broken.toString())?.lastPosted === 'failed');
    const diags = await waitFor('the diagnostic', () => { const d = vscode.languages.getDiagnostics(broken); return d.length > 0 && d; });
    assert.equal(diags.length, 1);
    assert.equal(diags[0]!.severity, vscode.DiagnosticSeverity.Error);
    assert.match(diags[0]!.message, /\[(bad-onnx|unknown-format|truncated)\]$/);
  });

  it('Export Report writes Markdown and JSON next to the model', async () => {
    await vscode.commands.executeCommand('mcuMemory.exportReport', person());
    const md = readFileSync(`${person().fsPath}.report.md`, 'utf8');
    assert.match(md, /^# Memory report: person_detect\.tflite/);
    assert.match(md, /55,296/);
    const json = JSON.parse(readFileSync(`${person().fsPath}.report.json`, 'utf8')) as { schema: string; peakBytes: number };
    assert.equal(json.schema, 'mcu-mem/analysis@1');
    assert.equal(json.peakBytes, PEAK);
  });

  it('Write TFLM-Optimized Model writes <model>.optimized.tflite with the offline plan when it helps, nothing otherwise', async () => {
    const tiny = file('tiny_mobilenet.tflite');
    const out = await vscode.commands.executeCommand<vscode.Uri | undefined>('mcuMemory.writeTflmOptimized', tiny);
    assert.equal(out?.toString(), file('tiny_mobilenet.optimized.tflite').toString());
    const written = readFileSync(out!.fsPath);
    assert.equal(written.subarray(4, 8).toString('latin1'), 'TFL3');
    assert.ok(written.includes(Buffer.from('OfflineMemoryAllocation')));
    const entry = api.store.get(tiny)!;
    assert.ok(entry.report?.tflmOptimized && entry.report.tflm && entry.report.tflmOptimized.minArenaBytes < entry.report.tflm.minArenaBytes);
    // person_detect: TFLM's own plan is already as small, so no file.
    assert.equal(await vscode.commands.executeCommand('mcuMemory.writeTflmOptimized', person()), undefined);
    assert.ok(!existsSync(file('person_detect.optimized.tflite').fsPath));
  });

  it('Generate C Code writes the C folder for the schedule in force; its arena is the one the view reports', async () => {
    const out = file('generated_c');
    if (existsSync(out.fsPath)) rmSync(out.fsPath, { recursive: true });
    const written = await vscode.commands.executeCommand<vscode.Uri | undefined>('mcuMemory.generateC', person(), out);
    assert.equal(written?.toString(), out.toString());
    const entry = api.store.get(person())!;
    const arena = entry.report!.schedule?.arenaBytes ?? entry.report!.analysis.arenaBytes;
    const header = readFileSync(vscode.Uri.joinPath(out, 'src', 'model.h').fsPath, 'utf8');
    assert.match(header, new RegExp(`#define MODEL_ARENA_BYTES ${arena}\\b`));
    for (const f of ['src/model.c', 'src/weights.c', 'src/mm_kernels.c', 'model_test.c', 'Makefile', 'board.ld', 'CMakeLists.txt', 'zephyr/module.yml']) assert.ok(existsSync(vscode.Uri.joinPath(out, f).fsPath), f);
    rmSync(out.fsPath, { recursive: true });
  });

  it('analyses in a worker thread: the host stays responsive during a long analysis, and closing the model ends it', async () => {
    // A 50,000-operator chain (about 4 s of analysis), written as raw protobuf.
    const big = file('long_chain.onnx');
    writeFileSync(big.fsPath, longChainOnnx(50_000));
    const started = Date.now();
    const opening = api.store.open(big);
    // The extension host's event loop keeps turning while the worker analyses: timers fire on time.
    let ticks = 0;
    const timer = setInterval(() => { ticks++; }, 50);
    await new Promise((r) => setTimeout(r, 600));
    clearInterval(timer);
    assert.ok(ticks >= 6, `the extension host was blocked: ${ticks} ticks of 50 ms in 600 ms`);
    api.store.close(big);
    const entry = await opening;
    assert.equal(entry.error?.code, 'cancelled', JSON.stringify(entry.error));
    assert.ok(Date.now() - started < 3000, `cancelling took ${Date.now() - started} ms`);
    // A new analysis of the same model runs in a new thread and completes.
    const again = await api.store.open(big);
    assert.equal(again.report?.analysis.ops.length, 50_000);
    api.store.close(big);
    rmSync(big.fsPath);
  });

  it('closing the Memory View removes its diagnostics', async () => {
    rmSync(deployment());
    await setTarget(TINY.name);
    await vscode.commands.executeCommand('vscode.open', person());
    await waitFor('the SRAM error', () => sramErrorOf(person()));
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await waitFor('the diagnostics to go', () => vscode.languages.getDiagnostics(person()).length + vscode.languages.getDiagnostics(listingOf(person())).length === 0);
  });
});
