// A local HTTP server standing in for Slack, PagerDuty or a webhook consumer: it records every request with its
// raw body (so tests can verify signatures over the exact bytes) and answers with whatever the test scripts.
import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Answer only after this long (for timeout tests). */
  delayMs?: number;
}

export type Responder = (req: RecordedRequest) => Reply;

export interface FakeHttp {
  url: string;
  requests: RecordedRequest[];
  /** Replaces the responder for the following requests. */
  respond(r: Responder | Reply): void;
  close(): Promise<void>;
}

export async function startFakeHttp(initial: Responder | Reply = { status: 200, body: "ok" }): Promise<FakeHttp> {
  let responder: Responder = typeof initial === "function" ? initial : () => initial;
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const rec: RecordedRequest = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      requests.push(rec);
      const reply = responder(rec);
      const timer = setTimeout(() => {
        res.writeHead(reply.status, reply.headers ?? {});
        res.end(reply.body ?? "");
      }, reply.delayMs ?? 0);
      res.on("close", () => clearTimeout(timer));
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respond(r) {
      responder = typeof r === "function" ? r : () => r;
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = createServer();
  s.listen(0, "127.0.0.1");
  await once(s, "listening");
  const { port } = s.address() as AddressInfo;
  s.close();
  await once(s, "close");
  return port;
}
