// Commands that read the collector's API: hosts, query, alerts.
import { listField, type Query } from "./client.js";
import type { Command } from "./command.js";
import { ago, formatLabels, formatValue, isRecord, labelsOf, table, text, toMs, writeJson } from "./io.js";

const AGGS = ["avg", "min", "max", "last", "sum"] as const;
const STATES = ["firing", "pending", "resolved"] as const;
const SEVERITIES = ["warning", "critical"] as const;

export const hostsCommand: Command = {
  name: "hosts",
  synopsis: "",
  summary: "list the hosts that report to the collector",
  help: "Columns: name, up, worst health-check status, last report, agent version.",
  options: {},
  arity: [0, 0],
  async run(ctx) {
    const body = await ctx.api().request("GET", "/api/v1/hosts");
    const hosts = listField(body, "hosts", "GET /api/v1/hosts");
    if (ctx.json) return writeJson(ctx.io, body), 0;
    const rows = hosts.filter(isRecord).map((h) => [text(h.name), h.up === true ? "up" : "DOWN", text(h.health), ago(h.lastSeen, ctx.now), text(h.agentVersion)]);
    ctx.io.stdout.write(rows.length === 0 ? "no hosts have reported yet\n" : table(["NAME", "UP", "HEALTH", "LAST SEEN", "AGENT"], rows));
    return 0;
  },
};

export const queryCommand: Command = {
  name: "query",
  synopsis: "METRIC [--host H] [--match k=v]... [--start -1h] [--end now] [--step 1m] [--agg avg]",
  summary: "query a metric over a time range (series and their last values)",
  help: [
    "  --host H        only series of this host",
    "  --match k=v     label matcher (repeatable): k=v, k=~re (whole value, RE2), k=!v, k=!~re, k= (absent)",
    '  --start, --end  unix seconds, RFC 3339, "now" or relative ("-1h"); default -1h .. now',
    "  --step D        resolution (\"1m\", or seconds); default: about 250 points",
    `  --agg F         ${AGGS.join(" | ")} within each step (default avg)`,
  ].join("\n"),
  options: { host: { type: "string" }, match: { type: "string", multiple: true }, start: { type: "string" }, end: { type: "string" }, step: { type: "string" }, agg: { type: "string" } },
  arity: [1, 1],
  argName: "the METRIC name",
  async run(ctx) {
    const metric = ctx.args[0]!;
    const query: [string, string][] = [["metric", metric]];
    const host = ctx.opts.string("host");
    if (host !== undefined) query.push(["host", host]);
    for (const [k, v] of Object.entries(ctx.opts.labels("match"))) query.push([`match[${k}]`, v]);
    query.push(["start", ctx.opts.string("start") ?? "-1h"], ["end", ctx.opts.string("end") ?? "now"]);
    const step = ctx.opts.string("step");
    if (step !== undefined) query.push(["step", step]);
    const agg = ctx.opts.choice("agg", AGGS);
    if (agg !== undefined) query.push(["agg", agg]);
    const body = await ctx.api().request("GET", "/api/v1/query_range", { query });
    const series = listField(body, "series", "GET /api/v1/query_range");
    if (ctx.json) return writeJson(ctx.io, body), 0;
    if (series.length === 0) {
      ctx.io.stdout.write(`no series of ${metric} in the range\n`);
      return 0;
    }
    const rows = series.filter(isRecord).map((s) => {
      const points = Array.isArray(s.points) ? s.points.filter((p): p is [number, number] => Array.isArray(p) && typeof p[0] === "number") : [];
      const last = points[points.length - 1];
      const values = points.map((p) => p[1]).filter((v) => typeof v === "number");
      return [
        `${text(s.metric, metric)}${formatLabels(labelsOf(s.labels))}`,
        String(points.length),
        values.length ? formatValue(Math.min(...values)) : "-",
        values.length ? formatValue(Math.max(...values)) : "-",
        last ? formatValue(last[1]) : "-",
        last ? ago(last[0] < 1e11 ? last[0] * 1000 : last[0], ctx.now) : "-",
      ];
    });
    ctx.io.stdout.write(table(["SERIES", "POINTS", "MIN", "MAX", "LAST", "AT"], rows));
    return 0;
  },
};

/** One alert as a table row. */
function alertRow(a: Record<string, unknown>, now: number): string[] {
  const labels = labelsOf(a.labels);
  const ack = isRecord(a.acknowledged) ? text(a.acknowledged.by, "yes") : "-";
  const silenced = Array.isArray(a.silencedBy) && a.silencedBy.length > 0 ? a.silencedBy.map((s) => text(s)).join(",") : "-";
  const since = a.state === "resolved" ? a.resolvedAt : a.state === "firing" ? (a.firingSince ?? a.activeSince) : a.activeSince;
  const details = formatLabels(labels, ["host", "alertname"]);
  return [text(a.id), text(a.state), text(a.severity), text(a.rule ?? a.ruleName), text(labels.host), ago(since, now), formatValue(a.value), ack, silenced, text(a.summary, details || "-")];
}

export const alertsCommand: Command = {
  name: "alerts",
  synopsis: "[--state firing|pending|resolved] [--severity warning|critical] [--host H]",
  summary: "list alerts",
  help: "SINCE is when the alert started firing (pending: since when; resolved: when it resolved).",
  options: { state: { type: "string" }, severity: { type: "string" }, host: { type: "string" } },
  arity: [0, 0],
  async run(ctx) {
    const state = ctx.opts.choice("state", STATES);
    const severity = ctx.opts.choice("severity", SEVERITIES);
    const host = ctx.opts.string("host");
    const query: Query = [
      ...(state ? [["state", state] as const] : []),
      ...(severity ? [["severity", severity] as const] : []),
      ...(host !== undefined ? [["host", host] as const] : []),
    ];
    const body = await ctx.api().request("GET", "/api/v1/alerts", { query });
    // Filtered here too, so the listing is right whatever filters the server applies.
    const alerts = listField(body, "alerts", "GET /api/v1/alerts")
      .filter(isRecord)
      .filter((a) => (!state || a.state === state) && (!severity || a.severity === severity) && (host === undefined || labelsOf(a.labels).host === host));
    if (ctx.json) return writeJson(ctx.io, { alerts }), 0;
    if (alerts.length === 0) {
      ctx.io.stdout.write("no alerts\n");
      return 0;
    }
    alerts.sort((a, b) => (toMs(b.activeSince) ?? 0) - (toMs(a.activeSince) ?? 0));
    ctx.io.stdout.write(table(["ID", "STATE", "SEVERITY", "RULE", "HOST", "SINCE", "VALUE", "ACK", "SILENCED", "SUMMARY"], alerts.map((a) => alertRow(a, ctx.now))));
    return 0;
  },
};

