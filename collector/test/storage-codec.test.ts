// The block codec of the storage tiers: exact round trips at 52 bits, the stated error bound below, integers and
// times always exact, rollups, the size of typical columns, and hostile blocks refused with CodecError, promptly.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { deflateRawSync } from "node:zlib";
import fc from "fast-check";
import {
  CodecError,
  decodeRaw,
  decodeRollup,
  encodeRaw,
  encodeRollup,
  MAX_BLOCK_POINTS,
  type RawPoints,
  type RollupPoints,
} from "../src/storage/codec/index.js";
import { BlockKind, frameBlock } from "../src/storage/codec/block-frame.js";
import { ByteWriter } from "../src/storage/codec/byte-writer.js";
import { roundMantissa } from "../src/storage/codec/float-bits.js";
import { writeInts } from "../src/storage/codec/int-column.js";

const T0 = Date.UTC(2026, 0, 15);
const aligned = (n: number, step = 10_000) => Float64Array.from({ length: n }, (_, i) => T0 + i * step);
const bits = (a: Float64Array) => [...new BigUint64Array(a.buffer, a.byteOffset, a.length)];
const MIN_NORMAL = 2 ** -1022;

/** Strictly increasing safe-integer times: a start and positive gaps, from 1 ms to days (jitter, gaps, restarts). */
const timesOf = (n: number) =>
  fc
    .tuple(fc.integer({ min: -1e15, max: 1e15 }), fc.array(fc.oneof(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 9_990, max: 10_010 }), fc.integer({ min: 1, max: 86_400_000 })), { minLength: n, maxLength: n }))
    .map(([start, gaps]) => {
      const t = new Float64Array(n);
      for (let i = 0, at = start; i < n; i++) t[i] = at += gaps[i]!;
      return t;
    });

/** Columns shaped to reach every layout: any double, integers, fractions, decimals, and mixes of them. */
const valuesOf = (n: number) => {
  const col = (a: fc.Arbitrary<number>) => fc.array(a, { minLength: n, maxLength: n }).map((v) => Float64Array.from(v));
  return fc.oneof(
    col(fc.double()),
    col(fc.oneof(fc.double(), fc.constantFrom(NaN, Infinity, -Infinity, -0, 0, 5e-324, MIN_NORMAL, -Number.MAX_VALUE, 2 ** 53 + 2, 2 ** 60, 1e-300, 1e300))),
    col(fc.maxSafeInteger()),
    col(fc.integer({ min: -1000, max: 1000 })),
    col(fc.tuple(fc.integer({ min: -1e6, max: 1e6 }), fc.integer({ min: 1, max: 5000 })).map(([p, q]) => p / q)),
    col(fc.integer({ min: 0, max: 10_000 }).map((m) => m / 100)),
    col(fc.oneof(fc.integer(), fc.double({ min: -1e6, max: 1e6, noNaN: true }))),
  );
};

const rawBlock = fc.integer({ min: 0, max: 200 }).chain((n) => fc.record({ times: timesOf(n), values: valuesOf(n) }));
const lossyBits = fc.integer({ min: 1, max: 51 });

/** Whether `d` is what rounding `v` to `k` bits may give: within |v| 2^-(k+1) for normal non-safe-integers, else exact. */
function withinBound(v: number, d: number, k: number): boolean {
  if (Number.isSafeInteger(v) || !(Math.abs(v) >= MIN_NORMAL) || !Number.isFinite(v)) return Object.is(v, d);
  return Math.abs(d - v) <= Math.abs(v) * 2 ** -(k + 1);
}

