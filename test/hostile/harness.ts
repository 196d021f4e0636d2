// The hostile-input suite's shared parts (issue 9): one collector process and one real agent live through every item;
// each item file under items/ exports `item: HostileItem` and is run in file-name order by hostile.test.ts.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type pg from "pg";
import { COLLECTOR_BIN, type CollectorProc } from "../support/processes.js";

const run = promisify(execFile);

export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

export interface HostileContext {
  collector: CollectorProc;
  /** Agent tokens by name, created (as items asked) before the collector started. */
  tokens: Record<string, string>;
  /** The real agent's host name: it streams every second throughout the suite, and must never see a gap. */
  agentHost: string;
  /** The suite's database when it runs on PostgreSQL; undefined on PGlite (locked by the collector process). */
  pg: pg.Pool | undefined;
  /** The database URL the collector uses, or undefined on PGlite. */
  databaseUrl: string | undefined;
  /** The collector's config file (JSON, a subset of YAML), built from every item's `config`. */
  configPath: string;
  /** A temporary directory for the whole suite (removed at the end). */
  tmp: string;
  /** An HTTP call to the collector; `path` starts with "/". A string body is sent as is, anything else as JSON. */
  http(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<HttpAnswer>;
}

export interface HostileItem {
  /** "N. what is tried", N being the item's number in issue 9. */
  title: string;
  /** Agent tokens to create before the collector starts (names must be unique across items). */
  tokens?: { name: string; anyHost?: boolean }[];
  /** Collector config merged into the suite's config file (objects merge, arrays concatenate). */
  config?: Record<string, unknown>;
  run(ctx: HostileContext): Promise<void>;
}

export async function httpCall(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    if (typeof body !== "string") (init.headers as Record<string, string>)["content-type"] ??= "application/json";
  }
  const r = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(60_000) });
  const text = await r.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, headers: r.headers, text, json };
}

/** Merges item configs: objects merge key by key, arrays concatenate, other values must not collide. */
export function mergeConfig(into: Record<string, unknown>, from: Record<string, unknown>, path = ""): void {
  for (const [k, v] of Object.entries(from)) {
    const cur = into[k];
    if (cur === undefined) into[k] = v;
    else if (Array.isArray(cur) && Array.isArray(v)) into[k] = [...cur, ...v];
    else if (isObject(cur) && isObject(v)) mergeConfig(cur, v, `${path}${k}.`);
    else if (JSON.stringify(cur) !== JSON.stringify(v)) throw new Error(`hostile items disagree on config ${path}${k}`);
  }
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

/** `vigil-collector token create`, before the collector holds the database. */
export async function createToken(name: string, anyHost: boolean, env: NodeJS.ProcessEnv, configPath: string): Promise<string> {
  const { stdout } = await run(process.execPath, [COLLECTOR_BIN, "token", "create", "--config", configPath, "--name", name, ...(anyHost ? ["--any-host"] : [])], {
    env: { ...process.env, ...env },
  });
  return stdout.trim();
}

/** The collector's resident set size, in bytes (Linux). */
export async function rssBytes(pid: number): Promise<number> {
  const { readFile } = await import("node:fs/promises");
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (!m) throw new Error("no VmRSS in /proc/PID/status");
  return Number(m[1]) * 1024;
}
