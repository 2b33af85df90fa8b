// Hostile names (issue 12, items 1 and 2): node, tensor, file and target names built to break out of comments and
// string literals (comment ends, backslash-newline splices, trigraphs, bidirectional controls, quotes, NUL) must never
// change the generated program. Each generated file is lexed as the C compiler sees it (trigraphs and splices first),
// and its code outside comments and string literals must be the code generated for the same model with plain names;
// every comment and string literal must be printable ASCII. The hostile builds also compile with -Werror and give the
// plain build's output; the linker script links.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeGeneratedFiles } from '../../src/node/write-files';
import { libraryName } from '../../src/core/codegen/project';
import { generateC, makeCustomTarget, openModel, type CodegenOptions, type Graph } from '../../src/core/index';
import { cText } from '../../src/core/codegen/c-text';
import { EXAMPLE_INPUT, exampleModel } from '../../src/core/testing/examples';
import { OnnxBuilder } from '../../src/core/testing/onnx-builder';
import { bytesOf, HAVE_ARM, HAVE_CC, make, randomFloats, randomInt8, runHost, SKIP_ARM, tempDir } from '../codegen-helpers';

const SKIP_CC = HAVE_CC ? false : 'no C compiler (cc) and make on this machine';

/** Pieces of hostile names: comment and literal breakers, splices, trigraphs, controls, bidi, code to inject. */
const TOKENS = [
  '*/', '/*', '*\\', '\\', '\n', '\r', '\r\n', '\\\n', '*\\\n/', '??/', '??/\n', '??=', '??\'', '??-', '"', '\'', '`', '%s%n',
  '\u202e', '\u2066', '\u2069', '\u200f', '\u0000', '\t', '\f', '\v', '\u0085', '\u2028', '\ufeff', 'é', '\u{1f600}', '\ud800',
  '//', '#include <stdlib.h>', 'system("echo pwned");', '}', '{', ';', 'INCLUDE evil.ld', 'ASSERT(0, "x")', '$(shell id)', '\x7f',
];

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

export function hostileName(r: () => number): string {
  let s = '';
  const n = 1 + Math.floor(r() * 6);
  for (let i = 0; i < n; i++) {
    s += r() < 0.8 ? TOKENS[Math.floor(r() * TOKENS.length)]! : String.fromCharCode(Math.floor(r() * 0x10000));
  }
  return s;
}

/** A renaming that keeps names unique (the plain name stays at the end) and makes each one hostile. */
function hostileRename(seed: number): (name: string) => string {
  const r = rng(seed);
  const names = new Map<string, string>();
  return (name) => {
    if (!names.has(name)) names.set(name, `${hostileName(r)}${name}${hostileName(r)}`);
    return names.get(name)!;
  };
}

