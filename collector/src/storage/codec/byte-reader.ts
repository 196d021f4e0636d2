// Hand-written bounded byte input for the block codec (see index.ts for why no library). Every read is checked
// against the end of the buffer and throws CodecError naming the field, so a corrupt block cannot read out of bounds.
import { CodecError } from "./codec-error.js";

/** The longest varint a safe integer needs: 6 + 7 * 7 = 55 bits (signed) or 56 bits (unsigned) cover 53. */
const MAX_VARINT_BYTES = 8;

export class ByteReader {
  pos: number;

  constructor(
    readonly buf: Uint8Array,
    pos = 0,
  ) {
    this.pos = pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  byte(what: string): number {
    if (this.pos >= this.buf.length) throw new CodecError(`${what}: truncated`);
    return this.buf[this.pos++]!;
  }

  /** A view of the next `len` bytes; `len` is checked against what is left before anything is taken. */
  bytes(len: number, what: string): Uint8Array {
    if (len > this.remaining) throw new CodecError(`${what}: needs ${len} bytes, ${this.remaining} left`);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  uvarint(what: string): number {
    const buf = this.buf;
    let p = this.pos;
    let b = buf[p++];
    if (b === undefined) throw new CodecError(`${what}: truncated`);
    if (b < 0x80) {
      this.pos = p;
      return b;
    }
    let v = b & 0x7f;
    let scale = 0x80;
    for (let i = 1; ; i++) {
      if (i === MAX_VARINT_BYTES) throw new CodecError(`${what}: varint longer than ${MAX_VARINT_BYTES} bytes`);
      b = buf[p++];
      if (b === undefined) throw new CodecError(`${what}: truncated`);
      v += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 0x80;
    }
    if (v > Number.MAX_SAFE_INTEGER) throw new CodecError(`${what}: varint beyond 2^53`);
    this.pos = p;
    return v;
  }

  svarint(what: string): number {
    const b = this.buf[this.pos];
    if (b === undefined) throw new CodecError(`${what}: truncated`);
    if (b < 0x80) {
      this.pos++;
      return b & 0x40 ? 0 - (b & 0x3f) : b; // 0 - x, not -x: a stray sign on 0 must not make -0
    }
    this.pos++;
    const m = (b & 0x3f) + this.uvarint(what) * 64;
    if (m > Number.MAX_SAFE_INTEGER) throw new CodecError(`${what}: varint beyond 2^53`);
    return b & 0x40 ? 0 - m : m;
  }
}
