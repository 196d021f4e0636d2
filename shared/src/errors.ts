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

export const SharedErrors = {
  BAD_DURATION: "VGL_ERR_BAD_DURATION",
  BAD_HOST_PORT: "VGL_ERR_BAD_HOST_PORT",
} as const;
