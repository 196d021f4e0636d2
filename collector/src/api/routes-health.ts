import type { FastifyInstance } from "fastify";
import type { Readiness } from "./ports.js";

export function registerHealthRoutes(app: FastifyInstance, { readiness }: { readiness: Readiness }): void {
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_req, reply) => {
    const reason = await readiness.notReadyReason();
    if (reason) return reply.status(503).send({ status: "not ready", reason });
    return { status: "ready" };
  });
}
