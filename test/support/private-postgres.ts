// A throw-away PostgreSQL cluster of the test's own (initdb in a temp dir, its own port), so a test can stop and
// start the server under a running collector without disturbing the shared server other tests use.
import { execFile, execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const run = promisify(execFile);

/** Where Debian/Ubuntu put the server binaries; override with VIGIL_TEST_PG_BIN. */
export const PG_BIN = process.env.VIGIL_TEST_PG_BIN ?? "/usr/lib/postgresql/15/bin";

export function privatePostgresAvailable(): boolean {
  return existsSync(join(PG_BIN, "initdb")) && existsSync(join(PG_BIN, "pg_ctl"));
}

export interface PrivatePostgres {
  /** postgres:// URL of a database created for the test. */
  url: string;
  port: number;
  dir: string;
  /** `pg_ctl stop -m fast`: clients are disconnected, the port refuses connections until `start()`. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server (if running) and deletes the cluster; safe to call more than once. */
  destroy(): Promise<void>;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve, reject) => {
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** initdb and pg_ctl refuse to run as root, so as root they run as the `postgres` OS user, which owns the dir. */
function asServerUser(): { wrap: (cmd: string, args: string[]) => [string, string[]]; chown: (path: string) => void } {
  if (process.getuid?.() !== 0) return { wrap: (cmd, args) => [cmd, args], chown: () => {} };
  const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
  const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
  return { wrap: (cmd, args) => ["runuser", ["-u", "postgres", "--", cmd, ...args]], chown: (path) => chownSync(path, uid, gid) };
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const user = asServerUser();
  const dir = mkdtempSync(join(tmpdir(), "vigil-pg-"));
  user.chown(dir);
  const data = join(dir, "data");
  const port = await freePort();
  const exec = async (cmd: string, args: string[]) => {
    const [c, a] = user.wrap(join(PG_BIN, cmd), args);
    try {
      await run(c, a, { timeout: 60_000 });
    } catch (err) {
      const e = err as Error & { stderr?: string };
      throw new Error(`${cmd} ${args.join(" ")} failed: ${e.message}\n${e.stderr ?? ""}`);
    }
  };
  let running = false;
  const start = async () => {
    // The socket goes in the temp dir too (the default /var/run/postgresql may not be ours to write);
    // fsync off: the cluster is disposable and the test measures delivery, not durability of this server.
    await exec("pg_ctl", ["-D", data, "-l", join(dir, "server.log"), "-w", "-t", "60", "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, "start"]);
    running = true;
  };
  const stop = async (mode: "fast" | "immediate" = "fast") => {
    await exec("pg_ctl", ["-D", data, "-m", mode, "-w", "-t", "60", "stop"]);
    running = false;
  };
  try {
    await exec("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "-N"]);
    await start();
    const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
    await admin.connect();
    try {
      await admin.query("CREATE DATABASE vigil_outage");
    } finally {
      await admin.end();
    }
  } catch (err) {
    if (running) await stop("immediate").catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let destroyed = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/vigil_outage`,
    port,
    dir,
    stop: () => stop("fast"),
    start,
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      // Immediate: nothing in it needs keeping. pg_ctl says the server is stopped even if we lost track.
      if (running || existsSync(join(data, "postmaster.pid"))) await stop("immediate").catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
