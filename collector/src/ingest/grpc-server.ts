import * as grpc from "@grpc/grpc-js";
import { ingestServiceDefinition } from "@vigil/proto";
import { formatHostPort, type HostPort } from "@vigil/shared";
import { serveAgentStream, type AgentStreamDeps } from "./agent-stream.js";
import { SeriesShapes } from "./series-shapes.js";

export interface GrpcTls {
  cert: Buffer;
  key: Buffer;
  /** When set, agents must present a client certificate signed by this CA (mTLS). */
  clientCa?: Buffer;
}

export interface GrpcServerOptions extends AgentStreamDeps {
  listen: HostPort;
  /** Plaintext when absent. */
  tls?: GrpcTls;
  /** Largest message accepted, so one oversized batch cannot exhaust memory. */
  maxMessageBytes: number;
}

export interface RunningGrpcServer {
  port: number;
  close(): Promise<void>;
}

function credentials(tls: GrpcTls | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(tls.clientCa ?? null, [{ private_key: tls.key, cert_chain: tls.cert }], tls.clientCa !== undefined);
}

export async function startGrpcServer(opts: GrpcServerOptions): Promise<RunningGrpcServer> {
  const server = new grpc.Server({
    "grpc.max_receive_message_length": opts.maxMessageBytes,
    "grpc.keepalive_time_ms": 30_000,
    "grpc.keepalive_permit_without_calls": 1,
  });
  // Undecodable bytes never reach the stream handler (grpc-js answers INTERNAL itself); count and log them here.
  const definition = {
    connect: {
      ...ingestServiceDefinition.connect,
      requestDeserialize: (b: Buffer) => {
        try {
          return ingestServiceDefinition.connect.requestDeserialize(b);
        } catch (err) {
          opts.stats.protocolErrors++;
          opts.log.warn({ bytes: b.length, err: (err as Error).message }, "malformed protobuf from agent");
          throw new Error(`malformed AgentMessage (${b.length} bytes): ${(err as Error).message}`);
        }
      },
    },
  };
  const shapes = new SeriesShapes();
  server.addService(definition, {
    connect: (call: Parameters<typeof serveAgentStream>[0]) => void serveAgentStream(call, opts, shapes),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(formatHostPort(opts.listen), credentials(opts.tls), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        // Give streams a moment to finish acks, then cut them.
        const t = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2000);
        server.tryShutdown(() => {
          clearTimeout(t);
          resolve();
        });
      }),
  };
}
