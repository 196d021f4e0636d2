import { sql, type Kysely, type Transaction } from "kysely";
import type { AdmitHost, AgentHello, HostOwner } from "../ingest/ports.js";
import type { Database } from "./schema.js";

export type HostHello = AgentHello;

export type RegisteredHost<R> = { ok: true; id: number; lastSeq: number } | { ok: false; refusal: R };

const bootTime = (h: HostHello) => (h.bootTimeMs > 0 ? new Date(h.bootTimeMs).toISOString() : null);

/**
 * Records the agent's Hello: creates the host on first contact (owned by the Hello's agent id, and by its token when
 * that is the host's own), refreshes its facts afterwards. An existing host's owner is checked by `admit` under a row
 * lock, so two agents racing for one name cannot both win.
 */
export async function registerHost<R>(db: Kysely<Database>, h: HostHello, admit: AdmitHost<R> = () => undefined): Promise<RegisteredHost<R>> {
  // Two tries: a first contact can lose the insert race to another stream, and then the row exists to be checked.
  for (let attempt = 0; ; attempt++) {
    const r = await db.transaction().execute(async (tx) => {
      const cur = await sql<{ agent_id: string; token_bound: boolean; last_seen: Date; interval_ms: number }>`
        SELECT agent_id, token_bound, last_seen, interval_ms FROM hosts WHERE name = ${h.name} FOR UPDATE`.execute(tx);
      const row = cur.rows[0];
      if (!row) return insertHost(tx, h);
      const owner: HostOwner = { agentId: row.agent_id, tokenBound: row.token_bound, lastSeenMs: row.last_seen.getTime(), intervalMs: row.interval_ms };
      const refusal = admit(owner);
      if (refusal !== undefined) return { ok: false as const, refusal };
      const u = await sql<{ id: number; last_seq: number }>`
        UPDATE hosts SET
          agent_id = ${h.agentId}, token_bound = token_bound OR ${h.tokenBound}, labels = ${JSON.stringify(h.labels)}::jsonb,
          agent_version = ${h.agentVersion}, os = ${h.os}, kernel = ${h.kernel}, cpu_count = ${h.cpuCount},
          interval_ms = ${h.intervalMs}, boot_time = ${bootTime(h)}, last_seen = now()
        WHERE name = ${h.name}
        RETURNING id, last_seq`.execute(tx);
      return { ok: true as const, id: u.rows[0]!.id, lastSeq: u.rows[0]!.last_seq };
    });
    if (r || attempt > 0) {
      if (!r) throw new Error(`host ${JSON.stringify(h.name)} could be neither created nor found`);
      return r;
    }
  }
}

async function insertHost(tx: Transaction<Database>, h: HostHello): Promise<{ ok: true; id: number; lastSeq: number } | undefined> {
  const r = await sql<{ id: number; last_seq: number }>`
    INSERT INTO hosts (name, agent_id, token_bound, labels, agent_version, os, kernel, cpu_count, interval_ms, boot_time)
    VALUES (${h.name}, ${h.agentId}, ${h.tokenBound}, ${JSON.stringify(h.labels)}::jsonb, ${h.agentVersion}, ${h.os}, ${h.kernel},
            ${h.cpuCount}, ${h.intervalMs}, ${bootTime(h)})
    ON CONFLICT (name) DO NOTHING
    RETURNING id, last_seq`.execute(tx);
  const row = r.rows[0];
  return row ? { ok: true, id: row.id, lastSeq: row.last_seq } : undefined;
}
