// What every HTTP answer carries for browsers (README "Transport security"): @fastify/helmet's security headers, and
// CORS only for the origins the config names (none by default, so a page elsewhere cannot drive the API with a key
// the browser holds). Registered before requireRouteAccess: the CORS preflight route is public.
import cors from "@fastify/cors";
import helmet from "@fastify/helmet";
import type { FastifyInstance } from "fastify";

export interface TransportOptions {
  /** The API is served over HTTPS: browsers are told to keep to it (HSTS) and to upgrade page requests. */
  https: boolean;
  /** Origins whose pages may call the API; empty: no CORS headers at all. */
  corsOrigins: readonly string[];
}

/** How long browsers keep to HTTPS once told (HSTS): 180 days, helmet's default. */
const HSTS_MAX_AGE_S = 180 * 86_400;
/** How long a browser may reuse a preflight answer. */
const PREFLIGHT_MAX_AGE_S = 600;

export function registerTransport(app: FastifyInstance, opts: TransportOptions): void {
  void app.register(helmet, {
    // Over plain HTTP these two would make browsers fetch the dashboard's and /docs's assets over HTTPS, which fails.
    hsts: opts.https ? { maxAge: HSTS_MAX_AGE_S, includeSubDomains: true } : false,
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: opts.https ? [] : null } },
  });
  if (opts.corsOrigins.length === 0) return;
  app.addHook("onRoute", (route) => {
    if (route.method === "OPTIONS" && route.url === "*") route.config = { ...route.config, access: "public" };
  });
  void app.register(cors, {
    origin: [...opts.corsOrigins],
    methods: ["GET", "HEAD", "POST", "PUT", "DELETE"],
    allowedHeaders: ["Authorization", "Content-Type"],
    exposedHeaders: ["Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"],
    maxAge: PREFLIGHT_MAX_AGE_S,
  });
}
