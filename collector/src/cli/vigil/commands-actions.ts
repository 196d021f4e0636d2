// Commands that change alerts and silences: ack, unack, resolve, silence, silences, unsilence.
import { formatDuration } from "@vigil/shared";
import { patternProblem } from "../../rules/index.js";
import { listField } from "./client.js";
import type { Command, Context } from "./command.js";
import { ago, formatLabels, isRecord, labelsOf, table, text, toMs, UsageError, writeJson } from "./io.js";

/** The operator's name: --by, else $USER (or $LOGNAME). */
function operator(ctx: Context): string {
  const by = ctx.opts.string("by") ?? ctx.io.env.USER ?? ctx.io.env.LOGNAME;
  if (by === undefined || by.trim() === "") throw new UsageError("--by: not given, and $USER is not set");
  return by;
}

const alertPath = (id: string, action: string): string => `/api/v1/alerts/${encodeURIComponent(id)}/${action}`;

function alertAction(name: "ack" | "unack" | "resolve", summary: string, done: string, withComment: boolean): Command {
  const action = name;
  return {
    name,
    synopsis: withComment ? "ID [--comment TEXT] [--by NAME]" : "ID [--by NAME]",
    summary,
    help: `  --by NAME       who does it (default $USER)${withComment ? "\n  --comment TEXT  why (shown with the alert)" : ""}\nPOSTs ${alertPath("ID", action)}.`,
    options: withComment ? { comment: { type: "string" }, by: { type: "string" } } : { by: { type: "string" } },
    arity: [1, 1],
    argName: "the alert ID (see vigil alerts)",
    async run(ctx) {
      const id = ctx.args[0]!;
      const by = operator(ctx);
      const body = withComment ? { by, comment: ctx.opts.string("comment") ?? "" } : { by };
      const res = await ctx.api().request("POST", alertPath(id, action), { body });
      if (ctx.json) return writeJson(ctx.io, res), 0;
      ctx.io.stdout.write(`alert ${id} ${done} by ${by}\n`);
      return 0;
    },
  };
}

export const ackCommand = alertAction("ack", "acknowledge an alert", "acknowledged", true);
export const unackCommand = alertAction("unack", "remove an alert's acknowledgement", "unacknowledged", false);
export const resolveCommand = alertAction("resolve", "resolve an alert by hand", "resolved", false);

export const silenceCommand: Command = {
  name: "silence",
  synopsis: "--match k=v [--match k=v]... --for DURATION [--comment TEXT] [--by NAME]",
  summary: "silence the alerts whose labels match, for a while",
  help: [
    '  --match k=v     label matcher (repeatable): v equals, "~re" regex, "!v" differs, "" absent',
    "  --for D         how long, from now (\"2h\", \"30m\")",
    "  --comment TEXT  why",
    "  --by NAME       who (default $USER)",
    "Example: vigil silence --match host=web-1 --match alertname=disk-full --for 2h --comment 'resizing'",
  ].join("\n"),
  options: { match: { type: "string", multiple: true }, for: { type: "string" }, comment: { type: "string" }, by: { type: "string" } },
  arity: [0, 0],
  async run(ctx) {
    const matchers = ctx.opts.labels("match");
    if (Object.keys(matchers).length === 0) throw new UsageError("--match: at least one k=v matcher is required (a silence of everything is refused)");
    for (const [k, v] of Object.entries(matchers)) {
      const problem = patternProblem(v);
      if (problem !== null) throw new UsageError(`--match ${k}=${v}: ${problem}`);
    }
    const forMs = ctx.opts.duration("for");
    if (forMs === undefined) throw new UsageError("--for: required (how long the silence lasts, e.g. 2h)");
    if (forMs <= 0) throw new UsageError(`--for: must be longer than 0s, got ${JSON.stringify(ctx.opts.string("for"))}`);
    const body = {
      matchers,
      startsAt: new Date(ctx.now).toISOString(),
      endsAt: new Date(ctx.now + forMs).toISOString(),
      comment: ctx.opts.string("comment") ?? "",
      createdBy: operator(ctx),
    };
    const res = await ctx.api().request("POST", "/api/v1/silences", { body });
    if (ctx.json) return writeJson(ctx.io, res), 0;
    const created = isRecord(res) && isRecord(res.silence) ? res.silence : res;
    const id = isRecord(created) ? text(created.id, "") : "";
    ctx.io.stdout.write(`silence ${id || "(no id returned)"} created: ${formatLabels(matchers)} until ${body.endsAt} (${formatDuration(forMs)})\n`);
    return 0;
  },
};

