// Reaching the database at start: failures described so a person can act, retries with backoff when waiting.
import { test } from "node:test";
import assert from "node:assert/strict";
import pino from "pino";
import { Backoff, ManualClock } from "@vigil/shared";
import { databaseTarget, describeConnectError } from "../src/storage/connect-error.js";
import { waitForDatabase } from "../src/storage/wait-for-database.js";

const errno = (code: string, message: string): Error => Object.assign(new Error(message), { code });

test("databaseTarget shows host:port, never credentials", () => {
  assert.equal(databaseTarget("postgres://u:secret@db.internal:6543/x"), "db.internal:6543");
  assert.equal(databaseTarget("postgresql://u:secret@db.internal/x"), "db.internal:5432");
  assert.equal(databaseTarget("postgres://u@[::1]:5433/x"), "[::1]:5433");
  assert.equal(databaseTarget("postgres:///x?host=/run/postgresql"), "/run/postgresql (unix socket)");
  assert.equal(databaseTarget("postgres:///x"), "localhost:5432");
  assert.equal(databaseTarget("postgres://u:secret@:x"), "(unparsable URL)");
});

test("connection failures are described with a cause and what to check; other errors are not", () => {
  assert.match(describeConnectError(errno("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:1"))!.cause, /refused/);
  assert.match(describeConnectError(errno("ENOTFOUND", "getaddrinfo ENOTFOUND x"))!.cause, /DNS/);
  assert.match(describeConnectError(errno("28P01", 'password authentication failed for user "vigil"'))!.check, /password/);
  assert.match(describeConnectError(errno("3D000", 'database "x" does not exist'))!.cause, /database "x" does not exist/);
  assert.match(describeConnectError(new Error("timeout exceeded when trying to connect"))!.cause, /timed out/);
  assert.match(describeConnectError(new Error("Connection terminated unexpectedly"))!.cause, /reset/);
  assert.match(describeConnectError(new Error("The server does not support SSL connections"))!.check, /sslmode/);
  assert.equal(describeConnectError(errno("42P01", 'relation "x" does not exist')), null);
  assert.equal(describeConnectError("nope"), null);
});

function harness(failures: Error[]) {
  const clock = new ManualClock(0);
  const lines: { msg: string; attempt?: number }[] = [];
  const log = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s) as { msg: string }) });
  const sleeps: number[] = [];
  let calls = 0;
  const probe = async (): Promise<void> => {
    calls++;
    const e = failures.shift();
    if (e) throw e;
  };
  const sleep = async (ms: number): Promise<void> => {
    sleeps.push(ms);
    clock.advance(ms);
  };
  return { clock, log, lines, sleeps, probe, sleep, calls: () => calls };
}

const refused = (): Error => errno("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:1");
const backoff = (): Backoff => new Backoff({ initialMs: 1000, maxMs: 30_000, random: () => 0.999999 });

test("without waiting: one attempt, one clear error naming the setting and host:port", async () => {
  const h = harness([refused()]);
  await assert.rejects(
    waitForDatabase({ probe: h.probe, target: "db:5432", setting: "DATABASE_URL", waitMs: 0, clock: h.clock, log: h.log, sleep: h.sleep }),
    (e: Error & { code?: string }) =>
      e.code === "VGL_ERR_STORAGE_UNREACHABLE" && /^cannot connect to PostgreSQL at db:5432 \(DATABASE_URL\): connection refused; check /.test(e.message),
  );
  assert.equal(h.calls(), 1);
  assert.deepEqual(h.sleeps, []);
});

test("waiting: exponential backoff, each attempt logged, success ends it", async () => {
  const h = harness([refused(), refused(), refused(), refused()]);
  await waitForDatabase({ probe: h.probe, target: "db:5432", setting: "DATABASE_URL", waitMs: Infinity, clock: h.clock, log: h.log, sleep: h.sleep, backoff: backoff() });
  assert.equal(h.calls(), 5);
  assert.deepEqual(h.sleeps, [1000, 2000, 4000, 8000]);
  const retries = h.lines.filter((l) => /retrying/.test(l.msg));
  assert.deepEqual(retries.map((l) => l.attempt), [1, 2, 3, 4]);
  assert.ok(retries.every((l) => l.msg.startsWith("VGL_ERR_STORAGE_UNREACHABLE: cannot connect to PostgreSQL at db:5432")));
  assert.ok(h.lines.some((l) => l.msg === "database reachable"));
});

test("a bounded wait gives up after its time, saying how many attempts", async () => {
  const h = harness(Array.from({ length: 100 }, refused));
  await assert.rejects(
    waitForDatabase({ probe: h.probe, target: "db:5432", setting: "database_url in /etc/vigil/collector.yaml", waitMs: 10_000, clock: h.clock, log: h.log, sleep: h.sleep, backoff: backoff() }),
    /\(database_url in \/etc\/vigil\/collector\.yaml\).*\(gave up after 5 attempts over 10s\)$/,
  );
  assert.deepEqual(h.sleeps, [1000, 2000, 4000, 3000]);
});

test("an error that is not about reaching the database is thrown at once", async () => {
  const h = harness([errno("42P01", 'relation "x" does not exist')]);
  await assert.rejects(waitForDatabase({ probe: h.probe, target: "db:5432", setting: "DATABASE_URL", waitMs: Infinity, clock: h.clock, log: h.log, sleep: h.sleep }), /relation "x"/);
  assert.equal(h.calls(), 1);
});
