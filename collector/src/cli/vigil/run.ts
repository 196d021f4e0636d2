// `vigil`: the operator's CLI. run() parses argv, dispatches to a subcommand and returns the exit status:
// 0 ok, 1 the command failed (collector unreachable or erring, invalid rule file, failed rule test), 2 usage error.
import { parseArgs } from "node:util";
import { Redactor, VigilError } from "@vigil/shared";
import { ApiClient, baseUrl, DEFAULT_URL } from "./client.js";
import { ackCommand, notifyTestCommand, resolveCommand, silenceCommand, silencesCommand, unackCommand, unsilenceCommand } from "./commands-actions.js";
import { alertsCommand, hostsCommand, queryCommand } from "./commands-api.js";
import { auditCommand } from "./commands-audit.js";
import { Options, type Command, type OptionSpec } from "./command.js";
import { CliError, UsageError, type CliIo } from "./io.js";
import { rulesCheckCommand } from "./rules-check.js";
import { rulesTestCommand } from "./rules-test.js";

export type { CliIo } from "./io.js";

export const COMMANDS: readonly Command[] = [
  hostsCommand,
  queryCommand,
  alertsCommand,
  ackCommand,
  unackCommand,
  resolveCommand,
  silenceCommand,
  silencesCommand,
  unsilenceCommand,
  notifyTestCommand,
  auditCommand,
  rulesCheckCommand,
  rulesTestCommand,
];

const GLOBAL: OptionSpec = { url: { type: "string" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } };

const GLOBAL_HELP = [
  "Options for every command:",
  `  --url URL   the collector's HTTP API (env VIGIL_URL, default ${DEFAULT_URL})`,
  "  --json      machine-readable output",
  "  -h, --help  help",
  "Env VIGIL_API_KEY, when set, is sent as Authorization: Bearer.",
].join("\n");

export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "usage: vigil COMMAND [options]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    GLOBAL_HELP,
    "",
    'Run "vigil COMMAND --help" for a command\'s options. Exit status: 0 ok, 1 failed, 2 usage error.',
  ].join("\n");
}

function commandHelp(c: Command): string {
  return [`usage: vigil ${c.name}${c.synopsis ? ` ${c.synopsis}` : ""}`, "", `${c.summary[0]!.toUpperCase()}${c.summary.slice(1)}.`, c.help, "", GLOBAL_HELP].join("\n") + "\n";
}

/** Indexes of the command words in argv: the first positional, and the next one after `rules`, `notify` or `help`. */
function commandWords(argv: readonly string[]): number[] {
  const words: number[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") break;
    if (a === "--url") i++;
    if (a.startsWith("-")) continue;
    const first = words.length > 0 ? argv[words[0]!] : undefined;
    if (words.length === 0 || first === "help" || ((first === "rules" || first === "notify") && words.length === 1)) words.push(i);
    else break;
  }
  return words;
}

/** `--start -1h` → `--start=-1h`: parseArgs refuses a value starting with "-", but relative times and negative numbers do. */
function joinDashValues(args: readonly string[], options: OptionSpec): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = args[i + 1];
    if (a.startsWith("--") && options[a.slice(2)]?.type === "string" && next !== undefined && /^-\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** Runs `vigil` with `argv` (without node and script); output goes to io. Never throws. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const words = commandWords(argv);
  const name = words.map((i) => argv[i]!).join(" ");
  const rest = argv.filter((_, i) => !words.includes(i));
  const wantsHelp = rest.includes("--help") || rest.includes("-h");
  if (name === "" || name === "help" || name === "rules" || name === "help rules") {
    const rules = name.endsWith("rules");
    const text = rules ? COMMANDS.filter((c) => c.name.startsWith("rules ")).map(commandHelp).join("\n") : usage() + "\n";
    if (wantsHelp || name.startsWith("help")) return io.stdout.write(text), 0;
    io.stderr.write(`vigil: ${rules ? "rules: expected a subcommand, check or test" : "expected a command"}\n\n${text}`);
    return 2;
  }
  const target = name.startsWith("help ") ? name.slice(5) : name;
  const cmd = COMMANDS.find((c) => c.name === target);
  if (!cmd) {
    io.stderr.write(`vigil: unknown command ${JSON.stringify(target)}; expected one of: ${COMMANDS.map((c) => c.name).join(", ")}\n(run "vigil --help")\n`);
    return 2;
  }
  if (target !== name) return io.stdout.write(commandHelp(cmd)), 0;
  const prefix = `vigil ${cmd.name}`;
  const usageError = (message: string): number => {
    io.stderr.write(`${prefix}: ${message}\nusage: vigil ${`${cmd.name} ${cmd.synopsis}`.trim()}\n(run "vigil ${cmd.name} --help" for details)\n`);
    return 2;
  };
  let values: Record<string, unknown>;
  let positionals: string[];
  try {
    const options = { ...GLOBAL, ...cmd.options };
    ({ values, positionals } = parseArgs({ args: joinDashValues(rest, options), options, allowPositionals: true, strict: true }));
  } catch (err) {
    return usageError((err as Error).message.split(". ")[0]!.replace(/^Unknown option/, "unknown option"));
  }
  const opts = new Options(values);
  if (opts.flag("help")) return io.stdout.write(commandHelp(cmd)), 0;
  const [min, max] = cmd.arity;
  if (positionals.length < min) return usageError(`missing ${cmd.argName ?? "an argument"}`);
  if (positionals.length > max) return usageError(max === 0 ? `takes no arguments, got ${JSON.stringify(positionals[0])}` : `too many arguments: ${positionals.slice(max).map((p) => JSON.stringify(p)).join(" ")}`);
  let client: ApiClient | undefined;
  try {
    return await cmd.run({
      io,
      args: positionals,
      opts,
      json: opts.flag("json"),
      now: (io.now ?? Date.now)(),
      api: () => (client ??= new ApiClient(baseUrl(opts.string("url"), io.env), io.env.VIGIL_API_KEY || undefined)),
    });
  } catch (err) {
    // Messages may quote --url or an answer: URL credentials and the API key never reach the terminal.
    const redactor = new Redactor([io.env.VIGIL_API_KEY]);
    if (err instanceof UsageError) return usageError(redactor.text(err.message));
    if (err instanceof CliError || err instanceof VigilError) {
      io.stderr.write(`${prefix}: ${redactor.text(err.message)}\n`);
      return 1;
    }
    io.stderr.write(`${prefix}: internal error: ${redactor.text(err instanceof Error ? (err.stack ?? err.message) : String(err))}\n`);
    return 1;
  }
}