describe("raw blocks", () => {
  test("round trip bit for bit at 52 mantissa bits, whatever the values and times", () => {
    fc.assert(
      fc.property(rawBlock, (p) => {
        const d = decodeRaw(encodeRaw(p, { mantissaBits: 52 }));
        assert.deepEqual(bits(d.times), bits(p.times));
        assert.deepEqual(bits(d.values), bits(p.values));
      }),
      { numRuns: 300 },
    );
  });

  test("the special values come back exactly, alone and among fractions", () => {
    const specials = [NaN, Infinity, -Infinity, -0, 0, 5e-324, -5e-324, MIN_NORMAL, Number.MAX_VALUE, -Number.MAX_VALUE, 2 ** 53 + 2, -(2 ** 60), 1e-300, 1e300, 0.1, 1 / 3];
    for (const mantissaBits of [52, 20, 1]) {
      for (const values of [specials, specials.map((v, i) => (i % 2 ? v : i / 7))]) {
        const p = { times: aligned(values.length), values: Float64Array.from(values) };
        const d = decodeRaw(encodeRaw(p, { mantissaBits }));
        values.forEach((v, i) => {
          const exact = !Number.isFinite(v) || Number.isSafeInteger(v) || Math.abs(v) < MIN_NORMAL || Math.abs(v) === Number.MAX_VALUE;
          if (exact || mantissaBits === 52) assert.ok(Object.is(d.values[i], v), `${v} at ${mantissaBits} bits came back as ${d.values[i]}`);
          else assert.ok(withinBound(v, d.values[i]!, mantissaBits), `${v} at ${mantissaBits} bits came back as ${d.values[i]}`);
        });
      }
    }
  });

  test("a single point and an empty block", () => {
    for (const v of [0.123456789, -7, NaN]) {
      const d = decodeRaw(encodeRaw({ times: new Float64Array([T0]), values: new Float64Array([v]) }, { mantissaBits: 52 }));
      assert.deepEqual([...d.times], [T0]);
      assert.ok(Object.is(d.values[0], v));
    }
    const empty = decodeRaw(encodeRaw({ times: new Float64Array(0), values: new Float64Array(0) }, { mantissaBits: 52 }));
    assert.equal(empty.times.length, 0);
    assert.equal(empty.values.length, 0);
  });

  test("fewer mantissa bits: every value within |v| 2^-(K+1) (normal values), the rest exact", () => {
    fc.assert(
      fc.property(rawBlock, lossyBits, (p, k) => {
        const d = decodeRaw(encodeRaw(p, { mantissaBits: k }));
        p.values.forEach((v, i) => assert.ok(withinBound(v, d.values[i]!, k), `${v} at ${k} bits came back as ${d.values[i]}`));
      }),
      { numRuns: 300 },
    );
  });

  test("the bound is 2^-(K+1), not looser: just below a tie the error nearly reaches it, and ties round away from zero", () => {
    for (const k of [1, 10, 16, 20, 24, 31, 32, 33, 44]) {
      const below = 1 + 2 ** -(k + 1) - 2 ** -52;
      const r = roundMantissa(below, k);
      assert.equal(r, 1);
      assert.ok(below - r > 2 ** -(k + 1) * 0.99, `error ${below - r} at ${k} bits`);
      assert.equal(roundMantissa(-(1 + 2 ** -(k + 1)), k), -(1 + 2 ** -k));
    }
    // A carry out of the fraction moves to the next power of two; one that would overflow leaves the value exact.
    assert.equal(roundMantissa(2 - 2 ** -52, 10), 2);
    assert.equal(roundMantissa(Number.MAX_VALUE, 10), Number.MAX_VALUE);
  });

  test("safe integers are exact whatever mantissaBits, also inside a float column", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }).chain((n) => fc.tuple(fc.array(fc.maxSafeInteger(), { minLength: n, maxLength: n }), fc.array(fc.double({ noNaN: true }), { minLength: n, maxLength: n }))),
        lossyBits,
        ([ints, floats], k) => {
          const mixed = ints.map((v, i) => (i % 3 === 0 ? floats[i]! : v));
          for (const values of [ints, mixed]) {
            const d = decodeRaw(encodeRaw({ times: aligned(values.length), values: Float64Array.from(values) }, { mantissaBits: k }));
            values.forEach((v, i) => Number.isSafeInteger(v) && assert.ok(Object.is(d.values[i], v), `${v} came back as ${d.values[i]}`));
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  test("times are exact whatever mantissaBits: jittered, with gaps, negative, far apart", () => {
    fc.assert(
      fc.property(rawBlock, fc.integer({ min: 1, max: 52 }), (p, k) => {
        assert.deepEqual([...decodeRaw(encodeRaw(p, { mantissaBits: k })).times], [...p.times]);
      }),
      { numRuns: 200 },
    );
  });

  test("fractions of small integers (CPU jiffies, used / total, decimals) come back exactly, and small", () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const n = 8640;
    const cpu = Float64Array.from({ length: n }, () => Math.round(150 + 30 * rnd()) / (2000 + (rnd() < 0.2 ? 1 : 0)));
    const load = Float64Array.from({ length: n }, (_, i) => Number((1 + Math.sin(i / 300) + rnd() * 0.05).toFixed(2)));
    const diskBlocks = 114_000_000;
    const fsUsed = Float64Array.from({ length: n }, (_, i) => (40_000_000 + i * 3 + Math.floor(rnd() * 4)) / diskBlocks);
    // A 64-core host's total CPU: the jiffy total takes a new value nearly every tick. As doubles, 6.6 B a point.
    const bigHost = Float64Array.from({ length: n }, () => {
      const total = 64_000 + Math.round(rnd() * 64 - 32);
      return Math.round(total * (0.1 + 0.05 * rnd())) / total;
    });
    for (const [values, most] of [[cpu, 1.5], [load, 1.5], [fsUsed, 1.5], [bigHost, 2]] as const) {
      const buf = encodeRaw({ times: aligned(n), values }, { mantissaBits: 52 });
      assert.deepEqual(bits(decodeRaw(buf).values), bits(values));
      assert.ok(buf.length / n < most, `${buf.length / n} bytes a point`);
    }
  });

  test("a constant series on aligned ticks costs next to nothing", () => {
    const n = 8640;
    for (const v of [0, 1, 0.25, Math.PI]) {
      const buf = encodeRaw({ times: aligned(n), values: new Float64Array(n).fill(v) }, { mantissaBits: 52 });
      assert.ok(buf.length < 120, `${buf.length} bytes for a constant ${v}`);
    }
  });

  test("bad input to the encoder is a RangeError naming the problem", () => {
    const ok = { times: aligned(3), values: new Float64Array(3) };
    const cases: [RawPoints, number, RegExp][] = [
      [{ times: new Float64Array([T0, T0, T0 + 1]), values: new Float64Array(3) }, 52, /time 1 .* does not follow/],
      [{ times: new Float64Array([T0, T0 + 0.5]), values: new Float64Array(2) }, 52, /time 1 is .*safe integer/],
      [{ times: new Float64Array([-(2 ** 52), 2 ** 52]), values: new Float64Array(2) }, 52, /spans more than 2\^53/],
      [{ times: aligned(3), values: new Float64Array(2) }, 52, /values has 2 entries for 3 times/],
      [ok, 0, /mantissaBits is 0/],
      [ok, 53, /mantissaBits is 53/],
      [ok, 20.5, /mantissaBits is 20.5/],
    ];
    for (const [p, mantissaBits, message] of cases) assert.throws(() => encodeRaw(p, { mantissaBits }), (e: unknown) => e instanceof RangeError && message.test(e.message));
  });
});

