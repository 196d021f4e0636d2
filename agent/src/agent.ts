// The agent's composition root.
import { create } from "@bufbuild/protobuf";
import { HelloSchema } from "@vigil/proto";
import { formatHostPort, systemClock, VIGIL_VERSION, type Clock, type Logger } from "@vigil/shared";
import { createCheck } from "./checks/config.js";
import { CheckScheduler } from "./checks/scheduler.js";
import type { CheckResult } from "./checks/types.js";
import { AgentSelfSource } from "./collectors/agent-self.js";
import { defaultSources } from "./collectors/index.js";
import { SyntheticSource } from "./collectors/synthetic.js";
import type { MetricSource } from "./collectors/types.js";
import type { AgentConfig } from "./config.js";
import { hostFacts } from "./host-facts.js";
import { Sampler } from "./sampler.js";
import { SeriesTable } from "./series-table.js";
import { Spool } from "./spool/index.js";
import { CollectorLink } from "./transport/collector-link.js";
import { channelSetup, readToken } from "./transport/credentials.js";

export interface AgentOptions {
  config: AgentConfig;
  log: Logger;
  clock?: Clock;
  sources?: MetricSource[];
}

export interface RunningAgent {
  spool: Spool;
  /** Applies a new configuration: sampling and the collector stream restart; the spool and its backlog stay. */
  reload(config: AgentConfig): void;
  stop(): Promise<void>;
}

interface Parts {
  sampler: Sampler;
  link: CollectorLink;
  checks: CheckScheduler;
}

export function startAgent({ config, log, clock = systemClock, sources = defaultSources() }: AgentOptions): RunningAgent {
  const facts = hostFacts();
  const series = new SeriesTable();
  const spool = Spool.open({ dir: config.spool.dir, maxBytes: config.spool.max_bytes, maxAgeMs: config.spool.max_age, fsync: config.spool.fsync, clock, log });
  let parts: Parts;

  const build = (c: AgentConfig): Parts => {
    const link = new CollectorLink({
      targets: c.collector,
      channel: channelSetup(c.tls),
      token: readToken(c),
      series,
      spool,
      clock,
      log,
      hello: () =>
        create(HelloSchema, {
          agentId: facts.agentId,
          hostname: c.hostname,
          agentVersion: VIGIL_VERSION,
          labels: c.labels,
          bootTimeMs: BigInt(Math.round(facts.bootTimeMs)),
          intervalMs: c.interval,
          os: facts.os,
          kernel: facts.kernel,
          cpuCount: facts.cpuCount,
        }),
    });
    const self = new AgentSelfSource(() => ({ spool: spool.stats, link: link.state }));
    let checkResults: CheckResult[] = [];
    const checks = new CheckScheduler({ checks: c.checks.map(createCheck), clock, log, onResult: (r) => checkResults.push(r) });
    // Seqs continue after the spool's, and are at least the start time in ms: a restarted agent whose spool was
    // lost still never reuses a seq (it ticked at most once a second since its previous start).
    const sampler = new Sampler({
      sources: [...sources, ...(Object.keys(c.synthetic).length > 0 ? [new SyntheticSource(c.synthetic)] : []), self],
      series,
      intervalMs: c.interval,
      clock,
      log,
      firstSeq: Math.max(spool.lastSeq() + 1, clock.now()),
      takeCheckResults: () => {
        const taken = checkResults;
        checkResults = [];
        return taken;
      },
      onBatch: (b) => {
        spool.append(b, (ref) => series.def(ref));
        link.send(b);
      },
    });
    link.start();
    sampler.start();
    checks.start();
    return { sampler, link, checks };
  };

  parts = build(config);
  log.info({ collector: config.collector.map(formatHostPort).join(","), hostname: config.hostname, interval: config.interval, spool: config.spool.dir, version: VIGIL_VERSION }, "agent started");
  return {
    spool,
    reload(next) {
      const old = parts;
      old.sampler.stop();
      old.checks.stop();
      void old.link.stop();
      log.level = next.log_level;
      parts = build(next);
      log.info({ collector: next.collector.map(formatHostPort).join(","), interval: next.interval }, "configuration reloaded");
    },
    async stop() {
      parts.sampler.stop();
      parts.checks.stop();
      await parts.link.stop();
      spool.close();
    },
  };
}
