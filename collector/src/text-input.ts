// Free text from users (names, comments, label values) is stored in Postgres and shown in terminals and messages:
// bounded in length, and free of control characters (Postgres text cannot hold NUL at all; escapes could rewrite a
// terminal). Newlines and tabs are allowed where the text may span lines (comments).
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROL_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

/** What is wrong with `text`, or null. */
export function textProblem(text: string, opts: { max: number; multiline?: boolean; nonEmpty?: boolean }): string | null {
  if (opts.nonEmpty && text === "") return "must not be empty";
  if (text.length > opts.max) return `at most ${opts.max} characters, got ${text.length}`;
  const bad = (opts.multiline ? CONTROL_BUT_LINES : CONTROL).exec(text);
  if (bad) return `control character U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")} at position ${bad.index} is not allowed`;
  return null;
}
