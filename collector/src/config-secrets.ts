// Every secret a collector configuration holds or names: the database URL's password, receivers' inline secrets
// (URLs with credentials or tokens, routing keys, header values) and the environment variables their `*_env` keys
// name. Logs, check-config and stored delivery errors are redacted with it.
import { Redactor } from "@vigil/shared";
import type { CollectorConfig } from "./config.js";

export function configRedactor(config: CollectorConfig, env: NodeJS.ProcessEnv = process.env): Redactor {
  const redactor = new Redactor().collect(config);
  for (const receiver of config.receivers) {
    for (const [key, name] of Object.entries(receiver)) {
      if (key.endsWith("_env") && typeof name === "string") redactor.collect(env[name], key.slice(0, -"_env".length));
    }
  }
  return redactor;
}

/** The configuration as `check-config` prints it: secrets replaced, "forever" spelled out. */
export function printableConfig(config: CollectorConfig, redactor: Redactor): Record<string, unknown> {
  return { ...redactor.value(config), waitForDbMs: Number.isFinite(config.waitForDbMs) ? config.waitForDbMs : "forever" };
}
