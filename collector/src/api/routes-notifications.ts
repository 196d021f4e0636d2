import type { FastifyInstance } from "fastify";
import { badParam, CollectorError, CollectorErrors } from "../errors.js";
import { optionalString } from "./params.js";
import type { NotificationsApi } from "./ports.js";

const STATUSES = ["pending", "sending", "delivered", "dead"];

export function registerNotificationRoutes(app: FastifyInstance, { notifications }: { notifications: NotificationsApi }): void {
  app.get("/api/v1/notifications", { config: { access: "viewer" } }, async (req) => {
    const q = req.query as Record<string, unknown>;
    const status = optionalString(q, "status");
    if (status && !STATUSES.includes(status)) throw badParam("status", `expected one of ${STATUSES.join(", ")}, got ${JSON.stringify(status)}`);
    const alertId = optionalString(q, "alert");
    if (alertId && !/^[0-9a-f-]{36}$/i.test(alertId)) throw badParam("alert", "expected an alert id (uuid)");
    return { notifications: await notifications.list({ alertId, status, limit: 500 }) };
  });

  app.post("/api/v1/receivers/:name/test", { config: { access: "operator" } }, async (req) => {
    const name = (req.params as { name: string }).name;
    const r = await notifications.testReceiver(name);
    if (!r) throw new CollectorError(CollectorErrors.NOT_FOUND, `receiver ${JSON.stringify(name)} is not configured`);
    return { receiver: name, ...r };
  });
}
