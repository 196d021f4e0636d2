import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from "fastify";
import type { Registry } from "prom-client";
import type { Clock, Logger } from "@vigil/shared";
import { CollectorError, CollectorErrors } from "../errors.js";
import { registerAlertRoutes } from "./routes-alerts.js";
import { registerHealthRoutes } from "./routes-health.js";
import { registerNotificationRoutes } from "./routes-notifications.js";
import { registerMetricsRoutes } from "./routes-metrics.js";
import type { AlertingApi, MetricsReader, NotificationsApi, Readiness } from "./ports.js";

export interface HttpServerOptions {
  reader: MetricsReader;
  alerting: AlertingApi;
  notifications: NotificationsApi;
  readiness: Readiness;
  /** The collector's own metrics, served at /metrics. */
  selfMetrics: Registry;
  clock: Clock;
  log: Logger;
}

const STATUS: Partial<Record<string, number>> = {
  [CollectorErrors.BAD_PARAM]: 400,
  [CollectorErrors.NOT_FOUND]: 404,
  [CollectorErrors.CONFLICT]: 409,
  [CollectorErrors.LIMIT_EXCEEDED]: 422,
  [CollectorErrors.BUSY]: 429,
  [CollectorErrors.STORAGE_UNAVAILABLE]: 503,
};

export function buildHttpServer(opts: HttpServerOptions): FastifyInstance {
  // Per-request info logs off: at thousands of dashboard polls they drown what matters; errors still log.
  const app = Fastify({ loggerInstance: opts.log.child({}, { level: "warn" }) as FastifyBaseLogger });
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof CollectorError) {
      const status = STATUS[err.code] ?? 500;
      return reply.status(status).send({ error: { code: err.code, message: err.message } });
    }
    const status = typeof err.statusCode === "number" ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err }, "request failed");
    return reply.status(status).send({ error: { code: err.code ?? "VGL_ERR_INTERNAL", message: err.message } });
  });
  registerHealthRoutes(app, opts);
  registerMetricsRoutes(app, opts);
  registerAlertRoutes(app, opts);
  registerNotificationRoutes(app, opts);
  return app;
}
