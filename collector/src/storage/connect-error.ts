// Why a connection to PostgreSQL failed, in words a person can act on: the cause, and what to check. Only
// connection-level failures are described (network, DNS, TLS, authentication, a missing database); anything else is
// not a reachability problem and is left to the caller.
import { formatHostPort } from "@vigil/shared";

export interface ConnectFailure {
  cause: string;
  check: string;
}

/** host:port of a postgres:// URL (or the socket directory of `?host=/path`), never its credentials. */
export function databaseTarget(url: string): string {
  try {
    const u = new URL(url);
    const socket = u.searchParams.get("host");
    if (socket?.startsWith("/")) return `${socket} (unix socket)`;
    const host = (socket ?? u.hostname).replace(/^\[(.*)\]$/, "$1") || "localhost";
    return formatHostPort({ host, port: Number(u.port || 5432) });
  } catch {
    return "(unparsable URL)";
  }
}

type PgError = Error & { code?: string; hostname?: string };

const NETWORK: Record<string, ConnectFailure> = {
  ECONNREFUSED: { cause: "connection refused", check: "that PostgreSQL is running and listening on that address (listen_addresses, port) and that the host and port are right" },
  ENOTFOUND: { cause: "host name not found (DNS)", check: "the host name for typos, and this machine's DNS" },
  EAI_AGAIN: { cause: "host name lookup failed for now (DNS)", check: "this machine's DNS resolver" },
  ETIMEDOUT: { cause: "no answer (timed out)", check: "the host and port, and firewalls between here and the database" },
  EHOSTUNREACH: { cause: "host unreachable", check: "the host, routing and firewalls" },
  ENETUNREACH: { cause: "network unreachable", check: "the host, routing and firewalls" },
  ECONNRESET: { cause: "the connection was reset before PostgreSQL answered", check: "that the port is PostgreSQL's, and firewalls or proxies in between" },
  ENOENT: { cause: "no such unix socket", check: "the socket directory and that PostgreSQL is running" },
  EACCES: { cause: "permission denied", check: "access to the unix socket" },
};

// SQLSTATE classes and codes met while connecting (https://www.postgresql.org/docs/current/errcodes-appendix.html).
const SQLSTATE: Record<string, string> = {
  "28P01": "the user name and password",
  "28000": "the user name, and pg_hba.conf on the server for this client's address",
  "3D000": "the database name, or create it (createdb NAME)",
  "57P03": "the server: it is starting up, shutting down or in recovery",
  "53300": "max_connections on the server and what holds its connections",
  "42501": "the user's CONNECT privilege on the database",
};

const TLS = /SSL|TLS|certificate|self[- ]signed|altname/i;

export function describeConnectError(err: unknown): ConnectFailure | null {
  if (!(err instanceof Error)) return null;
  const e = err as PgError;
  const first = e.message.split("\n")[0]!;
  if (e.code && e.code in NETWORK) return NETWORK[e.code]!;
  if (e.code && e.code in SQLSTATE) return { cause: `the server said: ${first}`, check: SQLSTATE[e.code]! };
  if (e.code?.startsWith("08")) return { cause: `the server refused the connection: ${first}`, check: "the server's log" };
  if (/timeout/i.test(first)) return NETWORK.ETIMEDOUT!;
  if (/Connection terminated/i.test(first)) return NETWORK.ECONNRESET!;
  if (/password must be a string|no password was provided/i.test(first)) {
    return { cause: "the server asks for a password and none was given", check: "the password in the URL (user:password@host)" };
  }
  if (TLS.test(first) || e.code?.startsWith("ERR_TLS") || /CERT|SELF_SIGNED/.test(e.code ?? "")) {
    return { cause: `TLS: ${first}`, check: "sslmode and the server's certificate (sslrootcert)" };
  }
  return null;
}
