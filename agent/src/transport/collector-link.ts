import { once } from "node:events";
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { AgentMessageSchema, IngestClient, type AgentMessage, type CollectorMessage, type Hello } from "@vigil/proto";
import { Backoff, type Clock, type Logger } from "@vigil/shared";
import type { PendingBatch } from "../batch.js";
import type { SeriesTable } from "../series-table.js";
import type { PendingQueue } from "./pending-queue.js";

export interface CollectorLinkOptions {
  address: string;
  credentials: grpc.ChannelCredentials;
  hello: () => Hello;
  series: SeriesTable;
  pending: PendingQueue;
  clock: Clock;
  log: Logger;
  backoff?: Backoff;
}

export interface LinkState {
  connected: boolean;
  /** Collector time minus agent time, from the last Welcome (ms). */
  skewMs: number;
  lastAckedSeq: number;
}

type Call = grpc.ClientDuplexStream<AgentMessage, CollectorMessage>;

/**
 * The agent's one stream to the collector: Hello, then every pending batch in order, new ones as they come;
 * acks release batches. On any failure it reconnects with backoff and resends whatever was not acked.
 */
export class CollectorLink {
  readonly state: LinkState = { connected: false, skewMs: 0, lastAckedSeq: 0 };
  private readonly client: IngestClient;
  private readonly backoff: Backoff;
  private call: Call | undefined;
  private declared = new Set<number>();
  private sentThrough = 0;
  private welcomed = false;
  private sending = false;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: CollectorLinkOptions) {
    this.client = new IngestClient(opts.address, opts.credentials, {
      "grpc.keepalive_time_ms": 20_000,
      "grpc.keepalive_timeout_ms": 10_000,
      "grpc.max_send_message_length": 16 * 1024 * 1024,
    });
    this.backoff = opts.backoff ?? new Backoff({ initialMs: 500, maxMs: 30_000 });
  }

  start(): void {
    this.connect();
  }

  /** A new tick's batch is in the pending queue: send it if the stream is up. */
  flush(): void {
    void this.sendPending();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const call = this.call;
    if (call) {
      call.end();
      // Give in-flight acks a moment so a clean stop leaves little to resend.
      await Promise.race([once(call, "close").catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
      call.cancel();
    }
    this.client.close();
  }

  private connect(): void {
    if (this.stopped) return;
    const call = this.client.connect(new grpc.Metadata());
    this.call = call;
    this.declared = new Set();
    this.sentThrough = 0;
    this.welcomed = false;
    call.on("data", (m: CollectorMessage) => this.onMessage(m));
    call.on("error", (err: grpc.ServiceError) => this.onClosed(call, `${grpc.status[err.code] ?? err.code}: ${err.details || err.message}`));
    call.on("end", () => this.onClosed(call, "collector ended the stream"));
    call.write(create(AgentMessageSchema, { msg: { case: "hello", value: this.opts.hello() } }));
  }

  private onMessage(m: CollectorMessage): void {
    switch (m.msg.case) {
      case "welcome": {
        const w = m.msg.value;
        this.state.connected = true;
        this.state.skewMs = Number(w.serverTimeMs) - this.opts.clock.now();
        this.welcomed = true;
        this.backoff.reset();
        const committed = Number(w.lastCommittedSeq);
        this.opts.pending.ackThrough(committed);
        this.opts.log.info({ collector: w.collectorId, lastCommittedSeq: committed, pending: this.opts.pending.size }, "connected to collector");
        void this.sendPending();
        break;
      }
      case "ack":
        this.state.lastAckedSeq = Number(m.msg.value.seq);
        this.opts.pending.ackThrough(this.state.lastAckedSeq);
        break;
      case "slow":
        // Handled by spooling in a later version; the stream's own flow control already holds writes.
        break;
    }
  }

  private onClosed(call: Call, reason: string): void {
    if (call !== this.call) return;
    this.call = undefined;
    this.state.connected = false;
    this.welcomed = false;
    call.removeAllListeners("data");
    if (this.stopped) return;
    const delay = this.backoff.next();
    this.opts.log.warn({ reason, retryInMs: delay, pending: this.opts.pending.size }, "collector stream closed; reconnecting");
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private async sendPending(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.welcomed && this.call) {
        const call = this.call;
        const next = this.opts.pending.after(this.sentThrough);
        if (next.length === 0) break;
        for (const b of next) {
          if (call !== this.call || !this.welcomed) break;
          this.sentThrough = b.seq;
          if (!call.write(this.toMessage(b))) await Promise.race([once(call, "drain"), once(call, "close")]);
        }
      }
    } finally {
      this.sending = false;
    }
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
      msg: { case: "batch", value: { seq: BigInt(b.seq), timeMs: BigInt(b.timeMs), declare, refs: b.refs, values: b.values } },
    });
  }
}
