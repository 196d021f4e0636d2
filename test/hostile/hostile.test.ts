// The hostile-input suite (issue 9): every item under items/ attacks one collector process while a real agent streams
// into it every second. After all items the collector must still be up, the agent's data must have no gap, /healthz
// must never have stalled, and (on PostgreSQL) the collector's RSS must come back within 20 % of its baseline.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { createTestDatabase, serverUrl, type TestDatabase } from "../support/postgres.js";
import { eventually, startAgent, startCollector, type Proc } from "../support/processes.js";
import { createToken, httpCall, mergeConfig, rssBytes, type HostileContext, type HostileItem } from "./harness.js";

const AGENT_HOST = "hostile-agent";
const itemsDir = join(import.meta.dirname, "items");
const items: { file: string; item: HostileItem }[] = [];
// VIGIL_HOSTILE_ONLY=05,06 runs only the items whose file names start with those prefixes (while working on them).
const only = process.env.VIGIL_HOSTILE_ONLY?.split(",").filter(Boolean);
for (const file of readdirSync(itemsDir).filter((f) => f.endsWith(".ts")).sort()) {
  if (only && !only.some((p) => file.startsWith(p))) continue;
  const mod = (await import(join(itemsDir, file))) as { item?: HostileItem };
  if (!mod.item) throw new Error(`${file} exports no item`);
  items.push({ file, item: mod.item });
}

let ctx: HostileContext;
let testDb: TestDatabase | undefined;
let agent: Proc;
let tmp: string;
let suiteStartMs = 0;
let baselineRss = 0;
let monitor: NodeJS.Timeout | undefined;
let maxHealthzMs = 0;
let healthzFailures = 0;

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/** RSS, and the V8 heap and external memory the collector reports on /metrics: where memory went, item by item. */
async function memoryReport(c: HostileContext): Promise<string> {
  const text = (await c.http("GET", "/metrics")).text;
  const value = (name: string) => Number(new RegExp(`^vigil_collector_${name} (\\S+)$`, "m").exec(text)?.[1] ?? NaN);
  const rss = await rssBytes(c.collector.child.pid!);
  return `RSS ${mib(rss)}, heap ${mib(value("nodejs_heap_size_used_bytes"))} used of ${mib(value("nodejs_heap_size_total_bytes"))}, external ${mib(value("nodejs_external_memory_bytes"))}`;
}

/**
 * What a dashboard and an SRE do all day: list hosts, series, alerts, silences, rules; chart the last minutes per
 * second; dry-run a rule over the last hour. (Enough allocation to grow V8's young generation to its working size,
 * which it keeps: the baseline is then a collector in service, and the RSS check measures what attacks leave behind.)
 */
async function ordinaryUse(c: HostileContext): Promise<void> {
  for (const path of [
    "/api/v1/hosts",
    `/api/v1/series?host=${AGENT_HOST}`,
    `/api/v1/hosts/${AGENT_HOST}/checks`,
    `/api/v1/query_range?metric=system.cpu.utilization&host=${AGENT_HOST}&start=-5m&step=1s`,
    `/api/v1/query_range?metric=system.network.io&start=-1h&agg=max`,
    "/api/v1/alerts",
    "/api/v1/silences",
    "/api/v1/rules",
    "/api/v1/notifications",
    `/api/v1/query_range?metric=system.cpu.utilization&start=-10m&step=1s`,
    "/metrics",
  ]) {
    const r = await c.http("GET", path);
    assert.equal(r.status, 200, `${path}: ${r.text.slice(0, 200)}`);
  }
  const rule = { name: "warm-up", kind: "threshold", metric: "system.cpu.utilization", match: { state: "idle" }, warning: { op: "<", value: 0.5 } };
  const r = await c.http("POST", "/api/v1/rules/dry-run", { rule, start: "-1h", end: "now" });
  assert.equal(r.status, 200, `dry run: ${r.text.slice(0, 200)}`);
}

