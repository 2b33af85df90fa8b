// The C export as a library for firmware projects (issue 15, part 3): CMake builds it (host, and Cortex-M4 under QEMU
// with the export's toolchain file) with the same outputs as the Makefile's build; a CMake application links it with
// add_subdirectory; the ESP-IDF, Zephyr, PlatformIO and Arduino manifests follow their documented formats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { codegenOptionsFor, runPipeline, type Graph } from '../../src/core/index';
import { exampleModel } from '../../src/core/testing/examples';
import { libraryName } from '../../src/core/codegen/project';
import { generate, HAVE_ARM, HAVE_CC, HAVE_CMAKE, make, parseValues, randomInt8, bytesOf, runHost, tempDir } from '../codegen-helpers';

const SKIP_CMAKE = HAVE_CC && HAVE_CMAKE ? false : 'cmake or cc is not installed (scripts/setup-arm.sh installs cmake)';

function exportExample(dir: string): { graph: Graph; input: Uint8Array } {
  const bytes = exampleModel('tflite');
  const r = runPipeline({ bytes, fileName: 'example.tflite', base: [], deploymentText: null });
  assert.ok(r.ok);
  const { graph, report } = r.value;
  generate(graph, { ...codegenOptionsFor(report), source: 'person detect (v2).tflite' }, dir);
  const n = graph.tensors[graph.inputs[0]!]!.shape!.reduce((a, b) => a * b, 1);
  return { graph, input: bytesOf(randomInt8(n, 7)) };
}

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 600_000 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

