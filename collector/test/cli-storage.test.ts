// `vigil-collector storage stats`, the built binary as an operator runs it, on a database with known contents: a PGlite
// data dir (its volume measured with statfs) and a PostgreSQL database (storage.volume_size from the config file), as
// a table and as GET /api/v1/storage's JSON; a wrong subcommand exits 1 naming it.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { sql } from "kysely";
import { createLogger } from "@vigil/shared";
import { createTestDatabase, skipWithoutPostgres, type TestDatabase } from "../../test/support/postgres.js";
import { COLLECTOR_BIN } from "../../test/support/processes.js";
import type { StorageView } from "../src/api/ports.js";
import { openDatabase, pgliteDir, type DatabaseOptions } from "../src/storage/database.js";
import { migrate } from "../src/storage/migrator.js";
import { PartitionManager } from "../src/storage/partitions.js";
import { insertSamples } from "../src/storage/sample-rows.js";
import { TierMaintenance } from "../src/storage/tiers/maintenance.js";
import { TEST_RETENTION } from "./support/test-storage.js";

const HOUR = 3_600_000;
const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), "vigil-cli-storage-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** 300 samples a day and more ago (compacted by the maintenance run) and 7 from the last minutes (narrow). */
const OLD = 300;
const RECENT = 7;

async function seed(opts: DatabaseOptions, kind: "postgres" | "pglite"): Promise<void> {
  const store = await openDatabase(opts);
  try {
    await migrate(store.db);
    const h = await sql<{ id: number }>`INSERT INTO hosts (name, agent_id) VALUES ('c1', 'c1') RETURNING id`.execute(store.db);
    const id = (await sql<{ id: number }>`INSERT INTO series (host_id, metric, labels) VALUES (${h.rows[0]!.id}, 'm', '{}') RETURNING id`.execute(store.db)).rows[0]!.id;
    const now = Date.now();
    const base = Math.floor(now / HOUR) * HOUR - 30 * HOUR;
    const times = [...Array.from({ length: OLD }, (_, i) => base + 1000 + i * 10_000), ...Array.from({ length: RECENT }, (_, i) => now - 10 * 60_000 + i * 1000)];
    const samples = new PartitionManager(store.db, false);
    await samples.ensureFor(times);
    await insertSamples(store.db, times, times.map(() => id), times.map((t) => t % 97));
    const r = await new TierMaintenance(store.db, kind, samples, { retention: TEST_RETENTION, compactAfterMs: HOUR, mantissaBits: 52 }, createLogger("test", "silent")).run(now);
    assert.equal(r.compactedSamples, OLD);
  } finally {
    await store.close();
  }
}

async function collector(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [COLLECTOR_BIN, ...args, "--log-level", "warn"], { env: { ...process.env, DATABASE_URL: "", ...env } });
    return { code: 0, ...r };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function checkTiers(view: StorageView): void {
  const points = Object.fromEntries(view.tiers.map((t) => [t.tier, t.points]));
  assert.deepEqual(points, { narrow: RECENT, fresh: 0, raw: OLD, "1m": 50, "1h": 1 });
  for (const t of view.tiers) assert.ok(t.bytes > 0, `${t.tier}: ${t.bytes} bytes`);
  // The maintenance run stored today's size: less than a day of history gives no growth yet.
  assert.match(String(view.growth.reason), /^less than a day of size history/);
  assert.equal(view.daysUntilFullReason, `growth is unknown: ${view.growth.reason}`);
}

describe("storage stats on a PGlite data dir", () => {
  const dir = join(tmp, "pglite");
  before(async () => {
    mkdirSync(dir);
    await seed({ dataDir: dir }, "pglite");
  });

  test("--json: the API's figures; the volume is the data dir's filesystem", async () => {
    const r = await collector(["storage", "stats", "--json", "--data-dir", dir], {});
    assert.equal(r.code, 0, r.stderr);
    const view = JSON.parse(r.stdout) as StorageView;
    assert.equal(view.database.kind, "pglite");
    checkTiers(view);
    assert.equal(view.volume.source, "statfs");
    assert.equal(view.volume.path, pgliteDir(dir));
  });

  test("a table for people", async () => {
    const r = await collector(["storage", "stats", "--data-dir", dir], {});
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /^TIER\s+TABLE\s+PARTITIONS\s+SIZE\s+POINTS\s+BYTES\/POINT\s+OLDEST POINT$/);
    assert.match(lines[1]!, /^narrow\s+samples\s+\d+\s+[\d.]+ (KiB|MiB)\s+7\s+[\d.]+\s+\d{4}-\d\d-\d\dT[\d:.]+Z$/);
    assert.match(lines[2]!, /^fresh\s+fresh_blocks\s+0\s+[\d.]+ (KiB|MiB)\s+0\s+-\s+-$/);
    assert.match(lines[3]!, /^raw\s+sample_blocks\s+\d+\s+[\d.]+ (KiB|MiB)\s+300\s+[\d.]+\s+\d{4}-/);
    assert.match(r.stdout, /\ndatabase {9}[\d.]+ MiB \(pglite\)\n/);
    assert.match(r.stdout, /\ngrowth {11}unknown: less than a day of size history/);
    assert.ok(r.stdout.includes(`free of `) && r.stdout.includes(`(statfs ${pgliteDir(dir)})`), r.stdout);
    assert.match(r.stdout, /\ndays until full {2}- \(growth is unknown: less than a day/);
  });

  test("a subcommand other than stats exits 1 naming it", async () => {
    const r = await collector(["storage", "size", "--data-dir", dir], {});
    assert.equal(r.code, 1);
    assert.match(r.stderr, /VGL_ERR_BAD_CONFIG: storage: expected "stats", got "size"/);
    assert.equal(r.stdout, "");
  });
});

describe("storage stats on PostgreSQL", { skip: skipWithoutPostgres() }, () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
    await seed({ databaseUrl: db.url, dataDir: "" }, "postgres");
  });
  after(() => db?.drop());

  test("storage.volume_size from the config file is the volume when it leaves less room", async () => {
    const file = join(tmp, "collector.yaml");
    writeFileSync(file, "storage:\n  volume_size: 1GiB\n");
    const r = await collector(["storage", "stats", "--json", "--config", file], { DATABASE_URL: db.url });
    assert.equal(r.code, 0, r.stderr);
    const view = JSON.parse(r.stdout) as StorageView;
    assert.equal(view.database.kind, "postgres");
    checkTiers(view);
    assert.deepEqual(view.volume, { source: "setting", path: null, sizeBytes: 1024 ** 3, availableBytes: 1024 ** 3 - view.database.bytes, reason: null });
  });
});
