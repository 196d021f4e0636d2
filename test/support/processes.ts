// Starts the shipped binaries (built by `pnpm build`) as child processes, as a user would run them.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";

export const ROOT = resolve(import.meta.dirname, "../..");
export const COLLECTOR_BIN = resolve(ROOT, "collector/bin/vigil-collector.mjs");
export const AGENT_BIN = resolve(ROOT, "agent/bin/vigil-agent.mjs");

export interface Proc {
  child: ChildProcess;
  /** Every JSON log line so far. */
  logs: Record<string, unknown>[];
  waitForLog(pred: (l: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

function start(bin: string, args: string[], env: NodeJS.ProcessEnv): Proc {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const logs: Record<string, unknown>[] = [];
  const waiters: { pred: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];
  const text: string[] = [];
  createInterface({ input: child.stderr! }).on("line", (line) => {
    text.push(line);
    if (process.env.VIGIL_TEST_VERBOSE) process.stderr.write(`[${bin.includes("agent") ? "agent" : "collector"}] ${line}\n`);
    let l: Record<string, unknown>;
    try {
      l = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    logs.push(l);
    for (const w of [...waiters]) {
      if (w.pred(l)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(l);
      }
    }
  });
  child.stdout!.resume();
  const exited = once(child, "exit");
  return {
    child,
    logs,
    waitForLog(pred, timeoutMs = 30_000) {
      const seen = logs.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((res, rej) => {
        const t = setTimeout(() => rej(new Error(`timed out waiting for a log line; output so far:\n${text.slice(-20).join("\n")}`)), timeoutMs);
        waiters.push({ pred, resolve: (l) => (clearTimeout(t), res(l)) });
        void exited.then(() => rej(new Error(`process exited (${child.exitCode}); output:\n${text.slice(-20).join("\n")}`)));
      });
    },
    async kill(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
}

export interface CollectorProc extends Proc {
  httpUrl: string;
  grpcAddress: string;
}

/** Starts a collector on free ports (or the given ones) and waits until it listens. */
export async function startCollector(opts: {
  databaseUrl?: string;
  dataDir?: string;
  grpcPort?: number;
  httpPort?: number;
  args?: string[];
  /** Token auth on (default off: most tests are not about auth). */
  auth?: boolean;
  /** API rate limits as configured (default: out of reach, and counted in the process, not in CI's Redis). */
  rateLimits?: boolean;
  env?: NodeJS.ProcessEnv;
}): Promise<CollectorProc> {
  const args = [
    ...(opts.auth ? [] : ["--insecure-no-auth"]),
    "--http-listen", `127.0.0.1:${opts.httpPort ?? 0}`,
    "--grpc-listen", `127.0.0.1:${opts.grpcPort ?? 0}`,
    ...(opts.dataDir ? ["--data-dir", opts.dataDir] : []),
    ...(opts.args ?? []),
  ];
  const limits = opts.rateLimits ? {} : { REDIS_URL: "", VIGIL_API_RATE_LIMIT_MAX: "1000000000", VIGIL_API_RATE_LIMIT_ANONYMOUS_MAX: "1000000000" };
  const p = start(COLLECTOR_BIN, args, { DATABASE_URL: opts.databaseUrl ?? "", ...limits, ...opts.env });
  const l = await p.waitForLog((x) => x.msg === "collector listening", 60_000);
  return { ...p, httpUrl: String(l.http), grpcAddress: String(l.grpc) };
}

/** Starts an agent; unless the args name one, its spool goes to a fresh temporary directory. */
export function startAgent(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const dir = args.includes("--spool-dir") ? undefined : mkdtempSync(join(tmpdir(), "vigil-spool-"));
  const p = start(AGENT_BIN, [...(dir ? ["--spool-dir", dir] : []), ...args], env);
  if (dir) p.child.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  return p;
}

export async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`GET ${url}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

/** Polls until `check` returns a value (not undefined) or the time runs out. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out: ${what}${last ? ` (last error: ${(last as Error).message})` : ""}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
