// Pure matching over a validated PolicyConfig: which routes an alert takes, which group it joins there, and which
// alerts an inhibit rule hides. Matchers are compiled once (same syntax as rules and silences).
import type { Labels } from "@vigil/shared";
import { compileMatchers, type SeriesMatcher } from "../../rules/matchers.js";
import type { AlertInstance } from "../../rules/types.js";
import type { InhibitRule, PolicyConfig, ResolvedRoute } from "./config.js";

interface CompiledRoute {
  route: ResolvedRoute;
  test: SeriesMatcher;
  children: CompiledRoute[];
}

interface CompiledInhibit {
  source: SeriesMatcher;
  target: SeriesMatcher;
  equal: string[];
}

/**
 * Labels routes and inhibit rules match on: the alert's labels plus its current `severity` (unless a label of
 * that name exists), so `match: { severity: critical }` pages on critical alerts only.
 */
export function matchLabels(a: Pick<AlertInstance, "labels" | "severity">): Labels {
  return a.labels.severity !== undefined ? a.labels : { ...a.labels, severity: a.severity };
}

const test = (m: SeriesMatcher, labels: Labels): boolean => m(labels.host ?? "", labels);

function compileRoute(route: ResolvedRoute): CompiledRoute {
  return { route, test: compileMatchers(route.match), children: route.routes.map(compileRoute) };
}

export interface GroupRef {
  route: ResolvedRoute;
  key: string;
  labels: Labels;
}

export class Router {
  private readonly root: CompiledRoute;
  private readonly inhibits: CompiledInhibit[];
  readonly byPath = new Map<string, ResolvedRoute>();

  constructor(config: PolicyConfig) {
    this.root = compileRoute(config.route);
    this.inhibits = config.inhibitRules.map((r: InhibitRule) => ({ source: compileMatchers(r.sourceMatch), target: compileMatchers(r.targetMatch), equal: r.equal }));
    const index = (r: ResolvedRoute): void => {
      this.byPath.set(r.path, r);
      r.routes.forEach(index);
    };
    index(config.route);
  }

  /** Alertmanager's walk: the deepest matching routes; among siblings the first match wins unless it has `continue`. */
  routes(labels: Labels): ResolvedRoute[] {
    const walk = (node: CompiledRoute): ResolvedRoute[] => {
      if (!test(node.test, labels)) return [];
      const out: ResolvedRoute[] = [];
      for (const child of node.children) {
        const hit = walk(child);
        out.push(...hit);
        if (hit.length > 0 && !child.route.continue) break;
      }
      return out.length > 0 ? out : [node.route];
    };
    return walk(this.root);
  }

  /** The groups an alert belongs to now, one per route it takes. */
  groupsOf(a: Pick<AlertInstance, "labels" | "severity">): GroupRef[] {
    const labels = matchLabels(a);
    return this.routes(labels).map((route) => {
      const picked: Labels = {};
      // "...": the alert's own labels (not the derived severity), so a severity change keeps the group.
      const names = route.groupBy === "all" ? Object.keys(a.labels).sort() : route.groupBy;
      for (const n of names) {
        const v = route.groupBy === "all" ? a.labels[n] : labels[n];
        if (v !== undefined && v !== "") picked[n] = v;
      }
      return { route, key: `${route.path}:${formatLabels(picked)}`, labels: picked };
    });
  }

  /** Ids of the alerts some inhibit rule hides: a firing source with the same `equal` labels exists. */
  inhibited(alerts: Iterable<AlertInstance>): Set<string> {
    const open: { a: AlertInstance; labels: Labels }[] = [];
    for (const a of alerts) if (a.state !== "resolved") open.push({ a, labels: matchLabels(a) });
    const out = new Set<string>();
    for (const rule of this.inhibits) {
      const key = (l: Labels): string => rule.equal.map((n) => l[n] ?? "").join("\u0000");
      const sources = new Map<string, string[]>();
      for (const { a, labels } of open) {
        // Silenced sources still inhibit (as in Alertmanager): silencing host-down must not unleash its symptoms.
        if (a.state !== "firing" || !test(rule.source, labels)) continue;
        const k = key(labels);
        sources.set(k, [...(sources.get(k) ?? []), a.id]);
      }
      if (sources.size === 0) continue;
      for (const { a, labels } of open) {
        if (out.has(a.id) || !test(rule.target, labels)) continue;
        if (sources.get(key(labels))?.some((id) => id !== a.id)) out.add(a.id);
      }
    }
    return out;
  }
}

/** `{alertname="cpu-high",host="web-1"}`: readable, and stable for a given label set. */
export function formatLabels(labels: Labels): string {
  return `{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(",")}}`;
}
