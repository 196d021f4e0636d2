// Fuzzes the ingest path (issue 9): random and mutated AgentMessage streams (hostile strings, huge and negative numbers,
// NaN, duplicate refs, missing Hello, …) go to a real collector for a bounded time (VIGIL_FUZZ_SECONDS, default 20)
// while a well-behaved stream keeps sending. Nothing may crash the collector or fail a commit, every refusal must be
// INVALID_ARGUMENT, and the good stream must keep getting acks throughout.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { create } from "@bufbuild/protobuf";
import { AgentMessageSchema, type AgentMessage } from "@vigil/proto";
import { createTestDatabase, serverUrl, type TestDatabase } from "./support/postgres.js";
import { grpc, isAck, isWelcome, makeClient, openStream, hello, batch, type IngestClient, type RawStream } from "./support/ingest-client.js";
import { startCollector, type CollectorProc } from "./support/processes.js";

const SECONDS = Number(process.env.VIGIL_FUZZ_SECONDS ?? 20);
const DAY = 86_400_000;
// The collector's own host-name rule: a valid name from the fuzzer gets a unique suffix, so no two cases share a host
// (two agent ids on one live host are refused as PERMISSION_DENIED, which is right but not what this test is about).
const VALID_HOSTNAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

// ---- arbitraries ---------------------------------------------------------------------------------------------------

const hostileString = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom("\u0000", "\u0001", "\n", "\u007f", "\u0085", "\ud800", "é", "🙂", "a"), maxLength: 20 }) },
  { weight: 1, arbitrary: fc.constantFrom("", "x".repeat(201), "x".repeat(1025), "é".repeat(700), "x".repeat(5000), "y".repeat(200_000), "x".repeat(2_500_000)) },
);
const name = fc.oneof({ weight: 4, arbitrary: fc.stringMatching(/^[a-z][a-z0-9._]{0,15}$/) }, { weight: 1, arbitrary: hostileString });
const labels = fc.oneof(
  { weight: 6, arbitrary: fc.dictionary(name, fc.oneof(name, hostileString), { maxKeys: 4 }) },
  { weight: 1, arbitrary: fc.constant(Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`l${i}`, "v"]))) },
);
const uint32 = fc.oneof(fc.integer({ min: 0, max: 6 }), fc.constantFrom(0, 2 ** 31, 2 ** 32 - 1), fc.integer({ min: 0, max: 2 ** 32 - 1 }));
const int64 = (now: number) =>
  fc.oneof(
    fc.constant(BigInt(now)),
    fc.bigInt({ min: BigInt(now - 20 * DAY), max: BigInt(now + DAY) }),
    fc.constantFrom(0n, -1n, 2n ** 63n - 1n, -(2n ** 63n), BigInt(now - 16 * DAY), BigInt(now + 3_600_000)),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  );
const uint64 = fc.oneof(fc.bigInt({ min: 0n, max: 100n }), fc.constantFrom(2n ** 53n, 2n ** 63n, 2n ** 64n - 1n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }));

const helloArb = (now: number) =>
  fc.record({
    hostname: fc.oneof({ weight: 4, arbitrary: fc.constant("fz") }, { weight: 1, arbitrary: hostileString }),
    agentId: fc.oneof(fc.constant("fuzz-agent"), hostileString),
    agentVersion: fc.oneof(fc.constant("1.0"), hostileString),
    labels,
    bootTimeMs: int64(now),
    intervalMs: fc.oneof(fc.constantFrom(0, 1000, 10_000), uint32),
    os: fc.oneof(fc.constant("linux"), hostileString),
    kernel: fc.oneof(fc.constant("6.1"), hostileString),
    cpuCount: uint32,
  });

