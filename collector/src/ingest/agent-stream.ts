import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { CheckStatus, CollectorMessageSchema, type AgentMessage, type Batch, type CollectorMessage, type Hello } from "@vigil/proto";
import type { Clock, Logger } from "@vigil/shared";
import { CollectorError, CollectorErrors } from "../errors.js";
import type { AgentAuthenticator, CheckRun, CommittedBatch, IngestObserver, IngestStats, IngestStorage } from "./ports.js";
import { validateBatch } from "./validate.js";

export interface AgentStreamDeps {
  storage: IngestStorage;
  auth: AgentAuthenticator;
  clock: Clock;
  log: Logger;
  collectorId: string;
  stats: IngestStats;
  /** Batches stamped further ahead of the collector's clock are refused (counted, logged, acked as rejected). */
  maxFutureSkewMs: number;
  /** Told of every batch once it is committed (alert evaluation). */
  observer?: IngestObserver;
}

type Call = grpc.ServerDuplexStream<AgentMessage, CollectorMessage>;
type Identity = { name: string; anyHost: boolean };
type StreamHost = { id: number; name: string; intervalMs: number };
type StreamSeries = { id: number; metric: string; labels: Record<string, string> };

// How long an agent is asked to hold new batches when the write queue is full.
const SLOW_DOWN_MS = 1000;

let nextStreamId = 1;

function bearer(call: Call): string | undefined {
  const v = call.metadata.get("authorization")[0];
  const s = typeof v === "string" ? v : v?.toString();
  return s?.replace(/^Bearer\s+/i, "") || undefined;
}

