// Admin routes: API keys, agent tokens and the audit log. Secrets (a new key, a new token) are in the creating
// answer only; lists never hold them.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Clock } from "@vigil/shared";
import { CollectorError, CollectorErrors } from "../errors.js";
import { agentTokenList, apiKeyList, auditPage, createdAgentToken, createdApiKey } from "./access-schemas.js";
import { actorName } from "./authenticate.js";
import { parseNewKey } from "./key-input.js";
import { parseTime } from "./params.js";
import type { AgentTokens, ApiKeys, AuditLog } from "./ports.js";
import { objectBody, optionalOneOf, optionalText, wholeNumber } from "./request-schemas.js";
import { statusAnswer } from "./view-schemas.js";

const AUDIT_PAGE = { default: 100, max: 1000 } as const;
const SMALL_BODY_LIMIT = 16 * 1024;
const HOST_NAME = /^[A-Za-z0-9._-]{1,253}$/;

const bodyText = (description: string) => z.string({ invalid_type_error: "expected a string" }).optional().describe(description);
const nameOrId = z.object({ id: z.string().describe("the name or the id") });

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
  const api = app.withTypeProvider<ZodTypeProvider>();
  const admin = { access: "admin" as const };

  api.get("/api/v1/apikeys", { config: admin, schema: { summary: "List API keys (never their secrets)", tags: ["access"], response: { 200: apiKeyList } } }, async () => ({
    keys: await apiKeys.list(),
  }));

  api.post(
    "/api/v1/apikeys",
    {
      config: admin,
      bodyLimit: SMALL_BODY_LIMIT,
      schema: {
        summary: "Create an API key; the answer holds the key, once",
        tags: ["access"],
        body: objectBody({
          name: bodyText("who or what uses it: letters, digits, . _ @ -; at most 100"),
          role: bodyText("viewer, operator or admin"),
          expires: bodyText('its lifetime, 1h to 3650d, e.g. "90d"; default never'),
        }),
        response: { 201: createdApiKey },
      },
    },
    async (req, reply) => {
      const k = parseNewKey(req.body, clock.now(), actorName(req, "api"));
      req.auditTarget = k.name;
      const { key, view } = await apiKeys.create(k);
      keyCreated();
      return reply.status(201).send({ ...view, key });
    },
  );

  api.delete("/api/v1/apikeys/:id", { config: admin, schema: { summary: "Revoke an API key", tags: ["access"], params: nameOrId, response: { 200: statusAnswer } } }, async (req) => {
    if (!(await apiKeys.revoke(req.params.id))) throw new CollectorError(CollectorErrors.NOT_FOUND, `no active API key named or with id ${JSON.stringify(req.params.id)}`);
    keyRevoked();
    return { status: "revoked" };
  });

  api.get("/api/v1/tokens", { config: admin, schema: { summary: "List agent tokens (never their secrets)", tags: ["access"], response: { 200: agentTokenList } } }, async () => ({
    tokens: await tokens.list(),
  }));

  api.post(
    "/api/v1/tokens",
    {
      config: admin,
      bodyLimit: SMALL_BODY_LIMIT,
      schema: {
        summary: "Create an agent token; the answer holds the token, once",
        tags: ["access"],
        body: objectBody({
          name: z.string({ required_error: "is required", invalid_type_error: "expected a string" }).regex(HOST_NAME, "expected a host name (letters, digits, . _ -; at most 253)").describe("the host it is for"),
          anyHost: z.boolean({ invalid_type_error: "expected true or false" }).default(false).describe("accepted from any hostname (a fleet token)"),
        }),
        response: { 201: createdAgentToken },
      },
    },
    async (req, reply) => {
      const { name, anyHost } = req.body;
      req.auditTarget = name;
      const t = await tokens.create(name, anyHost);
      return reply.status(201).send({ id: t.id, name, anyHost, token: t.token });
    },
  );

  api.delete("/api/v1/tokens/:id", { config: admin, schema: { summary: "Revoke an agent token", tags: ["access"], params: nameOrId, response: { 200: statusAnswer } } }, async (req) => {
    if (!(await tokens.revoke(req.params.id))) throw new CollectorError(CollectorErrors.NOT_FOUND, `no active agent token named or with id ${JSON.stringify(req.params.id)}`);
    return { status: "revoked" };
  });

  api.get(
    "/api/v1/audit",
    {
      config: admin,
      schema: {
        summary: "Read the audit log, newest first",
        tags: ["access"],
        querystring: z.object({
          limit: wholeNumber(AUDIT_PAGE.max, AUDIT_PAGE.default, `entries per page (default ${AUDIT_PAGE.default})`),
          before: optionalText('entries older than this id (the previous page\'s "next")').refine((v) => v === undefined || /^[1-9]\d{0,15}$/.test(v), 'expected an entry id (the previous page\'s "next")'),
          since: optionalText('entries from this time on: unix seconds, RFC 3339 or relative ("-24h")'),
          actor: optionalText("only calls made with this key name"),
          outcome: optionalOneOf(["ok", "denied", "refused", "failed"], "only entries with this outcome"),
        }),
        response: { 200: auditPage },
      },
    },
    async (req) => {
      const { since, ...q } = req.query;
      return audit.list({ ...q, sinceMs: since === undefined ? undefined : parseTime("since", since, clock.now(), 0) });
    },
  );
}
