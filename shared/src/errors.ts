/**
 * Base of every typed error in Vigil. `code` is stable (documented, safe to match on);
 * each package keeps its own catalogue of codes.
 */
export class VigilError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "VigilError";
  }
}

/** gRPC status names an ingest error is answered with (grpc-js's `status` enum has them all). */
export type GrpcStatusName = "INVALID_ARGUMENT" | "PERMISSION_DENIED" | "DEADLINE_EXCEEDED" | "UNAVAILABLE";

/**
 * One code of a catalogue. A code is spelled out only in its catalogue entry, with what it means and the status it is
 * answered with by the HTTP API (`http`) or the ingest stream (`grpc`) where it is answered there at all.
 */
export interface ErrorEntry {
  readonly code: `VGL_ERR_${string}`;
  readonly meaning: string;
  readonly http?: number;
  readonly grpc?: GrpcStatusName;
}

export type ErrorCatalogue = Readonly<Record<string, ErrorEntry>>;

/** The codes of a catalogue by their short names (`Errors.BAD_PARAM`), as code uses them. */
export function codesOf<C extends ErrorCatalogue>(catalogue: C): { readonly [K in keyof C]: C[K]["code"] } {
  return Object.fromEntries(Object.entries(catalogue).map(([name, e]) => [name, e.code])) as { [K in keyof C]: C[K]["code"] };
}

export const SHARED_ERROR_CATALOGUE = {
  BAD_CONFIG: { code: "VGL_ERR_BAD_CONFIG", meaning: "a setting, flag or environment variable is wrong" },
  BAD_DURATION: { code: "VGL_ERR_BAD_DURATION", meaning: "a duration is malformed" },
  BAD_HOST_PORT: { code: "VGL_ERR_BAD_HOST_PORT", meaning: "an address is not HOST:PORT" },
} as const satisfies ErrorCatalogue;

export const SharedErrors = codesOf(SHARED_ERROR_CATALOGUE);
