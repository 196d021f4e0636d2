// `systemd` check: are these units active? Asks `systemctl show` in a child process with a timeout and the run's
// AbortSignal (killed with SIGKILL on either), never D-Bus from inside the agent: a wedged bus (node_exporter's
// systemd collector hanging on D-Bus) then costs one killed child, not a stuck agent.
import { execFile, type ExecFileException } from "node:child_process";
import { existsSync } from "node:fs";
import { z } from "zod";
import type { Check, CheckCommon, CheckMetric, CheckOutcome } from "./types.js";

const UNIT_NAME = /^[A-Za-z0-9:_.\\@][A-Za-z0-9:_.\\@-]*$/;

export const systemdCheckSchema = z
  .object({
    kind: z.literal("systemd"),
    units: z
      .array(z.string().regex(UNIT_NAME, 'expected a unit name like "nginx.service"'))
      .min(1, "list at least one unit"),
  })
  .strict();

export type SystemdCheckConfig = z.output<typeof systemdCheckSchema>;

/**
 * The check cannot see units when systemd is not PID 1 (containers, other inits). That is reported as `degraded`,
 * not `unhealthy` and not a crash: nothing is known to be down, but the check is not doing its job and says so.
 */
export const NO_SYSTEMD_MESSAGE = "systemd is not running on this host; cannot check units";

/** sd_booted()'s test: this directory exists only when systemd is the running init. */
const SYSTEMD_RUNTIME_DIR = "/run/systemd/system";

export interface UnitState {
  LoadState?: string;
  ActiveState?: string;
  SubState?: string;
}

/** `systemctl show` output for several units: one block of `Key=Value` lines per unit, blocks separated by a blank line. */
export function parseSystemctlShow(text: string): UnitState[] {
  const blocks: UnitState[] = [];
  let cur: Record<string, string> | undefined;
  for (const line of text.split("\n")) {
    if (line.trim() === "") {
      cur = undefined;
      continue;
    }
    const eq = line.indexOf("=");
    if (eq <= 0) continue;
    if (!cur) blocks.push((cur = {}));
    cur[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return blocks;
}

/** Status, message and `active` series for `units` (in the order given) and their parsed states. */
export function evaluateUnits(units: readonly string[], states: readonly UnitState[]): CheckOutcome {
  if (states.length !== units.length) {
    throw new Error(`systemctl show described ${states.length} units, expected ${units.length}`);
  }
  const problems: string[] = [];
  const metrics: CheckMetric[] = [];
  units.forEach((unit, i) => {
    const s = states[i] ?? {};
    // "reloading" is still running (systemd's own UNIT_IS_ACTIVE_OR_RELOADING).
    const active = s.ActiveState === "active" || s.ActiveState === "reloading";
    metrics.push({ metric: "vigil.check.systemd.active", labels: { unit }, value: active ? 1 : 0 });
    if (active) return;
    if (s.LoadState === "not-found") problems.push(`${unit} not found`);
    else {
      const load = s.LoadState && s.LoadState !== "loaded" ? `, ${s.LoadState}` : "";
      problems.push(`${unit} is ${s.ActiveState ?? "unknown"} (${s.SubState ?? "unknown"}${load})`);
    }
  });
  if (problems.length > 0) return { status: "unhealthy", message: problems.join("; "), metrics };
  const message = units.length === 1 ? `${units[0]} is active (${states[0]?.SubState ?? "unknown"})` : `all ${units.length} units active`;
  return { status: "healthy", message, metrics };
}

interface ExecResult {
  error: ExecFileException | null;
  stdout: string;
  stderr: string;
}

function systemctl(args: string[], timeoutMs: number, signal: AbortSignal): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(
      "systemctl",
      args,
      {
        signal,
        timeout: timeoutMs,
        killSignal: "SIGKILL",
        maxBuffer: 1024 * 1024,
        encoding: "utf8",
        // English messages (matched below), no pager, no colour.
        env: { ...process.env, LC_ALL: "C", SYSTEMD_PAGER: "", SYSTEMD_COLORS: "0" },
      },
      (error, stdout, stderr) => resolve({ error, stdout, stderr }),
    );
  });
}

function firstLine(text: string): string {
  return text.split("\n").find((l) => l.trim() !== "")?.trim() ?? "";
}

export function createSystemdCheck(common: CheckCommon, cfg: SystemdCheckConfig): Check {
  const units = [...cfg.units];
  const noSystemd = (): CheckOutcome => ({ status: "degraded", message: NO_SYSTEMD_MESSAGE });
  return {
    common,
    async run(signal) {
      signal.throwIfAborted();
      if (!existsSync(SYSTEMD_RUNTIME_DIR)) return noSystemd();
      const args = ["show", "--no-pager", "--property=ActiveState,SubState,LoadState", "--", ...units];
      const { error, stdout, stderr } = await systemctl(args, common.timeoutMs, signal);
      signal.throwIfAborted();
      if (error) {
        if (error.code === "ENOENT") return noSystemd();
        if (/not been booted with systemd/i.test(stderr)) return noSystemd();
        if (error.killed) throw new Error(`systemctl show did not answer within ${common.timeoutMs}ms`);
        throw new Error(`systemctl show failed: ${firstLine(stderr) || error.message}`);
      }
      return evaluateUnits(units, parseSystemctlShow(stdout));
    },
  };
}
