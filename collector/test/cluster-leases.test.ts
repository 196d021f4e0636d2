// Leases (cluster/): the store contract — one holder at a time, fencing numbers that only grow, renew and release
// only by the holder, expiry after the TTL — held by the Redis store (real Redis, skipped without one) and by the
// in-process store on a ManualClock, with the same cases.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { ManualClock } from "@vigil/shared";
import { LocalLeaseStore } from "../src/cluster/local-leases.js";
import type { LeaseStore } from "../src/cluster/ports.js";
import { RedisLeaseStore } from "../src/cluster/redis-leases.js";

const CI = process.env.CI === "true";
const REDIS_URL = process.env.REDIS_URL || (CI ? "redis://127.0.0.1:6379" : undefined);

/** What the contract cases need of a store under test. */
interface Subject {
  /** Two views of the same leases (two collectors for Redis). */
  stores: [LeaseStore, LeaseStore];
  /** Lets `ms` pass for the store. */
  wait(ms: number): Promise<void>;
  /** A lease name no other test uses. */
  name(): string;
}

const TTL = 1_000;

function leaseContract(subject: () => Subject): void {
  test("only one holder acquires; a held lease is not acquired again, even by its holder", async () => {
    const { stores: [a, b], name } = subject();
    const n = name();
    const f = await a.acquire(n, "h1", TTL);
    assert.equal(typeof f, "number");
    assert.equal(await b.acquire(n, "h2", TTL), null);
    assert.equal(await a.acquire(n, "h1", TTL), null);
  });

  test("fencing numbers strictly increase across acquisitions", async () => {
    const { stores: [a, b], name } = subject();
    const n = name();
    const fences: number[] = [];
    for (const [store, holder] of [[a, "h1"], [b, "h2"], [a, "h1"]] as const) {
      const f = await store.acquire(n, holder, TTL);
      assert.notEqual(f, null);
      fences.push(f!);
      await store.release(n, holder);
    }
    assert.ok(fences[0]! < fences[1]! && fences[1]! < fences[2]!, `fences ${fences.join(", ")}`);
  });

  test("renew by the holder extends; by another returns false and does not extend", async () => {
    const { stores: [a, b], wait, name } = subject();
    const n = name();
    assert.notEqual(await a.acquire(n, "h1", TTL), null);
    await wait(600);
    assert.equal(await a.renew(n, "h1", TTL), true);
    await wait(600);
    assert.equal(await b.acquire(n, "h2", TTL), null, "renewed: still held past the first TTL");
    assert.equal(await b.renew(n, "h2", 10_000), false);
    await wait(500);
    const f = await b.acquire(n, "h2", TTL);
    assert.notEqual(f, null, "the other's renew did not extend the lease");
  });

  test("release by another holder does not delete the lease", async () => {
    const { stores: [a, b], name } = subject();
    const n = name();
    assert.notEqual(await a.acquire(n, "h1", TTL), null);
    await b.release(n, "h2");
    assert.equal(await b.acquire(n, "h2", TTL), null);
    assert.equal(await a.renew(n, "h1", TTL), true);
  });

  test("the lease expires after its TTL; another holder then gets a larger fence", async () => {
    const { stores: [a, b], wait, name } = subject();
    const n = name();
    const first = await a.acquire(n, "h1", TTL);
    assert.notEqual(first, null);
    await wait(TTL + 100);
    assert.equal(await a.renew(n, "h1", TTL), false, "expired: the old holder cannot renew");
    const second = await b.acquire(n, "h2", TTL);
    assert.ok(second !== null && second > first!, `fence ${second} after ${first}`);
    await a.release(n, "h1");
    assert.equal(await a.acquire(n, "h1", TTL), null, "the old holder's release left the new holder's lease alone");
  });

  test("bad names, holders and TTLs are refused", async () => {
    const { stores: [a], name } = subject();
    const n = name();
    for (const bad of ["", "Upper", "with space", "a/b", "x".repeat(65)]) {
      await assert.rejects(a.acquire(bad, "h1", TTL), RangeError, JSON.stringify(bad));
    }
    await assert.rejects(a.acquire(n, "", TTL), RangeError);
    for (const ttl of [999, 600_001, 1_500.5, Number.NaN]) {
      await assert.rejects(a.acquire(n, "h1", ttl), RangeError, String(ttl));
      await assert.rejects(a.renew(n, "h1", ttl), RangeError, String(ttl));
    }
    await assert.rejects(a.release("Bad", "h1"), RangeError);
  });
}

const suffix = () => randomBytes(6).toString("hex");

describe("RedisLeaseStore (real Redis)", { skip: !REDIS_URL && "REDIS_URL not set" }, () => {
  const conns: Redis[] = [];
  const names: string[] = [];
  const connect = () => {
    const r = new Redis(REDIS_URL!);
    conns.push(r);
    return r;
  };
  let stores: [LeaseStore, LeaseStore] | undefined;
  after(async () => {
    if (names.length > 0) await conns[0]!.del(...names.flatMap((n) => [`vigil:lease:${n}`, `vigil:fence:${n}`]));
    for (const c of conns) c.disconnect();
  });

  leaseContract(() => {
    stores ??= [new RedisLeaseStore(connect()), new RedisLeaseStore(connect())];
    return {
      stores,
      wait: (ms) => new Promise((ok) => setTimeout(ok, ms)),
      name: () => {
        const n = `test:lease-${suffix()}`;
        names.push(n);
        return n;
      },
    };
  });

  test("the lease's key holds the holder and expires with the TTL; the fence counter does not expire", async () => {
    const redis = connect();
    const n = `test:lease-${suffix()}`;
    names.push(n);
    const f = await new RedisLeaseStore(redis).acquire(n, "h1", TTL);
    assert.equal(await redis.get(`vigil:lease:${n}`), "h1");
    const ttl = await redis.pttl(`vigil:lease:${n}`);
    assert.ok(ttl > 0 && ttl <= TTL, `pttl ${ttl}`);
    assert.equal(Number(await redis.get(`vigil:fence:${n}`)), f);
    assert.equal(await redis.pttl(`vigil:fence:${n}`), -1);
  });
});

describe("LocalLeaseStore (ManualClock)", () => {
  leaseContract(() => {
    const clock = new ManualClock(1_000_000);
    const store = new LocalLeaseStore(clock);
    return {
      stores: [store, store],
      wait: async (ms) => clock.advance(ms),
      name: () => `test:lease-${suffix()}`,
    };
  });

  test("past its bound of live leases it refuses a new one; expired leases make room", async () => {
    const clock = new ManualClock(0);
    const store = new LocalLeaseStore(clock, 2);
    assert.notEqual(await store.acquire("a", "h", TTL), null);
    assert.notEqual(await store.acquire("b", "h", TTL), null);
    await assert.rejects(store.acquire("c", "h", TTL), /more than 2 leases/);
    clock.advance(TTL);
    assert.notEqual(await store.acquire("c", "h", TTL), null);
    assert.notEqual(await store.acquire("d", "h", TTL), null);
  });
});
