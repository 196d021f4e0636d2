import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { PendingBatch } from "../batch.js";
import type { SeriesDef } from "../series-table.js";
import { BatchReader } from "./batch-reader.js";
import { encodeBatch, encodeSeries } from "./record-codec.js";
import { loadSegment } from "./segment-loader.js";
import { Segment, SEGMENT_FILE, type BatchSlot } from "./segment.js";
import { resolveSpoolOptions, type ResolvedSpoolOptions, type SpooledBatch, type SpoolOptions, type SpoolStats } from "./spool-options.js";

const bySeq = (a: BatchSlot, b: BatchSlot): number => a.seq - b.seq;

/**
 * Every batch not yet acked by the collector, on disk, in numbered segment files (oldest first; the newest is
 * the active one being appended to). Acks are kept in memory only: after a restart everything still on disk is
 * replayed, which is harmless because the collector's writes are idempotent per (agent, seq) — duplicates
 * overwrite themselves. A segment file is deleted once all its batches are acked, or when the size or age cap
 * needs the space (its unacked batches are then counted as dropped).
 */
export class Spool {
  /** Oldest first; the active segment, when there is one, is last. */
  private readonly segments: Segment[] = [];
  private active: Segment | null = null;
  private readonly reader = new BatchReader();
  private nextNumber = 1;
  private last = 0;
  private dropped = 0;
  private corrupt = 0;
  private closed = false;
  private warnedSeqReuse = false;

  private constructor(private readonly o: ResolvedSpoolOptions) {}

  /** Scans and verifies existing segments (damage is logged and counted, never thrown) and starts a new segment. */
  static open(opts: SpoolOptions): Spool {
    const spool = new Spool(resolveSpoolOptions(opts));
    mkdirSync(spool.o.dir, { recursive: true });
    spool.load();
    spool.rotate();
    spool.enforceLimits();
    return spool;
  }

  /** Writes declarations for refs new to the active segment, then the batch; rotates and enforces the caps. */
  append(b: PendingBatch, def: (ref: number) => SeriesDef): void {
    if (this.closed) throw new Error("spool is closed");
    if (b.refs.length !== b.values.length) throw new Error(`batch ${b.seq}: ${b.refs.length} refs but ${b.values.length} values`);
    if (!Number.isSafeInteger(b.seq) || b.seq < 0) throw new Error(`batch seq must be a non-negative integer, got ${b.seq}`);
    if (b.seq <= this.last && !this.warnedSeqReuse) {
      this.warnedSeqReuse = true;
      this.o.log.warn({ seq: b.seq, lastSeq: this.last }, "spool: batch seq not above lastSeq(); the collector may take it for a duplicate");
    }
    const batch = encodeBatch(b.seq, b.timeMs, b.refs, b.values, b.checks);
    try {
      let seg = this.active ?? this.rotate();
      let decls = this.declarations(seg, b.refs, def);
      if (seg.count > 0 && seg.size + decls.bytes + batch.length > this.o.segmentBytes) {
        seg = this.rotate();
        decls = this.declarations(seg, b.refs, def);
      }
      // Steady state declares nothing new: write the batch record as is, without a copy.
      let at = seg.write(decls.records.size === 0 ? batch : Buffer.concat([...decls.records.values(), batch]), this.o.fsync);
      for (const [ref, rec] of decls.records) {
        seg.decls.set(ref, { offset: at, length: rec.length });
        at += rec.length;
      }
      seg.addBatch(b.seq, b.timeMs, { offset: at, length: batch.length });
      this.last = Math.max(this.last, b.seq);
    } catch (err) {
      // A failed write may have left part of a record behind; the next append starts a fresh segment and the
      // reader skips the torn bytes. Disk trouble must not stop sampling, so the batch is counted, not thrown.
      this.dropped++;
      this.o.log.error({ err, seq: b.seq }, "spool: append failed, batch dropped");
      this.retireActive();
      return;
    }
    this.enforceLimits();
  }

  /** Marks the batch committed; a non-active segment whose batches are all acked is deleted. */
  ack(seq: number): void {
    for (const seg of [...this.segments]) {
      if (seg.ack(seq) > 0 && seg.pending === 0 && seg !== this.active) this.discard(seg, "all batches acked");
    }
  }

  /** Unacked batches with seq > afterSeq in seq order, at most `limit`; reads only those records from disk. */
  readUnacked(afterSeq: number, limit: number): SpooledBatch[] {
    const out: SpooledBatch[] = [];
    while (limit > 0) {
      const slots = this.pick(afterSeq, limit);
      if (slots.length === 0) break;
      const emptied = new Set<Segment>();
      try {
        for (const { seg, index, seq } of slots) {
          const got = this.readSlot(seg, index);
          if (typeof got !== "string") {
            out.push(got);
            continue;
          }
          // Damaged after open (or the file vanished): skip it for good rather than fail every replay.
          seg.settle(index);
          this.corrupt++;
          this.o.log.warn({ file: seg.path, seq }, `spool: batch unreadable, skipped: ${got}`);
          if (seg.pending === 0) emptied.add(seg);
        }
      } finally {
        this.reader.endPage();
      }
      for (const seg of emptied) if (seg !== this.active) this.discard(seg, "no readable batches left");
      // Only when every slot was lost is the page empty; they are settled now, so the next pick moves on.
      if (out.length > 0) break;
    }
    return out;
  }

