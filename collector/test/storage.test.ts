import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { sql } from "kysely";
import { skipWithoutPostgres } from "../../test/support/postgres.js";
import type { OpenDatabase } from "../src/storage/database.js";
import { openTestStorage, TEST_RETENTION } from "./support/test-storage.js";
import type { AgentHello } from "../src/ingest/ports.js";
import { registerHost } from "../src/storage/host-store.js";
import { compileLabelMatchers } from "@vigil/shared/label-matchers";
import type { Aggregation } from "../src/api/ports.js";
import { PostgresMetricsReader } from "../src/storage/metrics-reader.js";
import { migrations } from "../src/storage/migrations/index.js";
import { migrate, pendingMigrations } from "../src/storage/migrator.js";
import { PartitionManager } from "../src/storage/partitions.js";
import { SampleWriter } from "../src/storage/sample-writer.js";
import { SeriesRegistry } from "../src/storage/series-registry.js";

const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);
const hello = { name: "web-1", agentId: "a1", labels: { env: "test" }, agentVersion: "0.1.0", os: "linux", kernel: "6.1", cpuCount: 2, intervalMs: 1000, bootTimeMs: T0 - 3_600_000, tokenBound: false };

async function register(db: OpenDatabase["db"], h: AgentHello = hello): Promise<{ id: number; lastSeq: number }> {
  const r = await registerHost(db, h);
  if (!r.ok) throw new Error("refused");
  return r;
}

async function resolveIds(registry: SeriesRegistry, hostId: number, keys: { metric: string; labels: Record<string, string> }[]): Promise<number[]> {
  const r = await registry.resolve(hostId, keys);
  if (!("ids" in r)) throw new Error("over the limit");
  return r.ids;
}

