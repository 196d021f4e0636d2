import type { FastifyInstance } from "fastify";
import { parseDuration, type Clock } from "@vigil/shared";
import { badParam, CollectorError, CollectorErrors } from "../errors.js";
import { textProblem } from "../text-input.js";
import { actorName } from "./authenticate.js";
import { optionalString, parseTime } from "./params.js";
import type { AlertingApi, EventsPageQuery } from "./ports.js";

type Query = Record<string, unknown>;
type Body = Record<string, unknown> | undefined;

const STATES = ["pending", "firing", "resolved"];
const SEVERITIES = ["warning", "critical"];
const DAY = 86_400_000;

/** Bounds of what people type: who did it, and why. */
export const TEXT_LIMITS = { by: 100, comment: 1000 } as const;
/** Events per page of an alert's history (default, most). */
export const EVENTS_PAGE = { default: 100, max: 1000 } as const;
/** A silence lasts at most a year and starts at most a day back or a year ahead. */
export const SILENCE_TIMES = { maxDurationMs: 365 * DAY, maxStartBackMs: DAY, maxStartAheadMs: 365 * DAY } as const;
const MAX_EVENT_ID = 2n ** 63n - 1n;

function bodyOf(raw: unknown): Record<string, unknown> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== "object" || Array.isArray(raw)) throw badParam("body", "expected a JSON object");
  return raw as Record<string, unknown>;
}

/** A text field of the body: a string within its bound and without control characters (newlines where `multiline`). */
function text(b: Record<string, unknown>, key: string, def: string, opts: { max: number; multiline?: boolean; nonEmpty?: boolean }): string {
  const v = b[key];
  if (v === undefined) return def;
  if (typeof v !== "string") throw badParam(key, "expected a string");
  const problem = textProblem(v, opts);
  if (problem) throw badParam(key, problem);
  return v;
}

const by = (b: Record<string, unknown>): string => text(b, "by", "api", { max: TEXT_LIMITS.by, nonEmpty: true });

function eventsPage(q: Query): EventsPageQuery {
  const limitText = optionalString(q, "limit");
  let limit: number = EVENTS_PAGE.default;
  if (limitText !== undefined) {
    if (!/^\d{1,7}$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > EVENTS_PAGE.max) throw badParam("limit", `expected a whole number from 1 to ${EVENTS_PAGE.max}, got ${JSON.stringify(limitText.slice(0, 40))}`);
    limit = Number(limitText);
  }
  const before = optionalString(q, "before");
  if (before !== undefined && (!/^[1-9]\d{0,18}$/.test(before) || BigInt(before) > MAX_EVENT_ID)) {
    throw badParam("before", `expected an event id (the "eventsBefore" or "next" cursor), got ${JSON.stringify(before.slice(0, 40))}`);
  }
  return before === undefined ? { limit } : { limit, before };
}

/** startsAt/endsAt of a new silence from `startsAt`, and `endsAt` or `duration`, within SILENCE_TIMES. */
function silenceTimes(b: Record<string, unknown>, now: number): { startsAt: number; endsAt: number } {
  const time = (key: string): string | undefined => {
    const v = b[key];
    if (v === undefined) return undefined;
    if (typeof v !== "string" && typeof v !== "number") throw badParam(key, "expected a time (RFC 3339, unix seconds or relative like \"-1h\")");
    return String(v);
  };
  const startsAt = parseTime("startsAt", time("startsAt"), now, now);
  if (startsAt < now - SILENCE_TIMES.maxStartBackMs || startsAt > now + SILENCE_TIMES.maxStartAheadMs) throw badParam("startsAt", "must be within a day before now and a year after");
  let endsAt: number;
  const endsText = time("endsAt");
  if (endsText !== undefined) {
    endsAt = parseTime("endsAt", endsText, now, now);
    if (endsAt <= startsAt) throw badParam("endsAt", "must be after startsAt");
    if (endsAt - startsAt > SILENCE_TIMES.maxDurationMs) throw badParam("endsAt", "a silence lasts at most 365d");
  } else if (typeof b.duration === "string") {
    let ms: number;
    try {
      ms = parseDuration(b.duration, "duration");
    } catch (err) {
      throw badParam("duration", (err as Error).message.replace(/^duration: /, ""));
    }
    if (ms <= 0 || ms > SILENCE_TIMES.maxDurationMs) throw badParam("duration", `must be more than 0s and at most 365d, got ${JSON.stringify(b.duration.slice(0, 40))}`);
    endsAt = startsAt + ms;
  } else throw badParam("endsAt", "required (or duration, e.g. \"2h\")");
  return { startsAt, endsAt };
}

