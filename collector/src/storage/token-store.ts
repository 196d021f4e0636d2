import { randomBytes, timingSafeEqual } from "node:crypto";
import type { Kysely } from "kysely";
import { CollectorError, CollectorErrors } from "../errors.js";
import type { AgentTokens, AgentTokenView } from "../api/ports.js";
import type { AgentAuthenticator, AuthResult } from "../ingest/ports.js";
import type { Database } from "./schema.js";
import { revokeByNameOrId, sha256 } from "./secret-rows.js";

// vgl_<public id>_<secret>: the id finds the row, the secret is checked against a hash in constant time.
const TOKEN = /^vgl_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;


export class TokenStore implements AgentAuthenticator, AgentTokens {
  constructor(private readonly db: Kysely<Database>) {}

  /** Creates a token; the secret is returned once and never stored. */
  async create(name: string, anyHost: boolean): Promise<{ token: string; id: string }> {
    if (!/^[A-Za-z0-9._-]{1,253}$/.test(name)) throw new CollectorError(CollectorErrors.BAD_CONFIG, `--name: expected a host name, got ${JSON.stringify(name)}`);
    const id = randomBytes(6).toString("hex");
    const token = `vgl_${id}_${randomBytes(32).toString("base64url")}`;
    try {
      await this.db.insertInto("agent_tokens").values({ id, name, hash: sha256(token), any_host: anyHost }).execute();
    } catch (err) {
      if ((err as { code?: string }).code === "23505") throw new CollectorError(CollectorErrors.CONFLICT, `name: a token named ${JSON.stringify(name)} exists already; revoke it first`);
      throw err;
    }
    return { token, id };
  }

  async list(): Promise<AgentTokenView[]> {
    const rows = await this.db.selectFrom("agent_tokens").select(["id", "name", "any_host", "created_at", "revoked_at", "last_used_at"]).orderBy("name").execute();
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      anyHost: r.any_host,
      createdAt: r.created_at.toISOString(),
      revokedAt: r.revoked_at?.toISOString() ?? null,
      lastUsedAt: r.last_used_at?.toISOString() ?? null,
    }));
  }

  /** Revokes by name or id; revoked rows stay for the audit trail (the name can be reused after). */
  async revoke(nameOrId: string): Promise<boolean> {
    return revokeByNameOrId(this.db, "agent_tokens", nameOrId);
  }

  async authenticate(token: string | undefined): Promise<AuthResult> {
    if (!token) return { ok: false, reason: "no agent token: set the agent's token_file (or VIGIL_TOKEN); create one with `vigil-collector token create --name HOST`" };
    const m = TOKEN.exec(token);
    if (!m) return { ok: false, reason: "malformed agent token (expected vgl_…)" };
    const id = m[1]!;
    const row = await this.db.selectFrom("agent_tokens").select(["name", "hash", "any_host", "revoked_at"]).where("id", "=", id).executeTakeFirst();
    // Hash even when the row is missing, so timing does not tell unknown ids from wrong secrets.
    const given = sha256(token);
    const ok = row !== undefined && timingSafeEqual(given, row.hash);
    if (!row || !ok) return { ok: false, reason: `unknown agent token (id ${id})` };
    if (row.revoked_at) return { ok: false, reason: `agent token ${id} (${row.name}) was revoked` };
    await this.db.updateTable("agent_tokens").set({ last_used_at: new Date() }).where("id", "=", id).execute();
    return { ok: true, name: row.name, anyHost: row.any_host };
  }
}
