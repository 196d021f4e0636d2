import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { CollectorMessageSchema, type AgentMessage, type Batch, type CollectorMessage, type Hello } from "@vigil/proto";
import { formatDuration, type Clock, type Logger } from "@vigil/shared";
import { CollectorError, CollectorErrors } from "../errors.js";
import { decideIdentity, type IdentityDecision } from "./identity.js";
import type { IngestLimits } from "./limits.js";
import { countBy, type AgentAuthenticator, type CheckRun, type CommittedBatch, type HostOwner, type HostStreams, type IngestObserver, type IngestStats, type IngestStorage } from "./ports.js";
import { IngestRefusal } from "./refusal.js";
import type { SeriesShapes } from "./series-shapes.js";
import { StreamSeriesTable } from "./stream-series.js";
import { validateBatch } from "./validate.js";
import { validateHello } from "./validate-hello.js";

export interface AgentStreamDeps {
  storage: IngestStorage;
  auth: AgentAuthenticator;
  clock: Clock;
  log: Logger;
  collectorId: string;
  stats: IngestStats;
  limits: IngestLimits;
  /** Told of every batch once it is committed (alert evaluation). */
  observer?: IngestObserver;
  /** Told when a host's stream opens here (awaited before its first batch) and when it ends. */
  streams?: HostStreams;
}

type Call = grpc.ServerDuplexStream<AgentMessage, CollectorMessage>;
type Identity = { name: string; anyHost: boolean };
type StreamHost = { id: number; name: string; intervalMs: number };
type IdentityRefusal = Extract<IdentityDecision, { ok: false }> & { owner: HostOwner };

// How long an agent is asked to hold new batches when the write queue is full.
const SLOW_DOWN_MS = 1000;

let nextStreamId = 1;

function bearer(call: Call): string | undefined {
  const v = call.metadata.get("authorization")[0];
  const s = typeof v === "string" ? v : v?.toString();
  return s?.replace(/^Bearer\s+/i, "") || undefined;
}

/** Content refused by the edge or by storage: the stream ends with INVALID_ARGUMENT. */
const isRefusal = (err: unknown): err is CollectorError =>
  err instanceof CollectorError && (err.code === CollectorErrors.INVALID_FIELD || err.code === CollectorErrors.INGEST_LIMIT);

/**
 * One agent's stream: token check, Hello → Welcome, then batches → storage → Ack(seq) after commit. `shapes` is the
 * server's, shared by all its streams.
 */
