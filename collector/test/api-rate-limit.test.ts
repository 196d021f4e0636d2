// Rate limits of the HTTP API (README "Rate limits"): N calls in a window pass, call N+1 gets one 429 with
// Retry-After; per API key, and per address for calls without a valid key (a key-guessing run is slowed before its
// 401s); probes are never limited; the window is the collector's clock. Counters in Redis hold across collectors, and
// an unreachable Redis lets calls through. Over the in-process store (fake ports), and a real collector on PGlite.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { Redis } from "ioredis";
import { ManualClock, systemClock } from "@vigil/shared";
import { REDIS_NAMESPACE } from "../src/api/rate-limit.js";
import { ClockWindowStore } from "../src/api/rate-limit-store.js";
import { parseCollectorCommand } from "../src/config.js";
import { startCollector, type CollectorService } from "../src/service.js";
import { openStorage } from "../src/storage/open.js";
import { testApi } from "./support/fake-api.js";

const quiet = pino({ level: "silent" });
const CI = process.env.CI === "true";
const REDIS_URL = process.env.REDIS_URL || (CI ? "redis://127.0.0.1:6379" : undefined);

async function eventually(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), "the audit log holds the refused call");
}

const code = (body: string) => (JSON.parse(body) as { error?: { code?: string; message?: string } }).error ?? {};

describe("rate limits over the in-process store", () => {
  test("N calls pass with their remaining count, call N+1 gets 429 with Retry-After; the window ends on the clock", async () => {
    const api = await testApi(undefined, undefined, undefined, { max: 3, anonymousMax: 1, windowMs: 60_000 });
    try {
      for (let i = 0; i < 3; i++) {
        const r = await api.app.inject({ method: "GET", url: "/api/v1/storage" });
        assert.equal(r.statusCode, 200, r.body);
        assert.equal(r.headers["x-ratelimit-limit"], "3");
        assert.equal(r.headers["x-ratelimit-remaining"], String(2 - i));
      }
      api.clock.advance(20_000);
      const over = await api.app.inject({ method: "GET", url: "/api/v1/storage" });
      assert.equal(over.statusCode, 429);
      assert.equal(code(over.body).code, "VGL_ERR_RATE_LIMITED");
      assert.match(code(over.body).message ?? "", /more than 3 calls in 1m .*retry after 40 s \(api\.rate_limit\)/);
      assert.equal(over.headers["retry-after"], "40");
      assert.equal(api.rateLimitStats.limited, 1);
      // A mutating call over the limit is refused before it acts, and recorded as refused.
      const post = await api.app.inject({ method: "POST", url: "/api/v1/silences", payload: { matchers: { host: "a" }, duration: "1h" } });
      assert.equal(post.statusCode, 429);
      await eventually(() => api.audit.some((e) => e.action === "POST /api/v1/silences" && e.status === 429 && e.outcome === "refused"));
      api.clock.advance(40_000);
      assert.equal((await api.app.inject({ method: "GET", url: "/api/v1/storage" })).statusCode, 200, "a new window");
    } finally {
      await api.app.close();
    }
  });

  test("probes and the API document are never limited; addresses are counted apart", async () => {
    const api = await testApi(undefined, undefined, undefined, { max: 1, anonymousMax: 1, windowMs: 60_000 });
    try {
      for (let i = 0; i < 5; i++) {
        for (const url of ["/healthz", "/readyz", "/metrics", "/openapi.json"]) {
          const r = await api.app.inject({ method: "GET", url });
          assert.equal(r.statusCode, 200, `${url}: ${r.body}`);
          assert.equal(r.headers["x-ratelimit-limit"], undefined, url);
        }
      }
      assert.equal((await api.app.inject({ method: "GET", url: "/api/v1/storage", remoteAddress: "10.0.0.1" })).statusCode, 200);
      assert.equal((await api.app.inject({ method: "GET", url: "/api/v1/storage", remoteAddress: "10.0.0.1" })).statusCode, 429);
      assert.equal((await api.app.inject({ method: "GET", url: "/api/v1/storage", remoteAddress: "10.0.0.2" })).statusCode, 200);
    } finally {
      await api.app.close();
    }
  });

  test("the store forgets the caller seen least recently past its bound", () => {
    const clock = new ManualClock(0);
    const store = new ClockWindowStore(clock, 3);
    const counts: number[] = [];
    const incr = (k: string) => store.incr(k, (_e, r) => counts.push(r!.current), 60_000);
    for (const k of ["a", "b", "a", "c", "d", "a", "b"]) incr(k);
    assert.equal(store.size, 3);
    // "b" was forgotten when "d" came (a, c and d were seen after it), so it starts again at 1.
    assert.deepEqual(counts, [1, 1, 2, 1, 1, 3, 1]);
  });
});

