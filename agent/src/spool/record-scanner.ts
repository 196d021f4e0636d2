import type { FileWindow } from "./file-window.js";
import { HEADER_BYTES, MAGIC, MAX_PAYLOAD, parseRecord } from "./record-codec.js";

export interface RecordVisitor {
  /** A record that verified. `payload` is only valid during the call. */
  record(type: number, payload: Buffer, offset: number, length: number): void;
  /** Bytes at `offset` that are not a valid record; scanning continues after them. */
  damage(offset: number, what: string): void;
}

type Check =
  | { ok: true; type: number; payload: Buffer; length: number }
  | { ok: false; what: string; truncated?: boolean; skipTo?: number };

function check(win: FileWindow, pos: number): Check {
  if (win.size - pos < HEADER_BYTES) return { ok: false, what: "truncated record header", truncated: true };
  const head = win.get(pos, HEADER_BYTES);
  if (!head.subarray(0, 4).equals(MAGIC)) return { ok: false, what: "bad magic" };
  const len = head.readUInt32LE(4);
  if (len > MAX_PAYLOAD) return { ok: false, what: `implausible length ${len}` };
  const length = HEADER_BYTES + len;
  if (pos + length > win.size) {
    return { ok: false, what: `truncated record (needs ${length} bytes, ${win.size - pos} left)`, truncated: true };
  }
  const rec = parseRecord(win.get(pos, length));
  if ("error" in rec) return { ok: false, what: rec.error, skipTo: pos + length };
  return { ok: true, type: rec.type, payload: rec.payload, length };
}

function startsRecord(win: FileWindow, pos: number): boolean {
  return pos === win.size || (pos + MAGIC.length <= win.size && win.get(pos, MAGIC.length).equals(MAGIC));
}

/** Offset of the next record at or after `from` that verifies, or -1. */
function resync(win: FileWindow, from: number): number {
  for (let at = win.find(MAGIC, from); at >= 0; at = win.find(MAGIC, at + 1)) {
    if (check(win, at).ok) return at;
  }
  return -1;
}

/**
 * Visits every verifiable record of a segment in order. A record that fails its CRC is skipped when its length
 * leads to the next record; otherwise (or for a bad header) the scanner looks forward for the next magic whose
 * record verifies, since the length field itself may be the damaged part. Damage with nothing valid after it is
 * reported once: usually a write cut short by a crash or power loss.
 */
export function scanRecords(win: FileWindow, visit: RecordVisitor): void {
  let pos = 0;
  while (pos < win.size) {
    const c = check(win, pos);
    if (c.ok) {
      visit.record(c.type, c.payload, pos, c.length);
      pos += c.length;
      continue;
    }
    if (c.skipTo !== undefined && startsRecord(win, c.skipTo)) {
      visit.damage(pos, c.what);
      pos = c.skipTo;
      continue;
    }
    const next = resync(win, pos + 1);
    if (next < 0) {
      visit.damage(pos, c.truncated ? `${c.what} at end of file (interrupted write)` : `${c.what}; nothing valid after it`);
      return;
    }
    visit.damage(pos, `${c.what}; resynced at offset ${next}`);
    pos = next;
  }
}