function silenceState(s: Record<string, unknown>, now: number): string {
  if (typeof s.state === "string") return s.state;
  const start = toMs(s.startsAt);
  const end = toMs(s.endsAt);
  return end !== null && end <= now ? "expired" : start !== null && start > now ? "pending" : "active";
}

export const silencesCommand: Command = {
  name: "silences",
  synopsis: "",
  summary: "list silences",
  help: "GETs /api/v1/silences.",
  options: {},
  arity: [0, 0],
  async run(ctx) {
    const body = await ctx.api().request("GET", "/api/v1/silences");
    const silences = listField(body, "silences", "GET /api/v1/silences").filter(isRecord);
    if (ctx.json) return writeJson(ctx.io, body), 0;
    // Stored silences the collector refuses to apply (bad matchers): say so, so they can be expired.
    const invalid = isRecord(body) && Array.isArray(body.invalid) ? body.invalid.filter(isRecord) : [];
    for (const bad of invalid) ctx.io.stderr.write(`warning: stored silence ${text(bad.id)} is invalid and ignored (${text(bad.problem)}); expire it: vigil unsilence ${text(bad.id)}\n`);
    if (silences.length === 0) {
      ctx.io.stdout.write("no silences\n");
      return 0;
    }
    const rows = silences.map((s) => [text(s.id), silenceState(s, ctx.now), formatLabels(labelsOf(s.matchers)), ago(s.startsAt, ctx.now), ago(s.endsAt, ctx.now), text(s.createdBy), text(s.comment)]);
    ctx.io.stdout.write(table(["ID", "STATE", "MATCHERS", "STARTS", "ENDS", "BY", "COMMENT"], rows));
    return 0;
  },
};

export const unsilenceCommand: Command = {
  name: "unsilence",
  synopsis: "ID",
  summary: "delete a silence",
  help: "DELETEs /api/v1/silences/ID.",
  options: {},
  arity: [1, 1],
  argName: "the silence ID (see vigil silences)",
  async run(ctx) {
    const id = ctx.args[0]!;
    const res = await ctx.api().request("DELETE", `/api/v1/silences/${encodeURIComponent(id)}`);
    if (ctx.json) return writeJson(ctx.io, res ?? { deleted: id }), 0;
    ctx.io.stdout.write(`silence ${id} deleted\n`);
    return 0;
  },
};

export const notifyTestCommand: Command = {
  name: "notify test",
  synopsis: "RECEIVER",
  summary: "send a test notification to a receiver",
  help: "POSTs /api/v1/receivers/RECEIVER/test: the collector sends a test message now and reports the outcome.",
  options: {},
  arity: [1, 1],
  argName: "the receiver's name (as in the collector's notifications.receivers)",
  async run(ctx) {
    const name = ctx.args[0]!;
    const res = (await ctx.api().request("POST", `/api/v1/receivers/${encodeURIComponent(name)}/test`, { body: {} })) as { outcome: string; detail: string };
    if (ctx.json) return writeJson(ctx.io, res), 0;
    ctx.io.stdout.write(`${name}: ${res.outcome}${res.detail ? ` (${res.detail})` : ""}\n`);
    return res.outcome === "delivered" ? 0 : 1;
  },
};
