// Authentication and authorization of HTTP API calls (README "Access control"). Two root hooks:
// - onRequest: the caller's `Authorization: Bearer` key is resolved to a principal (or a reason it is not one); while
//   access is open a call without a key gets the open principal. It refuses nothing, so the rate limiter, which runs
//   next, can count refused callers by address.
// - preParsing: the route's access is enforced: 401 naming why the key is not accepted, 403 naming the role needed.
// A verified key is remembered for a few seconds (bounded), so a dashboard's polls cost no database read each.
import { createHash } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Clock } from "@vigil/shared";
import { CollectorError, CollectorErrors } from "../errors.js";
import { roleAtLeast, type Access, type Principal, type Role } from "./access.js";
import type { ApiKeys, AuthFailure, KeyCheck } from "./ports.js";

/** When a call without a key is let in: never (keys required), until the first key exists (loopback), always. */
export type OpenAccess = "never" | "until-first-key" | "always";

export interface AccessStats {
  /** Refused calls by reason: missing, malformed, unknown, expired, revoked, forbidden (role too low). */
  refusals: Map<AuthFailure | "forbidden", number>;
}

export interface Refusal {
  req: FastifyRequest;
  status: 401 | 403;
  reason: AuthFailure | "forbidden";
  message: string;
  /** The key's id and name, when the key was recognised. */
  keyId: string | null;
  name: string | null;
}

export interface AuthenticationOptions {
  keys: ApiKeys;
  openAccess: OpenAccess;
  /** /metrics needs a viewer key (when keys are on). */
  metricsAuth: boolean;
  clock: Clock;
  stats: AccessStats;
  /** Told of each refusal (for the audit log). */
  onRefusal: (r: Refusal) => void;
}

/** Who a call without a key is while access is open: it may do everything, as before keys existed. */
export const OPEN_PRINCIPAL: Principal = { keyId: null, name: "anonymous", role: "admin" };

const CACHE_MS = 5_000;
const CACHE_MAX = 1_000;
/** How often the loopback default looks for a first key. */
const FIRST_KEY_CHECK_MS = 5_000;
/** Longest Authorization header looked at: a key is 73 characters. */
const MAX_HEADER = 512;

type Failure = { reason: AuthFailure; keyId: string | null; name: string | null };

declare module "fastify" {
  interface FastifyRequest {
    /** Why the call's key (or its absence) gave no principal; set by the onRequest hook. */
    authFailure?: Failure;
  }
}

const MESSAGES: Record<AuthFailure, string> = {
  missing: "no API key: send Authorization: Bearer KEY (create one with `vigil-collector apikey create`)",
  malformed: "the Authorization header is not Bearer followed by an API key (vgk_…)",
  unknown: "unknown API key",
  expired: "the API key has expired",
  revoked: "the API key was revoked",
};

export function newAccessStats(): AccessStats {
  return { refusals: new Map() };
}

