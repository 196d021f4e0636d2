// Network checks against real servers: HTTP(S)/TCP servers started here, PostgreSQL at DATABASE_URL, Redis at REDIS_URL.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import pg from "pg";
import { createHttpCheck, httpCheckSchema } from "../src/checks/http.js";
import { createPostgresCheck, postgresCheckSchema } from "../src/checks/postgres.js";
import { createRedisCheck, redisCheckSchema } from "../src/checks/redis.js";
import { createTcpCheck, tcpCheckSchema } from "../src/checks/tcp.js";
import type { Check, CheckCommon, CheckOutcome } from "../src/checks/types.js";

const CI = process.env.CI === "true";
const DATABASE_URL = process.env.DATABASE_URL ?? (CI ? "postgres://postgres@127.0.0.1:5432/test" : undefined);
const REDIS_URL = process.env.REDIS_URL ?? (CI ? "redis://127.0.0.1:6379" : undefined);
const SECRET = "S3cret-Do-Not-Show-71";

const common = (kind: string, over: Partial<CheckCommon> = {}): CheckCommon => ({ name: `t-${kind}`, kind, intervalMs: 30_000, timeoutMs: 2000, ...over });
const run = (check: Check): Promise<CheckOutcome> => check.run(new AbortController().signal);
const metric = (o: CheckOutcome, name: string): number | undefined => o.metrics?.find((m) => m.metric === name)?.value;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** This status and message (exact or pattern), and never the secret. */
function expectOutcome(o: CheckOutcome, status: CheckOutcome["status"], expected: string | RegExp): void {
  assert.equal(o.status, status, o.message);
  assert.ok(typeof expected === "string" ? o.message === expected : expected.test(o.message), `message: ${o.message}`);
  assert.ok(!o.message.includes(SECRET), "the password is not in the message");
}
const httpCheck = (fields: Record<string, unknown>, over: Partial<CheckCommon> = {}) => createHttpCheck(common("http", over), httpCheckSchema.parse({ kind: "http", ...fields }));
const pgCheck = (fields: Record<string, unknown>, over: Partial<CheckCommon> = {}) => createPostgresCheck(common("postgres", over), postgresCheckSchema.parse({ kind: "postgres", ...fields }));
const redisCheck = (fields: Record<string, unknown>, over: Partial<CheckCommon> = {}) => createRedisCheck(common("redis", over), redisCheckSchema.parse({ kind: "redis", ...fields }));

const listen = (server: net.Server): Promise<number> =>
  new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port)));

/** Runs `check` with an abort at 300 ms; asserts it rejects promptly and that the server saw its socket close. */
async function assertAbortsPromptly(check: Check): Promise<void> {
  closedAt = undefined;
  const ac = new AbortController();
  const start = Date.now();
  setTimeout(() => ac.abort(new Error("stop now")), 300);
  await assert.rejects(check.run(ac.signal), /stop now/);
  assert.ok(Date.now() - start < 1500, `took ${Date.now() - start} ms`);
  await sleep(100);
  const at = closedAt;
  assert.ok(at !== undefined && at - start < 1500, `the check's connection was closed promptly (closed ${at === undefined ? "never" : at - start} ms)`);
}

// `closedAt`: when a hung request's connection (to /slow, or to `silent`, which accepts and never answers) closed.
let closedAt: number | undefined;
const silent = net.createServer((s) => s.resume().on("close", () => (closedAt = Date.now())).on("error", () => undefined));
const plain = http.createServer((req, res) => {
  if (req.url === "/slow") {
    req.socket.once("close", () => (closedAt = Date.now()));
    setTimeout(() => res.end("late"), 3000).unref();
  } else if (req.url === "/down") res.writeHead(503).end("maintenance");
  else if (req.url === "/auth") res.writeHead(req.headers["x-token"] === "abc" ? 200 : 401).end();
  else if (req.url === "/delay") setTimeout(() => res.end("all ok, slowly"), 50);
  else res.end("all ok");
});
let [base, tlsBase, silentPort] = ["", "", 0];
let tls: https.Server | undefined;
const dir = mkdtempSync(join(tmpdir(), "vigil-tls-"));

before(async () => {
  base = `http://127.0.0.1:${await listen(plain)}`;
  silentPort = await listen(silent);
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-days", "3", "-nodes", "-subj", "/CN=localhost",
    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stdio: "ignore" });
  tls = https.createServer({ key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) }, (_req, res) => res.end("secure ok"));
  tlsBase = `https://127.0.0.1:${await listen(tls)}`;
});

after(() => {
  for (const s of [plain, tls]) s?.closeAllConnections();
  for (const s of [plain, tls, silent]) s?.close();
  rmSync(dir, { recursive: true, force: true });
});

