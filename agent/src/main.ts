import { createLogger, VIGIL_VERSION, VigilError } from "@vigil/shared";
import { startAgent } from "./agent.js";
import { loadAgentConfig, USAGE } from "./config.js";

function main(): void {
  const config = loadAgentConfig(process.argv.slice(2), process.env);
  if (config === "help") return console.log(USAGE);
  if (config === "version") return console.log(`vigil-agent ${VIGIL_VERSION}`);
  const log = createLogger("vigil-agent", config.logLevel);
  const agent = startAgent({ config, log });
  const stop = (signal: string) => {
    log.info({ signal }, "stopping");
    agent.stop().finally(() => process.exit(0));
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
}

try {
  main();
} catch (err) {
  const msg = err instanceof VigilError ? `${err.code}: ${err.message}` : err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`vigil-agent: ${msg}\n`);
  process.exit(1);
}
