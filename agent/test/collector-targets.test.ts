import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAgentCommand } from "../src/config.js";
import { MAX_COLLECTORS, zCollectorTargets } from "../src/transport/collector-targets.js";

const parse = (v: unknown) => zCollectorTargets.safeParse(v);
const ok = (v: unknown) => {
  const r = parse(v);
  assert.ok(r.success, `expected ${JSON.stringify(v)} to parse: ${r.success ? "" : r.error.issues[0]!.message}`);
  return r.data;
};
const bad = (v: unknown, message: RegExp) => {
  const r = parse(v);
  assert.ok(!r.success, `expected ${JSON.stringify(v)} to be refused`);
  assert.match(r.error.issues.map((i) => i.message).join("\n"), message);
};

test("collector targets: one address, a comma-separated list, a YAML list, IPv6 and DNS names", () => {
  assert.deepEqual(ok("127.0.0.1:4770"), [{ host: "127.0.0.1", port: 4770 }]);
  assert.deepEqual(ok("a.example:4770, b.example:4771"), [{ host: "a.example", port: 4770 }, { host: "b.example", port: 4771 }]);
  assert.deepEqual(ok(["a:1", "[::1]:4770"]), [{ host: "a", port: 1 }, { host: "::1", port: 4770 }]);
  assert.deepEqual(ok("collector_1.svc.cluster.local.:4770"), [{ host: "collector_1.svc.cluster.local.", port: 4770 }]);
  assert.equal(ok(Array.from({ length: MAX_COLLECTORS }, (_, i) => `c${i}:4770`)).length, MAX_COLLECTORS);
});

test("collector targets: hostile and mistaken entries are refused, naming the entry", () => {
  bad("", /empty/);
  bad([], /at least one/);
  bad("a:4770,,b:4770", /entry 2 is empty/);
  bad("a:4770,", /entry 2 is empty/);
  bad("a", /entry 1 "a": expected HOST:PORT/);
  bad("a:4770,b:99999", /entry 2 "b:99999": the port must be between 1 and 65535/);
  bad("a:0", /port must be between 1 and 65535/);
  bad(":4770", /expected HOST:PORT/);
  bad("http://a:4770", /expected HOST:PORT/);
  bad("a b:4770", /expected HOST:PORT/);
  bad("a\u0000b:4770", /not a valid host name/);
  bad("[not-ip]:4770", /not an IPv6 address/);
  bad("::1:4770", /expected HOST:PORT/); // IPv6 needs brackets: which colon starts the port is a guess
  bad("-a.example:4770", /not a valid host name/);
  bad(`${"a".repeat(64)}.example:4770`, /not a valid host name/);
  bad(`${"a.".repeat(127)}b:4770`, /not a valid host name/); // 255 characters
  bad("a:4770,A:4770", /listed twice/);
  bad([4770], /expected a string/);
  bad([{ host: "a" }], /expected a string/);
  bad(Array.from({ length: MAX_COLLECTORS + 1 }, (_, i) => `c${i}:4770`), new RegExp(`at most ${MAX_COLLECTORS} collectors, got ${MAX_COLLECTORS + 1}`));
  // A huge value: refused by count, and the message stays short.
  const r = parse(Array.from({ length: 100_000 }, () => "x:1").join(","));
  assert.ok(!r.success && r.error.issues[0]!.message.length < 200);
  // A long entry is shown cut short.
  const long = parse(`${"y".repeat(5000)}:4770`);
  assert.ok(!long.success && long.error.issues[0]!.message.length < 300);
});

test("collector setting: flag, env and file name the key and the source of a bad entry", () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-agent-config-"));
  try {
    const file = join(dir, "agent.yaml");
    writeFileSync(file, "collector:\n  - a.example:4770\n  - b.example:4770\n");
    const env = { VIGIL_CONFIG: file };
    assert.deepEqual(parseAgentCommand([], env).load().collector, [{ host: "a.example", port: 4770 }, { host: "b.example", port: 4770 }]);
    assert.deepEqual(parseAgentCommand(["--collector", "c:1,d:2"], env).load().collector, [{ host: "c", port: 1 }, { host: "d", port: 2 }]);
    assert.deepEqual(parseAgentCommand([], {}).load().collector, [{ host: "127.0.0.1", port: 4770 }]);
    assert.throws(() => parseAgentCommand(["--collector", "c:1,d"], env).load(), /^AgentError: collector: entry 2 "d": expected HOST:PORT.*\(--collector\)$/m);
    assert.throws(() => parseAgentCommand([], { ...env, VIGIL_COLLECTOR: "c:1,,d:2" }).load(), /collector: entry 2 is empty.*\(env VIGIL_COLLECTOR\)/);
    writeFileSync(file, "collector:\n  - a.example:4770\n  - b.example\n");
    assert.throws(() => parseAgentCommand([], env).load(), new RegExp(`collector: entry 2 "b.example": expected HOST:PORT.*\\(in ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\)`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
