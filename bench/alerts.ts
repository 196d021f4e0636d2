// Alert latency and evaluator throughput.
//  1. fire latency: a threshold-crossing sample leaves a (simulated) agent over real gRPC → the collector commits it,
//     evaluates, stores the alert → the alert is `firing` in the HTTP API. p50/p99 over BENCH_CROSSINGS (default 200).
//     notify latency: the same sample → the webhook receiver (a local HTTP server here) has the firing message, with
//     group_wait 0 (each crossing is its own alert group), p50/p99.
//  2. evals_per_s: rule×series evaluations per second of the engine with the default rules and 1,000 hosts' series.
// DATABASE_URL: run the collector on that Postgres; otherwise embedded PGlite. Prints JSON lines; summary last.
import { once } from "node:events";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { ManualClock } from "@vigil/shared";
import { defaultRules, RuleEngine, type SamplePoint } from "../collector/src/rules/index.js";
import { batch, hello, isAck, isWelcome, makeClient, openStream } from "../test/support/ingest-client.js";
import { createTestDatabase, type TestDatabase } from "../test/support/postgres.js";
import { getJson, startCollector, type CollectorProc } from "../test/support/processes.js";

const CROSSINGS = Number(process.env.BENCH_CROSSINGS ?? 200);
const HOSTS = Number(process.env.BENCH_HOSTS ?? 1000);
const emit = (o: Record<string, unknown>) => console.log(JSON.stringify(o));
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const round = (v: number) => Math.round(v * 10) / 10;

/** A webhook receiver: resolves waiters when the firing message for series `n` arrives. */
function startHook(): { server: http.Server; firing(n: string): Promise<number> } {
  const waiting = new Map<string, (t: number) => void>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const at = performance.now();
      const msg = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { kind: string; alerts: { labels: Record<string, string> }[] };
      if (msg.kind === "firing") for (const a of msg.alerts) waiting.get(a.labels.n ?? "")?.(at);
      res.writeHead(200).end();
    });
  });
  return { server, firing: (n) => new Promise((resolve) => waiting.set(n, resolve)) };
}

async function fireLatency(collector: CollectorProc, hook: ReturnType<typeof startHook>): Promise<{ fire: number[]; notify: number[] }> {
  const stream = openStream(makeClient(collector.grpcAddress));
  stream.send(hello("bench-alerts"));
  await stream.next(isWelcome, "Welcome");
  const firingCount = async () => (await getJson<{ alerts: { rule: string }[] }>(`${collector.httpUrl}/api/v1/alerts?state=firing`)).alerts.filter((a) => a.rule === "bench-gauge").length;
  const waitUntil = async (want: number, since: number) => {
    for (;;) {
      if ((await firingCount()) === want) return performance.now() - since;
      if (performance.now() - since > 10_000) throw new Error(`alert did not reach ${want} firing within 10 s`);
    }
  };
  const latencies: number[] = [];
  const notify: number[] = [];
  let seq = 0;
  let t = Date.now() - 3_600_000;
  // Each crossing on its own series (label n), so each alert is its own notification group.
  const send = async (ref: number, value: number, declare: boolean) => {
    seq++;
    t += 1000; // sample time moves forward; the engine ignores points older than what it has seen
    stream.send(batch({ seq, timeMs: t, declare: declare ? [{ ref, metric: "bench.gauge", labels: { n: String(ref) } }] : [], refs: [ref], values: [value] }));
  };
  for (let i = 1; i <= CROSSINGS; i++) {
    const notified = hook.firing(String(i));
    const start = performance.now();
    await send(i, 20, true);
    latencies.push(await waitUntil(1, start));
    notify.push((await notified) - start);
    await send(i, 0, false);
    await waitUntil(0, performance.now());
  }
  await stream.next(isAck(seq), "last ack");
  stream.close();
  return { fire: latencies, notify };
}

/** Series shaped like this agent's (per host: cpu states × cores, memory, filesystems, network, disks). */
function hostSeries(host: string): Omit<SamplePoint, "timeMs" | "value">[] {
  const out: Omit<SamplePoint, "timeMs" | "value">[] = [];
  for (const state of ["user", "system", "idle", "iowait", "steal", "nice", "irq", "softirq"]) {
    out.push({ host, metric: "system.cpu.utilization", labels: { state } });
    for (let cpu = 0; cpu < 4; cpu++) out.push({ host, metric: "system.cpu.utilization", labels: { cpu: String(cpu), state } });
  }
  for (const state of ["used", "free", "cached", "buffers", "available"]) out.push({ host, metric: "system.memory.usage", labels: { state } });
  out.push({ host, metric: "system.memory.utilization", labels: { state: "used" } });
  for (const mountpoint of ["/", "/var", "/home"]) out.push({ host, metric: "system.filesystem.utilization", labels: { mountpoint, device: "sda", type: "ext4" } });
  for (const direction of ["receive", "transmit"]) for (const m of ["io", "packets", "errors", "dropped"]) out.push({ host, metric: `system.network.${m}`, labels: { device: "eth0", direction } });
  return out;
}

