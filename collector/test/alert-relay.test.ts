// Alert commands between collectors over Redis pub/sub (cluster/alert-relay.ts): the collector holding an alert
// applies a command another one forwards and answers it; failures cross with their code; with no holder the asker
// gets null after its timeout; other clusters and malformed messages are ignored.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import pino from "pino";
import { Redis } from "ioredis";
import { parseReply, parseRequest, RedisAlertRelay } from "../src/cluster/alert-relay.js";
import { ClusterSubscriber } from "../src/cluster/subscriber.js";
import type { AlertCommand, AlertCommandOutcome } from "../src/rules/ports.js";

const REDIS_URL = process.env.REDIS_URL || (process.env.CI === "true" ? "redis://127.0.0.1:6379" : undefined);
const log = pino({ level: "silent" });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("relay messages: only well-formed, bounded commands and replies are taken", () => {
  const cmd = { op: "acknowledge", id: "a1", by: "ops", comment: "on it" };
  assert.deepEqual(parseRequest(JSON.stringify({ req: "r1", from: "c1", cmd })), { req: "r1", from: "c1", cmd });
  assert.deepEqual(parseReply('{"req":"r1","outcome":{"ok":false,"code":"VGL_ERR_CONFLICT","message":"resolved"}}'), {
    req: "r1",
    outcome: { ok: false, code: "VGL_ERR_CONFLICT", message: "resolved" },
  });
  for (const bad of [
    "",
    "not json",
    "null",
    JSON.stringify({ req: "r1", from: "c1", cmd: { ...cmd, op: "delete" } }),
    JSON.stringify({ req: "r1", from: "c1", cmd: { ...cmd, comment: "x".repeat(1001) } }),
    JSON.stringify({ req: "r1", from: "c1", cmd: { op: "resolve", id: "", by: "ops" } }),
    JSON.stringify({ req: "r1", cmd }),
    JSON.stringify({ req: "r1", from: "c1", cmd, pad: "x".repeat(9000) }),
  ]) {
    assert.equal(parseRequest(bad), null, bad.slice(0, 80));
  }
  assert.equal(parseReply('{"req":"r1","outcome":{"ok":"yes"}}'), null);
});

test("with Redis unreachable a forwarded change fails at once, saying why, without its error text", async () => {
  const redis = new Redis({ port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
  const relay = new RedisAlertRelay({ redis, subscriber: new ClusterSubscriber(redis, log), cluster: "c", collectorId: "a", log, serve: async () => null });
  try {
    const started = Date.now();
    const outcome = await relay.forward({ op: "resolve", id: "alert-1", by: "ops" });
    assert.ok(Date.now() - started < 1000, "no wait for a timeout");
    assert.ok(outcome && !outcome.ok);
    assert.equal(outcome.code, "VGL_ERR_ALERT_HOLDER_UNAVAILABLE");
    assert.match(outcome.message, /Redis, through which it is asked, is unreachable; retry/);
  } finally {
    redis.disconnect();
  }
});

describe("alert commands over Redis", { skip: REDIS_URL ? false : "REDIS_URL not set" }, () => {
  test("the holder applies and answers; failures keep their code; nobody holding it is a timeout; other clusters hear nothing", async () => {
    const cluster = randomUUID().replaceAll("-", "");
    const redis = new Redis(REDIS_URL!);
    const served: Record<string, AlertCommand[]> = { a: [], b: [], other: [] };
    const holds: Record<string, Map<string, AlertCommandOutcome>> = {
      a: new Map(),
      b: new Map([["alert-1", { ok: true }], ["alert-2", { ok: false, code: "VGL_ERR_CONFLICT", message: "alert alert-2 is resolved already" }]]),
      other: new Map([["alert-3", { ok: true }]]),
    };
    const subscribers: ClusterSubscriber[] = [];
    const make = (name: string, c: string) => {
      const subscriber = new ClusterSubscriber(redis, log);
      subscribers.push(subscriber);
      const relay = new RedisAlertRelay({
        redis,
        subscriber,
        cluster: c,
        collectorId: name,
        log,
        timeoutMs: 300,
        serve: async (cmd) => {
          const outcome = holds[name]!.get(cmd.id);
          if (outcome) served[name]!.push(cmd);
          return outcome ?? null;
        },
      });
      relay.start();
      return relay;
    };
    const a = make("a", cluster);
    make("b", cluster);
    make("other", `${cluster}x`);
    try {
      await sleep(300);
      const ack: AlertCommand = { op: "acknowledge", id: "alert-1", by: "ops", comment: "looking" };
      assert.deepEqual(await a.forward(ack), { ok: true });
      assert.deepEqual(await a.forward({ op: "resolve", id: "alert-2", by: "ops" }), { ok: false, code: "VGL_ERR_CONFLICT", message: "alert alert-2 is resolved already" });
      // Held only in another cluster: nobody here answers.
      const started = Date.now();
      assert.equal(await a.forward({ op: "resolve", id: "alert-3", by: "ops" }), null);
      assert.ok(Date.now() - started >= 290, "answered null before the timeout");
      await redis.publish(`vigil:alert-commands:${cluster}`, "not json");
      await redis.publish(`vigil:alert-commands:${cluster}`, JSON.stringify({ req: "r", from: "a", cmd: { op: "drop-table", id: "alert-1", by: "x" } }));
      await sleep(200);
      assert.deepEqual(served, { a: [], b: [ack, { op: "resolve", id: "alert-2", by: "ops" }], other: [] });
    } finally {
      for (const s of subscribers) s.stop();
      redis.disconnect();
    }
  });
});
