// Notification policy: routing, grouping, inhibition, repeats, acknowledgements and escalation (see README.md here).
export * from "./config.js";
export { NotificationPolicy, type NotificationPolicyOptions, type PolicySnapshot } from "./policy.js";
export type { GroupState, ReceiverState } from "./group.js";
export { Router, formatLabels, matchLabels } from "./router.js";
