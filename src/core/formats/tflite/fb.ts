// Bounds-checked accessors over the flatbuffers runtime's ByteBuffer. The runtime itself trusts every offset in the
// file; here every table, vtable, vector and string is checked against the file size before it is read, so a hostile
// file can neither read outside the bytes nor make us loop over a claimed length larger than the file.
import { ByteBuffer } from 'flatbuffers';
import { ModelError } from '../../errors';

export interface FbVector {
  /** Absolute position of element 0. */
  start: number;
  length: number;
}

export class FbFile {
  readonly bb: ByteBuffer;
  readonly size: number;

  constructor(readonly bytes: Uint8Array) {
    this.bb = new ByteBuffer(bytes);
    this.size = bytes.length;
  }

  need(pos: number, size: number, what: string): void {
    if (!(pos >= 0) || !(size >= 0) || pos + size > this.size) {
      throw new ModelError('truncated', `${what} points outside the file (bytes ${pos}..${pos + size} of ${this.size}): the file is truncated or corrupt`);
    }
  }

  root(what: string): FbTable {
    this.need(0, 8, 'file header');
    return this.tableAt(this.bb.readUint32(0), what);
  }

  tableAt(pos: number, what: string): FbTable {
    this.need(pos, 4, what);
    const vt = pos - this.bb.readInt32(pos);
    this.need(vt, 4, `${what} vtable`);
    const vtLen = this.bb.readUint16(vt);
    const objLen = this.bb.readUint16(vt + 2);
    if (vtLen < 4 || vtLen % 2 !== 0) throw new ModelError('bad-tflite', `${what} has a malformed vtable (length ${vtLen})`);
    this.need(vt, vtLen, `${what} vtable`);
    this.need(pos, Math.max(objLen, 4), what);
    return new FbTable(this, pos, vt, vtLen, objLen, what);
  }
}

export class FbTable {
  constructor(
    private readonly f: FbFile,
    readonly pos: number,
    private readonly vt: number,
    private readonly vtLen: number,
    private readonly objLen: number,
    readonly what: string,
  ) {}

  /** Absolute position of a field, or 0 when absent. */
  private field(slot: number, size: number): number {
    const o = 4 + 2 * slot;
    if (o + 2 > this.vtLen) return 0;
    const fo = this.f.bb.readUint16(this.vt + o);
    if (fo === 0) return 0;
    if (fo + size > this.objLen) throw new ModelError('bad-tflite', `${this.what}: field ${slot} lies outside its table`);
    return this.pos + fo;
  }

  has(slot: number): boolean {
    return this.field(slot, 0) !== 0;
  }

  /** Absolute position of a field of `size` bytes, or 0 when absent (for writers that patch a copy in place). */
  at(slot: number, size: number): number {
    return this.field(slot, size);
  }

  int8(slot: number, def = 0): number {
    const p = this.field(slot, 1);
    return p ? this.f.bb.readInt8(p) : def;
  }

  uint8(slot: number, def = 0): number {
    const p = this.field(slot, 1);
    return p ? this.f.bb.readUint8(p) : def;
  }

  bool(slot: number, def = false): boolean {
    const p = this.field(slot, 1);
    return p ? this.f.bb.readUint8(p) !== 0 : def;
  }

  int32(slot: number, def = 0): number {
    const p = this.field(slot, 4);
    return p ? this.f.bb.readInt32(p) : def;
  }

  uint32(slot: number, def = 0): number {
    const p = this.field(slot, 4);
    return p ? this.f.bb.readUint32(p) : def;
  }

  float32(slot: number, def = 0): number {
    const p = this.field(slot, 4);
    return p ? this.f.bb.readFloat32(p) : def;
  }

  /** A 64-bit unsigned field as a number (exact up to 2^53; larger values are rejected by the callers' range checks). */
  uint64(slot: number, def = 0): number {
    const p = this.field(slot, 8);
    return p ? this.f.bb.readUint32(p) + this.f.bb.readUint32(p + 4) * 2 ** 32 : def;
  }

  /** Absolute position of the object an offset field points to, or 0 when the field is absent. */
  ref(slot: number, what: string): number {
    return this.indirect(slot, what);
  }

