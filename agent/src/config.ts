import { existsSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadSettings, Redactor, zBoolean, zBytes, zDuration, zHostname, zLabels, zLogLevel, type SettingSpec, VigilError } from "@vigil/shared";
import { z } from "zod";
import { checksSchema } from "./checks/config.js";
import { AgentError, AgentErrors } from "./errors.js";
import { zCollectorTargets } from "./transport/collector-targets.js";

export const DEFAULT_CONFIG_PATH = "/etc/vigil/agent.yaml";

function defaultSpoolDir(): string {
  // systemd's StateDirectory= sets STATE_DIRECTORY; otherwise root gets /var/lib, a user their XDG state dir.
  if (process.env.STATE_DIRECTORY) return join(process.env.STATE_DIRECTORY.split(":")[0]!, "spool");
  if (process.getuid?.() === 0) return "/var/lib/vigil-agent/spool";
  return join(process.env.XDG_STATE_HOME ?? join(os.homedir(), ".local/state"), "vigil-agent/spool");
}

// systemd's LoadCredential=agent.token:… (set up by deploy/install-agent.sh) puts the token here.
function credentialToken(): string | undefined {
  const dir = process.env.CREDENTIALS_DIRECTORY;
  return dir && existsSync(join(dir, "agent.token")) ? join(dir, "agent.token") : undefined;
}

const schema = z
  .object({
    collector: zCollectorTargets.default("127.0.0.1:4770"),
    interval: zDuration(1000, 3_600_000).default("10s"),
    hostname: zHostname.default(os.hostname()),
    labels: zLabels.default({}),
    log_level: zLogLevel.default("info"),
    token: z.string().min(1).optional(),
    token_file: z.string().min(1).optional().transform((v) => v ?? credentialToken()),
    tls: z
      .object({
        enabled: zBoolean.default(false),
        ca: z.string().optional(),
        cert: z.string().optional(),
        key: z.string().optional(),
        server_name: z.string().optional(),
      })
      .strict()
      .default({}),
    spool: z
      .object({
        dir: z.string().min(1).default(defaultSpoolDir()),
        max_bytes: zBytes(1024 * 1024, 1024 ** 4).default("256MiB"),
        max_age: zDuration(60_000, 30 * 86_400_000).default("48h"),
        fsync: z.enum(["always", "never"]).default("always"),
      })
      .strict()
      .default({}),
    checks: checksSchema,
    /** metric → file holding its current value (see collectors/synthetic.ts). */
    synthetic: zLabels.default({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.token && c.token_file) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["token"], message: "set token or token_file, not both" });
    if ((c.tls.cert === undefined) !== (c.tls.key === undefined)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["tls", "cert"], message: "tls.cert and tls.key go together (client certificate for mTLS)" });
    }
  });

export type AgentConfig = z.output<typeof schema>;

const SPECS: readonly SettingSpec[] = [
  { key: "collector", flag: "collector", env: "VIGIL_COLLECTOR", type: "string" },
  { key: "interval", flag: "interval", env: "VIGIL_INTERVAL", type: "string" },
  { key: "hostname", flag: "hostname", env: "VIGIL_HOSTNAME", type: "string" },
  { key: "labels", flag: "label", env: "VIGIL_LABELS", type: "list" },
  { key: "log_level", flag: "log-level", env: "VIGIL_LOG_LEVEL", type: "string" },
  { key: "token", env: "VIGIL_TOKEN", type: "string" },
  { key: "token_file", flag: "token-file", env: "VIGIL_TOKEN_FILE", type: "string" },
  { key: "tls.enabled", flag: "tls", env: "VIGIL_TLS", type: "boolean" },
  { key: "tls.ca", flag: "tls-ca", env: "VIGIL_TLS_CA", type: "string" },
  { key: "tls.cert", flag: "tls-cert", env: "VIGIL_TLS_CERT", type: "string" },
  { key: "tls.key", flag: "tls-key", env: "VIGIL_TLS_KEY", type: "string" },
  { key: "tls.server_name", flag: "tls-server-name", env: "VIGIL_TLS_SERVER_NAME", type: "string" },
  { key: "spool.dir", flag: "spool-dir", env: "VIGIL_SPOOL_DIR", type: "string" },
  { key: "synthetic", flag: "synthetic", type: "list" },
  { key: "spool.max_bytes", env: "VIGIL_SPOOL_MAX_BYTES", type: "string" },
  { key: "spool.max_age", env: "VIGIL_SPOOL_MAX_AGE", type: "string" },
  { key: "spool.fsync", env: "VIGIL_SPOOL_FSYNC", type: "string" },
];

