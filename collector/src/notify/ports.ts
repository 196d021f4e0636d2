// What notify/ needs from storage: the outbox (filled by the dispatcher, drained by the delivery worker, listed by the
// API) and the policy's saved state. Implemented in storage/, wired in service.ts; notify/ never imports storage/, and
// storage/ takes notify's types from here only.
import type { NotificationView } from "../api/ports.js";
import type { PolicySnapshot } from "./routing/index.js";
import type { Notification } from "./types.js";

export type { Notification, PolicySnapshot };

export type OutboxStatus = "pending" | "sending" | "delivered" | "dead";

/** A notification for the outbox, with the hash of what it says: the notification log lets each content out once. */
export interface OutboxItem {
  notification: Notification;
  contentHash: string;
}

/** An outbox row, times in epoch milliseconds. */
export interface OutboxEntry {
  id: string;
  receiver: string;
  groupKey: string;
  kind: string;
  notification: Notification;
  contentHash: string;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: number;
  claimedBy: string | null;
  claimedAt: number | null;
  lastError: string | null;
  createdAt: number;
  deliveredAt: number | null;
}

export interface OutboxFilter {
  alertId?: string;
  groupKey?: string;
  status?: OutboxStatus;
  limit: number;
}

/** The dispatcher's storage: outbox rows and the policy's state, written in one transaction. */
export interface DispatchPersistence {
  commit(items: readonly OutboxItem[], snapshot: PolicySnapshot): Promise<void>;
}

/** The dispatcher's storage, and the state it last committed (restored at start; undefined before the first commit). */
export interface NotifyStateStore extends DispatchPersistence {
  loadSnapshot(): Promise<PolicySnapshot | undefined>;
}

/** The outbox operations the delivery worker needs. */
export interface DeliveryStore {
  /** A row in `sending` for longer than this is claimable again (its collector died between claim and result). */
  readonly leaseMs: number;
  /** Claims up to `limit` rows due at `now` for `workerId`, marking them sending; one per content in flight. */
  claim(workerId: string, limit: number, now: number): Promise<OutboxEntry[]>;
  /** Whether this content already reached this receiver (by any collector, at any time). */
  alreadyDelivered(groupKey: string, receiver: string, hash: string): Promise<boolean>;
  /** The row is delivered and its content logged; `sent: false` when the log already had it (no attempt counted). */
  markDelivered(id: string, hash: string, now: number, opts?: { sent?: boolean }): Promise<void>;
  /** A failed attempt: pending again from `nextAt`. False when the row is no longer being sent (claimed away). */
  markRetry(id: string, nextAt: number, error: string): Promise<boolean>;
  /** Dead-letters a row; `attempted: false` when it was given up without a send (not counted). */
  markDead(id: string, error: string, opts?: { attempted?: boolean }): Promise<boolean>;
  /** Gives a claimed row back without counting an attempt: pending from `nextAt`. */
  release(id: string, nextAt: number): Promise<boolean>;
}

/** The whole outbox: delivered by the worker, listed by the API (newest first, without payloads). */
export interface OutboxStorage extends DeliveryStore {
  list(f: OutboxFilter): Promise<NotificationView[]>;
}
