import "./v8-flags.js"; // first: see there
import { createLogger, redactUrls, VIGIL_VERSION, VigilError } from "@vigil/shared";
import { startAgent } from "./agent.js";
import { configRedactor, parseAgentCommand, USAGE } from "./config.js";

function main(): void {
  const cmd = parseAgentCommand(process.argv.slice(2), process.env);
  if (cmd.kind === "help") return console.log(USAGE);
  if (cmd.kind === "version") return console.log(`vigil-agent ${VIGIL_VERSION}`);
  const config = cmd.load();
  const redactor = configRedactor(config);
  if (cmd.kind === "check-config") return console.log(JSON.stringify(redactor.value(config), null, 2));
  const log = createLogger("vigil-agent", config.log_level, redactor);
  const agent = startAgent({ config, log });
  const stop = (signal: string) => {
    log.info({ signal }, "stopping");
    agent.stop().finally(() => process.exit(0));
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGHUP", () => {
    try {
      const next = cmd.load();
      configRedactor(next, process.env, redactor); // new secrets are redacted from the next line on
      agent.reload(next);
    } catch (err) {
      log.error({ err: (err as Error).message }, "configuration reload failed; keeping the running configuration");
    }
  });
}

try {
  main();
} catch (err) {
  const msg = err instanceof VigilError ? `${err.code}: ${err.message}` : err instanceof Error ? (err.stack ?? err.message) : String(err);
  // The configuration may not have loaded: credentials in URLs are still removed.
  process.stderr.write(`vigil-agent: ${redactUrls(msg)}\n`);
  process.exit(1);
}
