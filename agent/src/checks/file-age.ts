// `file_age` check: is the newest file at a path (a file, a directory's files, or a glob in the last segment such as
// /var/backups/db-*.dump) recent enough, and big enough? Typical use: "last night's backup exists".
import { readdir, stat } from "node:fs/promises";
import type { Stats } from "node:fs";
import { basename, dirname, join } from "node:path";
import { formatDuration, parseDuration, zBytes, zDuration } from "@vigil/shared";
import { z } from "zod";
import type { Check, CheckCommon } from "./types.js";

const GLOB = /[*?]/;

export const fileAgeCheckSchema = z
  .object({
    kind: z.literal("file_age"),
    path: z
      .string()
      .min(1)
      .refine((p) => p.startsWith("/"), "expected an absolute path")
      .refine((p) => !GLOB.test(dirname(p)), "wildcards (* and ?) are allowed in the last path segment only"),
    max_age: zDuration(1000, 366 * 86_400_000),
    min_size: zBytes(0, 1024 ** 5).optional(),
  })
  .strict();

export type FileAgeCheckConfig = z.output<typeof fileAgeCheckSchema>;

/** Shell-style `*` and `?` for one path segment; like a shell, they do not match a leading dot. */
export function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replaceAll("*", "[^/]*").replaceAll("?", "[^/]");
  return new RegExp(pattern.startsWith(".") ? `^${body}$` : `^(?!\\.)${body}$`);
}

/** "45s", "12m", "26h", "3d": the largest unit up to hours for under three days, with one smaller unit when not whole. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const two = (big: number, bigUnit: string, small: number, smallUnit: string): string => {
    const hi = Math.floor(s / big);
    const lo = Math.floor((s % big) / small);
    return lo > 0 ? `${hi}${bigUnit}${lo}${smallUnit}` : `${hi}${bigUnit}`;
  };
  if (s < 60) return `${s}s`;
  if (s < 3600) return two(60, "m", 1, "s");
  if (s < 72 * 3600) return two(3600, "h", 60, "m");
  return two(86_400, "d", 3600, "h");
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = n;
  let i = -1;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number(v.toFixed(1))} ${units[i]}`;
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}

interface Found {
  path: string;
  stats: Stats;
}

export function createFileAgeCheck(common: CheckCommon, cfg: FileAgeCheckConfig): Check {
  const glob = GLOB.test(basename(cfg.path)) ? { dir: dirname(cfg.path), re: globToRegExp(basename(cfg.path)) } : undefined;
  // "24h" reads better than "1d" next to an age in hours; used only when it is exact.
  const maxText = parseDuration(formatAge(cfg.max_age)) === cfg.max_age ? formatAge(cfg.max_age) : formatDuration(cfg.max_age);

  /** The newest regular file among `names` in `dir`, statting one at a time and stopping on abort. */
  async function newest(dir: string, names: string[], signal: AbortSignal): Promise<Found | undefined> {
    let best: Found | undefined;
    for (const name of names) {
      signal.throwIfAborted();
      const path = join(dir, name);
      let stats: Stats;
      try {
        stats = await stat(path);
      } catch (err) {
        if (isMissing(err)) continue; // removed since readdir
        throw err;
      }
      if (stats.isFile() && (!best || stats.mtimeMs > best.stats.mtimeMs)) best = { path, stats };
    }
    signal.throwIfAborted();
    return best;
  }

  async function find(signal: AbortSignal): Promise<Found | undefined> {
    try {
      if (glob) {
        const names = (await readdir(glob.dir)).filter((n) => glob.re.test(n));
        return await newest(glob.dir, names, signal);
      }
      const stats = await stat(cfg.path);
      if (stats.isFile()) return { path: cfg.path, stats };
      if (!stats.isDirectory()) return undefined;
      const names = (await readdir(cfg.path)).filter((n) => !n.startsWith("."));
      return await newest(cfg.path, names, signal);
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  return {
    common,
    async run(signal) {
      signal.throwIfAborted();
      const found = await find(signal);
      if (!found) return { status: "unhealthy", message: `no file matches ${cfg.path}` };
      const ageMs = Math.max(0, Date.now() - found.stats.mtimeMs);
      const size = found.stats.size;
      const metrics = [
        { metric: "vigil.check.file_age.age", value: ageMs / 1000 },
        { metric: "vigil.check.file_age.size", value: size },
      ];
      const name = basename(found.path);
      const desc = `newest file ${name} is ${formatAge(ageMs)} old`;
      if (ageMs > cfg.max_age) return { status: "unhealthy", message: `${desc} (max ${maxText})`, metrics };
      if (cfg.min_size !== undefined && size < cfg.min_size) {
        return { status: "unhealthy", message: `newest file ${name} is ${formatBytes(size)} (min ${formatBytes(cfg.min_size)})`, metrics };
      }
      return { status: "healthy", message: `${desc}, ${formatBytes(size)}`, metrics };
    },
  };
}
