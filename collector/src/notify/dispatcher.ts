import type { Clock, Logger } from "@vigil/shared";
import type { AlertEvent } from "../rules/types.js";
import { contentHash } from "./delivery/content-hash.js";
import type { DispatchPersistence } from "./ports.js";
import type { NotificationPolicy } from "./routing/index.js";

export interface DispatcherOptions {
  policy: NotificationPolicy;
  persistence: DispatchPersistence;
  clock: Clock;
  log: Logger;
  tickMs?: number;
  /** New outbox rows exist (wake the delivery worker). */
  onEnqueued(): void;
}

/**
 * Feeds alert transitions to the notification policy and turns what it decides into outbox rows. It steps at once
 * when transitions arrive (a group_wait of 0 pages in milliseconds) and on a timer for group_wait, group_interval,
 * repeats and escalation. Steps never overlap, so the policy's state and the outbox stay in order.
 */
export class Dispatcher {
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private dirty = false;

  constructor(private readonly opts: DispatcherOptions) {}

  start(): void {
    this.timer = setInterval(() => this.step(), this.opts.tickMs ?? 250);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.chain;
  }

  onAlertEvents(events: readonly AlertEvent[]): void {
    // Not started: no receivers are configured, so there is nobody to decide for.
    if (events.length === 0 || !this.timer) return;
    this.opts.policy.onAlertEvents(events);
    this.dirty = true;
    this.step();
  }

  /** Resolves once everything decided so far is in the outbox. */
  flushed(): Promise<void> {
    return this.chain;
  }

  private step(): void {
    this.chain = this.chain
      .then(async () => {
        const due = this.opts.policy.tick();
        if (due.length === 0 && !this.dirty) return;
        this.dirty = false;
        const items = due.map((n) => ({ notification: n, contentHash: contentHash(n) }));
        await this.opts.persistence.commit(items, this.opts.policy.state());
        if (due.length > 0) this.opts.onEnqueued();
      })
      .catch((err: Error) => this.opts.log.error({ err: err.message }, "failed to queue notifications; they will be decided again"));
  }
}
