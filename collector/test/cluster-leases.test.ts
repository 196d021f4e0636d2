// Leases (cluster/): the store contract — one holder at a time, fencing numbers that only grow, renew and release
// only by the holder, expiry after the TTL — held by the Redis store (real Redis, skipped without one) and by the
// in-process store on a ManualClock, with the same cases. Then the keeper that holds one lease for a collector: it
// stops trusting the lease at once when a renew is refused, and by validUntil when the store cannot be reached.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import pino from "pino";
import { Registry } from "prom-client";
import { ManualClock, systemClock, type Clock } from "@vigil/shared";
import { LeaseKeeper, newLeaseStats, type LeaseStats } from "../src/cluster/lease-keeper.js";
import { LocalLeaseStore } from "../src/cluster/local-leases.js";
import type { LeaseStore } from "../src/cluster/ports.js";
import { RedisLeaseStore } from "../src/cluster/redis-leases.js";
import { registerLeaseMetrics } from "../src/telemetry/lease-metrics.js";

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

  test("a raised fence counter makes the next fencing number larger than the raise; it never lowers", async () => {
    const { stores: [a, b], name } = subject();
    const n = name();
    const first = await a.acquire(n, "h1", TTL);
    await a.release(n, "h1");
    await b.raiseFence(n, first! + 1000);
    const raised = await a.acquire(n, "h1", TTL);
    assert.ok(raised! > first! + 1000, `fence ${raised} after raising to ${first! + 1000}`);
    await a.release(n, "h1");
    await b.raiseFence(n, 1);
    const after = await a.acquire(n, "h1", TTL);
    assert.ok(after! > raised!, "a lower raise changed nothing");
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
    if (names.length > 0) await conns[0]!.del(...names.flatMap((n) => [`vigil:lease:test:${n}`, `vigil:fence:test:${n}`]));
    for (const c of conns) c.disconnect();
  });

  leaseContract(() => {
    stores ??= [new RedisLeaseStore(connect(), "test"), new RedisLeaseStore(connect(), "test")];
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
    const f = await new RedisLeaseStore(redis, "test").acquire(n, "h1", TTL);
    assert.equal(await redis.get(`vigil:lease:test:${n}`), "h1");
    const ttl = await redis.pttl(`vigil:lease:test:${n}`);
    assert.ok(ttl > 0 && ttl <= TTL, `pttl ${ttl}`);
    assert.equal(Number(await redis.get(`vigil:fence:test:${n}`)), f);
    assert.equal(await redis.pttl(`vigil:fence:test:${n}`), -1);
  });

  test("when the fence cannot be counted, acquire fails and leaves no lease without a fence", async () => {
    const redis = connect();
    const n = `test:lease-${suffix()}`;
    names.push(n);
    await redis.set(`vigil:fence:test:${n}`, "not a number");
    await assert.rejects(new RedisLeaseStore(redis, "test").acquire(n, "h1", TTL), /not an integer/);
    assert.equal(await redis.exists(`vigil:lease:test:${n}`), 0);
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

/** A store that fails on demand (`failing`: every call throws, as with Redis unreachable) or answers late (`lagMs`). */
class FlakyStore implements LeaseStore {
  failing = false;
  lagMs = 0;
  constructor(
    readonly inner: LeaseStore,
    private readonly clock?: ManualClock,
  ) {}
  async acquire(name: string, holder: string, ttlMs: number): Promise<number | null> {
    this.check();
    const fence = await this.inner.acquire(name, holder, ttlMs);
    this.clock?.advance(this.lagMs);
    return fence;
  }
  async renew(name: string, holder: string, ttlMs: number): Promise<boolean> {
    this.check();
    const renewed = await this.inner.renew(name, holder, ttlMs);
    this.clock?.advance(this.lagMs);
    return renewed;
  }
  async release(name: string, holder: string): Promise<void> {
    this.check();
    return this.inner.release(name, holder);
  }
  async raiseFence(name: string, atLeast: number): Promise<void> {
    this.check();
    return this.inner.raiseFence(name, atLeast);
  }
  private check(): void {
    if (this.failing) throw new Error("connect ECONNREFUSED");
  }
}

const quiet = pino({ level: "silent" });

/** A keeper of the lease "alerts" with its callbacks recorded. */
function keeper(store: LeaseStore, clock: Clock, holder: string, stats: LeaseStats = newLeaseStats(), ttlMs = 3_000) {
  const events = { acquired: [] as number[], lost: [] as string[] };
  const k = new LeaseKeeper({
    name: "alerts",
    holder,
    ttlMs,
    store,
    clock,
    log: quiet,
    stats,
    onAcquired: (fence) => events.acquired.push(fence),
    onLost: (reason) => events.lost.push(reason),
  });
  return { k, events, stats };
}

describe("LeaseKeeper (LocalLeaseStore, ManualClock)", () => {
  test("one keeper acquires and reports its fence; a second waits until the first stops, then gets a larger fence", async () => {
    const clock = new ManualClock(0);
    const store = new LocalLeaseStore(clock);
    const stats = newLeaseStats();
    const a = keeper(store, clock, "a", stats);
    const b = keeper(store, clock, "b");
    await a.k.tick();
    assert.equal(a.events.acquired.length, 1);
    assert.equal(a.k.held(), true);
    assert.equal(a.k.fence(), a.events.acquired[0]);
    assert.deepEqual(stats.leases.get("alerts"), { held: 1, acquired: 1, lost: 0, renewFailures: 0 });
    for (let i = 0; i < 4; i++) {
      clock.advance(1_000);
      await a.k.tick();
      await b.k.tick();
    }
    assert.equal(a.k.held(), true, "renewed every tick");
    assert.deepEqual(b.events.acquired, []);
    assert.equal(b.k.held(), false);
    assert.equal(b.k.fence(), null);
    await a.k.stop();
    assert.deepEqual(a.events.lost, ["stopping"]);
    assert.equal(a.k.held(), false);
    assert.equal(stats.leases.get("alerts")!.held, 0);
    await b.k.tick();
    assert.equal(b.events.acquired.length, 1);
    assert.ok(b.events.acquired[0]! > a.events.acquired[0]!);
    await b.k.stop();
  });

  test("a bad name or TTL is refused when the keeper is made, not on every round", () => {
    const clock = new ManualClock(0);
    assert.throws(() => keeper(new LocalLeaseStore(clock), clock, "a", newLeaseStats(), 999), RangeError);
  });

  test("a refused renew loses the lease at once", async () => {
    const clock = new ManualClock(0);
    const store = new LocalLeaseStore(clock);
    const a = keeper(store, clock, "a");
    await a.k.tick();
    await store.release("alerts", "a"); // as if it had expired and gone elsewhere
    clock.advance(1_000);
    await a.k.tick();
    assert.equal(a.k.held(), false);
    assert.equal(a.events.lost.length, 1);
    assert.match(a.events.lost[0]!, /renew refused/);
    assert.deepEqual(a.stats.leases.get("alerts"), { held: 0, acquired: 1, lost: 1, renewFailures: 1 });
  });

  test("with the store unreachable the lease holds until validUntil, then is lost once; it is taken again when the store is back", async () => {
    const clock = new ManualClock(0);
    const store = new FlakyStore(new LocalLeaseStore(clock));
    const a = keeper(store, clock, "a");
    await a.k.tick(); // acquired at 0: valid until 0 + 3000 - 300
    clock.advance(1_000);
    await a.k.tick(); // renewed at 1000: valid until 3700; the store's lease ends at 4000
    store.failing = true;
    clock.advance(1_000);
    await a.k.tick();
    clock.advance(1_000);
    await a.k.tick();
    clock.advance(699);
    assert.equal(a.k.held(), true, "3699: still within validUntil");
    assert.deepEqual(a.events.lost, []);
    clock.advance(1);
    assert.equal(a.k.held(), false, "3700: validUntil passed");
    assert.equal(a.k.fence(), null);
    await a.k.tick();
    await a.k.tick();
    assert.equal(a.events.lost.length, 1, "lost once");
    assert.deepEqual(a.stats.leases.get("alerts"), { held: 0, acquired: 1, lost: 1, renewFailures: 2 });
    store.failing = false;
    await a.k.tick();
    assert.equal(a.events.acquired.length, 1, "3700: the store still holds the old lease until 4000");
    clock.advance(300);
    await a.k.tick();
    assert.equal(a.events.acquired.length, 2);
    assert.ok(a.events.acquired[1]! > a.events.acquired[0]!);
    assert.equal(a.k.held(), true);
    await a.k.stop();
  });

  test("validUntil counts from when the request was sent, not from when the answer came", async () => {
    const clock = new ManualClock(0);
    const store = new FlakyStore(new LocalLeaseStore(clock), clock);
    store.lagMs = 500;
    const a = keeper(store, clock, "a");
    await a.k.tick(); // sent at 0, answered at 500: valid until 0 + 3000 - 300
    assert.equal(clock.now(), 500);
    clock.advance(2_199);
    assert.equal(a.k.held(), true);
    clock.advance(1);
    assert.equal(a.k.held(), false, "2700: validUntil passed");
    await a.k.stop();
  });
});

describe("LeaseKeeper on its timers (system clock)", () => {
  test("start acquires; with the store unreachable the lease is lost by validUntil without another renew", async () => {
    const store = new FlakyStore(new LocalLeaseStore(systemClock));
    const a = keeper(store, systemClock, "a", newLeaseStats(), 1_000);
    a.k.start();
    try {
      await until(() => a.k.held(), "acquired");
      // The last renew that worked was sent before this: validUntil is at most 900 ms away (timer jitter aside).
      store.failing = true;
      const failedAt = Date.now();
      await until(() => a.events.lost.length === 1, "lost");
      assert.ok(Date.now() - failedAt <= 1_100, `lost ${Date.now() - failedAt} ms after the store failed`);
      assert.match(a.events.lost[0]!, /not renewed/);
      store.failing = false;
      await until(() => a.events.acquired.length === 2, "acquired again");
    } finally {
      await a.k.stop();
    }
  });
});

describe("lease metrics", () => {
  test("each lease's held gauge and counters appear with their values, and follow the stats", async () => {
    const clock = new ManualClock(0);
    const store = new LocalLeaseStore(clock);
    const stats = newLeaseStats();
    const registry = new Registry();
    registerLeaseMetrics(registry, stats);
    const a = keeper(store, clock, "a", stats);
    await a.k.tick();
    await store.release("alerts", "a");
    clock.advance(1_000);
    await a.k.tick(); // renew refused: lost
    await a.k.tick(); // acquired again
    stats.leases.set("maintenance", { held: 0, acquired: 0, lost: 0, renewFailures: 0 });
    const text = await registry.metrics();
    for (const line of [
      'vigil_collector_lease_held{lease="alerts"} 1',
      'vigil_collector_lease_acquired_total{lease="alerts"} 2',
      'vigil_collector_lease_lost_total{lease="alerts"} 1',
      'vigil_collector_lease_renew_failures_total{lease="alerts"} 1',
      'vigil_collector_lease_held{lease="maintenance"} 0',
      'vigil_collector_lease_acquired_total{lease="maintenance"} 0',
    ]) {
      assert.ok(text.split("\n").includes(line), `${line} in\n${text}`);
    }
    await a.k.stop();
    const after = await registry.metrics();
    assert.ok(after.includes('vigil_collector_lease_held{lease="alerts"} 0'));
    assert.ok(after.includes('vigil_collector_lease_lost_total{lease="alerts"} 1'), "a stop is not a loss");
  });
});

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 300 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), what);
}
