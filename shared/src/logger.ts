import pino, { type Logger } from "pino";

export type { Logger };

/** JSON logs on stderr (stdout stays free for command output), with secrets redacted wherever they appear. */
export function createLogger(name: string, level = process.env.VIGIL_LOG_LEVEL ?? "info"): Logger {
  return pino(
    {
      name,
      level,
      redact: {
        paths: ["token", "*.token", "password", "*.password", "authorization", "*.authorization", "databaseUrl", "*.databaseUrl"],
        censor: "[redacted]",
      },
    },
    pino.destination(2),
  );
}
