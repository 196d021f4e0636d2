// Which collector to try next. Every entry of the `collector` setting is a candidate, and a DNS name is one per
// address it resolves to, looked up again at every attempt so DNS changes are followed. The agent tries them in turn,
// with a short jittered pause between two candidates and the exponential backoff after a whole round of failures.
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { Backoff, formatHostPort, type HostPort, type Logger } from "@vigil/shared";

export interface Candidate {
  /** What the agent dials: an IP address and port. */
  address: string;
  /** The configured entry it comes from. */
  target: string;
  /** The DNS name the collector's certificate is verified against, when the entry was a name. */
  serverName?: string;
}

/** A DNS name's addresses (A and AAAA records), in the resolver's order. */
export type Resolve = (host: string) => Promise<string[]>;

export const systemResolve: Resolve = async (host) => (await lookup(host, { all: true })).map((a) => a.address);

export interface CollectorCandidatesOptions {
  targets: readonly HostPort[];
  resolve: Resolve;
  /** The delay after a whole round of failures; reset by a Welcome. */
  backoff: Backoff;
  /** Randomness for the pause between candidates; injectable for tests. */
  random?: () => number;
  log: Logger;
}

/** Bounds the candidates one name adds: a hostile or misconfigured zone must not make a round endless. */
const MAX_ADDRESSES_PER_NAME = 16;
/**
 * The pause before the next candidate of a round: short, as that collector is likely up, and jittered (full jitter
 * under a flat ceiling), so the agents of a collector that died do not all reach the next one at the same instant.
 */
const SWITCH_PAUSE_MS = 500;

export const sameCandidate = (a: Candidate, b: Candidate): boolean => a.address === b.address && a.target === b.target;

export class CollectorCandidates {
  private readonly pause: Backoff;
  private last: Candidate | undefined;
  private lastIndex = 0;
  private failuresInRound = 0;
  private roundSize = 1;

  constructor(private readonly opts: CollectorCandidatesOptions) {
    this.pause = new Backoff({ initialMs: SWITCH_PAUSE_MS, maxMs: SWITCH_PAUSE_MS, random: opts.random });
  }

  /** Resolves every entry afresh and returns the candidate after the last one tried (undefined: none resolved). */
  async next(): Promise<Candidate | undefined> {
    const list = await this.candidates();
    this.roundSize = Math.max(1, list.length);
    if (list.length === 0) return undefined;
    const seen = this.last ? list.findIndex((c) => sameCandidate(c, this.last!)) : -1;
    // The last one is gone from DNS: the candidate now at its place is the next.
    const index = seen >= 0 ? (seen + 1) % list.length : this.lastIndex % list.length;
    this.last = list[index]!;
    this.lastIndex = index;
    return this.last;
  }

  /** The attempt failed (no connection, no Welcome, or the stream broke): the delay before the next attempt. */
  failed(): number {
    this.failuresInRound++;
    if (this.failuresInRound < this.roundSize) return this.pause.next();
    this.failuresInRound = 0;
    return this.opts.backoff.next();
  }

  /** A Welcome: rounds and the backoff start over. */
  connected(): void {
    this.failuresInRound = 0;
    this.opts.backoff.reset();
  }

  private async candidates(): Promise<Candidate[]> {
    const out: Candidate[] = [];
    for (const t of this.opts.targets) {
      const target = formatHostPort(t);
      if (isIP(t.host) !== 0) {
        out.push({ address: target, target });
        continue;
      }
      let addresses: string[];
      try {
        addresses = await this.opts.resolve(t.host);
      } catch (err) {
        this.opts.log.warn({ collector: target, err: (err as Error).message }, "cannot resolve the collector's name; trying the others");
        continue;
      }
      // A certificate names "a.example", never the absolute "a.example.".
      const serverName = t.host.replace(/\.$/, "");
      const usable = [...new Set(addresses.filter((a) => isIP(a) !== 0))].slice(0, MAX_ADDRESSES_PER_NAME);
      for (const host of usable) out.push({ address: formatHostPort({ host, port: t.port }), target, serverName });
    }
    return out;
  }
}
