// Memory regions (issue 15, part 2): targets describe their RAM regions, the planner spreads the arena over them (the
// fewest bytes in slower regions, the busiest buffers in the fastest, every capacity respected), the verdict is judged
// per region, and the C export puts one arena per region in its own linker section that board.ld places: a two-region
// build runs under QEMU with the single-region build's output, and a region too small does not link.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { lowerBound, planArena, type PlanItem } from '../../src/core/analysis/planner';
import { planRegions, type RegionSpec } from '../../src/core/analysis/regions';
import { BUILTIN_TARGETS, findTarget, generateC, ramRegions, codegenOptionsFor, runPipeline, parseDeployment, customTarget, type ModelReport } from '../../src/core/index';
import { exampleModel } from '../../src/core/testing/examples';
import { memoryViewData } from '../../src/shared/view-model';
import { bytesOf, generate, HAVE_ARM, HAVE_CC, make, parseValues, randomInt8, runHost, tempDir } from '../codegen-helpers';
import { spawnSync } from 'node:child_process';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; };
}

function randomItems(rand: () => number, n: number, steps: number): PlanItem[] {
  return Array.from({ length: n }, () => {
    const start = Math.floor(rand() * steps);
    return { size: 16 * (1 + Math.floor(rand() * 40)), start, end: Math.min(steps - 1, start + Math.floor(rand() * 4)) };
  });
}

test('regions: planned buffers never overlap in a region while alive together, and no region exceeds its capacity when the plan fits', () => {
  const rand = lcg(11);
  let split = 0;
  for (let k = 0; k < 300; k++) {
    const items = randomItems(rand, 3 + Math.floor(rand() * 30), 12);
    const total = planArena(items).size;
    const regions: RegionSpec[] = [
      { capacity: 16 * Math.floor((rand() * total) / 16), rank: 0 },
      { capacity: 16 * Math.floor((rand() * total) / 16), rank: 1 },
      { capacity: total * 2, rank: 2 },
    ];
    const p = planRegions(items, regions);
    assert.ok(p.fits, `case ${k}: the last region holds the whole arena`);
    items.forEach((a, i) => {
      if (a.size === 0) return;
      assert.ok(p.region[i]! >= 0);
      assert.ok(p.offsets[i]! + a.size <= p.sizes[p.region[i]!]!, `case ${k}: item ${i} inside its region's arena`);
      items.forEach((b, j) => {
        if (j <= i || p.region[i] !== p.region[j] || a.start > b.end || b.start > a.end) return;
        const apart = p.offsets[i]! + a.size <= p.offsets[j]! || p.offsets[j]! + b.size <= p.offsets[i]!;
        assert.ok(apart, `case ${k}: items ${i} and ${j} overlap in region ${p.region[i]}`);
      });
    });
    p.sizes.forEach((s, r) => {
      assert.ok(s <= regions[r]!.capacity, `case ${k}: region ${r} within its capacity`);
      assert.ok(p.lowerBounds[r]! <= s);
    });
    // What no placement can avoid: the live bytes above the fastest region's capacity sit in slower regions.
    const slowPeak = lowerBound(items.filter((_, i) => p.region[i]! > 0));
    assert.ok(slowPeak >= p.slowLowerBound, `case ${k}: ${slowPeak} B alive at once in slower regions, bound ${p.slowLowerBound}`);
    assert.equal(p.slowLowerBound, Math.max(0, lowerBound(items) - regions[0]!.capacity));
    if (p.sizes.filter((s) => s > 0).length > 1) split++;
  }
  assert.ok(split > 100, `most cases spread over several regions (${split})`);
});

