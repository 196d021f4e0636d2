/**
 * A fixed number of slots for heavy queries. There is no queue: a caller that finds every slot taken is told to
 * retry (429 with Retry-After), so waiting requests never pile up in memory behind a slow one.
 */
export class QueryGate {
  private busy = 0;

  constructor(private readonly slots: number) {}

  /** A release function (safe to call more than once), or null when every slot is taken. */
  tryEnter(): (() => void) | null {
    if (this.busy >= this.slots) return null;
    this.busy++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.busy--;
    };
  }
}
