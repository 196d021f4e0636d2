// Runs a shipped binary to completion (check-config, a collector that must fail at start) for hostile items that
// need their own short-lived process; the environment is the test's minus every VIGIL_* variable and DATABASE_URL,
// so only what the item sets is seen.
import { execFile } from "node:child_process";

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
