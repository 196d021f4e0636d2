// Several collectors, with the shipped binaries. Host-down: two collectors share one database and Redis, an agent
// streams to one of them. The other must not take the host for down (it never hears from it, but the cluster does),
// and when the agent stops exactly one host-down alert names it, whichever collector evaluates; when the collector
// that evaluates host-down is paused past its lease, the other takes it over and does not page again for what is
// firing, nor does the paused one when it resumes.
// A threshold alert firing when its host's agent fails over to another collector stays one alert there, and resolves
// there; acknowledged through the collector that does not evaluate it, it is acknowledged, and stays so after the
// move. With Redis cut off for 15 s, ingest goes on with every tick stored once, the lease is given up within its TTL
// and taken again when Redis is back.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, serverUrl, type TestDatabase } from "./support/postgres.js";
import { assertEveryTickOnce, caughtUp } from "./support/agent-ticks.js";
import { eventually, getJson, startAgent, startCollector, type CollectorProc, type Proc } from "./support/processes.js";
import { startTcpProxy, type TcpProxy } from "./support/tcp-proxy.js";

const REDIS_URL = process.env.REDIS_URL || (process.env.CI === "true" ? "redis://127.0.0.1:6379" : undefined);
const skip = !REDIS_URL ? "REDIS_URL not set" : !serverUrl() ? "two collectors share a database: needs DATABASE_URL" : false;
const HOST = `cluster-hd-${process.pid}`;
/** How long Redis is cut off under a streaming agent. */
const REDIS_DOWN_MS = 15_000;

interface Alert {
  id: string;
  rule: string;
  state: string;
  labels: Record<string, string>;
}

describe("host-down with two collectors", { skip }, () => {
  let db: TestDatabase;
  const dir = mkdtempSync(join(tmpdir(), "vigil-cluster-hd-"));
  const rules = join(dir, "rules");
  const collectors: CollectorProc[] = [];
  let agent: Proc | undefined;

  const start = () =>
    startCollector({
      databaseUrl: db.url,
      args: ["--rules-dir", rules],
      env: { REDIS_URL: REDIS_URL!, VIGIL_DISABLED_RULES: "host-down", VIGIL_CLUSTER_LEASE_TTL: "2s" },
    });
  const hostAlerts = async (c: CollectorProc) => {
    const all: Alert[] = [];
    for (const state of ["pending", "firing", "resolved"]) all.push(...(await getJson<{ alerts: Alert[] }>(`${c.httpUrl}/api/v1/alerts?state=${state}`)).alerts);
    return all.filter((a) => a.rule === "host-gone" && a.labels.host === HOST);
  };

  before(async () => {
    db = await createTestDatabase();
    mkdirSync(rules);
    writeFileSync(join(rules, "hd.yaml"), ["rules:", "  - name: host-gone", "    kind: absent", "    host_down: true", "    for: 4s", "    severity: critical"].join("\n"));
    collectors.push(await start());
    agent = startAgent(["--collector", collectors[0]!.grpcAddress, "--interval", "1s", "--hostname", HOST]);
    await agent.waitForLog((l) => l.msg === "connected to collector");
    // The second collector starts when the host is known: it reads the host's last contact from the database.
    await new Promise((r) => setTimeout(r, 2000));
    collectors.push(await start());
  });
  after(async () => {
    await agent?.kill();
    for (const c of collectors) await c.kill();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a host streaming to one collector is not down for the other", async () => {
    // Twice the rule's `for`, past a lease move or two.
    await new Promise((r) => setTimeout(r, 9000));
    for (const c of collectors) assert.deepEqual(await hostAlerts(c), [], "host-down fired for a host that streams");
    const holders = collectors.filter((c) => c.logs.some((l) => l.msg === "lease acquired" && l.lease === "host-down"));
    assert.equal(holders.length, 1, "exactly one collector evaluates host-down");
  });

  test("the agent stops: exactly one host-down alert names the host; pausing its evaluator past the lease pages no second time", async () => {
    await agent!.kill("SIGKILL");
    agent = undefined;
    const firing = await eventually(async () => (await hostAlerts(collectors[1]!)).find((a) => a.state === "firing"), 20_000, "host-down firing");
    assert.equal(firing.labels.host, HOST);
    const holder = collectors.find((c) => c.logs.some((l) => l.msg === "lease acquired" && l.lease === "host-down"))!;
    const other = collectors.find((c) => c !== holder)!;
    const oneFiring = async () => {
      const all = await hostAlerts(other);
      assert.deepEqual(all.map((a) => [a.id, a.state]), [[firing.id, "firing"]], JSON.stringify(all));
    };
    // Paused past its lease (a long GC, SIGSTOP, a frozen VM): the other collector takes host-down over.
    holder.child.kill("SIGSTOP");
    try {
      await other.waitForLog((l) => l.msg === "lease acquired" && l.lease === "host-down", 15_000);
      // Past the new holder's first evaluations: it adopted the firing alert instead of opening another.
      await new Promise((r) => setTimeout(r, 3000));
      await oneFiring();
    } finally {
      holder.child.kill("SIGCONT");
    }
    // Resumed, the old holder finds its lease expired and stops; nothing it still had under way opens a second alert.
    await holder.waitForLog((l) => l.msg === "lease lost" && l.lease === "host-down", 10_000);
    await new Promise((r) => setTimeout(r, 3000));
    await oneFiring();
    assert.match(await (await fetch(`${holder.httpUrl}/metrics`)).text(), /^vigil_collector_lease_held\{lease="host-down"\} 0$/m);
  });
});

