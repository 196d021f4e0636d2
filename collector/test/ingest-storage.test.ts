// The storage side of ingest hardening (issue 9): host ownership under a row lock, the per-host series bound and the
// bounded series cache, and the writer's conflict counting, in-commit dedupe and batch-by-batch retry.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { sql } from "kysely";
import { skipWithoutPostgres } from "../../test/support/postgres.js";
import { CollectorError, CollectorErrors } from "../src/errors.js";
import type { AgentHello, CheckRun } from "../src/ingest/ports.js";
import type { OpenDatabase } from "../src/storage/database.js";
import { openTestStorage } from "./support/test-storage.js";
import { registerHost } from "../src/storage/host-store.js";
import { migrate } from "../src/storage/migrator.js";
import { PartitionManager } from "../src/storage/partitions.js";
import { SampleWriter } from "../src/storage/sample-writer.js";
import { SeriesRegistry } from "../src/storage/series-registry.js";

const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);
const hello = (name: string, agentId: string, tokenBound = false): AgentHello => ({
  name, agentId, tokenBound, labels: {}, agentVersion: "1", os: "linux", kernel: "6", cpuCount: 1, intervalMs: 1000, bootTimeMs: 0,
});

function suite(kind: "postgres" | "pglite") {
  let store: OpenDatabase;
  let dispose: (() => Promise<void>) | undefined;

  before(async () => {
    ({ store, dispose } = await openTestStorage(kind));
    await migrate(store.db);
  });
  after(() => dispose?.());

  async function hostId(name: string): Promise<number> {
    const r = await registerHost(store.db, hello(name, `id-${name}`));
    if (!r.ok) throw new Error("refused");
    return r.id;
  }

  test("a host records its owner; admit sees it and can refuse without changing the row", async () => {
    const first = await registerHost(store.db, hello("own-1", "a", true));
    assert.ok(first.ok);
    let seen: unknown;
    const refused = await registerHost(store.db, hello("own-1", "b"), (owner) => {
      seen = owner;
      return "no";
    });
    assert.deepEqual(refused, { ok: false, refusal: "no" });
    assert.equal((seen as { agentId: string }).agentId, "a");
    assert.equal((seen as { tokenBound: boolean }).tokenBound, true);
    const row = await store.db.selectFrom("hosts").select(["agent_id", "token_bound"]).where("name", "=", "own-1").executeTakeFirstOrThrow();
    assert.deepEqual(row, { agent_id: "a", token_bound: true });
    // Admitted: the new agent id is recorded, and a host once bound to its token stays bound.
    assert.ok((await registerHost(store.db, hello("own-1", "b"), () => undefined)).ok);
    const moved = await store.db.selectFrom("hosts").select(["agent_id", "token_bound"]).where("name", "=", "own-1").executeTakeFirstOrThrow();
    assert.deepEqual(moved, { agent_id: "b", token_bound: true });
  });

  test("series creation stops at the host's bound, creating nothing of the refused declaration", async () => {
    const h = await hostId("bounded");
    const reg = new SeriesRegistry(store.db);
    const keys = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ metric: "m", labels: { i: String(from + i) } }));
    const ok = await reg.resolve(h, keys(0, 8), 10);
    assert.ok("ids" in ok && ok.ids.length === 8);
    assert.deepEqual(await reg.resolve(h, keys(5, 6), 10), { overLimit: 11 });
    const n = await sql<{ n: number }>`SELECT count(*)::int AS n FROM series WHERE host_id = ${h}`.execute(store.db);
    assert.equal(n.rows[0]!.n, 8);
    // Known series resolve even at the bound (a reconnecting agent), from the cache or from the table.
    assert.ok("ids" in (await reg.resolve(h, keys(0, 8), 8)));
    assert.ok("ids" in (await new SeriesRegistry(store.db).resolve(h, keys(0, 8), 8)));
  });

  test("the series cache stays within its byte bound", async () => {
    const h = await hostId("cache");
    const reg = new SeriesRegistry(store.db, 20_000);
    for (let k = 0; k < 5; k++) {
      const r = await reg.resolve(h, Array.from({ length: 50 }, (_, i) => ({ metric: "m", labels: { v: `${k}-${i}-${"x".repeat(200)}` } })));
      assert.ok("ids" in r);
      assert.ok(reg.cacheBytes <= 20_000, `cache holds ${reg.cacheBytes} bytes`);
    }
  });

  test("a differing point at a stored (series, time) is counted, not stored; identical replays and in-commit repeats are fine", async () => {
    const h = await hostId("conflicts");
    const r = await new SeriesRegistry(store.db).resolve(h, [{ metric: "c", labels: {} }, { metric: "d", labels: {} }]);
    assert.ok("ids" in r);
    const writer = new SampleWriter({ db: store.db, partitions: new PartitionManager(store.db, false), maxQueuedRows: 1000, maxRowsPerCommit: 100 });
    const put = async (streamId: number, values: number[]) =>
      (await writer.enqueue({ hostId: h, streamId, seq: 1, timeMs: T0, seriesIds: r.ids, values, checks: [] })).committed;
    assert.deepEqual(await put(1, [1, 2]), { conflicts: 0 });
    assert.deepEqual(await put(1, [1, 2]), { conflicts: 0 }, "an identical replay");
    assert.deepEqual(await put(1, [1, 3]), { conflicts: 1 });
    // Three batches of one host at one time in one commit (a resend queued beside its original, and a forgery).
    const all = await Promise.all([put(2, [5, 6]), put(3, [5, 6]), put(4, [7, 6])]);
    assert.ok(all.every((x) => x.conflicts >= 1), JSON.stringify(all));
    await writer.close();
    const stored = await sql<{ value: number }>`SELECT value FROM samples WHERE series_id = ANY(${r.ids}::bigint[]) ORDER BY series_id`.execute(store.db);
    assert.deepEqual(stored.rows.map((x) => x.value), [1, 2], "the first points stay");
    assert.equal(writer.stats.failedCommits, 0);
    assert.equal(writer.stats.pointConflicts, 1 + all.reduce((n, x) => n + x.conflicts, 0));
  });

  test("a shared commit that fails for one batch's content is retried batch by batch: only that batch is refused", async () => {
    const h = await hostId("guilty");
    const r = await new SeriesRegistry(store.db).resolve(h, [{ metric: "g", labels: {} }]);
    assert.ok("ids" in r);
    const writer = new SampleWriter({ db: store.db, partitions: new PartitionManager(store.db, false), maxQueuedRows: 1000, maxRowsPerCommit: 100 });
    const run = (message: string): CheckRun => ({ name: "c", kind: "tcp", status: 0, durationSeconds: 0, message, timeMs: T0 });
    // Enqueued back to back, so they share one commit; a NUL byte gets past no edge check but is refused by Postgres.
    const good1 = (await writer.enqueue({ hostId: h, streamId: 10, seq: 1, timeMs: T0 + 1000, seriesIds: r.ids, values: [1], checks: [] })).committed;
    const bad = (await writer.enqueue({ hostId: h, streamId: 11, seq: 2, timeMs: T0 + 2000, seriesIds: r.ids, values: [2], checks: [run("a\u0000b")] })).committed;
    const good2 = (await writer.enqueue({ hostId: h, streamId: 12, seq: 3, timeMs: T0 + 3000, seriesIds: r.ids, values: [3], checks: [run("ok")] })).committed;
    const [g1, b, g2] = await Promise.allSettled([good1, bad, good2]);
    assert.equal(g1.status, "fulfilled");
    assert.equal(g2.status, "fulfilled");
    assert.equal(b.status, "rejected");
    const err = (b as PromiseRejectedResult).reason as CollectorError;
    assert.equal(err.code, CollectorErrors.INVALID_FIELD);
    assert.match(err.message, /^batch seq 2: refused by storage: /);
    await writer.close();
    assert.equal(writer.stats.failedCommits, 1);
    assert.equal(writer.stats.refusedBatches, 1);
    const stored = await sql<{ value: number }>`SELECT value FROM samples WHERE series_id = ${r.ids[0]!} ORDER BY time`.execute(store.db);
    assert.deepEqual(stored.rows.map((x) => x.value), [1, 3]);
  });

  test("storage that is down still fails every batch as unavailable", async () => {
    const down = { ensureFor: () => Promise.reject(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" })) };
    const writer = new SampleWriter({ db: store.db, partitions: down, maxQueuedRows: 1000, maxRowsPerCommit: 100 });
    const a = (await writer.enqueue({ hostId: 1, streamId: 20, seq: 1, timeMs: T0, seriesIds: [], values: [], checks: [] })).committed;
    const b = (await writer.enqueue({ hostId: 1, streamId: 21, seq: 1, timeMs: T0, seriesIds: [], values: [], checks: [] })).committed;
    for (const r of await Promise.allSettled([a, b])) {
      assert.equal(r.status, "rejected");
      assert.equal(((r as PromiseRejectedResult).reason as CollectorError).code, CollectorErrors.STORAGE_UNAVAILABLE);
    }
    assert.equal(writer.stats.refusedBatches, 0);
  });
}

describe("ingest storage on Postgres", { skip: skipWithoutPostgres() }, () => suite("postgres"));
describe("ingest storage on PGlite", () => suite("pglite"));
