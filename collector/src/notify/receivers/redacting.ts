// Every receiver's results pass through here: whatever a receiver or the server it talked to put in a reason or
// detail (a URL with its password, an echoed routing key, a Slack webhook path, an SMTP password quoted back), the
// secrets of that receiver's configuration are replaced before the result is stored, logged or answered.
import { Redactor } from "@vigil/shared";
import type { DeliveryResult, Receiver } from "../types.js";
import { errorText, readSecret, type SecretSource } from "./common.js";
import type { ReceiverConfig } from "./index.js";

interface NamedSource extends SecretSource {
  field: string;
}

/** The secrets a receiver reads at send time (from the config, a file or the environment). */
function secretSources(cfg: ReceiverConfig): NamedSource[] {
  switch (cfg.kind) {
    case "email":
      return [{ field: "password", file: cfg.password_file, env: cfg.password_env }];
    case "slack":
      return [{ field: "webhook_url", inline: cfg.webhook_url, file: cfg.webhook_url_file, env: cfg.webhook_url_env }];
    case "webhook":
      return [{ field: "hmac_secret", file: cfg.hmac_secret_file, env: cfg.hmac_secret_env }];
    case "pagerduty":
      return [{ field: "routing_key", inline: cfg.routing_key, file: cfg.routing_key_file, env: cfg.routing_key_env }];
    case "alertmanager":
      return [];
  }
}

async function redactorFor(cfg: ReceiverConfig): Promise<Redactor> {
  const redactor = new Redactor().collect(cfg);
  for (const src of secretSources(cfg)) {
    const read = await readSecret(src.field, src);
    if (!read.ok || read.value === undefined) continue;
    redactor.collect(read.value, src.field);
    // AUTH PLAIN sends "\0user\0password" base64-encoded; a server quoting it back must not reveal it either.
    if (cfg.kind === "email" && cfg.user !== undefined) redactor.add(`\0${cfg.user}\0${read.value}`);
  }
  return redactor;
}

export function redacting(inner: Receiver, cfg: ReceiverConfig): Receiver {
  return {
    name: inner.name,
    kind: inner.kind,
    supportsAck: inner.supportsAck,
    async send(n, signal): Promise<DeliveryResult> {
      let result: DeliveryResult;
      try {
        result = await inner.send(n, signal);
      } catch (err) {
        result = { outcome: "retry", reason: errorText(err) };
      }
      if (result.outcome === "delivered" && result.detail === undefined) return result;
      const redactor = await redactorFor(cfg);
      if (result.outcome === "delivered") return { ...result, detail: redactor.text(result.detail ?? "") };
      return { ...result, reason: redactor.text(result.reason) };
    },
  };
}
