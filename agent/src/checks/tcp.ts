// `tcp` check: a TCP connection to HOST:PORT opens within the timeout. Also home of the small helpers the other
// network checks share (error text, abort handling, latency verdicts).
import net from "node:net";
import { formatHostPort, parseHostPort, zHostPort } from "@vigil/shared";
import { z } from "zod";
import type { Check, CheckCommon, CheckMetric, CheckOutcome } from "./types.js";

export const tcpCheckSchema = z.object({ kind: z.literal("tcp"), address: zHostPort }).strict();

export type TcpCheckConfig = z.output<typeof tcpCheckSchema>;

/** Whole milliseconds since `start` (a `performance.now()` value). */
export function elapsedMs(start: number): number {
  return Math.round(performance.now() - start);
}

/** One line describing an error; an AggregateError (every address of a name failed) lists its parts. */
export function errorText(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return [...new Set(err.errors.map(errorText))].join("; ");
  if (err instanceof Error) return err.message || (err as NodeJS.ErrnoException).code || err.name;
  return String(err);
}

/** Error code of a (possibly aggregate) network error, e.g. "ECONNREFUSED". */
export function errorCode(err: unknown): string | undefined {
  if (err instanceof AggregateError && err.errors.length > 0) return errorCode(err.errors[0]);
  const code = err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
  return typeof code === "string" ? code : undefined;
}

/** Connection-level failures in plain words naming the target; anything else as its own text. */
export function describeConnectError(err: unknown, target: string, timeoutMs: number): string {
  switch (errorCode(err)) {
    case "ECONNREFUSED":
      return `connection refused at ${target}`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `cannot resolve ${target}: ${errorText(err)}`;
    case "ETIMEDOUT":
      return `timed out after ${timeoutMs} ms connecting to ${target}`;
    case "ECONNRESET":
      return `connection reset by ${target}`;
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return `${target} unreachable: ${errorText(err)}`;
    default:
      return errorText(err);
  }
}

/** Why `signal` aborted, as an Error. */
export function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error(`aborted${signal.reason === undefined ? "" : `: ${String(signal.reason)}`}`);
}

/** Settles like `work`, or rejects at once when `signal` aborts, after calling `cleanup` (close sockets, clients). */
export function untilAborted<T>(signal: AbortSignal, work: Promise<T>, cleanup: () => void): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined);
    cleanup();
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      cleanup();
      reject(abortReason(signal));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    void work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** `signal` plus the check's own deadline; `expired()`: the deadline fired, not the caller's signal. */
export function deadline(signal: AbortSignal, timeoutMs: number): { signal: AbortSignal; expired: () => boolean } {
  const own = AbortSignal.timeout(timeoutMs);
  return { signal: AbortSignal.any([signal, own]), expired: () => own.aborted && !signal.aborted };
}

/** The warning for a latency at or over `degradedAfterMs`, if set. */
export function slowWarning(common: CheckCommon, latencyMs: number): string | undefined {
  const limit = common.degradedAfterMs;
  return limit !== undefined && latencyMs >= limit ? `slow: ${latencyMs} ms, degraded at ${limit} ms` : undefined;
}

/** Healthy with `summary`, or degraded with the warnings first ("w1; w2; summary"). */
export function verdict(summary: string, warnings: Array<string | undefined>, metrics: CheckMetric[]): CheckOutcome {
  const w = warnings.filter((x): x is string => x !== undefined);
  return w.length === 0 ? { status: "healthy", message: summary, metrics } : { status: "degraded", message: `${w.join("; ")}; ${summary}`, metrics };
}

function connect(host: string, port: number, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const socket = net.connect({ host, port });
  let timer: NodeJS.Timeout | undefined;
  const work = new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", reject);
    timer = setTimeout(() => reject(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })), timeoutMs);
  });
  return untilAborted(signal, work, () => socket.destroy()).finally(() => {
    clearTimeout(timer);
    socket.destroy();
  });
}

export function createTcpCheck(common: CheckCommon, cfg: TcpCheckConfig): Check {
  const { host, port } = parseHostPort(cfg.address, "address");
  const target = formatHostPort({ host, port });
  return {
    common,
    async run(signal: AbortSignal): Promise<CheckOutcome> {
      const start = performance.now();
      try {
        await connect(host, port, common.timeoutMs, signal);
      } catch (err) {
        if (signal.aborted) throw abortReason(signal);
        const code = errorCode(err);
        const message = code === "ETIMEDOUT" ? describeConnectError(err, target, common.timeoutMs) : errorText(err);
        return { status: "unhealthy", message };
      }
      const ms = elapsedMs(start);
      const metrics: CheckMetric[] = [{ metric: "vigil.check.tcp.latency", value: ms / 1000 }];
      return verdict(`connected to ${target} in ${ms} ms`, [slowWarning(common, ms)], metrics);
    },
  };
}
