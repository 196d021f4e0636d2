import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { sql } from "kysely";
import pino from "pino";
import { ManualClock } from "@vigil/shared";
import { createTestDatabase, skipWithoutPostgres, type TestDatabase } from "../../test/support/postgres.js";
import { contentHash } from "../src/notify/delivery/content-hash.js";
import { DeliveryWorker, type DeliveryWorkerOptions } from "../src/notify/delivery/worker.js";
import type { DeliveryResult, Notification, NotifiedAlert, Receiver } from "../src/notify/types.js";
import { openDatabase, type OpenDatabase } from "../src/storage/database.js";
import { outbox as outboxMigration } from "../src/storage/migrations/005-outbox.js";
import { migrations } from "../src/storage/migrations/index.js";
import { migrate } from "../src/storage/migrator.js";
import { OutboxStore } from "../src/storage/outbox-store.js";

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

function alert(over: Partial<NotifiedAlert> = {}): NotifiedAlert {
  return { id: randomUUID(), rule: "HighCpu", state: "firing", severity: "critical", labels: { host: "web-1" }, summary: "cpu high", value: 0.97,
    activeSince: T0 - 60_000, firingSince: T0, resolvedAt: null, acknowledged: null, ...over };
}
function note(over: Partial<Notification> = {}): Notification {
  return { id: randomUUID(), receiver: "hook", groupKey: "g1", groupLabels: { alertname: "HighCpu" }, kind: "firing", tier: 0, alerts: [alert()], createdAt: T0, ...over };
}
/** Notifications as the dispatcher hands them to the outbox: with their content hash. */
const items = (...ns: Notification[]) => ns.map((n) => ({ notification: n, contentHash: contentHash(n) }));