/** Translation phases 1–2 as gcc -std=c99 applies them: trigraphs, then backslash-newline splices. */
function phases(src: string): string {
  const tri: Record<string, string> = { '=': '#', '(': '[', '/': '\\', ')': ']', '\'': '^', '<': '{', '!': '|', '>': '}', '-': '~' };
  return src.replace(/\?\?([=(/)'<!>-])/g, (_, c: string) => tri[c]!).replace(/\\\r?\n/g, '');
}

/** Splits C (or linker-script) text into code with comments and literals blanked, and the comments and literals. */
function lex(src: string): { code: string; texts: string[] } {
  let code = '';
  const texts: string[] = [];
  let i = 0;
  while (i < src.length) {
    if (src.startsWith('/*', i)) {
      const end = src.indexOf('*/', i + 2);
      assert.ok(end >= 0, 'unterminated comment');
      texts.push(src.slice(i + 2, end));
      code += ' ';
      i = end + 2;
    } else if (src.startsWith('//', i)) {
      const end = src.indexOf('\n', i);
      texts.push(src.slice(i + 2, end < 0 ? src.length : end));
      i = end < 0 ? src.length : end;
    } else if (src[i] === '"' || src[i] === '\'') {
      const q = src[i]!;
      let j = i + 1;
      while (j < src.length && src[j] !== q) {
        assert.notEqual(src[j], '\n', 'a string literal runs past the end of its line');
        j += src[j] === '\\' ? 2 : 1;
      }
      texts.push(src.slice(i + 1, j));
      code += `${q}${q}`;
      i = j + 1;
    } else {
      code += src[i];
      i++;
    }
  }
  return { code, texts };
}

/** The generated files of a model, by path. */
function files(graph: Graph, options: CodegenOptions): Map<string, string> {
  const r = generateC(graph, options);
  if (!r.ok) throw new Error(`codegen failed: ${r.error.message}`);
  return new Map(r.value.files.map((f) => [f.path, f.text]));
}

function openBytes(bytes: Uint8Array, fileName: string): Graph {
  const r = openModel(bytes, { fileName });
  if (!r.ok) throw new Error(`${fileName}: ${r.error.message}`);
  return r.value;
}

/** Two outputs (so the harness prints output names in a string literal), a conv, a pool and a global pool. */
function twoOutputs(rename?: (name: string) => string): Uint8Array {
  const b = new OnnxBuilder(13);
  const x = b.input('x', [1, 3, 8, 8]);
  const c = b.op('Relu', [b.conv(x, 3, 4, 3)]);
  b.node('MaxPool', [c], { kernel_shape: [2, 2], strides: [2, 2] }, ['pooled']);
  b.node('GlobalAveragePool', [c], {}, ['mean']);
  b.output('pooled', [1, 4, 4, 4]);
  b.output('mean', [1, 4, 1, 1]);
  return b.build(rename);
}

interface Case {
  name: string;
  build: (rename?: (name: string) => string) => Uint8Array;
  file: string;
  schedule: CodegenOptions['schedule'];
  input: Uint8Array;
}

const CASES: Case[] = [
  { name: 'ONNX example, layer by layer', build: (r) => exampleModel('onnx', r), file: 'm.onnx', schedule: null,
    input: bytesOf(randomFloats(EXAMPLE_INPUT.h * EXAMPLE_INPUT.w * EXAMPLE_INPUT.c, 3)) },
  { name: 'ONNX example, patch-based', build: (r) => exampleModel('onnx', r), file: 'm.onnx', schedule: { split: 4, p: 2, q: 2 },
    input: bytesOf(randomFloats(EXAMPLE_INPUT.h * EXAMPLE_INPUT.w * EXAMPLE_INPUT.c, 3)) },
  { name: 'TFLite example, patch-based', build: (r) => exampleModel('tflite', r), file: 'm.tflite', schedule: { split: 3, p: 3, q: 2 },
    input: bytesOf(randomInt8(EXAMPLE_INPUT.h * EXAMPLE_INPUT.w * EXAMPLE_INPUT.c, 4)) },
  { name: 'ONNX, two outputs', build: twoOutputs, file: 'm.onnx', schedule: null, input: bytesOf(randomFloats(3 * 64, 5)) },
];

const PLAIN_TARGET = makeCustomTarget({ name: 'board', sramBytes: 4 << 20, flashBytes: 4 << 20 });

test('hostile names: cText gives printable ASCII that cannot end or start a comment or a literal (20,000 names)', () => {
  const r = rng(7);
  for (let i = 0; i < 20000; i++) {
    const name = hostileName(r);
    const s = cText(name);
    assert.match(s, /^[\x20-\x7e]*$/, JSON.stringify(name));
    for (const bad of ['*/', '/*', '\\', '??', '"', '*']) assert.ok(!s.includes(bad), `${JSON.stringify(name)} → ${s}`);
    assert.ok(s.length <= 96);
    // As a comment it stays one comment, whatever surrounds it.
    assert.deepEqual(lex(phases(`a /* '${s}' */ b "${s}" c`)).code, 'a   b "" c');
  }
  assert.equal(cText('MobilenetV2/Conv/Relu6;model/conv2d_1 [int8]:0'), 'MobilenetV2/Conv/Relu6;model/conv2d_1 [int8]:0');
  assert.equal(cText('x'.repeat(200)).length, 96);
});

test('hostile names: node, tensor, file and target names never change the generated code (C, linker script, Makefile)', () => {
  let seed = 100;
  for (const c of CASES) {
    for (let round = 0; round < 5; round++) {
      const plain = files(openBytes(c.build(), c.file), { schedule: c.schedule, target: PLAIN_TARGET, source: c.file });
      const targetName = hostileName(rng(seed + 1));
      const hostileSource = hostileName(rng(seed + 2)) + c.file;
      const hostile = files(openBytes(c.build(hostileRename(seed)), c.file), {
        schedule: c.schedule, source: hostileSource,
        target: makeCustomTarget({ name: targetName, sramBytes: 4 << 20, flashBytes: 4 << 20 }),
      });
      seed += 3;
      assert.deepEqual([...hostile.keys()], [...plain.keys()]);
      const hostileLib = libraryName(hostileSource);
      assert.match(hostileLib, /^mcu_model(_[A-Za-z0-9_]{1,40})?$/, 'the library name is an identifier');
      for (const [file, text] of hostile) {
        if (file === 'Makefile') {
          assert.equal(text, plain.get(file), `${c.name}: Makefile`);
          continue;
        }
        if (!/\.[ch]$/.test(file) && file !== 'board.ld') {
          // Build manifests and the README: only the (sanitized) library name differs.
          assert.equal(text.split(hostileLib).join('NAME'), plain.get(file)!.split(libraryName(c.file)).join('NAME'), `${c.name}: ${file}`);
          continue;
        }
        const h = lex(phases(text));
        const p = lex(phases(plain.get(file)!));
        assert.equal(h.code, p.code, `${c.name} round ${round}: ${file} differs outside comments and literals`);
        assert.equal(phases(text), text, `${c.name}: ${file} has a trigraph or a line splice`);
        for (const t of h.texts) assert.match(t, /^[\x20-\x7e\n]*$/, `${c.name}: ${file}: comment or literal not printable ASCII: ${JSON.stringify(t)}`);
      }
    }
  }
});

test('hostile names: the hostile builds compile with -Werror and print the plain build\'s output', { skip: SKIP_CC }, () => {
  let seed = 900;
  for (const c of CASES) {
    const out: number[][] = [];
    for (const rename of [undefined, hostileRename(seed++)]) {
      const dir = tempDir('hostile');
      try {
        const graph = openBytes(c.build(rename), c.file);
        writeGeneratedFiles(dir, [...files(graph, { schedule: c.schedule, source: rename ? rename(c.file) : c.file })].map(([p, text]) => ({ path: p, text })));
        const m = make(dir, 'host');
        assert.equal(m.status, 0, `${c.name}: make host failed:\n${m.out}`);
        out.push(runHost(dir, c.input));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    assert.ok(out[0]!.length > 0);
    assert.deepEqual(out[1], out[0], c.name);
  }
});

test('hostile names: a hostile target name leaves the linker script working (Cortex-M4 link)', { skip: SKIP_ARM }, () => {
  assert.ok(HAVE_ARM);
  const dir = tempDir('hostile-ld');
  try {
    const name = 'x */ ASSERT(0, "injected") /* \n INCLUDE evil.ld \\\n ??/';
    const target = makeCustomTarget({ name, sramBytes: 256 << 10, flashBytes: 1 << 20 });
    writeGeneratedFiles(dir, [...files(openBytes(twoOutputs(), 'm.onnx'), { target })].map(([p, text]) => ({ path: p, text })));
    const ld = fs.readFileSync(path.join(dir, 'board.ld'), 'utf8');
    assert.ok(!ld.includes('INCLUDE evil') || lex(ld).code.indexOf('INCLUDE') < 0, 'INCLUDE reached the script outside a comment');
    const m = make(dir, 'cortex-m4');
    assert.equal(m.status, 0, m.out);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
