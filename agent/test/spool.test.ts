import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino, { type Logger } from "pino";
import { ManualClock } from "@vigil/shared";
import type { PendingBatch } from "../src/batch.js";
import { SeriesTable } from "../src/series-table.js";
import { Spool, type SpooledBatch, type SpoolOptions } from "../src/spool/index.js";

const HOUR = 3_600_000;
const silent = pino({ level: "silent" });

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "vigil-spool-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A logger that keeps warn+ lines, to check what damage reports say. */
function capture(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: pino({ level: "warn" }, { write: (s: string) => void lines.push(s) }), lines };
}

/** Builds batches whose values encode (seq, point) so replayed data can be checked exactly. */
class Source {
  readonly table = new SeriesTable();
  constructor(private readonly points = 20) {}
  batch(seq: number, timeMs = seq * 10_000): PendingBatch {
    const refs: number[] = [];
    const values: number[] = [];
    for (let i = 0; i < this.points; i++) {
      refs.push(this.table.ref(`m${i % 3}`, { host: "h1", i: String(i) }));
      values.push(seq * 1000 + i + 0.5);
    }
    return { seq, timeMs, refs, values };
  }
  readonly def = (ref: number) => this.table.def(ref);
}

function open(dir: string, extra: Partial<SpoolOptions> = {}): Spool {
  return Spool.open({ dir, fsync: "never", clock: new ManualClock(0), log: silent, segmentBytes: 16 * 1024, ...extra });
}

function fill(spool: Spool, src: Source, from: number, to: number): void {
  for (let s = from; s <= to; s++) spool.append(src.batch(s), src.def);
}

function checkBatch(b: SpooledBatch, points = 20): void {
  assert.equal(b.timeMs, b.seq * 10_000);
  assert.equal(b.series.length, points);
  for (let i = 0; i < points; i++) {
    assert.equal(b.values[i], b.seq * 1000 + i + 0.5);
    assert.deepEqual(b.series[i], { metric: `m${i % 3}`, labels: { host: "h1", i: String(i) } });
  }
}

const seqs = (bs: SpooledBatch[]): number[] => bs.map((b) => b.seq);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const segFiles = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith(".seg")).sort();

/** [offset, type, seq (batches only)] of every record in an undamaged segment file. */
function records(path: string): { offset: number; type: number; seq: number }[] {
  const buf = readFileSync(path);
  const out: { offset: number; type: number; seq: number }[] = [];
  for (let at = 0; at < buf.length; at += 13 + buf.readUInt32LE(at + 4)) {
    const type = buf.readUInt8(at + 12);
    out.push({ offset: at, type, seq: type === 2 ? buf.readDoubleLE(at + 13) : -1 });
  }
  return out;
}

function flipByte(path: string, offset: number): void {
  const buf = readFileSync(path);
  buf[offset] = (buf[offset] ?? 0) ^ 0x10;
  writeFileSync(path, buf);
}

test("round trip across several segment rotations", (t) => {
  const dir = tempDir(t);
  const src = new Source();
  const spool = open(dir);
  fill(spool, src, 1, 500);
  assert.ok(spool.stats.segments > 5, `expected rotations, got ${spool.stats.segments} segments`);
  assert.equal(spool.stats.pendingBatches, 500);
  assert.equal(spool.stats.bytes, segFiles(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0));
  for (const f of segFiles(dir)) assert.ok(statSync(join(dir, f)).size <= 16 * 1024, `${f} over segmentBytes`);
  const all = spool.readUnacked(0, 10_000);
  assert.deepEqual(seqs(all), range(1, 500));
  all.forEach((b) => checkBatch(b));
  assert.equal(spool.lastSeq(), 500);
  spool.close();
});

test("readUnacked honours afterSeq, limit and acks, in seq order", (t) => {
  const spool = open(tempDir(t));
  const src = new Source();
  fill(spool, src, 1, 200);
  assert.deepEqual(seqs(spool.readUnacked(100, 7)), range(101, 107));
  assert.deepEqual(spool.readUnacked(0, 0), []);
  assert.deepEqual(spool.readUnacked(200, 10), []);
  for (const s of [102, 103, 150]) spool.ack(s);
  assert.deepEqual(seqs(spool.readUnacked(100, 4)), [101, 104, 105, 106]);
  const paged: number[] = [];
  for (let after = 0, page = spool.readUnacked(after, 13); page.length > 0; page = spool.readUnacked(after, 13)) {
    paged.push(...seqs(page));
    after = page[page.length - 1]?.seq ?? after;
  }
  assert.deepEqual(paged, range(1, 200).filter((s) => ![102, 103, 150].includes(s)));
  assert.equal(spool.stats.pendingBatches, 197);
  spool.close();
});

