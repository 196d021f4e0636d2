// Runs a real Alertmanager (Debian's prometheus-alertmanager) on loopback ports with a throw-away config and
// storage directory, for tests that forward alerts to it and read them back through its own API.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closedPort } from "./fake-http.js";

export const ALERTMANAGER_BIN = process.env.VIGIL_ALERTMANAGER_BIN ?? "/usr/bin/prometheus-alertmanager";

export const alertmanagerAvailable = (): boolean => existsSync(ALERTMANAGER_BIN);

export interface RunningAlertmanager {
  url: string;
  output(): string;
  stop(): Promise<void>;
}

// A route to a receiver that does nothing: the test reads the alerts back, nothing needs to go anywhere.
const CONFIG = `route:
  receiver: "null"
  group_wait: 1h
receivers:
  - name: "null"
`;

export async function startAlertmanager(timeoutMs = 20_000): Promise<RunningAlertmanager> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-am-"));
  writeFileSync(join(dir, "am.yml"), CONFIG);
  const port = await closedPort();
  const child: ChildProcess = spawn(
    ALERTMANAGER_BIN,
    [`--web.listen-address=127.0.0.1:${port}`, "--cluster.listen-address=", `--storage.path=${dir}`, `--config.file=${join(dir, "am.yml")}`, "--log.level=warn"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let spawnError: Error | undefined;
  child.once("error", (err) => (spawnError = err));
  child.stdout?.on("data", (c: Buffer) => (out += c.toString("utf8")));
  child.stderr?.on("data", (c: Buffer) => (out += c.toString("utf8")));
  const exited = once(child, "exit");
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (spawnError) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`cannot start ${ALERTMANAGER_BIN}: ${spawnError.message}`);
    }
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`alertmanager exited with ${child.exitCode}:\n${out}`);
    }
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`alertmanager not ready after ${timeoutMs} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, output: () => out, stop };
}
