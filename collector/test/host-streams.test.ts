// Alert state follows a host's stream (rules/host-streams.ts): taken over when the first stream opens, let go a grace
// period after the last one ends, and kept when the host comes back within it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { HostStreamFollower } from "../src/rules/host-streams.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function follower(graceMs: number) {
  const calls: string[] = [];
  const f = new HostStreamFollower({ takeHost: async (h) => void calls.push(`take ${h}`), releaseHost: (h) => void calls.push(`release ${h}`) }, graceMs);
  return { f, calls };
}

test("the first stream takes the host over; overlapping streams change nothing; the last one's end releases it after the grace", async () => {
  const { f, calls } = follower(30);
  await f.opened("web-1");
  await f.opened("web-1");
  await f.opened("db-1");
  f.closed("web-1");
  await sleep(60);
  assert.deepEqual(calls, ["take web-1", "take db-1"], "one stream of web-1 is still open");
  f.closed("web-1");
  assert.deepEqual(calls, ["take web-1", "take db-1"], "released only after the grace");
  await sleep(60);
  assert.deepEqual(calls, ["take web-1", "take db-1", "release web-1"]);
  assert.equal(f.size, 1);
  f.stop();
});

test("a host back within the grace keeps its state: neither released nor taken again", async () => {
  const { f, calls } = follower(40);
  await f.opened("web-1");
  f.closed("web-1");
  await sleep(10);
  await f.opened("web-1");
  await sleep(60);
  assert.deepEqual(calls, ["take web-1"]);
  f.closed("web-1");
  f.stop();
  await sleep(60);
  assert.deepEqual(calls, ["take web-1"], "stop cancels pending releases");
});

test("a close without an open is ignored", () => {
  const { f, calls } = follower(10);
  f.closed("ghost");
  assert.deepEqual(calls, []);
  assert.equal(f.size, 0);
});
