import type { FastifyInstance } from "fastify";
import { parseDuration, type Clock } from "@vigil/shared";
import { badParam, CollectorError, CollectorErrors } from "../errors.js";
import { checkTime, optionalString, parseTime } from "./params.js";
import type { AlertingApi } from "./ports.js";

type Query = Record<string, unknown>;
type Body = Record<string, unknown> | undefined;

const STATES = ["pending", "firing", "resolved"];
const SEVERITIES = ["warning", "critical"];

function bodyOf(raw: unknown): Record<string, unknown> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== "object" || Array.isArray(raw)) throw badParam("body", "expected a JSON object");
  return raw as Record<string, unknown>;
}

function str(b: Record<string, unknown>, key: string, def: string): string {
  const v = b[key];
  if (v === undefined) return def;
  if (typeof v !== "string") throw badParam(key, "expected a string");
  return v;
}

function notFound(what: string): CollectorError {
  return new CollectorError(CollectorErrors.NOT_FOUND, `${what} not found`);
}

export function registerAlertRoutes(app: FastifyInstance, { alerting, clock }: { alerting: AlertingApi; clock: Clock }): void {
  app.get("/api/v1/alerts", async (req) => {
    const q = req.query as Query;
    const state = optionalString(q, "state");
    const severity = optionalString(q, "severity");
    if (state && !STATES.includes(state)) throw badParam("state", `expected one of ${STATES.join(", ")}, got ${JSON.stringify(state)}`);
    if (severity && !SEVERITIES.includes(severity)) throw badParam("severity", `expected one of ${SEVERITIES.join(", ")}, got ${JSON.stringify(severity)}`);
    return { alerts: await alerting.listAlerts({ state, severity, host: optionalString(q, "host"), limit: 1000 }) };
  });

  app.get("/api/v1/alerts/:id", async (req) => {
    const a = await alerting.getAlert((req.params as { id: string }).id);
    if (!a) throw notFound("alert");
    return a;
  });

  for (const action of ["ack", "unack", "resolve"] as const) {
    app.post(`/api/v1/alerts/:id/${action}`, async (req) => {
      const id = (req.params as { id: string }).id;
      const b = bodyOf(req.body as Body);
      const by = str(b, "by", "api");
      if (action === "ack") await alerting.acknowledge(id, by, str(b, "comment", ""));
      else if (action === "unack") await alerting.unacknowledge(id, by);
      else await alerting.resolve(id, by);
      const a = await alerting.getAlert(id);
      if (!a) throw notFound("alert");
      return a;
    });
  }

  app.get("/api/v1/silences", async () => ({ silences: await alerting.listSilences() }));

  app.post("/api/v1/silences", async (req, reply) => {
    const b = bodyOf(req.body as Body);
    const matchers = b.matchers;
    if (typeof matchers !== "object" || matchers === null || Array.isArray(matchers) || Object.keys(matchers).length === 0) {
      throw badParam("matchers", "expected a non-empty object of label matchers");
    }
    for (const [k, v] of Object.entries(matchers)) if (typeof v !== "string") throw badParam(`matchers.${k}`, "expected a string");
    const now = clock.now();
    const startsAt = b.startsAt === undefined ? now : parseTime("startsAt", String(b.startsAt), now, now);
    let endsAt: number;
    if (b.endsAt !== undefined) endsAt = parseTime("endsAt", String(b.endsAt), now, now);
    else if (typeof b.duration === "string") {
      try {
        endsAt = startsAt + parseDuration(b.duration, "duration");
      } catch (err) {
        throw badParam("duration", (err as Error).message.replace(/^duration: /, ""));
      }
      checkTime("duration", endsAt);
    } else throw badParam("endsAt", "required (or duration, e.g. \"2h\")");
    if (endsAt <= startsAt) throw badParam("endsAt", "must be after startsAt");
    const s = await alerting.createSilence({ matchers: matchers as Record<string, string>, startsAt, endsAt, comment: str(b, "comment", ""), createdBy: str(b, "createdBy", "api") });
    return reply.status(201).send(s);
  });

  app.delete("/api/v1/silences/:id", async (req) => {
    if (!(await alerting.deleteSilence((req.params as { id: string }).id))) throw notFound("active silence");
    return { status: "expired" };
  });

  app.get("/api/v1/rules", async () => ({ rules: await alerting.listRules() }));

  app.put("/api/v1/rules/:name", async (req, reply) => {
    const name = (req.params as { name: string }).name;
    const spec = { ...bodyOf(req.body as Body), name };
    const { problems } = await alerting.putRule(name, spec);
    if (problems.length > 0) return reply.status(400).send({ error: { code: CollectorErrors.BAD_PARAM, message: problems.join("\n") } });
    return { status: "stored", name };
  });

  app.delete("/api/v1/rules/:name", async (req) => {
    if (!(await alerting.deleteRule((req.params as { name: string }).name))) throw notFound("API-managed rule");
    return { status: "deleted" };
  });

  app.post("/api/v1/rules/dry-run", async (req, reply) => {
    const b = bodyOf(req.body as Body);
    const now = clock.now();
    const end = parseTime("end", typeof b.end === "string" ? b.end : undefined, now, now);
    const start = parseTime("start", typeof b.start === "string" ? b.start : undefined, now, end - 3_600_000);
    if (start >= end) throw badParam("start", "must be before end");
    const r = await alerting.dryRun(b.rule, start, end);
    if (r.problems.length > 0) return reply.status(400).send({ error: { code: CollectorErrors.BAD_PARAM, message: r.problems.join("\n") } });
    return { events: r.events };
  });
}