test('regions: the whole arena goes to the fastest region when it holds it; otherwise as few bytes as brute force finds go to the slow region', () => {
  const rand = lcg(5);
  let worse = 0;
  let cases = 0;
  let ours = 0;
  let brute = 0;
  for (let k = 0; k < 150; k++) {
    const items = randomItems(rand, 3 + Math.floor(rand() * 6), 6);
    const whole = planArena(items).size;
    const roomy = planRegions(items, [{ capacity: whole, rank: 0 }, { capacity: 1 << 20, rank: 1 }]);
    assert.deepEqual(roomy.sizes, [whole, 0], `case ${k}: all in the fast region`);
    const cap = 16 * Math.floor((whole * (0.3 + 0.5 * rand())) / 16);
    const p = planRegions(items, [{ capacity: cap, rank: 0 }, { capacity: 1 << 20, rank: 1 }]);
    const slow = items.reduce((a, it, i) => a + (p.region[i] === 1 ? it.size : 0), 0);
    // Brute force: every subset that fits the fast region (planned by the same planner); the fewest bytes left out.
    let best = Infinity;
    for (let m = 0; m < 1 << items.length; m++) {
      const fast = items.filter((_, i) => m & (1 << i));
      if (lowerBound(fast) > cap || planArena(fast).size > cap) continue;
      best = Math.min(best, items.reduce((a, it, i) => a + (m & (1 << i) ? 0 : it.size), 0));
    }
    cases++;
    ours += slow;
    brute += best;
    assert.ok(slow >= best, `case ${k}: brute force is a bound`);
    if (slow > best) worse++;
  }
  // The greedy orders with promotion and exchange match brute force on nearly all small cases, and over all of them
  // keep within 2% of its slow bytes (measured: 0.7% over 400 cases, 7% of cases above it).
  assert.ok(worse <= cases / 10, `${worse} of ${cases} cases keep more bytes in slow memory than brute force`);
  assert.ok(ours <= brute * 1.02, `slow bytes ${ours} against brute force ${brute}`);
});

test('regions: of two buffers alive together that the fast region cannot both hold, the busier one goes there', () => {
  const items: PlanItem[] = [{ size: 64, start: 0, end: 2 }, { size: 64, start: 1, end: 3 }];
  const regions: RegionSpec[] = [{ capacity: 64, rank: 0 }, { capacity: 1024, rank: 2 }];
  assert.deepEqual(planRegions(items, regions, [64, 64 * 3]).region, [1, 0]);
  assert.deepEqual(planRegions(items, regions, [64 * 3, 64]).region, [0, 1]);
  const over = planRegions([{ size: 96, start: 0, end: 0 }], [{ capacity: 64, rank: 0 }, { capacity: 32, rank: 1 }]);
  assert.equal(over.fits, false, 'a buffer no region holds: the plan does not fit');
});

test('regions: the catalogue describes multi-region parts (SRAM is the sum of the regions; the first holds the stack)', () => {
  const h7 = findTarget('STM32H743 regions')!;
  assert.deepEqual(ramRegions(h7).map((r) => [r.name, r.bytes / 1024, r.speed]), [['DTCM', 128, 'tcm'], ['AXI SRAM', 512, 'sram'], ['SRAM1-3', 288, 'sram'], ['SRAM4', 64, 'sram']]);
  assert.equal(h7.sramBytes, 992 * 1024);
  assert.equal(h7.flashBytes, 2 * 1024 * 1024);
  for (const t of BUILTIN_TARGETS) {
    const ram = ramRegions(t);
    assert.equal(ram.reduce((a, r) => a + r.bytes, 0), t.sramBytes, `${t.name}: SRAM = its regions`);
  }
  assert.equal(ramRegions(findTarget('STM32F746')!).length, 1, 'a single-region target stays one region');
  assert.ok(findTarget('ESP32-S3 PSRAM')!.regions!.some((r) => r.speed === 'external'));
});

test('regions: custom targets with regions in the deployment file; malformed regions are problems, never a crash', () => {
  const ok = parseDeployment('{"target": {"name": "b", "flash": "1M", "regions": [{"name": "TCM", "size": "64K", "speed": "tcm"}, {"name": "PSRAM", "size": "8M", "speed": "external", "address": "0x21000000"}, {"name": "QSPI", "size": "4M", "kind": "flash"}]}}');
  assert.deepEqual(ok.problems, []);
  const t = customTarget(ok.deployment.target as Exclude<typeof ok.deployment.target, string | undefined>)!;
  assert.equal(t.sramBytes, 64 * 1024 + 8 * 1024 * 1024);
  assert.deepEqual(ramRegions(t).map((r) => [r.name, r.address]), [['TCM', 0x20000000], ['PSRAM', 0x21000000]]);
  for (const bad of [
    '{"target": {"name": "b", "flash": "1M", "regions": []}}',
    '{"target": {"name": "b", "flash": "1M", "regions": [{"name": "X"}]}}',
    '{"target": {"name": "b", "flash": "1M", "regions": [{"name": "X", "size": "1K", "speed": "warp"}]}}',
    '{"target": {"name": "b", "flash": "1M", "regions": [{"name": "X", "size": "1K", "address": "0x123456789"}]}}',
    '{"target": {"name": "b", "flash": "1M", "regions": "DTCM"}}',
    '{"target": {"name": "b", "flash": "1M"}}',
  ]) {
    const p = parseDeployment(bad);
    assert.ok(p.problems.length > 0, bad);
    assert.equal(p.deployment.target, undefined, bad);
  }
  // Settings arrive unchecked: garbage regions make the custom target unusable, not a crash.
  assert.equal(customTarget({ name: 'x', flash: 1024, regions: 'oops' as unknown as [] }), null);
  assert.equal(customTarget({ name: 'x', flash: 1024, regions: [{ name: 'a', size: -5 }] }), null);
});

