// `npm start`: a collector on embedded PGlite (or DATABASE_URL) plus an agent reporting this host.
// Local quick start: no agent tokens (the collector says so in its log) and plaintext gRPC on loopback.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const http = process.env.VIGIL_HTTP_LISTEN ?? "127.0.0.1:4780";
const grpc = process.env.VIGIL_GRPC_LISTEN ?? "127.0.0.1:4770";
const interval = process.env.VIGIL_INTERVAL ?? "10s";
const children = [];

function run(name, bin, args) {
  const child = spawn(process.execPath, [resolve(root, bin), ...args], { stdio: ["ignore", "inherit", "pipe"], env: process.env });
  children.push(child);
  createInterface({ input: child.stderr }).on("line", (line) => {
    let msg = line;
    try {
      const l = JSON.parse(line);
      msg = `${l.msg}${l.err ? `: ${l.err}` : ""}`;
      if (l.msg === "collector listening") {
        console.log(`\n  Vigil is running.\n    API:        ${l.http}/api/v1/hosts\n    query:      ${l.http}/api/v1/query_range?metric=system.cpu.utilization&match[state]=user&start=-15m\n    agents:     ${l.grpc} (gRPC)\n  Ctrl-C stops both.\n`);
      }
    } catch {}
    console.log(`[${name}] ${msg}`);
  });
  child.on("exit", (code, signal) => {
    console.log(`[${name}] exited (${signal ?? code})`);
    for (const c of children) if (c !== child) c.kill("SIGTERM");
    process.exitCode = code ?? 1;
  });
  return child;
}

run("collector", "collector/bin/vigil-collector.mjs", ["--http-listen", http, "--grpc-listen", grpc, "--data-dir", resolve(root, "data"), "--insecure-no-auth"]);
// The agent reconnects with backoff, so it may start before the collector listens.
run("agent", "agent/bin/vigil-agent.mjs", ["--collector", grpc, "--interval", interval, "--spool-dir", resolve(root, "data/agent-spool")]);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => children.forEach((c) => c.kill("SIGTERM")));