const batchArb = (now: number) =>
  fc.record({
    seq: uint64,
    timeMs: int64(now),
    declare: fc.array(fc.record({ ref: uint32, metric: name, labels }), { maxLength: 4 }),
    refs: fc.array(uint32, { maxLength: 6 }),
    values: fc.array(fc.double(), { maxLength: 6 }),
    checks: fc.array(
      fc.record({ name, kind: name, status: fc.integer({ min: -1, max: 4 }), durationSeconds: fc.double(), message: hostileString, timeMs: int64(now) }),
      { maxLength: 2 },
    ),
  });

type HelloInit = ReturnType<typeof helloArb> extends fc.Arbitrary<infer T> ? T : never;
type BatchInit = ReturnType<typeof batchArb> extends fc.Arbitrary<infer T> ? T : never;
type Step = { hello: HelloInit } | { batch: BatchInit } | { empty: true };

/** A well-formed stream: Hello, then batches declaring their series once and using them. */
function validSteps(now: number): Step[] {
  const declare: { ref: number; metric: string; labels: Record<string, string> }[] = [
    { ref: 1, metric: "fz.cpu", labels: { state: "user" } },
    { ref: 2, metric: "fz.mem", labels: {} },
  ];
  const b = (seq: number, withDecl: boolean): Step => ({
    batch: {
      seq: BigInt(seq),
      timeMs: BigInt(now - 1000 * (3 - seq)),
      declare: withDecl ? declare : [],
      refs: [1, 2],
      values: [seq / 10, seq * 1000],
      checks: [{ name: "web", kind: "http", status: 1, durationSeconds: 0.01, message: "ok", timeMs: BigInt(now - 1000 * (3 - seq)) }],
    },
  });
  return [{ hello: { hostname: "fz", agentId: "fuzz-agent", agentVersion: "1", labels: {}, bootTimeMs: 0n, intervalMs: 1000, os: "linux", kernel: "6", cpuCount: 1 } }, b(1, true), b(2, false), b(3, false)];
}

/** One change to a valid stream: a field set to a hostile value, a message dropped, duplicated or moved. */
const mutation = (now: number) =>
  fc.oneof(
    fc.record({ at: fc.nat(3), field: fc.constantFrom("metric", "labelName", "labelValue", "checkName", "checkKind", "checkMessage"), value: hostileString }),
    fc.record({ at: fc.nat(3), field: fc.constantFrom("seq"), value: uint64 }),
    fc.record({ at: fc.nat(3), field: fc.constantFrom("timeMs", "checkTime", "bootTime"), value: int64(now) }),
    fc.record({ at: fc.nat(3), field: fc.constantFrom("ref", "interval", "cpus"), value: uint32 }),
    fc.record({ at: fc.nat(3), field: fc.constantFrom("value", "duration"), value: fc.double() }),
    fc.record({ at: fc.nat(3), field: fc.constantFrom("drop", "duplicate", "dupDecl", "swapNext", "hostname", "agentId") }),
  );
type Mutation = ReturnType<typeof mutation> extends fc.Arbitrary<infer T> ? T : never;