function exampleReport(deployment: string): { report: ModelReport; graph: Parameters<typeof generate>[0] } {
  const r = runPipeline({ bytes: exampleModel('tflite'), fileName: 'example.tflite', base: [], deploymentText: deployment });
  assert.ok(r.ok);
  return r.value;
}

/** A two-region board on QEMU's mps2-an386 memory: `sram` bytes at 0x20000000, `psram` at 0x21000000. */
const twoRegions = (sram: number, psram: number, names = ['SRAM', 'PSRAM']): string => JSON.stringify({ target: { name: 'qemu two-region', flash: '4M', regions: [
  { name: names[0], size: sram, speed: 'sram' }, { name: names[1], size: psram, speed: 'external', address: '0x21000000' },
] } });
/** Region names are user text: they reach model.c, model.h and board.ld only inside comments, sanitised. */
const HOSTILE = ['SRAM */ int evil; /*', 'PSRAM\n#error injected\n} INCLUDE evil.ld'];

test('regions: the report judges each region, its arena view and plan are the export\'s, and an SRAM error names the region', () => {
  const single = exampleReport('{"target": {"name": "one", "sram": "4M", "flash": "4M"}}').report;
  const arena = single.analysis.arenaBytes;
  const reserve = single.fit!.target.reserveBytes;
  const { report } = exampleReport(twoRegions(reserve + Math.floor(arena / 2 / 16) * 16, 1 << 20));
  const fit = report.fit!;
  assert.equal(fit.status, 'fits');
  assert.equal(fit.regions.length, 2);
  const plan = report.regionPlan!;
  assert.ok(plan[0]!.arenaBytes > 0 && plan[1]!.arenaBytes > 0, 'the arena spreads over both regions');
  assert.ok(plan[0]!.arenaBytes <= plan[0]!.capacity);
  // The verdict counts the export's parts; the report's own plan (the arena view) is the same.
  assert.deepEqual(report.firmware!.arenaParts.map((p) => p.bytes), plan.map((p) => p.arenaBytes));
  assert.deepEqual(fit.regions.map((r) => r.plannedBytes), plan.map((p) => p.arenaBytes));
  assert.equal(fit.regions[0]!.needed, plan[0]!.arenaBytes + reserve);
  for (const r of report.arenaLayout) assert.ok(r.offset + r.size <= plan[r.region]!.arenaBytes, `${r.name} inside its region's arena`);
  // The Memory View: one gauge per region (the Build Analyzer's rows), the arena view stacked by region.
  const view = memoryViewData(report, { enabled: true, reason: '' });
  assert.deepEqual(view.ramRegions!.map((g) => [g.region, g.speed, g.used, g.size]), fit.regions.map((x) => [x.name, x.speed, x.needed, x.bytes]));
  assert.deepEqual(view.arena.regions.map((g) => [g.name, g.bytes]), plan.map((p) => [p.name, p.arenaBytes]));
  assert.equal(view.arena.sizeBytes, plan[0]!.arenaBytes + plan[1]!.arenaBytes);
  assert.equal(memoryViewData(single, { enabled: true, reason: '' }).ramRegions, null, 'one region: the SRAM row as before');

  const small = exampleReport(twoRegions(reserve + 1024, 2048)).report;
  assert.equal(small.fit!.status, 'does-not-fit');
  const err = small.findings.find((f) => f.code === 'sram');
  assert.ok(err);
  assert.match(err.message, /PSRAM needs [\d,]+ B of 2,048 B/);
});

