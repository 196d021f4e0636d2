// The space the database can still grow into. The collector sees the volume only when the database's files are on
// this machine: PGlite's data directory always, a PostgreSQL server's when it runs here and tells its data_directory
// (superusers and pg_read_all_settings). Otherwise, or to bound it lower (a quota, a volume shared with other data),
// `storage.volume_size` says how much the database may use. With both, the one leaving less room counts.
import { statfs } from "node:fs/promises";
import { isIP } from "node:net";
import { hostname, networkInterfaces } from "node:os";
import { sql, type Kysely } from "kysely";
import type { Database } from "./schema.js";

export interface Volume {
  source: "statfs" | "setting";
  /** The directory measured (statfs), null for the setting. */
  path: string | null;
  sizeBytes: number;
  availableBytes: number;
}

/** A directory of the database's files on this machine, or why there is none. */
export type LocalDirectory = { path: string } | { reason: string };

/** Whether a postgres:// URL names this machine: a Unix socket, a loopback address, or this host's name or address. */
export function isLocalDatabase(url: string): boolean {
  const u = new URL(url);
  const host = (u.searchParams.get("host") ?? u.hostname).replace(/^\[(.*)\]$/, "$1");
  if (host === "" || host.startsWith("/") || host === "localhost" || host === hostname()) return true;
  if (isIP(host) === 0) return false;
  if (host.startsWith("127.") || host === "::1") return true;
  return Object.values(networkInterfaces()).some((list) => list?.some((a) => a.address === host));
}

/** The PostgreSQL server's data directory when it is on this machine. */
export async function serverDataDirectory(db: Kysely<Database>, databaseUrl: string): Promise<LocalDirectory> {
  if (!isLocalDatabase(databaseUrl)) return { reason: "the database server is on another machine" };
  let path: string;
  try {
    path = (await sql<{ d: string }>`SELECT current_setting('data_directory') AS d`.execute(db)).rows[0]!.d;
  } catch (err) {
    return { reason: `the server does not tell its data_directory (${(err as Error).message})` };
  }
  return { path };
}

/** The volume the database grows into; null with the reason when neither statfs nor the setting tells. */
export async function measureVolume(local: LocalDirectory, sizeSetting: number | null, databaseBytes: number): Promise<{ volume: Volume | null; reason: string | null }> {
  const found: Volume[] = [];
  if (sizeSetting !== null) found.push({ source: "setting", path: null, sizeBytes: sizeSetting, availableBytes: Math.max(0, sizeSetting - databaseBytes) });
  let reason = "reason" in local ? local.reason : null;
  if ("path" in local) {
    try {
      const s = await statfs(local.path);
      found.push({ source: "statfs", path: local.path, sizeBytes: s.blocks * s.bsize, availableBytes: s.bavail * s.bsize });
    } catch (err) {
      reason = `the data directory ${local.path} cannot be measured here (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
    }
  }
  if (found.length === 0) return { volume: null, reason: `${reason}: set storage.volume_size` };
  return { volume: found.reduce((a, b) => (b.availableBytes < a.availableBytes ? b : a)), reason: null };
}