function mutate(steps: Step[], muts: Mutation[]): Step[] {
  const out: Step[] = structuredClone(steps);
  for (const m of muts) {
    const i = Math.min(m.at, out.length - 1);
    const s = out[i];
    if (!s) continue;
    const b = "batch" in s ? s.batch : undefined;
    const h = "hello" in s ? s.hello : undefined;
    const v = "value" in m ? m.value : undefined;
    switch (m.field) {
      case "drop": out.splice(i, 1); break;
      case "duplicate": out.splice(i, 0, structuredClone(s)); break;
      case "swapNext": if (i + 1 < out.length) [out[i], out[i + 1]] = [out[i + 1]!, s]; break;
      case "dupDecl": if (b?.declare[0]) b.declare.push({ ...b.declare[0] }); break;
      case "metric": if (b?.declare[0] && typeof v === "string") b.declare[0].metric = v; break;
      case "labelName": if (b?.declare[0] && typeof v === "string") b.declare[0].labels = { ...b.declare[0].labels, [v]: "x" }; break;
      case "labelValue": if (b?.declare[0] && typeof v === "string") b.declare[0].labels = { ...b.declare[0].labels, state: v }; break;
      case "checkName": if (b?.checks[0] && typeof v === "string") b.checks[0].name = v; else if (h && typeof v === "string") h.hostname = v; break;
      case "checkKind": if (b?.checks[0] && typeof v === "string") b.checks[0].kind = v; else if (h && typeof v === "string") h.agentVersion = v; break;
      case "checkMessage": if (b?.checks[0] && typeof v === "string") b.checks[0].message = v; else if (h && typeof v === "string") h.os = v; break;
      case "seq": if (b && typeof v === "bigint") b.seq = v; break;
      case "timeMs": if (b && typeof v === "bigint") b.timeMs = v; break;
      case "checkTime": if (b?.checks[0] && typeof v === "bigint") b.checks[0].timeMs = v; break;
      case "bootTime": if (h && typeof v === "bigint") h.bootTimeMs = v; break;
      case "ref": if (b && typeof v === "number") b.refs[0] = v; break;
      case "interval": if (h && typeof v === "number") h.intervalMs = v; break;
      case "cpus": if (h && typeof v === "number") h.cpuCount = v; break;
      case "value": if (b && typeof v === "number") b.values[0] = v; break;
      case "duration": if (b?.checks[0] && typeof v === "number") b.checks[0].durationSeconds = v; break;
      case "hostname": if (h) h.hostname = `${h.hostname}\u0000`; break;
      case "agentId": if (h) h.agentId = "x".repeat(129); break;
    }
  }
  return out;
}

const streamArb = (now: number): fc.Arbitrary<Step[]> =>
  fc.oneof(
    { weight: 2, arbitrary: fc.tuple(fc.constant(validSteps(now)), fc.array(mutation(now), { minLength: 1, maxLength: 3 })).map(([s, m]) => mutate(s, m)) },
    {
      weight: 1,
      arbitrary: fc.tuple(
        helloArb(now),
        fc.array(fc.oneof({ weight: 8, arbitrary: batchArb(now).map((batch): Step => ({ batch })) }, { weight: 1, arbitrary: fc.oneof(helloArb(now).map((hello): Step => ({ hello })), fc.constant<Step>({ empty: true })) }), { maxLength: 4 }),
      ).map(([hello, rest]): Step[] => [{ hello }, ...rest]),
    },
  );

function toMessage(s: Step, hostSuffix: string): AgentMessage {
  if ("empty" in s) return create(AgentMessageSchema, {});
  if ("batch" in s) {
    const { checks, ...rest } = s.batch;
    return create(AgentMessageSchema, { msg: { case: "batch", value: { ...rest, checks: checks.map((c) => ({ ...c, status: c.status })) } } });
  }
  const h = s.hello;
  const hostname = VALID_HOSTNAME.test(h.hostname) && h.hostname.length < 200 ? `${h.hostname}-${hostSuffix}` : h.hostname;
  return create(AgentMessageSchema, { msg: { case: "hello", value: { ...h, hostname } } });
}

// ---- the test ------------------------------------------------------------------------------------------------------