function evaluatorThroughput(): { evals_per_s: number; points_per_s: number; hosts: number; series: number; rules: number } {
  const clock = new ManualClock(Date.now());
  const rules = defaultRules();
  const engine = new RuleEngine({ rules, clock });
  const series = Array.from({ length: HOSTS }, (_, h) => hostSeries(`host-${h}`)).flat();
  const rulesByMetric = new Map<string, number>();
  for (const r of rules) if ("metric" in r && typeof r.metric === "string") rulesByMetric.set(r.metric, (rulesByMetric.get(r.metric) ?? 0) + 1);
  const evalsPerRound = series.reduce((n, s) => n + (rulesByMetric.get(s.metric) ?? 0), 0);
  let rounds = 0;
  const start = performance.now();
  while (performance.now() - start < 5000) {
    clock.advance(10_000);
    const now = clock.now();
    // Values below every default level: the steady state of a healthy fleet.
    engine.ingestSamples(series.map((s, i) => ({ ...s, timeMs: now, value: s.metric === "system.cpu.utilization" ? 0.5 : (i % 7) / 100 })));
    rounds++;
  }
  const seconds = (performance.now() - start) / 1000;
  return { evals_per_s: Math.round((evalsPerRound * rounds) / seconds), points_per_s: Math.round((series.length * rounds) / seconds), hosts: HOSTS, series: series.length, rules: rules.length };
}

const dir = mkdtempSync(join(tmpdir(), "vigil-bench-alerts-"));
const hook = startHook();
let db: TestDatabase | undefined;
let collector: CollectorProc | undefined;
try {
  mkdirSync(join(dir, "rules"));
  writeFileSync(join(dir, "rules/bench.yaml"), 'rules:\n  - { name: bench-gauge, kind: threshold, metric: bench.gauge, critical: { op: ">", value: 10 }, for: 0s }\n');
  hook.server.listen(0, "127.0.0.1");
  await once(hook.server, "listening");
  const hookPort = (hook.server.address() as { port: number }).port;
  writeFileSync(
    join(dir, "collector.yaml"),
    `rules_dir: ${join(dir, "rules")}\nnotifications:\n  receivers:\n    - { name: hook, kind: webhook, url: "http://127.0.0.1:${hookPort}/" }\n  route: { receivers: [hook], group_by: ["..."], group_wait: 0s, escalation: none }\n`,
  );
  if (process.env.DATABASE_URL) db = await createTestDatabase();
  collector = await startCollector({ databaseUrl: db?.url, dataDir: join(dir, "data"), args: ["--config", join(dir, "collector.yaml")] });
  const lat = await fireLatency(collector, hook);
  const fire = {
    crossings: lat.fire.length,
    fire_p50_ms: round(pct(lat.fire, 50)),
    fire_p99_ms: round(pct(lat.fire, 99)),
    fire_max_ms: round(Math.max(...lat.fire)),
    notify_p50_ms: round(pct(lat.notify, 50)),
    notify_p99_ms: round(pct(lat.notify, 99)),
    notify_max_ms: round(Math.max(...lat.notify)),
    storage: db ? "postgres" : "pglite",
  };
  emit({ phase: "fire_latency", ...fire });
  const ev = evaluatorThroughput();
  emit({ phase: "evaluator", ...ev });
  emit({
    fire_p50_ms: fire.fire_p50_ms,
    fire_p99_ms: fire.fire_p99_ms,
    evals_per_s: ev.evals_per_s,
    crossings: fire.crossings,
    hosts: ev.hosts,
    target_fire_p99_ms: 1000,
    meets_target: fire.fire_p99_ms < 1000,
    notify_p50_ms: fire.notify_p50_ms,
    notify_p99_ms: fire.notify_p99_ms,
    target_notify_p99_ms: 1500,
    meets_notify_target: fire.notify_p99_ms < 1500,
  });
} finally {
  hook.server.close();
  await collector?.kill();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
}
