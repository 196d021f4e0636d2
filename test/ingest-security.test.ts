// Ingest security end to end, with the real collector and agent binaries on a fresh database: agent tokens, TLS and
// mTLS, clock-skew rejection, and malformed input. Where the agent binary only shows "it failed", a raw IngestClient
// checks the exact gRPC status and message; rejected hosts are checked in the tables directly (nothing stored).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { makeTestPki, type TestPki } from "./support/certs.js";
import {
  batch,
  grpc,
  hello,
  helloOutcome,
  ingestServiceDefinition,
  isAck,
  isWelcome,
  makeClient,
  makeRawBytesClient,
  openStream,
  type CollectorMessage,
  type IngestClient,
  type StreamEnd,
} from "./support/ingest-client.js";
import { createTestDatabase, skipWithoutPostgres, type TestDatabase } from "./support/postgres.js";
import { COLLECTOR_BIN, eventually, startAgent, startCollector, type CollectorProc, type Proc } from "./support/processes.js";

const skip = skipWithoutPostgres();
const run = promisify(execFile);

let db: TestDatabase;
let pool: pg.Pool;
let tmp: string;
const agents: Proc[] = [];

/** Agents go before their collector, whose graceful shutdown would otherwise wait ~2 s for their streams. */
async function killAgents(): Promise<void> {
  await Promise.all(agents.splice(0).map((a) => a.kill()));
}