describe("rollup blocks", () => {
  const rollupOf = (n: number) =>
    fc.record({
      times: timesOf(n),
      min: valuesOf(n),
      max: valuesOf(n),
      sum: valuesOf(n),
      count: fc.array(fc.oneof(fc.integer({ min: 0, max: 360 }), fc.maxSafeNat()), { minLength: n, maxLength: n }).map((c) => Float64Array.from(c)),
      last: valuesOf(n),
    });
  const rollupBlock = fc.integer({ min: 0, max: 100 }).chain(rollupOf);
  const FLOATS = ["min", "max", "sum", "last"] as const;

  test("round trip bit for bit at 52 bits", () => {
    fc.assert(
      fc.property(rollupBlock, (p) => {
        const d = decodeRollup(encodeRollup(p, { mantissaBits: 52 }));
        for (const c of ["times", ...FLOATS, "count"] as const) assert.deepEqual(bits(d[c]), bits(p[c]), c);
      }),
      { numRuns: 150 },
    );
  });

  test("fewer bits: min, max, sum and last within the bound; times and counts exact", () => {
    fc.assert(
      fc.property(rollupBlock, lossyBits, (p, k) => {
        const d = decodeRollup(encodeRollup(p, { mantissaBits: k }));
        assert.deepEqual([...d.times], [...p.times]);
        assert.deepEqual([...d.count], [...p.count]);
        for (const c of FLOATS) p[c].forEach((v, i) => assert.ok(withinBound(v, d[c][i]!, k), `${c} ${v} at ${k} bits came back as ${d[c][i]}`));
      }),
      { numRuns: 150 },
    );
  });

  test("counts must be safe integers ≥ 0", () => {
    const p: RollupPoints = { times: aligned(2), min: new Float64Array(2), max: new Float64Array(2), sum: new Float64Array(2), count: new Float64Array([3, -1]), last: new Float64Array(2) };
    assert.throws(() => encodeRollup(p, { mantissaBits: 52 }), /rollup count 1 is -1/);
    p.count = new Float64Array([3, 1.5]);
    assert.throws(() => encodeRollup(p, { mantissaBits: 52 }), /rollup count 1 is 1.5/);
  });

  test("a raw block is not a rollup block, nor the other way round", () => {
    const raw = encodeRaw({ times: aligned(2), values: new Float64Array(2) }, { mantissaBits: 52 });
    assert.throws(() => decodeRollup(raw), (e: unknown) => e instanceof CodecError && /a raw block, expected rollup/.test(e.message));
    const rollup = encodeRollup({ times: aligned(1), min: new Float64Array(1), max: new Float64Array(1), sum: new Float64Array(1), count: new Float64Array(1), last: new Float64Array(1) }, { mantissaBits: 52 });
    assert.throws(() => decodeRaw(rollup), (e: unknown) => e instanceof CodecError && /a rollup block, expected raw/.test(e.message));
  });
});

