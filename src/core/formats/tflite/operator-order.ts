// Writes a copy of a TFLite file whose main subgraph runs its operators in another order. TFLM runs operators in the
// order of the subgraph's `operators` vector; that vector holds one forward offset per operator table, so a permutation
// rewrites those offsets in place (every table lies after the vector: any permutation keeps them forward). Nothing else
// in the file changes, not even its size.
import { ModelError } from '../../errors';
import { FbFile } from './fb';

/** `order[k]`: the index (in the file's order) of the operator that runs k-th. */
export function withOperatorOrder(bytes: Uint8Array, order: readonly number[]): Uint8Array {
  const f = new FbFile(bytes);
  const sg = f.root('model').tableVector(2, 'subgraphs', 1 << 16)[0];
  const ops = sg?.vector(3, 4, 'operators');
  if (!sg || !ops) throw new ModelError('bad-tflite', 'the model has no operators to reorder');
  const n = ops.length;
  if (order.length !== n || new Set(order).size !== n || order.some((i) => !Number.isInteger(i) || i < 0 || i >= n)) {
    throw new ModelError('bad-graph', `an operator order must be a permutation of the ${n} operators`);
  }
  const out = bytes.slice();
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const at = (i: number): number => ops.start + 4 * i;
  const targets = Array.from({ length: n }, (_, i) => at(i) + dv.getUint32(at(i), true));
  order.forEach((from, k) => {
    const rel = targets[from]! - at(k);
    if (rel <= 0) throw new ModelError('bad-tflite', `operator ${from}'s table lies before the operators vector`);
    dv.setUint32(at(k), rel, true);
  });
  return out;
}
