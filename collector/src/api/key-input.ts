// A new API key's fields as a person types them (CLI flags or the admin API's body): checked once, here, for both.
import { parseDuration } from "@vigil/shared";
import { badParam } from "../errors.js";
import { ROLES, type Role } from "./access.js";
import type { NewApiKey } from "./ports.js";

const DAY = 86_400_000;
/** A key lives an hour to ten years when it expires at all. */
export const KEY_EXPIRY = { minMs: 3_600_000, maxMs: 3650 * DAY } as const;
/** A key's name: who or what uses it (a person, a CI job), as the audit log and acks show it. */
export const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/;

export function parseNewKey(input: { name?: string; role?: string; expires?: string }, nowMs: number, createdBy: string): NewApiKey {
  const { name, role, expires } = input;
  if (!name) throw badParam("name", "is required");
  if (!KEY_NAME.test(name)) throw badParam("name", `expected letters, digits and . _ @ - (at most 100, starting with a letter or digit), got ${JSON.stringify(name.slice(0, 120))}`);
  if (!role) throw badParam("role", `is required: one of ${ROLES.join(", ")}`);
  if (!(ROLES as readonly string[]).includes(role)) throw badParam("role", `expected one of ${ROLES.join(", ")}, got ${JSON.stringify(role.slice(0, 40))}`);
  let expiresAtMs: number | null = null;
  if (expires !== undefined && expires !== "never") {
    let ms: number;
    try {
      ms = parseDuration(expires, "expires");
    } catch {
      throw badParam("expires", `expected a duration like "90d" or "never", got ${JSON.stringify(expires.slice(0, 40))}`);
    }
    if (ms < KEY_EXPIRY.minMs || ms > KEY_EXPIRY.maxMs) throw badParam("expires", "must be from 1h to 3650d");
    expiresAtMs = nowMs + ms;
  }
  return { name, role: role as Role, expiresAtMs, createdBy };
}
