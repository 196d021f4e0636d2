// The shape of a `vigil` subcommand and typed access to its parsed options.
import { parseDuration, parseLabelFlags, type Labels } from "@vigil/shared";
import type { ApiClient } from "./client.js";
import { UsageError, type CliIo } from "./io.js";

export type OptionSpec = Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }>;

export interface Context {
  io: CliIo;
  args: string[];
  opts: Options;
  json: boolean;
  now: number;
  /** The API client (built on first use, so local commands never need a valid --url). */
  api(): ApiClient;
}

export interface Command {
  /** "hosts", "rules check". */
  name: string;
  /** Arguments after the name, for the usage line ("ID [--comment TEXT]"). */
  synopsis: string;
  summary: string;
  /** Extra help lines (options, examples). */
  help: string;
  options: OptionSpec;
  /** Positional arguments: [min, max]. */
  arity: [number, number];
  /** What a missing positional is, for the error ("the alert ID"). */
  argName?: string;
  run(ctx: Context): Promise<number>;
}

export class Options {
  constructor(private readonly values: Readonly<Record<string, unknown>>) {}

  string(name: string): string | undefined {
    const v = this.values[name];
    return typeof v === "string" ? v : undefined;
  }

  strings(name: string): string[] {
    const v = this.values[name];
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : typeof v === "string" ? [v] : [];
  }

  flag(name: string): boolean {
    return this.values[name] === true;
  }

  /** A string option restricted to `allowed`; the error names the option and the choices. */
  choice<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${name}: expected ${orList(allowed)}, got ${JSON.stringify(v)}`);
    return v as T;
  }

  /** Repeatable `--name k=v` flags as a label map. */
  labels(name: string): Labels {
    try {
      return parseLabelFlags(this.strings(name), `--${name}`);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }

  duration(name: string): number | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    try {
      return parseDuration(v, `--${name}`);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
}

export function orList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}
