// Coverage census over a gathered public corpus (../shared/corpus: sources.txt and pull.sh): every file is opened and
// analysed with the default conventions; files come out complete, incomplete (some operator not sized) or refused
// (a named error). "Operator tests" are the ONNX repository's per-operator test models (onnx-node-prev and
// onnx/backend/test/data/node); the rest are real models.
//   node out/test/corpus-census.js CORPUS_DIR [--reasons N] [--json]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzeGraph, generateC, openModel } from '../src/core/index';

export interface CensusEntry {
  file: string;
  operatorTest: boolean;
  status: 'complete' | 'incomplete' | 'refused';
  /** For incomplete files: "OP: reason" of each unsized operator; for refused: the error code and message. */
  reasons: string[];
  /** Peak and MACs of an analysed file. */
  peakBytes?: number;
  macs?: number;
  /** Operators whose stored shapes contradict our inference ("OP: what differs"). */
  conflicts?: string[];
  /** With --codegen: null when the C export succeeds, else why not. */
  codegen?: string | null;
}

export function isOperatorTest(rel: string): boolean {
  return rel.startsWith('onnx-node-prev/') || rel.includes('/backend/test/data/node/');
}

function listModels(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(onnx|tflite)$/i.test(e.name)) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

export function censusOf(dir: string, withCodegen = false): CensusEntry[] {
  return listModels(dir).map((file) => {
    const rel = path.relative(dir, file);
    const operatorTest = isOperatorTest(rel);
    const opened = openModel(new Uint8Array(fs.readFileSync(file)), { fileName: file });
    if (!opened.ok) return { file: rel, operatorTest, status: 'refused', reasons: [`${opened.error.code}: ${opened.error.message}`] };
    const a = analyzeGraph(opened.value);
    const conflicts = opened.value.ops.filter((o) => o.shapeConflict).map((o) => `${o.sourceType}: ${o.shapeConflict}`);
    const figures = { peakBytes: a.peakBytes, macs: a.macs, ...(conflicts.length ? { conflicts } : {}) };
    const codegen = withCodegen && a.complete ? (() => { const c = generateC(opened.value, { source: 'm' }); return c.ok ? null : c.error.message; })() : undefined;
    if (a.complete) return { file: rel, operatorTest, status: 'complete', reasons: [], ...figures, ...(codegen !== undefined ? { codegen } : {}) };
    return { file: rel, operatorTest, status: 'incomplete', reasons: a.unsupported.map((u) => `${u.op}: ${u.reason}`), ...figures };
  });
}

function summary(entries: readonly CensusEntry[], label: string): string {
  const n = entries.length;
  const inc = entries.filter((e) => e.status === 'incomplete').length;
  const ref = entries.filter((e) => e.status === 'refused').length;
  const pct = (k: number): string => (n ? ((100 * k) / n).toFixed(1) : '0.0') + '%';
  return `${label}: ${n} files, ${n - inc - ref} complete, ${inc} incomplete (${pct(inc)}), ${ref} refused (${pct(ref)})`;
}

function leaders(entries: readonly CensusEntry[], top: number): string[] {
  const byOp = new Map<string, number>();
  for (const e of entries) {
    if (e.status === 'complete') continue;
    // One count per file and reason (an operator unsized ten times in a file counts once).
    const reasons = new Set(e.reasons.map((r) => r.replace(/'[^']*'/g, "'…'").replace(/\d+/g, 'N').slice(0, 120)));
    for (const r of reasons) byOp.set(r, (byOp.get(r) ?? 0) + 1);
  }
  return [...byOp.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([r, k]) => `${String(k).padStart(5)}  ${r}`);
}

if (require.main === module) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node out/test/corpus-census.js CORPUS_DIR [--reasons N] [--json]');
    process.exit(2);
  }
  const ri = process.argv.indexOf('--reasons');
  const top = ri > 0 ? Number(process.argv[ri + 1]) : 25;
  const entries = censusOf(dir, process.argv.includes('--codegen'));
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(entries, null, 1));
  } else {
    const real = entries.filter((e) => !e.operatorTest);
    const ops = entries.filter((e) => e.operatorTest);
    console.log(summary(entries, 'all'));
    console.log(summary(real, 'real models'));
    console.log(summary(ops, 'operator tests'));
    console.log('\nreal models, leading reasons (files):');
    for (const l of leaders(real, top)) console.log(l);
    console.log('\noperator tests, leading reasons (files):');
    for (const l of leaders(ops, top)) console.log(l);
    const tried = real.filter((e) => e.codegen !== undefined);
    if (tried.length) {
      const ok = tried.filter((e) => e.codegen === null).length;
      console.log(`\nC export of the completely sized real models: ${ok} of ${tried.length} export (${((100 * ok) / tried.length).toFixed(1)}%)`);
      for (const l of leaders(tried.filter((e) => e.codegen).map((e) => ({ ...e, status: 'incomplete', reasons: [e.codegen!.replace(/^C export: /, '').replace(/operator #\d+ /, '')] })), top)) console.log(l);
    }
    const conflicted = entries.filter((e) => e.conflicts?.length);
    console.log(`\nstored shapes contradicting inference: ${conflicted.length} files`);
    for (const l of leaders(conflicted.map((e) => ({ ...e, status: 'incomplete', reasons: e.conflicts! })), top)) console.log(l);
  }
}
