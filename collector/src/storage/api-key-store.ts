// API keys: vgk_<public id>_<secret>. The id finds the row; only a SHA-256 of the whole key is stored, compared in
// constant time (as agent tokens are). A revoked or expired key keeps its row, so the audit log's names stay explained.
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { Kysely } from "kysely";
import type { Role } from "../api/access.js";
import type { ApiKeys, ApiKeyView, KeyCheck, NewApiKey } from "../api/ports.js";
import { CollectorError, CollectorErrors } from "../errors.js";
import type { Database } from "./schema.js";
import { revokeByNameOrId, sha256 } from "./secret-rows.js";

const KEY = /^vgk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
/** last_used_at is written at most this often per key: not a database write per request. */
const LAST_USED_EVERY_MS = 60_000;
const MAX_LAST_USED_TRACKED = 10_000;

const iso = (d: Date | null) => d?.toISOString() ?? null;

export class ApiKeyStore implements ApiKeys {
  private readonly lastUsedWritten = new Map<string, number>();

  constructor(private readonly db: Kysely<Database>) {}

  async create(k: NewApiKey): Promise<{ key: string; view: ApiKeyView }> {
    const id = randomBytes(6).toString("hex");
    const key = `vgk_${id}_${randomBytes(32).toString("base64url")}`;
    try {
      const row = await this.db
        .insertInto("api_keys")
        .values({ id, name: k.name, role: k.role, hash: sha256(key), created_by: k.createdBy, expires_at: k.expiresAtMs === null ? null : new Date(k.expiresAtMs) })
        .returningAll()
        .executeTakeFirstOrThrow();
      return { key, view: viewOf(row) };
    } catch (err) {
      if ((err as { code?: string }).code === "23505") throw new CollectorError(CollectorErrors.CONFLICT, `name: an active API key named ${JSON.stringify(k.name)} exists already; revoke it first`);
      throw err;
    }
  }

  async list(): Promise<ApiKeyView[]> {
    const rows = await this.db.selectFrom("api_keys").selectAll().orderBy("name").orderBy("created_at").execute();
    return rows.map(viewOf);
  }

  async revoke(nameOrId: string): Promise<boolean> {
    return revokeByNameOrId(this.db, "api_keys", nameOrId);
  }

  async authenticate(key: string, nowMs: number): Promise<KeyCheck> {
    const m = KEY.exec(key);
    if (!m) return { ok: false, reason: "malformed" };
    const id = m[1]!;
    const row = await this.db.selectFrom("api_keys").select(["name", "role", "hash", "expires_at", "revoked_at"]).where("id", "=", id).executeTakeFirst();
    // Hash even when the row is missing, so timing does not tell unknown ids from wrong secrets.
    const given = sha256(key);
    if (!row || !timingSafeEqual(given, row.hash)) return { ok: false, reason: "unknown", keyId: id };
    if (row.revoked_at) return { ok: false, reason: "revoked", keyId: id, name: row.name };
    if (row.expires_at && row.expires_at.getTime() <= nowMs) return { ok: false, reason: "expired", keyId: id, name: row.name };
    await this.touch(id, nowMs);
    return { ok: true, principal: { keyId: id, name: row.name, role: row.role as Role }, expiresAtMs: row.expires_at?.getTime() ?? null };
  }

  async anyActive(nowMs: number): Promise<boolean> {
    const row = await this.db
      .selectFrom("api_keys")
      .select("id")
      .where("revoked_at", "is", null)
      .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", new Date(nowMs))]))
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  private async touch(id: string, nowMs: number): Promise<void> {
    const last = this.lastUsedWritten.get(id);
    if (last !== undefined && nowMs - last < LAST_USED_EVERY_MS) return;
    if (this.lastUsedWritten.size >= MAX_LAST_USED_TRACKED) this.lastUsedWritten.clear();
    this.lastUsedWritten.set(id, nowMs);
    await this.db.updateTable("api_keys").set({ last_used_at: new Date(nowMs) }).where("id", "=", id).execute();
  }
}

function viewOf(r: { id: string; name: string; role: string; created_at: Date; created_by: string; expires_at: Date | null; revoked_at: Date | null; last_used_at: Date | null }): ApiKeyView {
  return {
    id: r.id,
    name: r.name,
    role: r.role as Role,
    createdAt: r.created_at.toISOString(),
    createdBy: r.created_by,
    expiresAt: iso(r.expires_at),
    revokedAt: iso(r.revoked_at),
    lastUsedAt: iso(r.last_used_at),
  };
}
