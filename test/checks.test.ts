// Health checks end to end: agent config → scheduled checks → batch → collector state → API.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, skipWithoutPostgres, type TestDatabase } from "./support/postgres.js";
import { eventually, getJson, startAgent, startCollector, type CollectorProc, type Proc } from "./support/processes.js";

interface ChecksResponse {
  checks: { name: string; kind: string; status: string; since: string; lastRun: string; message: string }[];
}

const HOST = `checks-${process.pid}`;
const CHECK_INTERVAL_MS = 2000;

describe("health checks end to end", { skip: skipWithoutPostgres() }, () => {
  let db: TestDatabase;
  let collector: CollectorProc;
  let agent: Proc;
  let worker: ChildProcess;
  const dir = mkdtempSync(join(tmpdir(), "vigil-checks-"));

  before(async () => {
    db = await createTestDatabase();
    collector = await startCollector({ databaseUrl: db.url });
    // A distinctive process to watch, and a stale "backup".
    worker = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)", "vigil-e2e-worker"], { stdio: "ignore" });
    const backup = join(dir, "db.dump");
    writeFileSync(backup, "x".repeat(2048));
    const old = Date.now() / 1000 - 3 * 86_400;
    utimesSync(backup, old, old);
    const config = join(dir, "agent.yaml");
    writeFileSync(
      config,
      [
        "checks:",
        "  - { name: worker, kind: process, cmdline_contains: vigil-e2e-worker, interval: 2s, timeout: 1s }",
        `  - { name: collector-port, kind: tcp, address: "${collector.grpcAddress}", interval: 2s, timeout: 1s }`,
        `  - { name: backup, kind: file_age, path: "${backup}", max_age: 24h, interval: 2s, timeout: 1s }`,
        `  - { name: postgres, kind: postgres, url: "${db.url}", interval: 2s, timeout: 1s }`,
      ].join("\n"),
    );
    agent = startAgent(["--config", config, "--collector", collector.grpcAddress, "--interval", "1s", "--hostname", HOST]);
  });
  after(async () => {
    worker?.kill("SIGKILL");
    await agent?.kill();
    await collector?.kill();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const checks = () => getJson<ChecksResponse>(`${collector.httpUrl}/api/v1/hosts/${HOST}/checks`);

  test("current state of each check, a health summary per host, and a state change within two intervals", async () => {
    const first = await eventually(async () => {
      const r = await checks();
      return r.checks.length === 4 ? r : undefined;
    }, 20_000, "all four checks reported");
    const by = Object.fromEntries(first.checks.map((c) => [c.name, c]));
    const say = (n: string) => `${n}: ${by[n]!.status} ${by[n]!.message}`;
    assert.equal(by.worker!.status, "healthy", say("worker"));
    assert.equal(by["collector-port"]!.status, "healthy", say("collector-port"));
    assert.equal(by.postgres!.status, "healthy", say("postgres"));
    assert.equal(by.backup!.status, "unhealthy");
    assert.match(by.backup!.message, /db\.dump is 3d|db\.dump is 72h/);
    const hosts = await getJson<{ hosts: { name: string; health: string | null }[] }>(`${collector.httpUrl}/api/v1/hosts`);
    assert.equal(hosts.hosts.find((h) => h.name === HOST)!.health, "unhealthy", "worst check status");

    const killedAt = Date.now();
    worker.kill("SIGKILL");
    const down = await eventually(async () => {
      const w = (await checks()).checks.find((c) => c.name === "worker")!;
      return w.status === "unhealthy" ? w : undefined;
    }, 2 * CHECK_INTERVAL_MS + 1500, "worker check turns unhealthy within two intervals");
    assert.match(down.message, /^0 processes .*vigil-e2e-worker.* running \(minimum 1\)$/);
    assert.ok(Date.parse(down.since) >= killedAt - 100, "since marks the change");
    assert.ok(Date.now() - killedAt <= 2 * CHECK_INTERVAL_MS + 1500);

    // History through the ordinary query endpoint: vigil.check.status 0 then 2.
    const r = await getJson<{ series: { labels: Record<string, string>; points: [number, number][] }[] }>(
      `${collector.httpUrl}/api/v1/query_range?host=${HOST}&metric=vigil.check.status&match[check]=worker&start=-5m&step=1s&agg=max`,
    );
    const values = r.series[0]!.points.map(([, v]) => v);
    assert.equal(values[0], 0);
    assert.equal(values[values.length - 1], 2);
    assert.equal(r.series[0]!.labels.kind, "process");
  });

  test("unknown host answers 404", async () => {
    const res = await fetch(`${collector.httpUrl}/api/v1/hosts/nope/checks`);
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, "VGL_ERR_NOT_FOUND");
  });
});
