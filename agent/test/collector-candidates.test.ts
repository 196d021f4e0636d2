import { test } from "node:test";
import assert from "node:assert/strict";
import { Backoff, createLogger, type HostPort } from "@vigil/shared";
import { CollectorCandidates, type Candidate, type Resolve } from "../src/transport/collector-candidates.js";

const log = createLogger("test", "silent");

/** A resolver answering from a table the test edits, counting lookups per name. */
function fakeDns(table: Record<string, string[] | Error>) {
  const lookups: string[] = [];
  const resolve: Resolve = async (host) => {
    lookups.push(host);
    const r = table[host];
    if (r === undefined) throw new Error(`ENOTFOUND ${host}`);
    if (r instanceof Error) throw r;
    return r;
  };
  return { table, lookups, resolve };
}

function rotation(targets: HostPort[], resolve: Resolve, roundBackoff = new Backoff({ initialMs: 2000, maxMs: 8000, random: () => 1 })) {
  return new CollectorCandidates({ targets, resolve, backoff: roundBackoff, random: () => 1, log });
}

async function take(c: CollectorCandidates, n: number): Promise<(Candidate | undefined)[]> {
  const out: (Candidate | undefined)[] = [];
  for (let i = 0; i < n; i++) {
    out.push(await c.next());
    c.failed();
  }
  return out;
}

const A = { host: "a.example", port: 4770 };
const IP = { host: "10.0.0.9", port: 4771 };
const V6 = { host: "2001:db8::7", port: 4772 };

test("candidates: every address of a name, then the next entry, round and round; TLS verifies the name", async () => {
  const dns = fakeDns({ "a.example": ["10.0.0.1", "10.0.0.2"] });
  const seen = await take(rotation([A, IP, V6], dns.resolve), 5);
  assert.deepEqual(seen, [
    { address: "10.0.0.1:4770", target: "a.example:4770", serverName: "a.example" },
    { address: "10.0.0.2:4770", target: "a.example:4770", serverName: "a.example" },
    { address: "10.0.0.9:4771", target: "10.0.0.9:4771" },
    { address: "[2001:db8::7]:4772", target: "[2001:db8::7]:4772" },
    { address: "10.0.0.1:4770", target: "a.example:4770", serverName: "a.example" },
  ]);
  assert.deepEqual(dns.lookups, Array(5).fill("a.example"), "the name is resolved again at every attempt; addresses never");
});

test("candidates: DNS changes are followed at the next attempt, keeping the place in the round", async () => {
  const dns = fakeDns({ "a.example": ["10.0.0.1", "10.0.0.2"] });
  const c = rotation([A, IP], dns.resolve);
  assert.equal((await c.next())?.address, "10.0.0.1:4770");
  c.failed();
  dns.table["a.example"] = ["10.0.0.2", "10.0.0.3"]; // .1 gone: .2 now stands where it stood
  assert.equal((await c.next())?.address, "10.0.0.2:4770");
  c.failed();
  assert.equal((await c.next())?.address, "10.0.0.3:4770");
  c.failed();
  dns.table["a.example"] = ["10.0.0.4"];
  assert.equal((await c.next())?.address, "10.0.0.9:4771");
  c.failed();
  assert.equal((await c.next())?.address, "10.0.0.4:4770");
});

test("candidates: a short jittered pause between candidates, the backoff only after a full round of failures", async () => {
  const c = rotation([A, IP], fakeDns({ "a.example": ["10.0.0.1", "10.0.0.2"] }).resolve);
  const delays: number[] = [];
  for (let i = 0; i < 9; i++) {
    await c.next();
    delays.push(c.failed());
  }
  // Rounds of three candidates: two pauses of at most 500 ms, then 2 s, 4 s, 8 s (capped).
  assert.deepEqual(delays, [500, 500, 2000, 500, 500, 4000, 500, 500, 8000]);
  // A Welcome starts the round and the backoff over.
  await c.next();
  c.connected();
  delays.length = 0;
  for (let i = 0; i < 3; i++) {
    await c.next();
    delays.push(c.failed());
  }
  assert.deepEqual(delays, [500, 500, 2000]);
});

test("candidates: after a broken stream the agent moves on to the next candidate, not back to the first", async () => {
  const c = rotation([A, IP], fakeDns({ "a.example": ["10.0.0.1"] }).resolve);
  assert.equal((await c.next())?.address, "10.0.0.1:4770");
  assert.equal(c.failed(), 500);
  assert.equal((await c.next())?.address, "10.0.0.9:4771");
  c.connected();
  assert.equal(c.failed(), 500, "the stream broke: a pause, not the backoff");
  assert.equal((await c.next())?.address, "10.0.0.1:4770");
});

test("candidates: a name that does not resolve is skipped; none at all is a failed round", async () => {
  const dns = fakeDns({ "a.example": new Error("SERVFAIL") });
  const c = rotation([A, IP], dns.resolve);
  assert.equal((await c.next())?.address, "10.0.0.9:4771");
  assert.equal(c.failed(), 2000, "the one candidate left is a whole round");
  const none = rotation([A, { host: "b.example", port: 1 }], dns.resolve);
  assert.equal(await none.next(), undefined);
  assert.equal(none.failed(), 2000);
  dns.table["a.example"] = ["10.0.0.1"];
  assert.equal((await none.next())?.address, "10.0.0.1:4770", "it resolves again at the next attempt");
});

test("candidates: hostile resolver answers are bounded and filtered", async () => {
  const many = Array.from({ length: 1000 }, (_, i) => `10.1.${i >> 8}.${i & 255}`);
  const dns = fakeDns({ "a.example": ["not an address", "", ...many, "::ffff:10.0.0.1"] });
  const c = rotation([A], dns.resolve);
  const seen = new Set<string>();
  for (let i = 0; i < 40; i++) {
    const x = await c.next();
    assert.ok(x && /^10\.1\.0\.\d+:4770$/.test(x.address), `a real address from the answer: ${x?.address}`);
    seen.add(x.address);
    c.failed();
  }
  assert.equal(seen.size, 16, "at most 16 addresses of one name");
  const empty = rotation([A], fakeDns({ "a.example": [] }).resolve);
  assert.equal(await empty.next(), undefined);
});

test("candidates: an absolute name (trailing dot) is verified as the name without it", async () => {
  const c = rotation([{ host: "a.example.", port: 4770 }], fakeDns({ "a.example.": ["10.0.0.1"] }).resolve);
  assert.deepEqual(await c.next(), { address: "10.0.0.1:4770", target: "a.example.:4770", serverName: "a.example" });
});
