// Alert commands between the collectors of a cluster, over Redis pub/sub. Each host's alerts are evaluated by the
// collector holding its stream; an acknowledgement, unacknowledgement or resolve that reaches another collector is
// published on `vigil:alert-commands:<cluster>`, the collector holding the alert applies it and answers on the asker's
// own channel `vigil:alert-replies:<cluster>:<collector>`. Pub/sub keeps nothing: a command nobody holds, or whose
// answer is lost, ends in a timeout the caller reports (applying a command twice is harmless: a second
// acknowledgement is no new event, a second resolve a conflict). Messages are checked (size, fields) before use:
// anyone who can publish on the Redis can send one. Waiting commands and commands being served are bounded.
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { z } from "zod";
import type { Logger } from "@vigil/shared";
import { TEXT_LIMITS } from "../api/ports.js";
import { CollectorError, CollectorErrors } from "../errors.js";
import type { AlertCommand, AlertCommandOutcome, AlertCommandRelay } from "../rules/ports.js";
import type { ClusterSubscriber } from "./subscriber.js";

/** Longest a command waits for the holder's answer. */
export const RELAY_TIMEOUT_MS = 3_000;
/** Commands waiting for an answer at once; past it the caller is told to retry (an API call holds each). */
const MAX_WAITING = 256;
/** Commands this collector applies at once for others. */
const MAX_SERVING = 64;
/** In characters: a comment of TEXT_LIMITS.comment characters (JSON-escaped newlines double) plus the envelope. */
const MAX_MESSAGE = 2 * TEXT_LIMITS.comment + 1_024;

const text = (max: number) => z.string().min(1).max(max);
const commandSchema = z.discriminatedUnion("op", [
  z.object({ op: z.literal("acknowledge"), id: text(64), by: text(TEXT_LIMITS.by), comment: z.string().max(TEXT_LIMITS.comment) }),
  z.object({ op: z.literal("unacknowledge"), id: text(64), by: text(TEXT_LIMITS.by) }),
  z.object({ op: z.literal("resolve"), id: text(64), by: text(TEXT_LIMITS.by) }),
]);
const requestSchema = z.object({ req: text(64), from: text(64), cmd: commandSchema });
const replySchema = z.object({
  req: text(64),
  outcome: z.union([z.object({ ok: z.literal(true) }), z.object({ ok: z.literal(false), code: text(64), message: z.string().max(2000) })]),
});

/** A message as published, or null when it is not JSON of that shape (or too long). */
export function parseRelayMessage<T>(schema: z.ZodType<T>, message: string): T | null {
  if (message.length > MAX_MESSAGE) return null;
  try {
    const v = schema.safeParse(JSON.parse(message));
    return v.success ? v.data : null;
  } catch {
    return null;
  }
}
export const parseRequest = (message: string) => parseRelayMessage(requestSchema, message);
export const parseReply = (message: string) => parseRelayMessage(replySchema, message);

const replyChannel = (cluster: string, collector: string) => `vigil:alert-replies:${cluster}:${collector}`;

export interface RedisAlertRelayOptions {
  redis: Redis;
  subscriber: ClusterSubscriber;
  cluster: string;
  collectorId: string;
  log: Logger;
  /** Applies a command when this collector holds the alert; null when it does not (another collector answers). */
  serve(cmd: AlertCommand): Promise<AlertCommandOutcome | null>;
  timeoutMs?: number;
}

export class RedisAlertRelay implements AlertCommandRelay {
  private readonly commands: string;
  private readonly replies: string;
  private readonly waiting = new Map<string, (outcome: AlertCommandOutcome) => void>();
  private serving = 0;

  constructor(private readonly opts: RedisAlertRelayOptions) {
    this.commands = `vigil:alert-commands:${opts.cluster}`;
    this.replies = replyChannel(opts.cluster, opts.collectorId);
  }

  start(): void {
    this.opts.subscriber.listen(this.commands, (m) => this.onCommand(m));
    this.opts.subscriber.listen(this.replies, (m) => {
      const reply = parseReply(m);
      if (reply) this.waiting.get(reply.req)?.(reply.outcome);
    });
  }

  async forward(cmd: AlertCommand): Promise<AlertCommandOutcome | null> {
    if (this.waiting.size >= MAX_WAITING) {
      throw new CollectorError(CollectorErrors.BUSY, `alert ${cmd.id}: ${MAX_WAITING} alert changes are waiting for other collectors; retry`);
    }
    const req = randomUUID();
    const answered = new Promise<AlertCommandOutcome | null>((resolve) => {
      const timer = setTimeout(() => finish(null), this.opts.timeoutMs ?? RELAY_TIMEOUT_MS);
      const finish = (outcome: AlertCommandOutcome | null) => {
        clearTimeout(timer);
        this.waiting.delete(req);
        resolve(outcome);
      };
      this.waiting.set(req, finish);
    });
    try {
      await this.opts.redis.publish(this.commands, JSON.stringify({ req, from: this.opts.collectorId, cmd }));
    } catch (err) {
      this.opts.log.warn({ alert: cmd.id, err: (err as Error).message }, "cannot forward an alert change: Redis unreachable");
      this.waiting.get(req)?.({ ok: false, code: CollectorErrors.ALERT_HOLDER_UNAVAILABLE, message: `alert ${cmd.id}: another collector evaluates it, and Redis, through which it is asked, is unreachable; retry` });
    }
    return answered;
  }

  private onCommand(message: string): void {
    const request = parseRequest(message);
    if (!request || this.serving >= MAX_SERVING) return;
    this.serving++;
    this.opts
      .serve(request.cmd)
      .then((outcome) => {
        if (!outcome) return;
        return this.opts.redis.publish(replyChannel(this.opts.cluster, request.from), JSON.stringify({ req: request.req, outcome }));
      })
      .catch((err: Error) => this.opts.log.warn({ alert: request.cmd.id, op: request.cmd.op, err: err.message }, "cannot answer another collector's alert change"))
      .finally(() => this.serving--);
  }
}
