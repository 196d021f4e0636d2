// What goes into the audit log (README "Audit log"): every call that changes something (any method but GET/HEAD),
// with who, role, what, target, address and outcome, once it is answered; and every refused call (401, 403) of any
// method. Writes run beside the answers, never before them, and at most MAX_IN_FLIGHT at once: a flood of refused
// calls beyond that (the rate limiter stops one address long before) is counted as dropped, not queued without end.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Clock, Logger } from "@vigil/shared";
import type { Refusal } from "./authenticate.js";
import type { AuditEntry, AuditLog, AuditOutcome } from "./ports.js";

const MAX_IN_FLIGHT = 64;
const WARN_EVERY_MS = 60_000;
const READS = new Set(["GET", "HEAD", "OPTIONS"]);

export interface AuditStats {
  written: number;
  /** Entries not written: the database refused them, or too many were being written at once. */
  dropped: number;
}

declare module "fastify" {
  interface FastifyRequest {
    /** What a call created, for its audit entry (a new silence's id, a new key's name). */
    auditTarget?: string;
  }
}

export function newAuditStats(): AuditStats {
  return { written: 0, dropped: 0 };
}

export function outcomeOf(status: number): AuditOutcome {
  if (status === 401 || status === 403) return "denied";
  if (status >= 500) return "failed";
  if (status >= 400) return "refused";
  return "ok";
}

/** "POST /api/v1/silences/:id": the route's pattern, not the URL (ids go to `target`). */
const actionOf = (req: FastifyRequest) => `${req.method} ${req.routeOptions.url ?? "(no route)"}`;

function targetOf(req: FastifyRequest): string | null {
  if (req.auditTarget !== undefined) return req.auditTarget;
  const params = Object.values((req.params ?? {}) as Record<string, unknown>).filter((v): v is string => typeof v === "string");
  return params.length > 0 ? params.join("/") : null;
}

export function registerAuditTrail(app: FastifyInstance, opts: { audit: AuditLog; clock: Clock; log: Logger; stats: AuditStats }): (r: Refusal) => void {
  let inFlight = 0;
  let lastWarnMs = Number.NEGATIVE_INFINITY;

  function write(e: AuditEntry): void {
    if (inFlight >= MAX_IN_FLIGHT) {
      dropped("too many entries being written at once");
      return;
    }
    inFlight++;
    opts.audit.record(e).then(
      () => {
        opts.stats.written++;
      },
      (err: Error) => dropped(err.message),
    ).finally(() => {
      inFlight--;
    });
  }

  function dropped(why: string): void {
    opts.stats.dropped++;
    const now = opts.clock.now();
    if (now - lastWarnMs >= WARN_EVERY_MS) {
      lastWarnMs = now;
      opts.log.warn({ why, dropped: opts.stats.dropped }, "audit log entries not written");
    }
  }

  app.addHook("onResponse", async (req, reply) => {
    const status = reply.statusCode;
    // Refusals are written where they happen; unmatched paths and reads change nothing.
    if (READS.has(req.method) || status === 401 || status === 403 || req.routeOptions.url === undefined) return;
    const p = req.principal;
    write({
      timeMs: opts.clock.now(),
      actor: p?.name ?? null,
      role: p?.role ?? null,
      keyId: p?.keyId ?? null,
      action: actionOf(req),
      target: targetOf(req),
      address: req.ip,
      outcome: outcomeOf(status),
      status,
      detail: null,
    });
  });

  return (r) =>
    write({
      timeMs: opts.clock.now(),
      actor: r.name,
      role: r.req.principal?.role ?? null,
      keyId: r.keyId,
      action: actionOf(r.req),
      target: targetOf(r.req),
      address: r.req.ip,
      outcome: "denied",
      status: r.status,
      detail: r.message,
    });
}
