import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { Database } from "./schema.js";

export interface DatabaseOptions {
  /** postgres:// URL; when absent, embedded PGlite in `dataDir`. */
  databaseUrl?: string;
  dataDir: string;
  poolSize?: number;
}

export interface OpenDatabase {
  db: Kysely<Database>;
  kind: "postgres" | "pglite";
  /** One connection attempt and `SELECT 1` on a connection of its own, bounded in time: is the database reachable? */
  probe(): Promise<void>;
  close(): Promise<void>;
}

// int8 (series ids, counts) as JS numbers: ids stay far below 2^53 and every consumer wants numbers.
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

// A host that drops packets would otherwise hang the start. The pool keeps pg's default (wait) so that a busy pool
// under load queues rather than fails.
const PROBE_TIMEOUT_MS = 10_000;

async function probe(connectionString: string): Promise<void> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: PROBE_TIMEOUT_MS, query_timeout: PROBE_TIMEOUT_MS });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
  } finally {
    await client.end().catch(() => {});
  }
}

/** Where PGlite keeps its files inside the data dir. */
export const pgliteDir = (dataDir: string): string => `${dataDir}/pglite`;

export async function openDatabase(opts: DatabaseOptions): Promise<OpenDatabase> {
  if (opts.databaseUrl) {
    const url = opts.databaseUrl;
    const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: opts.poolSize ?? 8, types });
    // An idle client losing its server (Postgres restarted) must not crash the process.
    pool.on("error", () => {});
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, kind: "postgres", probe: () => probe(url), close: () => db.destroy() };
  }
  const { PGlite } = await import("@electric-sql/pglite");
  const { createPgConfig } = await import("@electric-sql/pglite/node-postgres");
  const pglite = await PGlite.create(pgliteDir(opts.dataDir));
  const pool = new pg.Pool({ ...createPgConfig(pglite), types });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    kind: "pglite",
    probe: async () => {},
    close: async () => {
      await db.destroy();
      await pglite.close();
    },
  };
}
