/**
 * `list_directory`, `glob` and `grep`: bounded walks of the workspace through
 * the gated `fs_readdir`/`fs_read` host calls.
 *
 * @module
 */
import { host, type ToolSpec } from "@astrid/sdk";
import { compileGlob, type GlobMatcher } from "./_glob.ts";
import { SKIPPED_DIRS, walk, type WalkReport } from "./_walk.ts";
import {
  type Args,
  attempt,
  codeOf,
  failure,
  optBool,
  optStr,
  str,
} from "./_util.ts";

/** Entries `list_directory` shows at most. */
export const MAX_LIST = 1000;
/** Paths `glob` returns at most. */
export const MAX_GLOB = 500;
/** Matching lines `grep` returns at most. */
export const MAX_GREP = 200;
/** Files `grep` reads at most. */
export const MAX_GREP_FILES = 2000;
/** Directories a walk reads at most. */
export const MAX_DIRS = 2000;
/** Characters of a matching line `grep` shows. */
export const MAX_GREP_LINE = 300;

const listDirectory: ToolSpec<Args> = {
  description:
    "List the entries of a workspace directory, one per line; directories end with '/'. " +
    "path is relative to the workspace root (default: the root).",
  input_schema: {
    type: "object",
    properties: {
      path: {
        type: "string",
        description: "The directory (default '.', the workspace root)",
      },
    },
    additionalProperties: false,
  },
  async execute(args) {
    const path = optStr(args, "list_directory", "path", ".");
    const entries = await attempt(
      `list_directory: cannot list '${path}'`,
      () => host.fs.readDir(path),
    );
    if (entries.length === 0) return `(the directory '${path}' is empty)`;
    const names = entries.map((e) => e.is_dir ? `${e.name}/` : e.name).sort();
    const shown = names.slice(0, MAX_LIST);
    if (names.length > MAX_LIST) {
      shown.push(
        `[${
          names.length - MAX_LIST
        } more entries not shown; use glob to narrow down]`,
      );
    }
    return shown.join("\n");
  },
};

function compile(tool: string, pattern: string, ci = false): GlobMatcher {
  try {
    return compileGlob(pattern, { caseInsensitive: ci });
  } catch (err) {
    throw new Error(
      `${tool}: invalid glob '${pattern}': ${
        err instanceof Error ? err.message : String(err)
      }`,
    );
  }
}

function enterFilter(
  matcher: GlobMatcher | null,
): (rel: string, name: string) => boolean {
  return (rel, name) =>
    (!SKIPPED_DIRS.has(name) || (matcher?.literals.has(name) ?? false)) &&
    (matcher === null || matcher.mayContain(rel));
}

function walkNotes(report: WalkReport): string[] {
  const notes: string[] = [];
  if (report.truncated) {
    notes.push(
      `[search stopped after ${report.dirs} directories; narrow 'path' or the pattern]`,
    );
  }
  if (report.unreadable.length > 0) {
    notes.push(
      `[${report.unreadable.length} directories could not be read: ${
        report.unreadable.slice(0, 3).join("; ")
      }]`,
    );
  }
  return notes;
}

async function walkRoot(
  tool: string,
  root: string,
  run: () => Promise<WalkReport>,
): Promise<WalkReport> {
  try {
    return await run();
  } catch (err) {
    throw failure(`${tool}: cannot search '${root}'`, err);
  }
}

const glob: ToolSpec<Args> = {
  description:
    "Find workspace files whose path matches a glob pattern, relative to 'path' (default the workspace root). " +
    "'*' matches within one directory level, '**' any number of levels, '?' one character, '[abc]' a set, '{a,b}' alternatives: " +
    "'**/*.ts' finds TypeScript files at any depth, '*.md' only at the top. " +
    `.git and node_modules are skipped unless the pattern names them. Returns at most ${MAX_GLOB} paths, sorted.`,
  input_schema: {
    type: "object",
    properties: {
      pattern: {
        type: "string",
        description: "The glob, e.g. '**/*.ts' or 'src/{a,b}/*.json'",
      },
      path: {
        type: "string",
        description:
          "The directory to search from (default '.', the workspace root)",
      },
    },
    required: ["pattern"],
    additionalProperties: false,
  },
  async execute(args) {
    const pattern = str(args, "glob", "pattern");
    const root = optStr(args, "glob", "path", ".");
    const matcher = compile("glob", pattern);
    const found: string[] = [];
    let more = false;
    const report = await walkRoot("glob", root, () =>
      walk(root, {
        maxDirs: MAX_DIRS,
        enter: enterFilter(matcher),
        file: (rel, full) => {
          if (!matcher.matches(rel)) return true;
          if (found.length >= MAX_GLOB) {
            more = true;
            return false;
          }
          found.push(full);
          return true;
        },
      }));
    found.sort();
    const notes = walkNotes(report);
    if (more) {
      notes.unshift(
        `[more than ${MAX_GLOB} files match; showing the first ${MAX_GLOB}. Use a narrower pattern or path]`,
      );
    }
    if (found.length === 0) {
      return [`No files match '${pattern}' under '${root}'.`, ...notes].join(
        "\n",
      );
    }
    return [...found, ...notes].join("\n");
  },
};

