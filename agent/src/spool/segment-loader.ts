import { closeSync, fstatSync, openSync } from "node:fs";
import type { Logger } from "@vigil/shared";
import { FileWindow } from "./file-window.js";
import { batchHead, batchRef, decodeSegmentStart, decodeSeries, RecordType } from "./record-codec.js";
import { scanRecords } from "./record-scanner.js";
import { Segment } from "./segment.js";

export interface LoadedSegment {
  seg: Segment;
  /** Damaged records and batches skipped because a declaration they need was lost. */
  corrupt: number;
  /** The read buffer, possibly grown, for the next segment. */
  scratch: Buffer;
}

const MAX_LOGGED_PROBLEMS = 10;

/**
 * Scans a segment from a previous run, verifying every record, and indexes the batches that can be replayed.
 * Damage is logged as one line per segment (file, offsets, what was wrong) and never thrown.
 */
export function loadSegment(path: string, number: number, log: Logger, scratch: Buffer): LoadedSegment {
  const fd = openSync(path, "r");
  const problems: string[] = [];
  let corrupt = 0;
  const problem = (offset: number, what: string): void => {
    corrupt++;
    problems.push(`offset ${offset}: ${what}`);
  };
  let seg: Segment;
  let window: FileWindow;
  try {
    const size = fstatSync(fd).size;
    seg = new Segment(path, number, size);
    const s = seg;
    window = new FileWindow(fd, size, scratch);
    scanRecords(window, {
      record(type, payload, offset, length) {
        if (type === RecordType.SERIES) {
          const d = decodeSeries(payload);
          if (d) s.decls.set(d.ref, { offset, length });
          else problem(offset, "series declaration does not decode");
        } else if (type === RecordType.BATCH) {
          const head = batchHead(payload);
          if (!head) return problem(offset, "batch record does not decode");
          for (let i = 0; i < head.n; i++) {
            const ref = batchRef(payload, i);
            // Writers declare before use, so a missing declaration was in a damaged record.
            if (!s.decls.has(ref)) return problem(offset, `batch seq ${head.seq} uses series ref ${ref} whose declaration was lost`);
          }
          s.addBatch(head.seq, head.timeMs, { offset, length });
        } else if (type === RecordType.SEGMENT_START) {
          const seq = decodeSegmentStart(payload);
          if (seq === null) problem(offset, "segment start record does not decode");
          else s.startSeq = Math.max(s.startSeq, seq);
        }
        // Unknown types verified by CRC are from a newer writer; skipping them keeps old agents able to read.
      },
      damage: problem,
    });
  } finally {
    closeSync(fd);
  }
  seg.trim();
  if (problems.length > 0) {
    const shown = problems.slice(0, MAX_LOGGED_PROBLEMS).join("; ");
    const more = problems.length > MAX_LOGGED_PROBLEMS ? ` (+${problems.length - MAX_LOGGED_PROBLEMS} more)` : "";
    log.warn({ file: path, corruptRecords: corrupt }, `spool segment damaged, skipped what could not be verified: ${shown}${more}`);
  }
  return { seg, corrupt, scratch: window.scratch };
}
