// Alert state follows a host's stream (rules/host-streams.ts): taken over (and announced) when the first stream opens,
// let go when another collector took the host and no stream of it is open here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { HostStreamFollower } from "../src/rules/host-streams.js";

function follower() {
  const calls: string[] = [];
  const f = new HostStreamFollower(
    { takeHost: async (h) => void calls.push(`take ${h}`), releaseHost: (h) => void calls.push(`release ${h}`) },
    (h) => void calls.push(`announce ${h}`),
  );
  return { f, calls };
}

test("the first stream takes the host over and announces it; overlapping streams change nothing", async () => {
  const { f, calls } = follower();
  await f.opened("web-1");
  await f.opened("web-1");
  await f.opened("db-1");
  f.closed("web-1");
  assert.deepEqual(calls, ["take web-1", "announce web-1", "take db-1", "announce db-1"]);
  assert.equal(f.size, 2);
  f.closed("web-1");
  assert.equal(f.size, 1);
});

test("another collector taking the host releases it here only when no stream of it is open here", async () => {
  const { f, calls } = follower();
  await f.opened("web-1");
  f.movedAway("web-1");
  assert.deepEqual(calls, ["take web-1", "announce web-1"], "it streams here: the announcement is stale");
  f.closed("web-1");
  f.movedAway("web-1");
  assert.deepEqual(calls, ["take web-1", "announce web-1", "release web-1"]);
});

test("a close without an open is ignored, and a host never seen here is released harmlessly", () => {
  const { f, calls } = follower();
  f.closed("ghost");
  f.movedAway("ghost");
  assert.deepEqual(calls, ["release ghost"]);
  assert.equal(f.size, 0);
});
