// What the HTTP API answers, as schemas: the OpenAPI document is generated from them, and the type provider checks
// each handler's answer against them when compiling. They mirror ports.ts (what storage and alerting hand the API).
import { z } from "zod";

const time = z.string().describe("RFC 3339");
const labels = z.record(z.string(), z.string());
const checkStatus = z.enum(["healthy", "degraded", "unhealthy"]);

/** Every error answer: a stable code (README "Error codes") and a message naming the parameter or part at fault. */
export const errorBody = z.object({ error: z.object({ code: z.string().describe("VGL_ERR_…"), message: z.string() }) });

export const hostList = z.object({
  hosts: z.array(
    z.object({
      name: z.string(),
      agentId: z.string(),
      labels,
      agentVersion: z.string(),
      os: z.string(),
      kernel: z.string(),
      cpuCount: z.number(),
      intervalMs: z.number(),
      bootTime: time.nullable(),
      firstSeen: time,
      lastSeen: time,
      up: z.boolean(),
      health: checkStatus.nullable().describe("worst current check status; null without checks"),
    }),
  ),
  truncated: z.boolean(),
});

export const hostChecks = z.object({
  host: z.string(),
  checks: z.array(
    z.object({ name: z.string(), kind: z.string(), status: checkStatus, since: time, lastRun: time, durationSeconds: z.number(), message: z.string() }),
  ),
});

export const seriesList = z.object({
  series: z.array(z.object({ id: z.number(), host: z.string(), metric: z.string(), labels })),
  truncated: z.boolean(),
});

/** Documents the streamed range answer (range-stream.ts writes it without this schema). */
export const rangeAnswerBody = z.object({
  series: z.array(z.object({ metric: z.string(), labels, points: z.array(z.array(z.number()).length(2)).describe("[unix_ms, value] pairs, oldest first") })),
});

const alert = z.object({
  id: z.string(),
  rule: z.string(),
  state: z.string(),
  severity: z.string(),
  labels,
  summary: z.string(),
  value: z.number(),
  activeSince: time,
  firingSince: time.nullable(),
  resolvedAt: time.nullable(),
  acknowledged: z.object({ by: z.string(), at: time, comment: z.string() }).nullable(),
  silencedBy: z.array(z.string()),
});

const alertEvent = z.object({ id: z.string(), time, kind: z.string(), severity: z.string(), value: z.number(), message: z.string() });

export const alertList = z.object({ alerts: z.array(alert) });

export const alertWithEvents = alert.extend({
  events: z.array(alertEvent),
  eventsBefore: z.string().nullable().describe("`before` for the older events; null when there are none"),
});

export const eventPage = z.object({ events: z.array(alertEvent), next: z.string().nullable() });

const silence = z.object({ id: z.string(), matchers: labels, startsAt: z.number(), endsAt: z.number(), comment: z.string(), createdBy: z.string() });

export const silenceList = z.object({ silences: z.array(silence), invalid: z.array(z.object({ id: z.string(), problem: z.string() })) });
export const createdSilence = silence;

export const ruleList = z.object({ rules: z.array(z.object({ name: z.string(), kind: z.string(), source: z.enum(["default", "file", "api"]) })) });

export const dryRunAnswer = z.object({
  events: z.array(z.object({ time, kind: z.string(), severity: z.string(), value: z.number(), labels })),
});

export const notificationList = z.object({
  notifications: z.array(
    z.object({
      id: z.string(),
      receiver: z.string(),
      groupKey: z.string(),
      kind: z.string(),
      status: z.string(),
      attempts: z.number(),
      nextAttemptAt: time,
      lastError: z.string().nullable(),
      createdAt: time,
      deliveredAt: time.nullable(),
      alertIds: z.array(z.string()),
    }),
  ),
});

export const receiverTest = z.object({ receiver: z.string(), outcome: z.string(), detail: z.string() });

export const storageView = z.object({
  measuredAt: time,
  database: z.object({ kind: z.enum(["postgres", "pglite"]), bytes: z.number() }),
  tiers: z.array(
    z.object({
      tier: z.enum(["narrow", "fresh", "raw", "1m", "1h"]),
      table: z.string(),
      partitions: z.number(),
      bytes: z.number(),
      points: z.number(),
      pointsEstimated: z.boolean(),
      bytesPerPoint: z.number().nullable(),
      oldestPoint: time.nullable(),
      oldestPointExact: z.boolean(),
    }),
  ),
  growth: z.object({ bytesPerDay: z.number().nullable(), since: time.nullable(), reason: z.string().nullable() }),
  volume: z.object({
    source: z.enum(["statfs", "setting"]).nullable(),
    path: z.string().nullable(),
    sizeBytes: z.number().nullable(),
    availableBytes: z.number().nullable(),
    reason: z.string().nullable(),
  }),
  daysUntilFull: z.number().nullable(),
  daysUntilFullReason: z.string().nullable(),
});

/** A plain status answer ({"status":"deleted"}, {"status":"ok"}…), with the name where one was stored. */
export const statusAnswer = z.object({ status: z.string(), name: z.string().optional() });