describe("Redis cut off under a streaming agent", { skip }, () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let collector: CollectorProc;
  let agent: Proc | undefined;
  const host = `cluster-cut-${process.pid}`;

  before(async () => {
    db = await createTestDatabase();
    const redis = new URL(REDIS_URL!);
    proxy = await startTcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
    collector = await startCollector({ databaseUrl: db.url, env: { REDIS_URL: `redis://127.0.0.1:${proxy.port}`, VIGIL_CLUSTER_LEASE_TTL: "2s" } });
    await collector.waitForLog((l) => l.msg === "lease acquired" && l.lease === "host-down", 10_000);
    agent = startAgent(["--collector", collector.grpcAddress, "--interval", "1s", "--hostname", host]);
    await agent.waitForLog((l) => l.msg === "connected to collector");
    await new Promise((r) => setTimeout(r, 4000)); // ticks stored before the cut
  });
  after(async () => {
    await agent?.kill();
    await collector?.kill();
    await proxy?.close();
    await db?.drop();
  });

  const committedRows = async () => Number(/^vigil_storage_committed_rows_total (\d+)$/m.exec(await (await fetch(`${collector.httpUrl}/metrics`)).text())?.[1]);

  test("Redis gone 15 s: ingest goes on, every tick stored once; the lease is lost within its TTL and taken again after", async () => {
    const before = await committedRows();
    proxy.cut("refuse");
    const cutAt = Date.now();
    await collector.waitForLog((l) => l.msg === "lease lost" && l.lease === "host-down", 5_000);
    assert.ok(Date.now() - cutAt <= 3_000, `lease given up ${Date.now() - cutAt} ms after Redis went away (TTL 2 s)`);
    await new Promise((r) => setTimeout(r, REDIS_DOWN_MS - (Date.now() - cutAt)));
    const during = await committedRows();
    assert.ok(during > before, `rows committed while Redis was cut: ${before} → ${during}`);
    const acquiredBefore = collector.logs.filter((l) => l.msg === "lease acquired").length;
    proxy.restore();
    await eventually(async () => (collector.logs.filter((l) => l.msg === "lease acquired").length > acquiredBefore ? true : undefined), 15_000, "lease taken again");
    const metrics = await (await fetch(`${collector.httpUrl}/metrics`)).text();
    assert.match(metrics, /^vigil_collector_lease_held\{lease="host-down"\} 1$/m);
    assert.match(metrics, /^vigil_collector_lease_lost_total\{lease="host-down"\} [1-9]/m);
    // The agent's stream never noticed: ingest does not touch Redis, and nothing acked meanwhile is missing.
    assert.ok(!agent!.logs.some((l) => l.msg === "collector stream closed; reconnecting"), "the agent's stream broke");
    await assertEveryTickOnce(collector, host, { until: await caughtUp(collector, host, Date.now()), mustCover: cutAt, leadMs: 4000 });
  });
});

