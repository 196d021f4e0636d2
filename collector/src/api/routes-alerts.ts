import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { parseDuration, type Clock } from "@vigil/shared";
import { badParam, CollectorError, CollectorErrors } from "../errors.js";
import { actorName } from "./authenticate.js";
import { parseTime } from "./params.js";
import { TEXT_LIMITS, type AlertingApi } from "./ports.js";
import { anyObjectBody, objectBody, optionalOneOf, optionalText, personText, wholeNumber } from "./request-schemas.js";
import { alertList, alertWithEvents, createdSilence, dryRunAnswer, errorBody, eventPage, ruleList, silenceList, statusAnswer } from "./view-schemas.js";

const DAY = 86_400_000;
/** Body limits: acks and silences are a few fields; a rule (or a dry run's) is larger but still one small document. */
export const SMALL_BODY_LIMIT = 16 * 1024;
export const RULE_BODY_LIMIT = 256 * 1024;

/** Events per page of an alert's history (default, most). */
export const EVENTS_PAGE = { default: 100, max: 1000 } as const;
/** A silence lasts at most a year and starts at most a day back or a year ahead. */
export const SILENCE_TIMES = { maxDurationMs: 365 * DAY, maxStartBackMs: DAY, maxStartAheadMs: 365 * DAY } as const;
const MAX_EVENT_ID = 2n ** 63n - 1n;

const MAX_EVENT_ID_DIGITS = /^[1-9]\d{0,18}$/;

const eventsPageQuery = z.object({
  limit: wholeNumber(EVENTS_PAGE.max, EVENTS_PAGE.default, `events per page (default ${EVENTS_PAGE.default})`),
  before: optionalText('the "eventsBefore" or "next" cursor: events older than this event id').refine(
    (v) => v === undefined || (MAX_EVENT_ID_DIGITS.test(v) && BigInt(v) <= MAX_EVENT_ID),
    (v) => ({ message: `expected an event id (the "eventsBefore" or "next" cursor), got ${JSON.stringify(String(v).slice(0, 40))}` }),
  ),
});

const by = () => personText({ max: TEXT_LIMITS.by, nonEmpty: true }, 'who did it; default "api"').optional();
const comment = () => personText({ max: TEXT_LIMITS.comment, multiline: true }, "why").optional();
const silenceTime = () =>
  z
    .union([z.string(), z.number()], { errorMap: () => ({ message: 'expected a time (RFC 3339, unix seconds or relative like "-1h")' }) })
    .optional();

const actionBody = objectBody({ by: by(), comment: comment() });
const silenceBody = objectBody({
  matchers: z.unknown().describe("label matchers, {LABEL: PATTERN}, checked like a rule's (at least one)"),
  startsAt: silenceTime().describe("default now; within a day back and a year ahead"),
  endsAt: silenceTime().describe("or duration"),
  duration: z.string({ invalid_type_error: 'expected a duration like "2h"' }).optional().describe('e.g. "2h"; at most 365d'),
  comment: comment(),
  createdBy: personText({ max: TEXT_LIMITS.by, nonEmpty: true }, 'who made it; default "api"').optional(),
});
type SilenceBody = z.infer<typeof silenceBody>;
const ruleBody = anyObjectBody('a rule, as in a rules file (README "Alerts"); its name is the path\'s');
const dryRunBody = objectBody({
  rule: z.unknown().describe("a rule, as in a rules file"),
  start: z.string({ invalid_type_error: "expected a time" }).optional().describe("default an hour before end"),
  end: z.string({ invalid_type_error: "expected a time" }).optional().describe("default now"),
});
const idParam = z.object({ id: z.string() });
const nameParam = z.object({ name: z.string() });