test("schemas: strict, defaults, status specs", () => {
  const cfg = httpCheckSchema.parse({ kind: "http", url: "http://x/" });
  assert.deepEqual([cfg.method, cfg.expect_status, cfg.tls_skip_verify, cfg.cert_expiry_warning], ["GET", ["200-399"], false, 14 * 86_400_000]);
  assert.equal(httpCheckSchema.safeParse({ kind: "http", url: "http://x/", bogus: 1 }).success, false);
  assert.equal(httpCheckSchema.safeParse({ kind: "http", url: "http://x/", expect_status: ["2xy"] }).success, false);
  assert.equal(httpCheckSchema.safeParse({ kind: "http", url: "ftp://x/" }).success, false);
  assert.equal(tcpCheckSchema.safeParse({ kind: "tcp", address: "nohost" }).success, false);
  assert.equal(postgresCheckSchema.parse({ kind: "postgres", url: "postgres://u@h/db" }).replication_lag_warning, 30_000);
  assert.throws(() => createRedisCheck(common("redis"), redisCheckSchema.parse({ kind: "redis", url: "redis://h", password_file: "/f", password_env: "E" })), /not both/);
});

test("http: 200 is healthy with status code and latency; headers are sent", async () => {
  const o = await run(httpCheck({ url: `${base}/ok`, body_contains: "all ok", body_regex: "^all\\s+ok$" }));
  expectOutcome(o, "healthy", /^200 OK in \d+ ms$/);
  assert.equal(metric(o, "vigil.check.http.status_code"), 200);
  assert.ok((metric(o, "vigil.check.http.latency") ?? -1) >= 0);
  assert.equal(metric(o, "vigil.check.http.cert_expiry_days"), undefined);
  expectOutcome(await run(httpCheck({ url: `${base}/auth`, expect_status: 200 })), "unhealthy", "expected status 200, got 401");
  assert.equal((await run(httpCheck({ url: `${base}/auth`, headers: { "X-Token": "abc" } }))).status, "healthy");
});

test("http: wrong status, body mismatch, slowness, refused", async () => {
  const down = await run(httpCheck({ url: `${base}/down`, expect_status: [200, "204"] }));
  expectOutcome(down, "unhealthy", "expected status 200, 204, got 503");
  assert.equal(metric(down, "vigil.check.http.status_code"), 503);
  assert.equal((await run(httpCheck({ url: `${base}/down`, expect_status: ["5xx"] }))).status, "healthy");
  expectOutcome(await run(httpCheck({ url: `${base}/ok`, body_contains: "ready" })), "unhealthy", 'body does not contain "ready"');
  expectOutcome(await run(httpCheck({ url: `${base}/ok`, body_regex: "^ready" })), "unhealthy", "body does not match /^ready/");
  const slow = await run(httpCheck({ url: `${base}/delay` }, { degradedAfterMs: 20 }));
  expectOutcome(slow, "degraded", /^slow: \d+ ms, degraded at 20 ms; 200 OK in \d+ ms$/);
  expectOutcome(await run(httpCheck({ url: "http://127.0.0.1:1/" })), "unhealthy", "connect ECONNREFUSED 127.0.0.1:1");
});

test("http: its own timeout and the caller's abort both end a hung request promptly", async () => {
  const start = Date.now();
  expectOutcome(await run(httpCheck({ url: `${base}/slow` }, { timeoutMs: 500 })), "unhealthy", "timed out after 500 ms");
  assert.ok(Date.now() - start < 1500, `took ${Date.now() - start} ms`);
  await assertAbortsPromptly(httpCheck({ url: `${base}/slow` }, { timeoutMs: 10_000 }));
});

test("https: self-signed certificate valid for 3 days", async () => {
  const o = await run(httpCheck({ url: `${tlsBase}/`, tls_skip_verify: true }));
  expectOutcome(o, "degraded", /^certificate expires in [\d.]+ days \(warning under 14 days\); 200 OK in \d+ ms$/);
  const days = metric(o, "vigil.check.http.cert_expiry_days") ?? 0;
  assert.ok(days > 2.9 && days <= 3.001, `cert_expiry_days ${days}`);
  assert.equal((await run(httpCheck({ url: `${tlsBase}/`, tls_skip_verify: true, cert_expiry_warning: "1d" }))).status, "healthy");
  expectOutcome(await run(httpCheck({ url: `${tlsBase}/` })), "unhealthy", /^certificate verification failed: self[- ]signed certificate \(127\.0\.0\.1:\d+\)$/);
});

test("tcp: open port healthy, closed port unhealthy", async () => {
  const open = await run(createTcpCheck(common("tcp"), tcpCheckSchema.parse({ kind: "tcp", address: `127.0.0.1:${silentPort}` })));
  expectOutcome(open, "healthy", new RegExp(`^connected to 127\\.0\\.0\\.1:${silentPort} in \\d+ ms$`));
  assert.ok((metric(open, "vigil.check.tcp.latency") ?? -1) >= 0);
  expectOutcome(await run(createTcpCheck(common("tcp"), tcpCheckSchema.parse({ kind: "tcp", address: "127.0.0.1:1" }))), "unhealthy", "connect ECONNREFUSED 127.0.0.1:1");
});

