// What authentication costs a query: `query_range` latency with and without an API key, same collector, same run.
// The collector runs with --insecure-no-auth, where a call without a key goes straight in and a call with one has the
// key checked (hash, cache, and the database on a cache miss) before the route: the difference is the key check.
// Calls alternate between the two, so drift on a noisy machine falls on both alike. Data: one host, 20 series of an
// hour at 10 s; each call reads all 20 (step 1m, 60 points each).
// DATABASE_URL: Postgres; otherwise embedded PGlite. Prints JSON lines; summary last (ratio = with / without key).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { batch, hello, isAck, isWelcome, makeClient, openStream } from "../test/support/ingest-client.js";
import { createTestDatabase, type TestDatabase } from "../test/support/postgres.js";
import { COLLECTOR_BIN, startCollector } from "../test/support/processes.js";

const CALLS = Number(process.env.BENCH_CALLS ?? 1000);
const SERIES = 20;
const emit = (o: Record<string, unknown>) => console.log(JSON.stringify(o));
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const round = (v: number) => Math.round(v * 1000) / 1000;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-bench-auth-"));
  const testDb: TestDatabase | undefined = process.env.DATABASE_URL ? await createTestDatabase() : undefined;
  const dataDir = join(dir, "data");
  const made = spawnSync(process.execPath, [COLLECTOR_BIN, "apikey", "create", "--name", "bench", "--role", "viewer", "--data-dir", dataDir], {
    env: { ...process.env, DATABASE_URL: testDb?.url ?? "", VIGIL_LOG_LEVEL: "warn" },
    encoding: "utf8",
  });
  if (made.status !== 0) throw new Error(`apikey create failed: ${made.stderr}`);
  const key = made.stdout.trim();
  const collector = await startCollector({ databaseUrl: testDb?.url, dataDir });
  try {
    const stream = openStream(makeClient(collector.grpcAddress));
    stream.send(hello("bench-auth"));
    await stream.next(isWelcome, "Welcome");
    const t0 = Math.floor(Date.now() / 10_000) * 10_000 - 3_600_000;
    const refs = Array.from({ length: SERIES }, (_, i) => i + 1);
    for (let i = 0; i < 360; i++) {
      const declare = i === 0 ? refs.map((ref) => ({ ref, metric: "bench.gauge", labels: { n: String(ref) } })) : [];
      stream.send(batch({ seq: i + 1, timeMs: t0 + i * 10_000, declare, refs, values: refs.map((r) => Math.sin(i / 10 + r)) }));
    }
    await stream.next(isAck(360), "last ack");
    stream.close();

    const url = `${collector.httpUrl}/api/v1/query_range?metric=bench.gauge&host=bench-auth&start=-1h&step=1m`;
    const call = async (withKey: boolean): Promise<number> => {
      const start = performance.now();
      const r = await fetch(url, withKey ? { headers: { authorization: `Bearer ${key}` } } : {});
      const body = (await r.json()) as { series?: unknown[] };
      if (r.status !== 200 || body.series?.length !== SERIES) throw new Error(`query_range answered ${r.status} with ${body.series?.length} series`);
      return performance.now() - start;
    };
    for (let i = 0; i < 50; i++) await call(i % 2 === 0); // warm-up: JIT, pools, the key's cache entry
    const without: number[] = [];
    const withKey: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      without.push(await call(false));
      withKey.push(await call(true));
    }
    const stats = (xs: number[]) => ({ p50_ms: round(pct(xs, 50)), p99_ms: round(pct(xs, 99)), mean_ms: round(xs.reduce((a, b) => a + b, 0) / xs.length) });
    const a = stats(without);
    const b = stats(withKey);
    emit({ bench: "api-auth", mode: "without_key", calls: CALLS, ...a });
    emit({ bench: "api-auth", mode: "with_key", calls: CALLS, ...b });
    emit({
      bench: "api-auth",
      summary: true,
      storage: testDb ? "postgres" : "pglite",
      query_range_p50_ratio: round(b.p50_ms / a.p50_ms),
      query_range_p99_ratio: round(b.p99_ms / a.p99_ms),
      query_range_mean_ratio: round(b.mean_ms / a.mean_ms),
    });
  } finally {
    await collector.kill();
    await testDb?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
