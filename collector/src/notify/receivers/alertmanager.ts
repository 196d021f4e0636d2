// Forwards alerts to an existing Alertmanager (POST /api/v2/alerts), so its routing, silences and receivers apply.
import { zDuration } from "@vigil/shared";
import { z } from "zod";
import type { Notification, Receiver } from "../types.js";
import { alertAnnotations, alertLabels } from "./am-format.js";
import { postJson, zHeaders, zHttpUrl, zReceiverName } from "./common.js";

export const alertmanagerConfigObject = z
  .object({
    name: zReceiverName,
    kind: z.literal("alertmanager"),
    /** Alertmanager's base URL, e.g. http://alertmanager:9093 (with its --web.route-prefix path, if any). */
    url: zHttpUrl,
    headers: zHeaders.default({}),
    /**
     * endsAt for firing alerts, from now. Unset, Alertmanager applies its resolve_timeout (5m by default) and
     * resolves the alert on its own unless Vigil re-sends it: set this above the route's repeat interval.
     */
    firing_ends_after: zDuration(60_000, 30 * 86_400_000).optional(),
  })
  .strict();

export type AlertmanagerConfig = z.output<typeof alertmanagerConfigObject>;

export const alertmanagerConfigSchema = alertmanagerConfigObject;

/** One entry of Alertmanager's postableAlerts. */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  generatorURL?: string;
}

export function buildPostableAlerts(n: Notification, firingEndsAfter: number | undefined, now: number): PostableAlert[] {
  return n.alerts.map((a) => {
    // Label names are sanitized: Alertmanager rejects the whole batch over one invalid name.
    const out: PostableAlert = { labels: alertLabels(a, true), annotations: alertAnnotations(a), startsAt: new Date(a.firingSince ?? a.activeSince).toISOString() };
    if (a.state === "resolved") out.endsAt = new Date(a.resolvedAt ?? now).toISOString();
    else if (firingEndsAfter !== undefined) out.endsAt = new Date(now + firingEndsAfter).toISOString();
    if (n.url) out.generatorURL = n.url;
    return out;
  });
}

export function alertsEndpoint(base: string): string {
  return `${base.replace(/\/+$/, "")}/api/v2/alerts`;
}

export function createAlertmanagerReceiver(cfg: AlertmanagerConfig): Receiver {
  const endpoint = alertsEndpoint(cfg.url);
  return {
    name: cfg.name,
    kind: "alertmanager",
    // Alertmanager has no acknowledgement; its silences are the nearest thing and are a human's decision.
    supportsAck: false,
    async send(n, signal) {
      if (n.alerts.length === 0) return { outcome: "delivered", detail: "no alerts to forward" };
      return postJson(endpoint, JSON.stringify(buildPostableAlerts(n, cfg.firing_ends_after, Date.now())), cfg.headers, signal);
    },
  };
}
