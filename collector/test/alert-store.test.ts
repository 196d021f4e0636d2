// The alert store on PGlite and PostgreSQL: an alert's events page by page (newest page first), and rows that fail
// validation (written by hand or by another version) read back without breaking the alerting runtime's start.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import pino from "pino";
import { ManualClock, systemClock } from "@vigil/shared";
import { LeaseKeeper, newLeaseStats } from "../src/cluster/lease-keeper.js";
import { LocalLeaseStore } from "../src/cluster/local-leases.js";
import { skipWithoutPostgres } from "../../test/support/postgres.js";
import type { OpenDatabase } from "../src/storage/database.js";
import { openTestStorage } from "./support/test-storage.js";
import { AlertStore } from "../src/storage/alert-store.js";
import { migrate } from "../src/storage/migrator.js";
import { PartitionManager } from "../src/storage/partitions.js";
import { sampleHistory } from "../src/storage/sample-history.js";
import { Alerting } from "../src/rules/alerting.js";
import { DEFAULT_RULE_NAMES } from "../src/rules/defaults.js";

const T0 = Date.now();

/** Two collectors' alerting on one database with the rule `hot` (test.hot > 10), both started, and one host's points. */
async function twoCollectors(store: OpenDatabase, prefix: string) {
  const db = store.db;
  const clock = new ManualClock(T0);
  const host = `${prefix}-${randomUUID().slice(0, 8)}`;
  await sql`INSERT INTO alert_rules (name, spec) VALUES ('hot', '{"name":"hot","kind":"threshold","metric":"test.hot","critical":{"op":">","value":10}}'::jsonb)
    ON CONFLICT (name) DO NOTHING`.execute(db);
  const make = () => new Alerting({ repo: new AlertStore(db), clock, log: pino({ level: "silent" }), tickMs: 3_600_000 });
  const a = make();
  const b = make();
  await a.start([]);
  await b.start([]);
  return {
    host,
    a,
    b,
    hot: async () => (await new AlertStore(db).listAlerts({ limit: 100 })).filter((x) => x.rule === "hot" && x.labels.host === host),
    point: (value: number, timeMs: number) => [{ host, metric: "test.hot", labels: {}, timeMs, value }],
  };
}

