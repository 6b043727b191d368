/**
 * Finding the commands hidden inside a command line, for `command_rules.ts`
 * (private to `kernel/security/`): the command a wrapper runs (`sudo`,
 * `env`, `nice`, `nohup`, `timeout`, ...) and the simple commands of a shell
 * script given with `sh -c` / `bash -c` / `eval`.
 *
 * Best effort, over-approximating: scripts are split after deleting every
 * quote and backslash and turning `$IFS` into a space, on `;`, `&`, `|`,
 * newlines, parentheses, braces and backticks, so `r'm' -rf /`,
 * `"$(rm -rf /)"` and `rm${IFS}-rf${IFS}/` are all seen as `rm -rf /` (and a
 * quoted `echo 'a; su'` is seen as running `su`). Variables, aliases,
 * functions, ANSI-C `$'…'` strings, `xargs` input from stdin and other
 * interpreters (`python -c`, `perl -e`) are not understood: the real defence
 * is the manifest's `host_process` list plus approval.
 *
 * @module
 */

/** How a wrapper program's own options look, so they can be skipped. */
interface WrapperSpec {
  /** Options that take a value (`-u root`, `-uroot`, `--user=root`, `--user root`). */
  readonly values: readonly string[];
  /** Positional arguments before the command (`timeout DURATION`, `chroot DIR`). */
  readonly positionals?: number;
  /** Whether `NAME=value` arguments are skipped (`env`). */
  readonly assignments?: boolean;
  /** Options whose value is itself split into arguments (`env -S`). */
  readonly split?: readonly string[];
}

const WRAPPERS: Readonly<Record<string, WrapperSpec>> = {
  sudo: {
    values: ["-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T"]
      .concat(["--user", "--group", "--close-from", "--chdir", "--host"])
      .concat(["--prompt", "--role", "--type", "--other-user"]),
  },
  doas: { values: ["-u", "-C"] },
  env: {
    values: ["-u", "-C", "--unset", "--chdir"],
    assignments: true,
    split: ["-S", "--split-string"],
  },
  nice: { values: ["-n", "--adjustment"] },
  nohup: { values: [] },
  timeout: {
    values: ["-s", "-k", "--signal", "--kill-after"],
    positionals: 1,
  },
  command: { values: [] },
  exec: { values: ["-a"] },
  builtin: { values: [] },
  xargs: {
    values: ["-I", "-L", "-n", "-P", "-s", "-d", "-E", "-a"]
      .concat(["--arg-file", "--delimiter", "--max-args", "--max-procs"])
      .concat(["--max-chars", "--replace", "--eof", "--max-lines"]),
  },
  busybox: { values: [] },
  stdbuf: { values: ["-i", "-o", "-e", "--input", "--output", "--error"] },
  setsid: { values: [] },
  time: { values: ["-f", "-o", "--format", "--output"] },
  ionice: { values: ["-c", "-n", "-p", "--class", "--classdata"] },
  chroot: { values: ["--userspec", "--groups"], positionals: 1 },
};

const SHELLS = new Set(["sh", "bash", "dash", "zsh", "ksh", "mksh", "ash"]);
const SHELL_VALUE_OPTIONS = new Set(["-o", "+o", "-O", "+O"]);
const KEYWORDS = new Set(
  ["if", "then", "else", "elif", "fi", "do", "done", "while", "until"]
    .concat(["!", "{", "}", "time", "coproc"]),
);

/** The commands an argv runs besides its own program. */
export interface InnerCommands {
  /** What wraps them, e.g. `sudo` or `sh -c`. */
  readonly via: string;
  /** Each inner command's argv. */
  readonly argvs: readonly (readonly string[])[];
}

/**
 * The last path component of a program name.
 *
 * @param program `argv[0]`.
 * @returns Its basename (`/bin/su` ⇒ `su`).
 */
export function basename(program: string): string {
  const parts = program.split("/");
  return parts[parts.length - 1] ?? program;
}

/**
 * The commands `argv` runs through a wrapper or a shell, or `null`.
 *
 * @param argv The command line.
 * @returns The inner commands and what runs them.
 */
