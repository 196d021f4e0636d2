import os from "node:os";
import { parseArgs } from "node:util";
import { formatDuration, parseDuration, parseHostPort, parseLabelFlags, type Labels } from "@vigil/shared";
import { AgentError, AgentErrors } from "./errors.js";

export interface AgentConfig {
  collector: string;
  intervalMs: number;
  hostname: string;
  labels: Labels;
  logLevel: string;
}

export const USAGE = `Usage: vigil-agent [options]

  --collector HOST:PORT   collector's gRPC address (env VIGIL_COLLECTOR, default 127.0.0.1:4770)
  --interval DURATION     sampling interval, 1s to 1h (env VIGIL_INTERVAL, default 10s)
  --hostname NAME         name this host reports as (env VIGIL_HOSTNAME, default the machine's)
  --label k=v             label added to the host, repeatable (env VIGIL_LABELS="k=v,k2=v2")
  --log-level LEVEL       trace|debug|info|warn|error (env VIGIL_LOG_LEVEL, default info)
  --version               print the version
  -h, --help              this text`;

const bad = (msg: string) => new AgentError(AgentErrors.BAD_CONFIG, msg);

export function loadAgentConfig(argv: string[], env: NodeJS.ProcessEnv): AgentConfig | "help" | "version" {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        collector: { type: "string" },
        interval: { type: "string" },
        hostname: { type: "string" },
        label: { type: "string", multiple: true },
        "log-level": { type: "string" },
        version: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw bad(`${(err as Error).message}\n\n${USAGE}`);
  }
  if (values.help) return "help";
  if (values.version) return "version";

  const collector = values.collector ?? env.VIGIL_COLLECTOR ?? "127.0.0.1:4770";
  try {
    parseHostPort(collector, values.collector ? "--collector" : "VIGIL_COLLECTOR");
  } catch (err) {
    throw bad((err as Error).message);
  }
  const intervalText = values.interval ?? env.VIGIL_INTERVAL ?? "10s";
  const intervalWhere = values.interval ? "--interval" : "VIGIL_INTERVAL";
  let intervalMs: number;
  try {
    intervalMs = parseDuration(intervalText, intervalWhere);
  } catch (err) {
    throw bad((err as Error).message);
  }
  if (intervalMs < 1000 || intervalMs > 3_600_000) {
    throw bad(`${intervalWhere}: must be between 1s and 1h, got ${JSON.stringify(intervalText)}`);
  }
  const labelFlags = values.label ?? (env.VIGIL_LABELS ? env.VIGIL_LABELS.split(",").filter(Boolean) : []);
  let labels: Labels;
  try {
    labels = parseLabelFlags(labelFlags, values.label ? "--label" : "VIGIL_LABELS");
  } catch (err) {
    throw bad((err as Error).message);
  }
  return {
    collector,
    intervalMs,
    hostname: values.hostname ?? env.VIGIL_HOSTNAME ?? os.hostname(),
    labels,
    logLevel: values["log-level"] ?? env.VIGIL_LOG_LEVEL ?? "info",
  };
}

export function describeConfig(c: AgentConfig): Record<string, unknown> {
  return { collector: c.collector, interval: formatDuration(c.intervalMs), hostname: c.hostname, labels: c.labels };
}
