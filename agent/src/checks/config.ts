import { zDuration } from "@vigil/shared";
import { z } from "zod";
import { createDiskWritableCheck, diskWritableCheckSchema } from "./disk-writable.js";
import { createFileAgeCheck, fileAgeCheckSchema } from "./file-age.js";
import { createHttpCheck, httpCheckSchema } from "./http.js";
import { createPostgresCheck, postgresCheckSchema } from "./postgres.js";
import { createProcessCheck, processCheckProblems, processCheckSchema } from "./process.js";
import { createRedisCheck, redisCheckSchema } from "./redis.js";
import { createSystemdCheck, systemdCheckSchema } from "./systemd.js";
import { createTcpCheck, tcpCheckSchema } from "./tcp.js";
import type { Check, CheckCommon } from "./types.js";

// What every check has, whatever its kind.
const common = {
  name: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, "letters, digits and _ . : - only (at most 100)"),
  interval: zDuration(1000, 86_400_000).default("30s"),
  timeout: zDuration(100, 600_000).default("5s"),
  degraded_after: zDuration(1, 600_000).optional(),
};

export const checkSchema = z.discriminatedUnion("kind", [
  httpCheckSchema.extend(common),
  tcpCheckSchema.extend(common),
  postgresCheckSchema.extend(common),
  redisCheckSchema.extend(common),
  systemdCheckSchema.extend(common),
  processCheckSchema.extend(common),
  fileAgeCheckSchema.extend(common),
  diskWritableCheckSchema.extend(common),
]);

export type CheckConfig = z.output<typeof checkSchema>;

/** The `checks:` list: unique names, and a timeout shorter than the interval so runs never pile up. */
export const checksSchema = z
  .array(checkSchema)
  .default([])
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((c, i) => {
      if (seen.has(c.name)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [i, "name"], message: `duplicate check name ${JSON.stringify(c.name)}` });
      seen.add(c.name);
      if (c.timeout >= c.interval) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [i, "timeout"], message: "must be shorter than interval" });
      if ((c.kind === "postgres" || c.kind === "redis") && c.password_file !== undefined && c.password_env !== undefined) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: [i, "password_file"], message: "set password_file or password_env, not both" });
      }
      if (c.kind === "process") for (const p of processCheckProblems(c)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [i, p.path], message: p.message });
    });
  });

export function createCheck(c: CheckConfig): Check {
  const base: CheckCommon = { name: c.name, kind: c.kind, intervalMs: c.interval, timeoutMs: c.timeout, degradedAfterMs: c.degraded_after };
  switch (c.kind) {
    case "http":
      return createHttpCheck(base, c);
    case "tcp":
      return createTcpCheck(base, c);
    case "postgres":
      return createPostgresCheck(base, c);
    case "redis":
      return createRedisCheck(base, c);
    case "systemd":
      return createSystemdCheck(base, c);
    case "process":
      return createProcessCheck(base, c);
    case "file_age":
      return createFileAgeCheck(base, c);
    case "disk_writable":
      return createDiskWritableCheck(base, c);
  }
}