test('regions: a system region the arena may not use: the whole arena goes to the other region, in its own section', () => {
  const { report, graph } = exampleReport(JSON.stringify({ target: { name: 'no-arena-dtcm', flash: '4M', regions: [
    { name: 'DTCM', size: '16K', speed: 'tcm', arena: false }, { name: 'SRAM', size: '1M', address: '0x20100000' }] } }));
  const fit = report.fit!;
  assert.equal(fit.status, 'fits');
  assert.deepEqual(fit.regions.map((r) => r.plannedBytes), [0, report.analysis.arenaBytes]);
  assert.equal(fit.regions[0]!.needed, fit.target.reserveBytes, 'the system region holds the reserve only');
  assert.deepEqual(report.firmware!.arenaParts.map((p) => p.ram), [1]);
  const r = generateC(graph, codegenOptionsFor(report));
  assert.ok(r.ok);
  const file = (name: string): string => r.value.files.find((f) => f.path === name)!.text;
  assert.match(file('src/model.c'), /mm_arena __attribute__\(\(section\("\.mm_arena\.0"\)\)\)/);
  assert.match(file('board.ld'), /RAM0 +\(rwx\) : ORIGIN = 0x20100000, LENGTH = 1048576/);
  assert.match(file('board.ld'), /\.mm_arena\.0 \(NOLOAD\) : \{ \. = ALIGN\(8\); KEEP\(\*\(\.mm_arena\.0\)\) \} > RAM0/);
  assert.match(file('README.md'), /`\.mm_arena\.0` \| SRAM/);
  // No RAM region for the arena at all: a problem, not a target that silently plans nothing.
  const none = parseDeployment(JSON.stringify({ target: { name: 'x', flash: '1M', regions: [{ name: 'A', size: '1K', arena: false }] } }));
  assert.match(none.problems.map((p) => p.message).join(';'), /the arena may use none of the RAM regions/);
});

