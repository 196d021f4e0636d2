import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import type { AgentConfig } from "../config.js";

export interface ChannelSetup {
  credentials: grpc.ChannelCredentials;
  options: grpc.ChannelOptions;
}

/** Plaintext unless TLS is asked for (tls.enabled, a CA, or a client certificate for mTLS). */
export function channelSetup(tls: AgentConfig["tls"]): ChannelSetup {
  const wantTls = tls.enabled || tls.ca !== undefined || tls.cert !== undefined;
  if (!wantTls) return { credentials: grpc.credentials.createInsecure(), options: {} };
  const credentials = grpc.credentials.createSsl(
    tls.ca ? readFileSync(tls.ca) : null,
    tls.key ? readFileSync(tls.key) : null,
    tls.cert ? readFileSync(tls.cert) : null,
  );
  const options: grpc.ChannelOptions = tls.server_name ? { "grpc.ssl_target_name_override": tls.server_name, "grpc.default_authority": tls.server_name } : {};
  return { credentials, options };
}

/** The agent token: inline, or read from a file (trailing newline ignored). */
export function readToken(c: Pick<AgentConfig, "token" | "token_file">): string | undefined {
  if (c.token) return c.token;
  if (c.token_file) return readFileSync(c.token_file, "utf8").trim();
  return undefined;
}
