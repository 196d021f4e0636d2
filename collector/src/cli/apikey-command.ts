import { systemClock, type Logger } from "@vigil/shared";
import { parseNewKey } from "../api/key-input.js";
import type { CollectorConfig } from "../config.js";
import { CollectorError, CollectorErrors } from "../errors.js";
import { openStorage } from "../storage/open.js";

export interface ApiKeyCommandOptions {
  config: CollectorConfig;
  args: string[];
  flags: { name?: string; role?: string; expires?: string };
  log: Logger;
  out: (line: string) => void;
  /** Where "shown only this once" and other notes go (stderr), apart from the key itself on stdout. */
  note: (line: string) => void;
}

/** `vigil-collector apikey create|list|revoke`: works on the collector's database directly (it is how the first admin key is made). */
export async function runApiKeyCommand({ config, args, flags, log, out, note }: ApiKeyCommandOptions): Promise<number> {
  const [sub, target] = args;
  if (sub !== "create" && sub !== "list" && sub !== "revoke") {
    throw new CollectorError(CollectorErrors.BAD_CONFIG, `apikey: expected create, list or revoke, got ${JSON.stringify(sub ?? "")}`);
  }
  // Checked before the database is opened: a typo costs no connection.
  const newKey = sub === "create" ? asConfigError(() => parseNewKey(flags, systemClock.now(), "cli")) : null;
  const storage = await openStorage(config, log, systemClock);
  try {
    const { apiKeys } = storage;
    if (newKey) {
      const { key, view } = await apiKeys.create(newKey);
      out(key);
      note(`API key ${view.id} (${view.name}, ${view.role}${view.expiresAt ? `, expires ${view.expiresAt}` : ""}) created; it is shown only this once`);
      return 0;
    }
    if (sub === "list") {
      out(["ID", "NAME", "ROLE", "CREATED", "EXPIRES", "LAST USED", "REVOKED"].join("\t"));
      for (const k of await apiKeys.list()) out([k.id, k.name, k.role, k.createdAt, k.expiresAt ?? "never", k.lastUsedAt ?? "-", k.revokedAt ?? "-"].join("\t"));
      return 0;
    }
    const which = target ?? flags.name;
    if (!which) throw new CollectorError(CollectorErrors.BAD_CONFIG, "apikey revoke: give the key's name or id");
    if (!(await apiKeys.revoke(which))) {
      note(`no active API key named or with id ${JSON.stringify(which)}`);
      return 1;
    }
    out(`revoked ${which}`);
    return 0;
  } finally {
    await storage.close();
  }
}

/** A flag's problem, as the CLI reports it: the flag named (--role), the config error code. */
function asConfigError<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof CollectorError) throw new CollectorError(CollectorErrors.BAD_CONFIG, `--${err.message}`);
    throw err;
  }
}
