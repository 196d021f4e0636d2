import type { Hello } from "@vigil/proto";
import { FIELD_LIMITS, HOSTNAME_PATTERN } from "./limits.js";
import { IngestRefusal } from "./refusal.js";
import { quote, requireLabels, requireText } from "./text-fields.js";

const DEFAULT_INTERVAL_MS = 10_000;
const DAY = 86_400_000;

export interface ValidHello {
  hostname: string;
  agentId: string;
  intervalMs: number;
  bootTimeMs: number;
}

/** Checks every Hello field before the host is registered; each refusal names the field. */
export function validateHello(h: Hello, nowMs: number): ValidHello {
  if (h.hostname.length === 0) throw new IngestRefusal("hello", "Hello.hostname: must not be empty");
  if (Buffer.byteLength(h.hostname, "utf8") > FIELD_LIMITS.hostnameBytes) {
    throw new IngestRefusal("hello", `Hello.hostname: is ${Buffer.byteLength(h.hostname, "utf8")} bytes (limit ${FIELD_LIMITS.hostnameBytes})`);
  }
  if (!HOSTNAME_PATTERN.test(h.hostname)) throw new IngestRefusal("hello", `Hello.hostname: ${quote(h.hostname)} is not a host name (letters, digits, '.', '-', '_')`);
  requireText("Hello.agent_id", h.agentId, FIELD_LIMITS.agentIdBytes, "hello", true);
  requireText("Hello.agent_version", h.agentVersion, FIELD_LIMITS.agentVersionBytes, "hello", true);
  requireText("Hello.os", h.os, FIELD_LIMITS.osBytes, "hello", true);
  requireText("Hello.kernel", h.kernel, FIELD_LIMITS.kernelBytes, "hello", true);
  try {
    requireLabels("Hello.labels", h.labels);
  } catch (err) {
    throw err instanceof IngestRefusal ? new IngestRefusal("hello", err.message) : err;
  }
  if (h.intervalMs !== 0 && (h.intervalMs < FIELD_LIMITS.minIntervalMs || h.intervalMs > FIELD_LIMITS.maxIntervalMs)) {
    throw new IngestRefusal("hello", `Hello.interval_ms: must be 0 (default 10s) or between ${FIELD_LIMITS.minIntervalMs} and ${FIELD_LIMITS.maxIntervalMs}, got ${h.intervalMs}`);
  }
  if (h.cpuCount > FIELD_LIMITS.cpuCount) throw new IngestRefusal("hello", `Hello.cpu_count: at most ${FIELD_LIMITS.cpuCount}, got ${h.cpuCount}`);
  if (h.bootTimeMs < 0n || h.bootTimeMs > BigInt(nowMs + DAY)) {
    throw new IngestRefusal("hello", `Hello.boot_time_ms: must be 0 (unknown) or a time before now, got ${h.bootTimeMs}`);
  }
  return {
    hostname: h.hostname,
    agentId: h.agentId || h.hostname,
    intervalMs: h.intervalMs || DEFAULT_INTERVAL_MS,
    bootTimeMs: Number(h.bootTimeMs),
  };
}
