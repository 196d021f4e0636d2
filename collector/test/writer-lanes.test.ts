// The sample writer with several connections (ingest.writer_connections) on Postgres: commits run side by side, each
// batch is acked after its own commit, a content error is isolated within its lane, one host's batches stay in order.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "kysely";
import { skipWithoutPostgres } from "../../test/support/postgres.js";
import { CollectorError, CollectorErrors } from "../src/errors.js";
import type { CheckRun, CommitOutcome } from "../src/ingest/ports.js";
import type { OpenDatabase } from "../src/storage/database.js";
import { registerHost } from "../src/storage/host-store.js";
import { migrate } from "../src/storage/migrator.js";
import { PartitionManager } from "../src/storage/partitions.js";
import { SampleWriter, type WriteBatch } from "../src/storage/sample-writer.js";
import { SeriesRegistry } from "../src/storage/series-registry.js";
import { openTestStorage } from "./support/test-storage.js";

const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);

/** Whether `p` settles within `ms`: a commit stuck behind another never does. */
const settlesWithin = (p: Promise<unknown>, ms: number): Promise<boolean> =>
  Promise.race([p.then(() => true, () => true), sleep(ms).then(() => false)]);

describe("sample writer lanes on Postgres", { skip: skipWithoutPostgres() }, () => {
  let store: OpenDatabase;
  let dispose: (() => Promise<void>) | undefined;

  before(async () => {
    ({ store, dispose } = await openTestStorage("postgres"));
    await migrate(store.db);
  });
  after(() => dispose?.());

  /** A host with `n` series; returns its id and series ids. */
  async function host(name: string, n = 1): Promise<{ id: number; series: number[] }> {
    const h = await registerHost(store.db, { name, agentId: name, tokenBound: false, labels: {}, agentVersion: "1", os: "linux", kernel: "6", cpuCount: 1, intervalMs: 1000, bootTimeMs: 0 });
    assert.ok(h.ok);
    const r = await new SeriesRegistry(store.db).resolve(h.id, Array.from({ length: n }, (_, i) => ({ metric: "m", labels: { i: String(i) } })));
    assert.ok("ids" in r);
    return { id: h.id, series: r.ids };
  }

  const stored = async (seriesId: number): Promise<number[]> =>
    (await sql<{ value: number }>`SELECT value FROM samples WHERE series_id = ${seriesId} ORDER BY time`.execute(store.db)).rows.map((r) => r.value);

  test("a second commit runs while the first waits; each batch is acked after its own commit; a content error refuses only its batch", async () => {
    const [a, b, c] = [await host("lane-a"), await host("lane-b"), await host("lane-c")];
    const partitions = new PartitionManager(store.db, false);
    // Made now: a partition made while a's commit waits would have to wait for that commit too.
    await partitions.ensureFor([T0]);
    const writer = new SampleWriter({ db: store.db, partitions, maxQueuedRows: 1000, maxRowsPerCommit: 100, connections: 2 });
    const batch = (h: { id: number; series: number[] }, seq: number, checks: CheckRun[] = []): WriteBatch =>
      ({ hostId: h.id, streamId: h.id, seq, timeMs: T0 + seq * 1000, seriesIds: h.series, values: [seq], checks });

    // Host a's row is locked elsewhere: a's commit waits inside its transaction, holding one connection.
    let release = () => {};
    const unlocked = new Promise<void>((r) => (release = r));
    let lockHeld = () => {};
    const held = new Promise<void>((r) => (lockHeld = r));
    const blocker = store.db.transaction().execute(async (tx) => {
      await sql`SELECT 1 FROM hosts WHERE id = ${a.id} FOR UPDATE`.execute(tx);
      lockHeld();
      await unlocked;
    });
    let a1: Promise<CommitOutcome>, a2: Promise<CommitOutcome>;
    try {
      await held;
      a1 = (await writer.enqueue(batch(a, 1))).committed;
      a2 = (await writer.enqueue(batch(a, 2))).committed; // must not commit before a1, so it waits too
      const b1 = (await writer.enqueue(batch(b, 1))).committed;
      // Queued while b1 commits, so they share the next commit. A NUL byte gets past the edge, not past Postgres.
      const bad = (await writer.enqueue(batch(c, 1, [{ name: "x", kind: "tcp", status: 0, durationSeconds: 0, message: "a\u0000b", timeMs: T0 }]))).committed;
      const b2 = (await writer.enqueue(batch(b, 2))).committed;
      assert.equal(await settlesWithin(Promise.allSettled([b1, bad, b2]), 10_000), true, "b and c are written while a's commit waits");
      assert.deepEqual(await b1, { conflicts: 0 });
      assert.deepEqual(await b2, { conflicts: 0 });
      await assert.rejects(bad, (e: CollectorError) => e.code === CollectorErrors.INVALID_FIELD && /^batch seq 1: refused by storage: /.test(e.message));
      assert.equal(writer.stats.failedCommits, 1, "bad and b2 shared a commit");
      assert.deepEqual(await stored(b.series[0]!), [1, 2], "acked rows are committed: another connection sees them");
      assert.equal(await settlesWithin(Promise.race([a1, a2]), 300), false, "a's batches are not acked before their commit");
      assert.deepEqual(await stored(a.series[0]!), [], "nor visible");
    } finally {
      release();
      await blocker;
    }
    assert.deepEqual(await Promise.all([a1, a2]), [{ conflicts: 0 }, { conflicts: 0 }]);
    await writer.close();
    assert.deepEqual(await stored(a.series[0]!), [1, 2]);
    assert.deepEqual(await stored(c.series[0]!), [], "the refused batch stored nothing");
    assert.equal(writer.stats.refusedBatches, 1);
    const last = await sql<{ last_seq: number }>`SELECT last_seq FROM hosts WHERE id = ${a.id}`.execute(store.db);
    assert.equal(last.rows[0]!.last_seq, 2);
  });

  test("many hosts over four connections: every batch lands, each host's acks in order, the queue bound holds, close drains", async () => {
    const hosts = await Promise.all(Array.from({ length: 12 }, (_, i) => host(`many-${i}`, 20)));
    const writer = new SampleWriter({ db: store.db, partitions: new PartitionManager(store.db, false), maxQueuedRows: 400, maxRowsPerCommit: 100, connections: 4 });
    const acked = new Map<number, number[]>(hosts.map((h) => [h.id, []]));
    const committed: Promise<CommitOutcome>[] = [];
    let maxQueued = 0;
    for (let seq = 1; seq <= 15; seq++) {
      for (const h of hosts) {
        // Every fifth batch is sent twice, as a reconnecting agent resends: the same keys in the queue twice.
        for (let copy = 0; copy < (seq % 5 === 0 ? 2 : 1); copy++) {
          const w = { hostId: h.id, streamId: h.id * 10 + copy, seq, timeMs: T0 + 3_600_000 + seq * 1000, seriesIds: h.series, values: h.series.map(() => seq), checks: [] };
          const { committed: c } = await writer.enqueue(w);
          maxQueued = Math.max(maxQueued, writer.stats.queuedRows);
          committed.push(c.then((o) => (acked.get(h.id)!.push(seq), o)));
        }
      }
    }
    await writer.close();
    const outcomes = await Promise.all(committed);
    assert.ok(outcomes.every((o) => o.conflicts === 0), "a resend repeats its original's values");
    assert.equal(writer.stats.failedCommits, 0, "no deadlock, no error");
    assert.ok(maxQueued <= 400 + 20, `queued rows peaked at ${maxQueued}: past the bound by more than one batch`);
    for (const h of hosts) {
      const seqs = acked.get(h.id)!;
      assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), `host ${h.id} acked out of order: ${seqs.join(",")}`);
      const n = await sql<{ n: number }>`SELECT count(*)::int AS n FROM samples WHERE series_id = ANY(${h.series}::bigint[])`.execute(store.db);
      assert.equal(n.rows[0]!.n, 20 * 15);
    }
    assert.ok(writer.stats.commits > 1);
  });

  test("storage down under two lanes: every batch fails as unavailable, its stream's queued ones too, and the queue empties", async () => {
    // Fails once everything is queued, so the queue holds each stream's later batches when its first one fails.
    let open = () => {};
    const gate = new Promise<void>((r) => (open = r));
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
    const down = { ensureFor: () => gate.then(() => Promise.reject(refused)) };
    const writer = new SampleWriter({ db: store.db, partitions: down, maxQueuedRows: 1000, maxRowsPerCommit: 2, connections: 2 });
    const committed: Promise<CommitOutcome>[] = [];
    for (let seq = 1; seq <= 3; seq++) {
      for (const hostId of [101, 102, 103]) {
        committed.push((await writer.enqueue({ hostId, streamId: hostId, seq, timeMs: T0, seriesIds: [1], values: [seq], checks: [] })).committed);
      }
    }
    open();
    const results = await Promise.allSettled(committed);
    for (const r of results) {
      assert.equal(r.status, "rejected");
      assert.equal(((r as PromiseRejectedResult).reason as CollectorError).code, CollectorErrors.STORAGE_UNAVAILABLE);
    }
    // Tried: 101's and 102's first batches (one lane each), then 103's first two; the rest failed with their stream.
    assert.equal(writer.stats.failedCommits, 3);
    assert.equal(writer.stats.queuedRows, 0, "every failed row left the backpressure count");
    await writer.close();
  });
});
