import { createHash } from "node:crypto";
import type { Notification } from "../types.js";

/**
 * sha256 of what a notification says, not of its identity: receiver, group, kind, escalation tier and, per alert (in id
 * order), id, state, severity and whether it is acknowledged. Two collectors (or one after a restart) producing the same
 * message get the same hash, so notification_log lets it out once. Ids, values and texts are left out; the minute the
 * message was made is in, so a reminder with unchanged content (a repeat, or firing again after an unack) is a new
 * message, while copies of one decision (made within the same minute) still collapse.
 */
export function contentHash(n: Notification): string {
  const alerts = n.alerts
    .map((a) => [a.id, a.state, a.severity, a.acknowledged !== null] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const canonical = JSON.stringify(["v2", n.receiver, n.groupKey, n.kind, n.tier, Math.floor(n.createdAt / 60_000), alerts]);
  return createHash("sha256").update(canonical).digest("hex");
}