describe("ingest fuzzing against a real collector", () => {
  let testDb: TestDatabase | undefined;
  let dir: string | undefined;
  let collector: CollectorProc;
  let client: IngestClient;

  before(async () => {
    if (serverUrl()) testDb = await createTestDatabase();
    else dir = mkdtempSync(join(tmpdir(), "vigil-fuzz-"));
    collector = await startCollector({ databaseUrl: testDb?.url, dataDir: dir });
    client = makeClient(collector.grpcAddress);
  });
  after(async () => {
    client?.close();
    await collector?.kill();
    await testDb?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test(`random and mutated streams for ${SECONDS}s: no crash, no failed commit, every refusal INVALID_ARGUMENT, the good stream acked throughout`, { timeout: (SECONDS + 60) * 1000 }, async (t) => {
    // The bystander: its own connection, one batch every 250 ms.
    const goodClient = makeClient(collector.grpcAddress);
    const good = openStream(goodClient, undefined);
    good.send(hello("fuzz-good"));
    await good.next(isWelcome, "the good stream's Welcome");
    const ackTimes: number[] = [];
    good.call.on("data", () => ackTimes.push(Date.now()));
    let seq = 0;
    const timer = setInterval(() => {
      seq++;
      good.send(batch({ seq, timeMs: Date.now(), declare: seq === 1 ? [{ ref: 1, metric: "fz.good" }] : [], refs: [1], values: [seq] }));
    }, 250);

    const ends = new Map<string, number>();
    const refusals: string[] = [];
    let cases = 0;
    const now = Date.now();
    try {
      await fc.assert(
        fc.asyncProperty(streamArb(now), async (steps) => {
          cases++;
          const outcome = await runCase(client, steps.map((s) => toMessage(s, String(cases))));
          ends.set(outcome.code, (ends.get(outcome.code) ?? 0) + 1);
          if (outcome.code !== "open") refusals.push(`${outcome.code}: ${outcome.details.slice(0, 120)}`);
          return outcome.code === "open" || outcome.code === "INVALID_ARGUMENT";
        }),
        { numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: SECONDS * 1000, markInterruptAsFailure: false, endOnFailure: true },
      );
    } finally {
      clearInterval(timer);
    }
    t.diagnostic(`${cases} cases; stream ends: ${JSON.stringify(Object.fromEntries(ends))}`);
    for (const r of refusals.slice(0, 5)) t.diagnostic(r);
    assert.ok(cases >= 20, `only ${cases} cases ran`);
    assert.ok((ends.get("INVALID_ARGUMENT") ?? 0) > 0 && (ends.get("open") ?? 0) > 0, "the fuzzer found both accepted and refused streams");

    // The good stream: every batch acked as committed, never a silence of 2 s.
    const last = seq;
    for (let n = 1; n <= last; n++) {
      const a = await good.next(isAck(n), `the good stream's Ack ${n}`);
      assert.equal(a.msg.case === "ack" && a.msg.value.rejected, "");
    }
    let worst = 0;
    for (let i = 1; i < ackTimes.length; i++) worst = Math.max(worst, ackTimes[i]! - ackTimes[i - 1]!);
    assert.ok(worst < 2000, `the good stream went ${worst} ms without an ack`);
    good.close();
    goodClient.close();

    assert.equal(collector.child.exitCode, null, "the collector is still running");
    const metrics = await (await fetch(`${collector.httpUrl}/metrics`)).text();
    const failed = /^vigil_storage_failed_commits_total (\S+)$/m.exec(metrics);
    assert.equal(Number(failed?.[1]), 0, "no commit failed");
    const refused = /^vigil_storage_refused_batches_total (\S+)$/m.exec(metrics);
    assert.equal(Number(refused?.[1]), 0, "storage refused nothing: the edge caught it all");
  });
});

/** Sends a case's messages on a new stream; "open" when the stream neither ended nor was refused in time. */
async function runCase(client: IngestClient, msgs: AgentMessage[]): Promise<{ code: string; details: string }> {
  const s: RawStream = openStream(client, undefined);
  const batches = msgs.filter((m) => m.msg.case === "batch").length;
  try {
    for (const m of msgs) s.send(m);
    const acked = new Promise<void>((resolve) => {
      const check = () => s.received.filter((m) => m.msg.case === "ack").length >= batches && (batches > 0 || s.received.some(isWelcome)) && resolve();
      s.call.on("data", check);
      check();
    });
    const r = await Promise.race([
      s.ended.then((e) => ({ code: grpc.status[e.code] ?? String(e.code), details: e.details })),
      acked.then(() => ({ code: "open", details: "" })),
      new Promise<{ code: string; details: string }>((resolve) => setTimeout(() => resolve({ code: "open", details: "no answer in 1.5 s" }), 1500)),
    ]);
    return r;
  } finally {
    s.close();
  }
}
