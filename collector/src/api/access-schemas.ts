// The admin routes' answers (API keys, agent tokens, the audit log) as schemas, for the OpenAPI document and the
// compile-time check of each handler's answer.
import { z } from "zod";
import { ROLES } from "./access.js";

const time = z.string().describe("RFC 3339");
const role = z.enum(ROLES);

const apiKey = z.object({
  id: z.string().describe("the key's public id"),
  name: z.string(),
  role,
  createdAt: time,
  createdBy: z.string(),
  expiresAt: time.nullable(),
  revokedAt: time.nullable(),
  lastUsedAt: time.nullable().describe("written at most once a minute"),
});

export const apiKeyList = z.object({ keys: z.array(apiKey) });
export const createdApiKey = apiKey.extend({ key: z.string().describe("the key itself: shown in this answer only") });

export const agentTokenList = z.object({
  tokens: z.array(
    z.object({ id: z.string(), name: z.string(), anyHost: z.boolean(), createdAt: time, revokedAt: time.nullable(), lastUsedAt: time.nullable() }),
  ),
});
export const createdAgentToken = z.object({ id: z.string(), name: z.string(), anyHost: z.boolean(), token: z.string().describe("shown in this answer only") });

export const auditPage = z.object({
  entries: z.array(
    z.object({
      id: z.string(),
      time,
      actor: z.string().nullable().describe("the key's name; null for a call without a valid key"),
      role: role.nullable(),
      keyId: z.string().nullable(),
      action: z.string().describe('"METHOD /route/pattern"'),
      target: z.string().nullable(),
      address: z.string(),
      outcome: z.enum(["ok", "denied", "refused", "failed"]),
      status: z.number(),
      detail: z.string().nullable().describe("why a call was refused"),
    }),
  ),
  next: z.string().nullable().describe("`before` for the next page; null at the end"),
});
