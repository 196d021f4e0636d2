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

/** A silence as stored: its matchers are checked when read (a row may predate today's rules or be edited by hand). */
export interface StoredSilence extends Omit<Silence, "matchers"> {
  matchers: unknown;
}

/** What alerting needs from storage; implemented in storage/, wired in service.ts. */
export interface AlertRepository {
  /** Pending and firing instances as stored, to resume after a restart (validated by the caller). */
  loadOpen(): Promise<{ id: string; instance: unknown }[]>;
  /** Persists the transitions (events) and the instances' new state, in order. */
  save(events: readonly AlertEvent[]): Promise<void>;
  /** Silences not yet ended, as stored. */
  silences(nowMs: number): Promise<StoredSilence[]>;
  /** Rules managed over the API: raw specs, validated by the caller. */
  apiRules(): Promise<{ name: string; spec: unknown }[]>;
}

export interface HostLastSeen {
  name: string;
  lastSeenMs: number;
  intervalMs: number;
}
