import { closeSync, openSync } from "node:fs";
import type { SeriesDef } from "../series-table.js";
import { readAt } from "./file-window.js";
import { batchChecks, batchHead, batchRef, batchValue, decodeSeries, parseRecord, RecordType } from "./record-codec.js";
import type { RecordLoc, Segment } from "./segment.js";
import type { SpooledBatch } from "./spool-options.js";

/** Segments whose declarations stay decoded between pages; replay walks segments in order, so few are needed. */
const CACHED_SEGMENTS = 2;

/**
 * Reads single batch records back from segment files and resolves their refs through the segment's own
 * declarations. Only the records asked for are read, so replay memory is one page, not the spool.
 */
export class BatchReader {
  private readonly defs = new Map<Segment, Map<number, SeriesDef>>();
  private readonly fds = new Map<Segment, number>();

  /** The batch, or why it can no longer be read (the file was damaged after it was indexed). */
  read(seg: Segment, loc: RecordLoc): SpooledBatch | string {
    const fd = this.fd(seg);
    const rec = readRecord(fd, loc);
    if (typeof rec === "string") return rec;
    if (rec.type !== RecordType.BATCH) return `expected a batch record, found type ${rec.type}`;
    const head = batchHead(rec.payload);
    if (!head) return "batch record does not decode";
    const series = new Array<SeriesDef>(head.n);
    const values = new Array<number>(head.n);
    for (let i = 0; i < head.n; i++) {
      const def = this.def(seg, fd, batchRef(rec.payload, i));
      if (typeof def === "string") return def;
      series[i] = def;
      values[i] = batchValue(rec.payload, head.n, i);
    }
    return { seq: head.seq, timeMs: head.timeMs, series, values, checks: batchChecks(rec.payload, head.n) };
  }

  /** Closes files opened during a page; decoded declarations stay cached. */
  endPage(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }

  forget(seg: Segment): void {
    this.defs.delete(seg);
    const fd = this.fds.get(seg);
    if (fd !== undefined) closeSync(fd);
    this.fds.delete(seg);
  }

  private fd(seg: Segment): number {
    let fd = this.fds.get(seg);
    if (fd === undefined) {
      fd = openSync(seg.path, "r");
      this.fds.set(seg, fd);
    }
    return fd;
  }

  private def(seg: Segment, fd: number, ref: number): SeriesDef | string {
    let defs = this.defs.get(seg);
    if (!defs) {
      defs = new Map();
      this.defs.set(seg, defs);
      for (const old of this.defs.keys()) {
        if (this.defs.size <= CACHED_SEGMENTS) break;
        this.defs.delete(old);
      }
    }
    const known = defs.get(ref);
    if (known) return known;
    const loc = seg.decls.get(ref);
    if (!loc) return `series ref ${ref} is not declared in this segment`;
    const rec = readRecord(fd, loc);
    if (typeof rec === "string") return `declaration of series ref ${ref}: ${rec}`;
    const d = rec.type === RecordType.SERIES ? decodeSeries(rec.payload) : null;
    if (!d || d.ref !== ref) return `declaration of series ref ${ref} does not decode`;
    defs.set(ref, d.def);
    return d.def;
  }
}

function readRecord(fd: number, loc: RecordLoc): { type: number; payload: Buffer } | string {
  const buf = Buffer.allocUnsafe(loc.length);
  const got = readAt(fd, buf, loc.offset);
  if (got < loc.length) return `record at offset ${loc.offset} is cut short (file truncated?)`;
  const rec = parseRecord(buf);
  return "error" in rec ? `record at offset ${loc.offset}: ${rec.error}` : rec;
}
