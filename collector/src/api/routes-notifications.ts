import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { CollectorError, CollectorErrors } from "../errors.js";
import type { NotificationsApi } from "./ports.js";
import { optionalOneOf, optionalText } from "./request-schemas.js";
import { notificationList, receiverTest } from "./view-schemas.js";

const ALERT_ID = /^[0-9a-f-]{36}$/i;

export function registerNotificationRoutes(app: FastifyInstance, { notifications }: { notifications: NotificationsApi }): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const tags = ["notifications"];

  api.get(
    "/api/v1/notifications",
    {
      config: { access: "viewer" },
      schema: {
        summary: "List notifications and their delivery",
        tags,
        querystring: z.object({
          status: optionalOneOf(["pending", "sending", "delivered", "dead"], "only notifications in this delivery state"),
          alert: optionalText("only notifications about this alert (its id)").refine((v) => v === undefined || ALERT_ID.test(v), "expected an alert id (uuid)"),
        }),
        response: { 200: notificationList },
      },
    },
    async (req) => ({ notifications: await notifications.list({ alertId: req.query.alert, status: req.query.status, limit: 500 }) }),
  );

  api.post(
    "/api/v1/receivers/:name/test",
    {
      config: { access: "operator" },
      schema: { summary: "Send a test message to a receiver", tags, params: z.object({ name: z.string() }), response: { 200: receiverTest } },
    },
    async (req) => {
      const { name } = req.params;
      const r = await notifications.testReceiver(name);
      if (!r) throw new CollectorError(CollectorErrors.NOT_FOUND, `receiver ${JSON.stringify(name)} is not configured`);
      return { receiver: name, ...r };
    },
  );
}
