import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { loadSettings, parseHostPort, zBoolean, zBytes, zDuration, zInteger, zHostPort, zLogLevel, VigilError, type HostPort, type SettingSpec } from "@vigil/shared";
import { z } from "zod";
import { CollectorError, CollectorErrors } from "./errors.js";
import { receiverConfigSchema, type ReceiverConfig } from "./notify/receivers/index.js";
import { parsePolicyConfig, PolicyConfigError, type PolicyConfig } from "./notify/routing/index.js";

export const DEFAULT_CONFIG_PATH = "/etc/vigil/collector.yaml";

const DAY_MS = 86_400_000;

/** How long to retry an unreachable database at start: a duration, or "forever". */
const zWaitForDb = z.union([z.string(), z.number()]).transform((v, ctx) => {
  if (String(v).trim().toLowerCase() === "forever") return Number.POSITIVE_INFINITY;
  const r = zDuration(0, 30 * DAY_MS).safeParse(v);
  if (r.success) return r.data;
  for (const issue of r.error.issues) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${issue.message} (or "forever")` });
  return z.NEVER;
});

/**
 * systemd sets these for every service it starts: there a database not up yet is waited for, not fatal. Shells in
 * terminals started by a systemd user service inherit them too; a terminal on stderr means a person is watching.
 */
export function underSystemd(env: NodeJS.ProcessEnv, terminal = process.stderr.isTTY === true): boolean {
  return Boolean(env.INVOCATION_ID || env.NOTIFY_SOCKET) && !terminal;
}

/** How long a tier is kept: an hour to a hundred years. */
const zRetention = zDuration(3_600_000, 100 * 365 * DAY_MS);
/** A metric name pattern for retention overrides: metric-name characters and `*` (any run of characters). */
const zMetricPattern = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_.:*-]+$/, "expected a metric name pattern: letters, digits, _ . : - and * (any run of characters)");
/** A browser origin as the Origin header carries it: scheme, host and port, nothing else. */
const zOrigin = z
  .string()
  .max(300)
  .refine((o) => URL.canParse(o) && new URL(o).origin === o && /^https?:$/.test(new URL(o).protocol), {
    message: "expected an origin: http(s)://host[:port], no path or trailing slash",
  });
/** Mantissa bits kept for non-integer values in compacted blocks (README "Storage": the relative error bound). */
const DEFAULT_VALUE_BITS = 52;

const schema = z
  .object({
    grpc_listen: zHostPort.default("127.0.0.1:4770"),
    http_listen: zHostPort.default("127.0.0.1:4780"),
    data_dir: z.string().min(1).default("./data"),
    database_url: z
      .string()
      .regex(/^postgres(ql)?:\/\//, "expected a postgres:// URL")
      .refine((u) => URL.canParse(u), "not a valid URL (percent-encode special characters in the password)")
      .optional(),
    wait_for_db: zWaitForDb.optional(),
    // State shared between collectors (rate-limit counters): Redis, when set.
    redis_url: z
      .string()
      .regex(/^rediss?:\/\//, "expected a redis:// or rediss:// URL")
      .refine((u) => URL.canParse(u), "not a valid URL (percent-encode special characters in the password)")
      .optional(),
    // Collectors sharing a database and Redis (README "Several collectors").
    cluster: z.object({ lease_ttl: zDuration(1000, 120_000).default("10s") }).strict().default({}),
    log_level: zLogLevel.default("info"),
    insecure_no_auth: zBoolean.default(false),
    rules_dir: z.string().min(1).optional(),
    /** Base URL of the collector as people reach it, for links in notifications. */
    external_url: z.string().url().optional(),
    // Receivers are validated here (errors name the key); the routing policy is validated by notify/routing.
    notifications: z
      .object({ receivers: z.array(receiverConfigSchema).default([]) })
      .passthrough()
      .default({}),
    disabled_rules: z.array(z.string().min(1, "empty rule name")).default([]),
    tls: z
      .object({ cert: z.string().optional(), key: z.string().optional(), client_ca: z.string().optional() })
      .strict()
      .default({}),
    // HTTPS for the HTTP API (README "Transport security").
    http_tls: z.object({ cert: z.string().min(1).optional(), key: z.string().min(1).optional() }).strict().default({}),
    ingest: z
      .object({
        max_future_skew: zDuration(1000, 86_400_000).default("5m"),
        max_queued_rows: zInteger(1000, 50_000_000).default(200_000),
        writer_connections: zInteger(1, 8).default(2),
        max_message_bytes: zBytes(64 * 1024, 256 * 1024 * 1024).default("16MiB"),
        max_past_age: zDuration(3_600_000, 3650 * 86_400_000).default("15d"),
        hello_timeout: zDuration(1000, 300_000).default("10s"),
        max_series_per_stream: zInteger(100, 1_000_000).default(10_000),
        max_series_per_host: zInteger(100, 10_000_000).default(50_000),
        allow_agent_id_change: zBoolean.default(false),
      })
      .strict()
      .default({}),
    // The storage lifecycle (README "Storage"): tiers' retention, compaction, maintenance.
    storage: z
      .object({
        retention: z.object({ raw: zRetention.default("15d"), "1m": zRetention.default("90d"), "1h": zRetention.default("2y") }).strict().default({}),
        retention_overrides: z
          .array(
            z
              .object({ match: zMetricPattern, raw: zRetention.optional(), "1m": zRetention.optional(), "1h": zRetention.optional() })
              .strict()
              .refine((o) => o.raw !== undefined || o["1m"] !== undefined || o["1h"] !== undefined, "names no tier: give raw, 1m or 1h"),
          )
          .max(100)
          .default([]),
        compact_after: zDuration(60_000, 7 * DAY_MS).default("1h"),
        maintenance_interval: zDuration(10_000, DAY_MS).default("10m"),
        value_bits: zInteger(8, 52).default(DEFAULT_VALUE_BITS),
        // The space the database may use (README "Storage size"): the volume where the collector cannot see it, or less.
        volume_size: zBytes(1024 ** 2, 4 * 1024 ** 5).optional(),
      })
      .strict()
      .default({}),
    // Bounds on the work of one HTTP query (README "HTTP API"); past them the API answers 422 or 429.
    api: z
      .object({
        max_points: zInteger(1000, 50_000_000).default(500_000),
        max_series: zInteger(1, 1_000_000).default(10_000),
        max_samples: zInteger(10_000, 10_000_000_000).default(50_000_000),
        max_heavy_queries: zInteger(1, 64).default(2),
        query_timeout: zDuration(1000, 600_000).default("30s"),
        // Access control (README "Access control").
        metrics_auth: zBoolean.default(false),
        audit_retention: zDuration(DAY_MS, 10 * 365 * DAY_MS).default("1y"),
        // Calls per window: per API key, and per address for calls without a valid key (README "Rate limits").
        rate_limit: z
          .object({
            max: zInteger(1, 1_000_000_000).default(600),
            anonymous_max: zInteger(1, 1_000_000_000).default(120),
            window: zDuration(1000, DAY_MS).default("1m"),
          })
          .strict()
          .default({}),
        // Browser pages on other origins allowed to call the API; none: no CORS headers, browsers refuse them.
        cors: z.object({ origins: z.array(zOrigin).max(100).default([]) }).strict().default({}),
      })
      .strict()
      .default({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    if ((c.http_tls.cert === undefined) !== (c.http_tls.key === undefined)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["http_tls", "cert"], message: "http_tls.cert and http_tls.key go together" });
    }
    if ((c.tls.cert === undefined) !== (c.tls.key === undefined)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["tls", "cert"], message: "tls.cert and tls.key go together" });
    }
    if (c.tls.client_ca && !c.tls.cert) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["tls", "client_ca"], message: "mTLS needs tls.cert and tls.key too" });
  });

type Settings = z.output<typeof schema>;

export interface CollectorConfig {
  httpListen: HostPort;
  grpcListen: HostPort;
  dataDir: string;
  databaseUrl?: string;
  /** Where databaseUrl came from, for messages: "DATABASE_URL" or "database_url in FILE". */
  databaseUrlFrom?: string;
  /** Redis for state shared between collectors (rate limits); absent: kept in this process. */
  redisUrl?: string;
  /** How long a cluster lease (host-down evaluation) lasts without renewal: a dead holder's work moves after it. */
  leaseTtlMs: number;
  /** Retry an unreachable database at start this long (Infinity: until stopped; 0: fail at once). */
  waitForDbMs: number;
  logLevel: string;
  insecureNoAuth: boolean;
  rulesDir?: string;
  disabledRules: string[];
  externalUrl?: string;
  receivers: ReceiverConfig[];
  notificationPolicy: PolicyConfig;
  tls: { cert?: string; key?: string; clientCa?: string };
  /** HTTPS for the API when both are set. */
  httpTls: { cert?: string; key?: string };
  ingest: {
    maxFutureSkewMs: number;
    maxQueuedRows: number;
    /** Sample commits run at once on Postgres, each on its own connection (PGlite has one). */
    writerConnections: number;
    maxMessageBytes: number;
    maxPastAgeMs: number;
    helloTimeoutMs: number;
    maxSeriesPerStream: number;
    maxSeriesPerHost: number;
    allowAgentIdChange: boolean;
  };
  api: {
    maxPoints: number;
    maxSeries: number;
    maxSamples: number;
    maxHeavyQueries: number;
    timeoutMs: number;
    /** /metrics needs a viewer key (when keys are on). */
    metricsAuth: boolean;
    auditRetentionMs: number;
    rateLimit: { max: number; anonymousMax: number; windowMs: number };
    /** Origins whose pages may call the API (CORS); empty: none. */
    corsOrigins: string[];
  };
  storage: LifecycleConfig;
}

export interface LifecycleConfig {
  retention: { keep: Record<"raw" | "1m" | "1h", number>; overrides: { match: string; keep: Partial<Record<"raw" | "1m" | "1h", number>> }[] };
  compactAfterMs: number;
  maintenanceIntervalMs: number;
  mantissaBits: number;
  volumeSizeBytes: number | null;
}

const SPECS: readonly SettingSpec[] = [
  { key: "grpc_listen", flag: "grpc-listen", env: "VIGIL_GRPC_LISTEN", type: "string" },
  { key: "http_listen", flag: "http-listen", env: "VIGIL_HTTP_LISTEN", type: "string" },
  { key: "data_dir", flag: "data-dir", env: "VIGIL_DATA_DIR", type: "string" },
  { key: "database_url", env: "DATABASE_URL", type: "string" },
  { key: "wait_for_db", flag: "wait-for-db", env: "VIGIL_WAIT_FOR_DB", type: "string" },
  { key: "log_level", flag: "log-level", env: "VIGIL_LOG_LEVEL", type: "string" },
  { key: "insecure_no_auth", flag: "insecure-no-auth", env: "VIGIL_INSECURE_NO_AUTH", type: "boolean" },
  { key: "rules_dir", flag: "rules-dir", env: "VIGIL_RULES_DIR", type: "string" },
  { key: "disabled_rules", env: "VIGIL_DISABLED_RULES", type: "list" },
  { key: "tls.cert", flag: "tls-cert", env: "VIGIL_TLS_CERT", type: "string" },
  { key: "tls.key", flag: "tls-key", env: "VIGIL_TLS_KEY", type: "string" },
  { key: "tls.client_ca", flag: "tls-client-ca", env: "VIGIL_TLS_CLIENT_CA", type: "string" },
  { key: "http_tls.cert", flag: "http-tls-cert", env: "VIGIL_HTTP_TLS_CERT", type: "string" },
  { key: "http_tls.key", flag: "http-tls-key", env: "VIGIL_HTTP_TLS_KEY", type: "string" },
  { key: "api.cors.origins", env: "VIGIL_API_CORS_ORIGINS", type: "list" },
  { key: "ingest.max_future_skew", flag: "max-future-skew", env: "VIGIL_MAX_FUTURE_SKEW", type: "string" },
  { key: "redis_url", env: "REDIS_URL", type: "string" },
  { key: "cluster.lease_ttl", env: "VIGIL_CLUSTER_LEASE_TTL", type: "string" },
  { key: "api.rate_limit.max", env: "VIGIL_API_RATE_LIMIT_MAX", type: "string" },
  { key: "api.rate_limit.anonymous_max", env: "VIGIL_API_RATE_LIMIT_ANONYMOUS_MAX", type: "string" },
];

export const USAGE = `Usage: vigil-collector [serve] [options]
       vigil-collector token create --name HOST [--any-host] | token list | token revoke NAME
       vigil-collector apikey create --name NAME --role viewer|operator|admin [--expires 90d] | apikey list | apikey revoke NAME|ID
       vigil-collector storage stats [--json]
       vigil-collector check-config [options]

Settings come from the config file (YAML), environment variables and flags; flags win, then env.

  --config PATH             config file (env VIGIL_CONFIG, default ${DEFAULT_CONFIG_PATH} when it exists)
  --grpc-listen HOST:PORT   agent ingest (VIGIL_GRPC_LISTEN; default 127.0.0.1:4770)
  --http-listen HOST:PORT   HTTP API (VIGIL_HTTP_LISTEN; default 127.0.0.1:4780)
  --data-dir DIR            embedded PGlite database when DATABASE_URL is unset (VIGIL_DATA_DIR; default ./data)
  --wait-for-db DURATION    retry an unreachable database at start this long, with backoff, or "forever"
                            (VIGIL_WAIT_FOR_DB; default forever under systemd, else 0s: exit at once saying why)
  --insecure-no-auth        accept agents without a token and HTTP calls without an API key (VIGIL_INSECURE_NO_AUTH);
                            for a quick local start only
  --rules-dir DIR           alert rule files, YAML (VIGIL_RULES_DIR); reloaded on change and on SIGHUP
  --tls-cert PATH --tls-key PATH   serve gRPC over TLS (VIGIL_TLS_CERT, VIGIL_TLS_KEY)
  --tls-client-ca PATH      require agent client certificates signed by this CA: mTLS (VIGIL_TLS_CLIENT_CA)
  --http-tls-cert PATH --http-tls-key PATH   serve the HTTP API over HTTPS (VIGIL_HTTP_TLS_CERT, VIGIL_HTTP_TLS_KEY)
  --max-future-skew DUR     reject batches stamped further ahead than this (VIGIL_MAX_FUTURE_SKEW; default 5m)
  --log-level LEVEL         trace|debug|info|warn|error (VIGIL_LOG_LEVEL; default info)
  --role ROLE --expires DUR apikey create: the key's role, and its lifetime (default: never expires)
  --json                    storage stats: the figures as GET /api/v1/storage answers them
  -h, --help                this text

Storage: PostgreSQL/TimescaleDB when DATABASE_URL (or database_url) is set, else embedded PGlite in --data-dir.`;

export interface CollectorCommand {
  command: "serve" | "check-config" | "help" | "token" | "apikey" | "storage";
  /** Words after the command (token create|list|revoke …, storage stats). */
  rest: string[];
  flags: Record<string, string | boolean | string[] | undefined>;
  load(env?: NodeJS.ProcessEnv): CollectorConfig;
}

function policyOf(n: Settings["notifications"]): PolicyConfig {
  const { receivers, ...policy } = n;
  const names = receivers.map((r) => r.name);
  const dup = names.find((x, i) => names.indexOf(x) !== i);
  if (dup) throw new CollectorError(CollectorErrors.BAD_CONFIG, `notifications.receivers: duplicate receiver name ${JSON.stringify(dup)}`);
  try {
    return parsePolicyConfig(policy, { receivers: names });
  } catch (err) {
    if (err instanceof PolicyConfigError) {
      throw new CollectorError(CollectorErrors.BAD_CONFIG, err.problems.map((p) => `notifications.${p.path}: ${p.message}`).join("\n"));
    }
    throw err;
  }
}

/** Where the database URL came from: the environment wins over the file. */
function databaseUrlFrom(env: NodeJS.ProcessEnv, file: string | undefined): string {
  return env.DATABASE_URL ? "DATABASE_URL" : `database_url${file ? ` in ${file}` : ""}`;
}

function toConfig(s: Settings, env: NodeJS.ProcessEnv, file: string | undefined): CollectorConfig {
  return {
    httpListen: parseHostPort(s.http_listen, "http_listen"),
    grpcListen: parseHostPort(s.grpc_listen, "grpc_listen"),
    dataDir: s.data_dir,
    databaseUrl: s.database_url,
    databaseUrlFrom: s.database_url ? databaseUrlFrom(env, file) : undefined,
    redisUrl: s.redis_url,
    leaseTtlMs: s.cluster.lease_ttl,
    waitForDbMs: s.wait_for_db ?? (underSystemd(env) ? Number.POSITIVE_INFINITY : 0),
    logLevel: s.log_level,
    insecureNoAuth: s.insecure_no_auth,
    rulesDir: s.rules_dir,
    disabledRules: s.disabled_rules,
    externalUrl: s.external_url,
    receivers: s.notifications.receivers,
    notificationPolicy: policyOf(s.notifications),
    tls: { cert: s.tls.cert, key: s.tls.key, clientCa: s.tls.client_ca },
    httpTls: { cert: s.http_tls.cert, key: s.http_tls.key },
    ingest: {
      maxFutureSkewMs: s.ingest.max_future_skew,
      maxQueuedRows: s.ingest.max_queued_rows,
      writerConnections: s.ingest.writer_connections,
      maxMessageBytes: s.ingest.max_message_bytes,
      maxPastAgeMs: s.ingest.max_past_age,
      helloTimeoutMs: s.ingest.hello_timeout,
      maxSeriesPerStream: s.ingest.max_series_per_stream,
      maxSeriesPerHost: s.ingest.max_series_per_host,
      allowAgentIdChange: s.ingest.allow_agent_id_change,
    },
    storage: {
      retention: {
        keep: s.storage.retention,
        overrides: s.storage.retention_overrides.map(({ match, ...keep }) => ({ match, keep })),
      },
      compactAfterMs: s.storage.compact_after,
      maintenanceIntervalMs: s.storage.maintenance_interval,
      mantissaBits: s.storage.value_bits,
      volumeSizeBytes: s.storage.volume_size ?? null,
    },
    api: {
      maxPoints: s.api.max_points,
      maxSeries: s.api.max_series,
      maxSamples: s.api.max_samples,
      maxHeavyQueries: s.api.max_heavy_queries,
      timeoutMs: s.api.query_timeout,
      metricsAuth: s.api.metrics_auth,
      auditRetentionMs: s.api.audit_retention,
      rateLimit: { max: s.api.rate_limit.max, anonymousMax: s.api.rate_limit.anonymous_max, windowMs: s.api.rate_limit.window },
      corsOrigins: s.api.cors.origins,
    },
  };
}

export function parseCollectorCommand(argv: string[], env: NodeJS.ProcessEnv): CollectorCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        config: { type: "string" },
        "grpc-listen": { type: "string" },
        "http-listen": { type: "string" },
        "data-dir": { type: "string" },
        "log-level": { type: "string" },
        "insecure-no-auth": { type: "boolean" },
        "rules-dir": { type: "string" },
        "tls-cert": { type: "string" },
        "tls-key": { type: "string" },
        "tls-client-ca": { type: "string" },
        "http-tls-cert": { type: "string" },
        "http-tls-key": { type: "string" },
        "max-future-skew": { type: "string" },
        "wait-for-db": { type: "string" },
        name: { type: "string" },
        "any-host": { type: "boolean" },
        role: { type: "string" },
        expires: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    throw new CollectorError(CollectorErrors.BAD_CONFIG, `${(err as Error).message}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  const first = positionals[0] ?? "serve";
  if (!["serve", "check-config", "token", "apikey", "storage"].includes(first)) {
    throw new CollectorError(CollectorErrors.BAD_CONFIG, `unknown command ${JSON.stringify(first)}\n\n${USAGE}`);
  }
  const explicit = values.config ?? env.VIGIL_CONFIG;
  const file = explicit ?? (existsSync(DEFAULT_CONFIG_PATH) ? DEFAULT_CONFIG_PATH : undefined);
  return {
    command: values.help ? "help" : (first as CollectorCommand["command"]),
    rest: positionals.slice(1),
    flags: values,
    load: (e = env) => {
      try {
        return toConfig(loadSettings(schema, SPECS, { file, fileRequired: explicit !== undefined, env: e, flags: values }), e, file);
      } catch (err) {
        if (err instanceof VigilError) throw new CollectorError(CollectorErrors.BAD_CONFIG, err.message);
        throw err;
      }
    },
  };
}
