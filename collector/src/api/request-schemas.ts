// The pieces route schemas are built from, reading requests as the API always has: a query parameter is given once,
// an empty one (`?host=`) is absent, free text is bounded and without control characters. Messages say what is
// expected; the error handler (error-answers.ts) puts the parameter's name in front.
import { z } from "zod";
import { textProblem } from "../text-input.js";
import { quoted } from "./params.js";

const GIVEN_ONCE = "must be given once";

/** A query parameter's text: a repeated one arrives as a list and is refused. */
const queryText = () => z.string({ required_error: "is required", invalid_type_error: GIVEN_ONCE });

/** Missing or empty: absent. */
function optional<T extends z.ZodTypeAny>(schema: T) {
  return z.preprocess((v) => (v === "" ? undefined : v), schema.optional());
}

export const requiredText = (description: string) => queryText().min(1, "is required").describe(description);
export const optionalText = (description: string) => optional(queryText().describe(description));

/** One of `values`; absent when missing or empty. */
export function optionalOneOf<const T extends readonly [string, ...string[]]>(values: T, description: string) {
  const problem = (data: unknown) => (Array.isArray(data) ? GIVEN_ONCE : `expected one of ${values.join(", ")}, got ${quoted(String(data))}`);
  return optional(z.enum(values, { errorMap: (_issue, ctx) => ({ message: problem(ctx.data) }) }).describe(description));
}

/** A whole number from 1 to `max` (`limit=`), `fallback` when absent. */
export function wholeNumber(max: number, fallback: number, description: string) {
  const problem = (data: unknown) => (Array.isArray(data) ? GIVEN_ONCE : `expected a whole number from 1 to ${max}, got ${quoted(String(data))}`);
  // Digits become a number for the range check; anything else stays text and is refused quoting what was sent.
  return z.preprocess(
    (v) => (typeof v === "string" && /^\d{1,9}$/.test(v) ? Number(v) : v === "" ? undefined : v),
    z
      .number({ errorMap: (_issue, ctx) => ({ message: problem(ctx.data) }) })
      .int()
      .min(1)
      .max(max)
      .default(fallback)
      .describe(description),
  );
}

/** Free text people type in a body (who did it, a comment): bounded, without control characters but newlines where `multiline`. */
export function personText(opts: { max: number; multiline?: boolean; nonEmpty?: boolean }, description: string) {
  return z
    .string({ invalid_type_error: "expected a string" })
    .superRefine((v, ctx) => {
      const problem = textProblem(v, opts);
      if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
    })
    .describe(`${description} (at most ${opts.max} characters)`);
}

const EXPECTED_OBJECT = { invalid_type_error: "expected a JSON object" };
/** No body, or `null`, is the empty object: every field of these bodies is optional. */
const orEmpty = (v: unknown) => v ?? {};

/** A JSON object body with these fields (others are ignored). */
export function objectBody<T extends z.ZodRawShape>(shape: T) {
  return z.preprocess(orEmpty, z.object(shape, EXPECTED_OBJECT));
}

/** A JSON object body whose fields the handler's callee checks (a rule: alerting names each problem). */
export function anyObjectBody(description: string) {
  return z.preprocess(orEmpty, z.record(z.string(), z.unknown(), EXPECTED_OBJECT).describe(description));
}