describe("a firing alert when its host fails over", { skip }, () => {
  let db: TestDatabase;
  const dir = mkdtempSync(join(tmpdir(), "vigil-cluster-move-"));
  const rules = join(dir, "rules");
  const gauge = join(dir, "gauge");
  const collectors: CollectorProc[] = [];
  let agent: Proc | undefined;
  const host = `cluster-move-${process.pid}`;

  before(async () => {
    db = await createTestDatabase();
    mkdirSync(rules);
    writeFileSync(join(rules, "t.yaml"), ["rules:", "  - name: gauge-high", "    kind: threshold", "    metric: test.gauge", '    critical: { op: ">", value: 10 }'].join("\n"));
    writeFileSync(gauge, "42");
    for (let i = 0; i < 2; i++) collectors.push(await startCollector({ databaseUrl: db.url, args: ["--rules-dir", rules], env: { REDIS_URL: REDIS_URL! } }));
    const list = collectors.map((c) => c.grpcAddress).join(",");
    agent = startAgent(["--collector", list, "--interval", "1s", "--hostname", host, "--synthetic", `test.gauge=${gauge}`]);
    await agent.waitForLog((l) => l.msg === "connected to collector");
  });
  after(async () => {
    await agent?.kill();
    for (const c of collectors) await c.kill();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const gaugeAlerts = async (c: CollectorProc) => {
    const all: Alert[] = [];
    for (const state of ["pending", "firing", "resolved"]) all.push(...(await getJson<{ alerts: Alert[] }>(`${c.httpUrl}/api/v1/alerts?state=${state}`)).alerts);
    return all.filter((a) => a.rule === "gauge-high" && a.labels.host === host);
  };

  test("acknowledged through either collector; the collector it moves to carries it on: one alert, resolved there", async () => {
    const [first, second] = collectors as [CollectorProc, CollectorProc];
    const firing = await eventually(async () => (await gaugeAlerts(second)).find((a) => a.state === "firing"), 10_000, "firing");
    // Acknowledged through the collector that does not evaluate it: the one that does applies it, and answers.
    const ack = await fetch(`${second.httpUrl}/api/v1/alerts/${firing.id}/ack`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ by: "sre", comment: "through b" }),
    });
    const acked = (await ack.json()) as { acknowledged: { comment: string } | null };
    assert.equal(ack.status, 200, JSON.stringify(acked));
    assert.equal(acked.acknowledged?.comment, "through b");
    await first.kill("SIGKILL");
    await agent!.waitForLog((l) => l.msg === "connected to collector" && l.switchedFrom !== undefined, 15_000);
    // Ticks above the level reach the second collector: it took the alert over, so no second one opens.
    await new Promise((r) => setTimeout(r, 3000));
    assert.deepEqual((await gaugeAlerts(second)).map((a) => [a.id, a.state]), [[firing.id, "firing"]]);
    const carried = await getJson<{ acknowledged: { comment: string } | null }>(`${second.httpUrl}/api/v1/alerts/${firing.id}`);
    assert.equal(carried.acknowledged?.comment, "through b", "the acknowledgement moved with the alert");
    writeFileSync(gauge, "0");
    const resolved = await eventually(async () => (await gaugeAlerts(second)).find((a) => a.state === "resolved"), 10_000, "resolved");
    assert.equal(resolved.id, firing.id);
    assert.equal((await gaugeAlerts(second)).length, 1);
  });
});
