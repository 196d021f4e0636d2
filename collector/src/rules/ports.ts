// What rules/ needs from storage: the alerting runtime's repository, and the alerting API's listings, silences, API
// rules and sample history. Implemented in storage/, wired in service.ts.
import type { Labels } from "@vigil/shared";
import type { Fence } from "../cluster/ports.js";
import type { AlertFilter, AlertView, EventPage, EventsPageQuery, SilenceInput } from "../api/ports.js";
import type { AlertEvent, SamplePoint } from "./types.js";

/** Active silences read at once: every alert is matched against each on every tick, so their number is bounded. */
export const SILENCES_MAX = 10_000;

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

/** What the alerting runtime needs from storage. */
export interface AlertRepository {
  /** Pending and firing instances as stored, all or one host's, to resume or take over (validated by the caller). */
  loadOpen(host?: string): Promise<{ id: string; instance: unknown }[]>;
  /**
   * Persists the transitions (events) and the instances' new state, in order. With a fence, only while no newer
   * fencing number of its lease has been recorded: else nothing is stored and it throws FencedOut.
   */
  save(events: readonly AlertEvent[], fence?: Fence): Promise<void>;
  /** Counts up the host's fencing number (lease `host:<name>`) and returns it: this collector takes the host over. */
  claimHost(host: string): Promise<Fence>;
  /** Records a newly acquired lease's fencing number, refusing every write under an older one from now on (FencedOut when stale already). */
  claimFence(fence: Fence): Promise<void>;
  /** Every host's last contact as stored by any collector: host-down is evaluated on the cluster's view. */
  hostsLastSeen(): Promise<HostLastSeen[]>;
  /** Silences not yet ended, as stored: at most SILENCES_MAX, the oldest-starting first. */
  silences(nowMs: number): Promise<StoredSilence[]>;
  /** Rules managed over the API: raw specs, validated by the caller. */
  apiRules(): Promise<{ name: string; spec: unknown }[]>;
}

export interface HostLastSeen {
  name: string;
  lastSeenMs: number;
  intervalMs: number;
}

/** What the alerting API (alerting-api.ts) needs from storage, besides the repository. */
export interface AlertingApiStore extends AlertRepository {
  listAlerts(f: AlertFilter): Promise<AlertView[]>;
  /** null when there is no such alert (or the id is no uuid). */
  getAlert(id: string): Promise<AlertView | null>;
  /** One page of an alert's events, newest page first, oldest first within the page. */
  alertEvents(id: string, q: EventsPageQuery): Promise<EventPage>;
  createSilence(s: SilenceInput): Promise<Silence>;
  /** Ends a silence now (kept for the record); false when there is no such silence still running. */
  expireSilence(id: string, nowMs: number): Promise<boolean>;
  apiRuleCount(): Promise<number>;
  apiRuleExists(name: string): Promise<boolean>;
  putApiRule(name: string, spec: unknown): Promise<void>;
  deleteApiRule(name: string): Promise<boolean>;
  /** A metric's raw samples over [startMs, endMs], in time order, a page at a time: what a dry run replays. */
  sampleHistory(metric: string, startMs: number, endMs: number): AsyncIterable<SamplePoint[]>;
}

/** All of alerting's storage. */
export type AlertStorage = AlertingApiStore;

/** A person's change to an alert, as the collector that received it asks the collector that evaluates the alert. */
export type AlertCommand =
  | { op: "acknowledge"; id: string; by: string; comment: string }
  | { op: "unacknowledge"; id: string; by: string }
  | { op: "resolve"; id: string; by: string };

/** How it went on the collector holding the alert: a failure carries its error catalogue code and message. */
export type AlertCommandOutcome = { ok: true } | { ok: false; code: string; message: string };

/**
 * Reaches the collector that evaluates an alert (each host's alerts live on the collector holding its stream), so a
 * change made through any collector of a cluster applies. Implemented over Redis in cluster/alert-relay.ts.
 */
export interface AlertCommandRelay {
  /** The holder's outcome, or null when no collector answered in time. */
  forward(cmd: AlertCommand): Promise<AlertCommandOutcome | null>;
}