test("ack deletes fully acked non-active segments and their bytes", (t) => {
  const dir = tempDir(t);
  const spool = open(dir);
  fill(spool, new Source(), 1, 300);
  const before = spool.stats;
  const files = segFiles(dir);
  const first = join(dir, files[0] ?? "");
  const firstSeqs = records(first).filter((r) => r.type === 2).map((r) => r.seq);
  const firstSize = statSync(first).size;
  for (const s of firstSeqs.slice(0, -1)) spool.ack(s);
  assert.equal(spool.stats.segments, before.segments, "one batch still pending keeps the file");
  spool.ack(firstSeqs[firstSeqs.length - 1] ?? 0);
  assert.equal(spool.stats.segments, before.segments - 1);
  assert.equal(spool.stats.bytes, before.bytes - firstSize);
  assert.ok(!segFiles(dir).includes(files[0] ?? ""));
  for (let s = 1; s <= 300; s++) spool.ack(s);
  assert.equal(spool.stats.segments, 1, "the active segment stays");
  assert.equal(spool.stats.pendingBatches, 0);
  assert.equal(segFiles(dir).length, 1);
  assert.deepEqual(spool.readUnacked(0, 1000), []);
  spool.close();
});

test("reopen after restart replays everything unacked with its series, in a new segment", (t) => {
  const dir = tempDir(t);
  const first = open(dir);
  fill(first, new Source(), 1, 250);
  for (let s = 1; s <= 100; s++) first.ack(s);
  const left = seqs(first.readUnacked(0, 1000));
  const filesBefore = segFiles(dir);
  first.close();

  // A fresh process: new SeriesTable, refs assigned in another order, so defs must come from disk.
  const second = open(dir);
  assert.equal(second.lastSeq(), 250);
  const replay = second.readUnacked(0, 1000);
  // Acks are in memory only: batches acked in a segment that still existed come back (harmless duplicates).
  assert.ok(replay.length >= left.length);
  assert.deepEqual(seqs(replay).slice(-left.length), left);
  replay.forEach((b) => checkBatch(b));
  const files = segFiles(dir);
  const newest = files[files.length - 1] ?? "";
  assert.ok(!filesBefore.includes(newest) && newest > (filesBefore[filesBefore.length - 1] ?? ""), "new run writes a new, later file");

  const src2 = new Source();
  src2.table.ref("other", {});
  fill(second, src2, 251, 260);
  assert.deepEqual(seqs(second.readUnacked(250, 100)), range(251, 260));
  second.readUnacked(250, 100).forEach((b) => checkBatch(b));
  for (let s = 1; s <= 260; s++) second.ack(s);
  second.close();

  // The previous active segment is replayed again (acks were in memory); acking it now deletes it.
  const third = open(dir);
  assert.deepEqual(seqs(third.readUnacked(0, 100)), range(251, 260));
  for (let s = 251; s <= 260; s++) third.ack(s);
  third.close();

  // No batch left on disk at all: lastSeq survives through the start record of the last (empty) segment.
  const fourth = open(dir);
  assert.equal(fourth.lastSeq(), 260);
  assert.equal(fourth.stats.pendingBatches, 0);
  assert.equal(segFiles(dir).length, 1, "empty segments of previous runs are removed");
  fourth.close();
});

test("maxBytes deletes the oldest segments and counts their batches as dropped", (t) => {
  const dir = tempDir(t);
  const spool = open(dir, { maxBytes: 64 * 1024 });
  fill(spool, new Source(), 1, 1000);
  const st = spool.stats;
  assert.ok(st.bytes <= 64 * 1024, `bytes ${st.bytes}`);
  assert.ok(st.droppedBatches > 0);
  assert.equal(st.pendingBatches + st.droppedBatches, 1000);
  const kept = seqs(spool.readUnacked(0, 5000));
  assert.deepEqual(kept, range(st.droppedBatches + 1, 1000), "the newest batches are the ones kept");
  spool.close();
});

test("maxAge deletes segments whose newest batch is too old", (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock(0);
  const spool = open(dir, { clock, maxAgeMs: 48 * HOUR });
  const src = new Source();
  for (let s = 1; s <= 200; s++) spool.append(src.batch(s, 0), src.def);
  for (let s = 1; s <= 10; s++) spool.ack(s);
  clock.set(47 * HOUR);
  spool.append(src.batch(201, 47 * HOUR), src.def);
  assert.equal(spool.stats.droppedBatches, 0, "not old yet");
  clock.set(49 * HOUR);
  spool.append(src.batch(202, 49 * HOUR), src.def);
  // Segments holding only seq 1..200 (time 0) are gone; acked batches in them are not counted as dropped.
  // Only the active segment (which holds 201 and 202) survives.
  const kept = seqs(spool.readUnacked(0, 1000));
  assert.deepEqual(kept, range(202 - kept.length + 1, 202));
  assert.ok(kept.length < 50, `kept ${kept.length}`);
  assert.equal(spool.stats.segments, 1);
  assert.equal(spool.stats.droppedBatches + spool.stats.pendingBatches, 202 - 10);
  spool.close();
});

