import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import type { AgentConfig } from "../config.js";

export interface ChannelSetup {
  credentials: grpc.ChannelCredentials;
  options: grpc.ChannelOptions;
  /** TLS without a configured server name: each dialed address is verified against the name it was resolved from. */
  verifyResolvedName: boolean;
}

/** Verify the collector's certificate against `name` (and send it as the authority), whatever address is dialed. */
const serverNameOptions = (name: string): grpc.ChannelOptions => ({ "grpc.ssl_target_name_override": name, "grpc.default_authority": name });

/** Plaintext unless TLS is asked for (tls.enabled, a CA, or a client certificate for mTLS). */
export function channelSetup(tls: AgentConfig["tls"]): ChannelSetup {
  const wantTls = tls.enabled || tls.ca !== undefined || tls.cert !== undefined;
  if (!wantTls) return { credentials: grpc.credentials.createInsecure(), options: {}, verifyResolvedName: false };
  const credentials = grpc.credentials.createSsl(
    tls.ca ? readFileSync(tls.ca) : null,
    tls.key ? readFileSync(tls.key) : null,
    tls.cert ? readFileSync(tls.cert) : null,
  );
  if (tls.server_name) return { credentials, options: serverNameOptions(tls.server_name), verifyResolvedName: false };
  return { credentials, options: {}, verifyResolvedName: true };
}

/**
 * The options to dial one address. The agent resolves DNS names itself and dials the IP, so over TLS the name
 * it resolved is what the certificate must match, as if grpc-js had dialed the name.
 */
export function dialOptions(setup: ChannelSetup, resolvedFrom: string | undefined): grpc.ChannelOptions {
  return setup.verifyResolvedName && resolvedFrom !== undefined ? { ...setup.options, ...serverNameOptions(resolvedFrom) } : setup.options;
}

/** The agent token: inline, or read from a file (trailing newline ignored). */
export function readToken(c: Pick<AgentConfig, "token" | "token_file">): string | undefined {
  if (c.token) return c.token;
  if (c.token_file) return readFileSync(c.token_file, "utf8").trim();
  return undefined;
}
