// One analysis worker per open model (src/node/analysis-worker.ts): requests go to it in order; cancelling a request
// (or closing the model) ends the thread, and the next request starts a new one.
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type * as vscode from 'vscode';
import type { WorkerReply, WorkerRequest } from '../node/analysis-worker';

/** The error of an analysis or export ended before it finished. */
export const CANCELLED = { code: 'cancelled', message: 'the analysis was cancelled; reopen the model to analyse it' } as const;

type Request = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export class AnalysisWorker {
  private worker: Worker | null = null;
  private nextId = 1;
  /** Requests waiting for a reply, per thread: a stopped thread fails only its own requests, not its successor's. */
  private readonly pending = new Map<Worker, Map<number, (r: WorkerReply) => void>>();

  constructor(private readonly script: string) {}

  /** Starts the thread now (it loads its bundle while the host reads the model and opens the view). */
  prepare(): void {
    this.start();
  }

  /** A thread running and waiting for nothing: it can serve another model. */
  get idle(): boolean {
    return this.worker !== null && (this.pending.get(this.worker)?.size ?? 0) === 0;
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(this.script);
    const waiting = new Map<number, (r: WorkerReply) => void>();
    this.pending.set(w, waiting);
    w.on('message', (r: WorkerReply) => { waiting.get(r.id)?.(r); waiting.delete(r.id); });
    const fail = (message: string): void => {
      for (const [id, resolve] of waiting) resolve({ id, ok: false, error: { code: 'internal', message } });
      waiting.clear();
      this.pending.delete(w);
      if (this.worker === w) this.worker = null;
    };
    w.on('error', (e) => fail(`the analysis worker failed: ${e.message}`));
    w.on('exit', (code) => fail(code === 0 ? 'the analysis worker stopped' : `the analysis worker exited with ${code}`));
    this.worker = w;
    return w;
  }

  /** Runs a request; a cancelled token ends the thread and resolves with a 'cancelled' error. */
  run(request: Request, token?: vscode.CancellationToken): Promise<WorkerReply> {
    const id = this.nextId++;
    const w = this.start();
    const waiting = this.pending.get(w)!;
    return new Promise((resolve) => {
      const sub = token?.onCancellationRequested(() => {
        waiting.delete(id);
        resolve({ id, ok: false, error: { ...CANCELLED } });
        if (this.worker === w) this.stop();
      });
      waiting.set(id, (r) => { sub?.dispose(); resolve(r); });
      w.postMessage({ ...request, id });
    });
  }

  stop(): void {
    const w = this.worker;
    this.worker = null;
    if (w) void w.terminate();
  }
}

/** The worker script next to the extension's bundle. */
export const workerScript = (extensionDir: string): string => path.join(extensionDir, 'dist', 'analysis-worker.js');
