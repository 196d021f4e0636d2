import { once } from "node:events";
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { AgentMessageSchema, CheckStatus, type AgentMessage, type CollectorMessage, type Hello } from "@vigil/proto";
import { Backoff, type Clock, type HostPort, type Logger } from "@vigil/shared";
import type { PendingBatch } from "../batch.js";
import { SeriesRefCache, type SeriesTable } from "../series-table.js";
import type { Spool, SpooledBatch } from "../spool/index.js";
import { CollectorCandidates, systemResolve } from "./collector-candidates.js";
import { CollectorDialer } from "./collector-dialer.js";
import type { ChannelSetup } from "./credentials.js";

export interface CollectorLinkOptions {
  /** The collectors to stream to, tried in turn (see collector-candidates.ts). */
  targets: readonly HostPort[];
  channel: ChannelSetup;
  token?: string;
  hello: () => Hello;
  series: SeriesTable;
  spool: Spool;
  clock: Clock;
  log: Logger;
  /** Backlog batches replayed per second after a reconnect, alongside live ticks. */
  replayPerSecond?: number;
  backoff?: Backoff;
}

export interface LinkState {
  connected: boolean;
  /** Collector time minus agent time at the last Welcome (ms). */
  skewMs: number;
  rejectedBatches: number;
  /** Welcomes from another collector than the previous one. */
  collectorSwitches: number;
}

type Call = grpc.ClientDuplexStream<AgentMessage, CollectorMessage>;

const SKEW_WARN_MS = 2000;
const PROTO_STATUS = { healthy: CheckStatus.HEALTHY, degraded: CheckStatus.DEGRADED, unhealthy: CheckStatus.UNHEALTHY } as const;
const REPLAY_WINDOW = 256; // backlog batches sent but not yet acked
const REPLAY_TICK_MS = 100;
const WELCOME_TIMEOUT_MS = 15_000;

/**
 * The agent's one stream to the collector. Every batch is in the spool before it is sent; an Ack removes it.
 * After (re)connecting, new ticks go out at once while the backlog (everything unacked from before) is replayed
 * in seq order at a bounded rate, so fresh data stays fresh and the collector is not flooded.
 */
export class CollectorLink {
  readonly state: LinkState = { connected: false, skewMs: 0, rejectedBatches: 0, collectorSwitches: 0 };
  private readonly dialer: CollectorDialer;
  /** The address of the collector that last sent a Welcome. */
  private welcomedBy: string | undefined;
  /** No attempt since the last Welcome: the next move leaves a collector the agent was streaming to. */
  private leavingWelcomed = false;
  private welcomeTimer: NodeJS.Timeout | undefined;
  private readonly candidates: CollectorCandidates;
  private readonly replayPerTick: number;
  private call: Call | undefined;
  private declared = new Set<number>();
  private welcomed = false;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private replayTimer: NodeJS.Timeout | undefined;
  /** Backlog is seq ≤ replayUntil; the replay has sent through replayCursor. */
  private replayUntil = 0;
  private replayCursor = 0;
  private inflightReplay = new Set<number>();
  private live: PendingBatch[] = [];
  private pausedUntil = 0;
  /** Replayed batches of a segment repeat the same series in the same order: refs without a key per point. */
  private readonly replayRefs: SeriesRefCache;

  constructor(private readonly opts: CollectorLinkOptions) {
    this.dialer = new CollectorDialer(opts.channel);
    this.candidates = new CollectorCandidates({
      targets: opts.targets,
      resolve: systemResolve,
      backoff: opts.backoff ?? new Backoff({ initialMs: 500, maxMs: 30_000 }),
      log: opts.log,
    });
    this.replayPerTick = Math.max(1, Math.round(((opts.replayPerSecond ?? 200) * REPLAY_TICK_MS) / 1000));
    this.replayRefs = new SeriesRefCache(opts.series);
  }

  start(): void {
    void this.connect();
  }