describe("hostile input against one collector with a real agent streaming", () => {
  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), "vigil-hostile-"));
    const databaseUrl = serverUrl() ? (testDb = await createTestDatabase()).url : undefined;
    const config: Record<string, unknown> = {};
    for (const { item } of items) if (item.config) mergeConfig(config, item.config);
    if (!databaseUrl) config.data_dir = join(tmp, "data");
    const configPath = join(tmp, "collector.yaml");
    writeFileSync(configPath, JSON.stringify(config, null, 2));
    const env = { DATABASE_URL: databaseUrl ?? "" };
    const tokens: Record<string, string> = {};
    for (const t of [{ name: AGENT_HOST, anyHost: false }, ...items.flatMap(({ item }) => item.tokens ?? [])]) {
      tokens[t.name] = await createToken(t.name, t.anyHost ?? false, env, configPath);
    }
    const collector = await startCollector({ databaseUrl, auth: true, args: ["--config", configPath] });
    agent = startAgent(["--collector", collector.grpcAddress, "--interval", "1s", "--hostname", AGENT_HOST], { VIGIL_TOKEN: tokens[AGENT_HOST] });
    ctx = {
      collector,
      tokens,
      agentHost: AGENT_HOST,
      pg: databaseUrl ? new pg.Pool({ connectionString: databaseUrl, max: 4 }) : undefined,
      databaseUrl,
      configPath,
      tmp,
      http: (method, path, body, headers) => httpCall(collector.httpUrl, method, path, body, headers),
    };
    await eventually(async () => {
      const r = await ctx.http("GET", `/api/v1/series?host=${AGENT_HOST}&metric=system.uptime`);
      return (r.json as { series?: unknown[] }).series?.length ? true : undefined;
    }, 30_000, "the agent's first batch");
    suiteStartMs = Date.now();
    // The baseline is a collector in service, not one that just started: every ordinary read has run a few times
    // (code compiled, modules loaded, pools and caches filled) before it is measured.
    for (let round = 0; round < 5; round++) await ordinaryUse(ctx);
    await new Promise((r) => setTimeout(r, 3000));
    baselineRss = await rssBytes(collector.child.pid!);
    monitor = setInterval(() => {
      const t0 = Date.now();
      ctx.http("GET", "/healthz").then(
        (r) => {
          maxHealthzMs = Math.max(maxHealthzMs, Date.now() - t0);
          if (r.status !== 200) healthzFailures++;
        },
        () => healthzFailures++,
      );
    }, 500);
  });

  after(async () => {
    clearInterval(monitor);
    await agent?.kill();
    await ctx?.collector.kill();
    await ctx?.pg?.end();
    await testDb?.drop();
    rmSync(tmp, { recursive: true, force: true });
  });

  for (const { file, item } of items) {
    test(`${item.title} (${file})`, { timeout: 120_000 }, async (t) => {
      await item.run(ctx);
      t.diagnostic(`collector after ${file}: ${await memoryReport(ctx)} (baseline RSS ${mib(baselineRss)})`);
    });
  }

  test("the collector survived every item in one process, and /healthz never stalled", async () => {
    assert.equal(ctx.collector.child.exitCode, null, "the collector exited");
    assert.equal(ctx.collector.child.signalCode, null, "the collector was killed");
    const r = await ctx.http("GET", "/readyz");
    assert.equal(r.status, 200, r.text);
    assert.equal(healthzFailures, 0, "some /healthz calls failed");
    assert.ok(maxHealthzMs < 2000, `/healthz took up to ${maxHealthzMs} ms`);
  });

  test("the real agent's data has no gap", async () => {
    const endMs = Date.now() - 3000;
    const path = `/api/v1/query_range?metric=system.uptime&host=${AGENT_HOST}&start=${(suiteStartMs - 2000) / 1000}&end=${endMs / 1000}&step=1s&agg=last`;
    const r = await ctx.http("GET", path);
    assert.equal(r.status, 200, r.text);
    const points = (r.json as { series: { points: [number, number][] }[] }).series[0]?.points ?? [];
    assert.ok(points.length > 0, "no points from the agent");
    let worst = 0;
    for (let i = 1; i < points.length; i++) worst = Math.max(worst, points[i]![0] - points[i - 1]![0]);
    const span = points.at(-1)![0] - points[0]![0];
    // One-second ticks; a single late tick on a loaded two-core CI machine is the agent's, not the collector's.
    assert.ok(worst <= 2000, `a gap of ${worst} ms in the agent's data`);
    assert.ok(points.at(-1)![0] >= endMs - 3000, `the agent's last point is ${endMs - points.at(-1)![0]} ms old`);
    assert.ok(span >= endMs - suiteStartMs - 3000, "the agent's data does not cover the suite");
  });

  // PGlite runs inside the collector's process, and WebAssembly memory never shrinks: the bound holds on PostgreSQL.
  test("the collector's RSS returns within 20 % of its baseline", { skip: serverUrl() ? false : "PGlite's WebAssembly memory never shrinks" }, async (t) => {
    // V8 gives memory back once allocation calms down (its memory reducer runs a few GCs over some seconds, later on
    // a loaded machine while the agent keeps streaming), so the bound is checked for up to three minutes after the
    // last item: 36 s here, more than 60 s once on CI.
    const t0 = Date.now();
    let last = 0;
    await eventually(async () => {
      last = await rssBytes(ctx.collector.child.pid!);
      return last <= baselineRss * 1.2 ? true : undefined;
    }, 180_000, "RSS back near baseline").catch(async () => {
      assert.fail(`${await memoryReport(ctx)} vs baseline RSS ${mib(baselineRss)}`);
    });
    t.diagnostic(`RSS ${mib(last)} (baseline ${mib(baselineRss)}) ${((Date.now() - t0) / 1000).toFixed(0)} s after the last item`);
  });
});