describe("rate limits on a collector with API keys (PGlite)", () => {
  let dir: string;
  let svc: CollectorService;
  const keys: Record<string, string> = {};

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "vigil-ratelimit-"));
    const env = { VIGIL_API_RATE_LIMIT_MAX: "4", VIGIL_API_RATE_LIMIT_ANONYMOUS_MAX: "2" };
    const config = parseCollectorCommand(["--data-dir", dir, "--http-listen", "127.0.0.1:0", "--grpc-listen", "127.0.0.1:0"], env).load();
    const storage = await openStorage(config, quiet, systemClock);
    try {
      for (const name of ["ann", "bob"]) keys[name] = (await storage.apiKeys.create({ name, role: "viewer", expiresAtMs: null, createdBy: "test" })).key;
    } finally {
      await storage.close();
    }
    svc = await startCollector({ config, log: quiet });
  });
  after(async () => {
    await svc?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (key?: string) => fetch(`${svc.httpUrl}/api/v1/rules`, { headers: key ? { authorization: `Bearer ${key}` } : {} });

  test("a key-guessing run gets 401s up to the per-address limit, then 429 before any key is checked", async () => {
    const bad = `${keys.ann!.slice(0, -4)}AAAA`;
    assert.equal((await get(bad)).status, 401);
    assert.equal((await get()).status, 401);
    const r = await get(bad);
    assert.equal(r.status, 429);
    assert.ok(Number(r.headers.get("retry-after")) > 0);
    assert.match(code(await r.text()).message ?? "", /from 127\.0\.0\.1 without a valid key/);
  });

  test("each key has its own count, apart from the address's", async () => {
    for (let i = 0; i < 4; i++) assert.equal((await get(keys.ann)).status, 200);
    const r = await get(keys.ann);
    assert.equal(r.status, 429);
    assert.match(code(await r.text()).message ?? "", /more than 4 calls in 1m with the key "ann"/);
    assert.equal((await get(keys.bob)).status, 200, "another key is not limited by ann's calls");
    const metrics = await (await fetch(`${svc.httpUrl}/metrics`)).text();
    assert.match(metrics, /^vigil_collector_api_rate_limited_total 2$/m);
  });
});

describe("rate limits in Redis, shared by two collectors", { skip: !REDIS_URL && "REDIS_URL not set" }, () => {
  const started: { svc: CollectorService; dir: string }[] = [];
  let redis: Redis;

  async function collector(redisUrl: string, max: string): Promise<CollectorService> {
    const dir = mkdtempSync(join(tmpdir(), "vigil-ratelimit-redis-"));
    // No key exists: access is open on loopback, and calls are counted by address, max per window.
    const env = { REDIS_URL: redisUrl, VIGIL_API_RATE_LIMIT_MAX: max };
    const config = parseCollectorCommand(["--data-dir", dir, "--http-listen", "127.0.0.1:0", "--grpc-listen", "127.0.0.1:0"], env).load();
    const svc = await startCollector({ config, log: quiet });
    started.push({ svc, dir });
    return svc;
  }

  before(async () => {
    redis = new Redis(REDIS_URL!);
    await redis.del(`${REDIS_NAMESPACE}addr:127.0.0.1`);
  });
  after(async () => {
    for (const s of started) {
      await s.svc.stop();
      rmSync(s.dir, { recursive: true, force: true });
    }
    await redis.del(`${REDIS_NAMESPACE}addr:127.0.0.1`);
    redis.disconnect();
  });

  test("N calls spread over two collectors pass, call N+1 gets 429 with Retry-After", async () => {
    const a = await collector(REDIS_URL!, "5");
    const b = await collector(REDIS_URL!, "5");
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 6; i++) {
      const r = await fetch(`${(i % 2 ? b : a).httpUrl}/api/v1/rules`);
      statuses.push(r.status);
      if (r.status === 429) retryAfter = r.headers.get("retry-after");
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
    assert.ok(Number(retryAfter) > 0 && Number(retryAfter) <= 60, `Retry-After ${retryAfter}`);
    const ttl = await redis.pttl(`${REDIS_NAMESPACE}addr:127.0.0.1`);
    assert.ok(ttl > 0 && ttl <= 60_000, `the counter expires with its window (${ttl} ms)`);
  });

  test("with Redis unreachable, calls go through and the errors are counted", async () => {
    const port = await closedPort();
    const c = await collector(`redis://127.0.0.1:${port}`, "1");
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`${c.httpUrl}/api/v1/rules`)).status, 200);
    const metrics = await (await fetch(`${c.httpUrl}/metrics`)).text();
    const errors = Number(/^vigil_collector_redis_errors_total (\d+)$/m.exec(metrics)?.[1]);
    assert.ok(errors >= 1, `redis errors counted: ${errors}`);
  });
});

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((ok) => srv.listen(0, "127.0.0.1", ok));
  const port = (srv.address() as { port: number }).port;
  await new Promise((ok) => srv.close(ok));
  return port;
}
