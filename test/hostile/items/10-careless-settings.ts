// 10. Careless settings: a boolean spelled "enabled" must not silently turn TLS off, and a duration without a unit
// must not be guessed. Every setting type (booleans, durations, sizes, lists) refuses what it cannot read, naming the
// key and where the value came from; what it accepts keeps working.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { HostileItem } from "../harness.js";
import { runBin, type BinResult } from "../run-bin.js";
import { AGENT_BIN, COLLECTOR_BIN } from "../../support/processes.js";

const agentCheck = (env: NodeJS.ProcessEnv, args: string[] = []): Promise<BinResult> => runBin(AGENT_BIN, ["--check-config", "--collector", "127.0.0.1:1", ...args], env);

function refused(r: BinResult, code: string, ...words: (string | RegExp)[]): void {
  assert.equal(r.code, 1, `expected exit 1, got ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.match(r.stderr, new RegExp(code));
  for (const w of words) assert.match(r.stderr, typeof w === "string" ? new RegExp(w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")) : w);
  assert.doesNotMatch(r.stderr, /^\s+at /m, "a stack trace was printed");
}

export const item: HostileItem = {
  title: "10. boolean, duration, size and list settings refuse what they cannot read, naming key and source",
  async run(ctx) {
    refused(await agentCheck({ VIGIL_TLS: "enabled" }), "VGL_ERR_AGENT_BAD_CONFIG", "tls.enabled", "VIGIL_TLS", '"enabled"');
    refused(await agentCheck({ VIGIL_TLS: "ture" }), "VGL_ERR_AGENT_BAD_CONFIG", "tls.enabled", "VIGIL_TLS");
    for (const [text, want] of [["On", true], ["YES", true], ["1", true], ["off", false], ["No", false], ["0", false], ["FALSE", false]] as const) {
      const r = await agentCheck({ VIGIL_TLS: text });
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as { tls: { enabled: boolean } }).tls.enabled, want, `VIGIL_TLS=${text}`);
    }

    refused(await agentCheck({ VIGIL_INTERVAL: "5000" }), "VGL_ERR_AGENT_BAD_CONFIG", "interval", "VIGIL_INTERVAL", /unit/, /"5000s"|"5s"/);
    const yaml = join(ctx.tmp, "agent-10.yaml");
    writeFileSync(yaml, "interval: 5000\n");
    refused(await agentCheck({}, ["--config", yaml]), "VGL_ERR_AGENT_BAD_CONFIG", "interval", yaml, /unit/);
    writeFileSync(yaml, "tls:\n  enabled: enabled\n");
    refused(await agentCheck({}, ["--config", yaml]), "VGL_ERR_AGENT_BAD_CONFIG", "tls.enabled", yaml);
    writeFileSync(yaml, "tls:\n  enabled: yes\ninterval: 15s\n");
    const ok = await agentCheck({}, ["--config", yaml]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(((c: { tls: { enabled: boolean }; interval: number }) => [c.tls.enabled, c.interval])(JSON.parse(ok.stdout)), [true, 15_000]);

    refused(await agentCheck({ VIGIL_SPOOL_MAX_BYTES: "lots" }), "VGL_ERR_AGENT_BAD_CONFIG", "spool.max_bytes", "VIGIL_SPOOL_MAX_BYTES");
    refused(await agentCheck({ VIGIL_SPOOL_MAX_BYTES: "-5MiB" }), "VGL_ERR_AGENT_BAD_CONFIG", "spool.max_bytes");
    refused(await agentCheck({ VIGIL_SPOOL_MAX_AGE: "48" }), "VGL_ERR_AGENT_BAD_CONFIG", "spool.max_age", /unit/);
    refused(await agentCheck({ VIGIL_LABELS: "env=prod,,role=db" }), "VGL_ERR_AGENT_BAD_CONFIG", "labels", "VIGIL_LABELS", /empty/);
    refused(await agentCheck({ VIGIL_LABELS: "env" }), "VGL_ERR_AGENT_BAD_CONFIG", "labels", "VIGIL_LABELS");

    const collectorCheck = (env: NodeJS.ProcessEnv): Promise<BinResult> => runBin(COLLECTOR_BIN, ["check-config", "--data-dir", join(ctx.tmp, "data-10")], env);
    refused(await collectorCheck({ VIGIL_INSECURE_NO_AUTH: "maybe" }), "VGL_ERR_BAD_CONFIG", "insecure_no_auth", "VIGIL_INSECURE_NO_AUTH");
    refused(await collectorCheck({ VIGIL_MAX_FUTURE_SKEW: "300" }), "VGL_ERR_BAD_CONFIG", "ingest.max_future_skew", "VIGIL_MAX_FUTURE_SKEW", /unit/);
    refused(await collectorCheck({ VIGIL_DISABLED_RULES: "cpu-high,,memory-high" }), "VGL_ERR_BAD_CONFIG", "disabled_rules", /empty/);
    const c = await collectorCheck({ VIGIL_INSECURE_NO_AUTH: "Off", VIGIL_MAX_FUTURE_SKEW: "2m" });
    assert.equal(c.code, 0, c.stderr);
    const cfg = JSON.parse(c.stdout) as { insecureNoAuth: boolean; ingest: { maxFutureSkewMs: number } };
    assert.deepEqual([cfg.insecureNoAuth, cfg.ingest.maxFutureSkewMs], [false, 120_000]);
  },
};
