// Agent replay footprint: a full spool (default 256 MiB of host-like batches) replayed to a real collector.
// Reports the agent's RSS (max) and CPU while it replays, for BENCH_REPLAY_SECONDS (default 60) or until done.
//   BENCH_SPOOL_MB (default 256). Target: RSS stays under 120 MB. Prints JSON lines; the summary is the last.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, systemClock } from "@vigil/shared";
import { SeriesTable } from "../agent/src/series-table.js";
import { Spool } from "../agent/src/spool/index.js";
import { startAgent, startCollector, type Proc } from "../test/support/processes.js";

const SPOOL_MB = Number(process.env.BENCH_SPOOL_MB ?? 256);
const SECONDS = Number(process.env.BENCH_REPLAY_SECONDS ?? 60);
const POINTS = 88; // what this machine's agent sends per tick (bench/agent.ts measures it)
const CLK_TCK = 100;
const MB = 1024 * 1024;
const emit = (o: Record<string, unknown>) => console.log(JSON.stringify(o));

function procCpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;

const dir = mkdtempSync(join(tmpdir(), "vigil-replay-"));
let agent: Proc | undefined;
let collector: Awaited<ReturnType<typeof startCollector>> | undefined;
try {
  // Fill the spool as an agent cut off for days would have: one batch per 10 s tick, host-like series.
  const series = new SeriesTable();
  const spool = Spool.open({ dir: join(dir, "spool"), maxBytes: SPOOL_MB * MB, fsync: "never", clock: systemClock, log: createLogger("bench", "silent") });
  const refs = Array.from({ length: POINTS }, (_, i) => series.ref(`bench.replay.m${i % 11}`, { n: String(i) }));
  const start = Date.now() - 47 * 3_600_000;
  let n = 0;
  while (spool.stats.bytes < SPOOL_MB * MB * 0.97 && spool.stats.droppedBatches === 0) {
    spool.append({ seq: ++n, timeMs: start + n * 10, refs, values: refs.map((_, i) => i + n) }, (r) => series.def(r));
  }
  const batches = spool.stats.pendingBatches;
  emit({ phase: "fill", spool_mb: Math.round(spool.stats.bytes / MB), batches, points_per_batch: POINTS });
  spool.close();

  collector = await startCollector({ dataDir: join(dir, "data") });
  agent = startAgent(["--collector", collector.grpcAddress, "--interval", "10s", "--spool-dir", join(dir, "spool"), "--hostname", "replay-bench"]);
  const pid = agent.child.pid!;
  await agent.waitForLog((l) => l.msg === "connected to collector", 60_000);
  const cpu0 = procCpuMs(pid);
  const t0 = Date.now();
  let maxRss = 0;
  let done = false;
  void agent.waitForLog((l) => l.msg === "backlog replayed", SECONDS * 1000 + 5000).then(() => (done = true), () => {});
  while (!done && Date.now() - t0 < SECONDS * 1000) {
    maxRss = Math.max(maxRss, rssMb(pid));
    await new Promise((r) => setTimeout(r, 250));
  }
  const seconds = (Date.now() - t0) / 1000;
  const cpuMs = procCpuMs(pid) - cpu0;
  const metrics = await (await fetch(`${collector.httpUrl}/metrics`)).text();
  const received = Number(/^vigil_ingest_batches_total (\S+)$/m.exec(metrics)?.[1] ?? 0);
  emit({
    replay_seconds: Math.round(seconds * 10) / 10,
    replay_done: done,
    replay_batches_received: received,
    replay_batches_per_s: Math.round(received / seconds),
    replay_agent_rss_max_mb: Math.round(maxRss * 10) / 10,
    replay_agent_cpu_ms_per_s: Math.round(cpuMs / seconds),
    spool_mb: SPOOL_MB,
    target_rss_max_mb: 120,
    meets_target: maxRss <= 120,
  });
} finally {
  await agent?.kill();
  await collector?.kill();
  rmSync(dir, { recursive: true, force: true });
}