describe("hostile blocks", () => {
  const codecError = (pattern: RegExp) => (e: unknown) => e instanceof CodecError && pattern.test(e.message);
  /** A raw block whose payload is written by `payload`, framed like the encoder does. */
  const forged = (n: number, payload: (w: ByteWriter) => void, kind: BlockKind = BlockKind.Raw) => {
    const w = new ByteWriter(64);
    payload(w);
    return frameBlock({ kind, n, mantissaBits: 52 }, w.finish());
  };
  /** The bytes of a hand-made header: version, kind, n, mantissa bits, compression, payload length. */
  const header = (n: number, compression: number, length: number) => {
    const w = new ByteWriter(32);
    w.byte(1);
    w.byte(BlockKind.Raw);
    w.uvarint(n);
    w.byte(52);
    w.byte(compression);
    w.uvarint(length);
    return w.finish();
  };
  const concat = (a: Uint8Array, b: Uint8Array) => {
    const out = new Uint8Array(a.length + b.length);
    out.set(a);
    out.set(b, a.length);
    return out;
  };

  const day = (() => {
    const n = 8640;
    const values = Float64Array.from({ length: n }, (_, i) => Math.sin(i / 50) * 100 + i / 7);
    return encodeRaw({ times: aligned(n), values }, { mantissaBits: 24 });
  })();
  const small = encodeRaw({ times: new Float64Array([T0, T0 + 10_000, T0 + 20_013]), values: new Float64Array([0.5, NaN, 1 / 3]) }, { mantissaBits: 52 });

  test("every truncation of a block is a CodecError", () => {
    for (let len = 0; len < small.length; len++) assert.throws(() => decodeRaw(small.subarray(0, len)), CodecError, `cut at ${len}`);
    for (let len = 0; len < day.length; len += 97) assert.throws(() => decodeRaw(day.subarray(0, len)), CodecError, `cut at ${len}`);
  });

  test("random bytes, with or without a plausible header, are a CodecError or a well-formed block", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, plausible) => {
        const buf = plausible ? concat(new Uint8Array([1, BlockKind.Raw]), bytes) : bytes;
        try {
          const d = decodeRaw(buf);
          assert.equal(d.values.length, d.times.length);
          for (let i = 1; i < d.times.length; i++) assert.ok(d.times[i]! > d.times[i - 1]!);
        } catch (e) {
          assert.ok(e instanceof CodecError, String(e));
        }
      }),
      { numRuns: 2000 },
    );
  });

  test("flipped bits in a stored block are a CodecError or a well-formed block", () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: small.length * 8 - 1 }), { minLength: 1, maxLength: 4 }), (flips) => {
        const buf = small.slice();
        for (const f of flips) buf[f >> 3]! ^= 1 << (f & 7);
        try {
          const d = decodeRaw(buf);
          assert.equal(d.values.length, d.times.length);
        } catch (e) {
          assert.ok(e instanceof CodecError, String(e));
        }
      }),
      { numRuns: 2000 },
    );
  });

  test("a header claiming 2^40 points is refused before anything is allocated", () => {
    const w = new ByteWriter(16);
    w.byte(1);
    w.byte(BlockKind.Raw);
    w.uvarint(2 ** 40);
    const started = performance.now();
    assert.throws(() => decodeRaw(concat(w.finish(), new Uint8Array(8))), codecError(new RegExp(`${2 ** 40} points, more than ${MAX_BLOCK_POINTS}`)));
    assert.throws(() => decodeRaw(header(MAX_BLOCK_POINTS, 0, 10)), codecError(/payload of 10 bytes for 1000000 points/));
    assert.ok(performance.now() - started < 50);
  });

  test("a deflate bomb stops at the declared payload length", () => {
    const bomb = deflateRawSync(new Uint8Array(64 * 1024 * 1024));
    assert.ok(bomb.length < 100_000);
    const started = performance.now();
    assert.throws(() => decodeRaw(concat(header(1000, 1, 20_000), bomb)), codecError(/does not inflate to 20000 bytes/));
    // The longest a header may declare for its n: still only that much is inflated.
    assert.throws(() => decodeRaw(concat(header(MAX_BLOCK_POINTS, 1, 16_000_000), bomb)), codecError(/does not inflate to 16000000 bytes/));
    assert.ok(performance.now() - started < 1000, `${performance.now() - started} ms`);
    assert.throws(() => decodeRaw(concat(header(1000, 1, 10_000_000), bomb)), codecError(/payload of 10000000 bytes for 1000 points/));
  });

  test("a payload shorter than declared, or longer, is refused", () => {
    const payload = new Uint8Array(50).fill(1);
    assert.throws(() => decodeRaw(concat(header(10, 1, 60), deflateRawSync(payload))), codecError(/payload of 50 bytes, header says 60/));
    assert.throws(() => decodeRaw(concat(header(10, 0, 40), payload)), codecError(/payload of 50 bytes, header says 40/));
  });

  test("each field's checks name what is wrong", () => {
    const cases: [Uint8Array, RegExp][] = [
      [concat(new Uint8Array([2, BlockKind.Raw]), small.subarray(2)), /format version 2, expected 1/],
      [new Uint8Array([1, 9, 0]), /a kind 9 block, expected raw/],
      [new Uint8Array([1, BlockKind.Raw, 0, 0]), /0 mantissa bits/],
      [new Uint8Array([1, BlockKind.Raw, 0, 52, 7, 0]), /unknown compression 7/],
      [new Uint8Array([1, BlockKind.Raw, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), /varint longer than 8 bytes/],
      [forged(2, (w) => (w.byte(3), w.uvarint(1), w.svarint(0), w.svarint(1))), /times: unknown delta order 3/],
      [forged(2, (w) => (w.byte(1), w.uvarint(0), w.svarint(0), w.svarint(1))), /times: scale 0/],
      [forged(3, (w) => writeInts(w, [5, 4, 4])), /times: time 1 does not follow time 0/],
      [forged(2, (w) => (w.byte(1), w.uvarint(2 ** 40), w.svarint(2 ** 52), w.svarint(2 ** 20))), /times: value 1 leaves the safe integer range/],
      [forged(2, (w) => (writeInts(w, [1, 2]), w.byte(9))), /values: unknown value mode 9/],
      [forged(2, (w) => (writeInts(w, [1, 2]), w.byte(3), w.byte(5))), /values: unknown float layout 5/],
      [forged(2, (w) => (writeInts(w, [1, 2]), w.byte(3), w.byte(2), w.bytes(new Uint8Array(17)))), /block: 1 bytes after the last column/],
      [forged(2, (w) => (writeInts(w, [1, 2]), w.byte(3), w.byte(1), w.byte(0xff), w.bytes(new Uint8Array(10)))), /values byte plane 5: needs 2 bytes, 0 left/],
      [forged(2, (w) => (writeInts(w, [1, 2]), w.byte(2), writeInts(w, [1, 0]), writeInts(w, [3, 4]))), /values: denominator 1 is 0/],
      [forged(1, (w) => (writeInts(w, [1]), ["min", "max", "sum", "last"].forEach(() => (w.byte(1), writeInts(w, [0]))), writeInts(w, [-2])), BlockKind.Rollup), /count 0 is -2, expected ≥ 0/],
    ];
    for (const [buf, message] of cases) {
      const decode = buf[1] === BlockKind.Rollup ? decodeRollup : decodeRaw;
      assert.throws(() => decode(buf), codecError(message), message.source);
    }
  });

  test("not a byte array at all", () => {
    assert.throws(() => decodeRaw("hello" as unknown as Uint8Array), codecError(/not a byte array/));
  });
});
