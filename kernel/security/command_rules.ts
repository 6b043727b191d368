/**
 * Command rules of the security policy: argv-aware matching of the
 * `blocked_commands` list, and the `max_argument_size` limit.
 *
 * An entry is split on whitespace into a program and arguments. A command
 * matches when the basename of its `argv[0]` is the entry's program (`/bin/su`
 * counts as `su`; `sum` does not), or the program followed by `.` and a
 * suffix (`mkfs` also blocks `mkfs.ext4`). For an entry with arguments, its
 * flags are compared as a set of short flags after expanding clusters
 * (`-rf` = `-fr` = `-r -f`; for `rm`, `-R`, `--recursive` and `--force` are
 * aliases), and each of its operands must appear among the command's
 * operands; extra flags and operands do not matter. Operands starting with
 * `/` are compared after lexical normalisation (`//`, `/./`, `/tmp/..` are
 * `/`). So `rm -rf /` blocks `rm -rf /`, `rm -fr /`, `rm -r -f /` and
 * `rm -rf / --no-preserve-root`, but not `rm -rf /tmp/x`; `chmod 777` blocks
 * `chmod -R 777 /` but not `chmod 755 x`.
 *
 * Security model: a deny list is a speed bump, not a sandbox. Commands run
 * through a wrapper (`sudo`, `doas`, `env`, `nice`, `nohup`, `timeout`,
 * `command`, `exec`, `xargs`, `busybox`, `stdbuf`, `setsid`, `time`,
 * `ionice`, `chroot`) are checked both as themselves and as the wrapped
 * command; `sh -c`/`bash -c`/`eval` scripts are split into simple commands
 * and each is checked (best effort, over-approximating; see
 * `_command_rules_shell.ts`). A command whose program contains whitespace is
 * also checked as if split into words. Nesting deeper than 16 levels is
 * blocked. The real defence is the capsule manifest's `host_process` list
 * plus human approval.
 *
 * @module
 */
import { KernelError } from "../core/errors.ts";
import {
  basename,
  innerCommands,
  splitScript,
} from "./_command_rules_shell.ts";

/** How deep wrappers and shells may nest before the command is refused. */
export const MAX_COMMAND_NESTING = 16;

/** Options of {@linkcode CommandRules}. */
export interface CommandRulesOptions {
  /** The blocked entries, e.g. `["rm -rf /", "su"]`. Empty or `undefined`: none. */
  readonly blocked?: readonly string[];
  /** Maximum summed UTF-8 bytes of the arguments; `0` or `undefined`: unlimited. */
  readonly maxArgumentSize?: number;
  /** Config key named in errors; defaults to `security.policy.blocked_commands`. */
  readonly key?: string;
}

/** A command refused by {@linkcode CommandRules.check}. */
export interface CommandBlock {
  /** Which rule refused it. */
  readonly rule: "invalid_command" | "blocked_commands" | "max_argument_size";
  /** Why, naming the command and the entry. */
  readonly reason: string;
  /** The blocked entry that matched, for `blocked_commands`. */
  readonly entry?: string;
}

interface Entry {
  readonly text: string;
  readonly program: string;
  readonly flags: ReadonlySet<string>;
  readonly operands: readonly string[];
}

type Found = { readonly entry: Entry; readonly via: readonly string[] };

const ALIASES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  rm: { "R": "r", "--recursive": "r", "--force": "f" },
};
const ENCODER = new TextEncoder();

/**
 * The compiled `blocked_commands` list and argument size limit.
 *
 * @example The issue's examples
 * ```ts
 * import assert from "node:assert/strict";
 * import { CommandRules } from "./command_rules.ts";
 * const rules = new CommandRules({ blocked: ["su", "rm -rf /"] });
 * assert.equal(rules.check("su", ["root"])?.rule, "blocked_commands");
 * assert.equal(rules.check("/bin/su", [])?.entry, "su");
 * assert.equal(rules.check("sum", ["x"]), null);
 * assert.equal(rules.check("rm", ["-fr", "/"])?.entry, "rm -rf /");
 * assert.equal(rules.check("rm", ["-rf", "/tmp/x"]), null);
 * assert.equal(rules.check("sudo", ["-u", "root", "rm", "-r", "-f", "/"])?.entry, "rm -rf /");
 * ```
 */
export class CommandRules {
  #entries: readonly Entry[];
  #maxArgumentSize: number;

  /**
   * Compiles the list.
   *
   * @param options The entries and the argument size limit.
   * @throws {KernelError} `CONFIG_INVALID` naming the key and entry when an
   * entry is empty or has a NUL.
   * @throws {RangeError} When `maxArgumentSize` is negative or not an integer.
   */
  constructor(options: CommandRulesOptions = {}) {
    const key = options.key ?? "security.policy.blocked_commands";
    this.#entries = (options.blocked ?? []).map((e) => parseEntry(e, key));
    const max = options.maxArgumentSize ?? 0;
    if (!Number.isSafeInteger(max) || max < 0) {
      throw new RangeError(`maxArgumentSize must be a non-negative integer`);
    }
    this.#maxArgumentSize = max;
  }

