import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CollectorError, CollectorErrors } from "../errors.js";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * PGlite is a database inside one process: a second process opening the same directory would corrupt it.
 * A pid file makes the second one (another collector, or `token create` while the collector runs) fail clearly.
 */
export function acquireDataDirLock(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, "vigil.pid");
  try {
    writeFileSync(path, String(process.pid), { flag: "wx" });
  } catch {
    const other = Number(readFileSync(path, "utf8"));
    if (other && other !== process.pid && alive(other)) {
      throw new CollectorError(
        CollectorErrors.STORAGE_UNAVAILABLE,
        `${dataDir} is in use by process ${other} (embedded PGlite allows one process); stop it first, or use DATABASE_URL`,
      );
    }
    writeFileSync(path, String(process.pid)); // stale: its process is gone
  }
  return () => rmSync(path, { force: true });
}