test('regions: the two-region export runs under QEMU (mps2-an386: SRAM at 0x20000000, PSRAM at 0x21000000) with the single-region output; a region too small does not link', { skip: HAVE_ARM && HAVE_CC ? false : 'arm-none-eabi-gcc, qemu-system-arm or cc missing', timeout: 600_000 }, () => {
  const root = tempDir('regions');
  try {
    const one = exampleReport('{"target": {"name": "one", "sram": "4M", "flash": "4M"}}');
    const arena = one.report.analysis.arenaBytes;
    const reserve = one.report.fit!.target.reserveBytes;
    const oneDir = path.join(root, 'one');
    generate(one.graph, codegenOptionsFor(one.report), oneDir);
    assert.equal(make(oneDir, 'host').status, 0);
    const n = one.graph.tensors[one.graph.inputs[0]!]!.shape!.reduce((a, b) => a * b, 1);
    const input = bytesOf(randomInt8(n, 3));
    const want = runHost(oneDir, input);

    const two = exampleReport(twoRegions(reserve + 4096 + Math.floor(arena / 2 / 16) * 16, 1 << 20, HOSTILE));
    const dir = path.join(root, 'two');
    const out = generate(two.graph, codegenOptionsFor(two.report), dir);
    assert.equal(out.footprint.arenaParts.length, 2);
    const ld = fs.readFileSync(path.join(dir, 'board.ld'), 'utf8');
    assert.match(ld, /RAM1 +\(rwx\) : ORIGIN = 0x21000000/);
    assert.doesNotMatch(ld, /^\s*INCLUDE/m, 'a region name does not become a linker command');
    assert.match(fs.readFileSync(path.join(dir, 'src', 'model.c'), 'utf8'), /__attribute__\(\(section\("\.mm_arena\.1"\)\)\)/);
    const m4 = make(dir, 'cortex-m4');
    assert.equal(m4.status, 0, m4.out);
    const nm = spawnSync('arm-none-eabi-nm', [path.join(dir, 'model_test_m4.elf')], { encoding: 'utf8' }).stdout;
    assert.match(nm, /^2[0-9a-f]{7} b mm_arena$/m, 'part 0 in SRAM');
    assert.match(nm, /^210[0-9a-f]{5} b mm_arena1$/m, 'part 1 in PSRAM');
    fs.writeFileSync(path.join(dir, 'input.bin'), input);
    const q = make(dir, 'run-qemu', ['INPUT=input.bin']);
    assert.equal(q.status, 0, q.out);
    assert.deepEqual(parseValues(q.out), want, 'the two-region build computes what the single-region build does');

    // The verdict says the PSRAM part does not fit; the linker agrees.
    const tight = exampleReport(twoRegions(reserve + 4096 + Math.floor(arena / 2 / 16) * 16, 1024));
    assert.equal(tight.report.fit!.status, 'does-not-fit');
    const tdir = path.join(root, 'tight');
    generate(tight.graph, codegenOptionsFor(tight.report), tdir);
    const bad = make(tdir, 'cortex-m4');
    assert.notEqual(bad.status, 0);
    assert.match(bad.out, /RAM1' overflowed|will not fit in region `RAM1'/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('regions: a line-buffered plan across two regions (rings, accumulators and whole buffers placed like any buffer) runs under QEMU with the single-region output; the verdict counts its parts', { skip: HAVE_ARM && HAVE_CC ? false : 'arm-none-eabi-gcc, qemu-system-arm or cc missing', timeout: 600_000 }, () => {
  const root = tempDir('regions-lines');
  try {
    const one = exampleReport('{"target": {"name": "one", "sram": "4M", "flash": "4M"}, "schedule": "lines"}');
    const lines = one.report.lineBuffered;
    assert.ok(lines && lines.segments.length > 0, 'a line-buffered plan is in force');
    const oneDir = path.join(root, 'one');
    generate(one.graph, codegenOptionsFor(one.report), oneDir);
    assert.equal(make(oneDir, 'host').status, 0);
    const n = one.graph.tensors[one.graph.inputs[0]!]!.shape!.reduce((a, b) => a * b, 1);
    const input = bytesOf(randomInt8(n, 4));
    const want = runHost(oneDir, input);

    // SRAM holds about half of the line-buffered arena (with the reserve); the rest goes to PSRAM.
    const reserve = one.report.fit!.target.reserveBytes;
    const deployment = JSON.parse(twoRegions(reserve + Math.floor(lines.arenaBytes / 2 / 16) * 16, 1 << 20)) as Record<string, unknown>;
    const two = exampleReport(JSON.stringify({ ...deployment, schedule: 'lines' }));
    assert.ok(two.report.lineBuffered, 'still line-buffered');
    assert.equal(two.report.fit!.status, 'fits');
    const fw = two.report.firmware!;
    assert.equal(fw.arenaParts.length, 2);
    assert.ok(fw.arenaParts.every((p) => p.bytes > 0), 'the arena spreads over both regions');
    assert.deepEqual(two.report.fit!.regions.map((r) => r.plannedBytes), fw.arenaParts.map((p) => p.bytes), 'the verdict counts the export\'s parts');
    assert.deepEqual(two.report.regionPlan!.map((p) => p.arenaBytes), fw.arenaParts.map((p) => p.bytes), 'the arena view is the export\'s');
    const dir = path.join(root, 'two');
    generate(two.graph, codegenOptionsFor(two.report), dir);
    assert.equal(make(dir, 'host').status, 0);
    assert.deepEqual(runHost(dir, input), want, 'host build');
    const m4 = make(dir, 'cortex-m4');
    assert.equal(m4.status, 0, m4.out);
    fs.writeFileSync(path.join(dir, 'input.bin'), input);
    const q = make(dir, 'run-qemu', ['INPUT=input.bin']);
    assert.equal(q.status, 0, q.out);
    assert.deepEqual(parseValues(q.out), want, 'the two-region line-buffered build computes what the single-region one does');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('regions: when the per-layer arena fits no spread over the regions, a line-buffered plan whose rings and buffers fit each region is offered, and applying it fits', () => {
  const target = { name: 'two', flash: '4M', regions: [{ name: 'SRAM', size: 2768 + 24 * 1024, speed: 'sram' }, { name: 'PSRAM', size: 40 * 1024, speed: 'external', address: '0x21000000' }] };
  const { report } = exampleReport(JSON.stringify({ target }));
  assert.equal(report.fit!.status, 'does-not-fit');
  const fix = report.findings.find((f) => f.code === 'sram')?.fixes?.find((x) => typeof x.schedule === 'object' && 'lines' in x.schedule);
  assert.ok(fix, 'a line-buffered fix is offered');
  const applied = exampleReport(JSON.stringify({ target, schedule: fix.schedule })).report;
  assert.ok(applied.lineBuffered);
  assert.equal(applied.fit!.status, 'fits');
  assert.ok(applied.firmware!.arenaParts.length === 2 && applied.firmware!.arenaParts.every((p) => p.bytes > 0), 'spread over both regions');
});
