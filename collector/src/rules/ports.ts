import type { Labels } from "@vigil/shared";
import type { AlertEvent, AlertInstance } from "./types.js";

export interface Silence {
  id: string;
  /** Label matchers, same syntax as rules (`v`, `~re`, `!v`, `""` for absent). */
  matchers: Labels;
  startsAt: number;
  endsAt: number;
  comment: string;
  createdBy: string;
}

/** What alerting needs from storage; implemented in storage/, wired in service.ts. */
export interface AlertRepository {
  /** Pending and firing instances, to resume after a restart. */
  loadOpen(): Promise<AlertInstance[]>;
  /** Persists the transitions (events) and the instances' new state, in order. */
  save(events: readonly AlertEvent[]): Promise<void>;
  silences(nowMs: number): Promise<Silence[]>;
  /** Rules managed over the API: raw specs, validated by the caller. */
  apiRules(): Promise<{ name: string; spec: unknown }[]>;
}

export interface HostLastSeen {
  name: string;
  lastSeenMs: number;
  intervalMs: number;
}