/** startsAt/endsAt of a new silence from `startsAt`, and `endsAt` or `duration`, within SILENCE_TIMES. */
function silenceTimes(b: SilenceBody, now: number): { startsAt: number; endsAt: number } {
  const time = (v: string | number | undefined): string | undefined => (v === undefined ? undefined : String(v));
  const startsAt = parseTime("startsAt", time(b.startsAt), now, now);
  if (startsAt < now - SILENCE_TIMES.maxStartBackMs || startsAt > now + SILENCE_TIMES.maxStartAheadMs) throw badParam("startsAt", "must be within a day before now and a year after");
  let endsAt: number;
  const endsText = time(b.endsAt);
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
  const api = app.withTypeProvider<ZodTypeProvider>();
  const tags = ["alerts"];

  api.get(
    "/api/v1/alerts",
    {
      config: { access: "viewer" },
      schema: {
        summary: "List alerts",
        tags,
        querystring: z.object({
          state: optionalOneOf(["pending", "firing", "resolved"], "only alerts in this state"),
          severity: optionalOneOf(["warning", "critical"], "only alerts of this severity"),
          host: optionalText("only this host's alerts"),
        }),
        response: { 200: alertList },
      },
    },
    async (req) => ({ alerts: await alerting.listAlerts({ ...req.query, limit: 1000 }) }),
  );

  // The alert with its latest events (a page: `limit`, `before`); older ones via `eventsBefore` or /events.
  api.get(
    "/api/v1/alerts/:id",
    { config: { access: "viewer" }, schema: { summary: "An alert with its latest events", tags, params: idParam, querystring: eventsPageQuery, response: { 200: alertWithEvents } } },
    async (req) => {
      const a = await alerting.getAlert(req.params.id, req.query);
      if (!a) throw notFound("alert");
      return a;
    },
  );

  api.get(
    "/api/v1/alerts/:id/events",
    { config: { access: "viewer" }, schema: { summary: "A page of an alert's events", tags, params: idParam, querystring: eventsPageQuery, response: { 200: eventPage } } },
    async (req) => {
      const page = await alerting.alertEvents(req.params.id, req.query);
      if (!page) throw notFound("alert");
      return page;
    },
  );

  const summaries = { ack: "Acknowledge an alert", unack: "Withdraw an acknowledgement", resolve: "Resolve an alert by hand" } as const;
  for (const action of ["ack", "unack", "resolve"] as const) {
    api.post(
      `/api/v1/alerts/:id/${action}`,
      {
        config: { access: "operator" },
        bodyLimit: SMALL_BODY_LIMIT,
        schema: { summary: summaries[action], tags, params: idParam, body: actionBody, response: { 200: alertWithEvents } },
      },
      async (req) => {
        const { id } = req.params;
        const who = actorName(req, req.body.by ?? "api");
        if (action === "ack") await alerting.acknowledge(id, who, req.body.comment ?? "");
        else if (action === "unack") await alerting.unacknowledge(id, who);
        else await alerting.resolve(id, who);
        const a = await alerting.getAlert(id, { limit: EVENTS_PAGE.default });
        if (!a) throw notFound("alert");
        return a;
      },
    );
  }

  api.get("/api/v1/silences", { config: { access: "viewer" }, schema: { summary: "List active and scheduled silences", tags, response: { 200: silenceList } } }, async () =>
    alerting.listSilences(),
  );

  api.post(
    "/api/v1/silences",
    { config: { access: "operator" }, bodyLimit: SMALL_BODY_LIMIT, schema: { summary: "Create a silence", tags, body: silenceBody, response: { 201: createdSilence } } },
    async (req, reply) => {
      const b = req.body;
      const { startsAt, endsAt } = silenceTimes(b, clock.now());
      // Matchers are checked by alerting, like a rule's (count, names, values, patterns): 400 naming matchers.NAME.
      const s = await alerting.createSilence({ matchers: b.matchers, startsAt, endsAt, comment: b.comment ?? "", createdBy: actorName(req, b.createdBy ?? "api") });
      req.auditTarget = s.id;
      return reply.status(201).send(s);
    },
  );

  api.delete(
    "/api/v1/silences/:id",
    { config: { access: "operator" }, schema: { summary: "Expire a silence", tags, params: idParam, response: { 200: statusAnswer } } },
    async (req) => {
      if (!(await alerting.deleteSilence(req.params.id))) throw notFound("active silence");
      return { status: "expired" };
    },
  );

  api.get("/api/v1/rules", { config: { access: "viewer" }, schema: { summary: "List rules", tags: ["rules"], response: { 200: ruleList } } }, async () => ({
    rules: await alerting.listRules(),
  }));

  api.put(
    "/api/v1/rules/:name",
    {
      config: { access: "admin" },
      bodyLimit: RULE_BODY_LIMIT,
      schema: { summary: "Store an API-managed rule", tags: ["rules"], params: nameParam, body: ruleBody, response: { 200: statusAnswer, 400: errorBody } },
    },
    async (req, reply) => {
      const { name } = req.params;
      const { problems } = await alerting.putRule(name, { ...req.body, name });
      if (problems.length > 0) return reply.status(400).send({ error: { code: CollectorErrors.BAD_PARAM, message: problems.join("\n") } });
      return { status: "stored", name };
    },
  );

  api.delete(
    "/api/v1/rules/:name",
    { config: { access: "admin" }, schema: { summary: "Delete an API-managed rule", tags: ["rules"], params: nameParam, response: { 200: statusAnswer } } },
    async (req) => {
      if (!(await alerting.deleteRule(req.params.name))) throw notFound("API-managed rule");
      return { status: "deleted" };
    },
  );

  api.post(
    "/api/v1/rules/dry-run",
    {
      config: { access: "viewer" },
      bodyLimit: RULE_BODY_LIMIT,
      schema: { summary: "Evaluate a rule over stored history", tags: ["rules"], body: dryRunBody, response: { 200: dryRunAnswer, 400: errorBody } },
    },
    async (req, reply) => {
      const b = req.body;
      const now = clock.now();
      const end = parseTime("end", b.end, now, now);
      const start = parseTime("start", b.start, now, end - 3_600_000);
      if (start >= end) throw badParam("start", "must be before end");
      const r = await alerting.dryRun(b.rule, start, end);
      if (r.problems.length > 0) return reply.status(400).send({ error: { code: CollectorErrors.BAD_PARAM, message: r.problems.join("\n") } });
      return { events: r.events };
    },
  );
}
