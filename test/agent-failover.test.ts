// Fail-over with the shipped binaries: two collectors on one database, one agent given both (`--collector A,B`).
// The collector it streams to is SIGKILLed: within 10 s the agent streams to the other, and every tick is stored
// exactly once, with no gap, as read back through the surviving collector's query API. Then that one dies too, the
// first comes back, and the ticks spooled meanwhile reach it. Over TLS, an address the agent resolved from a DNS name is
// verified against that name.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeTestPki, type TestPki } from "./support/certs.js";
import { createTestDatabase, serverUrl, type TestDatabase } from "./support/postgres.js";
import { assertEveryTickOnce, caughtUp, hostRange } from "./support/agent-ticks.js";
import { eventually, startAgent, startCollector, type CollectorProc, type Proc } from "./support/processes.js";

const HOST = `failover-${process.pid}`;
/** Ticks stored through the first collector before it is killed. */
const WARMUP_MS = 5_000;
/** The bound the agent must meet: from the kill to streaming into the other collector. */
const FAILOVER_MS = 10_000;
/** Ticks after a fail-over, before checking. */
const SETTLE_MS = 4_000;
/** Both collectors down: the agent spools and goes round both, backing off. */
const BOTH_DOWN_MS = 6_000;

const skip = serverUrl() ? false : "two collectors share a database: needs DATABASE_URL";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const portOf = (address: string) => Number(address.split(":").pop()!.replace(/\/.*$/, ""));

const query = (c: CollectorProc, params: string) => hostRange(c, HOST, params);

async function switches(c: CollectorProc): Promise<number | undefined> {
  return (await query(c, "metric=vigil.agent.collector.switches&agg=last")).series[0]?.points.at(-1)?.[1];
}

describe("agent fail-over between two collectors", { skip }, () => {
  let db: TestDatabase | undefined;
  const collectors: CollectorProc[] = [];
  let agent: Proc | undefined;

  before(async () => {
    db = await createTestDatabase();
    for (let i = 0; i < 2; i++) collectors.push(await startCollector({ databaseUrl: db.url }));
  });
  after(async () => {
    await agent?.kill();
    for (const c of collectors) await c.kill();
    await db?.drop();
  });

  test("the connected collector SIGKILLed: within 10 s the agent streams to the other; every tick stored once, no gap", { timeout: 150_000 }, async () => {
    const [a, b] = collectors as [CollectorProc, CollectorProc];
    const ag = (agent = startAgent(["--collector", `${a.grpcAddress},${b.grpcAddress}`, "--interval", "1s", "--hostname", HOST]));
    const first = await ag.waitForLog((l) => l.msg === "connected to collector");
    assert.equal(first.address, a.grpcAddress, "with both up, the agent streams to the first one listed");
    await sleep(WARMUP_MS);

    const killedAt = Date.now();
    await a.kill("SIGKILL");
    const moved = await ag.waitForLog((l) => l.msg === "connected to collector" && l.address === b.grpcAddress, FAILOVER_MS);
    assert.equal(moved.switchedFrom, a.grpcAddress, "the log says where it moved from");
    assert.ok(ag.logs.some((l) => l.msg === "trying the next collector" && l.from === a.grpcAddress && l.to === b.grpcAddress), "the move is logged");
    // Streaming to B: a tick stamped after the kill reads back through B, within the bound.
    await eventually(
      async () => ((await query(b, "metric=system.cpu.logical.count&agg=count")).series[0]?.points.some(([t]) => t > killedAt) ? true : undefined),
      killedAt + FAILOVER_MS - Date.now(),
      `a tick after the kill stored through the other collector within ${FAILOVER_MS / 1000} s`,
    );
    await sleep(SETTLE_MS);
    await assertEveryTickOnce(b, HOST, { until: await caughtUp(b, HOST, killedAt + SETTLE_MS), mustCover: killedAt, leadMs: WARMUP_MS });
    assert.equal(await switches(b), 1, "the agent counts one collector switch");
  });

  test("both down, then the first back on its address: it gets the ticks spooled meanwhile, each once", { timeout: 150_000 }, async () => {
    const [a, b] = collectors as [CollectorProc, CollectorProc];
    const ag = agent!;
    const downAt = Date.now();
    await b.kill("SIGKILL");
    await sleep(BOTH_DOWN_MS);
    const a2 = (collectors[0] = await startCollector({ databaseUrl: db!.url, grpcPort: portOf(a.grpcAddress), httpPort: portOf(a.httpUrl) }));
    const back = await ag.waitForLog((l) => l.msg === "connected to collector" && l.address === a.grpcAddress && l.switchedFrom === b.grpcAddress, 40_000);
    assert.ok(Number(back.backlog) >= BOTH_DOWN_MS / 1000 - 1, `the outage's ticks waited in the spool (backlog ${String(back.backlog)})`);
    assert.ok(ag.logs.filter((l) => l.msg === "collector stream closed; reconnecting" && l.address === a.grpcAddress).length >= 2, "it went round both while they were down");
    await sleep(SETTLE_MS);
    await assertEveryTickOnce(a2, HOST, { until: await caughtUp(a2, HOST, Date.now()), mustCover: downAt, leadMs: WARMUP_MS });
    assert.equal(await switches(a2), 2, "a second switch");
    assert.equal(ag.child.exitCode, null, "the agent kept running");
  });
});

describe("TLS to a collector named by DNS: the agent dials the address, the certificate must match the name", () => {
  let pki: TestPki | undefined;
  let dir: string | undefined;
  let collector: CollectorProc | undefined;
  const agents: Proc[] = [];

  before(async () => {
    pki = makeTestPki();
    dir = mkdtempSync(join(tmpdir(), "vigil-failover-tls-"));
    collector = await startCollector({ dataDir: dir, args: ["--tls-cert", pki.nameOnlyCert, "--tls-key", pki.nameOnlyKey] });
  });
  after(async () => {
    for (const a of agents) await a.kill();
    await collector?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
    pki?.remove();
  });

  test("localhost:PORT connects to 127.0.0.1 verified as localhost; 127.0.0.1:PORT is refused by the same certificate", async () => {
    const port = portOf(collector!.grpcAddress);
    const byName = startAgent(["--collector", `localhost:${port}`, "--tls-ca", pki!.ca, "--interval", "1s", "--hostname", "tls-by-name"]);
    const byIp = startAgent(["--collector", `127.0.0.1:${port}`, "--tls-ca", pki!.ca, "--interval", "1s", "--hostname", "tls-by-ip"]);
    agents.push(byName, byIp);
    const connected = await byName.waitForLog((l) => l.msg === "connected to collector", 20_000);
    assert.equal(connected.address, `127.0.0.1:${port}`, "it dialed the resolved address");
    assert.equal(connected.target, `localhost:${port}`);
    // The certificate names no IP: verifying the dialed address instead of the name would have failed like this.
    const refused = await byIp.waitForLog((l) => l.msg === "collector stream closed; reconnecting", 20_000);
    assert.equal(refused.code, "UNAVAILABLE");
    assert.match(String(refused.reason), /ERR_TLS_CERT_ALTNAME_INVALID/);
    assert.ok(!byIp.logs.some((l) => l.msg === "connected to collector"), "no Welcome through a certificate that does not name the IP");
  });
});
