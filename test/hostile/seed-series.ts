// Stored data for the query items (3, 13): many series of one metric on a host of their own. On PostgreSQL they are
// written with SQL (fast: hundreds of thousands of points in seconds); on PGlite, which the collector's process
// holds, they go through the ingest API with a raw gRPC client and the host's token.
import type { HostileContext } from "./harness.js";
import { batch, hello, isAck, isWelcome, makeClient, openStream } from "../support/ingest-client.js";

export interface SeedSpec {
  host: string;
  metric: string;
  /** The label set of each series. */
  labels: Record<string, string>[];
  /** Sample times (ms), the same for every series; each series' values are one constant (its position). */
  times: number[];
}

export async function seedSeries(ctx: HostileContext, spec: SeedSpec): Promise<void> {
  if (ctx.pg) return seedWithSql(ctx, spec);
  return seedWithGrpc(ctx, spec);
}

async function seedWithSql(ctx: HostileContext, spec: SeedSpec): Promise<void> {
  const pool = ctx.pg!;
  const h = await pool.query<{ id: number }>(
    `INSERT INTO hosts (name, agent_id, interval_ms) VALUES ($1, $2, $3)
     ON CONFLICT (name) DO UPDATE SET last_seen = now() RETURNING id`,
    [spec.host, `seed-${spec.host}`, intervalOf(spec.times)],
  );
  const hostId = h.rows[0]!.id;
  const s = await pool.query<{ id: string }>(
    `INSERT INTO series (host_id, metric, labels)
     SELECT $1, $2, l FROM unnest($3::jsonb[]) AS u(l)
     ON CONFLICT (host_id, metric, labels) DO UPDATE SET metric = EXCLUDED.metric
     RETURNING id`,
    [hostId, spec.metric, spec.labels.map((l) => JSON.stringify(l))],
  );
  const ids = s.rows.map((r) => r.id);
  await pool.query(
    `INSERT INTO samples (time, series_id, value)
     SELECT to_timestamp(t / 1000.0), sid, ord - 1
     FROM unnest($1::bigint[]) WITH ORDINALITY AS s(sid, ord), unnest($2::float8[]) AS t
     ON CONFLICT DO NOTHING`,
    [ids, spec.times],
  );
}

async function seedWithGrpc(ctx: HostileContext, spec: SeedSpec): Promise<void> {
  const client = makeClient(ctx.collector.grpcAddress);
  const stream = openStream(client, ctx.tokens[spec.host]);
  try {
    stream.send(hello(spec.host));
    await stream.next(isWelcome, "Welcome");
    const refs = spec.labels.map((_, i) => i + 1);
    const values = spec.labels.map((_, i) => i);
    const declare = spec.labels.map((labels, i) => ({ ref: i + 1, metric: spec.metric, labels }));
    for (let k = 0; k < spec.times.length; k++) {
      stream.send(batch({ seq: k + 1, timeMs: spec.times[k]!, declare: k === 0 ? declare : [], refs, values }));
      // A bounded window of unacked batches keeps the collector's queue and this client's memory small.
      if (k >= 8) await stream.next(isAck(k - 7), `Ack ${k - 7}`, 30_000);
    }
    await stream.next(isAck(spec.times.length), `Ack ${spec.times.length}`, 30_000);
  } finally {
    stream.close();
    client.close();
  }
}

function intervalOf(times: number[]): number {
  return times.length > 1 ? Math.max(1000, times[1]! - times[0]!) : 10_000;
}
