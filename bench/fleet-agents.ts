// Worker of bench/fleet.ts (forked with node:child_process, driven over its IPC channel): holds a slice of the fleet's
// agent streams. Hand-written rather than the agent binary because 10,000 agent processes do not fit on one machine;
// the streams here speak the same protocol (Hello, declare, batches with seq, acks) but have no collection or spool.
//
// Channels: the streams share `channels` grpc-js clients, each with its own subchannel pool (so its own HTTP/2
// connection); a connection carries many streams. One TCP connection per stream (as real hosts have) would put 10,000
// sockets and HTTP/2 sessions in this process, which is the client's cost, not the collector's we want to measure.
//
// Slow (the collector's write queue is full) is counted, not obeyed: the real agent pauses and spools, which would
// hide an overload as late data; here the fleet's full load stays offered and shows as ack latency and lost batches.
import * as grpc from "@grpc/grpc-js";
import { performance } from "node:perf_hooks";
import { batch, hello, IngestClient, type AgentMessage, type CollectorMessage } from "../test/support/ingest-client.js";

export interface WorkerInit {
  address: string;
  /** Global index of this worker's first stream (hostnames are fleet-<index>). */
  first: number;
  count: number;
  channels: number;
  intervalMs: number;
  series: number;
  /** Streams with a global index below this inject threshold crossings in the steady phase. */
  crossers: number;
}
export type ToWorker = { type: "init"; init: WorkerInit } | { type: "steady" } | { type: "stop"; drainMs: number } | { type: "exit" };
export interface WorkerReport {
  sent: number;
  acked: number;
  rejected: number;
  slow: number;
  /** Streams not ended (no error, no status) when the report was made. */
  open: number;
  ackMs: { ramp: number[]; steady: number[] };
  errors: string[];
}
export type FromWorker =
  | { type: "up"; up: number; failed: number; errors: string[] }
  /** A threshold crossing left in a batch at `at` (epoch ms; same machine, so comparable with the parent's clock). */
  | { type: "cross"; host: string; at: number }
  | { type: "report"; report: WorkerReport };

const THRESHOLD_VALUE = 20; // the rule fires above 10 (bench/fleet.ts)
const OPEN_CONCURRENCY = 250; // Hellos in flight at once: a fleet reconnecting all at once is a different bench

const send = (m: FromWorker) => process.send?.(m);

interface Stream {
  host: string;
  index: number;
  call: grpc.ClientDuplexStream<AgentMessage, CollectorMessage>;
  seq: number;
  /** seq → performance.now() at send, until acked. */
  pending: Map<number, number>;
  ended: boolean;
  timer?: NodeJS.Timeout;
}

let init: WorkerInit;
let phase: "ramp" | "steady" | "stopping" = "ramp";
const streams: Stream[] = [];
const clients: IngestClient[] = [];
const report: WorkerReport = { sent: 0, acked: 0, rejected: 0, slow: 0, open: 0, ackMs: { ramp: [], steady: [] }, errors: [] };
const noteError = (e: string) => void (report.errors.length < 10 && report.errors.push(e));

function open(index: number): Promise<Stream | string> {
  const client = clients[index % clients.length]!;
  const host = `fleet-${index}`;
  const call = client.connect(new grpc.Metadata());
  const s: Stream = { host, index, call, seq: 0, pending: new Map(), ended: false };
  return new Promise((resolve) => {
    let welcomed = false;
    call.on("data", (m: CollectorMessage) => {
      if (m.msg.case === "welcome") {
        welcomed = true;
        resolve(s);
      } else if (m.msg.case === "ack") {
        const seq = Number(m.msg.value.seq);
        const at = s.pending.get(seq);
        if (m.msg.value.rejected) report.rejected++, noteError(`${host}: seq ${seq} rejected: ${m.msg.value.rejected}`);
        if (at === undefined) return;
        s.pending.delete(seq);
        report.acked++;
        report.ackMs[phase === "ramp" ? "ramp" : "steady"].push(performance.now() - at);
      } else if (m.msg.case === "slow") report.slow++;
    });
    const end = (what: string) => {
      if (s.ended) return;
      s.ended = true;
      clearInterval(s.timer);
      if (!welcomed) resolve(`${host}: ${what}`);
      else if (phase !== "stopping") noteError(`${host}: ended: ${what}`);
    };
    call.on("error", (e: grpc.ServiceError) => end(`${grpc.status[e.code]}: ${e.details}`));
    call.on("status", (st: grpc.StatusObject) => end(`${grpc.status[st.code]}: ${st.details}`));
    call.write(hello(host));
  });
}

const declare = (): { ref: number; metric: string; labels: Record<string, string> }[] =>
  Array.from({ length: init.series }, (_, k): { ref: number; metric: string; labels: Record<string, string> } =>
    // The last series is the alerting one (every host has it, as every host has the metrics default rules watch).
    k === init.series - 1 ? { ref: k + 1, metric: "bench.fire", labels: {} } : { ref: k + 1, metric: `bench.metric.${k % 25}`, labels: { idx: String(k) } },
  );

function tick(s: Stream): void {
  if (s.ended || phase === "stopping") return;
  const seq = ++s.seq;
  // A crosser crosses every third batch in the steady phase, then stays low two batches so the alert resolves first.
  const crossing = phase === "steady" && s.index < init.crossers && seq % 3 === 0;
  const refs = Array.from({ length: init.series }, (_, k) => k + 1);
  const values = refs.map((r) => (r === init.series ? (crossing ? THRESHOLD_VALUE : 0) : (r * 7 + seq) % 100));
  const now = Date.now();
  s.pending.set(seq, performance.now());
  s.call.write(batch({ seq, timeMs: now, declare: seq === 1 ? declare() : [], refs, values }));
  report.sent++;
  if (crossing) send({ type: "cross", host: s.host, at: now });
}

async function start(i: WorkerInit): Promise<void> {
  init = i;
  for (let c = 0; c < i.channels; c++) {
    clients.push(new IngestClient(i.address, grpc.credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 }));
  }
  let failed = 0;
  const failures: string[] = [];
  for (let k = 0; k < i.count; k += OPEN_CONCURRENCY) {
    const n = Math.min(OPEN_CONCURRENCY, i.count - k);
    const opened = await Promise.all(Array.from({ length: n }, (_, j) => open(i.first + k + j)));
    for (const o of opened) {
      if (typeof o === "string") {
        failed++;
        if (failures.length < 10) failures.push(o);
        continue;
      }
      streams.push(o);
      // Spread evenly over the interval (golden-ratio steps: even for any count, across workers too).
      const offset = ((o.index * 0.6180339887) % 1) * i.intervalMs;
      setTimeout(() => {
        tick(o);
        o.timer = setInterval(() => tick(o), i.intervalMs);
      }, offset);
    }
  }
  send({ type: "up", up: streams.length, failed, errors: failures });
}

async function stop(drainMs: number): Promise<void> {
  phase = "stopping";
  for (const s of streams) clearInterval(s.timer);
  const deadline = performance.now() + drainMs;
  while (performance.now() < deadline && streams.some((s) => s.pending.size > 0 && !s.ended)) await new Promise((r) => setTimeout(r, 100));
  report.open = streams.filter((s) => !s.ended).length;
  send({ type: "report", report });
}

process.on("message", (m: ToWorker) => {
  if (m.type === "init") void start(m.init);
  else if (m.type === "steady") phase = "steady";
  else if (m.type === "stop") void stop(m.drainMs);
  else {
    for (const s of streams) s.call.cancel();
    for (const c of clients) c.close();
    process.exit(0);
  }
});