export function innerCommands(argv: readonly string[]): InnerCommands | null {
  const program = basename(argv[0] ?? "");
  const rest = argv.slice(1);
  if (program === "eval") {
    return { via: "eval", argvs: splitScript(rest.join(" ")) };
  }
  if (SHELLS.has(program)) {
    const script = shellScript(rest);
    if (script === null) return null;
    return { via: `${program} -c`, argvs: splitScript(script) };
  }
  const spec = Object.hasOwn(WRAPPERS, program) ? WRAPPERS[program] : undefined;
  if (spec === undefined) return null;
  if (program === "busybox") return { via: program, argvs: [rest] };
  const inner = stripWrapper(rest, spec);
  return inner.length === 0 ? null : { via: program, argvs: [inner] };
}

/**
 * Splits a shell script into simple commands (see the module doc).
 *
 * @param script The script text.
 * @returns Each simple command's words, leading assignments, keywords and
 * redirections removed; empty commands dropped.
 */
export function splitScript(script: string): string[][] {
  const flat = script
    .replace(/\$\{IFS\}|\$IFS/g, " ")
    .replace(/['"\\]/g, "");
  const out: string[][] = [];
  for (const part of flat.split(/[;&|\n\r()`{}]/)) {
    const words = part.split(/\s+/).filter((w) => w !== "");
    let i = 0;
    for (;;) {
      const w = words[i];
      if (w === undefined) break;
      if (KEYWORDS.has(w) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(w)) i++;
      else if (/^[0-9]*[<>]+&?$/.test(w)) i += 2;
      else if (/^[0-9]*[<>]/.test(w)) i++;
      else break;
    }
    if (i < words.length) out.push(words.slice(i));
  }
  return out;
}

/** The script of `sh -c SCRIPT` (everything after the options), or `null`. */
function shellScript(args: readonly string[]): string | null {
  let command = false;
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "--" || a === "-") {
      i++;
      break;
    }
    if (SHELL_VALUE_OPTIONS.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith("--")) continue;
    if (!/^[-+]./.test(a)) break;
    if (a.startsWith("-") && a.slice(1).includes("c")) command = true;
  }
  return command ? args.slice(i).join(" ") : null;
}

/** Skips a wrapper's options, assignments and positionals; returns the wrapped argv. */
function stripWrapper(args: readonly string[], spec: WrapperSpec): string[] {
  const values = new Set(spec.values);
  const split = new Set(spec.split ?? []);
  let i = 0;
  while (i < args.length) {
    const a = args[i] as string;
    if (a === "--") {
      i++;
      break;
    }
    if (spec.assignments === true && /^[A-Za-z_][A-Za-z0-9_]*=/.test(a)) {
      i++;
      continue;
    }
    if (!a.startsWith("-") || a === "-") break;
    const [name, attached] = optionParts(a, values, split);
    if (split.has(name)) {
      const value = attached ?? args[i + 1] ?? "";
      const after = args.slice(attached === undefined ? i + 2 : i + 1);
      const words = value.split(/\s+/).filter((w) => w !== "");
      return stripWrapper([...words, ...after], spec);
    }
    i += values.has(name) && attached === undefined ? 2 : 1;
  }
  return args.slice(i + (spec.positionals ?? 0));
}

/**
 * Splits an option token into the option that decides its shape and any
 * attached value: `--user=root` ⇒ [`--user`, `root`]; `-uroot` ⇒ [`-u`,
 * `root`]; `-nu` (flags then `-u`) ⇒ [`-u`, undefined].
 */
function optionParts(
  a: string,
  values: ReadonlySet<string>,
  split: ReadonlySet<string>,
): [string, string | undefined] {
  if (a.startsWith("--")) {
    const eq = a.indexOf("=");
    return eq < 0 ? [a, undefined] : [a.slice(0, eq), a.slice(eq + 1)];
  }
  const chars = [...a.slice(1)];
  for (let k = 0; k < chars.length; k++) {
    const opt = `-${chars[k]}`;
    if (values.has(opt) || split.has(opt)) {
      const tail = chars.slice(k + 1).join("");
      return [opt, tail === "" ? undefined : tail];
    }
  }
  return [a, undefined];
}
