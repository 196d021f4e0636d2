// The block codec is hand-written (see index.ts for why); this is the one error its decoders throw.

/**
 * A stored block that cannot be decoded: truncated, corrupted or hostile. The message names what is wrong. Encoders
 * throw RangeError instead, for input that breaks their contract (a caller's bug, not stored data).
 */
export class CodecError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CodecError";
  }
}