function regexOf(pattern: string, ci: boolean): RegExp {
  try {
    return new RegExp(pattern, ci ? "i" : "");
  } catch (err) {
    throw new Error(
      `grep: invalid regular expression '${pattern}': ${
        err instanceof Error ? err.message : String(err)
      }. Escape special characters such as ( [ . * + ? with a backslash`,
    );
  }
}

function cut(line: string): string {
  return line.length > MAX_GREP_LINE
    ? `${line.slice(0, MAX_GREP_LINE)}… [cut]`
    : line;
}

const grep: ToolSpec<Args> = {
  description:
    "Search the content of workspace files for a regular expression (JavaScript syntax), line by line. " +
    "Returns 'file:line: text' per matching line. 'path' is a file or directory (default the workspace root); " +
    "'glob' filters the files searched by their path relative to 'path' (e.g. '**/*.ts'). " +
    `Binary files, .git and node_modules are skipped. At most ${MAX_GREP} matching lines are returned.`,
  input_schema: {
    type: "object",
    properties: {
      pattern: {
        type: "string",
        description: "The regular expression, e.g. 'function\\s+main'",
      },
      path: {
        type: "string",
        description:
          "A file or directory to search (default '.', the workspace root)",
      },
      glob: {
        type: "string",
        description: "Only search files whose path matches, e.g. '**/*.ts'",
      },
      case_insensitive: {
        type: "boolean",
        description: "Ignore case (default false)",
      },
    },
    required: ["pattern"],
    additionalProperties: false,
  },
  async execute(args) {
    const pattern = str(args, "grep", "pattern");
    const root = optStr(args, "grep", "path", ".");
    const globText = optStr(args, "grep", "glob", "");
    const ci = optBool(args, "grep", "case_insensitive");
    const re = regexOf(pattern, ci);
    const matcher = globText === "" ? null : compile("grep", globText);
    const hits: string[] = [];
    let files = 0;
    let more = false;
    let skippedBinary = 0;
    const search = async (full: string): Promise<boolean> => {
      if (files >= MAX_GREP_FILES) {
        more = true;
        return false;
      }
      files++;
      let content: string;
      try {
        content = await host.fs.read(full);
      } catch (err) {
        // silent-ok: a binary or oversized file is not searchable text.
        const code = codeOf(err);
        if (code === "INVALID_INPUT" || code === "ABI_PAYLOAD_TOO_LARGE") {
          skippedBinary++;
          return true;
        }
        throw failure(`grep: cannot read '${full}'`, err);
      }
      if (content.includes("\0")) {
        skippedBinary++;
        return true;
      }
      const lines = content.split("\n");
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i]!.replace(/\r$/, "");
        if (!re.test(line)) continue;
        if (hits.length >= MAX_GREP) {
          more = true;
          return false;
        }
        hits.push(`${full}:${i + 1}: ${cut(line)}`);
      }
      return true;
    };
    const isDir = await attempt(
      `grep: cannot search '${root}'`,
      () => host.fs.stat(root),
    ).then((s) => s.is_dir);
    const notes: string[] = [];
    if (isDir) {
      const report = await walkRoot("grep", root, () =>
        walk(root, {
          maxDirs: MAX_DIRS,
          enter: enterFilter(matcher),
          file: (rel, full) =>
            matcher === null || matcher.matches(rel) ? search(full) : true,
        }));
      notes.push(...walkNotes(report));
    } else {
      await search(root);
    }
    if (more) {
      notes.unshift(
        hits.length >= MAX_GREP
          ? `[more than ${MAX_GREP} matching lines; showing the first ${MAX_GREP}. Narrow the pattern, path or glob]`
          : `[stopped after reading ${MAX_GREP_FILES} files; narrow the path or glob]`,
      );
    }
    if (skippedBinary > 0) {
      notes.push(`[${skippedBinary} binary or oversized files skipped]`);
    }
    if (hits.length === 0) {
      return [
        `No matches for /${pattern}/ in '${root}' (${files} file${
          files === 1 ? "" : "s"
        } searched).`,
        ...notes,
      ].join("\n");
    }
    return [...hits, ...notes].join("\n");
  },
};

/** The directory and search tools. */
export const SEARCH_TOOLS: Readonly<Record<string, ToolSpec<Args>>> = {
  list_directory: listDirectory,
  glob,
  grep,
};
