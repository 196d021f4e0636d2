// Notifications as the dispatcher would hand them to receivers, with defaults a test overrides field by field.
import type { Notification, NotifiedAlert } from "../../src/notify/types.js";

export const T0 = Date.UTC(2025, 2, 1, 12, 0, 0);

export function fakeAlert(over: Partial<NotifiedAlert> = {}): NotifiedAlert {
  return {
    id: "a1",
    rule: "disk-full",
    state: "firing",
    severity: "critical",
    labels: { host: "web-1", mountpoint: "/" },
    summary: "filesystem / on web-1 is 97% full",
    value: 0.9731,
    activeSince: T0 - 15 * 60_000,
    firingSince: T0 - 10 * 60_000,
    resolvedAt: null,
    acknowledged: null,
    ...over,
  };
}

export function fakeNotification(over: Partial<Notification> = {}): Notification {
  return {
    id: "n-1",
    receiver: "ops",
    groupKey: '{}/{severity="critical"}:{alertname="disk-full", host="web-1"}',
    groupLabels: { alertname: "disk-full", host: "web-1" },
    kind: "firing",
    tier: 0,
    alerts: [fakeAlert()],
    url: "https://vigil.example.com/alerts/a1",
    createdAt: T0,
    ...over,
  };
}

/** The same group, resolved. */
export function resolvedOf(n: Notification, at = T0 + 60_000): Notification {
  return { ...n, id: `${n.id}-resolved`, kind: "resolved", createdAt: at, alerts: n.alerts.map((a) => ({ ...a, state: "resolved", resolvedAt: at })) };
}

/** The same group, acknowledged by `by`. */
export function acknowledgedOf(n: Notification, by = "alice", comment = "looking into it"): Notification {
  const at = T0 + 30_000;
  return { ...n, id: `${n.id}-ack`, kind: "acknowledged", createdAt: at, alerts: n.alerts.map((a) => ({ ...a, acknowledged: { by, at, comment } })) };
}