export async function serveAgentStream(call: Call, deps: AgentStreamDeps, shapes: SeriesShapes): Promise<void> {
  const streamId = nextStreamId++;
  const { log, stats, limits } = deps;
  const table = new StreamSeriesTable(limits.maxSeriesPerStream, shapes);
  let host: StreamHost | undefined;
  let failed = false;
  let lastSlowAt = 0;
  stats.streamsOpen++;

  const fail = (code: grpc.status, details: string) => {
    if (failed) return;
    failed = true;
    call.emit("error", { code, details });
  };
  const refuse = (err: CollectorError) => {
    countBy(stats.refusals, err instanceof IngestRefusal ? err.reason : "storage");
    log.warn({ host: host?.name, peer: call.getPeer(), code: err.code, err: err.message }, "refused agent input");
    fail(grpc.status.INVALID_ARGUMENT, err.message);
  };
  const send = (msg: CollectorMessage) => {
    if (!failed && !call.cancelled && call.writable) call.write(msg);
  };
  const ack = (seq: bigint, rejected = "") => send(create(CollectorMessageSchema, { msg: { case: "ack", value: { seq, rejected } } }));
  // A stream must say Hello soon: idle streams (2,000 of them once) would otherwise hold memory and sockets forever.
  const helloTimer = setTimeout(() => {
    if (host || failed) return;
    stats.helloTimeouts++;
    log.warn({ peer: call.getPeer(), code: CollectorErrors.HELLO_TIMEOUT }, "no Hello in time; closing the stream");
    fail(grpc.status.DEADLINE_EXCEEDED, `no Hello within ${formatDuration(limits.helloTimeoutMs)} of opening the stream (ingest.hello_timeout)`);
  }, limits.helloTimeoutMs);

  try {
    const who = await deps.auth.authenticate(bearer(call));
    if (failed) return;
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
        clearTimeout(helloTimer);
        host = await welcome(msg.msg.value, who, deps, send);
        await deps.streams?.opened(host.name);
      } else if (msg.msg.case === "batch") {
        if (!host) throw new CollectorError(CollectorErrors.PROTOCOL, "the first message on a stream must be Hello");
        const b = msg.msg.value;
        const checks = validateBatch(b, limits);
        // Declarations count even when the batch is refused for its time: the agent will not repeat them on this stream.
        await declareSeries(b, host, table, deps);
        const rejected = timeRejection(b, deps);
        if (rejected) {
          log.warn({ host: host.name, seq: Number(b.seq) }, rejected);
          ack(b.seq, rejected);
          continue;
        }
        if (deps.storage.full() && deps.clock.now() - lastSlowAt >= SLOW_DOWN_MS) {
          lastSlowAt = deps.clock.now();
          stats.slowDowns++;
          send(create(CollectorMessageSchema, { msg: { case: "slow", value: { downMs: SLOW_DOWN_MS } } }));
        }
        const { committed, series, values } = await ingestBatch(b, checks, host, streamId, table, deps);
        const h = host;
        committed.then(
          ({ conflicts }) => {
            if (conflicts > 0) log.warn({ host: h.name, seq: Number(b.seq), conflicts }, "conflicting points");
            ack(b.seq);
            deps.observer?.({ host: h.name, intervalMs: h.intervalMs, timeMs: Number(b.timeMs), series, values, checks });
          },
          (err: Error) => {
            if (isRefusal(err)) return refuse(err);
            log.warn({ host: h.name, seq: Number(b.seq), err: err.message }, "batch not committed; closing stream so the agent resends");
            fail(grpc.status.UNAVAILABLE, err.message);
          },
        );
      } else {
        throw new CollectorError(CollectorErrors.PROTOCOL, "empty AgentMessage");
      }
    }
    if (!failed) call.end();
  } catch (err) {
    if (isRefusal(err)) {
      refuse(err);
    } else if (err instanceof CollectorError && err.code === CollectorErrors.PROTOCOL) {
      stats.protocolErrors++;
      log.warn({ host: host?.name, peer: call.getPeer(), err: err.message }, "protocol error from agent");
      fail(grpc.status.INVALID_ARGUMENT, err.message);
    } else if (err instanceof CollectorError && (err.code === CollectorErrors.UNAUTHORIZED_HOST || err.code === CollectorErrors.AGENT_IDENTITY)) {
      if (err.code === CollectorErrors.UNAUTHORIZED_HOST) stats.authFailures++;
      log.warn({ peer: call.getPeer(), err: err.message }, "agent rejected");
      fail(grpc.status.PERMISSION_DENIED, err.message);
    } else if (!call.cancelled) {
      log.warn({ host: host?.name, err: (err as Error).message }, "agent stream failed");
      fail(grpc.status.UNAVAILABLE, (err as Error).message);
    }
  } finally {
    clearTimeout(helloTimer);
    stats.streamsOpen--;
    if (host) deps.streams?.closed(host.name);
  }
}

