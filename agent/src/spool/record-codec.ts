import { crc32 } from "node:zlib";
import type { Labels } from "@vigil/shared";
import type { CheckResult } from "../checks/types.js";
import type { SeriesDef } from "../series-table.js";

/*
 * Record layout (little-endian):
 *   magic "VGS1" (4) | payload length u32 (4) | CRC32 of type+payload u32 (4) | type u8 (1) | payload
 * The magic lets a reader resync after damage; the CRC covers the type so a flipped type byte is caught too.
 */
export const MAGIC = Buffer.from("VGS1", "latin1");
export const HEADER_BYTES = 13;
const CRC_FROM = 12;
/** Far above any real batch; a larger length field is damage, not data. */
export const MAX_PAYLOAD = 64 * 1024 * 1024;

export const RecordType = {
  /** Segment-local series ref → metric + labels. */
  SERIES: 1,
  /** One sampling tick. */
  BATCH: 2,
  /** First record of every segment: the highest seq appended before it, so lastSeq survives acked segments being deleted. */
  SEGMENT_START: 3,
} as const;

const BATCH_FIXED = 20; // seq f64, timeMs f64, n u32

/** A record buffer with room for `payloadBytes`; the caller fills the payload at HEADER_BYTES, then calls seal. */
function frame(type: number, payloadBytes: number): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_BYTES + payloadBytes);
  MAGIC.copy(buf, 0);
  buf.writeUInt32LE(payloadBytes, 4);
  buf.writeUInt8(type, 12);
  return buf;
}

function seal(buf: Buffer): Buffer {
  buf.writeUInt32LE(crc32(buf.subarray(CRC_FROM)), 8);
  return buf;
}

export function encodeSeries(ref: number, def: SeriesDef): Buffer {
  // Declarations are written once per series per segment, so JSON's size and speed do not matter here.
  const json = Buffer.from(JSON.stringify([def.metric, def.labels]), "utf8");
  const buf = frame(RecordType.SERIES, 4 + json.length);
  buf.writeUInt32LE(ref, HEADER_BYTES);
  json.copy(buf, HEADER_BYTES + 4);
  return seal(buf);
}

/**
 * A batch: fixed head, refs, values, then optionally a trailer (u32 length + JSON) with the tick's health-check
 * results; rare and small, so JSON is fine there.
 */
export function encodeBatch(seq: number, timeMs: number, refs: readonly number[], values: readonly number[], checks?: readonly CheckResult[]): Buffer {
  const n = refs.length;
  const trailer = checks && checks.length > 0 ? Buffer.from(JSON.stringify(checks), "utf8") : undefined;
  const buf = frame(RecordType.BATCH, BATCH_FIXED + 12 * n + (trailer ? 4 + trailer.length : 0));
  let at = HEADER_BYTES;
  buf.writeDoubleLE(seq, at);
  buf.writeDoubleLE(timeMs, at + 8);
  buf.writeUInt32LE(n, at + 16);
  at += BATCH_FIXED;
  for (let i = 0; i < n; i++, at += 4) buf.writeUInt32LE(refs[i]!, at);
  for (let i = 0; i < n; i++, at += 8) buf.writeDoubleLE(values[i]!, at);
  if (trailer) {
    buf.writeUInt32LE(trailer.length, at);
    trailer.copy(buf, at + 4);
  }
  return seal(buf);
}

export function encodeSegmentStart(lastSeq: number): Buffer {
  const buf = frame(RecordType.SEGMENT_START, 8);
  buf.writeDoubleLE(lastSeq, HEADER_BYTES);
  return seal(buf);
}

export type ParsedRecord = { type: number; payload: Buffer } | { error: string };

/** Checks one whole record (header + payload) held in `buf`. */
export function parseRecord(buf: Buffer): ParsedRecord {
  if (buf.length < HEADER_BYTES || !buf.subarray(0, 4).equals(MAGIC)) return { error: "bad magic" };
  const len = buf.readUInt32LE(4);
  if (len !== buf.length - HEADER_BYTES) return { error: `length ${len} does not match record size ${buf.length - HEADER_BYTES}` };
  if (crc32(buf.subarray(CRC_FROM)) !== buf.readUInt32LE(8)) return { error: "CRC mismatch" };
  return { type: buf.readUInt8(12), payload: buf.subarray(HEADER_BYTES) };
}

export function decodeSeries(payload: Buffer): { ref: number; def: SeriesDef } | null {
  if (payload.length < 4) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString("utf8", 4));
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) return null;
  const [metric, labels]: unknown[] = parsed;
  if (typeof metric !== "string" || !isLabels(labels)) return null;
  return { ref: payload.readUInt32LE(0), def: { metric, labels } };
}

function isLabels(v: unknown): v is Labels {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  return Object.values(v).every((x) => typeof x === "string");
}

/** seq, timeMs and point count, after checking the payload is exactly the size they imply. */
export function batchHead(payload: Buffer): { seq: number; timeMs: number; n: number } | null {
  if (payload.length < BATCH_FIXED) return null;
  const seq = payload.readDoubleLE(0);
  const timeMs = payload.readDoubleLE(8);
  const n = payload.readUInt32LE(16);
  const points = BATCH_FIXED + 12 * n;
  const sized = payload.length === points || (payload.length >= points + 4 && payload.length === points + 4 + payload.readUInt32LE(points));
  if (!sized || !Number.isSafeInteger(seq) || seq < 0 || !Number.isFinite(timeMs)) return null;
  return { seq, timeMs, n };
}

/** The check results of a payload of `n` points that passed batchHead (none when it has no trailer). */
export function batchChecks(payload: Buffer, n: number): CheckResult[] {
  const points = BATCH_FIXED + 12 * n;
  if (payload.length === points) return [];
  try {
    const parsed: unknown = JSON.parse(payload.toString("utf8", points + 4));
    return Array.isArray(parsed) ? (parsed as CheckResult[]) : [];
  } catch {
    return [];
  }
}

/** The i-th ref of a payload that passed batchHead. */
export function batchRef(payload: Buffer, i: number): number {
  return payload.readUInt32LE(BATCH_FIXED + 4 * i);
}

/** The i-th value of a payload of `n` points that passed batchHead. */
export function batchValue(payload: Buffer, n: number, i: number): number {
  return payload.readDoubleLE(BATCH_FIXED + 4 * n + 8 * i);
}

export function decodeSegmentStart(payload: Buffer): number | null {
  if (payload.length !== 8) return null;
  const seq = payload.readDoubleLE(0);
  return Number.isSafeInteger(seq) && seq >= 0 ? seq : null;
}
