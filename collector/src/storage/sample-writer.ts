import { sql, type Kysely } from "kysely";
import { CollectorError, CollectorErrors } from "../errors.js";
import type { CommitOutcome, ResolvedPoints } from "../ingest/ports.js";
import { checkRunWrites } from "./check-store.js";
import type { PartitionManager } from "./partitions.js";
import { commitRows, conflictingSamples, insertSamples } from "./sample-rows.js";
import type { Database } from "./schema.js";

export { insertSamples };

/** One agent batch, resolved to series ids (with its health-check runs). */
export type WriteBatch = ResolvedPoints;

export interface SampleWriterOptions {
  db: Kysely<Database>;
  partitions: Pick<PartitionManager, "ensureFor">;
  /** Rows queued (not yet committed) above which `enqueue` waits: the bound on the collector's memory. */
  maxQueuedRows: number;
  /** Rows per commit: batches from many agents are coalesced up to this. */
  maxRowsPerCommit: number;
  /** Commits that may run at once, each on its own pooled connection (default 1). */
  connections?: number;
}

interface Pending {
  batch: WriteBatch;
  resolve(o: CommitOutcome): void;
  reject(err: unknown): void;
}

export interface WriterStats {
  queuedRows: number;
  committedRows: number;
  commits: number;
  failedCommits: number;
  /** Points that differ from the stored point at the same (series, time): counted, not stored (the first one stays). */
  pointConflicts: number;
  /** Batches storage refused for their content, found by retrying a failed shared commit batch by batch. */
  refusedBatches: number;
}

// SQLSTATE classes a batch's content can cause (cardinality, data exception, integrity, program limit such as the
// btree row size); anything else (connection lost, database down) is storage being unavailable.
const CONTENT_CLASSES = new Set(["21", "22", "23", "54"]);

function isContentError(err: unknown): boolean {
  if (err instanceof RangeError) return true; // e.g. a time no Date can hold
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" && code.length === 5 && CONTENT_CLASSES.has(code.slice(0, 2));
}

/**
 * The write queue: coalesces batches into `INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING` statements
 * (idempotent, so replays never duplicate) and resolves each batch only after its own commit. Up to `connections`
 * commits run at once; a host's batches are in one running commit at a time, so concurrent commits touch disjoint
 * rows (no lock waits or deadlocks between them) and a host's batches commit in the order they came. When a shared
 * commit fails for its content, its batches are retried one by one, so only the guilty batch is refused.
 */
export class SampleWriter {
  private queue: Pending[] = [];
  private queuedRows = 0;
  private waiters: (() => void)[] = [];
  /** Hosts with a batch in a running commit: their queued batches wait for it. */
  private readonly busyHosts = new Set<number>();
  /** Lanes committing now; counted synchronously, so an enqueue right after a lane's last commit starts a new one. */
  private lanes = 0;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly connections: number;
  private closed = false;
  readonly stats: WriterStats = { queuedRows: 0, committedRows: 0, commits: 0, failedCommits: 0, pointConflicts: 0, refusedBatches: 0 };

  constructor(private readonly opts: SampleWriterOptions) {
    this.connections = opts.connections ?? 1;
  }

  /** True when the queue is at its bound; ingest uses it to tell agents to slow down. */
  get full(): boolean {
    return this.queuedRows >= this.opts.maxQueuedRows;
  }

  /** Waits until there is room in the queue (backpressure), then queues; `committed` settles after the commit. */
  async enqueue(batch: WriteBatch): Promise<{ committed: Promise<CommitOutcome> }> {
    while (this.full && !this.closed) await new Promise<void>((r) => this.waiters.push(r));
    if (this.closed) throw new CollectorError(CollectorErrors.WRITE_QUEUE_CLOSED, "the collector is shutting down");
    const committed = new Promise<CommitOutcome>((resolve, reject) => this.queue.push({ batch, resolve, reject }));
    this.queuedRows += batch.seriesIds.length;
    this.stats.queuedRows = this.queuedRows;
    // A busy host's batch cannot start a commit; a lane freeing that host kicks. This spares an idle lane a scan of
    // the queue per enqueue while one host's batches pile up behind its running commit.
    if (!this.busyHosts.has(batch.hostId)) this.kick();
    return { committed };
  }

  /** Commits what is queued, then stops accepting. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w();
    this.kick();
    // The last lane to stop finds no busy host, so it leaves the queue empty.
    while (this.lanes > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
  }

  /** Starts a lane on each free connection while queued batches can go. */
  private kick(): void {
    while (this.lanes < this.connections) {
      const take = this.takeGroup();
      if (take.length === 0) return;
      this.lanes++;
      void this.lane(take);
    }
  }

