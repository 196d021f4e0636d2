// Outages with real processes: the collector killed, Postgres stopped under the collector, the network path cut.
// Each lasts 30 s while the agent ticks every second; after recovery every tick must be stored exactly once and
// the agent's spool must be empty again.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { createTestDatabase, skipWithoutPostgres, type TestDatabase } from "./support/postgres.js";
import { privatePostgresAvailable, startPrivatePostgres, type PrivatePostgres } from "./support/private-postgres.js";
import { eventually, startAgent, startCollector, type CollectorProc, type Proc } from "./support/processes.js";
import { startTcpProxy, type TcpProxy } from "./support/tcp-proxy.js";

const OUTAGE_MS = 30_000;
/** Ticks stored before the outage starts, so the check sees data on both sides of it. */
const WARMUP_MS = 6_000;
/** Ticks stored after the outage ended, before the check: the span covers the outage with room on both sides. */
const SETTLE_MS = 5_000;
/** The agent's reconnect backoff is capped at 30 s (full jitter), on top of grpc-js's own channel backoff. */
const RECONNECT_TIMEOUT_MS = 75_000;
/** After reconnecting: the backlog replays at 200 batches/s, then the next tick reports an empty spool. */
const CATCH_UP_TIMEOUT_MS = 30_000;
const TEST_TIMEOUT_MS = 240_000;
/** Ticks the stored span must at least hold: warm-up + outage + a few after. */
const MIN_TICKS = 40;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Point {
  t: number;
  value: number;
}

async function withClient<T>(url: string, f: (c: pg.Client) => Promise<T>): Promise<T> {
  // A client per check: in the Postgres outage a long-lived one would die with the server.
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await f(c);
  } finally {
    await c.end();
  }
}

async function points(url: string, metric: string, order: "ASC" | "DESC" = "ASC", limit = 1_000_000): Promise<Point[]> {
  return withClient(url, async (c) => {
    const r = await c.query<{ t: string; value: number }>(
      `SELECT round(extract(epoch FROM x.time) * 1000)::bigint AS t, x.value FROM samples x JOIN series s ON s.id = x.series_id
       WHERE s.metric = $1 ORDER BY x.time ${order} LIMIT $2`,
      [metric, limit],
    );
    return r.rows.map((row) => ({ t: Number(row.t), value: row.value }));
  });
}

const latest = async (url: string, metric: string): Promise<Point | undefined> => (await points(url, metric, "DESC", 1))[0];

const connections = (agent: Proc) => agent.logs.filter((l) => l.msg === "connected to collector").length;

interface Window {
  start: number;
  end: number;
}

/**
 * Lets the agent stream for a while, runs `cause`, keeps the outage up for OUTAGE_MS, runs `recover`, and waits
 * until the agent is connected again. Returns when the outage began and ended (wall clock).
 */
async function outage(agent: Proc, cause: () => Promise<void>, recover: () => Promise<void>, during?: () => Promise<void>): Promise<Window> {
  await agent.waitForLog((l) => l.msg === "connected to collector");
  await sleep(WARMUP_MS);
  const start = Date.now();
  await cause();
  // `during` checks run a few seconds into the outage, within its OUTAGE_MS.
  await Promise.all([sleep(OUTAGE_MS), sleep(5_000).then(during)]);
  await recover();
  const end = Date.now();
  // Any Welcome from here on is the reconnect after recovery.
  const before = connections(agent);
  try {
    await agent.waitForLog((l) => l.msg === "connected to collector" && connections(agent) > before, RECONNECT_TIMEOUT_MS);
  } catch (err) {
    throw new Error(`the agent did not reconnect within ${RECONNECT_TIMEOUT_MS / 1000} s after the outage ended: ${(err as Error).message}`);
  }
  return { start, end };
}

/** SIGTERM, then SIGKILL if the process has not exited after 10 s: cleanup must not hang on a stuck child. */
async function stop(p: Proc | undefined): Promise<void> {
  if (!p) return;
  const t = setTimeout(() => p.child.kill("SIGKILL"), 10_000);
  try {
    await p.kill();
  } finally {
    clearTimeout(t);
  }
}

