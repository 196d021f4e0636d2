import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from "fastify";
import { validatorCompiler } from "fastify-type-provider-zod";
import type { Registry } from "prom-client";
import type { Clock, Logger } from "@vigil/shared";
import { requireRouteAccess } from "./access.js";
import { registerAuditTrail, type AuditStats } from "./audit-trail.js";
import { registerAuthentication, type AccessStats, type OpenAccess } from "./authenticate.js";
import { answerClientError, answerError, answerNotFound } from "./error-answers.js";
import { registerOpenApi } from "./openapi.js";
import { registerRateLimit, type RateLimitOptions } from "./rate-limit.js";
import { checkRequestStrings } from "./params.js";
import { registerAccessRoutes } from "./routes-access.js";
import { registerAlertRoutes } from "./routes-alerts.js";
import { registerHealthRoutes } from "./routes-health.js";
import { registerNotificationRoutes } from "./routes-notifications.js";
import { registerMetricsRoutes, type QueryLimits } from "./routes-metrics.js";
import { registerStorageRoutes } from "./routes-storage.js";
import { registerTransport } from "./transport.js";
import type { AgentTokens, AlertingApi, ApiKeys, AuditLog, MetricsReader, NotificationsApi, Readiness, StorageStatsReader } from "./ports.js";

export type { QueryLimits } from "./routes-metrics.js";

export interface HttpServerOptions {
  reader: MetricsReader;
  alerting: AlertingApi;
  notifications: NotificationsApi;
  readiness: Readiness;
  storageStats: StorageStatsReader;
  /** The collector's own metrics, served at /metrics. */
  selfMetrics: Registry;
  limits: QueryLimits;
  access: AccessOptions;
  transport: TransportSettings;
  clock: Clock;
  log: Logger;
}

/** Who may call (README "Access control"), and where calls are recorded. */
export interface AccessOptions {
  apiKeys: ApiKeys;
  tokens: AgentTokens;
  audit: AuditLog;
  /** When a call without a key is let in (the loopback default, --insecure-no-auth). */
  openAccess: OpenAccess;
  /** /metrics needs a viewer key. */
  metricsAuth: boolean;
  stats: AccessStats;
  auditStats: AuditStats;
  rateLimit: Pick<RateLimitOptions, "limits" | "redis" | "stats">;
}

/** How the API is served (README "Transport security"). */
export interface TransportSettings {
  /** HTTPS with this certificate chain and key (PEM); null: plain HTTP. */
  tls: { cert: Buffer; key: Buffer } | null;
  /** Origins whose pages may call the API (CORS). */
  corsOrigins: readonly string[];
}

/** Largest request body: rules, silences and acks are small JSON documents. */
const BODY_LIMIT = 1024 * 1024;
/** Longest path parameter (a host name is at most 253 characters). */
const MAX_PARAM_LENGTH = 256;

export function buildHttpServer(opts: HttpServerOptions): FastifyInstance {
  const { tls, corsOrigins } = opts.transport;
  // `https: null` serves plain HTTP; the routes see the same requests and replies either way, hence the one cast.
  const app = Fastify({
    https: tls,
    // Per-request info logs off: at thousands of dashboard polls they drown what matters; errors still log.
    loggerInstance: opts.log.child({}, { level: "warn" }) as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    clientErrorHandler: answerClientError,
    frameworkErrors: (err, req, reply) => answerError(err, req, reply, BODY_LIMIT),
  }) as unknown as FastifyInstance;
  // The API takes JSON bodies only: anything else is a 415, not a string for routes to trip over.
  app.removeContentTypeParser("text/plain");
  app.setErrorHandler((err: FastifyError, req, reply) => answerError(err, req, reply, BODY_LIMIT));
  app.setNotFoundHandler((req, reply) => answerNotFound(app, req, reply));
  // Every query and path parameter of every route, before the route sees it: no control characters, bounded lengths.
  app.addHook("onRequest", async (req) => {
    checkRequestStrings(req.query);
    checkRequestStrings(req.params);
  });
  // Routes declare their parameters, bodies and answers as zod schemas (the OpenAPI document is made from them).
  // Answers are checked against theirs when compiling; at run time they are sent as they are.
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  registerOpenApi(app);
  registerTransport(app, { https: tls !== null, corsOrigins });
  requireRouteAccess(app);
  const { access, clock } = opts;
  const onRefusal = registerAuditTrail(app, { audit: access.audit, clock, log: opts.log, stats: access.auditStats });
  const keys = registerAuthentication(app, { keys: access.apiKeys, openAccess: access.openAccess, metricsAuth: access.metricsAuth, clock, stats: access.stats, onRefusal });
  registerRateLimit(app, { ...access.rateLimit, metricsAuth: access.metricsAuth, clock });
  // In a plugin, so that the routes are added after the OpenAPI and rate-limit plugins have loaded and see them.
  void app.register(async (api) => {
    registerHealthRoutes(api, opts);
    registerMetricsRoutes(api, opts);
    registerAlertRoutes(api, opts);
    registerNotificationRoutes(api, opts);
    registerStorageRoutes(api, opts);
    registerAccessRoutes(api, { apiKeys: access.apiKeys, tokens: access.tokens, audit: access.audit, clock, keyRevoked: keys.forget, keyCreated: keys.keyCreated });
  });
  return app;
}
