// PagerDuty Events API v2: trigger / acknowledge / resolve one incident per alert group.
import { createHash } from "node:crypto";
import { z } from "zod";
import { DEFAULT_TEXT_BODY, renderMessage, truncate } from "../templates/index.js";
import type { Notification, Receiver } from "../types.js";
import { baseFields, checkSecret, postJson, readSecret, zHttpUrl } from "./common.js";

export const PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue";

export const pagerdutyConfigObject = z
  .object({
    ...baseFields,
    kind: z.literal("pagerduty"),
    url: zHttpUrl.default(PAGERDUTY_EVENTS_URL),
    routing_key: z.string().min(1).optional(),
    routing_key_file: z.string().min(1).optional(),
    routing_key_env: z.string().min(1).optional(),
    /** payload.source; defaults to the alerts' host (or "vigil" when they span several). */
    source: z.string().min(1).optional(),
  })
  .strict();

export type PagerDutyConfig = z.output<typeof pagerdutyConfigObject>;

export function checkPagerDutyConfig(cfg: PagerDutyConfig, ctx: z.RefinementCtx): void {
  checkSecret(ctx, "routing_key", { inline: cfg.routing_key, file: cfg.routing_key_file, env: cfg.routing_key_env }, true, true);
}

export const pagerdutyConfigSchema = pagerdutyConfigObject.superRefine(checkPagerDutyConfig);

/**
 * Stable per group, so trigger, acknowledge and resolve address the same incident, across restarts too.
 * Hashed because PagerDuty caps dedup_key at 255 characters and a group key can be longer.
 */
export function dedupKey(groupKey: string): string {
  return `vigil-${createHash("sha256").update(groupKey, "utf8").digest("hex").slice(0, 40)}`;
}

export type PagerDutyAction = "trigger" | "acknowledge" | "resolve";

export function eventAction(n: Notification): PagerDutyAction {
  if (n.kind === "resolved") return "resolve";
  if (n.kind === "acknowledged") return "acknowledge";
  return "trigger";
}

export interface PagerDutyEvent {
  routing_key: string;
  event_action: PagerDutyAction;
  dedup_key: string;
  payload?: {
    summary: string;
    source: string;
    severity: "critical" | "warning";
    timestamp: string;
    class?: string;
    custom_details: Record<string, unknown>;
  };
  client?: string;
  client_url?: string;
  links?: { href: string; text: string }[];
}

export function buildPagerDutyEvent(n: Notification, cfg: Pick<PagerDutyConfig, "title_template" | "body_template" | "source">, routingKey: string): PagerDutyEvent {
  const action = eventAction(n);
  const event: PagerDutyEvent = { routing_key: routingKey, event_action: action, dedup_key: dedupKey(n.groupKey) };
  // Acknowledge and resolve need only the key; PagerDuty ignores a payload on them.
  if (action !== "trigger") return event;
  const msg = renderMessage(n, { title: cfg.title_template, body: cfg.body_template, defaultBody: DEFAULT_TEXT_BODY, bodyMode: "text" });
  const hosts = [...new Set(n.alerts.map((a) => a.labels.host ?? "").filter(Boolean))];
  const rules = [...new Set(n.alerts.map((a) => a.rule))];
  const since = Math.min(...n.alerts.map((a) => a.firingSince ?? a.activeSince), n.createdAt);
  event.payload = {
    summary: truncate(msg.title, 1024),
    source: cfg.source ?? (hosts.length === 1 ? hosts[0]! : "vigil"),
    severity: n.alerts.some((a) => a.severity === "critical") ? "critical" : "warning",
    timestamp: new Date(since).toISOString(),
    ...(rules.length === 1 ? { class: rules[0]! } : {}),
    custom_details: {
      text: msg.body,
      group: n.groupLabels,
      kind: n.kind,
      tier: n.tier,
      alerts: n.alerts.map((a) => ({ rule: a.rule, severity: a.severity, state: a.state, summary: a.summary, value: a.value, labels: a.labels })),
      ...(msg.problems.length ? { template_problems: msg.problems } : {}),
    },
  };
  event.client = "Vigil";
  if (n.url) {
    event.client_url = n.url;
    event.links = [{ href: n.url, text: "Open in Vigil" }];
  }
  return event;
}

export function createPagerDutyReceiver(cfg: PagerDutyConfig): Receiver {
  return {
    name: cfg.name,
    kind: "pagerduty",
    supportsAck: true,
    async send(n, signal) {
      const key = await readSecret("routing_key", { inline: cfg.routing_key, file: cfg.routing_key_file, env: cfg.routing_key_env });
      if (!key.ok) return { outcome: "give_up", reason: key.reason };
      if (key.value === undefined) return { outcome: "give_up", reason: "no routing_key configured" };
      const event = buildPagerDutyEvent(n, cfg, key.value);
      const result = await postJson(cfg.url, JSON.stringify(event), {}, signal);
      return result.outcome === "delivered" ? { outcome: "delivered", detail: `${result.detail ?? ""} ${event.event_action} ${event.dedup_key}`.trim() } : result;
    },
  };
}