test("postgres and redis: a server that never answers times out, and abort closes the connection", async () => {
  for (const url of [`postgres://u:${SECRET}@127.0.0.1:${silentPort}/db`, `redis://127.0.0.1:${silentPort}`]) {
    const make = (timeoutMs: number) => (url.startsWith("redis") ? redisCheck({ url }, { timeoutMs }) : pgCheck({ url }, { timeoutMs }));
    const start = Date.now();
    expectOutcome(await run(make(500)), "unhealthy", `timed out after 500 ms connecting to 127.0.0.1:${silentPort}`);
    assert.ok(Date.now() - start < 1500, `took ${Date.now() - start} ms`);
    await assertAbortsPromptly(make(10_000));
  }
});

test("postgres: healthy with connection metrics; warnings; failures say which and hide the password", { skip: !DATABASE_URL && "DATABASE_URL not set" }, async () => {
  const url = new URL(DATABASE_URL ?? "");
  const ref = new pg.Client({ connectionString: url.toString() });
  await ref.connect();
  const { rows } = await ref.query<{ max: number; rec: boolean }>("SELECT current_setting('max_connections')::int AS max, pg_is_in_recovery() AS rec");
  await ref.end();
  const o = await run(pgCheck({ url: url.toString() }));
  expectOutcome(o, "healthy", /^SELECT 1 in \d+ ms; \d+\/\d+ connections; primary$/);
  assert.equal(metric(o, "vigil.check.postgres.max_connections"), rows[0]?.max);
  const conns = metric(o, "vigil.check.postgres.connections") ?? 0;
  assert.ok(conns >= 1 && conns <= (rows[0]?.max ?? 0), `connections ${conns}`);
  assert.equal(metric(o, "vigil.check.postgres.replication_lag") === undefined, rows[0]?.rec === false);
  const busy = await run(pgCheck({ url: url.toString(), connections_warning: 1 / (rows[0]?.max ?? 100) }));
  expectOutcome(busy, "degraded", /^\d+\/\d+ connections \(\d+%, warning at 1%\); SELECT 1/);
  expectOutcome(await run(pgCheck({ url: `postgres://postgres:${SECRET}@127.0.0.1:1/test` })), "unhealthy", "connection refused at 127.0.0.1:1");
  const inUrl = new URL(url);
  inUrl.password = SECRET;
  inUrl.pathname = "/vigil_no_such_db";
  expectOutcome(await run(pgCheck({ url: inUrl.toString() })), "unhealthy", /^database "vigil_no_such_db" does not exist \(postgres:\/\/[^:@]+@[^)]+\/vigil_no_such_db\)$/);
  process.env.VIGIL_TEST_PG_PASSWORD = SECRET;
  inUrl.username = "vigil_no_such_role";
  expectOutcome(await run(pgCheck({ url: inUrl.toString(), password_env: "VIGIL_TEST_PG_PASSWORD" })), "unhealthy", /^role "vigil_no_such_role" does not exist/);
  expectOutcome(await run(pgCheck({ url: url.toString(), password_env: "VIGIL_TEST_UNSET_VAR" })), "unhealthy", "password_env VIGIL_TEST_UNSET_VAR is not set");
});

test("redis: healthy with memory and client metrics and a write/read round trip; bad credentials; refused", { skip: !REDIS_URL && "REDIS_URL not set" }, async () => {
  const url = new URL(REDIS_URL ?? "");
  const ref = new Redis(url.toString(), { lazyConnect: true });
  await ref.connect();
  try {
    await ref.del("vigil:check:t-redis");
    const o = await run(redisCheck({ url: url.toString() }));
    expectOutcome(o, "healthy", /^PONG in \d+ ms; write\/read ok; memory [\d.]+ \w+(, no maxmemory| of .*); \d+ connected clients$/);
    assert.ok((metric(o, "vigil.check.redis.used_memory") ?? 0) > 0);
    assert.equal(metric(o, "vigil.check.redis.maxmemory"), Number(((await ref.config("GET", "maxmemory")) as string[])[1]));
    assert.ok((metric(o, "vigil.check.redis.connected_clients") ?? 0) >= 1);
    const pttl = await ref.pttl("vigil:check:t-redis");
    assert.ok(pttl > 0 && pttl <= 60_000, `the check's key expires (pttl ${pttl})`);
    assert.match((await run(redisCheck({ url: url.toString(), write_check: false }))).message, /write\/read skipped/);
  } finally {
    ref.disconnect();
  }
  const file = join(dir, "redis.pw");
  writeFileSync(file, `${SECRET}\n`);
  url.username = "vigil-no-such-user";
  expectOutcome(await run(redisCheck({ url: url.toString(), password_file: file })), "unhealthy", /^WRONGPASS .*\(redis:\/\/vigil-no-such-user@[^)]+\)$/);
  expectOutcome(await run(redisCheck({ url: "redis://127.0.0.1:1" })), "unhealthy", "connection refused at 127.0.0.1:1");
});
