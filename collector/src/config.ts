import { parseArgs } from "node:util";
import { parseHostPort, VigilError, type HostPort } from "@vigil/shared";
import { CollectorError, CollectorErrors } from "./errors.js";

export interface CollectorConfig {
  httpListen: HostPort;
  grpcListen: HostPort;
  dataDir: string;
  databaseUrl?: string;
  logLevel: string;
}

export const DEFAULTS = {
  httpListen: "127.0.0.1:4780",
  grpcListen: "127.0.0.1:4770",
  dataDir: "./data",
} as const;

export const USAGE = `Usage: vigil-collector [options]

  --http-listen HOST:PORT   HTTP API and dashboard (env VIGIL_HTTP_LISTEN, default ${DEFAULTS.httpListen})
  --grpc-listen HOST:PORT   agent ingest (env VIGIL_GRPC_LISTEN, default ${DEFAULTS.grpcListen})
  --data-dir DIR            embedded PGlite database when DATABASE_URL is unset (env VIGIL_DATA_DIR, default ${DEFAULTS.dataDir})
  --log-level LEVEL         trace|debug|info|warn|error (env VIGIL_LOG_LEVEL, default info)
  -h, --help                this text

Storage: PostgreSQL (or TimescaleDB) when DATABASE_URL is set, otherwise embedded PGlite in --data-dir.`;

/** Flags win over environment variables, which win over defaults. Errors name the flag or variable. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): CollectorConfig | "help" {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        "http-listen": { type: "string" },
        "grpc-listen": { type: "string" },
        "data-dir": { type: "string" },
        "log-level": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new CollectorError(CollectorErrors.BAD_CONFIG, `${(err as Error).message}\n\n${USAGE}`);
  }
  if (values.help) return "help";
  const pick = (flag: string, envName: string, def: string): [string, string] => {
    const v = (values as Record<string, string | undefined>)[flag];
    if (v !== undefined) return [v, `--${flag}`];
    const e = env[envName];
    if (e !== undefined && e !== "") return [e, envName];
    return [def, `--${flag}`];
  };
  const hostPort = (flag: string, envName: string, def: string): HostPort => {
    const [v, where] = pick(flag, envName, def);
    try {
      return parseHostPort(v, where);
    } catch (err) {
      throw new CollectorError(CollectorErrors.BAD_CONFIG, (err as VigilError).message);
    }
  };
  const logLevel = pick("log-level", "VIGIL_LOG_LEVEL", "info")[0];
  if (!["trace", "debug", "info", "warn", "error", "fatal", "silent"].includes(logLevel)) {
    throw new CollectorError(CollectorErrors.BAD_CONFIG, `--log-level: expected trace|debug|info|warn|error, got ${JSON.stringify(logLevel)}`);
  }
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new CollectorError(CollectorErrors.BAD_CONFIG, `DATABASE_URL: expected a postgres:// URL`);
  }
  return {
    httpListen: hostPort("http-listen", "VIGIL_HTTP_LISTEN", DEFAULTS.httpListen),
    grpcListen: hostPort("grpc-listen", "VIGIL_GRPC_LISTEN", DEFAULTS.grpcListen),
    dataDir: pick("data-dir", "VIGIL_DATA_DIR", DEFAULTS.dataDir)[0],
    databaseUrl,
    logLevel,
  };
}