/** Starts an agent reporting every second, killed after the file. */
function agent(collector: string, hostname: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Proc {
  const a = startAgent(["--collector", collector, "--interval", "1s", "--hostname", hostname, ...args], env);
  agents.push(a);
  return a;
}

interface Stored {
  hosts: number;
  series: number;
  samples: number;
}

/** What the tables hold for one host name. */
async function stored(host: string): Promise<Stored> {
  const r = await pool.query<{ hosts: string; series: string; samples: string }>(
    `SELECT (SELECT count(*) FROM hosts WHERE name = $1) AS hosts,
            (SELECT count(*) FROM series s JOIN hosts h ON h.id = s.host_id WHERE h.name = $1) AS series,
            (SELECT count(*) FROM samples x JOIN series s ON s.id = x.series_id JOIN hosts h ON h.id = s.host_id WHERE h.name = $1) AS samples`,
    [host],
  );
  const row = r.rows[0]!;
  return { hosts: Number(row.hosts), series: Number(row.series), samples: Number(row.samples) };
}

const NOTHING: Stored = { hosts: 0, series: 0, samples: 0 };

async function waitForSamples(host: string): Promise<Stored> {
  return eventually(async () => {
    const s = await stored(host);
    return s.samples > 0 ? s : undefined;
  }, 20_000, `samples stored for ${host}`);
}

/** The agent's own account of a refused connection (it logs each failed attempt, then backs off and retries). */
function waitForAgentRejection(a: Proc, code: string, reason?: RegExp): Promise<Record<string, unknown>> {
  return a.waitForLog(
    (l) => l.msg === "collector stream closed; reconnecting" && l.code === code && (reason === undefined || reason.test(String(l.reason))),
    15_000,
  );
}

function assertEnd(end: StreamEnd, code: grpc.status, details: RegExp): void {
  assert.equal(grpc.status[end.code], grpc.status[code], `status (details: ${end.details})`);
  assert.match(end.details, details);
}

describe("ingest security", { skip }, () => {
  before(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    tmp = mkdtempSync(join(tmpdir(), "vigil-security-"));
  });
  after(async () => {
    await killAgents();
    await pool?.end();
    await db?.drop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  describe("agent tokens", () => {
    const HOST = "tok-host";
    let collector: CollectorProc;
    let client: IngestClient;
    let token = "";

    /** `vigil-collector token …` against the test database, as an operator runs it. */
    const tokenCli = async (...args: string[]) => {
      const r = await run(process.execPath, [COLLECTOR_BIN, "token", ...args], { env: { ...process.env, DATABASE_URL: db.url } });
      return r.stdout;
    };
    const listTokens = async () =>
      (await tokenCli("list"))
        .trimEnd()
        .split("\n")
        .map((l) => l.split("\t"));

    before(async () => {
      collector = await startCollector({ databaseUrl: db.url, auth: true });
      client = makeClient(collector.grpcAddress);
    });
    after(async () => {
      client?.close();
      await killAgents();
      await collector?.kill();
    });

    test("token create prints the token alone on stdout; token list shows it", async () => {
      const out = await tokenCli("create", "--name", HOST);
      // Nothing but the token, so `TOKEN=$(vigil-collector token create …)` works.
      assert.match(out, /^vgl_[0-9a-f]{12}_[A-Za-z0-9_-]{43}\n$/);
      token = out.trim();
      const id = token.slice(4, 16);
      const rows = await listTokens();
      assert.deepEqual(rows[0], ["ID", "NAME", "HOSTS", "CREATED", "LAST USED", "REVOKED"]);
      const mine = rows.find((r) => r[0] === id);
      assert.ok(mine, `token ${id} listed:\n${rows.join("\n")}`);
      assert.equal(mine[1], HOST);
      assert.equal(mine[2], HOST, "bound to its host");
      assert.equal(mine[4], "-", "never used yet");
      assert.equal(mine[5], "-", "not revoked");
      assert.ok(!rows.flat().some((c) => c.includes(token.slice(17))), "the secret is never listed");
    });

    test("an agent with its host's token (VIGIL_TOKEN) is accepted and its data stored", async () => {
      assert.ok(token, "needs the token from the previous test");
      const a = agent(collector.grpcAddress, HOST, [], { VIGIL_TOKEN: token });
      await a.waitForLog((l) => l.msg === "connected to collector", 15_000);
      const s = await waitForSamples(HOST);
      assert.equal(s.hosts, 1);
      assert.ok(s.series > 0);
      const row = (await listTokens()).find((r) => r[0] === token.slice(4, 16));
      assert.notEqual(row?.[4], "-", "last use recorded");
    });

    describe("rejected agents: refused with the exact status, the agent logs it, nothing stored", () => {
      interface Case {
        name: string;
        hostname: string;
        token: () => string | undefined;
        /** Pass the token in a file (--token-file) rather than VIGIL_TOKEN. */
        viaFile?: boolean;
        code: grpc.status;
        details: () => RegExp;
        /** The collector's log line for the refusal. */
        collectorMsg: string;
      }
      let otherToken = "";
      let revokedToken = "";
      const AUTH_FAILED = "agent rejected: authentication failed";
      const cases: Case[] = [
        { name: "no token", hostname: "tok-none", token: () => undefined, code: grpc.status.UNAUTHENTICATED, details: () => /no agent token/, collectorMsg: AUTH_FAILED },
        { name: "garbage token", hostname: "tok-garbage", token: () => "letmein", code: grpc.status.UNAUTHENTICATED, details: () => /malformed agent token/, collectorMsg: AUTH_FAILED },
        {
          name: "well-formed but unknown token",
          hostname: "tok-unknown",
          token: () => `vgl_000000000000_${"A".repeat(43)}`,
          code: grpc.status.UNAUTHENTICATED,
          details: () => /unknown agent token \(id 000000000000\)/,
          collectorMsg: AUTH_FAILED,
        },
        {
          name: "another host's token",
          hostname: "tok-impostor",
          token: () => otherToken,
          code: grpc.status.PERMISSION_DENIED,
          // Both names, so the operator sees which token went to which machine.
          details: () => /token is for host "tok-rightful", not "tok-impostor"/,
          collectorMsg: "agent rejected",
        },
        {
          name: "revoked token",
          hostname: "tok-revoked",
          token: () => revokedToken,
          viaFile: true,
          code: grpc.status.UNAUTHENTICATED,
          details: () => new RegExp(`agent token ${revokedToken.slice(4, 16)} \\(tok-revoked\\) was revoked`),
          collectorMsg: AUTH_FAILED,
        },
      ];

      before(async () => {
        otherToken = (await tokenCli("create", "--name", "tok-rightful")).trim();
        revokedToken = (await tokenCli("create", "--name", "tok-revoked")).trim();
        assert.equal((await tokenCli("revoke", "tok-revoked")).trim(), "revoked tok-revoked");
        const row = (await listTokens()).find((r) => r[0] === revokedToken.slice(4, 16));
        assert.notEqual(row?.[5], "-", "token list shows the revocation");
      });

      for (const c of cases) {
        test(c.name, async (t) => {
          const tok = c.token();
          const refusal = (l: Record<string, unknown>) => l.msg === c.collectorMsg && c.details().test(String(l.reason ?? l.err));
          const refusals = (n: number) =>
            eventually(async () => (collector.logs.filter(refusal).length >= n ? true : undefined), 15_000, `${n} refusal(s) in the collector's log`);
          const before = collector.logs.filter(refusal).length;

          const raw = openStream(client, tok);
          raw.send(hello(c.hostname));
          await refusals(before + 1);
          assert.equal(raw.received.some(isWelcome), false, "never welcomed");

          let args: string[] = [];
          let env: NodeJS.ProcessEnv = {};
          if (tok !== undefined && c.viaFile) {
            const file = join(tmp, `${c.hostname}.token`);
            writeFileSync(file, `${tok}\n`, { mode: 0o600 });
            args = ["--token-file", file];
          } else if (tok !== undefined) {
            env = { VIGIL_TOKEN: tok };
          }
          const a = agent(collector.grpcAddress, c.hostname, args, env);
          await refusals(before + 2);

          await t.test(`the stream ends with ${grpc.status[c.code]} naming the problem; the agent logs it`, async () => {
            assertEnd(await raw.end(10_000), c.code, c.details());
            const log = await waitForAgentRejection(a, grpc.status[c.code], c.details());
            assert.equal(log.level, 50, "auth failures are logged as errors, not routine reconnects");
            // Refused again on retry (and it keeps retrying, so fixing the token needs no agent restart).
            await a.waitForLog((l) => l !== log && l.msg === "collector stream closed; reconnecting" && l.code === grpc.status[c.code], 15_000);
          });
          raw.close();
          assert.deepEqual(await stored(c.hostname), NOTHING);
        });
      }
    });

    test("an --any-host token (from --token-file) is accepted under any hostname", async () => {
      const anyToken = (await tokenCli("create", "--name", "tok-fleet", "--any-host")).trim();
      const row = (await listTokens()).find((r) => r[0] === anyToken.slice(4, 16));
      assert.equal(row?.[2], "any");
      const file = join(tmp, "fleet.token");
      writeFileSync(file, `${anyToken}\n`, { mode: 0o600 }); // the trailing newline `echo` leaves must not matter
      agent(collector.grpcAddress, "tok-any-1", ["--token-file", file]);
      const raw = await helloOutcome(client, "tok-any-2", anyToken);
      assert.ok(raw.welcomed, raw.welcomed ? "" : `refused: ${raw.end.details}`);
      const s = await waitForSamples("tok-any-1");
      assert.equal(s.hosts, 1);
      assert.equal((await stored("tok-any-2")).hosts, 1, "the raw client's Hello registered its host");
    });
  });

  describe("TLS and mTLS", () => {
    let pki: TestPki;
    let tls: CollectorProc;
    let mtls: CollectorProc;

    const sslCreds = (ca: string, cert?: string, key?: string) =>
      grpc.credentials.createSsl(readFileSync(ca), key ? readFileSync(key) : null, cert ? readFileSync(cert) : null);

    before(async () => {
      pki = makeTestPki();
      const serverTls = ["--tls-cert", pki.serverCert, "--tls-key", pki.serverKey];
      [tls, mtls] = await Promise.all([
        startCollector({ databaseUrl: db.url, args: serverTls }),
        startCollector({ databaseUrl: db.url, args: [...serverTls, "--tls-client-ca", pki.ca] }),
      ]);
      assert.equal((await tls.waitForLog((l) => l.msg === "collector listening")).tls, "tls");
      assert.equal((await mtls.waitForLog((l) => l.msg === "collector listening")).tls, "mtls");
    });
    after(async () => {
      await killAgents();
      await Promise.all([tls?.kill(), mtls?.kill()]);
      pki?.remove();
    });

    /** Hello over the given credentials; closes the client after. */
    async function rawOutcome(address: string, creds: grpc.ChannelCredentials, hostname: string) {
      const c = makeClient(address, creds);
      try {
        return await helloOutcome(c, hostname);
      } finally {
        c.close();
      }
    }

    test("TLS: an agent trusting the collector's CA is accepted and its data stored", async () => {
      agent(tls.grpcAddress, "tls-ok", ["--tls-ca", pki.ca]);
      const raw = await rawOutcome(tls.grpcAddress, sslCreds(pki.ca), "tls-ok-raw");
      assert.ok(raw.welcomed, raw.welcomed ? "" : `refused: ${raw.end.details}`);
      await waitForSamples("tls-ok");
    });

    test("TLS: a plaintext agent cannot connect and stores nothing", async (t) => {
      const a = agent(tls.grpcAddress, "tls-plain");
      t.diagnostic(`agent: ${String((await waitForAgentRejection(a, "UNAVAILABLE")).reason)}`);
      const raw = await rawOutcome(tls.grpcAddress, grpc.credentials.createInsecure(), "tls-plain-raw");
      assert.equal(raw.welcomed, false);
      if (!raw.welcomed) {
        t.diagnostic(`raw client: ${grpc.status[raw.end.code]}: ${raw.end.details}`);
        assert.equal(grpc.status[raw.end.code], "UNAVAILABLE", raw.end.details);
      }
      assert.deepEqual(await stored("tls-plain"), NOTHING);
      assert.deepEqual(await stored("tls-plain-raw"), NOTHING);
    });

    test("TLS: an agent trusting a different CA refuses the collector and stores nothing", async (t) => {
      const a = agent(tls.grpcAddress, "tls-wrong-ca", ["--tls-ca", pki.otherCa]);
      t.diagnostic(`agent: ${String((await waitForAgentRejection(a, "UNAVAILABLE")).reason)}`);
      const raw = await rawOutcome(tls.grpcAddress, sslCreds(pki.otherCa), "tls-wrong-ca-raw");
      assert.equal(raw.welcomed, false);
      if (!raw.welcomed) {
        t.diagnostic(`raw client: ${grpc.status[raw.end.code]}: ${raw.end.details}`);
        assertEnd(raw.end, grpc.status.UNAVAILABLE, /certificate/i);
      }
      assert.deepEqual(await stored("tls-wrong-ca"), NOTHING);
    });

    test("mTLS: an agent with a client certificate from the trusted CA is accepted and its data stored", async () => {
      agent(mtls.grpcAddress, "mtls-ok", ["--tls-ca", pki.ca, "--tls-cert", pki.clientCert, "--tls-key", pki.clientKey]);
      const raw = await rawOutcome(mtls.grpcAddress, sslCreds(pki.ca, pki.clientCert, pki.clientKey), "mtls-ok-raw");
      assert.ok(raw.welcomed, raw.welcomed ? "" : `refused: ${raw.end.details}`);
      await waitForSamples("mtls-ok");
    });

    for (const c of [
      { name: "no client certificate", hostname: "mtls-nocert", cert: undefined, key: undefined },
      { name: "a client certificate from another CA", hostname: "mtls-othercert", cert: "otherClientCert", key: "otherClientKey" },
    ] as const) {
      test(`mTLS: an agent with ${c.name} is refused and stores nothing`, async (t) => {
        const cert = c.cert ? pki[c.cert] : undefined;
        const key = c.key ? pki[c.key] : undefined;
        const a = agent(mtls.grpcAddress, c.hostname, ["--tls-ca", pki.ca, ...(cert && key ? ["--tls-cert", cert, "--tls-key", key] : [])]);
        t.diagnostic(`agent: ${String((await waitForAgentRejection(a, "UNAVAILABLE")).reason)}`);
        const raw = await rawOutcome(mtls.grpcAddress, sslCreds(pki.ca, cert, key), `${c.hostname}-raw`);
        assert.equal(raw.welcomed, false);
        if (!raw.welcomed) {
          t.diagnostic(`raw client: ${grpc.status[raw.end.code]}: ${raw.end.details}`);
          assert.equal(grpc.status[raw.end.code], "UNAVAILABLE", raw.end.details);
        }
        assert.deepEqual(await stored(c.hostname), NOTHING);
        assert.deepEqual(await stored(`${c.hostname}-raw`), NOTHING);
      });
    }
  });

  describe("batches: clock skew and malformed input", () => {
    let collector: CollectorProc;
    let client: IngestClient;
    const SKEW_LIMIT_MS = 60_000;

    before(async () => {
      // A 1 m limit (default 5 m) so the test also shows --max-future-skew is honoured.
      collector = await startCollector({ databaseUrl: db.url, args: ["--max-future-skew", "1m"] });
      client = makeClient(collector.grpcAddress);
    });
    after(async () => {
      client?.close();
      await killAgents();
      await collector?.kill();
    });

    async function welcomed(hostname: string) {
      const s = openStream(client);
      s.send(hello(hostname));
      await s.next(isWelcome, "Welcome");
      return s;
    }

    async function samplesOf(host: string): Promise<{ t: number; metric: string; v: number }[]> {
      const r = await pool.query<{ t: Date; metric: string; v: number }>(
        `SELECT x.time AS t, s.metric, x.value AS v FROM samples x JOIN series s ON s.id = x.series_id JOIN hosts h ON h.id = s.host_id
          WHERE h.name = $1 ORDER BY x.time, s.metric`,
        [host],
      );
      return r.rows.map((row) => ({ t: row.t.getTime(), metric: row.metric, v: Number(row.v) }));
    }

    test("a batch stamped in the future is acked as rejected, not stored; the stream goes on", async () => {
      const s = await welcomed("skew-host");
      const now = Date.now();
      const decl = [{ ref: 1, metric: "test.skew" }];
      s.send(batch({ seq: 1, timeMs: now + 3_600_000, declare: decl, refs: [1], values: [1] }));
      const a1 = await s.next(isAck(1), "Ack 1");
      assert.equal(a1.msg.case, "ack");
      if (a1.msg.case === "ack") assert.match(a1.msg.value.rejected, /seq 1 .*future/);

      // Past the 1 m limit but within the 5 m default: refused, so the flag took effect.
      s.send(batch({ seq: 2, timeMs: now + 3 * SKEW_LIMIT_MS, declare: decl, refs: [1], values: [2] }));
      const a2 = await s.next(isAck(2), "Ack 2");
      if (a2.msg.case === "ack") assert.match(a2.msg.value.rejected, /future/);

      s.send(batch({ seq: 3, timeMs: now, declare: decl, refs: [1], values: [3] }));
      const a3 = await s.next(isAck(3), "Ack 3");
      if (a3.msg.case === "ack") assert.equal(a3.msg.value.rejected, "", "a normal batch is committed");
      assert.deepEqual(await samplesOf("skew-host"), [{ t: now, metric: "test.skew", v: 3 }]);
      s.close();

      assert.ok(
        collector.logs.some((l) => l.host === "skew-host" && l.seq === 1 && /future/.test(String(l.msg))),
        "the collector logs the refused batch",
      );
    });

    test(
      "series declared in a refused (future) batch can be used by the next batch on the stream",
      // The agent marks a refused batch's series as declared on the stream, so the collector must keep them.
      async () => {
        const s = await welcomed("skew-declare");
        const now = Date.now();
        s.send(batch({ seq: 1, timeMs: now + 3_600_000, declare: [{ ref: 1, metric: "test.skew" }], refs: [1], values: [1] }));
        await s.next(isAck(1), "Ack 1");
        s.send(batch({ seq: 2, timeMs: now, refs: [1], values: [2] }));
        try {
          const a2 = await s.next(isAck(2), "Ack 2", 2000);
          if (a2.msg.case === "ack") assert.equal(a2.msg.value.rejected, "");
        } finally {
          s.close();
        }
      },
    );

    test("bytes that are not protobuf end that stream with an error; the collector keeps serving", async (t) => {
      const bystander = agent(collector.grpcAddress, "bad-bystander");
      const before = (await waitForSamples("bad-bystander")).samples;

      const rawBytes = makeRawBytesClient(collector.grpcAddress);
      try {
        const call = rawBytes.connect(new grpc.Metadata());
        const ended = new Promise<StreamEnd>((resolve) => {
          call.on("error", (e: grpc.ServiceError) => resolve({ code: e.code, details: e.details }));
          call.on("status", (st: grpc.StatusObject) => resolve({ code: st.code, details: st.details }));
        });
        const welcome = new Promise<void>((resolve) => call.on("data", (m: CollectorMessage) => isWelcome(m) && resolve()));
        // A field-1 length prefix of 2^35 with no bytes behind it: no protobuf parser can read that.
        const garbage = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x7f]);
        assert.throws(() => ingestServiceDefinition.connect.requestDeserialize(garbage), "precondition: the bytes are not an AgentMessage");
        // A valid Hello first, so the garbage lands on a live, welcomed stream.
        call.write(ingestServiceDefinition.connect.requestSerialize(hello("bad-garbage")));
        await welcome;
        call.write(garbage);
        const end = await ended;
        t.diagnostic(`raw client: ${grpc.status[end.code]}: ${end.details}`);
        // grpc-js itself answers a message it cannot deserialize with INTERNAL "Error deserializing request", before
        // the collector's handler sees it (so the collector's stats and logs do not count it as a protocol error).
        assertEnd(end, grpc.status.INTERNAL, /deserializ/i);
      } finally {
        rawBytes.close();
      }

      assert.equal(collector.child.exitCode, null, "collector still running");
      const fresh = await helloOutcome(client, "bad-after");
      assert.ok(fresh.welcomed, "a new stream is still welcomed");
      await eventually(async () => ((await stored("bad-bystander")).samples > before ? true : undefined), 10_000, "the bystander agent's data keeps coming");
      assert.ok(!bystander.logs.some((l) => l.msg === "collector stream closed; reconnecting"), "the bystander's stream was never disturbed");
      assert.equal((await stored("bad-garbage")).samples, 0);
    });

    test("a batch whose refs and values differ in length is a protocol error naming its seq", async (t) => {
      const s = await welcomed("bad-mismatch");
      s.send(batch({ seq: 1, timeMs: Date.now(), declare: [{ ref: 1, metric: "test.ok" }], refs: [1], values: [1] }));
      await s.next(isAck(1), "Ack 1");
      s.send(batch({ seq: 7, timeMs: Date.now(), declare: [{ ref: 2, metric: "test.bad" }], refs: [1, 2], values: [5] }));
      const MSG = /^batch seq 7: 2 refs but 1 values$/;
      const log = await collector.waitForLog((l) => l.msg === "protocol error from agent" && l.host === "bad-mismatch", 10_000);
      assert.match(String(log.err), MSG);
      await t.test(
        "the stream ends with INVALID_ARGUMENT and that message",
        async () => assertEnd(await s.end(10_000), grpc.status.INVALID_ARGUMENT, MSG),
      );
      s.close();
      assert.equal(s.received.filter(isAck(7)).length, 0, "never acked");
      assert.deepEqual(
        (await samplesOf("bad-mismatch")).map((x) => x.v),
        [1],
        "only the good batch before it",
      );
    });

    test("NaN and ±Inf are dropped; the finite points of the same batch are stored", async () => {
      const s = await welcomed("bad-nonfinite");
      const now = Date.now();
      const declare = ["a", "b", "c", "d", "e"].map((m, i) => ({ ref: i + 1, metric: `test.${m}` }));
      s.send(batch({ seq: 1, timeMs: now, declare, refs: [1, 2, 3, 4, 5], values: [1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -2] }));
      const a = await s.next(isAck(1), "Ack 1");
      if (a.msg.case === "ack") assert.equal(a.msg.value.rejected, "", "the batch itself is accepted");
      assert.deepEqual(await samplesOf("bad-nonfinite"), [
        { t: now, metric: "test.a", v: 1.5 },
        { t: now, metric: "test.e", v: -2 },
      ]);
      s.close();
      const warn = await collector.waitForLog((l) => l.msg === "dropped NaN/Inf values" && l.host === "bad-nonfinite", 5_000);
      assert.equal(warn.dropped, 3);
    });
  });
});