export const USAGE = `Usage: vigil-agent [options]

Every setting can be given in the config file (YAML), by environment variable, or by flag; flags win, then env.

  --config PATH            config file (env VIGIL_CONFIG, default ${DEFAULT_CONFIG_PATH} when it exists)
  --collector HOST:PORT,…  collectors' gRPC addresses, tried in turn (VIGIL_COLLECTOR; default 127.0.0.1:4770);
                           a DNS name stands for every address it resolves to
  --interval DURATION      sampling interval, 1s to 1h (VIGIL_INTERVAL; default 10s)
  --hostname NAME          name this host reports as (VIGIL_HOSTNAME; default the machine's)
  --label k=v              host label, repeatable (VIGIL_LABELS=k=v,k2=v2)
  --token-file PATH        file holding the agent token (VIGIL_TOKEN_FILE, or the token itself in VIGIL_TOKEN)
  --tls                    use TLS with the system's CAs (VIGIL_TLS)
  --tls-ca PATH            CA bundle to verify the collector (VIGIL_TLS_CA; implies TLS)
  --tls-cert PATH          client certificate for mTLS (VIGIL_TLS_CERT), with --tls-key PATH (VIGIL_TLS_KEY)
  --tls-server-name NAME   name to verify the collector's certificate against (VIGIL_TLS_SERVER_NAME)
  --spool-dir DIR          on-disk spool of unacknowledged batches (VIGIL_SPOOL_DIR; default ${defaultSpoolDir()})
  --synthetic METRIC=FILE  also report METRIC with the number in FILE each tick, repeatable (tests, scripts)
  --log-level LEVEL        trace|debug|info|warn|error (VIGIL_LOG_LEVEL; default info)
  --check-config           validate the configuration, print it, and exit (status 1 when invalid)
  --version                print the version
  -h, --help               this text`;

export interface AgentCommand {
  kind: "run" | "check-config" | "help" | "version";
  /** Re-reads file and environment with the same flags (SIGHUP). */
  load(env?: NodeJS.ProcessEnv): AgentConfig;
}

export function parseAgentCommand(argv: string[], env: NodeJS.ProcessEnv): AgentCommand {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: "string" },
        collector: { type: "string" },
        interval: { type: "string" },
        hostname: { type: "string" },
        label: { type: "string", multiple: true },
        "token-file": { type: "string" },
        tls: { type: "boolean" },
        "tls-ca": { type: "string" },
        "tls-cert": { type: "string" },
        "tls-key": { type: "string" },
        "tls-server-name": { type: "string" },
        "spool-dir": { type: "string" },
        synthetic: { type: "string", multiple: true },
        "log-level": { type: "string" },
        "check-config": { type: "boolean" },
        version: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new AgentError(AgentErrors.BAD_CONFIG, `${(err as Error).message}\n\n${USAGE}`);
  }
  const explicit = values.config ?? env.VIGIL_CONFIG;
  const file = explicit ?? (existsSync(DEFAULT_CONFIG_PATH) ? DEFAULT_CONFIG_PATH : undefined);
  const kind = values.help ? "help" : values.version ? "version" : values["check-config"] ? "check-config" : "run";
  return {
    kind,
    load: (e = env) => {
      try {
        return loadSettings(schema, SPECS, { file, fileRequired: explicit !== undefined, env: e, flags: values });
      } catch (err) {
        if (err instanceof VigilError) throw new AgentError(AgentErrors.BAD_CONFIG, err.message);
        throw err;
      }
    },
  };
}

/**
 * Every secret the config holds or names (the token, passwords in check URLs, header values, `password_env` values),
 * added to `into`: logs and the --check-config printout are redacted with it.
 */
export function configRedactor(c: AgentConfig, env: NodeJS.ProcessEnv = process.env, into = new Redactor()): Redactor {
  into.collect(c);
  for (const check of c.checks) if ("password_env" in check && check.password_env !== undefined) into.add(env[check.password_env]);
  return into;
}
