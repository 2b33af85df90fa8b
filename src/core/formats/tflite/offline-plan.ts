// Writes a copy of a TFLite file with an `OfflineMemoryAllocation` metadata entry: the arena offset of every tensor
// (-1: left to TFLM's planner), in the format TFLM's MicroAllocator reads (micro_allocation_info.cc: version 1, the
// number of subgraphs, the number of offsets, then the offsets). Nothing else changes.
//
// Flatbuffer offsets only point forward, so new objects cannot be appended after the data they refer to. Instead a new
// Model table, new `buffers` and `metadata` vectors and the new entry are inserted right after the file header, and
// the rest of the file follows unchanged, shifted by a multiple of 16 (every relative offset inside it stays valid and
// every alignment is kept); the header's root offset points at the new Model table.
import { ModelError } from '../../errors';
import { FbFile } from './fb';

const NAME = 'OfflineMemoryAllocation';
/** Model table slots: version, operator_codes, subgraphs, description, buffers, metadata_buffer, metadata,
 *  signature_defs. */
const MODEL_FIELDS = 8;

export function withOfflinePlan(bytes: Uint8Array, offsets: readonly number[]): Uint8Array {
  const f = new FbFile(bytes);
  const model = f.root('model');
  const buffers = model.tableVector(4, 'buffers', 1 << 24);
  // Buffer 0 is the empty one tensors without data point at; the plan's buffer must come after it.
  if (buffers.length === 0) throw new ModelError('bad-tflite', 'the model has no buffers (not even the empty buffer 0)');
  for (const [i, b] of buffers.entries()) {
    if (b.uint64(1) !== 0 || b.uint64(2) !== 0) throw new ModelError('bad-tflite', `buffer ${i} is stored after the flatbuffer (offset/size): such files cannot be rewritten yet`);
  }
  const metadata = model.tableVector(6, 'metadata', 1 << 24).filter((m) => m.string(0, 'name') !== NAME);
  const refs = Array.from({ length: MODEL_FIELDS }, (_, slot) => (slot === 0 ? 0 : model.ref(slot, `field ${slot}`)));
  for (const o of offsets) if (!Number.isInteger(o) || o < -1 || o > 0x7fffffff) throw new ModelError('bad-graph', `offline offset ${o} is not a valid arena offset`);

  // Layout of the inserted part, in absolute positions from byte 8.
  const align = (n: number, a: number): number => Math.ceil(n / a) * a;
  const rootVt = 8;
  const rootTable = align(rootVt + 4 + 2 * MODEL_FIELDS, 4);
  const buffersVec = rootTable + 4 + 4 * MODEL_FIELDS;
  const metadataVec = buffersVec + 4 + 4 * (buffers.length + 1);
  const metaVt = metadataVec + 4 + 4 * (metadata.length + 1);
  const metaTable = metaVt + 8;
  const bufVt = metaTable + 12;
  const bufTable = bufVt + 8;
  const nameStr = bufTable + 8;
  let dataVec = align(nameStr + 4 + NAME.length + 1, 4);
  while ((dataVec + 4) % 16 !== 0) dataVec += 4;
  const words = [1, 1, offsets.length, ...offsets];
  const end = dataVec + 4 + 4 * words.length;
  const shift = align(end - 8, 16);

  const out = new Uint8Array(bytes.length + shift);
  out.set(bytes.subarray(0, 8), 0);
  out.set(bytes.subarray(8), 8 + shift);
  const dv = new DataView(out.buffer);
  const u16 = (at: number, v: number): void => dv.setUint16(at, v, true);
  const u32 = (at: number, v: number): void => dv.setUint32(at, v, true);
  /** A forward offset stored at `at` to the absolute position `to`. */
  const ref = (at: number, to: number): void => {
    if (to <= at) throw new Error('internal: flatbuffer offsets point forward');
    u32(at, to - at);
  };
  const moved = (oldPos: number): number => oldPos + shift;

  u32(0, rootTable);
  // The new Model table: every field the old one had, buffers and metadata replaced.
  u16(rootVt, 4 + 2 * MODEL_FIELDS);
  u16(rootVt + 2, 4 + 4 * MODEL_FIELDS);
  dv.setInt32(rootTable, rootTable - rootVt, true);
  for (let slot = 0; slot < MODEL_FIELDS; slot++) {
    const at = rootTable + 4 + 4 * slot;
    const present = slot === 0 ? model.has(0) : slot === 4 || slot === 6 || refs[slot] !== 0;
    u16(rootVt + 4 + 2 * slot, present ? 4 + 4 * slot : 0);
    if (!present) continue;
    if (slot === 0) u32(at, model.uint32(0));
    else if (slot === 4) ref(at, buffersVec);
    else if (slot === 6) ref(at, metadataVec);
    else ref(at, moved(refs[slot]!));
  }
  // buffers: the old ones, then the plan's.
  u32(buffersVec, buffers.length + 1);
  buffers.forEach((b, i) => ref(buffersVec + 4 + 4 * i, moved(b.pos)));
  ref(buffersVec + 4 + 4 * buffers.length, bufTable);
  // metadata: the old entries (an old plan dropped), then {name, buffer}.
  u32(metadataVec, metadata.length + 1);
  metadata.forEach((m, i) => ref(metadataVec + 4 + 4 * i, moved(m.pos)));
  ref(metadataVec + 4 + 4 * metadata.length, metaTable);
  u16(metaVt, 8);
  u16(metaVt + 2, 12);
  u16(metaVt + 4, 4);
  u16(metaVt + 6, 8);
  dv.setInt32(metaTable, metaTable - metaVt, true);
  ref(metaTable + 4, nameStr);
  u32(metaTable + 8, buffers.length);
  u16(bufVt, 6);
  u16(bufVt + 2, 8);
  u16(bufVt + 4, 4);
  dv.setInt32(bufTable, bufTable - bufVt, true);
  ref(bufTable + 4, dataVec);
  u32(nameStr, NAME.length);
  for (let i = 0; i < NAME.length; i++) out[nameStr + 4 + i] = NAME.charCodeAt(i);
  u32(dataVec, 4 * words.length);
  words.forEach((w, i) => dv.setInt32(dataVec + 4 + 4 * i, w, true));
  return out;
}
