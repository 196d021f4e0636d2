// 11. A database unreachable at start: one clear line (VGL code, the setting, host:port, the cause, what to check; no
// password, no stack trace) and a prompt exit 1; under systemd (INVOCATION_ID) or with --wait-for-db, retries with
// backoff, logging each attempt, and starts once the database is reachable.
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { join } from "node:path";
import type { HostileItem } from "../harness.js";
import { runBin, spawnBin, type BinResult } from "../run-bin.js";
import { COLLECTOR_BIN } from "../../support/processes.js";
import { createTestDatabase, serverUrl } from "../../support/postgres.js";
import { startTcpProxy } from "../../support/tcp-proxy.js";

const PASSWORD = "s3cret-db-pw-11";

async function closedPort(): Promise<number> {
  const s = createServer().listen(0, "127.0.0.1");
  await new Promise((r) => s.once("listening", r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

/** The collector's last stderr line, which must be the one clear line. */
function unreachableLine(r: BinResult, ...words: (string | RegExp)[]): string {
  assert.equal(r.code, 1, `expected exit 1, got ${r.code}; stderr:\n${r.stderr}`);
  assert.ok(!r.stderr.includes(PASSWORD), `the password leaked:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /^\s+at /m, `a stack trace was printed:\n${r.stderr}`);
  const line = r.stderr.trim().split("\n").at(-1)!;
  assert.match(line, /^vigil-collector: VGL_ERR_STORAGE_UNREACHABLE: /);
  for (const w of words) assert.ok(typeof w === "string" ? line.includes(w) : w.test(line), `${String(w)} not in: ${line}`);
  return line;
}

export const item: HostileItem = {
  title: "11. an unreachable database at start is one clear line, or retried with backoff under systemd",
  async run(ctx) {
    const args = ["--http-listen", "127.0.0.1:0", "--grpc-listen", "127.0.0.1:0", "--data-dir", join(ctx.tmp, "data-11")];
    const port = await closedPort();
    const refused = await runBin(COLLECTOR_BIN, args, { DATABASE_URL: `postgres://vigil:${PASSWORD}@127.0.0.1:${port}/vigil` });
    unreachableLine(refused, "DATABASE_URL", `127.0.0.1:${port}`, /refused/i, /check/i);
    assert.ok(refused.ms < 10_000, `took ${refused.ms} ms to give up`);

    const dns = await runBin(COLLECTOR_BIN, args, { DATABASE_URL: `postgres://vigil:${PASSWORD}@no-such-host.invalid:5432/vigil` });
    unreachableLine(dns, "DATABASE_URL", "no-such-host.invalid:5432", /not found|DNS/i);

    // From the config file, the setting is named as the file's key.
    const file = join(ctx.tmp, "collector-11.yaml");
    const { writeFileSync } = await import("node:fs");
    writeFileSync(file, JSON.stringify({ database_url: `postgresql://vigil:${PASSWORD}@127.0.0.1:${port}/vigil` }));
    unreachableLine(await runBin(COLLECTOR_BIN, [...args, "--config", file]), "database_url", file);

    // Bounded waiting: retries logged, then the same line.
    const waited = await runBin(COLLECTOR_BIN, [...args, "--wait-for-db", "2s"], { DATABASE_URL: `postgres://vigil:${PASSWORD}@127.0.0.1:${port}/vigil` });
    unreachableLine(waited, `127.0.0.1:${port}`, /gave up after \d+ attempts/);
    assert.ok(waited.stderr.split("\n").filter((l) => l.includes("retrying")).length >= 2, `no retries logged:\n${waited.stderr}`);

    const base = serverUrl();
    if (!base) return; // the rest needs a PostgreSQL server
    const u = new URL(base);
    u.username = "vigil_no_such_role_11";
    u.password = PASSWORD;
    unreachableLine(await runBin(COLLECTOR_BIN, args, { DATABASE_URL: u.toString() }), "vigil_no_such_role_11", /check/i);
    const missing = new URL(base);
    missing.pathname = "/vigil_no_such_db_11";
    unreachableLine(await runBin(COLLECTOR_BIN, args, { DATABASE_URL: missing.toString() }), "vigil_no_such_db_11", /does not exist/, /createdb|create/i);

    // Under systemd: keeps retrying while the path is refused, and starts when it heals.
    const db = await createTestDatabase();
    const target = new URL(db.url);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    proxy.cut("refuse");
    const via = new URL(db.url);
    via.host = proxy.address;
    const collector = spawnBin(COLLECTOR_BIN, [...args, "--insecure-no-auth"], { DATABASE_URL: via.toString(), INVOCATION_ID: "hostile-11" });
    try {
      await collector.waitForLine((l) => l.includes("retrying") && l.includes("attempt\":2"), 30_000);
      assert.equal(collector.child.exitCode, null, "exited instead of retrying");
      proxy.restore();
      await collector.waitForLine((l) => l.includes('"collector listening"'), 60_000);
      const attempts = collector.lines.filter((l) => l.includes("retrying"));
      assert.ok(attempts.every((l) => l.includes("VGL_ERR_STORAGE_UNREACHABLE") && l.includes(proxy.address)), attempts.join("\n"));
    } finally {
      await collector.kill();
      await proxy.close();
      await db.drop();
    }
  },
};