function storageSuite(kind: "postgres" | "pglite") {
  let store: OpenDatabase;
  let dispose: (() => Promise<void>) | undefined;

  before(async () => {
    ({ store, dispose } = await openTestStorage(kind));
  });
  after(() => dispose?.());

  test("migrations apply once and leave nothing pending", async () => {
    const all = migrations.map((m) => m.id);
    assert.ok(all.length >= 2);
    assert.deepEqual(await pendingMigrations(store.db), all);
    const first = await migrate(store.db);
    assert.deepEqual(first.applied, all);
    assert.deepEqual((await migrate(store.db)).applied, []);
    assert.deepEqual(await pendingMigrations(store.db), []);
  });

  test("samples are written idempotently, land in daily partitions, and acks follow commits", async () => {
    const partitions = new PartitionManager(store.db, false);
    const writer = new SampleWriter({ db: store.db, partitions, maxQueuedRows: 1000, maxRowsPerCommit: 100 });
    const host = await register(store.db);
    assert.equal(host.lastSeq, 0);
    const registry = new SeriesRegistry(store.db);
    const ids = await resolveIds(registry, host.id, [
      { metric: "system.cpu.utilization", labels: { state: "user" } },
      { metric: "system.cpu.utilization", labels: { state: "idle" } },
    ]);
    assert.equal(ids.length, 2);
    assert.notEqual(ids[0], ids[1]);
    // A second registry (another stream, another collector) resolves to the same ids.
    assert.deepEqual(await resolveIds(new SeriesRegistry(store.db), host.id, [{ metric: "system.cpu.utilization", labels: { state: "idle" } }]), [ids[1]]);

    const pending = [];
    for (let i = 0; i < 10; i++) {
      pending.push((await writer.enqueue({ hostId: host.id, streamId: 1, seq: i + 1, timeMs: T0 + i * 1000, seriesIds: ids, values: [i / 10, 1 - i / 10], checks: [] })).committed);
    }
    await Promise.all(pending);
    // Replaying the same batches (an agent that never got its acks) stores nothing twice.
    const replay = [];
    for (let i = 0; i < 10; i++) {
      replay.push((await writer.enqueue({ hostId: host.id, streamId: 2, seq: i + 1, timeMs: T0 + i * 1000, seriesIds: ids, values: [i / 10, 1 - i / 10], checks: [] })).committed);
    }
    await Promise.all(replay);
    await writer.close();
    const count = await sql<{ n: number }>`SELECT count(*)::int AS n FROM samples`.execute(store.db);
    assert.equal(count.rows[0]!.n, 20);
    const parts = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_inherits WHERE inhrelid = 'samples_20261123'::regclass`.execute(store.db);
    assert.equal(parts.rows[0]!.n, 1);
    assert.equal((await register(store.db)).lastSeq, 10);
  });

  test("range queries bucket by step with each aggregation and filter by labels", async () => {
    const reader = new PostgresMetricsReader(store.db, TEST_RETENTION);
    // Points at T0, T0+5s, T0+10s, each aggregating the samples in (t − 5s, t].
    const base = { host: "web-1" as string | undefined, startMs: T0, endMs: T0 + 10_000, stepMs: 5000 };
    type Read = { labels: Record<string, string>; points: [number, number][] };
    const queryRange = async (q: typeof base & { match: Record<string, string>; agg: Aggregation }): Promise<Read[]> => {
      const deadlineMs = Date.now() + 30_000;
      const sel = await reader.selectSeries({ metric: "system.cpu.utilization", host: q.host, exact: {}, accept: compileLabelMatchers(q.match), maxSeries: 100, maxCandidates: 1000, deadlineMs });
      const out: Read[] = [];
      for await (const s of reader.readRange(sel.series, { ...q, deadlineMs })) out.push({ labels: s.labels, points: JSON.parse(s.pointsJson) as [number, number][] });
      return out;
    };
    const avg = await queryRange({ ...base, match: { state: "user" }, agg: "avg" });
    assert.equal(avg.length, 1);
    assert.deepEqual(avg[0]!.labels, { state: "user", host: "web-1" });
    assert.deepEqual(avg[0]!.points.map(([t]) => t), [T0, T0 + 5000, T0 + 10_000]);
    assert.ok(Math.abs(avg[0]!.points[1]![1] - 0.3) < 1e-9);
    const last = await queryRange({ ...base, match: { state: "user" }, agg: "last" });
    assert.ok(Math.abs(last[0]!.points[2]![1] - 0.9) < 1e-9);
    const count = await queryRange({ ...base, match: { state: "user" }, agg: "count" });
    assert.deepEqual(count[0]!.points, [[T0, 1], [T0 + 5000, 5], [T0 + 10_000, 4]]);
    const max = await queryRange({ ...base, match: { state: "idle" }, agg: "max" });
    assert.ok(Math.abs(max[0]!.points[0]![1] - 1) < 1e-9);
    const both = await queryRange({ ...base, match: {}, agg: "sum" });
    assert.equal(both.length, 2);
    assert.deepEqual(await queryRange({ ...base, host: "nope", match: {}, agg: "avg" }), []);
    const hosts = await reader.listHosts(Date.now(), 10);
    assert.equal(hosts.length, 1);
    assert.equal(hosts[0]!.name, "web-1");
    assert.deepEqual(hosts[0]!.labels, { env: "test" });
    assert.equal(hosts[0]!.up, true);
    assert.equal((await reader.listHosts(Date.now() + 10_000, 10))[0]!.up, false);
    const series = await reader.listSeries({ host: "web-1", limit: 10 });
    assert.equal(series.length, 2);
  });

  test("check runs keep history and a current state whose `since` moves only when the status changes", async () => {
    const partitions = new PartitionManager(store.db, false);
    const writer = new SampleWriter({ db: store.db, partitions, maxQueuedRows: 1000, maxRowsPerCommit: 100 });
    const host = await register(store.db);
    const run = (status: number, t: number, message: string) => ({ name: "db", kind: "postgres", status, durationSeconds: 0.01, message, timeMs: T0 + t });
    const write = async (seq: number, checks: ReturnType<typeof run>[]) =>
      (await writer.enqueue({ hostId: host.id, streamId: 9, seq: 100 + seq, timeMs: T0 + seq * 1000, seriesIds: [], values: [], checks })).committed;
    await write(1, [run(0, 1000, "ok")]);
    await write(2, [run(0, 2000, "ok")]);
    await write(3, [run(2, 3000, "connection refused")]);
    await write(4, [run(2, 4000, "connection refused again")]);
    await write(5, [run(0, 2500, "late replay of an older run")]); // must not win over the newer state
    await writer.close();
    const reader = new PostgresMetricsReader(store.db, TEST_RETENTION);
    const checks = await reader.hostChecks("web-1");
    assert.ok(checks);
    assert.equal(checks.length, 1);
    assert.equal(checks[0]!.status, "unhealthy");
    assert.equal(checks[0]!.since, new Date(T0 + 3000).toISOString());
    assert.equal(checks[0]!.lastRun, new Date(T0 + 4000).toISOString());
    assert.equal(checks[0]!.message, "connection refused again");
    const hosts = await reader.listHosts(Date.now(), 10);
    assert.equal(hosts[0]!.health, "unhealthy");
    const history = await sql<{ n: number }>`SELECT count(*)::int AS n FROM check_results`.execute(store.db);
    assert.equal(history.rows[0]!.n, 5);
    assert.equal(await reader.hostChecks("no-such-host"), null);
  });
}

describe("storage on Postgres", { skip: skipWithoutPostgres() }, () => storageSuite("postgres"));
describe("storage on PGlite", () => storageSuite("pglite"));
