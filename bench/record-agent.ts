// Records the real agent's series set and values on this machine into a fixture for the storage benchmark: starts the
// built collector (embedded PGlite in a temporary directory, no auth) and the built agent sampling every second for
// about two minutes, stops both, then reads every series and sample back from the data directory.
//
//   pnpm build && node --import tsx bench/record-agent.ts [--seconds 125] [--out bench/fixtures/agent-series.json]
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { sql } from "kysely";
import { openDatabase } from "../collector/src/storage/database.js";
import { startAgent, startCollector, type CollectorProc, type Proc } from "../test/support/processes.js";
import type { AgentFixture } from "./storage-replay.js";

const TICKS = 120;
const HOST = "bench-recorded";

const { values: args } = parseArgs({
  options: { seconds: { type: "string", default: "125" }, out: { type: "string", default: resolve(import.meta.dirname, "fixtures/agent-series.json") } },
});
const seconds = Number(args.seconds);
if (!Number.isInteger(seconds) || seconds < TICKS + 3) throw new Error(`--seconds: expected an integer ≥ ${TICKS + 3}, got ${args.seconds}`);

interface Row {
  metric: string;
  labels: Record<string, string>;
  t: number;
  value: number;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-record-"));
  let collector: CollectorProc | undefined;
  let agent: Proc | undefined;
  try {
    collector = await startCollector({ dataDir: dir });
    agent = startAgent(["--collector", collector.grpcAddress, "--interval", "1s", "--hostname", HOST]);
    process.stderr.write(`recording the agent for ${seconds} s…\n`);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    await agent.kill();
    await collector.kill(); // releases the data directory's lock
    const store = await openDatabase({ dataDir: dir });
    try {
      const r = await sql<Row>`
        SELECT s.metric, s.labels, (extract(epoch FROM x.time) * 1000)::float8 AS t, x.value
        FROM samples x JOIN series s ON s.id = x.series_id JOIN hosts h ON h.id = s.host_id
        WHERE h.name = ${HOST} ORDER BY s.metric, s.labels::text, x.time`.execute(store.db);
      writeFixture(r.rows);
    } finally {
      await store.close();
    }
  } finally {
    await agent?.kill();
    await collector?.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The last TICKS ticks at which every series has a value (rate series skip the agent's first tick). */
function writeFixture(rows: Row[]): void {
  const bySeries = new Map<string, { metric: string; labels: Record<string, string>; at: Map<number, number> }>();
  for (const r of rows) {
    const key = `${r.metric} ${JSON.stringify(r.labels)}`;
    const s = bySeries.get(key) ?? bySeries.set(key, { metric: r.metric, labels: r.labels, at: new Map() }).get(key)!;
    s.at.set(r.t, r.value);
  }
  const all = [...bySeries.values()];
  const ticks = [...new Set(rows.map((r) => r.t))].sort((a, b) => a - b).filter((t) => all.every((s) => s.at.has(t)));
  if (ticks.length < TICKS) throw new Error(`only ${ticks.length} ticks have every series; record longer`);
  const kept = ticks.slice(-TICKS);
  const fixture: AgentFixture = {
    note: "The agent's series (host label left out) and values at 1 s ticks on the machine that ran bench/record-agent.ts",
    recordedAt: new Date(kept[0]!).toISOString(),
    intervalMs: 1000,
    cpuCount: cpus().length,
    ticks: kept.length,
    series: all.map((s) => ({ metric: s.metric, labels: s.labels, values: kept.map((t) => s.at.get(t)!) })),
  };
  mkdirSync(dirname(args.out), { recursive: true });
  writeFileSync(args.out, `${JSON.stringify(fixture, null, 0).replaceAll(',{"metric"', ',\n{"metric"')}\n`);
  process.stderr.write(`${all.length} series × ${kept.length} ticks → ${args.out}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`record-agent: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
