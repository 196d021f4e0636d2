// Host moves over Redis pub/sub (cluster/host-moves.ts): another collector of the same cluster hears an announcement,
// the announcer and other clusters do not; malformed or oversized messages are ignored.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import pino from "pino";
import { Redis } from "ioredis";
import { HostMoves, parseMove } from "../src/cluster/host-moves.js";
import { ClusterSubscriber } from "../src/cluster/subscriber.js";

const REDIS_URL = process.env.REDIS_URL || (process.env.CI === "true" ? "redis://127.0.0.1:6379" : undefined);
const log = pino({ level: "silent" });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("parseMove takes a host and a collector, nothing else", () => {
  assert.deepEqual(parseMove('{"host":"web-1","by":"c1"}'), { host: "web-1", by: "c1" });
  for (const bad of ["", "nope", "null", "[]", '{"host":1,"by":"c"}', '{"host":"","by":"c"}', '{"host":"h"}', `{"host":"${"h".repeat(300)}","by":"c"}`, `{"host":"h","by":"${"c".repeat(600)}"}`]) {
    assert.equal(parseMove(bad), null, bad);
  }
});

describe("host moves over Redis", { skip: REDIS_URL ? false : "REDIS_URL not set" }, () => {
  test("the other collectors of the cluster hear it; the announcer and another cluster do not", async () => {
    const cluster = randomUUID().replaceAll("-", "");
    const redis = new Redis(REDIS_URL!);
    const heard: Record<string, string[]> = { a: [], b: [], other: [] };
    const subscribers: ClusterSubscriber[] = [];
    const make = (name: string, c: string) => {
      const subscriber = new ClusterSubscriber(redis, log);
      subscribers.push(subscriber);
      return new HostMoves({ redis, subscriber, cluster: c, collectorId: name, log, onMovedAway: (h) => void heard[name]!.push(h) });
    };
    const a = make("a", cluster);
    const b = make("b", cluster);
    const other = make("other", `${cluster}x`);
    try {
      for (const m of [a, b, other]) m.start();
      await sleep(300);
      a.announce("web-1");
      await redis.publish(`vigil:hosts:${cluster}`, "not json");
      b.announce("db-1");
      await sleep(300);
      assert.deepEqual(heard, { a: ["db-1"], b: ["web-1"], other: [] });
    } finally {
      for (const s of subscribers) s.stop();
      redis.disconnect();
    }
  });
});
