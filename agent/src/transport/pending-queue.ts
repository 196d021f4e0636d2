import type { PendingBatch } from "../batch.js";

/**
 * Batches sent or waiting to be sent, until acked. Bounded: when full, the oldest batch is dropped and counted,
 * so a long outage costs the oldest data, never the agent's memory.
 */
export class PendingQueue {
  private items: PendingBatch[] = [];
  dropped = 0;

  constructor(private readonly maxBatches: number) {}

  push(b: PendingBatch): void {
    this.items.push(b);
    while (this.items.length > this.maxBatches) {
      this.items.shift();
      this.dropped++;
    }
  }

  /** Acks arrive in commit order, so everything up to `seq` is stored. */
  ackThrough(seq: number): void {
    let n = 0;
    while (n < this.items.length && this.items[n]!.seq <= seq) n++;
    if (n > 0) this.items = this.items.slice(n);
  }

  after(seq: number): PendingBatch[] {
    return this.items.filter((b) => b.seq > seq);
  }

  get size(): number {
    return this.items.length;
  }
}
