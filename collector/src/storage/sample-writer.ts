import { sql, type Kysely } from "kysely";
import { CollectorError, CollectorErrors } from "../errors.js";
import type { CommitOutcome, ResolvedPoints } from "../ingest/ports.js";
import { writeCheckRuns } from "./check-store.js";
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
  /** Rows per transaction: batches from many agents are coalesced up to this. */
  maxRowsPerCommit: number;
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
 * The single write queue: coalesces batches into `INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING`
 * transactions (idempotent, so replays never duplicate) and resolves each batch only after its commit. When a shared
 * commit fails for its content, its batches are retried one by one, so only the guilty batch is refused.
 */
export class SampleWriter {
  private queue: Pending[] = [];
  private queuedRows = 0;
  private waiters: (() => void)[] = [];
  private drainRun: Promise<void> | null = null;
  private closed = false;
  readonly stats: WriterStats = { queuedRows: 0, committedRows: 0, commits: 0, failedCommits: 0, pointConflicts: 0, refusedBatches: 0 };

  constructor(private readonly opts: SampleWriterOptions) {}

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
    void this.kick();
    return { committed };
  }

  /** Commits what is queued, then stops accepting. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w();
    while (this.drainRun || this.queue.length > 0) await this.kick();
  }

  private kick(): Promise<void> {
    this.drainRun ??= this.drain().finally(() => {
      this.drainRun = null;
    });
    return this.drainRun;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const take: Pending[] = [];
      let rows = 0;
      while (this.queue.length > 0 && (take.length === 0 || rows + this.queue[0]!.batch.seriesIds.length <= this.opts.maxRowsPerCommit)) {
        const p = this.queue.shift()!;
        take.push(p);
        rows += p.batch.seriesIds.length;
      }
      try {
        this.settle(take, await this.commit(take.map((p) => p.batch)));
      } catch (err) {
        this.stats.failedCommits++;
        if (isContentError(err)) rows += await this.commitOneByOne(take, err);
        else rows += this.failStreams(take, err);
      }
      this.queuedRows -= rows;
      this.stats.queuedRows = this.queuedRows;
      for (const w of this.waiters.splice(0)) w();
    }
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
   * Storage is unavailable: fails these batches and the queued ones of their streams, whose agents reconnect and
   * resend everything unacked. Returns the queued rows dropped.
   */
  private failStreams(take: Pending[], err: unknown): number {
    const failed = new Set(take.map((p) => p.batch.streamId));
    const dropped = this.queue.filter((p) => failed.has(p.batch.streamId));
    this.queue = this.queue.filter((p) => !failed.has(p.batch.streamId));
    const e = new CollectorError(CollectorErrors.STORAGE_UNAVAILABLE, `storage write failed: ${(err as Error).message}`, { cause: err });
    for (const p of [...take, ...dropped]) p.reject(e);
    return dropped.reduce((n, p) => n + p.batch.seriesIds.length, 0);
  }

  /** One transaction for these batches; returns each batch's count of conflicting points. */
  private async commit(batches: WriteBatch[]): Promise<number[]> {
    const rows = commitRows(batches);
    const seqByHost = new Map<number, number>();
    for (const b of batches) seqByHost.set(b.hostId, Math.max(seqByHost.get(b.hostId) ?? 0, b.seq));
    await this.opts.partitions.ensureFor(new Set(batches.map((b) => b.timeMs)));
    const hostIds = [...seqByHost.keys()];
    const seqs = hostIds.map((h) => seqByHost.get(h)!);
    return this.opts.db.transaction().execute(async (tx) => {
      const conflicts = rows.conflicts;
      if (rows.count > 0) {
        const inserted = await insertSamples(tx, rows.times, rows.ids, rows.values);
        // Every row new (the usual case): nothing can differ. Otherwise find the rows whose stored value differs.
        if (inserted < rows.count) {
          for (const row of await conflictingSamples(tx, rows.times, rows.ids, rows.values)) conflicts[rows.batchOf[row]!]!++;
        }
      }
      await sql`
        UPDATE hosts h SET last_seq = GREATEST(h.last_seq, u.seq), last_seen = now()
        FROM unnest(${hostIds}::int[], ${seqs}::bigint[]) AS u(id, seq)
        WHERE h.id = u.id`.execute(tx);
      const runs = batches.flatMap((b) => b.checks.map((c) => ({ ...c, hostId: b.hostId })));
      if (runs.length > 0) await writeCheckRuns(tx, runs);
      return conflicts;
    });
  }
}
