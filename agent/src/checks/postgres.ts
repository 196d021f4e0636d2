// `postgres` check: connect and `SELECT 1` (the latency), then connection use against max_connections and, on a
// replica, replication lag. Also the password handling shared with the redis check: the password comes from a file
// or an environment variable read at run time, and never appears in a message (URLs are shown without it).
import { readFile } from "node:fs/promises";
import { zDuration } from "@vigil/shared";
import { z } from "zod";
import { abortReason, deadline, describeConnectError, elapsedMs, errorCode, errorText, slowWarning, untilAborted, verdict } from "./tcp.js";
import type { Check, CheckCommon, CheckMetric, CheckOutcome } from "./types.js";

/** Fields for a password kept out of the config file; either one, or neither (a password in the URL, or none). */
export const passwordFields = {
  password_file: z.string().min(1).optional(),
  password_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected an environment variable name").optional(),
};

const ratio = z.number().gt(0).max(1);

export const postgresCheckSchema = z
  .object({
    kind: z.literal("postgres"),
    url: z.string().url().refine((u) => /^postgres(?:ql)?:\/\//i.test(u), "expected a postgres:// or postgresql:// URL"),
    ...passwordFields,
    connections_warning: ratio.default(0.9),
    replication_lag_warning: zDuration(0, 7 * 86_400_000).default("30s"),
  })
  .strict();

export type PostgresCheckConfig = z.output<typeof postgresCheckSchema>;

/** Reads the password named by `password_file` / `password_env` (file: trailing newline dropped), if any. */
export async function readPassword(cfg: { password_file?: string; password_env?: string }): Promise<string | undefined> {
  if (cfg.password_file !== undefined) {
    try {
      return (await readFile(cfg.password_file, "utf8")).replace(/\r?\n$/, "");
    } catch (err) {
      throw new Error(`cannot read password_file ${cfg.password_file}: ${(err as NodeJS.ErrnoException).code ?? errorText(err)}`);
    }
  }
  if (cfg.password_env !== undefined) {
    const value = process.env[cfg.password_env];
    if (value === undefined || value === "") throw new Error(`password_env ${cfg.password_env} is not set`);
    return value;
  }
  return undefined;
}

/** Throws when both password_file and password_env are set (call from a factory: a config error). */
export function checkPasswordFields(cfg: { password_file?: string; password_env?: string }): void {
  if (cfg.password_file !== undefined && cfg.password_env !== undefined) throw new Error("set password_file or password_env, not both");
}

/** `url` with `password` (percent-encoded) in place of any password it had. */
export function withPassword(url: string, password: string): string {
  const u = new URL(url);
  u.password = encodeURIComponent(password);
  return u.toString();
}

/** `url` without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = "";
    return u.toString();
  } catch {
    return "(unparsable URL)";
  }
}

/** `message` with every occurrence of `secret` masked (a last guard; messages are built without secrets). */
export function scrub(message: string, secret: string | undefined): string {
  return secret ? message.split(secret).join("***") : message;
}

const STATS_SQL = `SELECT
  (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int AS connections,
  current_setting('max_connections')::int AS max_connections,
  pg_is_in_recovery() AS in_recovery,
  CASE WHEN pg_is_in_recovery() THEN extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END AS lag`;

interface Stats {
  connections: number;
  max_connections: number;
  in_recovery: boolean;
  lag: number | null;
}

const pct = (x: number): string => `${Math.round(x * 100)}%`;

export function createPostgresCheck(common: CheckCommon, cfg: PostgresCheckConfig): Check {
  checkPasswordFields(cfg);
  const u = new URL(cfg.url);
  const target = `${u.hostname || "localhost"}:${u.port || 5432}`;
  const shown = redactUrl(cfg.url);
  return {
    common,
    async run(signal: AbortSignal): Promise<CheckOutcome> {
      let password: string | undefined;
      try {
        password = await readPassword(cfg);
      } catch (err) {
        return { status: "unhealthy", message: errorText(err) };
      }
      // Loaded on first use: most agents run no postgres check, and pg is a large share of the bundle's heap.
      const { default: pg } = await import("pg");
      const client = new pg.Client({
        connectionString: password === undefined ? cfg.url : withPassword(cfg.url, password),
        connectionTimeoutMillis: common.timeoutMs,
        query_timeout: common.timeoutMs,
        application_name: "vigil-agent",
      });
      client.on("error", () => undefined); // errors after connect surface through the pending query
      const start = performance.now();
      const limit = deadline(signal, common.timeoutMs);
      let phase = "connecting to";
      let ms: number;
      let stats: Stats | undefined;
      try {
        const work = (async () => {
          await client.connect();
          phase = "waiting for SELECT 1 from";
          await client.query("SELECT 1");
          phase = "waiting for statistics from";
          const latency = elapsedMs(start);
          return { latency, row: (await client.query<Stats>(STATS_SQL)).rows[0] };
        })();
        ({ latency: ms, row: stats } = await untilAborted(limit.signal, work, () => client.connection.stream.destroy()));
      } catch (err) {
        if (signal.aborted) throw abortReason(signal);
        if (limit.expired()) return { status: "unhealthy", message: `timed out after ${common.timeoutMs} ms ${phase} ${target}` };
        return { status: "unhealthy", message: scrub(failure(err, target, shown, common.timeoutMs), password) };
      } finally {
        void client.end().catch(() => undefined);
      }
      if (!stats) return { status: "unhealthy", message: `no result from the statistics query (${shown})` };
      const metrics: CheckMetric[] = [
        { metric: "vigil.check.postgres.latency", value: ms / 1000 },
        { metric: "vigil.check.postgres.connections", value: stats.connections },
        { metric: "vigil.check.postgres.max_connections", value: stats.max_connections },
      ];
      const used = stats.max_connections > 0 ? stats.connections / stats.max_connections : 0;
      const warnings = [slowWarning(common, ms)];
      if (used >= cfg.connections_warning) {
        warnings.push(`${stats.connections}/${stats.max_connections} connections (${pct(used)}, warning at ${pct(cfg.connections_warning)})`);
      }
      let role = "primary";
      if (stats.in_recovery) {
        role = "replica, nothing replayed yet";
        if (stats.lag !== null) {
          metrics.push({ metric: "vigil.check.postgres.replication_lag", value: stats.lag });
          role = `replica, lag ${stats.lag.toFixed(1)} s`;
          const lagLimit = cfg.replication_lag_warning / 1000;
          if (stats.lag > lagLimit) warnings.push(`replication lag ${stats.lag.toFixed(1)} s (warning over ${lagLimit} s)`);
        }
      }
      const summary = `SELECT 1 in ${ms} ms; ${stats.connections}/${stats.max_connections} connections; ${role}`;
      return verdict(summary, warnings, metrics);
    },
  };
}

/** Which problem it was: connection-level failures name the address; server errors (auth, no such database) the URL. */
function failure(err: unknown, target: string, shown: string, timeoutMs: number): string {
  if (errorText(err) === "timeout expired") return `timed out after ${timeoutMs} ms connecting to ${target}`;
  const code = errorCode(err);
  if (code !== undefined && /^E[A-Z]+$/.test(code)) return describeConnectError(err, target, timeoutMs);
  return `${errorText(err)} (${shown})`;
}
