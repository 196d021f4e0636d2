// The shipped collector compacts on its own, and a collector killed (SIGKILL) at any point of compaction loses and
// doubles nothing: after restarts every sample is in exactly one place and the API answers the same sums.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { createTestDatabase, skipWithoutPostgres, type TestDatabase } from "./support/postgres.js";
import { eventually, getJson, startCollector } from "./support/processes.js";
import { openDatabase, type OpenDatabase } from "../collector/src/storage/database.js";
import { migrate } from "../collector/src/storage/migrator.js";
import { PartitionManager } from "../collector/src/storage/partitions.js";
import { insertSamples } from "../collector/src/storage/sample-rows.js";

const HOUR = 3_600_000;
const SERIES = 200;
const KILLS = 3;
const METRIC = "test.lifecycle";

async function fill(store: OpenDatabase, fromMs: number, toMs: number): Promise<{ count: number; sum: number }> {
  await migrate(store.db);
  const db = store.db;
  await sql`INSERT INTO hosts (name, agent_id, interval_ms) VALUES ('life', 'life', 10000)`.execute(db);
  await sql`INSERT INTO series (host_id, metric, labels) SELECT 1, ${METRIC}, jsonb_build_object('i', g::text) FROM generate_series(1, ${SERIES}) g`.execute(db);
  const ids = (await sql<{ id: number }>`SELECT id FROM series ORDER BY id`.execute(db)).rows.map((r) => r.id);
  await new PartitionManager(db, false).ensureFor([fromMs, toMs]);
  let count = 0;
  let sum = 0;
  for (let t = fromMs; t < toMs; t += 10_000 * 50) {
    const times: number[] = [];
    const sids: number[] = [];
    const values: number[] = [];
    for (let k = 0; k < 50 && t + k * 10_000 < toMs; k++) {
      ids.forEach((id, i) => {
        const v = (i * 31 + (t + k * 10_000) / 10_000) % 1000;
        times.push(t + k * 10_000);
        sids.push(id);
        values.push(v);
        sum += v;
        count++;
      });
    }
    await insertSamples(db, times, sids, values);
  }
  return { count, sum };
}

type Answer = { series: { points: [number, number][] }[] };

function suite(kind: "postgres" | "pglite") {
  let testDb: TestDatabase | undefined;
  let dir: string | undefined;
  after(async () => {
    await testDb?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("a collector killed during compaction again and again loses and doubles nothing", { timeout: 240_000 }, async () => {
    const now = Date.now();
    const from = Math.floor((now - 7 * HOUR) / HOUR) * HOUR;
    const to = from + 4 * HOUR; // four closed hours: all compacted by the first complete run
    let store: OpenDatabase;
    if (kind === "postgres") {
      testDb = await createTestDatabase();
      store = await openDatabase({ databaseUrl: testDb.url, dataDir: "" });
    } else {
      dir = mkdtempSync(join(tmpdir(), "vigil-life-"));
      store = await openDatabase({ dataDir: dir });
    }
    const want = await fill(store, from, to);
    await store.close();
    const opts = kind === "postgres" ? { databaseUrl: testDb!.url } : { dataDir: dir! };

    let completedBeforeKill = 0;
    for (let k = 0; k < KILLS; k++) {
      const c = await startCollector(opts);
      // Maintenance starts 5 s after the start; kill somewhere in the first seconds of it.
      await new Promise((r) => setTimeout(r, 5000 + Math.random() * 2500));
      if (c.logs.some((l) => l.msg === "storage maintenance done")) completedBeforeKill++;
      await c.kill("SIGKILL");
    }
    const c = await startCollector(opts);
    try {
      // A run with nothing left to do logs at debug level only: its completion shows on /metrics.
      await eventually(async () => {
        const text = await (await fetch(`${c.httpUrl}/metrics`)).text();
        const m = /^vigil_storage_maintenance_last_success_timestamp_seconds (\S+)$/m.exec(text);
        return m && Number(m[1]) > 0 ? true : undefined;
      }, 120_000, "a complete maintenance run");
      const q = (agg: string) => getJson<Answer>(`${c.httpUrl}/api/v1/query_range?metric=${METRIC}&start=${from / 1000}&end=${to / 1000}&step=1h&agg=${agg}`);
      const total = (a: Answer) => a.series.reduce((n, s) => n + s.points.reduce((m, [, v]) => m + v, 0), 0);
      const counts = await q("count");
      const sums = await q("sum");
      assert.equal(counts.series.length, SERIES);
      assert.equal(total(counts), want.count, `samples answered (${completedBeforeKill} of ${KILLS} runs finished before their kill)`);
      assert.equal(total(sums), want.sum);
    } finally {
      await c.kill();
    }
    // Every sample is in exactly one place: none left narrow, the blocks hold each once.
    const check = kind === "postgres" ? await openDatabase({ databaseUrl: testDb!.url, dataDir: "" }) : await openDatabase({ dataDir: dir! });
    try {
      const narrow = await sql<{ n: number }>`SELECT count(*)::int AS n FROM samples WHERE time < ${new Date(to).toISOString()}::timestamptz`.execute(check.db);
      const blocks = await sql<{ n: number }>`
        SELECT (SELECT coalesce(sum(n), 0) FROM sample_blocks) + (SELECT coalesce(sum(n), 0) FROM fresh_blocks WHERE tier = 'raw')::int AS n`.execute(check.db);
      assert.equal(narrow.rows[0]!.n, 0);
      assert.equal(blocks.rows[0]!.n, want.count);
    } finally {
      await check.close();
    }
  });
}

describe("storage lifecycle on Postgres", { skip: skipWithoutPostgres() }, () => suite("postgres"));
describe("storage lifecycle on PGlite", () => suite("pglite"));
