// The collector's one subscribed Redis connection: every cluster channel it listens to (host moves, alert commands)
// shares it, since a subscribed connection serves nothing else. It queues subscriptions until Redis is reachable and
// renews them after each reconnect; no short command timeout here: a slow SUBSCRIBE answer is no failure.
import type { Redis } from "ioredis";
import type { Logger } from "@vigil/shared";

const SUBSCRIBE_TIMEOUT_MS = 30_000;

export class ClusterSubscriber {
  private readonly handlers = new Map<string, (message: string) => void>();
  private connection: Redis | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly log: Logger,
  ) {}

  /** Calls `onMessage` with each message published on `channel` (one listener a channel). */
  listen(channel: string, onMessage: (message: string) => void): void {
    if (this.handlers.has(channel)) throw new Error(`${channel}: already listened to`);
    this.handlers.set(channel, onMessage);
    this.subscriber()
      .subscribe(channel)
      .catch((err: Error) => this.log.warn({ channel, err: err.message }, "cannot subscribe to a cluster channel"));
  }

  stop(): void {
    this.connection?.disconnect();
    this.connection = null;
    this.handlers.clear();
  }

  private subscriber(): Redis {
    if (this.connection) return this.connection;
    const sub = this.redis.duplicate({ enableOfflineQueue: true, commandTimeout: SUBSCRIBE_TIMEOUT_MS });
    sub.on("error", () => undefined);
    sub.on("message", (channel: string, message: string) => this.handlers.get(channel)?.(message));
    this.connection = sub;
    return sub;
  }
}