test("a torn tail and a bit-flipped record: open succeeds and only the damaged batches are skipped", (t) => {
  const dir = tempDir(t);
  const spool = open(dir);
  fill(spool, new Source(), 1, 300);
  spool.close();
  const files = segFiles(dir);
  assert.ok(files.length >= 4);
  const middle = join(dir, files[2] ?? "");
  const last = join(dir, files[files.length - 1] ?? "");
  const victim = records(middle).filter((r) => r.type === 2)[3];
  assert.ok(victim);
  flipByte(middle, victim.offset + 13 + 40); // inside the refs/values, so only the CRC can tell
  truncateSync(last, statSync(last).size - 7); // power loss in the middle of writing seq 300

  const { log, lines } = capture();
  const reopened = open(dir, { log });
  assert.equal(reopened.stats.corruptRecords, 2);
  const got = reopened.readUnacked(0, 1000);
  assert.deepEqual(seqs(got), range(1, 300).filter((s) => s !== victim.seq && s !== 300));
  got.forEach((b) => checkBatch(b));
  assert.equal(lines.length, 2, "one line per damaged segment");
  const joined = lines.join("\n");
  assert.match(joined, new RegExp(files[2] ?? "x"));
  assert.match(joined, new RegExp(`offset ${victim.offset}: CRC mismatch`));
  assert.match(joined, /interrupted write/);
  reopened.close();
});

test("a damaged length field resyncs; batches whose series declaration was lost are skipped and counted", (t) => {
  const dir = tempDir(t);
  const spool = open(dir);
  fill(spool, new Source(), 1, 200);
  spool.close();
  const files = segFiles(dir);
  // Segment 2: break the length of a batch record, so the reader must hunt for the next magic.
  const seg2 = join(dir, files[1] ?? "");
  const lenVictim = records(seg2).filter((r) => r.type === 2)[2];
  assert.ok(lenVictim);
  flipByte(seg2, lenVictim.offset + 6);
  // Segment 3: damage the declaration of point 5's series; every batch of that segment uses it.
  const seg3 = join(dir, files[2] ?? "");
  const recs3 = records(seg3);
  const decl = recs3.filter((r) => r.type === 1)[5];
  assert.ok(decl);
  const lost = recs3.filter((r) => r.type === 2).map((r) => r.seq);
  flipByte(seg3, decl.offset + 20);

  const reopened = open(dir);
  const got = seqs(reopened.readUnacked(0, 1000));
  assert.deepEqual(got, range(1, 200).filter((s) => s !== lenVictim.seq && !lost.includes(s)));
  assert.equal(reopened.stats.corruptRecords, 2 + lost.length);
  reopened.close();
});

test("defaults (fsync always, 256 MiB, 48 h) work and create the directory", (t) => {
  const dir = join(tempDir(t), "nested", "spool");
  const src = new Source();
  const spool = Spool.open({ dir, clock: new ManualClock(0), log: silent });
  fill(spool, src, 1, 20);
  assert.deepEqual(seqs(spool.readUnacked(0, 100)), range(1, 20));
  assert.equal(spool.stats.segments, 1);
  spool.close();
});

test("append rejects malformed batches", (t) => {
  const spool = open(tempDir(t));
  assert.throws(() => spool.append({ seq: 1, timeMs: 0, refs: [0], values: [] }, () => ({ metric: "m", labels: {} })));
  spool.close();
});

test("replaying a ~50 MB spool in pages keeps heap growth modest", (t) => {
  const dir = tempDir(t);
  const points = 200;
  const src = new Source(points);
  const writer = Spool.open({ dir, fsync: "never", clock: new ManualClock(0), log: silent });
  const total = 21_000; // ~2.4 KB a batch
  fill(writer, src, 1, total);
  writer.close();
  assert.ok(statSyncTotal(dir) > 48 * 1024 * 1024, `spool is ${statSyncTotal(dir)} bytes`);

  const spool = Spool.open({ dir, fsync: "never", clock: new ManualClock(0), log: silent });
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  let after = 0;
  let count = 0;
  for (let page = spool.readUnacked(after, 500); page.length > 0; page = spool.readUnacked(after, 500)) {
    for (const b of page) assert.equal(b.seq, ++count);
    checkBatch(page[0]!, points);
    after = page[page.length - 1]?.seq ?? after;
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }
  assert.equal(count, total);
  const growth = (peak - base) / 1024 / 1024;
  assert.ok(growth < 64, `heap grew ${growth.toFixed(1)} MB`);
  spool.close();
});

function statSyncTotal(dir: string): number {
  return segFiles(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}
