import type { Clock, Logger } from "@vigil/shared";
import type { DeliveryStore, OutboxEntry } from "../ports.js";
import type { DeliveryResult, Receiver } from "../types.js";
import { retryDelay, type BackoffPolicy } from "./backoff-policy.js";
import { CircuitBreaker, type BreakerOptions, type BreakerState } from "./circuit-breaker.js";

export interface DeliveryWorkerOptions {
  store: DeliveryStore;
  receivers: Map<string, Receiver>;
  clock: Clock;
  log: Logger;
  /** Unique per collector process (claims are recorded under it). */
  workerId: string;
  pollMs: number;
  batchSize: number;
  /** A notification still failing this long after it was created is dead-lettered. Default 24 h. */
  maxAgeMs?: number;
  backoff: BackoffPolicy;
  breaker: BreakerOptions;
  /** Per send; the receiver gets an AbortSignal that fires then. */
  timeoutMs: number;
  /** Jitter source in [0, 1); injectable for tests. */
  random?: () => number;
  /** Applied to every error before it is stored (last_error), logged or kept by a circuit breaker: the collector
   * passes its configuration's redaction, so no secret reaches the notification log. */
  redact?: (text: string) => string;
}

export interface DeliveryStats {
  delivered: number;
  /** Skipped because notification_log already had the content. */
  duplicates: number;
  retried: number;
  dead: number;
  /** Put back without an attempt because the receiver's circuit was open. */
  postponed: number;
  breakerOpens: number;
}

const DAY_MS = 24 * 3_600_000;

/**
 * Delivers the outbox: claims due rows, sends each to its receiver (rows of one receiver in order, receivers in
 * parallel), and records the outcome. At-least-once towards receivers, deduplicated by content through the
 * notification log; per-receiver circuit breakers keep a receiver that is down from being hammered.
 */
export class DeliveryWorker {
  readonly stats: DeliveryStats = { delivered: 0, duplicates: 0, retried: 0, dead: 0, postponed: 0, breakerOpens: 0 };
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly maxAgeMs: number;
  private readonly random: () => number;
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;

  constructor(private readonly opts: DeliveryWorkerOptions) {
    this.maxAgeMs = opts.maxAgeMs ?? DAY_MS;
    this.random = opts.random ?? Math.random;
  }

