import { SharedErrors, VigilError } from "./errors.js";

export interface HostPort {
  host: string;
  port: number;
}

/** Parses "HOST:PORT", "[::1]:PORT" or ":PORT" (all interfaces). */
export function parseHostPort(text: string, what: string): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new VigilError(SharedErrors.BAD_HOST_PORT, `${what}: expected HOST:PORT (e.g. 127.0.0.1:4317), got ${JSON.stringify(text)}`);
  }
  const host = m[1] ?? m[2] ?? "";
  return { host: host === "" ? "0.0.0.0" : host, port };
}

export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
