// Vigil alerts in Alertmanager's shapes: the labels Alertmanager would have seen, Prometheus's label fingerprint,
// and Alertmanager's webhook payload, so existing webhook consumers keep working unchanged.
import type { Labels } from "@vigil/shared";
import type { Notification, NotifiedAlert } from "../types.js";

/** Alertmanager's "no end" timestamp in webhook payloads (Go's zero time). */
export const ZERO_TIME = "0001-01-01T00:00:00Z";

const iso = (ms: number): string => new Date(ms).toISOString();

/** Prometheus label names are [a-zA-Z_][a-zA-Z0-9_]*; Vigil's may hold dots or dashes. */
export function sanitizeLabelName(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_]/g, "_");
  return /^[a-zA-Z_]/.test(s) ? s : `_${s}`;
}

/** The alert's labels plus `alertname` (the rule) and `severity`, as routing trees and silences expect them. */
export function alertLabels(a: NotifiedAlert, sanitize = false): Labels {
  const out: Labels = {};
  for (const [k, v] of Object.entries(a.labels)) {
    if (v !== "") out[sanitize ? sanitizeLabelName(k) : k] = v;
  }
  out.alertname = a.rule;
  out.severity ??= a.severity;
  return out;
}

export function alertAnnotations(a: NotifiedAlert): Labels {
  const out: Labels = { summary: a.summary, value: String(a.value) };
  if (a.acknowledged) out.acknowledged_by = a.acknowledged.by;
  return out;
}

const FNV_OFFSET = 14695981039346656037n;
const FNV_PRIME = 1099511628211n;
const MASK = (1n << 64n) - 1n;

/** Prometheus's LabelSet.Fingerprint (FNV-1a 64 over sorted name, 0xff, value, 0xff), as Alertmanager reports it. */
export function fingerprint(labels: Labels): string {
  let h = FNV_OFFSET;
  const add = (b: number): void => {
    h = ((h ^ BigInt(b)) * FNV_PRIME) & MASK;
  };
  for (const name of Object.keys(labels).sort()) {
    for (const b of Buffer.from(name, "utf8")) add(b);
    add(0xff);
    for (const b of Buffer.from(labels[name] ?? "", "utf8")) add(b);
    add(0xff);
  }
  return h.toString(16).padStart(16, "0");
}

/** Label pairs every alert shares (Alertmanager's commonLabels / commonAnnotations). */
function common(sets: readonly Labels[]): Labels {
  const [first, ...rest] = sets;
  if (!first) return {};
  return Object.fromEntries(Object.entries(first).filter(([k, v]) => rest.every((s) => s[k] === v)));
}

export interface AmWebhookAlert {
  status: "firing" | "resolved";
  labels: Labels;
  annotations: Labels;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

export interface AmWebhookPayload {
  version: "4";
  groupKey: string;
  truncatedAlerts: number;
  status: "firing" | "resolved";
  receiver: string;
  groupLabels: Labels;
  commonLabels: Labels;
  commonAnnotations: Labels;
  externalURL: string;
  alerts: AmWebhookAlert[];
}

export function toAmWebhookPayload(n: Notification, receiver: string): AmWebhookPayload {
  const alerts = n.alerts.map((a): AmWebhookAlert => {
    const labels = alertLabels(a);
    const resolved = a.state === "resolved";
    return {
      status: resolved ? "resolved" : "firing",
      labels,
      annotations: alertAnnotations(a),
      startsAt: iso(a.firingSince ?? a.activeSince),
      endsAt: resolved ? iso(a.resolvedAt ?? n.createdAt) : ZERO_TIME,
      generatorURL: n.url ?? "",
      fingerprint: fingerprint(labels),
    };
  });
  let externalURL = "";
  if (n.url) {
    try {
      externalURL = new URL(n.url).origin;
    } catch {
      externalURL = "";
    }
  }
  return {
    version: "4",
    groupKey: n.groupKey,
    truncatedAlerts: 0,
    status: alerts.some((a) => a.status === "firing") ? "firing" : "resolved",
    receiver,
    groupLabels: n.groupLabels,
    commonLabels: common(alerts.map((a) => a.labels)),
    commonAnnotations: common(alerts.map((a) => a.annotations)),
    externalURL,
    alerts,
  };
}