/** Runs every cleanup step even when one fails (so nothing is left running), then reports the first failure. */
async function cleanup(...steps: (() => Promise<void>)[]): Promise<void> {
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length > 0) throw errors[0];
}

/**
 * After recovery: waits until the agent reports an empty spool, then checks that the ticks form a gapless run of
 * 1 s steps across the outage (nothing lost), each stored once (nothing duplicated), and that the spool did hold
 * the outage's ticks and dropped none.
 */
async function assertDeliveredExactlyOnce(url: string, w: Window): Promise<void> {
  // pending_batches is sampled before its own tick is appended, so 0 means every earlier tick was acked, and the
  // collector acks only after the commit: everything before that tick is in storage.
  const caughtUp = await eventually(
    async () => {
      const p = await latest(url, "vigil.agent.spool.pending_batches");
      return p && p.t >= w.end + SETTLE_MS && p.value === 0 ? p : undefined;
    },
    CATCH_UP_TIMEOUT_MS,
    "the agent reports an empty spool after recovery",
  );

  // system.cpu.logical.count is constant and sampled on every tick: one point per tick.
  const ticks = (await points(url, "system.cpu.logical.count")).map((p) => p.t);
  const first = ticks[0]!;
  const last = ticks[ticks.length - 1]!;
  assert.ok(ticks.length >= MIN_TICKS, `expected at least ${MIN_TICKS} ticks, got ${ticks.length}`);
  assert.ok(first < w.start && last > w.end, `stored ticks ${iso(first)}..${iso(last)} must cover the outage ${iso(w.start)}..${iso(w.end)}`);
  assert.ok(last >= caughtUp.t, "the tick that reported an empty spool is stored");
  for (let i = 1; i < ticks.length; i++) {
    assert.equal(ticks[i]! - ticks[i - 1]!, 1000, `ticks must be 1 s apart: ${iso(ticks[i - 1]!)} then ${iso(ticks[i]!)}`);
  }
  assert.equal(ticks.length, (last - first) / 1000 + 1, "one point per tick from the first to the last");

  await withClient(url, async (c) => {
    const dup = await c.query<{ series_id: string; time: Date; n: number }>(
      `SELECT series_id, time, count(*)::int AS n FROM samples GROUP BY series_id, time HAVING count(*) > 1 LIMIT 10`,
    );
    assert.deepEqual(dup.rows, [], "no (series, time) stored twice");
    // Every tick is one batch, committed in one transaction: each tick must carry every one of the agent's own
    // series (sampled on every tick), not just the one counted above.
    const partial = await c.query<{ t: Date; n: number }>(
      `SELECT x.time AS t, count(*)::int AS n FROM samples x JOIN series s ON s.id = x.series_id
       WHERE s.metric LIKE 'vigil.agent.%' GROUP BY x.time
       HAVING count(*) <> (SELECT count(*) FROM series WHERE metric LIKE 'vigil.agent.%') LIMIT 10`,
    );
    assert.deepEqual(partial.rows, [], "every tick stored whole");
  });

  // The outage's ticks went through the spool (it grew to about the outage's length), and none was dropped.
  const pending = await points(url, "vigil.agent.spool.pending_batches");
  const peak = Math.max(...pending.map((p) => p.value));
  assert.ok(peak >= (OUTAGE_MS / 1000) * 0.8, `the spool held the outage's ticks (peak pending ${peak})`);
  assert.equal((await latest(url, "vigil.agent.spool.dropped_batches"))?.value, 0, "no batch dropped from the spool");
  assert.equal((await latest(url, "vigil.agent.spool.corrupt_records"))?.value, 0, "no spool record damaged");
}

const iso = (t: number) => new Date(t).toISOString();

function agentArgs(collector: string, host: string): string[] {
  return ["--collector", collector, "--interval", "1s", "--hostname", host];
}