  /** A new tick, already in the spool: send it now if the stream is up (else it waits in the spool). */
  send(b: PendingBatch): void {
    if (!this.welcomed) return;
    this.live.push(b);
    this.sendLive();
    if (this.live.length > 0) this.armReplay(); // held by a Slow: flushed by the replay step once it ends
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.welcomeTimer);
    clearInterval(this.replayTimer);
    const call = this.call;
    if (call) {
      call.end();
      // A moment for in-flight acks, so a clean stop leaves little to resend.
      await Promise.race([once(call, "close").catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
      call.cancel();
    }
    this.dialer.drop();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const candidate = await this.candidates.next();
    if (this.stopped) return;
    if (!candidate) {
      this.retryLater({ reason: "no collector address resolved" }, "warn", "no collector to connect to; retrying");
      return;
    }
    const { client, movedFrom } = this.dialer.clientFor(candidate);
    if (movedFrom) {
      // Info when leaving a collector it streamed to; while all are down each failure is already a warning.
      const level = this.leavingWelcomed ? "info" : "debug";
      this.opts.log[level]({ from: movedFrom.address, to: candidate.address, collector: candidate.target }, "trying the next collector");
    }
    this.leavingWelcomed = false;
    const md = new grpc.Metadata();
    if (this.opts.token) md.set("authorization", `Bearer ${this.opts.token}`);
    const call = client.connect(md);
    this.call = call;
    this.declared = new Set();
    this.welcomed = false;
    call.on("data", (m: CollectorMessage) => this.onMessage(m));
    call.on("error", (err: grpc.ServiceError) => this.onClosed(call, err.code, err.details || err.message));
    call.on("end", () => this.onClosed(call, grpc.status.OK, "collector ended the stream"));
    call.write(create(AgentMessageSchema, { msg: { case: "hello", value: this.opts.hello() } }));
    // grpc-js has no handshake timeout: a peer that accepts TCP and then says nothing (a load balancer with a dead
    // backend) would hold the agent forever. No Welcome in time: drop the connection and start over.
    clearTimeout(this.welcomeTimer);
    this.welcomeTimer = setTimeout(() => {
      if (this.call !== call || this.welcomed) return;
      this.onClosed(call, grpc.status.DEADLINE_EXCEEDED, `no Welcome from the collector within ${WELCOME_TIMEOUT_MS / 1000}s`);
      call.cancel();
      this.dialer.drop();
    }, WELCOME_TIMEOUT_MS);
  }

  private onMessage(m: CollectorMessage): void {
    switch (m.msg.case) {
      case "welcome":
        return this.onWelcome(Number(m.msg.value.serverTimeMs), m.msg.value.collectorId, Number(m.msg.value.lastCommittedSeq));
      case "ack": {
        const seq = Number(m.msg.value.seq);
        if (m.msg.value.rejected) {
          this.state.rejectedBatches++;
          this.opts.log.warn({ seq, reason: m.msg.value.rejected }, "collector refused a batch; dropping it");
        }
        this.opts.spool.ack(seq);
        this.inflightReplay.delete(seq);
        return;
      }
      case "slow":
        this.pausedUntil = this.opts.clock.now() + m.msg.value.downMs;
        this.armReplay();
        return;
    }
  }

  private onWelcome(serverTimeMs: number, collectorId: string, lastCommittedSeq: number): void {
    clearTimeout(this.welcomeTimer);
    this.state.connected = true;
    this.state.skewMs = serverTimeMs - this.opts.clock.now();
    if (Math.abs(this.state.skewMs) > SKEW_WARN_MS) {
      this.opts.log.warn({ skewMs: this.state.skewMs }, "this host's clock differs from the collector's; points may be refused or misplaced");
    }
    this.welcomed = true;
    this.candidates.connected();
    const address = this.dialer.dialed?.address;
    const switchedFrom = this.welcomedBy !== undefined && this.welcomedBy !== address ? this.welcomedBy : undefined;
    if (switchedFrom !== undefined) this.state.collectorSwitches++;
    this.welcomedBy = address;
    this.leavingWelcomed = true;
    // Everything in the spool now is backlog: it was never acked (commits are idempotent, so resending is safe).
    this.replayUntil = this.opts.spool.lastSeq();
    this.replayCursor = 0;
    this.inflightReplay.clear();
    this.live = [];
    this.opts.log.info(
      { collector: collectorId, address, target: this.dialer.dialed?.target, switchedFrom, lastCommittedSeq, backlog: this.opts.spool.stats.pendingBatches },
      "connected to collector",
    );
    clearInterval(this.replayTimer);
    this.replayTimer = undefined;
    this.armReplay();
    this.replayStep();
  }

  /**
   * Runs the replay step every REPLAY_TICK_MS while it has work (a backlog, or live ticks held by a Slow);
   * replayStep disarms it when idle, so a caught-up agent does not wake up ten times a second for nothing.
   */
  private armReplay(): void {
    this.replayTimer ??= setInterval(() => this.replayStep(), REPLAY_TICK_MS);
  }

  private onClosed(call: Call, code: grpc.status, reason: string): void {
    if (call !== this.call) return;
    this.call = undefined;
    this.state.connected = false;
    this.welcomed = false;
    clearInterval(this.replayTimer);
    this.replayTimer = undefined;
    call.removeAllListeners("data");
    if (this.stopped) return;
    const level = code === grpc.status.UNAUTHENTICATED || code === grpc.status.PERMISSION_DENIED ? "error" : "warn";
    this.retryLater({ code: grpc.status[code] ?? code, reason, address: this.dialer.dialed?.address }, level, "collector stream closed; reconnecting");
  }

  /** After a failed attempt: the next candidate, after a pause (or the backoff, when a whole round failed). */
  private retryLater(fields: Record<string, unknown>, level: "warn" | "error", msg: string): void {
    const delay = this.candidates.failed();
    this.opts.log[level]({ ...fields, retryInMs: delay, spooled: this.opts.spool.stats.pendingBatches }, msg);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }

  private paused(): boolean {
    return this.opts.clock.now() < this.pausedUntil;
  }

  private sendLive(): void {
    const call = this.call;
    if (!call || !this.welcomed || this.paused()) return;
    while (this.live.length > 0) this.write(call, this.toMessage(this.live.shift()!));
  }

  private replayStep(): void {
    const call = this.call;
    if (!call || !this.welcomed || this.paused()) return;
    this.sendLive(); // live ticks held by a Slow go first
    if (this.replayCursor >= this.replayUntil) {
      clearInterval(this.replayTimer); // nothing left to do; send() and a Slow re-arm it
      this.replayTimer = undefined;
      return;
    }
    const room = Math.min(this.replayPerTick, REPLAY_WINDOW - this.inflightReplay.size);
    if (room <= 0) return;
    const page = this.opts.spool.readUnacked(this.replayCursor, room).filter((b) => b.seq <= this.replayUntil);
    for (const b of page) {
      this.inflightReplay.add(b.seq);
      this.replayCursor = b.seq;
      this.write(call, this.toMessage(this.fromSpool(b)));
    }
    if (page.length === 0 || this.replayCursor >= this.replayUntil) {
      this.replayCursor = this.replayUntil;
      this.opts.log.info("backlog replayed");
    }
  }

  private write(call: Call, msg: AgentMessage): void {
    // grpc-js buffers what HTTP/2 flow control holds back; the replay window bounds how much that can be.
    call.write(msg);
  }

  private fromSpool(b: SpooledBatch): PendingBatch {
    const refs: number[] = [];
    this.replayRefs.resolve(b.series, refs);
    return { seq: b.seq, timeMs: b.timeMs, refs, values: b.values, checks: b.checks };
  }

  private toMessage(b: PendingBatch): AgentMessage {
    const declare = [];
    for (const ref of b.refs) {
      if (this.declared.has(ref)) continue;
      this.declared.add(ref);
      const d = this.opts.series.def(ref);
      declare.push({ ref, metric: d.metric, labels: d.labels });
    }
    return create(AgentMessageSchema, {
      msg: {
        case: "batch",
        value: {
          seq: BigInt(b.seq),
          timeMs: BigInt(b.timeMs),
          declare,
          refs: b.refs,
          values: b.values,
          checks: (b.checks ?? []).map((c) => ({
            name: c.name,
            kind: c.kind,
            status: PROTO_STATUS[c.status],
            durationSeconds: c.durationMs / 1000,
            message: c.message,
            timeMs: BigInt(c.timeMs),
          })),
        },
      },
    });
  }
}