  /**
   * Checks a command about to be spawned (no shell involved).
   *
   * @param command The program, as named by the action.
   * @param args Its arguments.
   * @returns `null` when it may run (subject to approval), else why not.
   */
  check(command: string, args: readonly string[]): CommandBlock | null {
    if (typeof command !== "string" || command.trim() === "") {
      return { rule: "invalid_command", reason: "The command is empty" };
    }
    if (command.includes("\0") || args.some((a) => a.includes("\0"))) {
      return {
        rule: "invalid_command",
        reason: "The command or an argument contains a NUL character",
      };
    }
    const size = args.reduce((n, a) => n + ENCODER.encode(a).length, 0);
    const max = this.#maxArgumentSize;
    if (max > 0 && size > max) {
      return {
        rule: "max_argument_size",
        reason: `The arguments are ${size} bytes, over the ${max}-byte limit`,
      };
    }
    const candidates: string[][] = [[command, ...args]];
    if (/\s/.test(command)) {
      for (const words of splitScript(command)) {
        candidates.push([...words, ...args]);
      }
    }
    for (const argv of candidates) {
      const found = this.#search(argv, [], 0);
      if (found === "too_deep") {
        return {
          rule: "invalid_command",
          reason:
            `The command nests wrappers or shells more than ${MAX_COMMAND_NESTING} deep`,
        };
      }
      if (found !== null) return blocked(command, args, found);
    }
    return null;
  }

  #search(
    argv: readonly string[],
    via: readonly string[],
    depth: number,
  ): Found | "too_deep" | null {
    if (depth > MAX_COMMAND_NESTING) return "too_deep";
    const entry = this.#entries.find((e) => matches(e, argv));
    if (entry !== undefined) return { entry, via };
    const inner = innerCommands(argv);
    if (inner === null) return null;
    for (const child of inner.argvs) {
      const found = this.#search(child, [...via, inner.via], depth + 1);
      if (found !== null) return found;
    }
    return null;
  }
}

function blocked(
  command: string,
  args: readonly string[],
  found: Found,
): CommandBlock {
  const line = [command, ...args].join(" ");
  const shown = line.length > 120 ? `${line.slice(0, 120)}…` : line;
  const inside = found.via.length === 0
    ? ""
    : ` (run through ${found.via.map((v) => `'${v}'`).join(", ")})`;
  return {
    rule: "blocked_commands",
    reason:
      `Command '${shown}' is blocked by rule '${found.entry.text}'${inside}`,
    entry: found.entry.text,
  };
}

function parseEntry(text: string, key: string): Entry {
  const fail = (why: string): KernelError =>
    new KernelError(
      "CONFIG_INVALID",
      `Cannot use ${key} entry ${JSON.stringify(text)}: ${why}`,
      { data: { key, entry: text } },
    );
  if (typeof text !== "string") throw fail("it is not a string");
  if (text.includes("\0")) throw fail("it contains a NUL character");
  const words = text.split(/\s+/).filter((w) => w !== "");
  const first = words[0];
  if (first === undefined) throw fail("it is empty");
  const program = basename(first);
  if (program === "") throw fail("it names no program");
  const { flags, operands } = shape(program, words.slice(1));
  return { text, program, flags, operands };
}

function matches(entry: Entry, argv: readonly string[]): boolean {
  const program = basename(argv[0] ?? "");
  if (program !== entry.program && !program.startsWith(`${entry.program}.`)) {
    return false;
  }
  if (entry.flags.size === 0 && entry.operands.length === 0) return true;
  const { flags, operands } = shape(entry.program, argv.slice(1));
  for (const f of entry.flags) if (!flags.has(f)) return false;
  return entry.operands.every((o) => operands.includes(o));
}

/** Splits arguments into a set of (aliased, expanded) flags and operands. */
function shape(
  program: string,
  args: readonly string[],
): { flags: Set<string>; operands: string[] } {
  const alias = Object.hasOwn(ALIASES, program) ? ALIASES[program] ?? {} : {};
  const named = (f: string): string =>
    Object.hasOwn(alias, f) ? alias[f] ?? f : f;
  const flags = new Set<string>();
  const operands: string[] = [];
  let optionsEnded = false;
  for (const a of args) {
    if (optionsEnded || a === "-" || !a.startsWith("-")) {
      operands.push(a.startsWith("/") ? normalizeOperand(a) : a);
    } else if (a === "--") {
      optionsEnded = true;
    } else if (a.startsWith("--")) {
      flags.add(named(a.split("=")[0] ?? a));
    } else {
      for (const ch of a.slice(1)) flags.add(named(ch));
    }
  }
  return { flags, operands };
}

/** Lexically resolves an absolute operand, clamping `..` at the root. */
function normalizeOperand(p: string): string {
  const out: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  return `/${out.join("/")}`;
}