describe("outages while the agent streams (30 s each)", { skip: skipWithoutPostgres() }, () => {
  describe("collector SIGKILLed and restarted on the same port", () => {
    let db: TestDatabase | undefined;
    let collector: CollectorProc | undefined;
    let agent: Proc | undefined;
    before(async () => {
      db = await createTestDatabase();
    });
    after(() =>
      cleanup(
        () => stop(agent),
        () => stop(collector),
        async () => db?.drop(),
      ),
    );

    test("every tick stored exactly once, spool empty again", { timeout: TEST_TIMEOUT_MS }, async () => {
      const url = db!.url;
      collector = await startCollector({ databaseUrl: url });
      const grpcPort = Number(collector.grpcAddress.split(":").pop());
      agent = startAgent(agentArgs(collector.grpcAddress, `outage-kill-${process.pid}`));
      const w = await outage(
        agent,
        () => collector!.kill("SIGKILL"),
        async () => {
          collector = await startCollector({ databaseUrl: url, grpcPort });
        },
      );
      await assertDeliveredExactlyOnce(url, w);
    });
  });

  // A private cluster, since the shared server cannot be stopped under the other tests. Without the server
  // binaries it skips, except under CI, where it must run.
  const noCluster = !privatePostgresAvailable() && process.env.CI !== "true" ? "PostgreSQL server binaries (initdb, pg_ctl) not found" : false;
  describe("Postgres stopped under a running collector", { skip: noCluster }, () => {
    let cluster: PrivatePostgres | undefined;
    let collector: CollectorProc | undefined;
    let agent: Proc | undefined;
    before(async () => {
      cluster = await startPrivatePostgres();
    });
    after(() =>
      cleanup(
        () => stop(agent),
        () => stop(collector),
        async () => cluster?.destroy(),
      ),
    );

    test("the collector stays up, the agent spools, then every tick is stored exactly once", { timeout: TEST_TIMEOUT_MS }, async () => {
      const url = cluster!.url;
      const c = (collector = await startCollector({ databaseUrl: url }));
      agent = startAgent(agentArgs(c.grpcAddress, `outage-pg-${process.pid}`));
      const w = await outage(
        agent,
        () => cluster!.stop(),
        () => cluster!.start(),
        async () => {
          const r = await fetch(`${c.httpUrl}/readyz`);
          assert.equal(r.status, 503, "readyz reports the storage outage");
          assert.equal((await fetch(`${c.httpUrl}/healthz`)).status, 200, "the process itself is healthy");
        },
      );
      assert.equal(c.child.exitCode, null, "the collector process kept running");
      assert.equal(c.child.signalCode, null, "the collector process kept running");
      assert.ok(
        c.logs.some((l) => l.msg === "batch not committed; closing stream so the agent resends" || l.msg === "agent stream failed"),
        "the collector noticed the storage outage",
      );
      await assertDeliveredExactlyOnce(url, w);
      assert.equal((await fetch(`${c.httpUrl}/readyz`)).status, 200, "ready again");
      assert.equal(c.child.exitCode, null, "the collector process is still running");
    });
  });

  describe("network path cut between agent and collector", () => {
    let db: TestDatabase | undefined;
    let collector: CollectorProc | undefined;
    let agent: Proc | undefined;
    let proxy: TcpProxy | undefined;
    before(async () => {
      db = await createTestDatabase();
    });
    after(() =>
      cleanup(
        () => stop(agent),
        async () => proxy?.close(),
        () => stop(collector),
        async () => db?.drop(),
      ),
    );

    test("connections reset, new ones blackholed for 30 s: every tick stored exactly once, spool empty again", { timeout: TEST_TIMEOUT_MS }, async () => {
      const url = db!.url;
      const c = (collector = await startCollector({ databaseUrl: url }));
      const port = Number(c.grpcAddress.split(":").pop());
      const p = (proxy = await startTcpProxy({ host: "127.0.0.1", port }));
      agent = startAgent(agentArgs(p.address, `outage-net-${process.pid}`));
      let acceptedAtCut = 0;
      const w = await outage(
        agent,
        async () => {
          acceptedAtCut = p.accepted;
          p.cut("blackhole");
        },
        async () => p.restore(),
      );
      assert.ok(agent.logs.some((l) => l.msg === "collector stream closed; reconnecting"), "the agent saw the stream break");
      assert.ok(p.accepted > acceptedAtCut, "the agent came back through the proxy");
      assert.equal(c.child.exitCode, null, "the collector kept running");
      await assertDeliveredExactlyOnce(url, w);
    });
  });
});
