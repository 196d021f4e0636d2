import type { Readable } from "node:stream";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Clock } from "@vigil/shared";
import { badParam, CollectorError, CollectorErrors } from "../errors.js";
import { MIN_TIME_MS, parseMatchers, parseStep, parseTime } from "./params.js";
import type { MetricsReader } from "./ports.js";
import { QueryGate } from "./query-gate.js";
import { rangeAnswer } from "./range-stream.js";
import { optionalOneOf, optionalText, requiredText, wholeNumber } from "./request-schemas.js";
import { hostChecks, hostList, rangeAnswerBody, seriesList } from "./view-schemas.js";

/** Bounds on the work of one range query (settings under `api:`). */
export interface QueryLimits {
  /** Series × steps in one answer. */
  maxPoints: number;
  maxSeries: number;
  /** Estimated stored samples a query may read. */
  maxSamples: number;
  /** Heavy queries running at once. */
  maxHeavyQueries: number;
  /** From the request's arrival to its answer's last byte. */
  timeoutMs: number;
}

/** Prometheus' resolution limit: a step that gives more points per series is a mistake. */
const MAX_POINTS_PER_SERIES = 11_000;
const DEFAULT_POINTS = 250;
/** Candidates tested against the label matchers, per series a query may return. */
const CANDIDATES_PER_SERIES = 10;
/** A query past either figure takes a slot of the heavy-query gate. */
const HEAVY_POINTS = 50_000;
const HEAVY_SAMPLES = 1_000_000;
const LIST_DEFAULT = 1000;
const LIST_MAX = 10_000;

const TIME = 'unix seconds, RFC 3339, "now" or relative ("-1h", "now-15m")';
const listLimit = () => wholeNumber(LIST_MAX, LIST_DEFAULT, `most entries answered (default ${LIST_DEFAULT})`);

const rangeQuery = z
  .object({
    metric: requiredText("the metric's name"),
    host: optionalText("only this host's series"),
    start: optionalText(`${TIME}; default an hour before end`),
    end: optionalText(`${TIME}; default now`),
    step: optionalText('a duration ("15s", "1m") or seconds, from 1s to the range; default about 250 points'),
    agg: optionalOneOf(["avg", "min", "max", "last", "sum", "count"], "how samples in a step are combined; default avg"),
  })
  // match[LABEL]=PATTERN: label names are the client's, so these are read by parseMatchers (README "HTTP API").
  .catchall(z.union([z.string(), z.array(z.string())]));

const fmt = (n: number) => n.toLocaleString("en-US");
const tooLarge = (message: string) => new CollectorError(CollectorErrors.LIMIT_EXCEEDED, message);

