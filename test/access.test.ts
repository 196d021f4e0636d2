// Access control end to end, with the shipped binaries: keys made by `vigil-collector apikey`, used by `vigil` through
// VIGIL_API_KEY; the audit log (`vigil audit`) holds each mutating call with the key's name, and refused calls.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createTestDatabase, serverUrl, type TestDatabase } from "./support/postgres.js";
import { COLLECTOR_BIN, ROOT, startCollector, type CollectorProc } from "./support/processes.js";

const VIGIL_BIN = resolve(ROOT, "collector/bin/vigil.mjs");

function run(bin: string, args: string[], env: NodeJS.ProcessEnv): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, encoding: "utf8", timeout: 60_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe("access control with the shipped binaries", () => {
  let dir: string;
  let testDb: TestDatabase | undefined;
  let collector: CollectorProc;
  const keys: Record<string, string> = {};
  let storageArgs: string[];
  let env: NodeJS.ProcessEnv;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "vigil-access-e2e-"));
    testDb = serverUrl() ? await createTestDatabase() : undefined;
    env = { DATABASE_URL: testDb?.url ?? "", VIGIL_LOG_LEVEL: "warn" };
    storageArgs = ["--data-dir", join(dir, "data")];
    for (const [name, role] of [["root", "admin"], ["olga", "operator"], ["vic", "viewer"]] as const) {
      const r = run(COLLECTOR_BIN, ["apikey", "create", "--name", name, "--role", role, "--expires", "90d", ...storageArgs], env);
      assert.equal(r.status, 0, r.stderr);
      keys[name] = r.stdout.trim();
      assert.match(keys[name]!, /^vgk_/);
      assert.match(r.stderr, /shown only this once/);
      assert.ok(!r.stderr.includes(keys[name]!.slice(-43)), "the key's secret is printed outside stdout");
    }
    collector = await startCollector({ databaseUrl: testDb?.url, dataDir: join(dir, "data"), auth: true });
  });

  after(async () => {
    await collector?.kill();
    await testDb?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const vigil = (args: string[], key?: string) => run(VIGIL_BIN, ["--url", collector.httpUrl, ...args], key ? { VIGIL_API_KEY: key } : { VIGIL_API_KEY: "" });

  test("the collector says at start that keys are required", () => {
    assert.ok(collector.logs.some((l) => l.msg === "HTTP API requires API keys (Authorization: Bearer)"));
  });

  test("without a key vigil is refused, saying why; a viewer may read but not silence", () => {
    const none = vigil(["hosts"]);
    assert.equal(none.status, 1);
    assert.match(none.stderr, /no API key/);
    assert.equal(vigil(["hosts"], keys.vic).status, 0);
    const denied = vigil(["silence", "--match", "host=web-1", "--for", "1h", "--by", "vic"], keys.vic);
    assert.equal(denied.status, 1);
    assert.match(denied.stderr, /needs the operator role/);
  });

  test("an operator silences and unsilences; the audit log names the key for each, and the refusals", () => {
    const made = vigil(["silence", "--match", "host=web-1", "--for", "1h", "--by", "mallory", "--json"], keys.olga);
    assert.equal(made.status, 0, made.stderr);
    const id = (JSON.parse(made.stdout) as { id: string }).id;
    const listed = vigil(["silences", "--json"], keys.vic);
    assert.match(listed.stdout, /"createdBy": ?"olga"/);
    assert.doesNotMatch(listed.stdout, /mallory/);
    assert.equal(vigil(["unsilence", id], keys.olga).status, 0);

    assert.equal(vigil(["audit"], keys.olga).status, 1, "an operator reads the audit log");
    const audit = vigil(["audit", "--json"], keys.root);
    assert.equal(audit.status, 0, audit.stderr);
    const entries = (JSON.parse(audit.stdout) as { entries: { actor: string | null; action: string; target: string | null; outcome: string; status: number }[] }).entries;
    const find = (action: string, actor: string | null, outcome: string) => entries.find((e) => e.action === action && e.actor === actor && e.outcome === outcome);
    assert.equal(find("POST /api/v1/silences", "olga", "ok")?.target, id);
    assert.equal(find("DELETE /api/v1/silences/:id", "olga", "ok")?.target, id);
    assert.ok(find("POST /api/v1/silences", "vic", "denied"), "the viewer's refused silence");
    assert.ok(find("GET /api/v1/hosts", null, "denied"), "the call without a key");
    assert.ok(find("GET /api/v1/audit", "olga", "denied"), "the operator's refused audit read");
    const table = vigil(["audit", "--actor", "olga"], keys.root);
    assert.match(table.stdout, /WHO\s+ROLE\s+ACTION/);
    assert.match(table.stdout, /olga\s+operator\s+POST \/api\/v1\/silences/);
  });

  test("a key revoked with the CLI stops working", async () => {
    const r = run(COLLECTOR_BIN, ["apikey", "revoke", "vic", ...storageArgs], env);
    // PGlite's data dir belongs to the running collector: there the admin revokes through the API.
    if (testDb) assert.equal(r.status, 0, r.stderr);
    else {
      const res = await fetch(`${collector.httpUrl}/api/v1/apikeys/vic`, { method: "DELETE", headers: { authorization: `Bearer ${keys.root}` } });
      assert.equal(res.status, 200);
    }
    // Another process revoked it: this collector's remembered check lasts at most 5 s.
    const deadline = Date.now() + 10_000;
    let last = vigil(["hosts"], keys.vic);
    while (last.status === 0 && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 500));
      last = vigil(["hosts"], keys.vic);
    }
    assert.equal(last.status, 1);
    assert.match(last.stderr, /was revoked/);
    const list = run(COLLECTOR_BIN, ["apikey", "list", ...storageArgs], env);
    if (testDb) {
      assert.match(list.stdout, /vic\s+viewer/);
      for (const k of Object.values(keys)) assert.ok(!list.stdout.includes(k.slice(-43)), "apikey list prints a secret");
    }
  });
});
