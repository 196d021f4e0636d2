// The fencing numbers of the hosts whose streams this collector holds. Taking a host over counts its number up in
// Postgres; every later write of the host's alerts carries it, so once another collector has taken the host (a
// higher number), this one's writes for it are refused even if it never heard of the move (a lost pub/sub message,
// Redis down, a pause). Hosts not taken here (state read at start, before their stream reopens) write unfenced.
import type { Fence } from "../cluster/ports.js";
import type { AlertEvent } from "./types.js";

export class HostFences {
  private readonly byHost = new Map<string, Fence>();

  set(host: string, fence: Fence): void {
    this.byHost.set(host, fence);
  }

  delete(host: string): void {
    this.byHost.delete(host);
  }

  /** The fence a host's alert writes carry here, if this collector took the host. */
  of(host: string | undefined): Fence | undefined {
    return host === undefined ? undefined : this.byHost.get(host);
  }

  /** The host whose current fence this is; undefined when the host was taken again or let go since. */
  hostOf(fence: Fence): string | undefined {
    for (const [host, f] of this.byHost) if (f === fence) return host;
    return undefined;
  }

  /** Events split by the fence their host's writes carry, each group in its original order. */
  groups(events: readonly AlertEvent[]): [Fence | undefined, AlertEvent[]][] {
    const out = new Map<Fence | undefined, AlertEvent[]>();
    for (const e of events) {
      const f = this.of(e.instance.labels.host);
      const group = out.get(f);
      if (group) group.push(e);
      else out.set(f, [e]);
    }
    return [...out];
  }
}
