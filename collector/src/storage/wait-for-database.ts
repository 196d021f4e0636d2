// Reaching the database at start. Without waiting, one clear line and a prompt failure; when waiting (under systemd,
// or with --wait-for-db), retries with exponential backoff and full jitter, logging each attempt, until the database
// answers or the wait is over. Errors that are not about reaching the database are thrown as they are.
import { Backoff, formatDuration, type Clock, type Logger } from "@vigil/shared";
import { CollectorError, CollectorErrors } from "../errors.js";
import { describeConnectError } from "./connect-error.js";

export interface WaitForDatabaseOptions {
  /** One connection attempt (e.g. SELECT 1). */
  probe(): Promise<unknown>;
  /** host:port, for messages. */
  target: string;
  /** The setting that names the database, for messages ("DATABASE_URL", "database_url in FILE"). */
  setting: string;
  /** How long to keep trying; 0 = one attempt, Infinity = until stopped. */
  waitMs: number;
  clock: Clock;
  log: Logger;
  sleep?: (ms: number) => Promise<void>;
  backoff?: Backoff;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitForDatabase(o: WaitForDatabaseOptions): Promise<void> {
  const sleep = o.sleep ?? defaultSleep;
  const backoff = o.backoff ?? new Backoff({ initialMs: 1000, maxMs: 30_000 });
  const start = o.clock.now();
  for (let attempt = 1; ; attempt++) {
    try {
      await o.probe();
      if (attempt > 1) o.log.info({ database: o.target, attempt }, "database reachable");
      return;
    } catch (err) {
      const failure = describeConnectError(err);
      if (!failure) throw err;
      const line = `cannot connect to PostgreSQL at ${o.target} (${o.setting}): ${failure.cause}; check ${failure.check}`;
      const elapsed = o.clock.now() - start;
      if (elapsed >= o.waitMs) {
        const gaveUp = attempt > 1 ? ` (gave up after ${attempt} attempts over ${formatDuration(Math.round(elapsed / 1000) * 1000)})` : "";
        throw new CollectorError(CollectorErrors.STORAGE_UNREACHABLE, `${line}${gaveUp}`);
      }
      const delay = Math.min(backoff.next(), o.waitMs - elapsed);
      o.log.warn(
        { code: CollectorErrors.STORAGE_UNREACHABLE, database: o.target, attempt, retryInMs: delay },
        `${CollectorErrors.STORAGE_UNREACHABLE}: ${line}; retrying in ${formatDuration(Math.max(delay, 1))}`,
      );
      await sleep(delay);
    }
  }
}
