// `process` check: how many processes match (by comm, command line or pidfile), their RSS and CPU use.
// Reads /proc synchronously: one small file per process to match (comm or cmdline), then stat and status only for
// the matches, so a host with ~500 processes costs ~500 tiny reads per run.
import { readdirSync, readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { zInteger } from "@vigil/shared";
import { z } from "zod";
import { parseUints } from "../collectors/procfs.js";
import type { Check, CheckCommon, CheckMetric } from "./types.js";

export const processCheckSchema = z
  .object({
    kind: z.literal("process"),
    /** Exact /proc/<pid>/comm (the kernel keeps the first 15 bytes; a longer name is compared on those). */
    // Not `name`: that is the check's own name.
    process_name: z.string().min(1).optional(),
    /** Substring of /proc/<pid>/cmdline with NULs read as spaces; with `process_name`, both must match. */
    cmdline_contains: z.string().min(1).optional(),
    pidfile: z.string().min(1).optional(),
    min_count: zInteger(0, 1_000_000).default(1),
    max_count: zInteger(0, 1_000_000).optional(),
  })
  .strict();

export type ProcessCheckConfig = z.output<typeof processCheckSchema>;
type Selector = Pick<ProcessCheckConfig, "process_name" | "cmdline_contains" | "pidfile" | "min_count" | "max_count">;

/** Cross-field rules; the schema stays a plain object (so it can be extended), and the factory enforces them too. */
export function processCheckProblems(c: Selector): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  if (c.process_name === undefined && c.cmdline_contains === undefined && c.pidfile === undefined) {
    out.push({ path: "process_name", message: "set process_name, cmdline_contains or pidfile" });
  }
  if (c.pidfile !== undefined && (c.process_name !== undefined || c.cmdline_contains !== undefined)) {
    out.push({ path: "pidfile", message: "pidfile cannot be combined with process_name or cmdline_contains" });
  }
  if (c.max_count !== undefined && c.max_count < c.min_count) {
    out.push({ path: "max_count", message: `must be at least min_count (${c.min_count})` });
  }
  return out;
}

/** For `.superRefine(refineProcessCheck)` on the extended schema. */
export function refineProcessCheck(c: Selector, ctx: z.RefinementCtx): void {
  for (const p of processCheckProblems(c)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [p.path], message: p.message });
}

const COMM_MAX = 15; // TASK_COMM_LEN - 1
const USER_HZ = 100; // clock ticks per second of /proc/<pid>/stat times: a fixed part of Linux's ABI

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined; // the process exited between readdir and read, or is not ours to read
  }
}

const statFields = new Float64Array(19);
const rssField = new Float64Array(1);

interface ProcInfo {
  start: number;
  ticks: number;
  rssBytes: number;
}

/** Stat and RSS of a live (not zombie) process, or undefined when it is gone. */
function procInfo(pid: number): ProcInfo | undefined {
  const stat = read(`/proc/${pid}/stat`);
  const close = stat?.lastIndexOf(")") ?? -1;
  if (stat === undefined || close < 0) return undefined;
  const state = stat.charAt(close + 2);
  if (state === "Z" || state === "X") return undefined;
  // After "(comm) S": field 4 (ppid) is index 0, so utime (14), stime (15) and starttime (22) are 10, 11 and 18.
  parseUints(stat, close + 3, statFields);
  const status = read(`/proc/${pid}/status`) ?? "";
  const at = status.indexOf("VmRSS:");
  if (at >= 0) parseUints(status, at + 6, rssField);
  else rssField[0] = 0; // kernel threads have no memory of their own
  return { start: statFields[18]!, ticks: statFields[10]! + statFields[11]!, rssBytes: rssField[0]! * 1024 };
}

function plural(n: number): string {
  return `${n} ${n === 1 ? "process" : "processes"}`;
}

export function createProcessCheck(common: CheckCommon, cfg: ProcessCheckConfig): Check {
  const problems = processCheckProblems(cfg);
  if (problems.length > 0) throw new Error(`check ${common.name}: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`);
  const comm = cfg.process_name === undefined ? undefined : `${cfg.process_name.slice(0, COMM_MAX)}\n`;
  const needle = cfg.cmdline_contains;
  const what =
    cfg.pidfile !== undefined
      ? `from pidfile ${cfg.pidfile}`
      : [cfg.process_name !== undefined ? `named ${JSON.stringify(cfg.process_name)}` : "", needle !== undefined ? `with command line containing ${JSON.stringify(needle)}` : ""]
          .filter(Boolean)
          .join(" ");

  function matches(pid: number): boolean {
    if (comm !== undefined && read(`/proc/${pid}/comm`) !== comm) return false;
    if (needle === undefined) return true;
    return read(`/proc/${pid}/cmdline`)?.replaceAll("\0", " ").includes(needle) ?? false;
  }

  /** Candidate pids and, for a pidfile, why there is none. */
  function candidates(): { pids: number[]; note?: string } {
    if (cfg.pidfile === undefined) {
      const pids: number[] = [];
      for (const entry of readdirSync("/proc")) {
        const c = entry.charCodeAt(0);
        if (c >= 48 && c <= 57) pids.push(Number(entry));
      }
      return { pids: pids.filter(matches) };
    }
    let text: string;
    try {
      text = readFileSync(cfg.pidfile, "utf8");
    } catch (err) {
      return { pids: [], note: `cannot read pidfile: ${(err as Error).message}` };
    }
    const m = /^\s*(\d+)\s*$/.exec(text);
    if (!m || Number(m[1]) === 0) return { pids: [], note: `pidfile holds no pid: ${JSON.stringify(text.slice(0, 40))}` };
    return { pids: [Number(m[1])], note: `pid ${m[1]} is not running` };
  }

  // CPU since the previous run: ticks per live process, keyed by pid and checked against its start time (pid reuse).
  let prev: Map<number, { start: number; ticks: number }> | undefined;
  let prevAt = 0;

  return {
    common,
    async run(signal) {
      signal.throwIfAborted();
      const { pids, note } = candidates();
      const now = performance.now();
      const seen = new Map<number, { start: number; ticks: number }>();
      let rss = 0;
      let cpuTicks = 0;
      for (const pid of pids) {
        const info = procInfo(pid);
        if (!info) continue;
        rss += info.rssBytes;
        const before = prev?.get(pid);
        if (before && before.start === info.start) cpuTicks += Math.max(0, info.ticks - before.ticks);
        seen.set(pid, { start: info.start, ticks: info.ticks });
      }
      signal.throwIfAborted();
      const count = seen.size;
      const metrics: CheckMetric[] = [
        { metric: "vigil.check.process.count", value: count },
        { metric: "vigil.check.process.rss", value: rss },
      ];
      // Processes that started since the previous run count from the next one; the first run has no baseline.
      if (prev && now > prevAt) metrics.push({ metric: "vigil.check.process.cpu", value: cpuTicks / USER_HZ / ((now - prevAt) / 1000) });
      prev = seen;
      prevAt = now;
      const base = `${plural(count)} ${what} running`;
      if (count < cfg.min_count) {
        return { status: "unhealthy", message: `${base} (minimum ${cfg.min_count})${note ? `: ${note}` : ""}`, metrics };
      }
      if (cfg.max_count !== undefined && count > cfg.max_count) {
        return { status: "degraded", message: `${base} (maximum ${cfg.max_count})`, metrics };
      }
      return { status: "healthy", message: base, metrics };
    },
  };
}
