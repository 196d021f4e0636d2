// `vigil rules check FILE...`: validates rule files locally (no collector), for CI.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseRuleFile } from "../../rules/index.js";
import type { Command } from "./command.js";
import { writeJson } from "./io.js";

interface FileResult {
  file: string;
  ok: boolean;
  rules: string[];
  errors: string[];
}

/** The files to check: each FILE, or the *.yaml / *.yml files of a directory (as the collector loads them). */
function expand(arg: string): string[] | string {
  try {
    if (!statSync(arg).isDirectory()) return [arg];
    return readdirSync(arg, { withFileTypes: true })
      .filter((e) => e.isFile() && /\.ya?ml$/i.test(e.name))
      .map((e) => join(arg, e.name))
      .sort();
  } catch (err) {
    return `${arg}: cannot read: ${(err as Error).message}`;
  }
}

export function checkRuleFiles(args: readonly string[]): FileResult[] {
  const results: FileResult[] = [];
  const origin = new Map<string, string>();
  for (const arg of args) {
    const files = expand(arg);
    if (typeof files === "string") {
      results.push({ file: arg, ok: false, rules: [], errors: [files] });
      continue;
    }
    for (const file of files) {
      let textContent: string;
      try {
        textContent = readFileSync(file, "utf8");
      } catch (err) {
        results.push({ file, ok: false, rules: [], errors: [`${file}: cannot read rule file: ${(err as Error).message}`] });
        continue;
      }
      const r = parseRuleFile(file, textContent);
      const errors = [...r.errors];
      // The collector loads one directory of files: a name defined twice is an error there too.
      for (const rule of r.rules) {
        const first = origin.get(rule.name);
        if (first !== undefined && first !== file) errors.push(`${file}: rule ${JSON.stringify(rule.name)}: name: duplicate rule name, already defined in ${first}`);
        else origin.set(rule.name, file);
      }
      results.push({ file, ok: errors.length === 0, rules: errors.length === 0 ? r.rules.map((x) => x.name) : [], errors });
    }
  }
  return results;
}

export const rulesCheckCommand: Command = {
  name: "rules check",
  synopsis: "FILE|DIR...",
  summary: "validate alert rule files locally (exit 1 if any is invalid)",
  help: [
    "A directory stands for its *.yaml / *.yml files. Rule names must be unique across all the files given.",
    'Prints "FILE: OK (N rules)", or each problem as "FILE: rule "NAME": FIELD: problem" on stderr.',
  ].join("\n"),
  options: {},
  arity: [1, Infinity],
  argName: "a rule FILE",
  async run(ctx) {
    const results = checkRuleFiles(ctx.args);
    const bad = results.filter((r) => !r.ok);
    if (ctx.json) {
      writeJson(ctx.io, { ok: bad.length === 0, files: results });
      return bad.length === 0 ? 0 : 1;
    }
    for (const r of results) {
      if (r.ok) ctx.io.stdout.write(`${r.file}: OK (${r.rules.length} rule${r.rules.length === 1 ? "" : "s"})\n`);
      else for (const e of r.errors) ctx.io.stderr.write(`${e}\n`);
    }
    if (results.length === 0) ctx.io.stderr.write(`no rule files (*.yaml, *.yml) in ${ctx.args.join(", ")}\n`);
    if (bad.length > 0) ctx.io.stderr.write(`${bad.length} of ${results.length} rule file${results.length === 1 ? "" : "s"} invalid\n`);
    return bad.length === 0 && results.length > 0 ? 0 : 1;
  },
};