  get stats(): SpoolStats {
    let bytes = 0;
    let pendingBatches = 0;
    for (const seg of this.segments) {
      bytes += seg.size;
      pendingBatches += seg.pending;
    }
    return { segments: this.segments.length, bytes, pendingBatches, droppedBatches: this.dropped, corruptRecords: this.corrupt };
  }

  /** Highest seq ever appended, including by previous runs (kept in each segment's start record); 0 if none. */
  lastSeq(): number {
    return this.last;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.reader.endPage();
    // One flush on a clean shutdown is cheap even with fsync "never".
    this.active?.closeFile(true);
  }

  private load(): void {
    const names = readdirSync(this.o.dir).filter((n) => SEGMENT_FILE.test(n)).sort();
    let scratch: Buffer = Buffer.allocUnsafe(1 << 20); // one read buffer for the whole scan
    for (const name of names) {
      const number = Number(SEGMENT_FILE.exec(name)?.[1]);
      this.nextNumber = Math.max(this.nextNumber, number + 1);
      const path = join(this.o.dir, name);
      try {
        const { seg, corrupt, scratch: next } = loadSegment(path, number, this.o.log, scratch);
        scratch = next;
        this.corrupt += corrupt;
        this.last = Math.max(this.last, seg.startSeq, seg.count > 0 ? seg.maxSeq : 0);
        if (seg.count > 0) this.segments.push(seg);
        else this.remove(seg); // nothing to replay; its lastSeq lives on in the new segment's start record
      } catch (err) {
        this.o.log.error({ err, file: path }, "spool: segment unreadable, left in place");
      }
    }
  }

  /** Series declarations the segment still needs for these refs, in first-use order. */
  private declarations(seg: Segment, refs: readonly number[], def: (ref: number) => SeriesDef): { records: Map<number, Buffer>; bytes: number } {
    const records = new Map<number, Buffer>();
    let bytes = 0;
    for (const ref of refs) {
      if (seg.decls.has(ref) || records.has(ref)) continue;
      const rec = encodeSeries(ref, def(ref));
      records.set(ref, rec);
      bytes += rec.length;
    }
    return { records, bytes };
  }

  /** Closes the active segment (deleting it if nothing in it is pending) and starts the next one. */
  private rotate(): Segment {
    this.retireActive();
    const seg = Segment.create(this.o.dir, this.nextNumber++, this.last, this.o.fsync);
    this.segments.push(seg);
    this.active = seg;
    return seg;
  }

  private retireActive(): void {
    const old = this.active;
    if (!old) return;
    this.active = null;
    try {
      old.closeFile(this.o.fsync);
    } catch (err) {
      this.o.log.error({ err, file: old.path }, "spool: closing segment failed");
    }
    if (old.pending === 0) this.discard(old, "all batches acked");
  }

  private enforceLimits(): void {
    const cutoff = this.o.clock.now() - this.o.maxAgeMs;
    for (const seg of [...this.segments]) {
      if (seg !== this.active && seg.newestTimeMs < cutoff) this.discard(seg, "older than maxAge");
    }
    while (this.stats.bytes > this.o.maxBytes) {
      const oldest = this.segments[0];
      if (!oldest || oldest === this.active) break;
      this.discard(oldest, "over maxBytes");
    }
  }

  /** Drops a segment from the spool and deletes its file; its unacked batches count as dropped. */
  private discard(seg: Segment, why: string): void {
    const i = this.segments.indexOf(seg);
    if (i >= 0) this.segments.splice(i, 1);
    if (seg.pending > 0) {
      this.dropped += seg.pending;
      this.o.log.warn({ file: seg.path, droppedBatches: seg.pending }, `spool: deleting segment with unacked batches (${why})`);
    }
    this.remove(seg);
  }

  private remove(seg: Segment): void {
    this.reader.forget(seg);
    try {
      seg.remove();
    } catch (err) {
      this.o.log.error({ err, file: seg.path }, "spool: deleting segment failed");
    }
  }

  /** The `limit` lowest-seq pending slots above afterSeq, reading segments in seq order and stopping early. */
  private pick(afterSeq: number, limit: number): BatchSlot[] {
    const segs = this.segments.filter((s) => s.pending > 0 && s.maxSeq > afterSeq).sort((a, b) => a.minSeq - b.minSeq);
    const slots: BatchSlot[] = [];
    for (const seg of segs) {
      const worst = slots.length >= limit ? slots[limit - 1] : undefined;
      if (worst && seg.minSeq > worst.seq) break;
      seg.collectPending(afterSeq, limit, slots);
      slots.sort(bySeq);
      if (slots.length > limit) slots.length = limit;
    }
    return slots;
  }

  private readSlot(seg: Segment, index: number): SpooledBatch | string {
    try {
      return this.reader.read(seg, seg.loc(index));
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }
}
