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
  close(): Promise<void>;
}

// int8 (series ids, counts) as JS numbers: ids stay far below 2^53 and every consumer wants numbers.
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

const CONNECT_TIMEOUT_MS = 10_000;

export async function openDatabase(opts: DatabaseOptions): Promise<OpenDatabase> {
  if (opts.databaseUrl) {
    // Without a connect timeout a database host that drops packets would hang start and every later query.
    const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: opts.poolSize ?? 8, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, types });
    // An idle client losing its server (Postgres restarted) must not crash the process.
    pool.on("error", () => {});
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, kind: "postgres", close: () => db.destroy() };
  }
  const { PGlite } = await import("@electric-sql/pglite");
  const { createPgConfig } = await import("@electric-sql/pglite/node-postgres");
  const pglite = await PGlite.create(`${opts.dataDir}/pglite`);
  const pool = new pg.Pool({ ...createPgConfig(pglite), types });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    kind: "pglite",
    close: async () => {
      await db.destroy();
      await pglite.close();
    },
  };
}
