import { systemClock, type Logger } from "@vigil/shared";
import type { CollectorConfig } from "../config.js";
import { CollectorError, CollectorErrors } from "../errors.js";
import { openStorage } from "../storage/open.js";

export interface TokenCommandOptions {
  config: CollectorConfig;
  args: string[];
  name?: string;
  anyHost: boolean;
  log: Logger;
  out: (line: string) => void;
}

/** `vigil-collector token create|list|revoke`: works on the collector's database directly. */
export async function runTokenCommand({ config, args, name, anyHost, log, out }: TokenCommandOptions): Promise<number> {
  const [sub, target] = args;
  if (sub !== "create" && sub !== "list" && sub !== "revoke") {
    throw new CollectorError(CollectorErrors.BAD_CONFIG, `token: expected create, list or revoke, got ${JSON.stringify(sub ?? "")}`);
  }
  const storage = await openStorage(config, log, systemClock);
  try {
    const { tokens } = storage;
    if (sub === "create") {
      if (!name) throw new CollectorError(CollectorErrors.BAD_CONFIG, "token create: --name HOST is required");
      const { token, id } = await tokens.create(name, anyHost);
      out(token);
      process.stderr.write(`token ${id} for ${anyHost ? "any host" : `host ${name}`} created; it is shown only this once\n`);
      return 0;
    }
    if (sub === "list") {
      out(["ID", "NAME", "HOSTS", "CREATED", "LAST USED", "REVOKED"].join("\t"));
      for (const t of await tokens.list()) {
        out([t.id, t.name, t.anyHost ? "any" : t.name, t.createdAt, t.lastUsedAt ?? "-", t.revokedAt ?? "-"].join("\t"));
      }
      return 0;
    }
    const which = target ?? name;
    if (!which) throw new CollectorError(CollectorErrors.BAD_CONFIG, "token revoke: give the token's name or id");
    if (!(await tokens.revoke(which))) {
      process.stderr.write(`no active token named or with id ${JSON.stringify(which)}\n`);
      return 1;
    }
    out(`revoked ${which}`);
    return 0;
  } finally {
    await storage.close();
  }
}
