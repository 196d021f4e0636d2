// Receivers built the way the collector will build them (YAML → schema → factory), and small assertion helpers.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { createReceiver, receiverConfigSchema } from "../../src/notify/receivers/index.js";
import type { DeliveryResult, Notification, Receiver } from "../../src/notify/types.js";

export const receiver = (yaml: string): Receiver => createReceiver(receiverConfigSchema.parse(parseYaml(yaml)));

export const send = (r: Receiver, n: Notification, signal = AbortSignal.timeout(10_000)): Promise<DeliveryResult> => r.send(n, signal);

/** The config's issues as "path: message" lines; fails when the config is accepted. */
export function configError(yaml: string): string {
  const r = receiverConfigSchema.safeParse(parseYaml(yaml));
  assert.equal(r.success, false, "config should be rejected");
  return r.error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("\n");
}

export const json = (s: string): Record<string, unknown> => JSON.parse(s) as Record<string, unknown>;

/** Secret files in a temp dir (with the trailing newline editors leave), removed by `cleanup`. */
export function secretFiles(): { write(name: string, value: string): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), "vigil-receivers-"));
  return {
    write(name, value) {
      writeFileSync(join(dir, name), `${value}\n`);
      return join(dir, name);
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
