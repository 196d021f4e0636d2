// "This collector took host X's stream", published to every collector of the cluster over Redis pub/sub, so the one
// the host left lets its alert state go (rules/host-streams.ts). Best effort by design: a lost message leaves stale
// state on the old collector, which evaluates nothing for a host that no longer streams to it. Messages are checked
// (size, fields) before use: anyone who can publish on the Redis can send one.
import type { Redis } from "ioredis";
import type { Logger } from "@vigil/shared";
import type { ClusterSubscriber } from "./subscriber.js";

export interface HostMovesOptions {
  redis: Redis;
  subscriber: ClusterSubscriber;
  /** The cluster's id: clusters sharing a Redis hear only their own. */
  cluster: string;
  /** This collector: its own announcements are ignored. */
  collectorId: string;
  log: Logger;
  onMovedAway(host: string): void;
}

const MAX_MESSAGE = 512;
const MAX_HOST = 253;

/** A move as published, or null when the message is not one. */
export function parseMove(message: string): { host: string; by: string } | null {
  if (message.length > MAX_MESSAGE) return null;
  let v: unknown;
  try {
    v = JSON.parse(message);
  } catch {
    return null;
  }
  if (typeof v !== "object" || v === null) return null;
  const { host, by } = v as Record<string, unknown>;
  if (typeof host !== "string" || typeof by !== "string" || host.length === 0 || host.length > MAX_HOST || by.length === 0) return null;
  return { host, by };
}

export class HostMoves {
  private readonly channel: string;
  private failing = false;

  constructor(private readonly opts: HostMovesOptions) {
    this.channel = `vigil:hosts:${opts.cluster}`;
  }

  start(): void {
    this.opts.subscriber.listen(this.channel, (message) => {
      const move = parseMove(message);
      if (move && move.by !== this.opts.collectorId) this.opts.onMovedAway(move.host);
    });
  }

  announce(host: string): void {
    this.opts.redis.publish(this.channel, JSON.stringify({ host, by: this.opts.collectorId })).then(
      () => (this.failing = false),
      (err: Error) => {
        if (!this.failing) this.opts.log.warn({ host, err: err.message }, "cannot announce a host's move; the collector it left keeps stale state until it hears of a later one");
        this.failing = true;
      },
    );
  }
}
