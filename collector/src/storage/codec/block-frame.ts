// Hand-written framing of the block codec (see index.ts for why no library): the small uncompressed header, and the
// payload compressed with Node's built-in node:zlib. Opening a block bounds everything before it allocates.
import { deflateRawSync, inflateRawSync } from "node:zlib";
import { ByteReader } from "./byte-reader.js";
import { ByteWriter } from "./byte-writer.js";
import { CodecError } from "./codec-error.js";

export const FORMAT_VERSION = 1;

/**
 * Most points one block may hold: a day at 100 ms steps. Bounds what a hostile header can make a decoder inflate and
 * allocate: at most 24 MB of payload and 24 MB of arrays (with a rational column's denominators) for a raw block, 80 MB
 * and 56 MB for a rollup.
 */
export const MAX_BLOCK_POINTS = 1_000_000;

export const BlockKind = { Raw: 1, Rollup: 2 } as const;
export type BlockKind = (typeof BlockKind)[keyof typeof BlockKind];

const KIND_NAMES: Record<number, string> = { [BlockKind.Raw]: "raw", [BlockKind.Rollup]: "rollup" };

const Compression = { Stored: 0, Deflate: 1 } as const;

/** zlib's default: levels 1 to 9 differ by 5% in size on bench/codec.ts, and level 9 encodes 3.7 times slower. */
const DEFLATE_LEVEL = 6;

export interface BlockHeader {
  kind: BlockKind;
  n: number;
  mantissaBits: number;
}

/**
 * version, kind, n (uvarint), mantissaBits, compression, payload length (uvarint), then the payload, deflated unless
 * that would not make it smaller (tiny blocks).
 */
export function frameBlock(h: BlockHeader, payload: Uint8Array): Uint8Array {
  const deflated = deflateRawSync(payload, { level: DEFLATE_LEVEL });
  const stored = deflated.length >= payload.length;
  const body = stored ? payload : deflated;
  const w = new ByteWriter(16 + body.length);
  w.byte(FORMAT_VERSION);
  w.byte(h.kind);
  w.uvarint(h.n);
  w.byte(h.mantissaBits);
  w.byte(stored ? Compression.Stored : Compression.Deflate);
  w.uvarint(payload.length);
  w.bytes(body);
  return w.finish();
}

/**
 * Checks the header of `buf` against `kind` and the bounds, and returns it with the payload. `payloadBound(n)` is the
 * most bytes an encoder writes for n points, `payloadMin(n)` the least: a declared length outside them is refused
 * before inflating, and inflating stops at the declared length, so a deflate bomb costs at most that much.
 */
export function openBlock(
  buf: Uint8Array,
  kind: BlockKind,
  payloadMin: (n: number) => number,
  payloadBound: (n: number) => number,
): BlockHeader & { payload: Uint8Array } {
  if (!(buf instanceof Uint8Array)) throw new CodecError("block: not a byte array");
  const r = new ByteReader(buf);
  const version = r.byte("block version");
  if (version !== FORMAT_VERSION) throw new CodecError(`block: format version ${version}, expected ${FORMAT_VERSION}`);
  const actual = r.byte("block kind");
  if (actual !== kind) throw new CodecError(`block: a ${KIND_NAMES[actual] ?? `kind ${actual}`} block, expected ${KIND_NAMES[kind]}`);
  const n = r.uvarint("block point count");
  if (n > MAX_BLOCK_POINTS) throw new CodecError(`block: ${n} points, more than ${MAX_BLOCK_POINTS}`);
  const mantissaBits = r.byte("block mantissa bits");
  if (mantissaBits < 1 || mantissaBits > 52) throw new CodecError(`block: ${mantissaBits} mantissa bits, expected 1..52`);
  const compression = r.byte("block compression");
  const length = r.uvarint("block payload length");
  const [min, max] = [payloadMin(n), payloadBound(n)];
  if (length < min || length > max) throw new CodecError(`block: payload of ${length} bytes for ${n} points, expected ${min}..${max}`);
  const body = buf.subarray(r.pos);
  let payload: Uint8Array;
  if (compression === Compression.Stored) {
    payload = body;
  } else if (compression === Compression.Deflate) {
    try {
      // One byte past the declared length tells "longer than declared" apart from "exactly right".
      payload = inflateRawSync(body, { maxOutputLength: length + 1 });
    } catch (err) {
      throw new CodecError(`block: payload does not inflate to ${length} bytes (${(err as Error).message})`, { cause: err });
    }
  } else {
    throw new CodecError(`block: unknown compression ${compression}`);
  }
  if (payload.length !== length) throw new CodecError(`block: payload of ${payload.length} bytes, header says ${length}`);
  return { kind, n, mantissaBits, payload };
}
