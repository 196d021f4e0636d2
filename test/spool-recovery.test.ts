// A spool damaged by a power loss (torn last segment) and a flipped bit: the agent starts, skips exactly the
// damaged batches, and delivers every other one.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

import { createLogger, systemClock } from "@vigil/shared";
import { SeriesTable } from "../agent/src/series-table.js";
import { Spool } from "../agent/src/spool/index.js";
import { createTestDatabase, skipWithoutPostgres, type TestDatabase } from "./support/postgres.js";
import { eventually, startAgent, startCollector, type CollectorProc, type Proc } from "./support/processes.js";

const N = 40;
const valueOf = (i: number) => 1000 + i + 0.25; // distinctive bytes to find in the file

describe("agent with a damaged spool", { skip: skipWithoutPostgres() }, () => {
  let db: TestDatabase;
  let collector: CollectorProc;
  let agent: Proc;
  const dir = mkdtempSync(join(tmpdir(), "vigil-damaged-spool-"));
  const start = Math.floor(Date.now() / 1000) * 1000 - N * 1000;

  before(async () => {
    db = await createTestDatabase();
    // Write N batches of one synthetic series, as an agent would have before losing power.
    const series = new SeriesTable();
    const spool = Spool.open({ dir, segmentBytes: 1024, clock: systemClock, log: createLogger("test", "silent") });
    const ref = series.ref("test.spool.value", { source: "damaged" });
    for (let i = 0; i < N; i++) spool.append({ seq: i + 1, timeMs: start + i * 1000, refs: [ref], values: [valueOf(i)] }, (r) => series.def(r));
    spool.close();

    const segs = readdirSync(dir).filter((f) => f.endsWith(".seg")).sort();
    assert.ok(segs.length >= 2, `expected several segments, got ${segs.length}`);
    // Flip one bit inside batch 10's value (in whichever segment holds it).
    const needle = Buffer.alloc(8);
    needle.writeDoubleLE(valueOf(10));
    const hit = segs.map((f) => join(dir, f)).find((p) => readFileSync(p).includes(needle));
    assert.ok(hit, "batch 10 found on disk");
    const bytes = readFileSync(hit);
    bytes[bytes.indexOf(needle) + 3]! ^= 0x10;
    writeFileSync(hit, bytes);
    // Tear the last segment mid-record: its last batch (seq N) is cut short.
    const last = join(dir, segs[segs.length - 1]!);
    truncateSync(last, statSync(last).size - 5);

    collector = await startCollector({ databaseUrl: db.url });
    agent = startAgent(["--collector", collector.grpcAddress, "--interval", "1s", "--hostname", "damaged-spool", "--spool-dir", dir]);
  });
  after(async () => {
    await agent?.kill();
    await collector?.kill();
    await db?.drop();
  });

  test("starts, logs the damage, skips the two damaged batches and delivers the rest", async () => {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      const values = await eventually(async () => {
        const r = await c.query<{ v: number }>(
          `SELECT x.value AS v FROM samples x JOIN series s ON s.id = x.series_id WHERE s.metric = 'test.spool.value' ORDER BY x.time`,
        );
        return r.rows.length >= N - 2 ? r.rows.map((row) => row.v) : undefined;
      }, 20_000, "spooled batches delivered");
      const expected = Array.from({ length: N }, (_, i) => i).filter((i) => i !== 10 && i !== N - 1).map(valueOf);
      assert.deepEqual(values, expected);
    } finally {
      await c.end();
    }
    const damage = agent.logs.filter((l) => typeof l.msg === "string" && /spool/i.test(l.msg) && l.level === 40);
    assert.ok(damage.length >= 1, "the damage is logged");
    // The agent keeps running and sampling.
    await agent.waitForLog((l) => l.msg === "backlog replayed");
    assert.equal(agent.child.exitCode, null);
  });
});
