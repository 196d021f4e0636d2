// Runs a shipped binary to completion (check-config, a collector that must fail at start) for hostile items that
// need their own short-lived process; the environment is the test's minus every VIGIL_* variable and DATABASE_URL,
// so only what the item sets is seen.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

export interface BinResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** How long it ran, in milliseconds. */
  ms: number;
}

export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("VIGIL_") && k !== "DATABASE_URL" && k !== "INVOCATION_ID" && k !== "NOTIFY_SOCKET") env[k] = v;
  }
  return { ...env, ...extra };
}

export function runBin(bin: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 20_000): Promise<BinResult> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: cleanEnv(env), timeout: timeoutMs, killSignal: "SIGKILL" }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : null) : 0;
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

export interface Running {
  child: ChildProcess;
  /** stderr lines so far. */
  lines: string[];
  /** Resolves with the first stderr line (so far or later) matching; rejects on timeout or exit. */
  waitForLine(pred: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
  kill(): Promise<void>;
}

/** Starts a binary and keeps it running (a collector waiting for its database). */
export function spawnBin(bin: string, args: string[], env: NodeJS.ProcessEnv = {}): Running {
  const child = spawn(process.execPath, [bin, ...args], { env: cleanEnv(env), stdio: ["ignore", "ignore", "pipe"] });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stderr! }).on("line", (l) => {
    lines.push(l);
    for (const w of [...waiters]) w();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    lines,
    exited,
    waitForLine(pred, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const hit = lines.find(pred);
          if (hit === undefined) return;
          done();
          resolve(hit);
        };
        const timer = setTimeout(() => (done(), reject(new Error(`timed out waiting for a line; stderr so far:\n${lines.slice(-20).join("\n")}`))), timeoutMs);
        const onExit = (): void => (done(), reject(new Error(`exited (${child.exitCode}); stderr:\n${lines.slice(-20).join("\n")}`)));
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
          child.off("exit", onExit);
        };
        waiters.add(check);
        child.once("exit", onExit);
        check();
      });
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      await exited;
    },
  };
}