  /** Circuit state of a receiver (closed when it never failed). */
  breakerState(receiver: string): BreakerState {
    return this.breakers.get(receiver)?.state(this.opts.clock.now()) ?? "closed";
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** New rows are waiting: poll now instead of at the next interval (notifications go out in milliseconds). */
  kick(): void {
    this.wake?.();
  }

  /** Stops polling and waits for the batch in progress (sends are bounded by timeoutMs); unsent rows are released. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    await this.loop;
    this.loop = null;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let full = false;
      try {
        full = (await this.runOnce()) >= this.opts.batchSize;
      } catch (err) {
        this.opts.log.warn({ err }, "notification delivery: polling the outbox failed");
      }
      if (!this.running) break;
      if (full) continue;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, this.opts.pollMs);
      });
      this.wake = null;
      this.timer = null;
    }
  }

  /** One poll: claims due rows and processes them all. Returns how many rows were claimed. */
  async runOnce(): Promise<number> {
    const claimedAt = this.opts.clock.now();
    const rows = await this.opts.store.claim(this.opts.workerId, this.opts.batchSize, claimedAt);
    const byReceiver = new Map<string, OutboxEntry[]>();
    for (const r of rows) {
      const list = byReceiver.get(r.receiver) ?? [];
      list.push(r);
      byReceiver.set(r.receiver, list);
    }
    const settled = await Promise.allSettled(
      [...byReceiver.values()].map(async (list) => {
        for (const row of list) await this.process(row, claimedAt);
      }),
    );
    // A row whose outcome could not be recorded stays `sending` and is claimed again after the lease.
    for (const s of settled) if (s.status === "rejected") throw s.reason;
    return rows.length;
  }

  private breaker(receiver: string): CircuitBreaker {
    let b = this.breakers.get(receiver);
    if (!b) this.breakers.set(receiver, (b = new CircuitBreaker(this.opts.breaker)));
    return b;
  }

  private async process(row: OutboxEntry, claimedAt: number): Promise<void> {
    const { store, clock } = this.opts;
    const now = clock.now();
    // Stopping, or so far into the lease that another collector may claim the row soon: give it back unsent.
    if ((this.loop && !this.running) || now - claimedAt > store.leaseMs / 2) {
      await store.release(row.id, now);
      return;
    }
    if (await store.alreadyDelivered(row.groupKey, row.receiver, row.contentHash)) {
      await store.markDelivered(row.id, row.contentHash, now, { sent: false });
      this.stats.duplicates++;
      this.opts.log.debug({ notification: row.id, receiver: row.receiver }, "notification already delivered: skipped");
      return;
    }
    const receiver = this.opts.receivers.get(row.receiver);
    if (!receiver) {
      await this.deadLetter(row, `receiver ${JSON.stringify(row.receiver)} is not configured`, false);
      return;
    }
    const breaker = this.breaker(row.receiver);
    if (!breaker.allow(now)) {
      if (now - row.createdAt >= this.maxAgeMs) await this.deadLetter(row, `circuit open: ${breaker.lastError ?? "receiver failing"}`, false);
      else {
        await store.release(row.id, breaker.retryAt(now));
        this.stats.postponed++;
      }
      return;
    }
    const result = this.redacted(await this.send(receiver, row));
    const done = clock.now();
    if (result.outcome === "delivered") {
      breaker.success();
      await store.markDelivered(row.id, row.contentHash, done);
      this.stats.delivered++;
    } else if (result.outcome === "give_up") {
      breaker.success(); // it answered: up, but refusing this message
      await this.deadLetter(row, result.reason, true);
    } else {
      if (breaker.failure(done, result.reason)) {
        this.stats.breakerOpens++;
        this.opts.log.warn({ receiver: row.receiver, error: result.reason }, "notification receiver failing: circuit opened");
      }
      if (done - row.createdAt >= this.maxAgeMs) {
        await this.deadLetter(row, result.reason, true);
      } else {
        const delay = retryDelay(this.opts.backoff, row.attempts + 1, this.random, result.retryAfterMs);
        await store.markRetry(row.id, done + delay, result.reason);
        this.stats.retried++;
      }
    }
  }

  private redacted(r: DeliveryResult): DeliveryResult {
    const redact = this.opts.redact;
    if (!redact) return r;
    return r.outcome === "delivered" ? (r.detail === undefined ? r : { ...r, detail: redact(r.detail) }) : { ...r, reason: redact(r.reason) };
  }

  private async send(receiver: Receiver, row: OutboxEntry): Promise<DeliveryResult> {
    const { timeoutMs } = this.opts;
    const signal = AbortSignal.timeout(timeoutMs);
    // A receiver that ignores its signal must not hold the worker: the timeout wins the race either way.
    const timedOut = new Promise<DeliveryResult>((resolve) =>
      signal.addEventListener("abort", () => resolve({ outcome: "retry", reason: `timed out after ${timeoutMs} ms` }), { once: true }),
    );
    const sent = receiver.send(row.notification, signal).catch(
      (err: unknown): DeliveryResult => ({ outcome: "retry", reason: err instanceof Error ? err.message : String(err) }),
    );
    return Promise.race([sent, timedOut]);
  }

  private async deadLetter(row: OutboxEntry, error: string, attempted: boolean): Promise<void> {
    await this.opts.store.markDead(row.id, error, { attempted });
    this.stats.dead++;
    this.opts.log.error(
      { notification: row.id, receiver: row.receiver, groupKey: row.groupKey, kind: row.kind, attempts: row.attempts + (attempted ? 1 : 0), error },
      `notification ${row.id} to ${row.receiver} dead-lettered: ${error}`,
    );
  }
}
