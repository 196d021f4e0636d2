import { sql, type Kysely } from "kysely";
import { CollectorError, CollectorErrors } from "../errors.js";
import type { ResolvedPoints } from "../ingest/ports.js";
import { writeCheckRuns } from "./check-store.js";
import type { PartitionManager } from "./partitions.js";
import type { Database } from "./schema.js";

/** One agent batch, resolved to series ids (with its health-check runs). */
export type WriteBatch = ResolvedPoints;

export interface SampleWriterOptions {
  db: Kysely<Database>;
  partitions: PartitionManager;
  /** Rows queued (not yet committed) above which `enqueue` waits: the bound on the collector's memory. */
  maxQueuedRows: number;
  /** Rows per transaction: batches from many agents are coalesced up to this. */
  maxRowsPerCommit: number;
}

interface Pending {
  batch: WriteBatch;
  resolve(): void;
  reject(err: unknown): void;
}

export interface WriterStats {
  queuedRows: number;
  committedRows: number;
  commits: number;
  failedCommits: number;
}

/**
 * The single write queue: coalesces batches into `INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING`
 * transactions (idempotent, so replays never duplicate) and resolves each batch only after its commit.
 */
export class SampleWriter {
  private queue: Pending[] = [];
  private queuedRows = 0;
  private waiters: (() => void)[] = [];
  private drainRun: Promise<void> | null = null;
  private closed = false;
  readonly stats: WriterStats = { queuedRows: 0, committedRows: 0, commits: 0, failedCommits: 0 };

  constructor(private readonly opts: SampleWriterOptions) {}

  /** True when the queue is at its bound; ingest uses it to tell agents to slow down. */
  get full(): boolean {
    return this.queuedRows >= this.opts.maxQueuedRows;
  }

  /** Waits until there is room in the queue (backpressure), then queues; `committed` settles after the commit. */
  async enqueue(batch: WriteBatch): Promise<{ committed: Promise<void> }> {
    while (this.full && !this.closed) await new Promise<void>((r) => this.waiters.push(r));
    if (this.closed) throw new CollectorError(CollectorErrors.WRITE_QUEUE_CLOSED, "the collector is shutting down");
    const committed = new Promise<void>((resolve, reject) => this.queue.push({ batch, resolve, reject }));
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
    {
      while (this.queue.length > 0) {
        const take: Pending[] = [];
        let rows = 0;
        while (this.queue.length > 0 && (take.length === 0 || rows + this.queue[0]!.batch.seriesIds.length <= this.opts.maxRowsPerCommit)) {
          const p = this.queue.shift()!;
          take.push(p);
          rows += p.batch.seriesIds.length;
        }
        try {
          await this.commit(take.map((p) => p.batch), rows);
          this.stats.commits++;
          this.stats.committedRows += rows;
          for (const p of take) p.resolve();
        } catch (err) {
          this.stats.failedCommits++;
          const failed = new Set(take.map((p) => p.batch.streamId));
          const dropped = this.queue.filter((p) => failed.has(p.batch.streamId));
          this.queue = this.queue.filter((p) => !failed.has(p.batch.streamId));
          rows += dropped.reduce((n, p) => n + p.batch.seriesIds.length, 0);
          const e = new CollectorError(CollectorErrors.STORAGE_UNAVAILABLE, `storage write failed: ${(err as Error).message}`, { cause: err });
          for (const p of [...take, ...dropped]) p.reject(e);
        }
        this.queuedRows -= rows;
        this.stats.queuedRows = this.queuedRows;
        for (const w of this.waiters.splice(0)) w();
      }
    }
  }

  private async commit(batches: WriteBatch[], rows: number): Promise<void> {
    const times = new Float64Array(rows);
    const ids = new Array<number>(rows);
    const values = new Array<number>(rows);
    const seqByHost = new Map<number, number>();
    let i = 0;
    for (const b of batches) {
      for (let j = 0; j < b.seriesIds.length; j++, i++) {
        times[i] = b.timeMs;
        ids[i] = b.seriesIds[j]!;
        values[i] = b.values[j]!;
      }
      seqByHost.set(b.hostId, Math.max(seqByHost.get(b.hostId) ?? 0, b.seq));
    }
    await this.opts.partitions.ensureFor(new Set(batches.map((b) => b.timeMs)));
    const hostIds = [...seqByHost.keys()];
    const seqs = hostIds.map((h) => seqByHost.get(h)!);
    await this.opts.db.transaction().execute(async (tx) => {
      if (rows > 0) await insertSamples(tx, times, ids, values);
      await sql`
        UPDATE hosts h SET last_seq = GREATEST(h.last_seq, u.seq), last_seen = now()
        FROM unnest(${hostIds}::int[], ${seqs}::bigint[]) AS u(id, seq)
        WHERE h.id = u.id`.execute(tx);
      const runs = batches.flatMap((b) => b.checks.map((c) => ({ ...c, hostId: b.hostId })));
      if (runs.length > 0) await writeCheckRuns(tx, runs);
    });
  }
}

// Array literals built by join: pg's generic per-element escaping was ~30% of the collector's CPU at full ingest.
// Only finite numbers get here (validateBatch drops NaN/Inf), and their JS text form is valid Postgres input.
const arrayLiteral = (xs: ArrayLike<number>) => `{${Array.prototype.join.call(xs, ",")}}`;

/** The idempotent bulk insert, shared with the ingest benchmark's raw reference so both measure the same SQL. */
export async function insertSamples(db: Kysely<Database>, timesMs: ArrayLike<number>, seriesIds: ArrayLike<number>, values: ArrayLike<number>): Promise<void> {
  await sql`
    INSERT INTO samples (time, series_id, value)
    SELECT to_timestamp(t / 1000.0), s, v
    FROM unnest(${arrayLiteral(timesMs)}::float8[], ${arrayLiteral(seriesIds)}::bigint[], ${arrayLiteral(values)}::float8[]) AS u(t, s, v)
    ON CONFLICT DO NOTHING`.execute(db);
}
