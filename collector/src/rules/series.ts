// Per-series evaluation state: which rules read the series (bound once, rebound on reload), its window, its alerts.
import type { Labels } from "@vigil/shared";
import type { CompiledLevels, CompiledRule } from "./compile.js";
import type { LiveAlert } from "./state-machine.js";
import { SampleWindow } from "./windows.js";

export interface EngineAlert extends LiveAlert {
  /** The series a sample-driven alert belongs to; null until its first sample (restored) or for checks/hosts. */
  series: SeriesState | null;
}

/** What absence and check evaluation need from the engine's alert registry. */
export interface AlertContext {
  alertsByKey: Map<string, EngineAlert>;
  create(rule: CompiledRule, key: string, labels: Labels, metric: string, value: number, now: number, series: SeriesState | null): EngineAlert;
  register(a: EngineAlert): void;
  drop(a: EngineAlert): void;
}

export interface SeriesState {
  key: string;
  metric: string;
  host: string;
  labels: Labels;
  /** Rules reading this series, and for each its levels (the first matching override's, or the rule's). */
  rules: CompiledRule[];
  levels: (CompiledLevels | null)[];
  hasAbsent: boolean;
  windowMs: number;
  window: SampleWindow | null;
  /** Sample time of the newest point: older or equal points are dropped (replays, resends). */
  lastTime: number;
  lastValue: number;
  /** Clock time of the last point, for absence. */
  lastSeenAt: number;
  alerts: Map<string, EngineAlert>;
}

const PLAIN_NAME = /^[A-Za-z_][\w.:-]*$/;

/** `metric{host="h",k="v"}` with keys sorted: readable, stable across restarts, no NUL (fits a text column). */
export function seriesKey(metric: string, host: string, labels: Labels): string {
  const keys = Object.keys(labels).sort();
  let s = `${metric}{host=${JSON.stringify(host)}`;
  for (const k of keys) {
    if (k === "host") continue;
    s += `,${PLAIN_NAME.test(k) ? k : JSON.stringify(k)}=${JSON.stringify(labels[k])}`;
  }
  return `${s}}`;
}

export function instanceKey(ruleName: string, series: string): string {
  return `${ruleName} ${series}`;
}

export function newSeries(key: string, metric: string, host: string, labels: Labels): SeriesState {
  return { key, metric, host, labels: { ...labels }, rules: [], levels: [], hasAbsent: false, windowMs: 0, window: null, lastTime: -Infinity, lastValue: NaN, lastSeenAt: 0, alerts: new Map() };
}

/** Binds `s` to the rules among `candidates` that match it; returns false when none does. */
export function bindSeries(s: SeriesState, candidates: readonly CompiledRule[]): boolean {
  s.rules = [];
  s.levels = [];
  s.windowMs = 0;
  s.hasAbsent = false;
  for (const r of candidates) {
    if (!r.matcher(s.host, s.labels)) continue;
    s.rules.push(r);
    if (r.kind === "absent") {
      s.hasAbsent = true;
      s.levels.push(null);
      continue;
    }
    if (r.kind !== "threshold" && r.kind !== "rate") {
      s.levels.push(null);
      continue;
    }
    let lv = r.levels;
    for (const o of r.overrides) {
      if (o.matcher(s.host, s.labels)) {
        lv = o.levels;
        break;
      }
    }
    s.levels.push(lv);
    if (r.windowMs > s.windowMs) s.windowMs = r.windowMs;
  }
  if (s.windowMs > 0) s.window ??= new SampleWindow();
  else s.window = null;
  return s.rules.length > 0;
}
