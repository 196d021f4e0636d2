// Admin routes: API keys, agent tokens and the audit log. Secrets (a new key, a new token) are in the creating
// answer only; lists never hold them.
import type { FastifyInstance } from "fastify";
import type { Clock } from "@vigil/shared";
import { badParam, CollectorError, CollectorErrors } from "../errors.js";
import { actorName } from "./authenticate.js";
import { parseNewKey } from "./key-input.js";
import { optionalString, parseLimit, parseTime } from "./params.js";
import type { AgentTokens, ApiKeys, AuditLog, AuditOutcome } from "./ports.js";

type Body = Record<string, unknown>;

const OUTCOMES: readonly AuditOutcome[] = ["ok", "denied", "refused", "failed"];
const AUDIT_PAGE = { default: 100, max: 1000 } as const;
const HOST_NAME = /^[A-Za-z0-9._-]{1,253}$/;

function bodyOf(raw: unknown): Body {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== "object" || Array.isArray(raw)) throw badParam("body", "expected a JSON object");
  return raw as Body;
}

function stringField(b: Body, key: string): string | undefined {
  const v = b[key];
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw badParam(key, "expected a string");
  return v;
}

export interface AccessRoutesOptions {
  apiKeys: ApiKeys;
  tokens: AgentTokens;
  audit: AuditLog;
  clock: Clock;
  /** Called after a key is revoked here, so it stops working at once rather than when its cache entry ends. */
  keyRevoked: () => void;
  /** Called after a key is created here: open access on loopback ends with the first. */
  keyCreated: () => void;
}

export function registerAccessRoutes(app: FastifyInstance, { apiKeys, tokens, audit, clock, keyRevoked, keyCreated }: AccessRoutesOptions): void {
  const admin = { config: { access: "admin" as const } };

  app.get("/api/v1/apikeys", admin, async () => ({ keys: await apiKeys.list() }));

  app.post("/api/v1/apikeys", admin, async (req, reply) => {
    const b = bodyOf(req.body);
    const k = parseNewKey({ name: stringField(b, "name"), role: stringField(b, "role"), expires: stringField(b, "expires") }, clock.now(), actorName(req, "api"));
    req.auditTarget = k.name;
    const { key, view } = await apiKeys.create(k);
    keyCreated();
    return reply.status(201).send({ ...view, key });
  });

  app.delete("/api/v1/apikeys/:id", admin, async (req) => {
    const { id } = req.params as { id: string };
    if (!(await apiKeys.revoke(id))) throw new CollectorError(CollectorErrors.NOT_FOUND, `no active API key named or with id ${JSON.stringify(id)}`);
    keyRevoked();
    return { status: "revoked" };
  });

  app.get("/api/v1/tokens", admin, async () => ({ tokens: await tokens.list() }));

  app.post("/api/v1/tokens", admin, async (req, reply) => {
    const b = bodyOf(req.body);
    const name = stringField(b, "name");
    if (!name || !HOST_NAME.test(name)) throw badParam("name", "expected a host name (letters, digits, . _ -; at most 253)");
    const anyHost = b.anyHost ?? false;
    if (typeof anyHost !== "boolean") throw badParam("anyHost", "expected true or false");
    req.auditTarget = name;
    const t = await tokens.create(name, anyHost);
    return reply.status(201).send({ id: t.id, name, anyHost, token: t.token });
  });

  app.delete("/api/v1/tokens/:id", admin, async (req) => {
    const { id } = req.params as { id: string };
    if (!(await tokens.revoke(id))) throw new CollectorError(CollectorErrors.NOT_FOUND, `no active agent token named or with id ${JSON.stringify(id)}`);
    return { status: "revoked" };
  });

  app.get("/api/v1/audit", admin, async (req) => {
    const q = req.query as Record<string, unknown>;
    const limit = parseLimit(q, AUDIT_PAGE.default, AUDIT_PAGE.max);
    const before = optionalString(q, "before");
    if (before !== undefined && !/^[1-9]\d{0,15}$/.test(before)) throw badParam("before", "expected an entry id (the previous page's \"next\")");
    const sinceText = optionalString(q, "since");
    const outcome = optionalString(q, "outcome");
    if (outcome !== undefined && !(OUTCOMES as readonly string[]).includes(outcome)) throw badParam("outcome", `expected one of ${OUTCOMES.join(", ")}`);
    return audit.list({
      limit,
      before,
      sinceMs: sinceText === undefined ? undefined : parseTime("since", sinceText, clock.now(), 0),
      actor: optionalString(q, "actor"),
      outcome: outcome as AuditOutcome | undefined,
    });
  });
}