  private indirect(slot: number, what: string): number {
    const p = this.field(slot, 4);
    if (!p) return 0;
    const target = p + this.f.bb.readUint32(p);
    this.f.need(target, 4, `${this.what}.${what}`);
    return target;
  }

  table(slot: number, what: string): FbTable | null {
    const t = this.indirect(slot, what);
    return t ? this.f.tableAt(t, `${this.what}.${what}`) : null;
  }

  vector(slot: number, elemSize: number, what: string): FbVector | null {
    const v = this.indirect(slot, what);
    if (!v) return null;
    const length = this.f.bb.readUint32(v);
    this.f.need(v + 4, length * elemSize, `${this.what}.${what} (${length} elements)`);
    return { start: v + 4, length };
  }

  string(slot: number, what: string): string | null {
    const v = this.vector(slot, 1, what);
    return v ? decodeUtf8(this.f.bytes.subarray(v.start, v.start + v.length)) : null;
  }

  int32Vector(slot: number, what: string): number[] | null {
    const v = this.vector(slot, 4, what);
    if (!v) return null;
    const out = new Array<number>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = this.f.bb.readInt32(v.start + 4 * i);
    return out;
  }

  float32Vector(slot: number, what: string): number[] | null {
    const v = this.vector(slot, 4, what);
    if (!v) return null;
    const out = new Array<number>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = this.f.bb.readFloat32(v.start + 4 * i);
    return out;
  }

  /** int64 vector as numbers (zero points and the like: small values). */
  int64Vector(slot: number, what: string): number[] | null {
    const v = this.vector(slot, 8, what);
    if (!v) return null;
    const out = new Array<number>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = this.f.bb.readUint32(v.start + 8 * i) + this.f.bb.readInt32(v.start + 8 * i + 4) * 2 ** 32;
    return out;
  }

  /** The tables of a vector, at most `limit` of them (checked before anything is built). With `distinct`, a table
   *  reached twice is refused: two tensors or operators cannot be the same table (writers do share identical empty
   *  buffers), and aliased entries would let a small file declare a million tensors of one table. */
  tableVector(slot: number, what: string, limit: number, distinct = false): FbTable[] {
    const v = this.vector(slot, 4, what);
    if (!v) return [];
    if (v.length > limit) throw new ModelError('too-large', `${this.what}.${what} has ${v.length} entries (limit ${limit})`);
    const out: FbTable[] = [];
    const seen = new Map<number, number>();
    for (let i = 0; i < v.length; i++) {
      const p = v.start + 4 * i;
      const at = p + this.f.bb.readUint32(p);
      const first = distinct ? seen.get(at) : undefined;
      if (first !== undefined) throw new ModelError('bad-tflite', `${this.what}.${what}[${i}] is the same table as [${first}] (aliased entries)`);
      if (distinct) seen.set(at, i);
      out.push(this.f.tableAt(at, `${this.what}.${what}[${i}]`));
    }
    return out;
  }
}

/** Minimal UTF-8 decoder (names only; the core has no TextDecoder type). Invalid sequences become U+FFFD. */
export function decodeUtf8(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; ) {
    const c = b[i++]!;
    let cp: number;
    if (c < 0x80) cp = c;
    else if (c >= 0xc0 && c < 0xe0 && i < b.length) cp = ((c & 0x1f) << 6) | (b[i++]! & 0x3f);
    else if (c >= 0xe0 && c < 0xf0 && i + 1 < b.length) cp = ((c & 0x0f) << 12) | ((b[i++]! & 0x3f) << 6) | (b[i++]! & 0x3f);
    else if (c >= 0xf0 && c < 0xf8 && i + 2 < b.length) {
      cp = ((c & 0x07) << 18) | ((b[i++]! & 0x3f) << 12) | ((b[i++]! & 0x3f) << 6) | (b[i++]! & 0x3f);
    } else cp = 0xfffd;
    s += cp > 0x10ffff ? '\ufffd' : String.fromCodePoint(cp);
    if (s.length > 4096) return s + '…';
  }
  return s;
}
