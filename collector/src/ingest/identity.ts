import type { HostOwner } from "./ports.js";

/** Why a Hello may not register as an existing host: the `reason` label of vigil_ingest_identity_refusals_total. */
export type IdentityRefusalReason = "host_token" | "agent_id";

export interface IdentityClaim {
  hostname: string;
  agentId: string;
  /** The stream's token is an --any-host (fleet) token, or auth is off. */
  anyHost: boolean;
}

export type IdentityDecision = { ok: true; takeover: boolean } | { ok: false; reason: IdentityRefusalReason; message: string };

// A host is live while it has reported within this many of its intervals (as the host-down rule counts), at least 30 s.
const LIVE_INTERVALS = 3;
const MIN_LIVE_MS = 30_000;

/**
 * Binds a host to one agent identity. A host that has its own token cannot be written with a fleet token. Another agent
 * id is refused while the host is live; after that, only a host's own token may move it to a new agent id (a reinstalled
 * machine), since a fleet token proves nothing about which machine it is on. `allowAgentIdChange` lifts the agent id rule.
 */
export function decideIdentity(claim: IdentityClaim, owner: HostOwner, nowMs: number, allowAgentIdChange: boolean): IdentityDecision {
  const host = JSON.stringify(claim.hostname);
  if (claim.anyHost && owner.tokenBound) {
    return { ok: false, reason: "host_token", message: `host ${host} has its own token; a fleet (--any-host) token may not write as it` };
  }
  if (owner.agentId === claim.agentId) return { ok: true, takeover: false };
  if (allowAgentIdChange) return { ok: true, takeover: true };
  const silentMs = nowMs - owner.lastSeenMs;
  const liveMs = Math.max(LIVE_INTERVALS * owner.intervalMs, MIN_LIVE_MS);
  const ids = `agent id ${JSON.stringify(owner.agentId)}, not ${JSON.stringify(claim.agentId)}`;
  if (silentMs < liveMs) {
    return { ok: false, reason: "agent_id", message: `host ${host} is live under ${ids} (last seen ${Math.round(silentMs / 1000)}s ago); set ingest.allow_agent_id_change to allow it` };
  }
  if (claim.anyHost) {
    return { ok: false, reason: "agent_id", message: `host ${host} belongs to ${ids}; only its own token (or ingest.allow_agent_id_change) may move it` };
  }
  return { ok: true, takeover: true };
}
