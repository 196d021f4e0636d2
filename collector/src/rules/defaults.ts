// The rules the collector ships with. Each is on unless disabled by name; a user rule with the same name replaces it.
import { parseRuleFile } from "./rule-loader.js";
import type { Rule } from "./types.js";

export const DEFAULT_RULES_YAML = `
rules:
  # Total CPU only: per-core series carry a cpu label, cpu: "" selects the series without one.
  # Usage is 1 - idle, so "usage above 80 % / 95 %" is "idle below 20 % / 5 %".
  - name: cpu-high
    kind: threshold
    description: CPU usage above 80 % (warning) or 95 % (critical), averaged over 5 minutes, for 5 minutes.
    metric: system.cpu.utilization
    match: { state: idle, cpu: "" }
    reduce: { fn: avg, over: 5m }
    warning: { op: "<", value: 0.20 }
    critical: { op: "<", value: 0.05 }
    for: 5m
    summary: "CPU on {{host}} is busy: only {{value | percent}} idle (5-minute average)"

  - name: memory-high
    kind: threshold
    description: Memory used above 80 % (warning) or 95 % (critical) for 5 minutes.
    metric: system.memory.utilization
    match: { state: used }
    warning: { op: ">", value: 0.80 }
    critical: { op: ">", value: 0.95 }
    for: 5m
    summary: "Memory on {{host}} is {{value | percent}} used"

  - name: filesystem-full
    kind: threshold
    description: A filesystem above 85 % (warning) or 95 % (critical) full for 5 minutes.
    metric: system.filesystem.utilization
    warning: { op: ">", value: 0.85 }
    critical: { op: ">", value: 0.95 }
    for: 5m
    summary: "Filesystem {{labels.mountpoint}} ({{labels.device}}) on {{host}} is {{value | percent}} full"

  # No for: the engine waits max(3 x the host's interval, 30 s) after its last report.
  - name: host-down
    kind: absent
    description: The host has sent nothing for 3 of its intervals (at least 30 s).
    host_down: true
    severity: critical
    summary: "Host {{host}} has sent nothing since {{last_seen}}"

  - name: check-failing
    kind: check
    description: A health check unhealthy for 1 minute (critical) or degraded or worse for 5 minutes (warning).
    severity_for: { unhealthy: critical, degraded: warning }
    for: { critical: 1m, warning: 5m }
    summary: "Check {{check}} on {{host}} is {{status}}: {{message}}"

  # The collector's own series, evaluated after each storage maintenance run (README "Storage size"): host is the
  # collector's. Growth is a week's average already, so no for; clear levels keep a value near a level from flapping.
  - name: storage-filling
    kind: threshold
    description: At its growth of the last week, the database's volume fills within 7 days (warning) or 2 days (critical).
    metric: vigil.storage.days_until_full
    warning: { op: "<", value: 7, clear: 8 }
    critical: { op: "<", value: 2, clear: 3 }
    summary: "Vigil's database volume (collector {{host}}) fills in about {{value}} days at its current growth"
`;

let cached: readonly Rule[] | undefined;

/** The default rules (validated once; a broken default is a bug, so it throws). */
export function defaultRules(): Rule[] {
  if (!cached) {
    const r = parseRuleFile("<default rules>", DEFAULT_RULES_YAML);
    if (r.errors.length > 0) throw new Error(`invalid default rules:\n${r.errors.join("\n")}`);
    cached = r.rules;
  }
  return structuredClone([...cached]);
}

export const DEFAULT_RULE_NAMES = ["cpu-high", "memory-high", "filesystem-full", "host-down", "check-failing", "storage-filling"] as const;
