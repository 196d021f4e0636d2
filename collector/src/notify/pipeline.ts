// Builds the notification pipeline: receivers, policy (restored), dispatcher → outbox, delivery worker, and the API view.
import { randomUUID } from "node:crypto";
import type { Clock, Logger } from "@vigil/shared";
import type { NotificationsApi } from "../api/ports.js";
import type { CollectorConfig } from "../config.js";
import { DeliveryWorker } from "./delivery/index.js";
import { Dispatcher } from "./dispatcher.js";
import type { NotifyStateStore, OutboxStatus, OutboxStorage } from "./ports.js";
import { createReceiver } from "./receivers/index.js";
import { NotificationPolicy } from "./routing/index.js";
import type { Receiver } from "./types.js";

export interface NotificationPipeline {
  dispatcher: Dispatcher;
  api: NotificationsApi;
  stop(): Promise<void>;
}

export async function startNotifications(opts: {
  outbox: OutboxStorage;
  state: NotifyStateStore;
  config: CollectorConfig;
  clock: Clock;
  log: Logger;
  /** Removes the configuration's secrets from delivery errors before they are stored or logged. */
  redact: (text: string) => string;
}): Promise<NotificationPipeline> {
  const { outbox, state, config, clock, log, redact } = opts;
  const receivers = new Map<string, Receiver>(config.receivers.map((c) => [c.name, createReceiver(c)]));
  const policy = new NotificationPolicy({
    config: config.notificationPolicy,
    clock,
    receiverSupportsAck: (name) => receivers.get(name)?.supportsAck ?? false,
    restore: await state.loadSnapshot(),
  });
  const worker = new DeliveryWorker({
    store: outbox,
    receivers,
    clock,
    log: log.child({ component: "delivery" }),
    workerId: randomUUID(),
    pollMs: 1000,
    batchSize: 50,
    backoff: { initialMs: 1000, maxMs: 5 * 60_000 },
    breaker: { failureThreshold: 5, openMs: 30_000 },
    timeoutMs: 10_000,
    redact,
  });
  const dispatcher = new Dispatcher({ policy, persistence: state, clock, log: log.child({ component: "notify" }), onEnqueued: () => worker.kick() });
  if (receivers.size > 0) {
    worker.start();
    dispatcher.start();
  }
  log.info({ receivers: [...receivers.keys()] }, receivers.size > 0 ? "notifications enabled" : "no notification receivers configured");
  return {
    dispatcher,
    api: {
      list: (f) => outbox.list({ alertId: f.alertId, status: f.status as OutboxStatus | undefined, limit: f.limit }),
      async testReceiver(name) {
        const r = receivers.get(name);
        if (!r) return null;
        const now = clock.now();
        const result = await r.send(
          {
            id: randomUUID(),
            receiver: name,
            groupKey: "test",
            groupLabels: { alertname: "vigil-test" },
            kind: "test",
            tier: 0,
            url: config.externalUrl,
            createdAt: now,
            alerts: [
              { id: randomUUID(), rule: "vigil-test", state: "firing", severity: "warning", labels: { alertname: "vigil-test", host: "vigil" }, summary: "Test notification from Vigil", value: 0, activeSince: now, firingSince: now, resolvedAt: null, acknowledged: null },
            ],
          },
          AbortSignal.timeout(10_000),
        );
        const detail = result.outcome === "delivered" ? (result.detail ?? "") : result.reason;
        log.info({ receiver: name, outcome: result.outcome, detail }, "receiver test");
        return { outcome: result.outcome, detail };
      },
    },
    async stop() {
      await dispatcher.stop();
      await worker.stop();
    },
  };
}
