// Wire encoding of what the agent sends. Batches (one a tick, and every replayed batch) are encoded here by hand:
// protobuf-es's reflective toBinary was a third of the agent's CPU during replay and a tenth in steady state. The bytes
// are exactly protobuf-es's (same field order, same zero-value omission; agent/test/agent-message-codec.test.ts
// compares them); anything else (Hello, messages carrying unknown fields) goes through protobuf-es.
import { toBinary } from "@bufbuild/protobuf";
import { AgentMessageSchema, type AgentMessage, type Batch, type CheckResult, type SeriesDecl } from "@vigil/proto";

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Bytes of `m` as protobuf-es's toBinary would write them. */
export function encodeAgentMessage(m: AgentMessage): Buffer {
  if (m.msg.case !== "batch" || !plain(m) || !plainBatch(m.msg.value)) return Buffer.from(toBinary(AgentMessageSchema, m));
  const batch = m.msg.value;
  const refsBytes = refsSize(batch.refs);
  const size = batchSize(batch, refsBytes);
  const w = new Writer(1 + varintSize(size) + size);
  w.tag(2, LEN).varint(size); // AgentMessage.batch
  writeBatch(w, batch, refsBytes);
  return w.done();
}

const VARINT = 0;
const I64 = 1;
const LEN = 2;

/** Whether protobuf-es would write unknown fields for this message (never, for messages made with create()). */
function plain(m: { $unknown?: unknown[] }): boolean {
  return m.$unknown === undefined || m.$unknown.length === 0;
}

function plainBatch(b: Batch): boolean {
  return plain(b) && b.declare.every(plain) && b.checks.every(plain);
}

/** `refsBytes`: the packed refs' payload size (refsSize), needed twice. */
function batchSize(b: Batch, refsBytes: number): number {
  let n = 0;
  if (b.seq !== 0n) n += 1 + varint64Size(b.seq, "vigil.v1.Batch.seq", false);
  if (b.timeMs !== 0n) n += 1 + varint64Size(b.timeMs, "vigil.v1.Batch.time_ms", true);
  for (const d of b.declare) n += delimitedSize(declSize(d));
  if (b.refs.length > 0) n += delimitedSize(refsBytes);
  if (b.values.length > 0) n += delimitedSize(8 * b.values.length);
  for (const c of b.checks) n += delimitedSize(checkSize(c));
  return n;
}

function writeBatch(w: Writer, b: Batch, refsBytes: number): void {
  if (b.seq !== 0n) w.tag(1, VARINT).varint64(b.seq);
  if (b.timeMs !== 0n) w.tag(2, VARINT).varint64(b.timeMs);
  for (const d of b.declare) {
    w.tag(3, LEN).varint(declSize(d));
    if (d.ref !== 0) w.tag(1, VARINT).varint(d.ref);
    if (d.metric !== "") w.tag(2, LEN).string(d.metric);
    for (const [k, v] of Object.entries(d.labels)) {
      w.tag(3, LEN).varint(mapEntrySize(k, v));
      w.tag(1, LEN).string(k).tag(2, LEN).string(v);
    }
  }
  if (b.refs.length > 0) {
    w.tag(4, LEN).varint(refsBytes);
    for (const r of b.refs) w.varint(r);
  }
  if (b.values.length > 0) {
    w.tag(5, LEN).varint(8 * b.values.length);
    for (const v of b.values) w.double(v);
  }
  for (const c of b.checks) {
    w.tag(6, LEN).varint(checkSize(c));
    if (c.name !== "") w.tag(1, LEN).string(c.name);
    if (c.kind !== "") w.tag(2, LEN).string(c.kind);
    if (c.status !== 0) w.tag(3, VARINT).int32(c.status);
    if (!Object.is(c.durationSeconds, 0)) w.tag(4, I64).double(c.durationSeconds); // -0 and NaN are written
    if (c.message !== "") w.tag(5, LEN).string(c.message);
    if (c.timeMs !== 0n) w.tag(6, VARINT).varint64(c.timeMs);
  }
}

