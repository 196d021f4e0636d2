// Generic webhook: a JSON POST of Vigil's payload (optionally HMAC-signed), or Alertmanager's webhook payload
// (`format: alertmanager`) so consumers written for Alertmanager work unchanged.
import { createHmac } from "node:crypto";
import { z } from "zod";
import { DEFAULT_TEXT_BODY, renderMessage } from "../templates/index.js";
import type { Notification, NotificationKind, NotifiedAlert, Receiver } from "../types.js";
import { toAmWebhookPayload } from "./am-format.js";
import { baseFields, checkSecret, postJson, readSecret, zHeaders, zHttpUrl } from "./common.js";

export const webhookConfigObject = z
  .object({
    ...baseFields,
    kind: z.literal("webhook"),
    url: zHttpUrl,
    format: z.enum(["vigil", "alertmanager"]).default("vigil"),
    hmac_secret_file: z.string().min(1).optional(),
    hmac_secret_env: z.string().min(1).optional(),
    headers: zHeaders.default({}),
  })
  .strict();

export type WebhookConfig = z.output<typeof webhookConfigObject>;

export function checkWebhookConfig(cfg: WebhookConfig, ctx: z.RefinementCtx): void {
  checkSecret(ctx, "hmac_secret", { file: cfg.hmac_secret_file, env: cfg.hmac_secret_env }, false, false);
  for (const h of Object.keys(cfg.headers)) {
    // Our own headers must stay trustworthy: a duplicate would be merged into "a, b" and break verification.
    if (/^(x-vigil-|content-type$|content-length$|host$)/i.test(h)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["headers", h], message: "set by Vigil, cannot be overridden" });
    }
  }
}

export const webhookConfigSchema = webhookConfigObject.superRefine(checkWebhookConfig);

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export interface VigilWebhookAlert {
  id: string;
  rule: string;
  state: NotifiedAlert["state"];
  severity: NotifiedAlert["severity"];
  labels: Record<string, string>;
  summary: string;
  value: number;
  activeSince: string;
  firingSince: string | null;
  resolvedAt: string | null;
  acknowledged: { by: string; at: string; comment: string } | null;
}

/** Vigil's own payload; times are ISO 8601. `sentAt` is inside the signed body, so a replay is detectable. */
export interface VigilWebhookPayload {
  version: "1";
  id: string;
  kind: NotificationKind;
  receiver: string;
  groupKey: string;
  groupLabels: Record<string, string>;
  tier: number;
  status: "firing" | "resolved";
  title: string;
  text: string;
  alerts: VigilWebhookAlert[];
  url: string | null;
  createdAt: string;
  sentAt: string;
}

export function buildVigilPayload(n: Notification, cfg: Pick<WebhookConfig, "title_template" | "body_template">, sentAt: number): VigilWebhookPayload {
  const msg = renderMessage(n, { title: cfg.title_template, body: cfg.body_template, defaultBody: DEFAULT_TEXT_BODY, bodyMode: "text" });
  return {
    version: "1",
    id: n.id,
    kind: n.kind,
    receiver: n.receiver,
    groupKey: n.groupKey,
    groupLabels: n.groupLabels,
    tier: n.tier,
    status: n.alerts.some((a) => a.state !== "resolved") ? "firing" : "resolved",
    title: msg.title,
    text: msg.problems.length ? `${msg.body}\n\n(${msg.problems.join("; ")})` : msg.body,
    alerts: n.alerts.map((a) => ({
      id: a.id,
      rule: a.rule,
      state: a.state,
      severity: a.severity,
      labels: a.labels,
      summary: a.summary,
      value: a.value,
      activeSince: new Date(a.activeSince).toISOString(),
      firingSince: iso(a.firingSince),
      resolvedAt: iso(a.resolvedAt),
      acknowledged: a.acknowledged ? { by: a.acknowledged.by, at: new Date(a.acknowledged.at).toISOString(), comment: a.acknowledged.comment } : null,
    })),
    url: n.url ?? null,
    createdAt: new Date(n.createdAt).toISOString(),
    sentAt: new Date(sentAt).toISOString(),
  };
}

/** `sha256=<hex>` over the exact bytes sent: consumers verify the raw body before parsing it. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body, "utf8").digest("hex")}`;
}

export function createWebhookReceiver(cfg: WebhookConfig): Receiver {
  return {
    name: cfg.name,
    kind: "webhook",
    // Alertmanager's payload has no way to say "acknowledged"; Vigil's has `kind`.
    supportsAck: cfg.format === "vigil",
    async send(n, signal) {
      const secret = await readSecret("hmac_secret", { file: cfg.hmac_secret_file, env: cfg.hmac_secret_env });
      if (!secret.ok) return { outcome: "give_up", reason: secret.reason };
      const now = Date.now();
      const payload = cfg.format === "alertmanager" ? toAmWebhookPayload(n, cfg.name) : buildVigilPayload(n, cfg, now);
      const body = JSON.stringify(payload);
      const headers: Record<string, string> = { ...cfg.headers, "X-Vigil-Delivery": n.id, "X-Vigil-Timestamp": String(Math.floor(now / 1000)) };
      if (secret.value !== undefined) headers["X-Vigil-Signature"] = signBody(secret.value, body);
      return postJson(cfg.url, body, headers, signal);
    },
  };
}
