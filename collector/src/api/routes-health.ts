import type { FastifyInstance } from "fastify";
import type { Registry } from "prom-client";
import { CollectorErrors } from "../errors.js";
import type { Readiness } from "./ports.js";

export function registerHealthRoutes(app: FastifyInstance, { readiness, selfMetrics }: { readiness: Readiness; selfMetrics: Registry }): void {
  app.get("/healthz", { config: { access: "public" } }, async () => ({ status: "ok" }));
  app.get("/readyz", { config: { access: "public" } }, async (_req, reply) => {
    const reason = await readiness.notReadyReason();
    // Also in the error shape, for clients that read every non-2xx answer as one.
    if (reason) return reply.status(503).send({ status: "not ready", reason, error: { code: CollectorErrors.STORAGE_UNAVAILABLE, message: reason } });
    return { status: "ready" };
  });
  app.get("/metrics", { config: { access: "metrics" } }, async (_req, reply) => reply.type(selfMetrics.contentType).send(await selfMetrics.metrics()));
}