/** One agent's stream: token check, Hello → Welcome, then batches → storage → Ack(seq) after commit. */
export async function serveAgentStream(call: Call, deps: AgentStreamDeps): Promise<void> {
  const streamId = nextStreamId++;
  const { log, stats } = deps;
  const refs = new Map<number, StreamSeries>();
  let host: StreamHost | undefined;
  let failed = false;
  let lastSlowAt = 0;
  stats.streamsOpen++;

  const fail = (code: grpc.status, details: string) => {
    if (failed) return;
    failed = true;
    call.emit("error", { code, details });
  };
  const send = (msg: CollectorMessage) => {
    if (!failed && !call.cancelled && call.writable) call.write(msg);
  };
  const ack = (seq: bigint, rejected = "") => send(create(CollectorMessageSchema, { msg: { case: "ack", value: { seq, rejected } } }));

  try {
    const who = await deps.auth.authenticate(bearer(call));
    if (!who.ok) {
      stats.authFailures++;
      log.warn({ peer: call.getPeer(), reason: who.reason }, "agent rejected: authentication failed");
      return fail(grpc.status.UNAUTHENTICATED, who.reason);
    }
    // destroyOnReturn: false, so leaving the loop on an error keeps the call alive long enough to send its status.
    for await (const msg of call.iterator({ destroyOnReturn: false }) as AsyncIterable<AgentMessage>) {
      if (failed) break;
      if (msg.msg.case === "hello") {
        if (host) throw new CollectorError(CollectorErrors.PROTOCOL, "Hello sent twice on one stream");
        host = await welcome(msg.msg.value, who, deps, send);
      } else if (msg.msg.case === "batch") {
        if (!host) throw new CollectorError(CollectorErrors.PROTOCOL, "the first message on a stream must be Hello");
        const b = msg.msg.value;
        // Declarations count even when the batch is refused: the agent will not repeat them on this stream.
        await declareSeries(b, host, refs, deps);
        const ahead = Number(b.timeMs) - deps.clock.now();
        if (ahead > deps.maxFutureSkewMs) {
          stats.batchesRejectedFuture++;
          const reason = `batch seq ${b.seq} is stamped ${Math.round(ahead / 1000)}s in the future (limit ${deps.maxFutureSkewMs / 1000}s): fix the host's clock`;
          log.warn({ host: host.name, seq: Number(b.seq) }, reason);
          ack(b.seq, reason);
          continue;
        }
        if (deps.storage.full() && deps.clock.now() - lastSlowAt >= SLOW_DOWN_MS) {
          lastSlowAt = deps.clock.now();
          stats.slowDowns++;
          send(create(CollectorMessageSchema, { msg: { case: "slow", value: { downMs: SLOW_DOWN_MS } } }));
        }
        const { committed, points, checks } = await ingestBatch(b, host, streamId, refs, deps);
        const h = host;
        committed.then(
          () => {
            ack(b.seq);
            deps.observer?.({ host: h.name, intervalMs: h.intervalMs, timeMs: Number(b.timeMs), points, checks });
          },
          (err: Error) => {
            log.warn({ host: host?.name, seq: Number(b.seq), err: err.message }, "batch not committed; closing stream so the agent resends");
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
    } else if (err instanceof CollectorError && err.code === CollectorErrors.UNAUTHORIZED_HOST) {
      stats.authFailures++;
      log.warn({ peer: call.getPeer(), err: err.message }, "agent rejected");
      fail(grpc.status.PERMISSION_DENIED, err.message);
    } else if (!call.cancelled) {
      log.warn({ host: host?.name, err: (err as Error).message }, "agent stream failed");
      fail(grpc.status.UNAVAILABLE, (err as Error).message);
    }
  } finally {
    stats.streamsOpen--;
  }
}

async function welcome(h: Hello, who: Identity, deps: AgentStreamDeps, send: (m: CollectorMessage) => void): Promise<StreamHost> {
  if (!h.hostname) throw new CollectorError(CollectorErrors.PROTOCOL, "Hello.hostname is empty");
  if (!who.anyHost && who.name !== h.hostname) {
    throw new CollectorError(CollectorErrors.UNAUTHORIZED_HOST, `this token is for host ${JSON.stringify(who.name)}, not ${JSON.stringify(h.hostname)}`);
  }
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
  return { id: reg.id, name: h.hostname, intervalMs: h.intervalMs || 10_000 };
}

const STATUS_FROM_PROTO: Partial<Record<CheckStatus, number>> = {
  [CheckStatus.HEALTHY]: 0,
  [CheckStatus.DEGRADED]: 1,
  [CheckStatus.UNHEALTHY]: 2,
};

function checkRuns(b: Batch): CheckRun[] {
  return b.checks.map((c) => {
    const status = STATUS_FROM_PROTO[c.status];
    if (!c.name || status === undefined) {
      throw new CollectorError(CollectorErrors.PROTOCOL, `batch seq ${b.seq}: check result ${JSON.stringify(c.name)} needs a name and a status`);
    }
    return { name: c.name, kind: c.kind, status, durationSeconds: c.durationSeconds, message: c.message.slice(0, 1000), timeMs: Number(c.timeMs) };
  });
}

async function declareSeries(b: Batch, host: StreamHost, refs: Map<number, StreamSeries>, deps: AgentStreamDeps): Promise<void> {
  if (b.declare.length === 0) return;
  for (const d of b.declare) {
    if (!d.metric) throw new CollectorError(CollectorErrors.PROTOCOL, `batch seq ${b.seq}: series ref ${d.ref} has an empty metric name`);
  }
  const ids = await deps.storage.resolveSeries(host.id, b.declare);
  b.declare.forEach((d, i) => refs.set(d.ref, { id: ids[i]!, metric: d.metric, labels: d.labels }));
}

type Ingested = { committed: Promise<void>; points: CommittedBatch["points"]; checks: CheckRun[] };

async function ingestBatch(b: Batch, host: StreamHost, streamId: number, refs: Map<number, StreamSeries>, deps: AgentStreamDeps): Promise<Ingested> {
  deps.stats.batchesReceived++;
  const points = validateBatch(b, refs);
  deps.stats.pointsReceived += b.values.length;
  if (points.nonFinite > 0) {
    deps.stats.pointsRejectedNonFinite += points.nonFinite;
    deps.log.warn({ host: host.name, seq: Number(b.seq), dropped: points.nonFinite }, "dropped NaN/Inf values");
  }
  const series = points.refs.map((r) => refs.get(r)!);
  const checks = checkRuns(b);
  const { committed } = await deps.storage.enqueue({
    hostId: host.id,
    streamId,
    seq: Number(b.seq),
    timeMs: Number(b.timeMs),
    seriesIds: series.map((s) => s.id),
    values: points.values,
    checks,
  });
  // Only built when someone evaluates them.
  const named = deps.observer ? series.map((s, i) => ({ metric: s.metric, labels: s.labels, value: points.values[i]! })) : [];
  return { committed, points: named, checks };
}
