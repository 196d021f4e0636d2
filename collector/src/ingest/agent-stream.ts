import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { CollectorMessageSchema, type AgentMessage, type Batch, type CollectorMessage, type Hello } from "@vigil/proto";
import type { Clock, Logger } from "@vigil/shared";
import { CollectorError, CollectorErrors } from "../errors.js";
import type { IngestStats, IngestStorage } from "./ports.js";
import { validateBatch } from "./validate.js";

export interface AgentStreamDeps {
  storage: IngestStorage;
  clock: Clock;
  log: Logger;
  collectorId: string;
  stats: IngestStats;
}

type Call = grpc.ServerDuplexStream<AgentMessage, CollectorMessage>;

let nextStreamId = 1;

/** One agent's stream: Hello → Welcome, then batches → storage → Ack(seq) after commit. */
export async function serveAgentStream(call: Call, deps: AgentStreamDeps): Promise<void> {
  const streamId = nextStreamId++;
  const { storage, log, stats } = deps;
  const refs = new Map<number, number>(); // ref → series id
  let host: { id: number; name: string } | undefined;
  let failed = false;
  stats.streamsOpen++;

  const fail = (code: grpc.status, details: string) => {
    if (failed) return;
    failed = true;
    call.emit("error", { code, details });
  };
  const send = (msg: CollectorMessage) => {
    if (!failed && !call.cancelled && call.writable) call.write(msg);
  };

  try {
    for await (const msg of call as AsyncIterable<AgentMessage>) {
      if (failed) break;
      if (msg.msg.case === "hello") {
        if (host) throw new CollectorError(CollectorErrors.PROTOCOL, "Hello sent twice on one stream");
        host = await welcome(msg.msg.value, deps, send);
      } else if (msg.msg.case === "batch") {
        if (!host) throw new CollectorError(CollectorErrors.PROTOCOL, "the first message on a stream must be Hello");
        const { committed } = await ingestBatch(msg.msg.value, host.id, streamId, refs, deps);
        const seq = msg.msg.value.seq;
        committed.then(
          () => send(create(CollectorMessageSchema, { msg: { case: "ack", value: { seq } } })),
          (err: Error) => {
            log.warn({ host: host?.name, seq: Number(seq), err: err.message }, "batch not committed; closing stream so the agent replays");
            fail(grpc.status.UNAVAILABLE, err.message);
          },
        );
      } else {
        throw new CollectorError(CollectorErrors.PROTOCOL, "empty AgentMessage");
      }
    }
    if (!failed) call.end();
  } catch (err) {
    if (err instanceof CollectorError && err.code === CollectorErrors.PROTOCOL) {
      stats.protocolErrors++;
      log.warn({ host: host?.name, peer: call.getPeer(), err: err.message }, "protocol error from agent");
      fail(grpc.status.INVALID_ARGUMENT, err.message);
    } else if (!call.cancelled) {
      log.warn({ host: host?.name, err: (err as Error).message }, "agent stream failed");
      fail(grpc.status.UNAVAILABLE, (err as Error).message);
    }
  } finally {
    stats.streamsOpen--;
  }
}

async function welcome(h: Hello, deps: AgentStreamDeps, send: (m: CollectorMessage) => void): Promise<{ id: number; name: string }> {
  if (!h.hostname) throw new CollectorError(CollectorErrors.PROTOCOL, "Hello.hostname is empty");
  const reg = await deps.storage.registerHost({
    name: h.hostname,
    agentId: h.agentId || h.hostname,
    labels: h.labels,
    agentVersion: h.agentVersion,
    os: h.os,
    kernel: h.kernel,
    cpuCount: h.cpuCount,
    intervalMs: h.intervalMs || 10_000,
    bootTimeMs: Number(h.bootTimeMs),
  });
  deps.log.info({ host: h.hostname, agentVersion: h.agentVersion, lastSeq: reg.lastSeq }, "agent connected");
  send(
    create(CollectorMessageSchema, {
      msg: {
        case: "welcome",
        value: { collectorId: deps.collectorId, serverTimeMs: BigInt(deps.clock.now()), lastCommittedSeq: BigInt(reg.lastSeq) },
      },
    }),
  );
  return { id: reg.id, name: h.hostname };
}

async function ingestBatch(b: Batch, hostId: number, streamId: number, refs: Map<number, number>, deps: AgentStreamDeps): Promise<{ committed: Promise<void> }> {
  deps.stats.batchesReceived++;
  if (b.declare.length > 0) {
    for (const d of b.declare) {
      if (!d.metric) throw new CollectorError(CollectorErrors.PROTOCOL, `batch seq ${b.seq}: series ref ${d.ref} has an empty metric name`);
    }
    const ids = await deps.storage.resolveSeries(hostId, b.declare);
    b.declare.forEach((d, i) => refs.set(d.ref, ids[i]!));
  }
  const points = validateBatch(b, refs);
  deps.stats.pointsReceived += b.values.length;
  if (points.nonFinite > 0) {
    deps.stats.pointsRejectedNonFinite += points.nonFinite;
    deps.log.warn({ hostId, seq: Number(b.seq), dropped: points.nonFinite }, "dropped NaN/Inf values");
  }
  return deps.storage.enqueue({
    hostId,
    streamId,
    seq: Number(b.seq),
    timeMs: Number(b.timeMs),
    seriesIds: points.refs.map((r) => refs.get(r)!),
    values: points.values,
  });
}
