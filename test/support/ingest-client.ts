// A raw gRPC ingest client for tests that need what the agent binary hides: the exact status a stream ends with,
// and hand-made (even invalid) messages.
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import {
  AgentMessageSchema,
  CheckStatus,
  HelloSchema,
  IngestClient,
  ingestServiceDefinition,
  type AgentMessage,
  type CollectorMessage,
} from "@vigil/proto";

export { grpc, create, AgentMessageSchema, IngestClient, ingestServiceDefinition, type AgentMessage, type CollectorMessage };

export interface StreamEnd {
  code: grpc.status;
  details: string;
}

/** One Connect stream: every message received is kept, `ended` settles with the final status. */
export class RawStream {
  readonly received: CollectorMessage[] = [];
  readonly ended: Promise<StreamEnd>;
  private waiters: { pred: (m: CollectorMessage) => boolean; resolve: (m: CollectorMessage) => void }[] = [];

  constructor(readonly call: grpc.ClientDuplexStream<AgentMessage, CollectorMessage>) {
    call.on("data", (m: CollectorMessage) => {
      this.received.push(m);
      for (const w of [...this.waiters]) {
        if (w.pred(m)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    });
    this.ended = new Promise((resolve) => {
      // grpc-js reports a non-OK end as 'error' (a ServiceError) and always emits 'status' too; take the first.
      call.on("error", (err: grpc.ServiceError) => resolve({ code: err.code, details: err.details }));
      call.on("status", (s: grpc.StatusObject) => resolve({ code: s.code, details: s.details }));
    });
  }

  send(m: AgentMessage): void {
    this.call.write(m);
  }

  /** The first message (already received or yet to come) matching `pred`; fails if the stream ends first. */
  async next(pred: (m: CollectorMessage) => boolean, what: string, timeoutMs = 10_000): Promise<CollectorMessage> {
    const seen = this.received.find(pred);
    if (seen) return seen;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        new Promise<CollectorMessage>((resolve) => this.waiters.push({ pred, resolve })),
        this.ended.then((e) => Promise.reject(new Error(`stream ended (${grpc.status[e.code]}: ${e.details}) before ${what}`))),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The stream's final status, within the time limit. */
  async end(timeoutMs = 10_000): Promise<StreamEnd> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.ended,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("timed out waiting for the stream to end")), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.call.cancel();
  }
}

export function makeClient(address: string, credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure()): IngestClient {
  return new IngestClient(address, credentials);
}

/** Opens a stream, with the token in `authorization` metadata as the agent sends it. */
export function openStream(client: IngestClient, token?: string): RawStream {
  const md = new grpc.Metadata();
  if (token !== undefined) md.set("authorization", `Bearer ${token}`);
  return new RawStream(client.connect(md));
}

export function hello(hostname: string): AgentMessage {
  return create(AgentMessageSchema, {
    msg: {
      case: "hello",
      value: create(HelloSchema, { agentId: `raw-${hostname}`, hostname, agentVersion: "test", intervalMs: 1000, os: "linux", cpuCount: 1 }),
    },
  });
}

export interface BatchInit {
  /** bigint too, for values past 2^53 (hostile tests). */
  seq: bigint | number;
  timeMs: bigint | number;
  declare?: { ref: number; metric: string; labels?: Record<string, string> }[];
  refs?: number[];
  values?: number[];
  checks?: { name: string; kind?: string; status?: CheckStatus; durationSeconds?: number; message?: string; timeMs: bigint | number }[];
}

export function batch(b: BatchInit): AgentMessage {
  return create(AgentMessageSchema, {
    msg: {
      case: "batch",
      value: {
        seq: BigInt(b.seq),
        timeMs: BigInt(b.timeMs),
        declare: (b.declare ?? []).map((d) => ({ ref: d.ref, metric: d.metric, labels: d.labels ?? {} })),
        refs: b.refs ?? [],
        values: b.values ?? [],
        checks: (b.checks ?? []).map((c) => ({
          name: c.name,
          kind: c.kind ?? "tcp",
          status: c.status ?? CheckStatus.HEALTHY,
          durationSeconds: c.durationSeconds ?? 0.01,
          message: c.message ?? "ok",
          timeMs: BigInt(c.timeMs),
        })),
      },
    },
  });
}

export const isWelcome = (m: CollectorMessage): boolean => m.msg.case === "welcome";
export const isAck = (seq: number) => (m: CollectorMessage): boolean => m.msg.case === "ack" && m.msg.value.seq === BigInt(seq);

/**
 * Opens a stream, sends Hello, and reports whether the collector welcomed it or how the stream ended; a welcomed
 * stream is cancelled (the collector would otherwise wait for batches).
 */
export async function helloOutcome(client: IngestClient, hostname: string, token?: string): Promise<{ welcomed: true } | { welcomed: false; end: StreamEnd }> {
  const s = openStream(client, token);
  s.send(hello(hostname));
  const r = await Promise.race([s.next(isWelcome, "Welcome").then(() => "welcomed" as const, () => s.end()), s.end()]);
  if (r === "welcomed") {
    s.close();
    return { welcomed: true };
  }
  return { welcomed: false, end: r };
}

/**
 * A client for the Ingest method whose request serializer passes raw bytes through unchanged, so a test can put
 * bytes on the wire that are not an AgentMessage at all.
 */
export function makeRawBytesClient(address: string): grpc.Client & { connect(md: grpc.Metadata): grpc.ClientDuplexStream<Buffer, CollectorMessage> } {
  const def = {
    connect: { ...ingestServiceDefinition.connect, requestSerialize: (b: Buffer) => b },
  } satisfies grpc.ServiceDefinition;
  const Ctor = grpc.makeGenericClientConstructor(def, "IngestRawBytes");
  // makeGenericClientConstructor types its methods loosely; this is the shape it builds for a bidi method.
  return new Ctor(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    connect(md: grpc.Metadata): grpc.ClientDuplexStream<Buffer, CollectorMessage>;
  };
}
