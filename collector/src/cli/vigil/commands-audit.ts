// `vigil audit`: the collector's audit log (admin key), newest first.
import { listField } from "./client.js";
import type { Command } from "./command.js";
import { ago, isRecord, table, text, writeJson } from "./io.js";

const OUTCOMES = ["ok", "denied", "refused", "failed"] as const;

export const auditCommand: Command = {
  name: "audit",
  synopsis: "[--since -24h] [--actor NAME] [--outcome ok|denied|refused|failed] [--limit N]",
  summary: "show the audit log: who changed what, and refused calls (admin key)",
  help: [
    '  --since T       entries from this time on: unix seconds, RFC 3339 or relative ("-24h")',
    "  --actor NAME    only calls made with this API key name",
    `  --outcome O     ${OUTCOMES.join(" | ")} (denied: 401/403)`,
    "  --limit N       at most N entries (default 100, at most 1000)",
  ].join("\n"),
  options: { since: { type: "string" }, actor: { type: "string" }, outcome: { type: "string" }, limit: { type: "string" } },
  arity: [0, 0],
  async run(ctx) {
    const query: [string, string][] = [];
    for (const name of ["since", "actor", "limit"]) {
      const v = ctx.opts.string(name);
      if (v !== undefined) query.push([name, v]);
    }
    const outcome = ctx.opts.choice("outcome", OUTCOMES);
    if (outcome !== undefined) query.push(["outcome", outcome]);
    const body = await ctx.api().request("GET", "/api/v1/audit", { query });
    const entries = listField(body, "entries", "GET /api/v1/audit");
    if (ctx.json) return writeJson(ctx.io, body), 0;
    const rows = entries
      .filter(isRecord)
      .map((e) => [ago(e.time, ctx.now), text(e.actor, "-"), text(e.role, "-"), text(e.action), text(e.target, "-"), text(e.address), `${text(e.outcome)} ${String(e.status)}`]);
    ctx.io.stdout.write(rows.length === 0 ? "no audit entries\n" : table(["WHEN", "WHO", "ROLE", "ACTION", "TARGET", "FROM", "OUTCOME"], rows));
    return 0;
  },
};
