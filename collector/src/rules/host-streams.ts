// Alert state follows a host's agent stream between collectors. When the host's stream opens here, the alerts stored
// for it are taken over before its first batch is evaluated (a firing alert carries on, it does not fire again) and
// the move is announced; a collector that hears another took a host it has no stream of lets the host's state go, so
// no stale evaluator is left behind. A host whose agent stopped keeps its state where it last streamed (its alerts
// stay acknowledgeable there, and nothing else evaluates them).

export interface HostStateOwner {
  takeHost(host: string): Promise<void>;
  releaseHost(host: string): void;
}

export class HostStreamFollower {
  /** Open streams per host here. */
  private readonly open = new Map<string, number>();

  constructor(
    private readonly owner: HostStateOwner,
    /** Tells the other collectors this one took the host (they let it go). */
    private readonly announce: (host: string) => void,
  ) {}

  async opened(host: string): Promise<void> {
    const n = (this.open.get(host) ?? 0) + 1;
    this.open.set(host, n);
    if (n > 1) return;
    await this.owner.takeHost(host);
    this.announce(host);
  }

  closed(host: string): void {
    const n = (this.open.get(host) ?? 0) - 1;
    if (n > 0) this.open.set(host, n);
    else this.open.delete(host);
  }

  /** Another collector took the host's stream: unless it streams here again already, its state here is stale. */
  movedAway(host: string): void {
    if (!this.open.has(host)) this.owner.releaseHost(host);
  }

  /** Hosts streaming here now. */
  get size(): number {
    return this.open.size;
  }
}
