import type { IngestClient } from "@vigil/proto";
import { sameCandidate, type Candidate } from "./collector-candidates.js";
import { dialOptions, type ChannelSetup } from "./credentials.js";
import { AgentIngestClient } from "./ingest-client.js";

/** The gRPC client of the candidate being tried: kept while the agent retries that address, replaced when it moves on. */
export class CollectorDialer {
  private client: IngestClient | undefined;
  private candidate: Candidate | undefined;

  constructor(private readonly channel: ChannelSetup) {}

  get dialed(): Candidate | undefined {
    return this.candidate;
  }

  /** The client for `c`; `movedFrom` is the other candidate it replaces, if any. */
  clientFor(c: Candidate): { client: IngestClient; movedFrom?: Candidate } {
    const previous = this.candidate;
    if (this.client && previous && sameCandidate(previous, c)) return { client: this.client };
    this.client?.close();
    this.client = new AgentIngestClient(c.address, this.channel.credentials, {
      ...dialOptions(this.channel, c.serverName),
      "grpc.keepalive_time_ms": 20_000,
      "grpc.keepalive_timeout_ms": 10_000,
      "grpc.max_send_message_length": 16 * 1024 * 1024,
      // Own subchannel, so replacing a stuck client really drops its connection.
      "grpc.use_local_subchannel_pool": 1,
    });
    this.candidate = c;
    return { client: this.client, movedFrom: previous && !sameCandidate(previous, c) ? previous : undefined };
  }

  /** Closes the client: the next attempt opens a fresh connection. */
  drop(): void {
    this.client?.close();
    this.client = undefined;
  }
}
