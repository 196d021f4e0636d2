// A TCP relay the test controls, standing in for the network between an agent and the collector:
// agent → proxy → target. `cut()` breaks the path, `restore()` heals it.
import net from "node:net";

/** What happens to connections opened while the path is cut. */
export type CutMode =
  /** Accepted and reset at once: the client sees ECONNRESET straight away, like a refused connection. */
  | "refuse"
  /** Accepted and held without an answer (bytes are read and discarded): the client hears nothing until the path
   * is restored, when they are reset. The closest a user-space relay gets to packets vanishing. (Reset on restore
   * because a connection that never answers would hold a grpc-js client forever: it has no handshake timeout.) */
  | "blackhole";

export interface TcpProxy {
  /** `127.0.0.1:port`, to hand to the client instead of the target. */
  address: string;
  port: number;
  /** Connections accepted so far (relayed, refused or held). */
  readonly accepted: number;
  /** Connections currently relayed to the target. */
  readonly open: number;
  /** Resets every relayed connection (both sides) and treats new ones per `mode` until `restore()`. */
  cut(mode?: CutMode): void;
  /** Resets connections held by a blackhole cut and relays new connections again. */
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const relayed = new Set<net.Socket>(); // both ends of every relayed pair
  const held = new Set<net.Socket>();
  let pairs = 0;
  let accepted = 0;
  let cut: CutMode | null = null;

  // resetAndDestroy sends RST where it can (an abrupt failure, not a polite FIN); a socket that is not yet
  // connected cannot be reset, so it is just destroyed.
  const reset = (s: net.Socket) => {
    if (s.destroyed) return;
    if (s.readyState === "open" || s.readyState === "readOnly" || s.readyState === "writeOnly") s.resetAndDestroy();
    else s.destroy();
  };

  const server = net.createServer({ pauseOnConnect: true }, (client) => {
    accepted++;
    client.on("error", () => {});
    if (cut === "refuse") return reset(client);
    if (cut === "blackhole") {
      held.add(client);
      client.on("close", () => held.delete(client));
      client.on("data", () => {});
      client.resume();
      return;
    }
    const upstream = net.connect(target);
    upstream.on("error", () => {});
    relayed.add(client);
    relayed.add(upstream);
    pairs++;
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      pairs--;
      relayed.delete(client);
      relayed.delete(upstream);
      reset(client);
      reset(upstream);
    };
    client.on("close", close);
    upstream.on("close", close);
    upstream.once("connect", () => {
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  });
  server.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    address: `127.0.0.1:${port}`,
    port,
    get accepted() {
      return accepted;
    },
    get open() {
      return pairs;
    },
    cut(mode = "blackhole") {
      cut = mode;
      for (const s of [...relayed]) reset(s);
    },
    restore() {
      cut = null;
      for (const s of [...held]) reset(s);
    },
    async close() {
      cut = "refuse";
      for (const s of [...relayed, ...held]) reset(s);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
