import { closeSync, fsyncSync, openSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { encodeSegmentStart } from "./record-codec.js";

export const SEGMENT_FILE = /^(\d{12})\.seg$/;

export function segmentFileName(n: number): string {
  return `${String(n).padStart(12, "0")}.seg`;
}

export interface RecordLoc {
  offset: number;
  length: number;
}

/** Where a batch lives; valid while its segment is in the spool. */
export interface BatchSlot {
  seg: Segment;
  index: number;
  seq: number;
}

/**
 * One segment file and its in-memory index. Per batch only seq, offset, length and an acked flag are kept, in
 * typed arrays (17 bytes a batch), so a full spool of small batches still indexes in a few tens of MB; points
 * and series declarations stay on disk until read.
 */
export class Segment {
  /** Open for appending while this is the active segment. */
  fd: number | null = null;
  /** Segment-local series ref → its declaration record. */
  readonly decls = new Map<number, RecordLoc>();
  count = 0;
  pending = 0;
  minSeq = Infinity;
  maxSeq = -Infinity;
  newestTimeMs = -Infinity;
  /** Highest seq appended before this segment started (from its start record). */
  startSeq = 0;
  /** Seqs ascend within the segment (always, unless the agent reused seqs), so lookups can binary-search. */
  sorted = true;
  private seqs = new Float64Array(64);
  private offsets = new Uint32Array(64);
  private lengths = new Uint32Array(64);
  private acked = new Uint8Array(64);

  constructor(
    readonly path: string,
    readonly number: number,
    public size: number,
  ) {}

  /** Creates the file (never reusing one) and writes its start record. */
  static create(dir: string, number: number, lastSeq: number, fsync: boolean): Segment {
    const seg = new Segment(join(dir, segmentFileName(number)), number, 0);
    seg.fd = openSync(seg.path, "wx");
    seg.write(encodeSegmentStart(lastSeq), fsync);
    seg.startSeq = lastSeq;
    if (fsync) syncDir(dir);
    return seg;
  }

  /** Appends bytes at the end of the file; returns the offset they start at. */
  write(buf: Buffer, fsync: boolean): number {
    if (this.fd === null) throw new Error(`segment ${this.path} is not open for writing`);
    const at = this.size;
    let done = 0;
    while (done < buf.length) done += writeSync(this.fd, buf, done, buf.length - done);
    this.size += buf.length;
    if (fsync) fsyncSync(this.fd);
    return at;
  }

  closeFile(fsync: boolean): void {
    if (this.fd === null) return;
    try {
      if (fsync) fsyncSync(this.fd);
    } finally {
      closeSync(this.fd);
      this.fd = null;
    }
  }

  remove(): void {
    this.closeFile(false);
    unlinkSync(this.path);
  }

  addBatch(seq: number, timeMs: number, loc: RecordLoc): void {
    if (loc.offset > 0xffffffff) throw new Error(`segment ${this.path} is over 4 GiB`);
    if (this.count === this.seqs.length) this.grow();
    const i = this.count++;
    this.seqs[i] = seq;
    this.offsets[i] = loc.offset;
    this.lengths[i] = loc.length;
    this.acked[i] = 0;
    this.pending++;
    if (this.count > 1 && seq <= this.maxSeq) this.sorted = false;
    this.minSeq = Math.min(this.minSeq, seq);
    this.maxSeq = Math.max(this.maxSeq, seq);
    this.newestTimeMs = Math.max(this.newestTimeMs, timeMs);
  }

  loc(i: number): RecordLoc {
    return { offset: this.offsets[i] ?? 0, length: this.lengths[i] ?? 0 };
  }

  /** Marks batch i done (acked, or lost to damage); returns whether it was pending. */
  settle(i: number): boolean {
    if (i >= this.count || this.acked[i] === 1) return false;
    this.acked[i] = 1;
    this.pending--;
    return true;
  }

  /** Settles every pending batch with this seq; returns how many. */
  ack(seq: number): number {
    if (this.pending === 0 || seq < this.minSeq || seq > this.maxSeq) return 0;
    let n = 0;
    for (let i = this.sorted ? this.firstAbove(seq - 1) : 0; i < this.count; i++) {
      const s = this.seqs[i];
      if (s === seq && this.settle(i)) n++;
      else if (this.sorted && s !== seq) break;
    }
    return n;
  }

  /** Adds up to `limit` pending batches with seq > afterSeq to `out`. */
  collectPending(afterSeq: number, limit: number, out: BatchSlot[]): void {
    if (this.pending === 0 || this.maxSeq <= afterSeq) return;
    let taken = 0;
    for (let i = this.sorted ? this.firstAbove(afterSeq) : 0; i < this.count && taken < limit; i++) {
      const seq = this.seqs[i] ?? 0;
      if (this.acked[i] === 0 && seq > afterSeq) {
        out.push({ seg: this, index: i, seq });
        // Unsorted segments are scanned whole: their smallest seqs may come last.
        if (this.sorted) taken++;
      }
    }
  }

  /** First index whose seq is > `seq` (segment must be sorted). */
  private firstAbove(seq: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.seqs[mid] ?? 0) <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private grow(): void {
    const n = Math.max(64, this.seqs.length * 2);
    const seqs = new Float64Array(n);
    seqs.set(this.seqs);
    const offsets = new Uint32Array(n);
    offsets.set(this.offsets);
    const lengths = new Uint32Array(n);
    lengths.set(this.lengths);
    const acked = new Uint8Array(n);
    acked.set(this.acked);
    this.seqs = seqs;
    this.offsets = offsets;
    this.lengths = lengths;
    this.acked = acked;
  }

  /** Drops spare capacity once the segment will get no more batches (after loading from disk). */
  trim(): void {
    this.seqs = this.seqs.slice(0, this.count);
    this.offsets = this.offsets.slice(0, this.count);
    this.lengths = this.lengths.slice(0, this.count);
    this.acked = this.acked.slice(0, this.count);
  }
}

/** Makes a new file's directory entry durable too; best effort (not supported on every platform). */
function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Windows cannot fsync a directory; the file's own fsync is the best available there.
  }
}