function declSize(d: SeriesDecl): number {
  let n = 0;
  if (d.ref !== 0) n += 1 + varintSize(uint32(d.ref, "vigil.v1.SeriesDecl.ref"));
  if (d.metric !== "") n += 1 + stringSize(d.metric);
  for (const [k, v] of Object.entries(d.labels)) n += delimitedSize(mapEntrySize(k, v));
  return n;
}

/** A map entry always has both key and value, even empty ones. */
function mapEntrySize(k: string, v: string): number {
  return 2 + stringSize(k) + stringSize(v);
}

function refsSize(refs: readonly number[]): number {
  let n = 0;
  for (const r of refs) n += varintSize(uint32(r, "vigil.v1.Batch.refs"));
  return n;
}

function checkSize(c: CheckResult): number {
  let n = 0;
  if (c.name !== "") n += 1 + stringSize(c.name);
  if (c.kind !== "") n += 1 + stringSize(c.kind);
  if (c.status !== 0) n += 1 + (int32(c.status, "vigil.v1.CheckResult.status") < 0 ? 10 : varintSize(c.status));
  if (!Object.is(c.durationSeconds, 0)) n += 9;
  if (c.message !== "") n += 1 + stringSize(c.message);
  if (c.timeMs !== 0n) n += 1 + varint64Size(c.timeMs, "vigil.v1.CheckResult.time_ms", true);
  return n;
}

function delimitedSize(n: number): number {
  return 1 + varintSize(n) + n;
}

function stringSize(s: string): number {
  const n = Buffer.byteLength(s, "utf8");
  return varintSize(n) + n;
}

/** Bytes of a varint of a non-negative integer up to 2^53. */
function varintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Bytes of a 64-bit varint; negatives (int64 only) are 10 bytes, as two's complement. */
function varint64Size(v: bigint, field: string, signed: boolean): number {
  const u = int64Bits(v, field, signed);
  if (u <= MAX_SAFE) return varintSize(Number(u));
  let n = 1;
  for (let x = u; x >= 128n; x >>= 7n) n++;
  return n;
}

/** The unsigned 64-bit pattern of v, with protobuf-es's range checks. */
function int64Bits(v: bigint, field: string, signed: boolean): bigint {
  const ok = signed ? v >= -(1n << 63n) && v < 1n << 63n : v >= 0n && v < 1n << 64n;
  if (!ok) throw new Error(`cannot encode field ${field} to binary: invalid ${signed ? "int64" : "uint64"}: ${v}`);
  return BigInt.asUintN(64, v);
}

function uint32(v: number, field: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`cannot encode field ${field} to binary: invalid uint32: ${v}`);
  return v;
}

function int32(v: number, field: string): number {
  if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new Error(`cannot encode field ${field} to binary: invalid int32: ${v}`);
  return v;
}

/** Writes into a buffer sized exactly beforehand. */
class Writer {
  private readonly buf: Buffer;
  private pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  tag(field: number, wireType: number): this {
    return this.varint((field << 3) | wireType);
  }

  /** A non-negative integer up to 2^53 (callers have range-checked it while sizing). */
  varint(v: number): this {
    while (v >= 128) {
      this.buf[this.pos++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
    return this;
  }

  varint64(v: bigint): this {
    let u = BigInt.asUintN(64, v);
    if (u <= MAX_SAFE) return this.varint(Number(u));
    for (; u >= 128n; u >>= 7n) this.buf[this.pos++] = Number(u & 127n) | 128;
    this.buf[this.pos++] = Number(u);
    return this;
  }

  /** int32 varint: negatives are sign-extended to 64 bits (10 bytes). */
  int32(v: number): this {
    return v < 0 ? this.varint64(BigInt(v)) : this.varint(v);
  }

  double(v: number): this {
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
    return this;
  }

  string(s: string): this {
    this.varint(Buffer.byteLength(s, "utf8"));
    this.pos += this.buf.write(s, this.pos, "utf8");
    return this;
  }

  done(): Buffer {
    if (this.pos !== this.buf.length) throw new Error(`batch encoder wrote ${this.pos} of ${this.buf.length} bytes`);
    return this.buf;
  }
}
