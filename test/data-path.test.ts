// The whole data path with real processes: agent → gRPC → collector → storage → query API.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import pg from "pg";
import { createTestDatabase, skipWithoutPostgres, type TestDatabase } from "./support/postgres.js";
import { eventually, getJson, startAgent, startCollector, type CollectorProc, type Proc } from "./support/processes.js";

interface RangeResponse {
  series: { metric: string; labels: Record<string, string>; points: [number, number][] }[];
}
interface HostsResponse {
  hosts: { name: string; up: boolean; labels: Record<string, string>; agentVersion: string }[];
}

const HOST = `e2e-${process.pid}`;

function readBack(kind: "postgres" | "pglite") {
  let collector: CollectorProc;
  let agent: Proc;
  let db: TestDatabase | undefined;
  let dir: string | undefined;

  before(async () => {
    if (kind === "postgres") db = await createTestDatabase();
    else dir = mkdtempSync(join(os.tmpdir(), "vigil-e2e-"));
    collector = await startCollector({ databaseUrl: db?.url, dataDir: dir });
    agent = startAgent(["--collector", collector.grpcAddress, "--interval", "1s", "--hostname", HOST, "--label", "env=e2e"]);
  });
  after(async () => {
    await agent?.kill();
    await collector?.kill();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const query = (params: string) => getJson<RangeResponse>(`${collector.httpUrl}/api/v1/query_range?host=${HOST}&start=-5m&step=1s&${params}`);

  test("this host's CPU, memory, filesystem and network series read back with plausible values", async () => {
    const hosts = await eventually(async () => {
      const h = await getJson<HostsResponse>(`${collector.httpUrl}/api/v1/hosts`);
      return h.hosts.some((x) => x.name === HOST && x.up) ? h : undefined;
    }, 20_000, "host is listed and up");
    const me = hosts.hosts.find((h) => h.name === HOST)!;
    assert.deepEqual(me.labels, { env: "e2e" });
    assert.equal(me.agentVersion, "0.1.0");

    // Rates need two ticks; wait until CPU utilization has points.
    const idle = await eventually(async () => {
      const r = await query("metric=system.cpu.utilization&match[state]=idle");
      return r.series.length > 0 && r.series.every((s) => s.points.length >= 2) ? r : undefined;
    }, 20_000, "cpu utilization points");
    const perCore = idle.series.filter((s) => s.labels.cpu !== undefined);
    assert.equal(perCore.length, os.cpus().length, "one idle series per CPU");
    assert.equal(idle.series.length, os.cpus().length + 1, "plus the total");
    for (const s of idle.series) {
      assert.equal(s.labels.host, HOST);
      for (const [, v] of s.points) assert.ok(v >= 0 && v <= 1, `cpu idle ${v} within 0..1`);
    }

    const mem = await query("metric=system.memory.utilization");
    assert.equal(mem.series.length, 1);
    for (const [, v] of mem.series[0]!.points) assert.ok(v > 0 && v < 1, `memory utilization ${v} within 0..1`);

    const fsUsed = await query("metric=system.filesystem.usage&match[state]=used");
    assert.ok(fsUsed.series.length >= 1, "at least one filesystem");
    assert.ok(fsUsed.series.every((s) => s.labels.mountpoint && s.points.every(([, v]) => v >= 0)));
    const fsUtil = await query("metric=system.filesystem.utilization");
    assert.ok(fsUtil.series.every((s) => s.points.every(([, v]) => v >= 0 && v <= 1)));

    const net = await query("metric=system.network.io");
    const devices = new Set(net.series.map((s) => s.labels.device));
    assert.ok(devices.size >= 1 && !devices.has("lo"), `network devices: ${[...devices].join(",")}`);
    assert.ok(net.series.every((s) => s.points.every(([, v]) => v >= 0)));
  });

  test("bad query parameters answer 400 naming the parameter", async () => {
    for (const [qs, param] of [["metric=x&start=yesterday", "start"], ["metric=x&step=0.1", "step"], ["metric=x&agg=median", "agg"], ["start=-1h", "metric"]] as const) {
      const r = await fetch(`${collector.httpUrl}/api/v1/query_range?${qs}`);
      assert.equal(r.status, 400, qs);
      const body = (await r.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, "VGL_ERR_BAD_PARAM");
      assert.ok(body.error.message.startsWith(`${param}:`), body.error.message);
    }
    assert.equal((await fetch(`${collector.httpUrl}/readyz`)).status, 200);
    assert.equal((await fetch(`${collector.httpUrl}/healthz`)).status, 200);
  });

  test("/metrics reports the collector's own ingest and storage counters", async () => {
    const text = await (await fetch(`${collector.httpUrl}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? NaN);
    assert.ok(value("vigil_ingest_batches_total") > 0, "batches counted");
    assert.ok(value("vigil_storage_committed_rows_total") > 0, "rows counted");
    assert.equal(value("vigil_ingest_auth_failures_total"), 0);
    assert.equal(value("vigil_ingest_streams"), 1);
  });
}

describe("data path on Postgres", { skip: skipWithoutPostgres() }, () => readBack("postgres"));
describe("data path on PGlite", () => readBack("pglite"));

describe("collector killed while the agent streams", { skip: skipWithoutPostgres() }, () => {
  let db: TestDatabase;
  let agent: Proc | undefined;
  let collector: CollectorProc | undefined;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await agent?.kill();
    await collector?.kill();
    await db.drop();
  });

  test("SIGKILL and restart: no tick lost, no point duplicated", async () => {
    collector = await startCollector({ databaseUrl: db.url });
    const grpcPort = Number(collector.grpcAddress.split(":").pop());
    agent = startAgent(["--collector", collector.grpcAddress, "--interval", "1s", "--hostname", HOST]);
    await agent.waitForLog((l) => l.msg === "connected to collector");
    await new Promise((r) => setTimeout(r, 3000));
    await collector.kill("SIGKILL");
    await new Promise((r) => setTimeout(r, 4000));
    collector = await startCollector({ databaseUrl: db.url, grpcPort });
    await agent.waitForLog((l) => l.msg === "connected to collector" && agent!.logs.filter((x) => x.msg === "connected to collector").length >= 2);
    await new Promise((r) => setTimeout(r, 3000));

    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      // The constant series system.cpu.logical.count has one point per tick: its times must be gapless 1 s steps
      // across the outage (the agent resent what was never acked) and each stored once.
      const r = await c.query<{ t: string }>(
        `SELECT (extract(epoch FROM x.time) * 1000)::bigint AS t FROM samples x JOIN series s ON s.id = x.series_id
         WHERE s.metric = 'system.cpu.logical.count' ORDER BY x.time`,
      );
      const times = r.rows.map((row) => Number(row.t));
      assert.ok(times.length >= 9, `expected at least 9 ticks, got ${times.length}`);
      for (let i = 1; i < times.length; i++) assert.equal(times[i]! - times[i - 1]!, 1000, `gap or duplicate at ${new Date(times[i]!).toISOString()}`);
      const dup = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM (SELECT series_id, time FROM samples GROUP BY 1, 2 HAVING count(*) > 1) d`);
      assert.equal(dup.rows[0]!.n, 0);
    } finally {
      await c.end();
    }
    const sum = await getJson<RangeResponse>(`${collector.httpUrl}/api/v1/query_range?host=${HOST}&metric=system.cpu.logical.count&start=-2m&step=1s&agg=sum`);
    assert.ok(sum.series[0]!.points.every(([, v]) => v === os.cpus().length), "each 1 s bucket holds exactly one point");
  });
});
