import { readSync } from "node:fs";

/** Fills `buf` from `fd` at `pos`; returns the bytes read (fewer only at end of file). */
export function readAt(fd: number, buf: Buffer, pos: number): number {
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, pos + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/**
 * Random access to a file through one reusable buffer, so scanning a segment of any size costs about one
 * chunk of memory instead of the whole file.
 */
export class FileWindow {
  private buf: Buffer;
  private readonly chunk: number;
  private start = 0;
  private filled = 0;

  /** `scratch` may be shared by windows used one after another (e.g. one per segment) to avoid churning buffers. */
  constructor(
    private readonly fd: number,
    readonly size: number,
    scratch: Buffer = Buffer.allocUnsafe(1 << 20),
  ) {
    this.buf = scratch;
    this.chunk = Math.max(scratch.length, 64);
  }

  /** The buffer in use, which may have grown; hand it to the next window. */
  get scratch(): Buffer {
    return this.buf;
  }

  /** Bytes [pos, pos+len) of the file (caller keeps pos+len <= size). Only valid until the next call. */
  get(pos: number, len: number): Buffer {
    if (pos >= this.start && pos + len <= this.start + this.filled) {
      return this.buf.subarray(pos - this.start, pos - this.start + len);
    }
    const want = Math.min(Math.max(len, this.chunk), this.size - pos);
    if (this.buf.length < want) this.buf = Buffer.allocUnsafe(want);
    this.start = pos;
    this.filled = readAt(this.fd, this.buf.subarray(0, want), pos);
    if (this.filled < len) throw new Error(`short read at ${pos}: file shrank while being read`);
    return this.buf.subarray(0, len);
  }

  /** File offset of the next `needle` at or after `from`, or -1. */
  find(needle: Buffer, from: number): number {
    let pos = from;
    while (pos + needle.length <= this.size) {
      const len = Math.min(this.chunk, this.size - pos);
      const i = this.get(pos, len).indexOf(needle);
      if (i >= 0) return pos + i;
      pos += len - needle.length + 1;
    }
    return -1;
  }
}