export function registerMetricsRoutes(app: FastifyInstance, opts: { reader: MetricsReader; clock: Clock; limits: QueryLimits }): void {
  const { reader, clock, limits } = opts;
  const gate = new QueryGate(limits.maxHeavyQueries);
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get(
    "/api/v1/hosts",
    {
      config: { access: "viewer" },
      schema: { summary: "List hosts", tags: ["hosts"], querystring: z.object({ limit: listLimit() }), response: { 200: hostList } },
    },
    async (req) => {
      const { limit } = req.query;
      const hosts = await reader.listHosts(clock.now(), limit + 1);
      return { hosts: hosts.slice(0, limit), truncated: hosts.length > limit };
    },
  );

  api.get(
    "/api/v1/hosts/:host/checks",
    {
      config: { access: "viewer" },
      schema: { summary: "A host's health checks", tags: ["hosts"], params: z.object({ host: z.string() }), response: { 200: hostChecks } },
    },
    async (req) => {
      const { host } = req.params;
      const checks = await reader.hostChecks(host);
      if (!checks) throw new CollectorError(CollectorErrors.NOT_FOUND, `host ${JSON.stringify(host)} is not known`);
      return { host, checks };
    },
  );

  api.get(
    "/api/v1/series",
    {
      config: { access: "viewer" },
      schema: {
        summary: "List series",
        tags: ["metrics"],
        querystring: z.object({ host: optionalText("only this host's series"), metric: optionalText("only this metric's series"), limit: listLimit() }),
        response: { 200: seriesList },
      },
    },
    async (req) => {
      const { host, metric, limit } = req.query;
      const series = await reader.listSeries({ host, metric, limit: limit + 1 });
      return { series: series.slice(0, limit), truncated: series.length > limit };
    },
  );

  // The answer is streamed (range-stream.ts), so its type is given here; its schema documents what the stream holds.
  api.get<{ Querystring: z.infer<typeof rangeQuery>; Reply: Readable }>(
    "/api/v1/query_range",
    {
      config: { access: "viewer" },
      schema: {
        summary: "Points of the series of one metric over a time range",
        description: "Label matchers: `match[LABEL]=PATTERN`, in the matcher syntax of rules and silences (README \"HTTP API\").",
        tags: ["metrics"],
        querystring: rangeQuery,
        response: { 200: rangeAnswerBody },
      },
    },
    async (req, reply) => {
      const q = req.query;
      const now = clock.now();
      const deadlineMs = now + limits.timeoutMs;
      const { metric, host } = q;
      const matchers = parseMatchers(q);
      const agg = q.agg ?? "avg";
      const endMs = parseTime("end", q.end, now, now);
      const startMs = parseTime("start", q.start, now, Math.max(MIN_TIME_MS, endMs - 3_600_000));
      if (startMs > endMs) throw badParam("start", "must not be after end");
      const rangeMs = endMs - startMs;
      const stepMs = parseStep(q.step, defaultStep(rangeMs), rangeMs);
      // Points are the multiples of the step in [start, end].
      const steps = Math.max(1, Math.floor(endMs / stepMs) - Math.ceil(startMs / stepMs) + 1);
      if (steps > MAX_POINTS_PER_SERIES) {
        throw tooLarge(`step: ${fmt(steps)} steps per series, over the limit of ${fmt(MAX_POINTS_PER_SERIES)}: use a step of at least ${Math.ceil(rangeMs / (MAX_POINTS_PER_SERIES - 1) / 1000)}s`);
      }

      const maxCandidates = limits.maxSeries * CANDIDATES_PER_SERIES;
      const sel = await reader.selectSeries({ metric, host, exact: matchers.exact, accept: matchers.accept, maxSeries: limits.maxSeries, maxCandidates, deadlineMs });
      if (sel.overflow === "series") {
        throw tooLarge(`more than ${fmt(limits.maxSeries)} series match, over the limit of ${fmt(limits.maxSeries)} series (api.max_series): add host= or label matchers`);
      }
      if (sel.overflow === "candidates") {
        throw tooLarge(`${metric} has more than ${fmt(maxCandidates)} series to test against the matchers (${CANDIDATES_PER_SERIES} × api.max_series): add host= or exact label matchers`);
      }
      const points = sel.series.length * steps;
      if (points > limits.maxPoints) {
        throw tooLarge(
          `the answer would hold up to ${fmt(points)} points (${fmt(sel.series.length)} series × ${fmt(steps)} steps), over the limit of ${fmt(limits.maxPoints)} points (api.max_points): narrow the range or the matchers, or use a longer step`,
        );
      }
      const samples = reader.estimateRead(sel.series, { startMs, endMs, stepMs });
      if (samples > limits.maxSamples) {
        throw tooLarge(`the query would read about ${fmt(samples)} stored samples, over the limit of ${fmt(limits.maxSamples)} (api.max_samples): narrow the range or the matchers`);
      }
      const release = points > HEAVY_POINTS || samples > HEAVY_SAMPLES ? gate.tryEnter() : () => {};
      if (!release) {
        throw new CollectorError(CollectorErrors.BUSY, `${limits.maxHeavyQueries} heavy queries are running already (api.max_heavy_queries): retry shortly`);
      }
      // The whole answer, however slowly the client reads it, must be sent by the deadline.
      const cutOff = setTimeout(() => reply.raw.destroy(), Math.max(0, deadlineMs - clock.now()));
      reply.raw.once("close", () => {
        clearTimeout(cutOff);
        release();
      });
      try {
        const body = await rangeAnswer(reader.readRange(sel.series, { startMs, endMs, stepMs, agg, deadlineMs }), (err) => {
          logCutShort(req.log, err);
          reply.raw.destroy();
        });
        return reply.type("application/json; charset=utf-8").send(body);
      } catch (err) {
        clearTimeout(cutOff);
        release();
        throw err;
      }
    },
  );
}

/**
 * About DEFAULT_POINTS points over the range, rounded up to a whole minute or hour once it is that long, so that the
 * default step is answered from a rollup tier (README "Storage").
 */
function defaultStep(rangeMs: number): number {
  const raw = Math.max(1000, Math.ceil(rangeMs / DEFAULT_POINTS / 1000) * 1000);
  for (const unit of [3_600_000, 60_000]) if (raw >= unit) return Math.ceil(raw / unit) * unit;
  return raw;
}

function logCutShort(log: FastifyBaseLogger, err: unknown): void {
  if (err instanceof CollectorError) log.warn({ code: err.code, reason: err.message }, "range answer cut short after it began");
  else log.error({ err }, "range answer failed after it began");
}
