// What cluster/ offers the rest of the collector: leases, so that work one collector must do at a time (host-down
// evaluation, …) runs on exactly one, and a fencing number per lease that storage checks on every write the lease
// guards, so a holder that paused past its lease cannot write stale state.

export interface LeaseStore {
  /**
   * Takes the lease `name` for `holder` for `ttlMs` when nobody holds it: its fencing number, greater than every
   * number given before for this name, or null when another holder has it.
   */
  acquire(name: string, holder: string, ttlMs: number): Promise<number | null>;
  /** Extends the lease while `holder` still has it; false when it does not (expired, or taken by another). */
  renew(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up, if `holder` still has it (never another's). */
  release(name: string, holder: string): Promise<void>;
  /**
   * Makes the next fencing number of `name` greater than `atLeast`: storage has recorded a larger one than the store
   * gives (Redis keeps nothing on disk, an in-process store starts over with the process).
   */
  raiseFence(name: string, atLeast: number): Promise<void>;
}

/** A lease's fencing number as a guarded write carries it to storage. */
export interface Fence {
  lease: string;
  value: number;
}

/** A guarded write refused: a newer fencing number for its lease has been recorded (another collector holds it now). */
export class FencedOut extends Error {
  constructor(
    readonly fence: Fence,
    /** The fencing number storage has recorded for the lease, larger than this one. */
    readonly recorded: number,
  ) {
    super(`lease ${fence.lease}: fencing number ${fence.value} is stale; the write was refused`);
    this.name = "FencedOut";
  }
}
