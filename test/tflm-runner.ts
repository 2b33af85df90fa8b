// TFLM itself, the reference runtime: scripts/tflm/setup.sh builds it for 32-bit ARM (-fshort-enums) into a cache
// outside the clone and links scripts/tflm/runner.cc against it; the tests run that runner under qemu-arm.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bytesFor, type Graph } from '../src/core/index';
import { activationTensors, probeModel } from './tflite-reference';

export const RUNNER = path.join(process.env.MCU_MEM_TFLM ?? path.join(os.homedir(), '.cache', 'mcu-mem', 'tflm'), 'tflm-runner-armhf');
const HAVE_RUNNER = fs.existsSync(RUNNER) && spawnSync('qemu-arm', ['--version']).status === 0;
if (!HAVE_RUNNER && process.env.MCU_MEM_REQUIRE_TFLM === '1') throw new Error(`the TFLM runner ${RUNNER} is missing: run bash scripts/tflm/setup.sh`);
export const SKIP_TFLM = HAVE_RUNNER ? false : 'the TFLM runner is not built (bash scripts/tflm/setup.sh): comparison with TFLM skipped';

/** TFLM's value of every activation tensor for one input: a copy of the model listing them all as outputs (TFLM's
 *  planner then keeps each), run with --dump. */
export function tflmTensors(bytes: Uint8Array, graph: Graph, input: Uint8Array, invokes = 1): Map<number, Uint8Array> {
  const wanted = activationTensors(graph);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcu-mem-tflm-'));
  try {
    const file = path.join(dir, 'probe.tflite');
    fs.writeFileSync(file, probeModel(bytes, wanted, false));
    fs.writeFileSync(path.join(dir, 'in.bin'), input);
    const r = spawnSync('qemu-arm', [RUNNER, file, '--input', path.join(dir, 'in.bin'), '--invokes', String(invokes), '--dump', path.join(dir, 'out.bin')], { encoding: 'utf8', timeout: 600_000 });
    assert.equal(r.status, 0, r.stdout);
    const all = new Uint8Array(fs.readFileSync(path.join(dir, 'out.bin')));
    const out = new Map<number, Uint8Array>();
    let at = 0;
    for (const t of wanted) {
      const n = bytesFor(graph.tensors[t]!.dtype, graph.tensors[t]!.shape!);
      out.set(t, all.subarray(at, at + n));
      at += n;
    }
    assert.equal(at, all.length, 'TFLM wrote every tensor asked for');
    return out;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

