/**
 * A strict command-line parser with the semantics of `node:util`'s
 * `parseArgs({ strict: true, allowPositionals: true })` — long and short
 * options, `--name=value`, grouped short booleans, repeatable options, `--`
 * — without importing `node:util`: the first `node:` import costs each CLI
 * process ~25 ms of start-up (`cli/argv_test.ts` checks the two agree).
 *
 * @module
 */

/** One option's spec. */
export interface OptionSpec {
  /** `boolean` takes no value; `string` takes one. */
  readonly type: "boolean" | "string";
  /** The one-letter alias. */
  readonly short?: string;
  /** Repeatable: its values collect in an array. */
  readonly multiple?: boolean;
}

/** The parsed values: booleans, strings or string arrays, by option name. */
export type ParsedValues = Record<string, boolean | string | string[]>;

/**
 * Parses `args`.
 *
 * @param args The arguments.
 * @param options The options, by long name.
 * @returns The option values and the positionals.
 * @throws {TypeError} On an unknown option, a missing or ambiguous value, or
 *   a value given to a boolean option.
 *
 * @example
 * ```ts
 * import { parseArgv } from "./argv.ts";
 * const r = parseArgv(["-yw", "dir", "a", "--json"], {
 *   yes: { type: "boolean", short: "y" },
 *   workspace: { type: "string", short: "w" },
 *   json: { type: "boolean" },
 * });
 * console.assert(r.values.yes === true && r.values.workspace === "dir");
 * console.assert(r.positionals.join() === "a" && r.values.json === true);
 * ```
 */
export function parseArgv(
  args: readonly string[],
  options: Readonly<Record<string, OptionSpec>>,
): { values: ParsedValues; positionals: string[] } {
  const values: ParsedValues = {};
  const positionals: string[] = [];
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(options)) {
    if (spec.short) byShort.set(spec.short, name);
  }
  const set = (name: string, value: boolean | string) => {
    const spec = options[name]!;
    if (spec.multiple) {
      const list = (values[name] as string[] | undefined) ?? [];
      values[name] = [...list, value as string];
    } else values[name] = value;
  };
  const label = (name: string) => {
    const s = options[name]!.short;
    return s ? `'-${s}, --${name}'` : `'--${name}'`;
  };
  const takeValue = (name: string, i: number): string => {
    const next = args[i];
    if (next === undefined) {
      throw new TypeError(`Option ${label(name)} argument missing`);
    }
    if (next.startsWith("-") && next !== "-") {
      throw new TypeError(
        `Option ${
          label(name)
        } argument is ambiguous.\nDid you forget to specify the option argument for ${
          label(name)
        }?\nTo specify an option argument starting with a dash use '--${name}=-XYZ'.`,
      );
    }
    return next;
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      const spec = Object.hasOwn(options, name) ? options[name] : undefined;
      if (spec === undefined) {
        throw new TypeError(
          `Unknown option '--${name}'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- "${arg}"'`,
        );
      }
      if (spec.type === "boolean") {
        if (eq !== -1) {
          throw new TypeError(
            `Option '--${name}' does not take an argument`,
          );
        }
        set(name, true);
      } else if (eq !== -1) set(name, arg.slice(eq + 1));
      else set(name, takeValue(name, ++i));
      continue;
    }
    if (arg.startsWith("-") && arg !== "-") {
      for (let k = 1; k < arg.length; k++) {
        const letter = arg[k]!;
        const name = byShort.get(letter);
        if (name === undefined) {
          throw new TypeError(
            `Unknown option '-${letter}'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- "${arg}"'`,
          );
        }
        if (options[name]!.type === "boolean") {
          set(name, true);
          continue;
        }
        const rest = arg.slice(k + 1);
        set(name, rest !== "" ? rest : takeValue(name, ++i));
        break;
      }
      continue;
    }
    positionals.push(arg);
  }
  return { values, positionals };
}
