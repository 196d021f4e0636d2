// The agent's composition root.
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { HelloSchema } from "@vigil/proto";
import { systemClock, VIGIL_VERSION, type Clock, type Logger } from "@vigil/shared";
import { defaultSources } from "./collectors/index.js";
import type { MetricSource } from "./collectors/types.js";
import type { AgentConfig } from "./config.js";
import { hostFacts } from "./host-facts.js";
import { Sampler } from "./sampler.js";
import { SeriesTable } from "./series-table.js";
import { CollectorLink } from "./transport/collector-link.js";
import { PendingQueue } from "./transport/pending-queue.js";

export interface AgentOptions {
  config: AgentConfig;
  log: Logger;
  clock?: Clock;
  sources?: MetricSource[];
}

export interface RunningAgent {
  link: CollectorLink;
  pending: PendingQueue;
  stop(): Promise<void>;
}

// One day of ticks at 10 s; beyond that the oldest are dropped (and counted) rather than growing memory.
const MAX_PENDING_BATCHES = 8640;

export function startAgent({ config, log, clock = systemClock, sources = defaultSources() }: AgentOptions): RunningAgent {
  const facts = hostFacts();
  const series = new SeriesTable();
  const pending = new PendingQueue(MAX_PENDING_BATCHES);
  const link = new CollectorLink({
    address: config.collector,
    credentials: grpc.credentials.createInsecure(),
    series,
    pending,
    clock,
    log,
    hello: () =>
      create(HelloSchema, {
        agentId: facts.agentId,
        hostname: config.hostname,
        agentVersion: VIGIL_VERSION,
        labels: config.labels,
        bootTimeMs: BigInt(Math.round(facts.bootTimeMs)),
        intervalMs: config.intervalMs,
        os: facts.os,
        kernel: facts.kernel,
        cpuCount: facts.cpuCount,
      }),
  });
  // Seqs start at the start time in ms: larger than any seq a previous run of this agent used (it ticked at most
  // once a second since its own start), so a restarted agent never reuses a seq the collector already committed.
  const sampler = new Sampler({
    sources,
    series,
    intervalMs: config.intervalMs,
    clock,
    log,
    firstSeq: clock.now(),
    onBatch: (b) => {
      pending.push(b);
      link.flush();
    },
  });
  link.start();
  sampler.start();
  log.info({ collector: config.collector, hostname: config.hostname, intervalMs: config.intervalMs, version: VIGIL_VERSION }, "agent started");
  return {
    link,
    pending,
    async stop() {
      sampler.stop();
      await link.stop();
    },
  };
}
