import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { Registry } from "prom-client";
import { z } from "zod";
import { CollectorErrors } from "../errors.js";
import type { Readiness } from "./ports.js";
import { errorBody } from "./view-schemas.js";

const tags = ["health"];

export function registerHealthRoutes(app: FastifyInstance, { readiness, selfMetrics }: { readiness: Readiness; selfMetrics: Registry }): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.get(
    "/healthz",
    { config: { access: "public" }, schema: { summary: "The process is up", tags, response: { 200: z.object({ status: z.literal("ok") }) } } },
    async () => ({ status: "ok" as const }),
  );
  api.get(
    "/readyz",
    {
      config: { access: "public" },
      schema: {
        summary: "Storage is reachable and migrations applied",
        tags,
        // Also in the error shape, for clients that read every non-2xx answer as one.
        response: { 200: z.object({ status: z.literal("ready") }), 503: errorBody.extend({ status: z.literal("not ready"), reason: z.string() }) },
      },
    },
    async (_req, reply) => {
      const reason = await readiness.notReadyReason();
      if (reason) return reply.status(503).send({ status: "not ready", reason, error: { code: CollectorErrors.STORAGE_UNAVAILABLE, message: reason } });
      return { status: "ready" as const };
    },
  );
  api.get(
    "/metrics",
    {
      config: { access: "metrics" },
      schema: {
        summary: "The collector's own metrics, in Prometheus text format",
        description: "Open, or a viewer key when `metrics_auth: true`.",
        tags,
        response: { 200: z.string().describe("Prometheus' text exposition format (text/plain), not JSON") },
      },
    },
    async (_req, reply) => reply.type(selfMetrics.contentType).send(await selfMetrics.metrics()),
  );
}
