// Rate limits end to end, with the shipped binaries: two collectors on one database share their counters in Redis, so
// an API key's N calls spread over both pass and call N+1 gets 429 with Retry-After, wherever it lands.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { Redis } from "ioredis";
import { createTestDatabase, serverUrl, type TestDatabase } from "./support/postgres.js";
import { COLLECTOR_BIN, startCollector, type CollectorProc } from "./support/processes.js";

const REDIS_URL = process.env.REDIS_URL || (process.env.CI === "true" ? "redis://127.0.0.1:6379" : undefined);
const skip = !REDIS_URL ? "REDIS_URL not set" : !serverUrl() ? "two collectors share a database: needs DATABASE_URL" : false;

describe("rate limits across two collectors sharing Redis", { skip }, () => {
  let db: TestDatabase;
  const collectors: CollectorProc[] = [];
  let key: string;
  let keyId: string;

  before(async () => {
    db = await createTestDatabase();
    const made = spawnSync(process.execPath, [COLLECTOR_BIN, "apikey", "create", "--name", "ci-script", "--role", "viewer"], {
      env: { ...process.env, DATABASE_URL: db.url },
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(made.status, 0, made.stderr);
    key = made.stdout.trim();
    keyId = /^vgk_([0-9a-f]{12})_/.exec(key)![1]!;
    const env = { REDIS_URL: REDIS_URL!, VIGIL_API_RATE_LIMIT_MAX: "6", VIGIL_API_RATE_LIMIT_ANONYMOUS_MAX: "100" };
    for (let i = 0; i < 2; i++) collectors.push(await startCollector({ databaseUrl: db.url, auth: true, rateLimits: true, env }));
  });
  after(async () => {
    for (const c of collectors) await c.kill();
    const redis = new Redis(REDIS_URL!);
    await redis.del(`vigil:rate-limit:key:${keyId}`);
    redis.disconnect();
    await db?.drop();
  });

  test("N calls spread over both pass, call N+1 gets 429 with Retry-After", async () => {
    const answers: { status: number; retryAfter: string | null; code?: string }[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await fetch(`${collectors[i % 2]!.httpUrl}/api/v1/hosts`, { headers: { authorization: `Bearer ${key}` } });
      const body = (await r.json()) as { error?: { code: string } };
      answers.push({ status: r.status, retryAfter: r.headers.get("retry-after"), code: body.error?.code });
    }
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200, 200, 200, 429]);
    assert.equal(answers[6]!.code, "VGL_ERR_RATE_LIMITED");
    assert.ok(Number(answers[6]!.retryAfter) > 0 && Number(answers[6]!.retryAfter) <= 60, `Retry-After ${answers[6]!.retryAfter}`);
    const metrics = await (await fetch(`${collectors[0]!.httpUrl}/metrics`)).text();
    assert.match(metrics, /^vigil_collector_api_rate_limited_total 1$/m);
  });
});
