import type { FastifyInstance } from "fastify";
import type { Registry } from "prom-client";
import type { Readiness } from "./ports.js";

export function registerHealthRoutes(app: FastifyInstance, { readiness, selfMetrics }: { readiness: Readiness; selfMetrics: Registry }): void {
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_req, reply) => {
    const reason = await readiness.notReadyReason();
    if (reason) return reply.status(503).send({ status: "not ready", reason });
    return { status: "ready" };
  });
  app.get("/metrics", async (_req, reply) => reply.type(selfMetrics.contentType).send(await selfMetrics.metrics()));
}