export function registerAuthentication(app: FastifyInstance, opts: AuthenticationOptions): { forget(): void; keyCreated(): void } {
  const cache = new Map<string, { check: KeyCheck; untilMs: number }>();
  let firstKey: { seen: boolean; checkedMs: number } = { seen: false, checkedMs: Number.NEGATIVE_INFINITY };

  async function check(key: string, now: number): Promise<KeyCheck> {
    const digest = createHash("sha256").update(key).digest("base64");
    const hit = cache.get(digest);
    if (hit && hit.untilMs > now) return hit.check;
    const c = await opts.keys.authenticate(key, now);
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
    // An expiring key is remembered no longer than it lives.
    const until = c.ok && c.expiresAtMs !== null ? Math.min(now + CACHE_MS, c.expiresAtMs) : now + CACHE_MS;
    cache.set(digest, { check: c, untilMs: until });
    return c;
  }

  async function openNow(now: number): Promise<boolean> {
    if (opts.openAccess === "always") return true;
    if (opts.openAccess === "never" || firstKey.seen) return false;
    if (now - firstKey.checkedMs >= FIRST_KEY_CHECK_MS) firstKey = { seen: await opts.keys.anyActive(now), checkedMs: now };
    return !firstKey.seen;
  }

  function count(reason: AuthFailure | "forbidden"): void {
    opts.stats.refusals.set(reason, (opts.stats.refusals.get(reason) ?? 0) + 1);
  }

  app.addHook("onRequest", async (req) => {
    // Public routes need no caller: /healthz answers even while the database (and so the key table) is down.
    if (routeNeeds(req.routeOptions.config.access, opts.metricsAuth) === "public") return;
    const header = req.headers.authorization;
    if (header === undefined) {
      // While access is open a call without a key is the open principal from the start: rate-limited as a caller.
      if (await openNow(opts.clock.now())) req.principal = OPEN_PRINCIPAL;
      else req.authFailure = { reason: "missing", keyId: null, name: null };
      return;
    }
    const m = header.length <= MAX_HEADER ? /^Bearer +(\S+) *$/i.exec(header) : null;
    if (!m) {
      req.authFailure = { reason: "malformed", keyId: null, name: null };
      return;
    }
    const c = await check(m[1]!, opts.clock.now());
    if (c.ok) req.principal = c.principal;
    else req.authFailure = { reason: c.reason, keyId: c.keyId ?? null, name: c.name ?? null };
  });

  app.addHook("preParsing", async (req, reply) => {
    const needed = routeNeeds(req.routeOptions.config.access, opts.metricsAuth);
    if (needed === "public") return;
    if (!req.principal) {
      const failure = req.authFailure ?? { reason: "missing" as const, keyId: null, name: null };
      count(failure.reason);
      const message = `${MESSAGES[failure.reason]}${failure.keyId ? ` (key ${failure.keyId}${failure.name ? `, ${failure.name}` : ""})` : ""}`;
      opts.onRefusal({ req, status: 401, reason: failure.reason, message, keyId: failure.keyId, name: failure.name });
      reply.header("www-authenticate", `Bearer realm="vigil"`);
      throw new CollectorError(CollectorErrors.UNAUTHORIZED, message);
    }
    const principal = req.principal;
    if (!roleAtLeast(principal.role, needed)) {
      count("forbidden");
      const message = `${req.method} ${req.routeOptions.url ?? req.url} needs the ${needed} role; the key ${JSON.stringify(principal.name)} is ${article(principal.role)} ${principal.role}`;
      opts.onRefusal({ req, status: 403, reason: "forbidden", message, keyId: principal.keyId, name: principal.name });
      throw new CollectorError(CollectorErrors.FORBIDDEN, message);
    }
  });

  return {
    /** Forgets remembered keys at once (a key was revoked through this collector). */
    forget: () => cache.clear(),
    /** A key was created through this collector: the loopback default ends now, not at the next check. */
    keyCreated: () => {
      firstKey = { seen: true, checkedMs: opts.clock.now() };
    },
  };
}

/** The role a route needs, or "public"; routes without a declared access (the 404 handler) are public. */
export function routeNeeds(access: Access | "metrics" | undefined, metricsAuth: boolean): Access {
  if (access === "metrics") return metricsAuth ? "viewer" : "public";
  return access ?? "public";
}

const article = (role: Role) => (role === "viewer" ? "a" : "an");

/** Who acted, as acks, silences and events record it: the key's name, else what the client wrote (open access). */
export function actorName(req: FastifyRequest, fromClient: string): string {
  return req.principal?.keyId ? req.principal.name : fromClient;
}

/** Whether a listen address is reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** The default access for the HTTP listen address: open on loopback until a key exists, else keys required. */
export function openAccessFor(httpHost: string, insecureNoAuth: boolean): OpenAccess {
  if (insecureNoAuth) return "always";
  return isLoopbackHost(httpHost) ? "until-first-key" : "never";
}

/** What the collector says at start about who may call its API. */
export function accessAnnouncement(open: OpenAccess, anyKey: boolean): { warn: boolean; message: string } {
  if (open === "always") return { warn: true, message: "INSECURE: --insecure-no-auth is set; the HTTP API needs no key (a key, when sent, still names the caller)" };
  if (open === "until-first-key" && !anyKey) {
    return { warn: true, message: "HTTP API open: it listens on loopback and no API key exists; create one (vigil-collector apikey create) to require keys" };
  }
  return { warn: false, message: "HTTP API requires API keys (Authorization: Bearer)" };
}
