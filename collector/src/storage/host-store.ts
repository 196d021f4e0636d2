import { sql, type Kysely } from "kysely";
import type { Database } from "./schema.js";

export interface HostHello {
  name: string;
  agentId: string;
  labels: Record<string, string>;
  agentVersion: string;
  os: string;
  kernel: string;
  cpuCount: number;
  intervalMs: number;
  bootTimeMs: number;
}

export interface RegisteredHost {
  id: number;
  /** Highest batch seq committed for this host: the agent resumes after it. */
  lastSeq: number;
}

/** Records the agent's Hello: creates the host on first contact, refreshes its facts afterwards. */
export async function registerHost(db: Kysely<Database>, h: HostHello): Promise<RegisteredHost> {
  const r = await sql<{ id: number; last_seq: number }>`
    INSERT INTO hosts (name, agent_id, labels, agent_version, os, kernel, cpu_count, interval_ms, boot_time)
    VALUES (${h.name}, ${h.agentId}, ${JSON.stringify(h.labels)}::jsonb, ${h.agentVersion}, ${h.os}, ${h.kernel},
            ${h.cpuCount}, ${h.intervalMs}, ${h.bootTimeMs > 0 ? new Date(h.bootTimeMs).toISOString() : null})
    ON CONFLICT (name) DO UPDATE SET
      agent_id = excluded.agent_id, labels = excluded.labels, agent_version = excluded.agent_version,
      os = excluded.os, kernel = excluded.kernel, cpu_count = excluded.cpu_count,
      interval_ms = excluded.interval_ms, boot_time = excluded.boot_time, last_seen = now()
    RETURNING id, last_seq`.execute(db);
  const row = r.rows[0]!;
  return { id: row.id, lastSeq: row.last_seq };
}