  /** One connection's loop: commits groups until none can be taken. */
  private async lane(first: Pending[]): Promise<void> {
    for (let take = first; take.length > 0; take = this.takeGroup()) {
      const rows = await this.write(take);
      for (const p of take) this.busyHosts.delete(p.batch.hostId);
      this.queuedRows -= rows;
      this.stats.queuedRows = this.queuedRows;
      for (const w of this.waiters.splice(0)) w();
      // The hosts just freed may let an idle connection start.
      this.kick();
    }
    this.lanes--;
    if (this.lanes === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /**
   * The next commit's batches, in queue order up to maxRowsPerCommit, passing over hosts another commit holds; marks
   * their hosts busy. Stops at the first batch that does not fit, so no host's later batch overtakes an earlier one.
   */
  private takeGroup(): Pending[] {
    const take: Pending[] = [];
    const rest: Pending[] = [];
    let rows = 0;
    let i = 0;
    for (; i < this.queue.length; i++) {
      const p = this.queue[i]!;
      if (this.busyHosts.has(p.batch.hostId)) {
        rest.push(p);
        continue;
      }
      if (take.length > 0 && rows + p.batch.seriesIds.length > this.opts.maxRowsPerCommit) break;
      take.push(p);
      rows += p.batch.seriesIds.length;
    }
    if (take.length === 0) return take;
    this.queue = i < this.queue.length ? rest.concat(this.queue.slice(i)) : rest;
    // Only now: the loop above must still take the later batches of hosts it took.
    for (const p of take) this.busyHosts.add(p.batch.hostId);
    return take;
  }

  /** Commits one group (or its innocent batches); returns the queued rows it settled, its own and any failed with it. */
  private async write(take: Pending[]): Promise<number> {
    let rows = take.reduce((n, p) => n + p.batch.seriesIds.length, 0);
    try {
      this.settle(take, await this.commit(take.map((p) => p.batch)));
    } catch (err) {
      this.stats.failedCommits++;
      if (isContentError(err)) rows += await this.commitOneByOne(take, err);
      else rows += this.failStreams(take, err);
    }
    return rows;
  }

  private settle(done: Pending[], conflicts: number[]): void {
    this.stats.commits++;
    done.forEach((p, i) => {
      this.stats.committedRows += p.batch.seriesIds.length;
      this.stats.pointConflicts += conflicts[i]!;
      p.resolve({ conflicts: conflicts[i]! });
    });
  }

  /** Retries each batch of a commit that failed for its content: the guilty are refused, the rest committed. */
  private async commitOneByOne(take: Pending[], sharedErr: unknown): Promise<number> {
    for (let i = 0; i < take.length; i++) {
      const p = take[i]!;
      try {
        // A lone batch has nothing to retry: its own error is the verdict.
        if (take.length === 1) throw sharedErr;
        this.settle([p], await this.commit([p.batch]));
      } catch (err) {
        if (!isContentError(err)) return this.failStreams(take.slice(i), err);
        this.stats.refusedBatches++;
        p.reject(new CollectorError(CollectorErrors.INVALID_FIELD, `batch seq ${p.batch.seq}: refused by storage: ${(err as Error).message}`));
      }
    }
    return 0;
  }

  /**
   * Storage is unavailable: fails these batches and the queued ones of their streams (none is in another commit: a
   * stream is one host's), whose agents reconnect and resend everything unacked. Returns the queued rows dropped.
   */
  private failStreams(take: Pending[], err: unknown): number {
    const failed = new Set(take.map((p) => p.batch.streamId));
    const dropped = this.queue.filter((p) => failed.has(p.batch.streamId));
    this.queue = this.queue.filter((p) => !failed.has(p.batch.streamId));
    const e = new CollectorError(CollectorErrors.STORAGE_UNAVAILABLE, `storage write failed: ${(err as Error).message}`, { cause: err });
    for (const p of [...take, ...dropped]) p.reject(e);
    return dropped.reduce((n, p) => n + p.batch.seriesIds.length, 0);
  }

  /**
   * One statement for these batches (so one round trip; it is its own transaction): the samples, with the hosts'
   * last seq and their check runs alongside. Returns each batch's count of conflicting points.
   */
  private async commit(batches: WriteBatch[]): Promise<number[]> {
    const rows = commitRows(batches);
    const seqByHost = new Map<number, number>();
    for (const b of batches) seqByHost.set(b.hostId, Math.max(seqByHost.get(b.hostId) ?? 0, b.seq));
    await this.opts.partitions.ensureFor(new Set(batches.map((b) => b.timeMs)));
    const hosts = sql`seen AS (
      UPDATE hosts h SET last_seq = GREATEST(h.last_seq, u.seq), last_seen = now()
      FROM unnest(${[...seqByHost.keys()]}::int[], ${[...seqByHost.values()]}::bigint[]) AS u(id, seq)
      WHERE h.id = u.id)`;
    const runs = checkRunWrites(batches.flatMap((b) => b.checks.map((c) => ({ ...c, hostId: b.hostId }))));
    const inserted = await insertSamples(this.opts.db, rows.times, rows.ids, rows.values, [hosts, ...runs]);
    // Every row new (the usual case): nothing can differ. Otherwise find the rows whose stored value differs; after
    // the commit is as good as in it, since a stored point never changes.
    if (inserted < rows.count) {
      for (const row of await conflictingSamples(this.opts.db, rows.times, rows.ids, rows.values)) rows.conflicts[rows.batchOf[row]!]!++;
    }
    return rows.conflicts;
  }
}
