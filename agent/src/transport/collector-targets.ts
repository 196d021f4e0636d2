// The `collector` setting: the collectors the agent may stream to, in order of preference. Each entry is an IP
// address or a DNS name with a port; a name may resolve to several addresses (see collector-candidates.ts).
import { isIP } from "node:net";
import type { HostPort } from "@vigil/shared";
import { z } from "zod";

/** Bounds the list: every entry costs a connect attempt per round. */
export const MAX_COLLECTORS = 16;

const ENTRY = /^(?:\[([^\]]*)\]|([^:\s[\]]+)):(\d{1,5})$/;
// RFC 1123 labels; '_' too, as container and service names often have it.
const LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

/** An entry as shown in a message: quoted, and cut short, so a hostile value cannot flood the log. */
const show = (s: string): string => JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);

function validName(host: string): boolean {
  const name = host.endsWith(".") ? host.slice(0, -1) : host;
  return name.length > 0 && name.length <= 253 && name.split(".").every((l) => LABEL.test(l));
}

/** One entry as HOST:PORT, or the reason it is not one. */
function parseEntry(text: string): HostPort | string {
  const m = ENTRY.exec(text);
  if (!m) return 'expected HOST:PORT, e.g. "collector.example:4770" or "[2001:db8::1]:4770"';
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return "the port must be between 1 and 65535";
  if (m[1] !== undefined) return isIP(m[1]) === 6 ? { host: m[1], port } : "not an IPv6 address between the brackets";
  const host = m[2]!;
  return isIP(host) === 4 || validName(host) ? { host, port } : "not a valid host name or IPv4 address";
}

/** "a:4770,b:4770" (flag, env, file) or a YAML list; at least one and at most MAX_COLLECTORS, none twice. */
export const zCollectorTargets = z.union([z.string(), z.array(z.unknown())]).transform((v, ctx): HostPort[] => {
  const fail = (message: string) => {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message });
    return z.NEVER;
  };
  const items = typeof v === "string" ? (v.trim() === "" ? [] : v.split(",")) : v;
  if (items.length === 0) return fail("at least one collector is needed, got an empty value");
  if (items.length > MAX_COLLECTORS) return fail(`at most ${MAX_COLLECTORS} collectors, got ${items.length}`);
  const out: HostPort[] = [];
  const seen = new Set<string>();
  for (const [i, item] of items.entries()) {
    if (typeof item !== "string") return fail(`entry ${i + 1}: expected a string "HOST:PORT", got ${typeof item === "object" ? JSON.stringify(item)?.slice(0, 80) : String(item)}`);
    const text = item.trim();
    if (text === "") return fail(`entry ${i + 1} is empty (a stray comma?)`);
    const parsed = parseEntry(text);
    if (typeof parsed === "string") return fail(`entry ${i + 1} ${show(text)}: ${parsed}`);
    const key = `${parsed.host.toLowerCase()}:${parsed.port}`;
    if (seen.has(key)) return fail(`entry ${i + 1} ${show(text)} is listed twice`);
    seen.add(key);
    out.push(parsed);
  }
  return out;
});
