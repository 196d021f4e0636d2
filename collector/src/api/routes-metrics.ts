import type { FastifyInstance } from "fastify";
import type { Clock } from "@vigil/shared";
import { badParam, CollectorError, CollectorErrors } from "../errors.js";
import { optionalString, parseAgg, parseMatch, parseStep, parseTime, requireString } from "./params.js";
import type { MetricsReader } from "./ports.js";

type Query = Record<string, unknown>;

const MAX_POINTS_PER_SERIES = 11_000;
const MAX_SERIES = 2_000;
const DEFAULT_POINTS = 250;

export function registerMetricsRoutes(app: FastifyInstance, { reader, clock }: { reader: MetricsReader; clock: Clock }): void {
  app.get("/api/v1/hosts", async () => ({ hosts: await reader.listHosts(clock.now()) }));

  app.get("/api/v1/hosts/:host/checks", async (req) => {
    const { host } = req.params as { host: string };
    const checks = await reader.hostChecks(host);
    if (!checks) throw new CollectorError(CollectorErrors.NOT_FOUND, `host ${JSON.stringify(host)} is not known`);
    return { host, checks };
  });

  app.get("/api/v1/series", async (req) => {
    const q = req.query as Query;
    return { series: await reader.listSeries({ host: optionalString(q, "host"), metric: optionalString(q, "metric"), limit: 10_000 }) };
  });

  app.get("/api/v1/query_range", async (req) => {
    const q = req.query as Query;
    const now = clock.now();
    const metric = requireString(q, "metric");
    const endMs = parseTime("end", optionalString(q, "end"), now, now);
    const startMs = parseTime("start", optionalString(q, "start"), now, endMs - 3_600_000);
    if (startMs > endMs) throw badParam("start", "must not be after end");
    const autoStep = Math.max(1000, Math.ceil((endMs - startMs) / DEFAULT_POINTS / 1000) * 1000);
    const stepMs = parseStep(optionalString(q, "step"), autoStep);
    if ((endMs - startMs) / stepMs > MAX_POINTS_PER_SERIES) {
      throw badParam("step", `too small for the range: more than ${MAX_POINTS_PER_SERIES} points per series`);
    }
    const series = await reader.queryRange({
      metric,
      host: optionalString(q, "host"),
      match: parseMatch(q),
      startMs,
      endMs,
      stepMs,
      agg: parseAgg(optionalString(q, "agg")),
      maxSeries: MAX_SERIES,
    });
    return { series };
  });
}
