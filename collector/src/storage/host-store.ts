import { sql, type Kysely, type Transaction } from "kysely";
import type { AdmitHost, AgentHello, HostOwner } from "../ingest/ports.js";
import type { Database } from "./schema.js";

export type HostHello = AgentHello;

export type RegisteredHost<R> = { ok: true; id: number; lastSeq: number } | { ok: false; refusal: R };

/** What a Hello tells about its host, written on creation and refreshed on every Hello. */
const facts = (h: HostHello) => ({
  agent_id: h.agentId,
  labels: JSON.stringify(h.labels),
  agent_version: h.agentVersion,
  os: h.os,
  kernel: h.kernel,
  cpu_count: h.cpuCount,
  interval_ms: h.intervalMs,
  boot_time: h.bootTimeMs > 0 ? new Date(h.bootTimeMs).toISOString() : null,
});

/**
 * Records the agent's Hello: creates the host on first contact (owned by the Hello's agent id, and by its token when
 * that is the host's own), refreshes its facts afterwards. An existing host's owner is checked by `admit` under a row
 * lock, so two agents racing for one name cannot both win.
 */
export async function registerHost<R>(db: Kysely<Database>, h: HostHello, admit: AdmitHost<R> = () => undefined): Promise<RegisteredHost<R>> {
  // Two tries: a first contact can lose the insert race to another stream, and then the row exists to be checked.
  for (let attempt = 0; ; attempt++) {
    const r = await db.transaction().execute(async (tx) => {
      const row = await tx.selectFrom("hosts").select(["agent_id", "token_bound", "last_seen", "interval_ms"]).where("name", "=", h.name).forUpdate().executeTakeFirst();
      if (!row) return insertHost(tx, h);
      const owner: HostOwner = { agentId: row.agent_id, tokenBound: row.token_bound, lastSeenMs: row.last_seen.getTime(), intervalMs: row.interval_ms };
      const refusal = admit(owner);
      if (refusal !== undefined) return { ok: false as const, refusal };
      const u = await tx
        .updateTable("hosts")
        .set({
          ...facts(h),
          // Once bound to its own token, a host stays bound.
          token_bound: sql<boolean>`token_bound OR ${h.tokenBound}`,
          last_seen: sql<Date>`now()`,
        })
        .where("name", "=", h.name)
        .returning(["id", "last_seq"])
        .executeTakeFirstOrThrow();
      return { ok: true as const, id: u.id, lastSeq: u.last_seq };
    });
    if (r || attempt > 0) {
      if (!r) throw new Error(`host ${JSON.stringify(h.name)} could be neither created nor found`);
      return r;
    }
  }
}

async function insertHost(tx: Transaction<Database>, h: HostHello): Promise<{ ok: true; id: number; lastSeq: number } | undefined> {
  const row = await tx
    .insertInto("hosts")
    .values({ name: h.name, token_bound: h.tokenBound, ...facts(h) })
    .onConflict((oc) => oc.column("name").doNothing())
    .returning(["id", "last_seq"])
    .executeTakeFirst();
  return row ? { ok: true, id: row.id, lastSeq: row.last_seq } : undefined;
}
