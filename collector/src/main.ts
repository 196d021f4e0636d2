import { createLogger, redactUrls, VigilError } from "@vigil/shared";
import { runApiKeyCommand } from "./cli/apikey-command.js";
import { runStorageCommand } from "./cli/storage-command.js";
import { runTokenCommand } from "./cli/token-command.js";
import { configRedactor, printableConfig } from "./config-secrets.js";
import { parseCollectorCommand, USAGE } from "./config.js";
import { startCollector } from "./service.js";

async function main(): Promise<number> {
  const cmd = parseCollectorCommand(process.argv.slice(2), process.env);
  if (cmd.command === "help") {
    console.log(USAGE);
    return 0;
  }
  const config = cmd.load();
  const redactor = configRedactor(config);
  if (cmd.command === "check-config") {
    console.log(JSON.stringify(printableConfig(config, redactor), null, 2));
    return 0;
  }
  const log = createLogger("vigil-collector", config.logLevel, redactor);
  if (cmd.command === "token") {
    return runTokenCommand({
      config,
      args: cmd.rest,
      name: typeof cmd.flags.name === "string" ? cmd.flags.name : undefined,
      anyHost: cmd.flags["any-host"] === true,
      log,
      out: (l) => console.log(l),
    });
  }
  if (cmd.command === "apikey") {
    const str = (v: unknown) => (typeof v === "string" ? v : undefined);
    return runApiKeyCommand({
      config,
      args: cmd.rest,
      flags: { name: str(cmd.flags.name), role: str(cmd.flags.role), expires: str(cmd.flags.expires) },
      log,
      out: (l) => console.log(l),
      note: (l) => process.stderr.write(`${l}\n`),
    });
  }
  if (cmd.command === "storage") return runStorageCommand({ config, args: cmd.rest, json: cmd.flags.json === true, log, out: (l) => console.log(l) });
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
  process.on("SIGHUP", () => {
    // Listen addresses, TLS and storage are bound at start; what can change live is applied here.
    try {
      const next = cmd.load();
      log.level = next.logLevel;
      log.info({ logLevel: next.logLevel }, "configuration reloaded (listen addresses, TLS and storage changes need a restart)");
      svc.reloadRulesInBackground();
    } catch (err) {
      log.error({ err: (err as Error).message }, "configuration reload failed; keeping the running configuration");
    }
  });
  return -1;
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    const msg = err instanceof VigilError ? `${err.code}: ${err.message}` : err instanceof Error ? (err.stack ?? err.message) : String(err);
    // The configuration may not have loaded: credentials in URLs are still removed.
    process.stderr.write(`vigil-collector: ${redactUrls(msg)}\n`);
    process.exit(1);
  },
);
