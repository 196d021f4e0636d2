// GET /api/v1/storage answers the storage figures in their documented shape, measures at most once a minute however
// many requests come (concurrent ones share the measure under way), and a failed measure is an error answer that the
// next request tries again.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { StorageView } from "../src/api/ports.js";
import { NOW, storageView, testApi, type TestApi } from "./support/fake-api.js";

async function getStorage(api: TestApi): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await api.app.inject({ method: "GET", url: "/api/v1/storage" });
  return { status: r.statusCode, body: JSON.parse(r.body) as Record<string, unknown> };
}

test("the figures, in the documented shape", async () => {
  const api = await testApi();
  try {
    const a = await getStorage(api);
    assert.equal(a.status, 200);
    assert.deepEqual(Object.keys(a.body), ["measuredAt", "database", "tiers", "growth", "volume", "daysUntilFull", "daysUntilFullReason"]);
    assert.deepEqual(a.body, { ...storageView(), measuredAt: new Date(NOW).toISOString() });
    const tier = (a.body as unknown as StorageView).tiers[0]!;
    assert.deepEqual(Object.keys(tier), ["tier", "table", "partitions", "bytes", "points", "pointsEstimated", "bytesPerPoint", "oldestPoint", "oldestPointExact"]);
    assert.deepEqual(api.storageStats.reads, [NOW]);
    const post = await api.app.inject({ method: "POST", url: "/api/v1/storage", payload: {} });
    assert.equal(post.statusCode, 405);
  } finally {
    await api.app.close();
  }
});

test("one measure answers for a minute; concurrent requests share one", async () => {
  const api = await testApi();
  try {
    await getStorage(api);
    api.clock.advance(59_999);
    assert.equal((await getStorage(api)).body.measuredAt, new Date(NOW).toISOString());
    assert.equal(api.storageStats.reads.length, 1);
    api.clock.advance(1);
    let open = () => {};
    api.storageStats.gate = new Promise((r) => (open = r));
    const answers = Promise.all([getStorage(api), getStorage(api), getStorage(api)]);
    await new Promise((r) => setTimeout(r, 20));
    open();
    for (const a of await answers) assert.equal(a.body.measuredAt, new Date(NOW + 60_000).toISOString());
    assert.deepEqual(api.storageStats.reads, [NOW, NOW + 60_000]);
  } finally {
    await api.app.close();
  }
});

test("a database that cannot be reached is a 503 the next request retries; other failures a 500 without detail", async () => {
  const api = await testApi();
  try {
    api.storageStats.failure = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
    const down = await getStorage(api);
    assert.equal(down.status, 503);
    assert.equal((down.body.error as { code: string }).code, "VGL_ERR_STORAGE_UNAVAILABLE");
    api.storageStats.failure = new Error('relation "sample_blocks" does not exist');
    const broken = await getStorage(api);
    assert.equal(broken.status, 500);
    assert.equal((broken.body.error as { code: string }).code, "VGL_ERR_INTERNAL");
    assert.ok(!JSON.stringify(broken.body).includes("sample_blocks"));
    api.storageStats.failure = null;
    assert.equal((await getStorage(api)).status, 200);
    assert.equal(api.storageStats.reads.length, 3, "no failure was kept as an answer");
  } finally {
    await api.app.close();
  }
});
