import pino, { type Logger } from "pino";
import { Redactor } from "./redact.js";

export type { Logger };

/**
 * JSON logs on stderr (stdout stays free for command output), with secrets redacted wherever they appear: fields
 * named like secrets, and, in every line as written, URL passwords, secret query parameters and the exact secret
 * values `redactor` knows (the configuration's).
 */
export function createLogger(name: string, level = process.env.VIGIL_LOG_LEVEL ?? "info", redactor = new Redactor()): Logger {
  return pino(
    {
      name,
      level,
      redact: {
        paths: ["token", "*.token", "password", "*.password", "authorization", "*.authorization", "databaseUrl", "*.databaseUrl"],
        censor: "[redacted]",
      },
      hooks: { streamWrite: (line) => redactor.text(line) },
    },
    pino.destination(2),
  );
}
