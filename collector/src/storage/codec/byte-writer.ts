// Hand-written byte output for the block codec (see index.ts for why no library): varints sized for safe integers.

/**
 * Appends bytes and varints to a buffer sized by the caller's worst case, growing only if that was too small.
 *
 * Signed varints are sign-magnitude rather than zigzag: the first byte carries a continuation bit, the sign and the
 * magnitude's low 6 bits, then 7 bits a byte. Sizes are the same as zigzag (-64..63 in one byte), but a magnitude up
 * to 2^53 - 1 never needs the 2^54 that zigzag would, which a double cannot hold exactly.
 */
export class ByteWriter {
  private buf: Uint8Array;
  private pos = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(16, capacity));
  }

  get length(): number {
    return this.pos;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.pos++] = b;
  }

  bytes(src: Uint8Array): void {
    this.reserve(src.length);
    this.buf.set(src, this.pos);
    this.pos += src.length;
  }

  /** A non-negative safe integer, 7 bits a byte (at most 8 bytes). */
  uvarint(v: number): void {
    this.reserve(8);
    const buf = this.buf;
    let p = this.pos;
    // Above 2^31 the bit operators would truncate; divide instead (exact for integers).
    while (v >= 0x80000000) {
      buf[p++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    while (v >= 0x80) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p++] = v;
    this.pos = p;
  }

  /** A safe integer, sign-magnitude (at most 8 bytes). */
  svarint(v: number): void {
    const neg = v < 0;
    const m = neg ? -v : v;
    const sign = neg ? 0x40 : 0;
    if (m < 0x40) {
      this.reserve(1);
      this.buf[this.pos++] = sign | m;
      return;
    }
    this.reserve(1);
    this.buf[this.pos++] = 0x80 | sign | (m % 64);
    this.uvarint(Math.floor(m / 64));
  }

  /** The bytes written so far (a view, not a copy). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  private reserve(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.pos + extra));
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
  }
}
