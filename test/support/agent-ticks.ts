// What a collector stored of one real agent's ticks (interval 1 s), read back through its query API: whether the
// agent has caught up (its spool empty), and whether every tick is there exactly once, with no gap.
import assert from "node:assert/strict";
import { eventually, getJson, type CollectorProc } from "./processes.js";

interface RangeResponse {
  series: { metric: string; labels: Record<string, string>; points: [number, number][] }[];
}

const iso = (t: number) => new Date(t).toISOString();

/** One metric of the host over the last five minutes, at 1 s steps. */
export const hostRange = (c: CollectorProc, host: string, params: string) =>
  getJson<RangeResponse>(`${c.httpUrl}/api/v1/query_range?host=${host}&start=-5m&step=1s&${params}`);

/** Waits until the agent reports an empty spool in a tick after `after`; returns that tick's time. */
export function caughtUp(c: CollectorProc, host: string, after: number): Promise<number> {
  // pending_batches is sampled before its own tick is appended: 0 means every earlier tick was acked, i.e. committed.
  return eventually(
    async () => {
      const p = (await hostRange(c, host, "metric=vigil.agent.spool.pending_batches&agg=last")).series[0]?.points.at(-1);
      return p && p[0] > after && p[1] === 0 ? p[0] : undefined;
    },
    30_000,
    "the agent reports an empty spool",
  );
}

/**
 * One point in every 1 s bucket from the first tick until `until`, none empty, none doubled; the stored ticks start
 * at least `leadMs` / 2 before `mustCover` and go on past it.
 */
export async function assertEveryTickOnce(c: CollectorProc, host: string, o: { until: number; mustCover: number; leadMs: number }): Promise<void> {
  // system.cpu.logical.count is sampled once per tick.
  const r = await hostRange(c, host, "metric=system.cpu.logical.count&agg=count");
  assert.equal(r.series.length, 1);
  const points = r.series[0]!.points.filter(([t]) => t < o.until);
  const times = points.map(([t]) => t);
  assert.ok(times[0]! < o.mustCover - o.leadMs / 2 && times.at(-1)! > o.mustCover + 2000, `stored ticks ${iso(times[0]!)}..${iso(times.at(-1)!)} span ${iso(o.mustCover)}`);
  for (const [t, n] of points) assert.equal(n, 1, `one point at ${iso(t)}`);
  for (let i = 1; i < times.length; i++) assert.equal(times[i]! - times[i - 1]!, 1000, `no gap: ${iso(times[i - 1]!)} then ${iso(times[i]!)}`);
}
