// Helpers shared by the alerting items of the hostile suite (1, 2, 4, 8): API rules, firing alerts, error bodies.
import assert from "node:assert/strict";
import { eventually } from "../support/processes.js";
import type { HostileContext, HttpAnswer } from "./harness.js";

export interface AlertJson {
  id: string;
  rule: string;
  state: string;
  labels: Record<string, string>;
  acknowledged: { by: string; at: string; comment: string } | null;
  silencedBy: string[];
}

export function errorOf(r: HttpAnswer): { code: string; message: string } {
  const e = (r.json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  assert.ok(e && typeof e.code === "string" && typeof e.message === "string", `error body: ${r.text.slice(0, 300)}`);
  return { code: e.code as string, message: e.message as string };
}

export async function putRule(ctx: HostileContext, name: string, spec: Record<string, unknown>): Promise<void> {
  const r = await ctx.http("PUT", `/api/v1/rules/${name}`, spec);
  assert.equal(r.status, 200, r.text);
}

export async function deleteRule(ctx: HostileContext, name: string): Promise<void> {
  const r = await ctx.http("DELETE", `/api/v1/rules/${name}`);
  assert.equal(r.status, 200, r.text);
}

/** The firing alert of an API rule on the suite's agent host (waits for it). */
export async function firingAlert(ctx: HostileContext, rule: string): Promise<AlertJson> {
  return eventually(async () => {
    const r = await ctx.http("GET", `/api/v1/alerts?state=firing&host=${ctx.agentHost}`);
    return (r.json as { alerts: AlertJson[] }).alerts.find((a) => a.rule === rule);
  }, 15_000, `alert ${rule} firing`);
}

/** `vigil_alerting_skipped_rows{table}` from /metrics. */
export async function skippedRows(ctx: HostileContext, table: string): Promise<number> {
  const r = await ctx.http("GET", "/metrics");
  const m = new RegExp(`^vigil_alerting_skipped_rows\\{table="${table}"\\} (\\d+)$`, "m").exec(r.text);
  assert.ok(m, `no vigil_alerting_skipped_rows{table="${table}"} in /metrics`);
  return Number(m[1]);
}

/** Times /healthz every 100 ms while `work` runs; returns the work's result and the slowest answer in ms. */
export async function whileProbingHealthz<T>(ctx: HostileContext, work: () => Promise<T>): Promise<{ result: T; worstMs: number }> {
  let worstMs = 0;
  let done = false;
  const probe = (async () => {
    while (!done) {
      const t0 = Date.now();
      await ctx.http("GET", "/healthz");
      worstMs = Math.max(worstMs, Date.now() - t0);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  try {
    const result = await work();
    done = true;
    await probe;
    return { result, worstMs };
  } finally {
    done = true;
  }
}
