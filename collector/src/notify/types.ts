// The notification domain's shared vocabulary. Receivers see only these types: they never import the dispatcher.
import type { Labels } from "@vigil/shared";

export type AlertSeverity = "warning" | "critical";

/** An alert as a notification shows it. */
export interface NotifiedAlert {
  id: string;
  rule: string;
  state: "pending" | "firing" | "resolved";
  severity: AlertSeverity;
  labels: Labels;
  summary: string;
  value: number;
  activeSince: number;
  firingSince: number | null;
  resolvedAt: number | null;
  acknowledged: { by: string; at: number; comment: string } | null;
}

/** Why this message goes out. */
export type NotificationKind = "firing" | "resolved" | "acknowledged" | "escalation" | "repeat" | "test";

/** One message to one receiver about one group of alerts. */
export interface Notification {
  /** Stable id (the outbox row's). */
  id: string;
  receiver: string;
  /** The group (route + group_by label values); PagerDuty's dedup_key derives from it. */
  groupKey: string;
  groupLabels: Labels;
  kind: NotificationKind;
  /** Escalation tier (0 = first receivers). */
  tier: number;
  alerts: NotifiedAlert[];
  /** Link to the alert/group in the dashboard, when the collector knows its public URL. */
  url?: string;
  createdAt: number;
}

export type DeliveryResult =
  | { outcome: "delivered"; detail?: string }
  /** 5xx, 429, network errors: try again later (retryAfterMs when the receiver said so). */
  | { outcome: "retry"; reason: string; retryAfterMs?: number }
  /** 4xx other than 429, bad configuration: retrying cannot help. */
  | { outcome: "give_up"; reason: string };

export interface Receiver {
  readonly name: string;
  readonly kind: string;
  /** Whether it can be told about acknowledgements (PagerDuty acknowledge, a Slack message). */
  readonly supportsAck: boolean;
  send(n: Notification, signal: AbortSignal): Promise<DeliveryResult>;
}
