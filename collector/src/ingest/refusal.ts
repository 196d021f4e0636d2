import { CollectorError, CollectorErrors, type CollectorErrorCode } from "../errors.js";

/** Why a batch or a Hello was refused: the `reason` label of vigil_ingest_refusals_total. */
export type RefusalReason =
  | "hello"
  | "seq"
  | "time"
  | "points"
  | "ref"
  | "metric"
  | "label_name"
  | "label_value"
  | "label_count"
  | "series_size"
  | "check"
  | "series_per_stream"
  | "series_per_host"
  | "storage";

/** Content the collector will not store: the stream ends with INVALID_ARGUMENT and this message (naming the field). */
export class IngestRefusal extends CollectorError {
  constructor(
    readonly reason: RefusalReason,
    message: string,
    code: CollectorErrorCode = CollectorErrors.INVALID_FIELD,
  ) {
    super(code, message);
    this.name = "IngestRefusal";
  }
}
