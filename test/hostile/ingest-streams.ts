// Raw ingest streams for the hostile items about the ingest path (5, 6, 7): hand-made Hello and Batch messages, a
// well-behaved bystander stream that must keep getting acks, and readers for /metrics and stored series.
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { AgentMessageSchema, HelloSchema, type AgentMessage, type Hello } from "@vigil/proto";
import { batch, grpc, isAck, isWelcome, makeClient, openStream, type BatchInit, type RawStream, type StreamEnd } from "../support/ingest-client.js";
import type { HostileContext } from "./harness.js";

export { batch, grpc, isAck, isWelcome, openStream, type BatchInit, type RawStream, type StreamEnd };

export function ingestClient(ctx: HostileContext) {
  return makeClient(ctx.collector.grpcAddress);
}

export function helloMsg(hostname: string, init: Partial<Omit<Hello, "$typeName">> = {}): AgentMessage {
  const value = create(HelloSchema, { agentId: `raw-${hostname}`, hostname, agentVersion: "test", intervalMs: 1000, os: "linux", cpuCount: 1, ...init });
  return create(AgentMessageSchema, { msg: { case: "hello", value } });
}

/** Opens a stream with `token`, says Hello, and waits for Welcome. */
export async function welcomedStream(ctx: HostileContext, token: string, hello: AgentMessage): Promise<{ s: RawStream; close(): void }> {
  const client = ingestClient(ctx);
  const s = openStream(client, token);
  s.send(hello);
  try {
    await s.next(isWelcome, "Welcome");
  } catch (err) {
    s.close();
    client.close();
    throw err;
  }
  return {
    s,
    close: () => {
      s.close();
      client.close();
    },
  };
}

/** Opens a stream, sends `msgs`, and returns how it ended (failing if it did not end in time). */
export async function streamEnd(ctx: HostileContext, token: string, msgs: AgentMessage[], timeoutMs = 10_000): Promise<StreamEnd & { received: RawStream["received"] }> {
  const client = ingestClient(ctx);
  const s = openStream(client, token);
  try {
    for (const m of msgs) s.send(m);
    const end = await s.end(timeoutMs);
    return { ...end, received: s.received };
  } finally {
    s.close();
    client.close();
  }
}

/**
 * A well-behaved host streaming a point every 200 ms on its own stream: every batch it sends must be acked (not
 * rejected) and its stream must never end, whatever other streams do meanwhile.
 */
export async function startBystander(ctx: HostileContext, token: string, hostname: string) {
  const { s, close } = await welcomedStream(ctx, token, helloMsg(hostname));
  let seq = 0;
  const sent: number[] = [];
  const tick = () => {
    seq++;
    sent.push(seq);
    s.send(batch({ seq, timeMs: Date.now(), declare: seq === 1 ? [{ ref: 1, metric: "test.bystander" }] : [], refs: [1], values: [seq] }));
  };
  tick();
  const timer = setInterval(tick, 200);
  return {
    /** Stops sending and checks every batch was acked as committed. */
    async stop(): Promise<number> {
      // Poison can be refused faster than a few ticks: keep the bystander going long enough to be a witness.
      while (sent.length < 3) await new Promise((r) => setTimeout(r, 100));
      clearInterval(timer);
      try {
        for (const n of sent) {
          const a = await s.next(isAck(n), `the bystander's Ack ${n}`, 10_000);
          assert.equal(a.msg.case === "ack" && a.msg.value.rejected, "", `the bystander's batch ${n} was refused`);
        }
        return sent.length;
      } finally {
        close();
      }
    },
  };
}

/** The value of a /metrics sample (summed over label sets matching `labels`), 0 when absent. */
export async function metric(ctx: HostileContext, name: string, labels: Record<string, string> = {}): Promise<number> {
  const r = await ctx.http("GET", "/metrics");
  assert.equal(r.status, 200);
  let sum = 0;
  for (const line of r.text.split("\n")) {
    const m = /^([a-z_:]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (!Object.entries(labels).every(([k, v]) => (m[2] ?? "").includes(`${k}="${v}"`))) continue;
    sum += Number(m[3]);
  }
  return sum;
}

/** The series stored for a host, through the API (works on PostgreSQL and PGlite alike). */
export async function storedSeries(ctx: HostileContext, host: string): Promise<unknown[]> {
  const r = await ctx.http("GET", `/api/v1/series?host=${encodeURIComponent(host)}&limit=10000`);
  assert.equal(r.status, 200, r.text);
  const body = r.json as { series: unknown[]; truncated: boolean };
  assert.equal(body.truncated, false, "more series than one page of /api/v1/series");
  return body.series;
}

export function assertRefused(end: StreamEnd, code: grpc.status, details: RegExp): void {
  assert.equal(grpc.status[end.code], grpc.status[code], `ended with ${grpc.status[end.code]}: ${end.details}`);
  assert.match(end.details, details);
}

/** How many series a host has: counted in SQL on PostgreSQL (no API page limit), through the API on PGlite. */
export async function seriesCount(ctx: HostileContext, host: string): Promise<number> {
  if (!ctx.pg) return (await storedSeries(ctx, host)).length;
  const r = await ctx.pg.query<{ n: number }>("SELECT count(*)::int AS n FROM series s JOIN hosts h ON h.id = s.host_id WHERE h.name = $1", [host]);
  return r.rows[0]!.n;
}