/** A webhook endpoint whose answers the test scripts; it records every request it gets. */
async function endpoint(answer: (hitNo: number) => { status: number; retryAfter?: number; delayMs?: number }) {
  const hits: { id: string; status: number }[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const a = answer(hits.length + 1);
      hits.push({ id: (JSON.parse(body) as Notification).id, status: a.status });
      const reply = () => res.writeHead(a.status, a.retryAfter ? { "retry-after": String(a.retryAfter) } : {}).end();
      if (a.delayMs) setTimeout(reply, a.delayMs).unref();
      else reply();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    hits,
    delivered: () => hits.filter((h) => h.status < 300).map((h) => h.id),
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** A real webhook receiver: POSTs the notification as JSON; 2xx delivered, 429/5xx/network retry, other 4xx give up. */
class WebhookReceiver implements Receiver {
  readonly kind = "webhook"; readonly supportsAck = false;
  constructor(readonly name: string, private readonly url: string) {}
  async send(n: Notification, signal: AbortSignal): Promise<DeliveryResult> {
    try {
      const res = await fetch(this.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(n), signal });
      await res.arrayBuffer();
      if (res.ok) return { outcome: "delivered" };
      const retryAfter = res.headers.get("retry-after");
      if (res.status === 429 || res.status >= 500) return { outcome: "retry", reason: `HTTP ${res.status}`, retryAfterMs: retryAfter ? Number(retryAfter) * 1000 : undefined };
      return { outcome: "give_up", reason: `HTTP ${res.status}` };
    } catch (err) {
      return { outcome: "retry", reason: err instanceof Error ? err.message : String(err) };
    }
  }
}

test("content hash covers what the message says, not its identity", () => {
  const [a, b] = [alert(), alert()];
  const n = note({ alerts: [a, b] });
  const h = contentHash(n);
  assert.match(h, /^[0-9a-f]{64}$/);
  assert.equal(contentHash({ ...n, id: randomUUID(), createdAt: T0 + 5000, alerts: [{ ...b, value: 0.5, summary: "x" }, a] }), h);
  for (const changed of [{ kind: "resolved" as const }, { tier: 1 }, { receiver: "other" }, { groupKey: "g2" },
    { alerts: [{ ...a, state: "resolved" as const }, b] }, { alerts: [{ ...a, severity: "warning" as const }, b] },
    { alerts: [{ ...a, acknowledged: { by: "ann", at: T0, comment: "" } }, b] }, { alerts: [a] }]) {
    assert.notEqual(contentHash({ ...n, ...changed }), h, JSON.stringify(Object.keys(changed)));
  }
});

describe("notification delivery (PostgreSQL)", { skip: skipWithoutPostgres() }, () => {
  let testDb: TestDatabase;
  let main: OpenDatabase, second: OpenDatabase; // second: another collector's pool
  let store: OutboxStore, other: OutboxStore;
  let clock: ManualClock;
  let logLines: { level: number; msg: string; notification?: string; receiver?: string; error?: string }[];
  const endpoints: Awaited<ReturnType<typeof endpoint>>[] = [];

  before(async () => {
    testDb = await createTestDatabase();
    const open = () => openDatabase({ databaseUrl: testDb.url, dataDir: "" });
    [main, second] = await Promise.all([open(), open()]);
    await migrate(main.db);
    if (!migrations.some((m) => m.id === outboxMigration.id)) await outboxMigration.up(main.db, { timescale: false });
    [store, other] = [new OutboxStore(main.db), new OutboxStore(second.db)];
  });
  beforeEach(async () => {
    await sql`TRUNCATE outbox, notification_log`.execute(main.db);
    clock = new ManualClock(T0);
    logLines = [];
  });
  after(async () => {
    for (const e of endpoints) await e.close();
    await Promise.all([second?.close(), main?.close()]);
    await testDb?.drop();
  });

  const serve = async (answer: Parameters<typeof endpoint>[0]) => endpoints[endpoints.push(await endpoint(answer)) - 1]!;
  function worker(receivers: Receiver[], over: Partial<DeliveryWorkerOptions> = {}): DeliveryWorker {
    const log = pino({ level: "debug" }, { write: (s: string) => void logLines.push(JSON.parse(s) as (typeof logLines)[number]) });
    return new DeliveryWorker({ store, receivers: new Map(receivers.map((r) => [r.name, r])), clock, log, workerId: "w1", pollMs: 20, batchSize: 50,
      backoff: { initialMs: 1000, maxMs: 60_000 }, breaker: { failureThreshold: 100, openMs: 30_000 }, timeoutMs: 2000, random: () => 1, ...over });
  }
  const row = async (id: string) => (await store.get(id)) ?? assert.fail(`no outbox row ${id}`);

  test("enqueue joins the caller's transaction, is idempotent by id, and list filters", async () => {
    const [n1, n2] = [note(), note({ groupKey: "g2" })];
    await assert.rejects(main.db.transaction().execute(async (tx) => {
      await store.enqueue(tx, items(n1));
      throw new Error("alert update failed");
    }));
    assert.equal((await store.list({ limit: 10 })).length, 0, "rolled back with the transaction");
    assert.equal(await main.db.transaction().execute((tx) => store.enqueue(tx, items(n1, n2))), 2);
    assert.equal(await store.enqueue(main.db, items(n1)), 0);
    assert.deepEqual((await store.list({ alertId: n1.alerts[0]!.id, limit: 10 })).map((v) => v.id), [n1.id]);
    assert.deepEqual((await store.list({ groupKey: "g2", limit: 10 })).map((v) => v.id), [n2.id]);
    assert.equal((await store.list({ status: "pending", limit: 10 })).length, 2);
    assert.equal((await store.list({ status: "dead", limit: 10 })).length, 0);
    assert.deepEqual((await row(n1.id)).notification, n1);
  });

  test("500 three times then 200: delivered exactly once, with exponential backoff (Retry-After a floor)", async () => {
    const ep = await serve((i) => (i <= 3 ? { status: i === 3 ? 429 : 500, retryAfter: i === 3 ? 120 : undefined } : { status: 200 }));
    const n = note();
    await store.enqueue(main.db, items(n));
    const w = worker([new WebhookReceiver("hook", ep.url)]);
    const expectedNext = [T0 + 1000, T0 + 10_000 + 2000, T0 + 20_000 + 120_000];
    for (let i = 0; i < 3; i++) {
      clock.set(T0 + i * 10_000);
      assert.equal(await w.runOnce(), 1);
      assert.equal((await row(n.id)).nextAttemptAt, expectedNext[i]);
      assert.equal(await w.runOnce(), 0, "not due before its backoff");
    }
    clock.set(T0 + 139_000);
    assert.equal(await w.runOnce(), 0, "Retry-After: 120 is honoured");
    clock.set(T0 + 140_000);
    await w.runOnce();
    clock.advance(3_600_000);
    assert.deepEqual([await w.runOnce(), ep.hits.length], [0, 4]);
    assert.deepEqual(ep.delivered(), [n.id]);
    const r = await row(n.id);
    assert.deepEqual([r.status, r.attempts, r.lastError, r.deliveredAt], ["delivered", 4, "HTTP 429", T0 + 140_000]);
    assert.deepEqual([w.stats.delivered, w.stats.retried, w.stats.dead], [1, 3, 0]);
  });

  test("start() polls and delivers; stop() ends the loop", async () => {
    const [ep, n] = [await serve(() => ({ status: 200 })), note()];
    const w = worker([new WebhookReceiver("hook", ep.url)]);
    w.start();
    await store.enqueue(main.db, items(n));
    for (let i = 0; i < 200 && ep.hits.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await w.stop();
    await store.enqueue(main.db, items(note()));
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual([ep.delivered(), (await row(n.id)).status, w.stats.delivered], [[n.id], "delivered", 1]);
  });

  test("give_up dead-letters at once, with the error recorded and logged", async () => {
    const [ep, n] = [await serve(() => ({ status: 400 })), note()];
    await store.enqueue(main.db, items(n));
    const w = worker([new WebhookReceiver("hook", ep.url)]);
    await w.runOnce();
    clock.advance(3_600_000);
    assert.equal(await w.runOnce(), 0);
    const r = await row(n.id);
    assert.deepEqual([r.status, r.attempts, r.lastError, ep.hits.length, w.stats.dead], ["dead", 1, "HTTP 400", 1, 1]);
    assert.ok(logLines.some((l) => l.level === 50 && l.notification === n.id && l.receiver === "hook" && l.error === "HTTP 400"));
  });

  test("claims skip locked rows: two collectors never claim the same row", { timeout: 20_000 }, async () => {
    const notes = Array.from({ length: 300 }, (_, i) => note({ createdAt: T0 + i }));
    await store.enqueue(main.db, items(...notes));
    // A row locked by someone else is skipped, not waited for.
    await second.db.transaction().execute(async (tx) => {
      await sql`SELECT id FROM outbox WHERE id = ${notes[0]!.id}::uuid FOR UPDATE`.execute(tx);
      const got = (await store.claim("A", 5, T0 + 1000)).map((r) => r.id);
      assert.deepEqual(got, notes.slice(1, 6).map((n) => n.id));
    });
    const seen = { A: [] as string[], B: [] as string[] };
    for (;;) {
      const [a, b] = await Promise.all([store.claim("A", 7, T0 + 1000), other.claim("B", 7, T0 + 1000)]);
      if (a.length + b.length === 0) break;
      seen.A.push(...a.map((r) => r.id));
      seen.B.push(...b.map((r) => r.id));
    }
    assert.equal(seen.A.length + seen.B.length, 295);
    assert.ok(seen.A.length > 0 && seen.B.length > 0, "both claimed");
    assert.equal(new Set([...seen.A, ...seen.B]).size, 295, "no row claimed twice");
    const byWorker = await sql`SELECT claimed_by, count(*)::int AS n FROM outbox WHERE status = 'sending' GROUP BY 1 ORDER BY 1`.execute(main.db);
    assert.deepEqual(byWorker.rows, [{ claimed_by: "A", n: seen.A.length + 5 }, { claimed_by: "B", n: seen.B.length }]);
  });

  test("a collector killed between claiming and sending: another delivers once, after the lease", async () => {
    const [ep, n] = [await serve(() => ({ status: 200 })), note()];
    await store.enqueue(main.db, items(n));
    assert.equal((await store.claim("A", 10, T0)).length, 1); // ...and A dies here
    const b = worker([new WebhookReceiver("hook", ep.url)], { workerId: "B" });
    clock.set(T0 + 30_000);
    assert.equal(await b.runOnce(), 0, "A's lease still holds");
    clock.set(T0 + 61_000);
    assert.equal(await b.runOnce(), 1);
    clock.advance(120_000);
    assert.equal(await b.runOnce(), 0, "delivered: not claimed again");
    assert.deepEqual(ep.delivered(), [n.id]);
    const r = await row(n.id);
    assert.deepEqual([r.status, r.claimedBy, r.lastError], ["delivered", "B", "claim by A expired"]);
  });

  test("the same content enqueued by two collectors is sent once", async () => {
    const ep = await serve(() => ({ status: 200 }));
    const n1 = note(), n2 = { ...n1, id: randomUUID(), createdAt: T0 + 5 };
    await Promise.all([store.enqueue(main.db, items(n1)), other.enqueue(second.db, items(n2))]);
    // While one copy is in flight the other is not claimable, even by another collector.
    clock.set(T0 + 10);
    assert.deepEqual((await store.claim("A", 1, T0 + 10)).map((r) => r.id), [n1.id]);
    assert.deepEqual(await other.claim("B", 10, T0 + 10), []);
    await store.release(n1.id, T0);
    const wa = worker([new WebhookReceiver("hook", ep.url)], { workerId: "A", batchSize: 1 });
    const wb = worker([new WebhookReceiver("hook", ep.url)], { workerId: "B", batchSize: 1, store: other });
    for (let i = 0; i < 4; i++) await Promise.all([wa.runOnce(), wb.runOnce()]);
    assert.equal(ep.hits.length, 1);
    assert.deepEqual([(await row(n1.id)).status, (await row(n2.id)).status], ["delivered", "delivered"]);
    assert.equal(wa.stats.delivered + wb.stats.delivered, 1);
    assert.equal(wa.stats.duplicates + wb.stats.duplicates, 1);
    // A restarted collector re-emitting the same decision (same minute): still once.
    const n3 = { ...n1, id: randomUUID(), createdAt: T0 + 30_000 };
    await store.enqueue(main.db, items(n3));
    clock.set(T0 + 30_000);
    await wa.runOnce();
    const r3 = await row(n3.id);
    assert.deepEqual([ep.hits.length, r3.status, r3.attempts], [1, "delivered", 0]);
    // The same content as a later reminder (another minute) is a new message.
    const n4 = { ...n1, id: randomUUID(), createdAt: T0 + 90_000 };
    await store.enqueue(main.db, items(n4));
    clock.set(T0 + 90_000);
    await wa.runOnce();
    assert.deepEqual([ep.hits.length, (await row(n4.id)).status], [2, "delivered"]);
  });

  test("a receiver that is down opens its breaker (no hammering) and gets everything once when back", async () => {
    let up = false;
    const ep = await serve(() => ({ status: up ? 200 : 503 }));
    const notes = Array.from({ length: 10 }, (_, i) => note({ createdAt: T0 - 100 + i }));
    await store.enqueue(main.db, items(...notes));
    const w = worker([new WebhookReceiver("hook", ep.url)], { breaker: { failureThreshold: 3, openMs: 30_000 } });
    await w.runOnce();
    assert.deepEqual([ep.hits.length, w.stats.breakerOpens, w.stats.postponed, w.breakerState("hook")], [3, 1, 7, "open"]);
    const released = await row(notes[9]!.id);
    assert.deepEqual([released.status, released.attempts, released.nextAttemptAt], ["pending", 0, T0 + 30_000]);
    clock.set(T0 + 10_000);
    assert.equal(await w.runOnce(), 3, "the failed ones are due for retry");
    assert.equal(ep.hits.length, 3, "but nothing is sent while the circuit is open");
    clock.set(T0 + 30_000);
    await w.runOnce();
    assert.deepEqual([ep.hits.length, w.stats.breakerOpens], [4, 2], "one half-open trial, which fails and reopens");
    up = true;
    for (const t of [60_000, 120_000]) { clock.set(T0 + t); await w.runOnce(); }
    assert.equal(ep.hits.length, 14);
    assert.deepEqual([...ep.delivered()].sort(), notes.map((n) => n.id).sort());
    assert.deepEqual([w.stats.delivered, w.breakerState("hook")], [10, "closed"]);
  });

  test("still failing after maxAge: dead-lettered with a log line naming notification, receiver and error", async () => {
    const [ep, n] = [await serve(() => ({ status: 503 })), note()];
    await store.enqueue(main.db, items(n));
    const w = worker([new WebhookReceiver("hook", ep.url)], { maxAgeMs: 3_600_000 });
    await w.runOnce();
    assert.equal((await row(n.id)).status, "pending");
    clock.set(T0 + 2 * 3_600_000);
    await w.runOnce();
    const r = await row(n.id);
    assert.deepEqual([r.status, r.attempts, r.lastError, w.stats.dead], ["dead", 2, "HTTP 503", 1]);
    const line = logLines.find((l) => l.level === 50) ?? assert.fail("no error line");
    assert.deepEqual([line.notification, line.receiver, line.error], [n.id, "hook", "HTTP 503"]);
    assert.match(line.msg, new RegExp(`${n.id}.*hook.*HTTP 503`));
    clock.advance(3_600_000);
    assert.deepEqual([await w.runOnce(), ep.hits.length], [0, 2]);
  });

  test("sends time out: a slow endpoint and a receiver ignoring its signal are both retried", async () => {
    const ep = await serve(() => ({ status: 200, delayMs: 5000 }));
    const stuck: Receiver = { name: "stuck", kind: "test", supportsAck: false, send: () => new Promise<DeliveryResult>(() => {}) };
    const [slow, hung] = [note(), note({ receiver: "stuck" })];
    await store.enqueue(main.db, items(slow, hung));
    const started = Date.now();
    await worker([new WebhookReceiver("hook", ep.url), stuck], { timeoutMs: 150 }).runOnce();
    assert.ok(Date.now() - started < 3000, "did not wait for the endpoint");
    for (const id of [slow.id, hung.id]) {
      const r = await row(id);
      assert.deepEqual([r.status, r.attempts, /timed out|abort/i.test(r.lastError ?? "")], ["pending", 1, true], r.lastError ?? "");
    }
  });
});