function storeSuite(kind: "postgres" | "pglite") {
  let store: OpenDatabase;
  let dispose: (() => Promise<void>) | undefined;

  before(async () => {
    ({ store, dispose } = await openTestStorage(kind));
    await migrate(store.db);
  });
  after(() => dispose?.());

  test("bad stored rows are skipped and counted at start; the good ones load", async () => {
    const db = store.db;
    const future = new Date(T0 + 3_600_000).toISOString();
    await sql`INSERT INTO silences (id, matchers, starts_at, ends_at) VALUES
      (${randomUUID()}, '{"host":"~(("}'::jsonb, now(), ${future}::timestamptz),
      (${randomUUID()}, '"text"'::jsonb, now(), ${future}::timestamptz),
      (${randomUUID()}, '{"alertname":"x"}'::jsonb, now(), ${future}::timestamptz)`.execute(db);
    await sql`INSERT INTO alert_rules (name, spec) VALUES ('bad', '{"kind":"threshold","metric":"m","match":{"a":"~(("},"critical":{"op":">","value":1}}'::jsonb),
      ('good', '{"name":"good","kind":"threshold","metric":"m","critical":{"op":">","value":1}}'::jsonb)`.execute(db);
    const id = randomUUID();
    await sql`INSERT INTO alerts (id, rule_name, key, state, severity, labels, summary, value, active_since, instance)
      VALUES (${id}, 'good', 'k', 'firing', 'critical', '{}'::jsonb, '', 1, now(), '{"state":"firing","labels":null}'::jsonb)`.execute(db);
    const alertStore = new AlertStore(db);
    const alerting = new Alerting({ repo: alertStore, clock: new ManualClock(T0), log: pino({ level: "silent" }), tickMs: 3_600_000 });
    const report = await alerting.start([]);
    assert.deepEqual(alerting.stats.skippedRows, { silences: 2, alert_rules: 1, alerts: 1 });
    assert.equal(report.rules, DEFAULT_RULE_NAMES.length + 1, "the defaults and the valid API rule");
    await alerting.stop();
    // The same hand-edited row (and a broken acknowledgement) still lists over the API.
    await sql`UPDATE alerts SET acknowledged = '{"by":5}'::jsonb, labels = '[1]'::jsonb, silenced_by = 'null'::jsonb WHERE id = ${id}::uuid`.execute(db);
    const listed = await alertStore.listAlerts({ limit: 10 });
    assert.deepEqual(listed.map((a) => [a.id, a.acknowledged, a.labels, a.silencedBy]), [[id, null, {}, []]]);
  });

  test("an alert's events come newest page first, oldest first within a page, with a cursor to older ones", async () => {
    const db = store.db;
    const id = randomUUID();
    await sql`INSERT INTO alerts (id, rule_name, key, state, severity, labels, summary, value, active_since, instance)
      VALUES (${id}, 'r', 'k2', 'firing', 'critical', '{}'::jsonb, '', 1, now(), '{}'::jsonb)`.execute(db);
    await sql`INSERT INTO alert_events (alert_id, time, kind, severity, value, message)
      SELECT ${id}::uuid, now(), 'acknowledged', 'critical', 1, 'event ' || g FROM generate_series(1, 25) g`.execute(db);
    const alertStore = new AlertStore(db);
    const first = await alertStore.alertEvents(id, { limit: 10 });
    assert.deepEqual(first.events.map((e) => e.message), Array.from({ length: 10 }, (_, i) => `event ${16 + i}`));
    assert.ok(first.next);
    const second = await alertStore.alertEvents(id, { limit: 10, before: first.next });
    assert.deepEqual(second.events.map((e) => e.message), Array.from({ length: 10 }, (_, i) => `event ${6 + i}`));
    const third = await alertStore.alertEvents(id, { limit: 10, before: second.next! });
    assert.deepEqual(third.events.map((e) => e.message), ["event 1", "event 2", "event 3", "event 4", "event 5"]);
    assert.equal(third.next, null);
    assert.equal((await alertStore.alertEvents(randomUUID(), { limit: 10 })).events.length, 0);
  });
  test("sample history pages through a long range in time order, every sample once", async () => {
    const db = store.db;
    await new PartitionManager(db, false).ensureAround(T0);
    await sql`INSERT INTO hosts (name, agent_id) VALUES ('history-host', 'a')`.execute(db);
    await sql`INSERT INTO series (host_id, metric, labels) SELECT h.id, 'history.m', jsonb_build_object('n', g::text) FROM hosts h, generate_series(1, 3) g WHERE h.name = 'history-host'`.execute(db);
    // 3 series x 3000 points 0.5 s apart (past one page per hour window), some with sub-millisecond times.
    const start = Math.floor((T0 - 2 * 3_600_000) / 1000) * 1000;
    await sql`INSERT INTO samples (time, series_id, value)
      SELECT to_timestamp(${start / 1000}::float8 + i * 0.5 + (CASE WHEN i % 7 = 0 THEN 0.000123 ELSE 0 END)), s.id, i
      FROM series s, generate_series(0, 2999) i WHERE s.metric = 'history.m'`.execute(db);
    const seen: { t: number; n: string; v: number }[] = [];
    for await (const page of sampleHistory(db, "history.m", start - 1000, start + 2 * 3_600_000)) {
      for (const p of page) seen.push({ t: p.timeMs, n: p.labels.n!, v: p.value });
    }
    assert.equal(seen.length, 9000);
    assert.equal(new Set(seen.map((x) => `${x.n}@${x.v}`)).size, 9000, "no sample twice");
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.t >= seen[i - 1]!.t, "in time order");
    // Agents stamp whole milliseconds; storage keeps times to the millisecond (blocks store them as integers).
    assert.equal(seen.find((x) => x.v === 7)!.t, start + 3500, "sub-millisecond times rounded to the millisecond");
  });
  test("a host's stream moves: the new collector takes its firing alert over, and the next crossing opens no second one", async () => {
    // Both run before the alert exists: the second learns of it only by taking the host over.
    const { host, a, b, hot, point } = await twoCollectors(store, "moved");
    a.observe(host, 1000, point(50, T0), []);
    await a.flushed();
    const [firing] = await hot();
    assert.equal(firing?.state, "firing");

    a.releaseHost(host);
    await b.takeHost(host);
    b.observe(host, 1000, point(60, T0 + 1000), []);
    await b.flushed();
    assert.deepEqual((await hot()).map((x) => [x.id, x.state]), [[firing!.id, "firing"]]);
    assert.ok(!a.openInstances().some((i) => i.labels.host === host), "the old collector let the host's alerts go");
    b.observe(host, 1000, point(1, T0 + 2000), []);
    await b.flushed();
    assert.deepEqual((await hot()).map((x) => [x.id, x.state]), [[firing!.id, "resolved"]], "the new collector resolves it");
    await a.stop();
    await b.stop();
  });

  test("a collector that missed the host's move cannot write over it: the write is refused and it lets the host go", async () => {
    const { host, a, b, hot, point } = await twoCollectors(store, "fenced");
    await a.takeHost(host);
    a.observe(host, 1000, point(50, T0), []);
    await a.flushed();
    const [firing] = await hot();
    assert.equal(firing?.state, "firing");
    // b takes the host; a is never told (a lost announcement, Redis down) and still evaluates a late point.
    await b.takeHost(host);
    a.observe(host, 1000, point(1, T0 + 1000), []);
    await a.flushed();
    assert.equal(a.stats.fencedWrites, 1);
    assert.ok(!a.holds(firing!.id), "the fenced-out collector let the host's alerts go");
    assert.deepEqual((await hot()).map((x) => [x.id, x.state]), [[firing!.id, "firing"]], "the stale resolve stored nothing");
    b.observe(host, 1000, point(1, T0 + 2000), []);
    await b.flushed();
    assert.deepEqual((await hot()).map((x) => [x.id, x.state]), [[firing!.id, "resolved"]], "the host's collector resolves it");
    assert.equal(b.stats.fencedWrites, 0);
    await a.stop();
    await b.stop();
  });

  test("a host's open alerts are found through the host index, not by filtering every open alert", async () => {
    const db = store.db;
    await sql`INSERT INTO alerts (id, rule_name, key, state, severity, labels, summary, value, active_since, instance)
      VALUES (${randomUUID()}, 'r', 'k-idx', 'firing', 'critical', '{"host":"idx-host"}'::jsonb, '', 1, now(), '{}'::jsonb)`.execute(db);
    const loaded = await new AlertStore(db).loadOpen("idx-host");
    assert.equal(loaded.length, 1);
    // The planner would scan a table this small; told not to, it must have the host index to go to (loadOpen's query).
    const plan = await db.connection().execute(async (c) => {
      await sql`SET enable_seqscan = off`.execute(c);
      try {
        return (await sql<{ "QUERY PLAN": string }>`EXPLAIN SELECT id, instance FROM alerts WHERE state IN ('pending', 'firing') AND labels->>'host' = 'idx-host'`.execute(c)).rows;
      } finally {
        await sql`RESET enable_seqscan`.execute(c);
      }
    });
    assert.match(plan.map((r) => r["QUERY PLAN"]).join("\n"), /alerts_open_host_idx/);
  });

  test("a lease store that lost its counters (a restart, Redis without disk) is raised past the stored fence", async () => {
    const db = store.db;
    await sql`INSERT INTO lease_fences (lease, fence) VALUES ('host-down', 500) ON CONFLICT (lease) DO UPDATE SET fence = 500`.execute(db);
    const log = pino({ level: "silent" });
    const keeper = new LeaseKeeper({ name: "host-down", holder: "c1", ttlMs: 1000, store: new LocalLeaseStore(systemClock), clock: systemClock, log, stats: newLeaseStats() });
    const alerting = new Alerting({ repo: new AlertStore(db), clock: systemClock, log, tickMs: 20, hostDownLease: keeper });
    await alerting.start([]);
    keeper.start();
    try {
      const recorded = async () => Number((await sql<{ f: string }>`SELECT fence::text AS f FROM lease_fences WHERE lease = 'host-down'`.execute(db)).rows[0]!.f);
      for (let i = 0; i < 200 && !((keeper.fence() ?? 0) > 500 && (await recorded()) === keeper.fence()); i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok((keeper.fence() ?? 0) > 500, `the lease's fence ${keeper.fence()} is past the stored 500`);
      assert.equal(await recorded(), keeper.fence(), "the takeover recorded the new fence");
    } finally {
      await keeper.stop();
      await alerting.stop();
    }
  });

  test("host-down under the lease: a stale holder's write is refused and stores nothing; the new holder adopts the alert", async () => {
    const db = store.db;
    const clock = new ManualClock(T0);
    const host = `lease-${randomUUID().slice(0, 8)}`;
    // Both think they hold the lease: the first with fence 1, the second (which took it over) with fence 2.
    const make = (fence: number) =>
      new Alerting({ repo: new AlertStore(db), clock, log: pino({ level: "silent" }), tickMs: 5, hostDownLease: { held: () => true, fence: () => fence, refence: async () => assert.fail("no refence expected") } });
    const hostDown = async () => (await new AlertStore(db).listAlerts({ limit: 100 })).filter((a) => a.rule === "host-down" && a.labels.host === host);
    const until = async (check: () => Promise<boolean>) => {
      for (let i = 0; i < 400 && !(await check()); i++) await new Promise((r) => setTimeout(r, 5));
      assert.ok(await check(), "in time");
    };
    // Fences above any an earlier test recorded.
    const base = Number((await sql<{ f: string | null }>`SELECT max(fence)::text AS f FROM lease_fences WHERE lease = 'host-down'`.execute(db)).rows[0]?.f ?? 0);
    const a = make(base + 1);
    await a.start([]);
    a.observe(host, 10_000, [], []);
    clock.set(T0 + 60_000);
    await until(async () => (await hostDown()).some((x) => x.state === "firing"));
    const [firing] = await hostDown();

    const b = make(base + 2);
    await b.start([]);
    await until(async () => b.openInstances().some((i) => i.id === firing!.id));
    // The old holder hears from the host and resolves the alert: its fence is stale, so nothing of it is stored.
    a.observe(host, 10_000, [], []);
    await until(async () => a.stats.fencedWrites === 1);
    await a.flushed();
    clock.set(T0 + 61_000);
    await new Promise((r) => setTimeout(r, 50));
    await b.flushed();
    const after = await hostDown();
    assert.deepEqual(after.map((x) => [x.id, x.state]), [[firing!.id, "firing"]], "one host-down alert, still firing");
    assert.ok(b.openInstances().some((i) => i.id === firing!.id), "the new holder carries the alert on");
    assert.ok(!a.openInstances().some((i) => i.ruleName === "host-down"), "the old holder let its host-down alerts go");
    await a.stop();
    await b.stop();
    await assert.rejects(new AlertStore(db).claimFence({ lease: "host-down", value: base + 1 }), new RegExp(`fencing number ${base + 1} is stale`));
  });
}

describe("alert store on PGlite", () => storeSuite("pglite"));
describe("alert store on PostgreSQL", { skip: skipWithoutPostgres() }, () => storeSuite("postgres"));
