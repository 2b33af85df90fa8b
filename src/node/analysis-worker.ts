// The analysis off the extension host's thread (issue 12, item 5): the VS Code extension runs the pipeline and C export
// of each open model in a worker thread of its own, so a large or hostile model never freezes the host, and cancelling
// ends the thread whatever the model's size. The worker keeps the graph it opened, so C export reuses it.
import { parentPort } from 'node:worker_threads';
import * as path from 'node:path';
import { DEFAULT_SETTINGS, generateC, optimizeForTflm, runPipeline, settingsLayers, type CodegenOptions, type CodegenOutput, type CoreError, type Graph, type ModelReport, type SettingsLayer } from '../core/index';
import { exampleModel } from '../core/testing/examples';
import { nodeExternalData } from './external-data';

export type WorkerRequest =
  | {
    type: 'analyze'; id: number; bytes: Uint8Array; fileName: string;
    /** The model's folder on disk (external data is checked there), or null for other schemes. */
    dir: string | null; base: SettingsLayer[]; deploymentText: string | null; restricted: boolean;
  }
  | { type: 'codegen'; id: number; options: CodegenOptions }
  /** The .tflite file with our arena plan as OfflineMemoryAllocation, for stock TFLM. */
  | { type: 'optimize'; id: number }
  /** Analyses the bundled examples a few times, so that the first model this thread is given runs compiled code (a
   *  spare thread, started before any model is opened); replies with the TFLite example's report. */
  | { type: 'warm'; id: number }
  /** Drops the graph kept for C export (the thread goes back to the spare). */
  | { type: 'forget'; id: number };

export type WorkerReply =
  | { id: number; ok: true; report: ModelReport }
  | { id: number; ok: true; codegen: CodegenOutput }
  | { id: number; ok: true; optimized: Uint8Array; before: number; after: number }
  | { id: number; ok: true; idle: true }
  | { id: number; ok: false; error: CoreError };

/** Passes over the examples when warming up (each takes a few ms once compiled). */
const WARM_PASSES = 8;

let graph: Graph | null = null;
let modelBytes: Uint8Array | null = null;

function handle(m: WorkerRequest): WorkerReply {
  if (m.type === 'analyze') {
    graph = null;
    const r = runPipeline({
      bytes: m.bytes, fileName: m.fileName, base: m.base, deploymentText: m.deploymentText, restricted: m.restricted,
      ...(m.dir ? { externalData: nodeExternalData(path.resolve(m.dir)) } : {}),
    });
    if (!r.ok) return { id: m.id, ok: false, error: r.error };
    graph = r.value.graph;
    modelBytes = m.bytes;
    return { id: m.id, ok: true, report: r.value.report };
  }
  if (m.type === 'warm' || m.type === 'forget') {
    graph = null;
    modelBytes = null;
    if (m.type === 'warm') {
      // V8 compiles a function after it has run a while: one pass over a tiny example leaves most of the pipeline
      // interpreted, and the first real model paid for it (100–200 ms of a new window's first chart).
      let report: ModelReport | null = null;
      for (let pass = 0; pass < WARM_PASSES; pass++) {
        for (const format of ['onnx', 'tflite'] as const) {
          const r = runPipeline({ bytes: exampleModel(format), fileName: `example.${format}`, base: settingsLayers(DEFAULT_SETTINGS), deploymentText: null });
          if (r.ok) report = r.value.report;
        }
      }
      if (report) return { id: m.id, ok: true, report };
    }
    return { id: m.id, ok: true, idle: true };
  }
  if (!graph || !modelBytes) return { id: m.id, ok: false, error: { code: 'internal', message: 'the model was not analysed in this worker' } };
  if (m.type === 'optimize') {
    const o = optimizeForTflm(modelBytes, graph);
    return o.ok ? { id: m.id, ok: true, optimized: o.value.bytes, before: o.value.before.minArenaBytes, after: o.value.after.minArenaBytes } : { id: m.id, ok: false, error: o.error };
  }
  const c = generateC(graph, m.options);
  return c.ok ? { id: m.id, ok: true, codegen: c.value } : { id: m.id, ok: false, error: c.error };
}

parentPort?.on('message', (m: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    reply = handle(m);
  } catch (e) {
    reply = { id: m.id, ok: false, error: { code: 'internal', message: `internal error: ${e instanceof Error ? e.message : String(e)}` } };
  }
  parentPort!.postMessage(reply);
});