async function welcome(h: Hello, who: Identity, deps: AgentStreamDeps, send: (m: CollectorMessage) => void): Promise<StreamHost> {
  const now = deps.clock.now();
  const v = validateHello(h, now);
  if (!who.anyHost && who.name !== v.hostname) {
    throw new CollectorError(CollectorErrors.UNAUTHORIZED_HOST, `this token is for host ${JSON.stringify(who.name)}, not ${JSON.stringify(v.hostname)}`);
  }
  const claim = { hostname: v.hostname, agentId: v.agentId, anyHost: who.anyHost };
  let previous: HostOwner | undefined;
  const reg = await deps.storage.registerHost<IdentityRefusal>(
    { name: v.hostname, agentId: v.agentId, labels: h.labels, agentVersion: h.agentVersion, os: h.os, kernel: h.kernel, cpuCount: h.cpuCount, intervalMs: v.intervalMs, bootTimeMs: v.bootTimeMs, tokenBound: !who.anyHost },
    (owner) => {
      const d = decideIdentity(claim, owner, now, deps.limits.allowAgentIdChange);
      if (!d.ok) return { ...d, owner };
      if (d.takeover) previous = owner;
      return undefined;
    },
  );
  if (!reg.ok) {
    const r = reg.refusal;
    countBy(deps.stats.identityRefusals, r.reason);
    deps.log.warn(
      { host: v.hostname, agentId: v.agentId, ownerAgentId: r.owner.agentId, anyHostToken: who.anyHost, reason: r.reason, code: CollectorErrors.AGENT_IDENTITY },
      "agent identity refused",
    );
    throw new CollectorError(CollectorErrors.AGENT_IDENTITY, r.message);
  }
  if (previous) {
    deps.stats.agentIdChanges++;
    deps.log.warn({ host: v.hostname, agentId: v.agentId, previousAgentId: previous.agentId }, "host moved to a new agent id");
  }
  deps.log.info({ host: v.hostname, agentId: v.agentId, agentVersion: h.agentVersion, lastSeq: reg.lastSeq }, "agent connected");
  send(
    create(CollectorMessageSchema, {
      msg: {
        case: "welcome",
        value: { collectorId: deps.collectorId, serverTimeMs: BigInt(deps.clock.now()), lastCommittedSeq: BigInt(reg.lastSeq) },
      },
    }),
  );
  return { id: reg.id, name: v.hostname, intervalMs: v.intervalMs };
}

/** Stores the batch's new declarations, once its refs are known to be sound; nothing is created past the bounds. */
async function declareSeries(b: Batch, host: StreamHost, table: StreamSeriesTable, deps: AgentStreamDeps): Promise<void> {
  const fresh = table.newDeclarations(b);
  table.checkRefs(b, fresh);
  if (fresh.length === 0) return;
  const r = await deps.storage.resolveSeries(host.id, fresh, deps.limits.maxSeriesPerHost);
  if ("overLimit" in r) {
    throw new IngestRefusal(
      "series_per_host",
      `batch seq ${b.seq}: declare: host ${JSON.stringify(host.name)} would have ${r.overLimit} series (limit ingest.max_series_per_host = ${deps.limits.maxSeriesPerHost})`,
      CollectorErrors.INGEST_LIMIT,
    );
  }
  table.bind(fresh, r.ids);
}

/** Why a batch is refused for its time (acked as rejected, so the agent drops it), or undefined. */
function timeRejection(b: Batch, deps: AgentStreamDeps): string | undefined {
  const { limits, stats } = deps;
  const age = deps.clock.now() - Number(b.timeMs);
  if (-age > limits.maxFutureSkewMs) {
    stats.batchesRejectedFuture++;
    return `batch seq ${b.seq} is stamped ${Math.round(-age / 1000)}s in the future (limit ${limits.maxFutureSkewMs / 1000}s): fix the host's clock`;
  }
  if (age > limits.maxPastAgeMs) {
    stats.batchesRejectedPast++;
    return `batch seq ${b.seq} is ${formatDuration(Math.round(age / 1000) * 1000)} old, older than ingest.max_past_age (${formatDuration(limits.maxPastAgeMs)})`;
  }
  return undefined;
}

type Ingested = { committed: Promise<{ conflicts: number }> } & Pick<CommittedBatch, "series" | "values">;

async function ingestBatch(b: Batch, checks: CheckRun[], host: StreamHost, streamId: number, table: StreamSeriesTable, deps: AgentStreamDeps): Promise<Ingested> {
  deps.stats.batchesReceived++;
  const points = table.points(b);
  deps.stats.pointsReceived += b.values.length;
  if (points.nonFinite > 0) {
    deps.stats.pointsRejectedNonFinite += points.nonFinite;
    deps.log.warn({ host: host.name, seq: Number(b.seq), dropped: points.nonFinite }, "dropped NaN/Inf values");
  }
  const { committed } = await deps.storage.enqueue({
    hostId: host.id,
    streamId,
    seq: Number(b.seq),
    timeMs: Number(b.timeMs),
    seriesIds: points.series.map((s) => s.id),
    values: points.values,
    checks,
  });
  return { committed, series: points.series, values: points.values };
}
