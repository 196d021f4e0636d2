// Alert state follows a host's agent stream between collectors: when the stream opens here, the alerts stored for
// the host are taken over before its first batch is evaluated (a firing alert carries on, it does not fire again);
// when the last stream of the host ends, its state is let go after a grace period, so an agent reconnecting to the
// same collector keeps its windows and timers, while one that moved leaves no stale evaluator behind.

export interface HostStateOwner {
  takeHost(host: string): Promise<void>;
  releaseHost(host: string): void;
}

/** How long a host's state stays after its last stream ended: a reconnect within it changes nothing. */
export const STREAM_GRACE_MS = 30_000;

export class HostStreamFollower {
  /** Per host with a stream here, or one that ended within the grace period: open streams and the pending release. */
  private readonly hosts = new Map<string, { open: number; release: NodeJS.Timeout | null }>();

  constructor(
    private readonly owner: HostStateOwner,
    private readonly graceMs = STREAM_GRACE_MS,
  ) {}

  async opened(host: string): Promise<void> {
    const h = this.hosts.get(host) ?? { open: 0, release: null };
    this.hosts.set(host, h);
    h.open++;
    if (h.release) {
      // Back within the grace period: the state here is current.
      clearTimeout(h.release);
      h.release = null;
      return;
    }
    if (h.open === 1) await this.owner.takeHost(host);
  }

  closed(host: string): void {
    const h = this.hosts.get(host);
    if (!h || --h.open > 0) return;
    h.release = setTimeout(() => {
      this.hosts.delete(host);
      this.owner.releaseHost(host);
    }, this.graceMs);
    h.release.unref();
  }

  /** Hosts followed now (open or within the grace period). */
  get size(): number {
    return this.hosts.size;
  }

  stop(): void {
    for (const h of this.hosts.values()) if (h.release) clearTimeout(h.release);
    this.hosts.clear();
  }
}
