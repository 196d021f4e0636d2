import { sql, type Kysely, type Transaction } from "kysely";
import type { Clock } from "@vigil/shared";
import { CollectorError, CollectorErrors } from "../errors.js";
import type { Database } from "./schema.js";

/** Postgres' SQLSTATE for a statement cancelled by statement_timeout (or pg_cancel_backend). */
const QUERY_CANCELED = "57014";

function timedOut(): CollectorError {
  return new CollectorError(
    CollectorErrors.QUERY_TIMEOUT,
    "the query ran past its time limit (api.query_timeout) and was cancelled: narrow the range, the series or the step",
  );
}

/**
 * Runs a read in a transaction whose statements Postgres cancels at the deadline (SET LOCAL statement_timeout), so a
 * query nobody waits for any more stops using the server. PGlite ignores the setting; there the callers keep each
 * read small and this refuses to start one past the deadline.
 */
export async function readWithin<T>(db: Kysely<Database>, clock: Clock, deadlineMs: number, read: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  const left = Math.ceil(deadlineMs - clock.now());
  if (left <= 0) throw timedOut();
  try {
    return await db.transaction().execute(async (trx) => {
      await sql`SELECT set_config('statement_timeout', ${String(left)}, true)`.execute(trx);
      return read(trx);
    });
  } catch (err) {
    if ((err as { code?: unknown }).code === QUERY_CANCELED) throw timedOut();
    throw err;
  }
}