function notFound(what: string): CollectorError {
  return new CollectorError(CollectorErrors.NOT_FOUND, `${what} not found`);
}

export function registerAlertRoutes(app: FastifyInstance, { alerting, clock }: { alerting: AlertingApi; clock: Clock }): void {
  app.get("/api/v1/alerts", { config: { access: "viewer" } }, async (req) => {
    const q = req.query as Query;
    const state = optionalString(q, "state");
    const severity = optionalString(q, "severity");
    if (state && !STATES.includes(state)) throw badParam("state", `expected one of ${STATES.join(", ")}, got ${JSON.stringify(state)}`);
    if (severity && !SEVERITIES.includes(severity)) throw badParam("severity", `expected one of ${SEVERITIES.join(", ")}, got ${JSON.stringify(severity)}`);
    return { alerts: await alerting.listAlerts({ state, severity, host: optionalString(q, "host"), limit: 1000 }) };
  });

  // The alert with its latest events (a page: `limit`, `before`); older ones via `eventsBefore` or /events.
  app.get("/api/v1/alerts/:id", { config: { access: "viewer" } }, async (req) => {
    const a = await alerting.getAlert((req.params as { id: string }).id, eventsPage(req.query as Query));
    if (!a) throw notFound("alert");
    return a;
  });

  app.get("/api/v1/alerts/:id/events", { config: { access: "viewer" } }, async (req) => {
    const page = await alerting.alertEvents((req.params as { id: string }).id, eventsPage(req.query as Query));
    if (!page) throw notFound("alert");
    return page;
  });

  for (const action of ["ack", "unack", "resolve"] as const) {
    app.post(`/api/v1/alerts/:id/${action}`, { config: { access: "operator" } }, async (req) => {
      const id = (req.params as { id: string }).id;
      const b = bodyOf(req.body as Body);
      const who = actorName(req, by(b));
      if (action === "ack") await alerting.acknowledge(id, who, text(b, "comment", "", { max: TEXT_LIMITS.comment, multiline: true }));
      else if (action === "unack") await alerting.unacknowledge(id, who);
      else await alerting.resolve(id, who);
      const a = await alerting.getAlert(id, { limit: EVENTS_PAGE.default });
      if (!a) throw notFound("alert");
      return a;
    });
  }

  app.get("/api/v1/silences", { config: { access: "viewer" } }, async () => alerting.listSilences());

  app.post("/api/v1/silences", { config: { access: "operator" } }, async (req, reply) => {
    const b = bodyOf(req.body as Body);
    const { startsAt, endsAt } = silenceTimes(b, clock.now());
    const comment = text(b, "comment", "", { max: TEXT_LIMITS.comment, multiline: true });
    const createdBy = actorName(req, text(b, "createdBy", "api", { max: TEXT_LIMITS.by, nonEmpty: true }));
    // Matchers are checked by alerting, like a rule's (count, names, values, patterns): 400 naming matchers.NAME.
    const s = await alerting.createSilence({ matchers: b.matchers, startsAt, endsAt, comment, createdBy });
    req.auditTarget = s.id;
    return reply.status(201).send(s);
  });

  app.delete("/api/v1/silences/:id", { config: { access: "operator" } }, async (req) => {
    if (!(await alerting.deleteSilence((req.params as { id: string }).id))) throw notFound("active silence");
    return { status: "expired" };
  });

  app.get("/api/v1/rules", { config: { access: "viewer" } }, async () => ({ rules: await alerting.listRules() }));

  app.put("/api/v1/rules/:name", { config: { access: "admin" } }, async (req, reply) => {
    const name = (req.params as { name: string }).name;
    const spec = { ...bodyOf(req.body as Body), name };
    const { problems } = await alerting.putRule(name, spec);
    if (problems.length > 0) return reply.status(400).send({ error: { code: CollectorErrors.BAD_PARAM, message: problems.join("\n") } });
    return { status: "stored", name };
  });

  app.delete("/api/v1/rules/:name", { config: { access: "admin" } }, async (req) => {
    if (!(await alerting.deleteRule((req.params as { name: string }).name))) throw notFound("API-managed rule");
    return { status: "deleted" };
  });

  app.post("/api/v1/rules/dry-run", { config: { access: "viewer" } }, async (req, reply) => {
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
