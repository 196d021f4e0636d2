// Each test file gets its own database on the server from DATABASE_URL, so runs never see each other's data.
import { randomBytes } from "node:crypto";
import pg from "pg";

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** The server URL, or null when tests may skip Postgres (never under CI=true: .ci/run checks it is reachable). */
export function serverUrl(): string | null {
  const url = process.env.DATABASE_URL;
  if (url) return url;
  if (process.env.CI === "true") throw new Error("DATABASE_URL must be set under CI=true");
  return null;
}

/** A fresh database on the server of DATABASE_URL (or of `server`, e.g. TIMESCALE_URL's). */
export async function createTestDatabase(server?: string): Promise<TestDatabase> {
  const base = server ?? serverUrl();
  if (!base) throw new Error("DATABASE_URL is not set");
  const name = `vigil_test_${process.pid}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(base);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** `test(..., { skip })` value: skips with a reason when no Postgres is configured outside CI. */
export function skipWithoutPostgres(): string | false {
  return serverUrl() ? false : "DATABASE_URL is not set";
}