test('firmware project: the CMake library builds on the host and for Cortex-M4 (QEMU) with the Makefile build\'s outputs; an application links it by add_subdirectory', { skip: SKIP_CMAKE, timeout: 900_000 }, () => {
  const root = tempDir('fwproj');
  try {
    const dir = path.join(root, 'model');
    fs.mkdirSync(dir);
    const { input } = exportExample(dir);
    assert.equal(make(dir, 'host').status, 0);
    const want = runHost(dir, input);
    assert.ok(want.length > 0);
    fs.writeFileSync(path.join(root, 'input.bin'), input);

    // The export's own CMake build, with the harness.
    run('cmake', ['-S', dir, '-B', path.join(root, 'host'), '-DMCU_MODEL_TEST=ON', '-DCMAKE_BUILD_TYPE=Release'], root);
    run('cmake', ['--build', path.join(root, 'host')], root);
    assert.deepEqual(parseValues(run(path.join(root, 'host', 'model_test'), [path.join(root, 'input.bin')], root)), want);

    // A firmware application that adds the folder as a subdirectory and calls the three functions.
    const app = path.join(root, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'CMakeLists.txt'), 'cmake_minimum_required(VERSION 3.13)\nproject(app C)\nadd_subdirectory(../model model)\nadd_executable(app main.c)\ntarget_link_libraries(app PRIVATE mcu_model)\n');
    fs.writeFileSync(path.join(app, 'main.c'), [
      '#include <stdio.h>', '#include <string.h>', '#include "model.h"',
      'int main(int argc, char **argv) {',
      '  static model_input_t x[MODEL_INPUT_ELEMENTS];',
      '  FILE *f = argc > 1 ? fopen(argv[1], "rb") : NULL;',
      '  if (!f || fread(x, 1, sizeof x, f) != sizeof x) return 2;',
      '  fclose(f);',
      '  model_init();',
      '#if MODEL_INPUT_IN_ARENA',
      '  memcpy(model_input(), x, sizeof x);',
      '  model_run(model_input(), NULL);',
      '#else',
      '  model_run(x, NULL);',
      '#endif',
      '  for (int i = 0; i < MODEL_OUTPUT_ELEMENTS; i++) printf("%d\\n", (int)model_output()[i]);',
      '  return 0;',
      '}', '',
    ].join('\n'));
    run('cmake', ['-S', app, '-B', path.join(root, 'appbuild')], root);
    run('cmake', ['--build', path.join(root, 'appbuild')], root);
    assert.deepEqual(parseValues(run(path.join(root, 'appbuild', 'app'), [path.join(root, 'input.bin')], root)), want);

    if (!HAVE_ARM) return;
    // Cortex-M4: the export's toolchain file, run under QEMU (mps2-an386) with the input through semihosting.
    const m4 = path.join(root, 'm4');
    run('cmake', ['-S', dir, '-B', m4, `-DCMAKE_TOOLCHAIN_FILE=${path.join(dir, 'cmake', 'arm-none-eabi.cmake')}`, '-DMCU_MODEL_TEST=ON', '-DCMAKE_BUILD_TYPE=Release'], root);
    run('cmake', ['--build', m4], root);
    const elf = path.join(m4, 'model_test.elf');
    assert.ok(fs.existsSync(elf));
    const out = run('qemu-system-arm', ['-M', 'mps2-an386', '-nographic', '-monitor', 'none', '-semihosting-config', `enable=on,target=native,arg=model_test,arg=${path.join(root, 'input.bin')}`, '-kernel', elf], root);
    assert.deepEqual(parseValues(out), want);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

/** The flat YAML these manifests use: `key: value` and one level of nested maps (2-space indent). */
function yamlMap(text: string): Record<string, string | Record<string, string>> {
  const out: Record<string, string | Record<string, string>> = {};
  let current: Record<string, string> | null = null;
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const m = /^( *)([A-Za-z0-9_.-]+):(?: (.*))?$/.exec(line);
    assert.ok(m, `not a YAML mapping line: ${JSON.stringify(line)}`);
    const value = (m[3] ?? '').replace(/^"(.*)"$/, '$1');
    if (m[1] === '') {
      if (m[3] === undefined) out[m[2]!] = current = {};
      else { out[m[2]!] = value; current = null; }
    } else {
      assert.equal(m[1], '  ', 'one level of nesting, two spaces');
      assert.ok(current, `indented line without a parent: ${line}`);
      current[m[2]!] = value;
    }
  }
  return out;
}

const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

test('firmware project: ESP-IDF, Zephyr, PlatformIO and Arduino manifests follow their documented formats; the library name survives any file name', () => {
  const dir = tempDir('fwmanifest');
  try {
    exportExample(dir);
    const read = (f: string): string => fs.readFileSync(path.join(dir, f), 'utf8');
    const name = libraryName('person detect (v2).tflite');
    assert.equal(name, 'mcu_model_person_detect_v2');
    for (const hostile of ['../../etc/passwd', 'a"b\nc: d', '${evil}', '', '.tflite', 'ümlaut.onnx', 'x'.repeat(300)]) {
      assert.match(libraryName(hostile), /^mcu_model(_[A-Za-z0-9][A-Za-z0-9_]{0,39})?$/, JSON.stringify(hostile));
    }

    // ESP-IDF component manager (idf_component.yml): version is semver; known top-level keys; dependencies a map.
    const idf = yamlMap(read('idf_component.yml'));
    const IDF_KEYS = ['version', 'description', 'url', 'repository', 'documentation', 'issues', 'discussion', 'maintainers', 'license', 'tags', 'targets', 'dependencies', 'files', 'examples'];
    for (const k of Object.keys(idf)) assert.ok(IDF_KEYS.includes(k), `idf_component.yml: unknown key ${k}`);
    assert.match(String(idf['version']), SEMVER);
    assert.equal(typeof idf['dependencies'], 'object');
    assert.match(read('CMakeLists.txt'), /if\(ESP_PLATFORM\)\s+idf_component_register\(SRCS [^)]*INCLUDE_DIRS src\)/, 'the component registers itself');

    // Zephyr module (zephyr/module.yml, schema in zephyr's scripts/zephyr_module.py): paths relative to the module root.
    const zm = yamlMap(read('zephyr/module.yml'));
    for (const k of Object.keys(zm)) assert.ok(['name', 'build', 'samples', 'tests', 'boards', 'blobs', 'package-managers', 'security'].includes(k), `module.yml: unknown key ${k}`);
    assert.equal(zm['name'], name);
    const build = zm['build'] as Record<string, string>;
    for (const k of Object.keys(build)) assert.ok(['cmake', 'kconfig', 'cmake-ext', 'kconfig-ext', 'sysbuild-cmake', 'sysbuild-kconfig', 'depends', 'settings'].includes(k), `module.yml build: unknown key ${k}`);
    assert.ok(fs.existsSync(path.join(dir, build['cmake']!, 'CMakeLists.txt')), 'build.cmake names the folder of the module\'s CMakeLists.txt');
    assert.ok(fs.existsSync(path.join(dir, build['kconfig']!)), 'build.kconfig names the Kconfig file');
    assert.match(read('zephyr/Kconfig'), /^config MCU_MODEL\n\tbool "[^"\n]+"\n\thelp\n(\t  .*\n)+$/m);
    for (const src of /zephyr_library_sources\(([^)]*)\)/.exec(read('zephyr/CMakeLists.txt'))![1]!.split(' ')) assert.ok(fs.existsSync(path.join(dir, 'zephyr', src)), src);

    // PlatformIO (library.json): name and version required; the documented fields only; srcDir/includeDir exist.
    const pio = JSON.parse(read('library.json')) as Record<string, unknown>;
    const PIO_KEYS = ['name', 'version', 'description', 'keywords', 'authors', 'license', 'repository', 'homepage', 'frameworks', 'platforms', 'headers', 'examples', 'dependencies', 'export', 'build', 'system'];
    for (const k of Object.keys(pio)) assert.ok(PIO_KEYS.includes(k), `library.json: unknown field ${k}`);
    assert.equal(pio['name'], name);
    assert.ok(String(pio['name']).length <= 50);
    assert.match(String(pio['version']), SEMVER);
    assert.ok(String(pio['description']).length <= 255);
    const pb = pio['build'] as Record<string, string>;
    for (const k of Object.keys(pb)) assert.ok(['flags', 'unflags', 'includeDir', 'srcDir', 'srcFilter', 'extraScript', 'libArchive', 'libLDFMode', 'libCompatMode', 'builder'].includes(k), `library.json build: unknown field ${k}`);
    for (const k of ['srcDir', 'includeDir']) assert.ok(fs.existsSync(path.join(dir, pb[k]!, 'model.h')), k);

    // Arduino (library.properties, library specification 1.5): every required field; the name's characters; a known
    // category; sources in src/ and no main() there (the harness stays outside).
    const props = new Map(read('library.properties').trim().split('\n').map((l) => { const i = l.indexOf('='); return [l.slice(0, i), l.slice(i + 1)] as const; }));
    for (const k of ['name', 'version', 'author', 'maintainer', 'sentence', 'paragraph', 'category', 'url', 'architectures']) assert.ok(props.get(k), `library.properties: ${k} is required`);
    assert.match(props.get('name')!, /^[A-Za-z0-9][A-Za-z0-9 _.-]*$/);
    assert.match(props.get('version')!, SEMVER);
    assert.ok(['Display', 'Communication', 'Signal Input/Output', 'Sensors', 'Device Control', 'Timing', 'Data Storage', 'Data Processing', 'Other'].includes(props.get('category')!));
    assert.equal(props.get('includes'), 'model.h');
    for (const f of fs.readdirSync(path.join(dir, 'src'))) assert.ok(!/\bint\s+main\s*\(/.test(fs.readFileSync(path.join(dir, 'src', f), 'utf8')), `src/${f} defines main()`);

    // model.h documents the API: what each call does, the arena, the layout and quantization, thread safety.
    const h = read('src/model.h');
    for (const what of [/model_init: clears the arena/, /model_run: runs every layer once/, /MODEL_ARENA_BYTES/, /layout of\s+\* MODEL_INPUT_SHAPE/, /real value = MODEL_<X>_SCALE/, /Thread safety: not reentrant/]) assert.match(h, what);
    // The export's README shows the three calls.
    assert.match(read('README.md'), /model_init\(\);[\s\S]*model_run\([\s\S]*model_output\(\)/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
