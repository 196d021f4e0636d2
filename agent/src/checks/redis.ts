// `redis` check: connect and PING (the latency), a SET/GET round trip on the check's own key, then memory use
// against maxmemory and the number of clients. One connection per run, no retries, no offline queue.
import { randomBytes } from "node:crypto";
import { zBoolean } from "@vigil/shared";
import { z } from "zod";
import { checkPasswordFields, passwordFields, readPassword, redactUrl, scrub, withPassword } from "./postgres.js";
import { abortReason, deadline, describeConnectError, elapsedMs, errorCode, errorText, slowWarning, untilAborted, verdict } from "./tcp.js";
import type { Check, CheckCommon, CheckMetric, CheckOutcome } from "./types.js";

export const redisCheckSchema = z
  .object({
    kind: z.literal("redis"),
    url: z.string().url().refine((u) => /^rediss?:\/\//i.test(u), "expected a redis:// or rediss:// URL"),
    ...passwordFields,
    /** SET then GET `vigil:check:<name>`; turn off for read-only replicas or users without write rights. */
    write_check: zBoolean.default(true),
    memory_warning: z.number().gt(0).max(1).default(0.9),
  })
  .strict();

export type RedisCheckConfig = z.output<typeof redisCheckSchema>;

/** "key:value" lines of an INFO reply. */
function infoFields(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(":");
    if (i > 0 && !line.startsWith("#")) out.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return out;
}

function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

interface Seen {
  latency: number;
  roundTrip: "ok" | "skipped";
  memory: Map<string, string>;
  clients: Map<string, string>;
}

export function createRedisCheck(common: CheckCommon, cfg: RedisCheckConfig): Check {
  checkPasswordFields(cfg);
  const u = new URL(cfg.url);
  const target = `${u.hostname || "localhost"}:${u.port || 6379}`;
  const shown = redactUrl(cfg.url);
  const key = `vigil:check:${common.name}`;
  return {
    common,
    async run(signal: AbortSignal): Promise<CheckOutcome> {
      let password: string | undefined;
      try {
        password = await readPassword(cfg);
      } catch (err) {
        return { status: "unhealthy", message: errorText(err) };
      }
      // Loaded on first use: most agents run no redis check, and ioredis is a large share of the bundle's heap.
      const { Redis } = await import("ioredis");
      const client = new Redis(password === undefined ? cfg.url : withPassword(cfg.url, password), {
        lazyConnect: true,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        reconnectOnError: () => false,
        connectTimeout: common.timeoutMs,
        commandTimeout: common.timeoutMs,
        disableClientInfo: true,
        connectionName: "vigil-agent",
      });
      // The first error the client reports says why (e.g. WRONGPASS) where connect() only says "Connection is closed."
      let firstError: unknown;
      client.on("error", (err: unknown) => {
        firstError ??= err;
      });
      const start = performance.now();
      const limit = deadline(signal, common.timeoutMs);
      let phase = "connecting to";
      let seen: Seen;
      try {
        const work = (async (): Promise<Seen> => {
          await client.connect();
          phase = "waiting for PING from";
          const pong = await client.ping();
          if (pong !== "PONG") throw new Error(`PING answered ${JSON.stringify(pong)}`);
          const latency = elapsedMs(start);
          let roundTrip: Seen["roundTrip"] = "skipped";
          phase = "waiting for SET/GET/INFO from";
          if (cfg.write_check) {
            const value = randomBytes(12).toString("hex");
            await client.set(key, value, "PX", Math.max(10_000, common.intervalMs * 2));
            const back = await client.get(key);
            if (back !== value) throw new Error(`write/read mismatch on ${key}: wrote ${value}, read ${JSON.stringify(back)}`);
            roundTrip = "ok";
          }
          const memory = infoFields(await client.info("memory"));
          const clients = infoFields(await client.info("clients"));
          return { latency, roundTrip, memory, clients };
        })();
        seen = await untilAborted(limit.signal, work, () => client.disconnect());
      } catch (err) {
        if (signal.aborted) throw abortReason(signal);
        if (limit.expired()) return { status: "unhealthy", message: `timed out after ${common.timeoutMs} ms ${phase} ${target}` };
        return { status: "unhealthy", message: scrub(failure(firstError ?? err, err, target, shown, common.timeoutMs), password) };
      } finally {
        client.disconnect();
      }
      const used = Number(seen.memory.get("used_memory"));
      const max = Number(seen.memory.get("maxmemory") ?? 0);
      const clients = Number(seen.clients.get("connected_clients"));
      const metrics: CheckMetric[] = [{ metric: "vigil.check.redis.latency", value: seen.latency / 1000 }];
      if (Number.isFinite(used)) metrics.push({ metric: "vigil.check.redis.used_memory", value: used });
      if (Number.isFinite(max)) metrics.push({ metric: "vigil.check.redis.maxmemory", value: max });
      if (Number.isFinite(clients)) metrics.push({ metric: "vigil.check.redis.connected_clients", value: clients });
      const warnings = [slowWarning(common, seen.latency)];
      let memory = `memory ${Number.isFinite(used) ? bytes(used) : "unknown"}`;
      if (max > 0 && Number.isFinite(used)) {
        const share = used / max;
        memory += ` of ${bytes(max)} (${Math.round(share * 100)}%)`;
        if (share >= cfg.memory_warning) {
          warnings.push(`memory ${Math.round(share * 100)}% of maxmemory ${bytes(max)} (warning at ${Math.round(cfg.memory_warning * 100)}%)`);
        }
      } else memory += ", no maxmemory";
      const summary = `PONG in ${seen.latency} ms; write/read ${seen.roundTrip}; ${memory}; ${Number.isFinite(clients) ? clients : "?"} connected clients`;
      return verdict(summary, warnings, metrics);
    },
  };
}

/** Connection-level failures name the address; server replies (WRONGPASS, NOAUTH, READONLY, …) the URL. */
function failure(cause: unknown, err: unknown, target: string, shown: string, timeoutMs: number): string {
  const code = errorCode(cause);
  if (code !== undefined && /^E[A-Z]+$/.test(code)) return describeConnectError(cause, target, timeoutMs);
  if (errorText(err) === "Command timed out") return `command timed out after ${timeoutMs} ms (${shown})`;
  return `${errorText(cause)} (${shown})`;
}
