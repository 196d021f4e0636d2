// What a title/body template sees: the notification flattened into ready-to-print strings, so the defaults
// (and users' templates) stay short and never have to do date or number arithmetic themselves.
import type { Labels } from "@vigil/shared";
import type { AlertSeverity, Notification, NotificationKind, NotifiedAlert } from "../types.js";

export interface AlertView {
  id: string;
  rule: string;
  state: NotifiedAlert["state"];
  severity: AlertSeverity;
  /** "CRITICAL", "WARNING" or "RESOLVED": what this alert's line is tagged with. */
  stateTag: string;
  emoji: string;
  host: string;
  labels: Labels;
  summary: string;
  value: number;
  valueText: string;
  /** Epoch ms the alert fired (or became active, while pending). */
  since: number;
  sinceText: string;
  resolvedText: string;
  ack: { by: string; comment: string; atText: string } | null;
}

export interface TemplateContext {
  kind: NotificationKind;
  receiver: string;
  groupKey: string;
  groupLabels: Labels;
  tier: number;
  url: string;
  createdAt: number;
  createdText: string;
  count: number;
  single: boolean;
  alerts: AlertView[];
  firing: AlertView[];
  resolved: AlertView[];
  /** The group's highest severity. */
  severity: AlertSeverity;
  /** "[CRITICAL]", "[RESOLVED]", "[ACK by alice]", "[TEST]", "[ESCALATED CRITICAL]". */
  tag: string;
  emoji: string;
  /** "disk-full on web-1", "disk-full on web-1, web-2 and 3 more", "3 alerts on web-1: cpu-high, disk-full". */
  subject: string;
  hosts: string[];
  hostsText: string;
  rules: string[];
  ackBy: string;
  ackComment: string;
}

const EMOJI = { critical: "🔴", warning: "🟠", resolved: "✅", acknowledged: "👀", test: "🧪" } as const;

/** Numbers read as people write them: 0.9734 → "0.9734", 12.3456 → "12.35", 123456.7 → "123,457". */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) || Math.abs(v) >= 1000) return Math.round(v).toLocaleString("en-US");
  return String(Number(v.toPrecision(4)));
}

/** "2025-03-01 12:04 UTC": one unambiguous zone for every reader of a shared channel. */
export function formatTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** "12m ago", "3h05m ago", "just now", relative to the notification's creation. */
export function formatAgo(ms: number, now: number): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return s < 5 ? "just now" : `${s}s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${String(m % 60).padStart(2, "0")}m ago`;
  return `${Math.floor(h / 24)}d ago`;
}

/** "a, b and 2 more". */
export function listText(items: readonly string[], max = 3): string {
  if (items.length <= max) return items.length <= 2 ? items.join(" and ") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
  return `${items.slice(0, max).join(", ")} and ${items.length - max} more`;
}

const unique = (xs: readonly string[]): string[] => [...new Set(xs.filter((x) => x !== ""))];

function alertView(a: NotifiedAlert, now: number): AlertView {
  const since = a.firingSince ?? a.activeSince;
  return {
    id: a.id,
    rule: a.rule,
    state: a.state,
    severity: a.severity,
    stateTag: a.state === "resolved" ? "RESOLVED" : a.severity.toUpperCase(),
    emoji: a.state === "resolved" ? EMOJI.resolved : EMOJI[a.severity],
    host: a.labels.host ?? "",
    labels: a.labels,
    summary: a.summary,
    value: a.value,
    valueText: formatValue(a.value),
    since,
    sinceText: `${formatTime(since)} (${formatAgo(since, now)})`,
    resolvedText: a.resolvedAt === null ? "" : `${formatTime(a.resolvedAt)} (${formatAgo(a.resolvedAt, now)})`,
    ack: a.acknowledged ? { by: a.acknowledged.by, comment: a.acknowledged.comment, atText: formatAgo(a.acknowledged.at, now) } : null,
  };
}

function subjectOf(alerts: readonly AlertView[], rules: string[], hosts: string[]): string {
  const first = alerts[0];
  if (!first) return "no alerts";
  if (alerts.length === 1) return first.host ? `${first.rule} on ${first.host}` : first.rule;
  const n = alerts.length;
  if (rules.length === 1) {
    if (hosts.length === 1) return `${first.rule} on ${hosts[0]} (${n} alerts)`;
    return hosts.length === 0 ? `${first.rule} (${n} alerts)` : `${first.rule} on ${listText(hosts)}`;
  }
  if (hosts.length === 1) return `${n} alerts on ${hosts[0]}: ${listText(rules)}`;
  return `${n} alerts: ${listText(rules)}${hosts.length ? ` on ${listText(hosts)}` : ""}`;
}

export function buildContext(n: Notification): TemplateContext {
  const now = n.createdAt;
  const alerts = n.alerts.map((a) => alertView(a, now));
  const severity: AlertSeverity = n.alerts.some((a) => a.severity === "critical") ? "critical" : "warning";
  const rules = unique(alerts.map((a) => a.rule));
  const hosts = unique(alerts.map((a) => a.host));
  const acked = n.alerts.find((a) => a.acknowledged !== null)?.acknowledged ?? null;
  const sev = severity.toUpperCase();
  const tag: Record<NotificationKind, string> = {
    firing: `[${sev}]`,
    repeat: `[${sev}]`,
    escalation: `[ESCALATED ${sev}]`,
    resolved: "[RESOLVED]",
    acknowledged: `[ACK${acked ? ` by ${acked.by}` : ""}]`,
    test: "[TEST]",
  };
  const emoji = n.kind === "resolved" ? EMOJI.resolved : n.kind === "acknowledged" ? EMOJI.acknowledged : n.kind === "test" ? EMOJI.test : EMOJI[severity];
  return {
    kind: n.kind,
    receiver: n.receiver,
    groupKey: n.groupKey,
    groupLabels: n.groupLabels,
    tier: n.tier,
    url: n.url ?? "",
    createdAt: n.createdAt,
    createdText: formatTime(n.createdAt),
    count: alerts.length,
    single: alerts.length === 1,
    alerts,
    firing: alerts.filter((a) => a.state !== "resolved"),
    resolved: alerts.filter((a) => a.state === "resolved"),
    severity,
    tag: tag[n.kind],
    emoji,
    subject: subjectOf(alerts, rules, hosts),
    hosts,
    hostsText: listText(hosts),
    rules,
    ackBy: acked?.by ?? "",
    ackComment: acked?.comment ?? "",
  };
}

/** A copy with every string passed through `escape` (Slack's mrkdwn needs &, <, > escaped in data, not in the template). */
export function mapStrings<T>(value: T, escape: (s: string) => string): T {
  if (typeof value === "string") return escape(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => mapStrings(v, escape)) as T;
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, escape)])) as T;
  }
  return value;
}
