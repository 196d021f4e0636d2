// SIGHUP re-reads the agent's config file: new settings apply without a restart; a broken file is refused.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually, getJson, startAgent, startCollector, type CollectorProc, type Proc } from "./support/processes.js";

const dir = mkdtempSync(join(tmpdir(), "vigil-reload-"));
const config = join(dir, "agent.yaml");
let collector: CollectorProc;
let agent: Proc;

before(async () => {
  collector = await startCollector({ dataDir: join(dir, "data") });
  writeFileSync(config, `collector: "${collector.grpcAddress}"\ninterval: 1s\nhostname: reload-host\nlabels: { role: before }\n`);
  agent = startAgent(["--config", config]);
});
after(async () => {
  await agent?.kill();
  await collector?.kill();
  rmSync(dir, { recursive: true, force: true });
});

type Hosts = { hosts: { name: string; labels: Record<string, string>; intervalMs: number }[] };
const host = async () => (await getJson<Hosts>(`${collector.httpUrl}/api/v1/hosts`)).hosts.find((h) => h.name === "reload-host");

test("SIGHUP applies a changed config file; an invalid one is logged and the running config kept", async () => {
  await eventually(async () => ((await host())?.labels.role === "before" ? true : undefined), 20_000, "first config in effect");

  writeFileSync(config, `collector: "${collector.grpcAddress}"\ninterval: 2s\nhostname: reload-host\nlabels: { role: after }\n`);
  agent.child.kill("SIGHUP");
  await agent.waitForLog((l) => l.msg === "configuration reloaded");
  const h = await eventually(async () => {
    const x = await host();
    return x?.labels.role === "after" ? x : undefined;
  }, 20_000, "new labels reported");
  assert.equal(h.intervalMs, 2000);

  writeFileSync(config, `collector: "${collector.grpcAddress}"\ninterval: 0s\n`);
  agent.child.kill("SIGHUP");
  const refused = await agent.waitForLog((l) => l.msg === "configuration reload failed; keeping the running configuration");
  assert.match(String(refused.err), /interval: must be between 1s and 1h, got "0s"/);
  assert.equal(agent.child.exitCode, null, "the agent keeps running");
});
