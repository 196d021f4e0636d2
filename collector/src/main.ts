import { createLogger, VigilError } from "@vigil/shared";
import { loadConfig, USAGE } from "./config.js";
import { startCollector } from "./service.js";

async function main(): Promise<void> {
  const config = loadConfig(process.argv.slice(2), process.env);
  if (config === "help") {
    console.log(USAGE);
    return;
  }
  const log = createLogger("vigil-collector", config.logLevel);
  const svc = await startCollector({ config, log });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    svc.stop().then(
      () => process.exit(0),
      (err: Error) => {
        log.error({ err: err.message }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

main().catch((err: unknown) => {
  const msg = err instanceof VigilError ? `${err.code}: ${err.message}` : err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`vigil-collector: ${msg}\n`);
  process.exit(1);
});
