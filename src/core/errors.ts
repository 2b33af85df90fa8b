// Errors the core reports as data. Every failure a user can cause with a file has a code and a message naming it.

export type ErrorCode =
  | 'empty-file'
  | 'unknown-format'
  | 'bad-tflite'
  | 'bad-onnx'
  | 'truncated'
  | 'too-large'
  | 'bad-graph'
  | 'external-data'
  | 'unsupported'
  | 'bad-schedule'
  /** An optimization that would not make anything smaller (nothing is written). */
  | 'no-gain'
  | 'cancelled'
  | 'internal';

export class ModelError extends Error {
  /** The operator the error concerns, when there is one (C export: an operator it cannot generate). */
  constructor(readonly code: ErrorCode, message: string, readonly opIndex?: number) {
    super(message);
    this.name = 'ModelError';
  }
}

export interface CoreError {
  code: ErrorCode;
  message: string;
  opIndex?: number;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: CoreError };

/** Runs `fn`, turning every exception into an error value; anything that is not a ModelError is 'internal'. */
export function capture<T>(fn: () => T): Result<T> {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    if (e instanceof ModelError) return { ok: false, error: e.opIndex === undefined ? { code: e.code, message: e.message } : { code: e.code, message: e.message, opIndex: e.opIndex } };
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      return { ok: false, error: { code: 'bad-graph', message: 'model nesting is too deep to read (call stack exceeded)' } };
    }
    const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return { ok: false, error: { code: 'internal', message: `internal error: ${msg}` } };
  }
}

/** Limits that keep a hostile file from driving allocations or loops. */
export const LIMITS = {
  /** Largest element count we accept for one tensor (2^31). */
  maxTensorElements: 2 ** 31,
  maxRank: 8,
  maxOps: 200_000,
  maxTensors: 1_000_000,
  maxSubgraphs: 10_000,
};

export function checkedShape(dims: readonly number[], what: string): number[] {
  if (dims.length > LIMITS.maxRank) throw new ModelError('too-large', `${what} has rank ${dims.length} (limit ${LIMITS.maxRank})`);
  let n = 1;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0) throw new ModelError('bad-graph', `${what} has an invalid dimension ${d} in shape [${dims.join(', ')}]`);
    n *= d;
    if (n > LIMITS.maxTensorElements) {
      throw new ModelError('too-large', `${what} claims ${dims.join('×')} = ${fmtElements(dims)} elements (limit 2^31): refusing to size it`);
    }
  }
  return dims.slice();
}

function fmtElements(dims: readonly number[]): string {
  const n = dims.reduce((a, b) => a * b, 1);
  const log = Math.log2(n);
  return Number.isInteger(log) ? `2^${log}` : n.toExponential(3);
}
