// `disk_writable` check: can we create, fsync, read back and remove a small file in `dir`? Catches read-only
// remounts (EROFS after filesystem errors), full disks, permission changes and hung storage (via the timeout).
import { randomBytes } from "node:crypto";
import { open, readFile, unlink, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { z } from "zod";
import type { Check, CheckCommon } from "./types.js";

export const diskWritableCheckSchema = z
  .object({
    kind: z.literal("disk_writable"),
    dir: z.string().min(1).refine((p) => p.startsWith("/"), "expected an absolute path"),
  })
  .strict();

export type DiskWritableCheckConfig = z.output<typeof diskWritableCheckSchema>;

function isAbort(err: unknown, signal: AbortSignal): boolean {
  return signal.aborted || (err instanceof Error && err.name === "AbortError");
}

export function createDiskWritableCheck(common: CheckCommon, cfg: DiskWritableCheckConfig): Check {
  return {
    common,
    async run(signal) {
      signal.throwIfAborted();
      const path = join(cfg.dir, `.vigil-check-${process.pid}-${randomBytes(6).toString("hex")}`);
      const payload = randomBytes(64);
      let fh: FileHandle | undefined;
      let created = false;
      const started = performance.now();
      try {
        fh = await open(path, "wx", 0o600); // exclusive: never touches a file that is not ours
        created = true;
        signal.throwIfAborted();
        await fh.writeFile(payload);
        await fh.sync();
        await fh.close();
        fh = undefined;
        signal.throwIfAborted();
        const back = await readFile(path, { signal });
        if (!back.equals(payload)) {
          return { status: "unhealthy", message: `${cfg.dir}: read back ${back.length} bytes that differ from the ${payload.length} written` };
        }
        await unlink(path);
        created = false;
        const latency = (performance.now() - started) / 1000;
        return {
          status: "healthy",
          message: `${cfg.dir} is writable (${(latency * 1000).toFixed(1)}ms)`,
          metrics: [{ metric: "vigil.check.disk_writable.latency", value: latency }],
        };
      } catch (err) {
        if (isAbort(err, signal)) throw err;
        return { status: "unhealthy", message: `${cfg.dir} is not writable: ${(err as Error).message}` };
      } finally {
        // Always clean up, also after an abort or a failed write; a failure here must not hide the real one.
        await fh?.close().catch(() => undefined);
        if (created) await unlink(path).catch(() => undefined);
      }
    },
  };
}
