/**
 * `read_file`, `write_file` and `edit_file`: one file at a time, through the
 * gated `fs_*` host calls (writes land in the session overlay).
 *
 * @module
 */
import { host, type ToolSpec } from "@astrid/sdk";
import {
  type Args,
  attempt,
  codeOf,
  failure,
  optBool,
  optInt,
  parent,
  str,
  text,
} from "./_util.ts";

/** Lines `read_file` returns when no `limit` is given. */
export const DEFAULT_LINES = 2000;
/** Characters of one line shown before it is cut. */
export const MAX_LINE_CHARS = 2000;
/** Characters of `read_file` output before it is cut. */
export const MAX_READ_CHARS = 100_000;

/** Splits text into lines; a final newline does not start another line. */
export function splitLines(content: string): string[] {
  if (content === "") return [];
  const lines = content.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

function numbered(n: number, line: string): string {
  const shown = line.length > MAX_LINE_CHARS
    ? `${
      line.slice(0, MAX_LINE_CHARS)
    }… [line cut at ${MAX_LINE_CHARS} of ${line.length} characters]`
    : line;
  return `${String(n).padStart(6)}\t${shown}`;
}

function utf8Length(s: string): number {
  let n = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return n;
}

/** Reads a text file with a message a model can act on when it cannot. */
async function readText(tool: string, path: string): Promise<string> {
  try {
    return await host.fs.read(path);
  } catch (err) {
    const code = codeOf(err);
    if (code === "INVALID_INPUT") {
      throw new Error(
        `${tool}: cannot read '${path}': it is not UTF-8 text (a binary file?); only text files can be read`,
      );
    }
    const isDir = await host.fs.stat(path).then((s) => s.is_dir, () => false);
    if (isDir) {
      throw new Error(
        `${tool}: cannot read '${path}': it is a directory; use list_directory to see its entries`,
      );
    }
    throw failure(`${tool}: cannot read '${path}'`, err);
  }
}

const readFile: ToolSpec<Args> = {
  description:
    "Read a text file of the workspace. Returns its lines numbered like `cat -n` (number, tab, text); the numbers are not part of the file. " +
    `Reads ${DEFAULT_LINES} lines by default: use offset (first line, 1-based) and limit (number of lines) for large files. ` +
    "Paths are relative to the workspace root.",
  input_schema: {
    type: "object",
    properties: {
      path: {
        type: "string",
        description: "The file, relative to the workspace root",
      },
      offset: {
        type: "integer",
        minimum: 1,
        description: "The first line to return (1-based; default 1)",
      },
      limit: {
        type: "integer",
        minimum: 1,
        description: `How many lines to return (default ${DEFAULT_LINES})`,
      },
    },
    required: ["path"],
    additionalProperties: false,
  },
  async execute(args) {
    const path = str(args, "read_file", "path");
    const offset = optInt(args, "read_file", "offset", {
      min: 1,
      max: Number.MAX_SAFE_INTEGER,
      fallback: 1,
    });
    const limit = optInt(args, "read_file", "limit", {
      min: 1,
      max: Number.MAX_SAFE_INTEGER,
      fallback: DEFAULT_LINES,
    });
    const lines = splitLines(await readText("read_file", path));
    if (lines.length === 0) return `(the file '${path}' is empty)`;
    if (offset > lines.length) {
      throw new Error(
        `read_file: offset ${offset} is past the end of '${path}', which has ${lines.length} lines`,
      );
    }
    const out: string[] = [];
    let chars = 0;
    let last = offset - 1;
    const end = Math.min(lines.length, offset - 1 + limit);
    for (let i = offset - 1; i < end; i++) {
      const line = numbered(i + 1, lines[i]!);
      if (chars + line.length + 1 > MAX_READ_CHARS && out.length > 0) break;
      out.push(line);
      chars += line.length + 1;
      last = i + 1;
    }
    if (offset > 1 || last < lines.length) {
      const why = last < end
        ? ` (output cut at ${MAX_READ_CHARS} characters)`
        : "";
      out.push(
        last < lines.length
          ? `[showing lines ${offset}-${last} of ${lines.length}${why}; call read_file with offset=${
            last + 1
          } to read on]`
          : `[showing lines ${offset}-${last} of ${lines.length}]`,
      );
    }
    return out.join("\n");
  },
};

async function ensureParent(tool: string, path: string): Promise<void> {
  const dir = parent(path);
  if (dir === "" || dir.endsWith("//")) return;
  const exists = await attempt(
    `${tool}: cannot check the directory '${dir}'`,
    () => host.fs.exists(dir),
  );
  if (!exists) {
    await attempt(
      `${tool}: cannot create the directory '${dir}'`,
      () => host.fs.mkdir(dir),
    );
  }
}

const writeFile: ToolSpec<Args> = {
  description:
    "Create a file or replace its whole content in the workspace (missing parent directories are created). " +
    "To change part of an existing file prefer edit_file. Paths are relative to the workspace root.",
  input_schema: {
    type: "object",
    properties: {
      path: {
        type: "string",
        description: "The file, relative to the workspace root",
      },
      content: { type: "string", description: "The complete new content" },
    },
    required: ["path", "content"],
    additionalProperties: false,
  },
  async execute(args) {
    const path = str(args, "write_file", "path");
    const content = text(args, "write_file", "content");
    const existed = await attempt(
      `write_file: cannot write '${path}'`,
      () => host.fs.exists(path),
    );
    await ensureParent("write_file", path);
    await attempt(
      `write_file: cannot write '${path}'`,
      () => host.fs.write(path, content),
    );
    const lines = splitLines(content).length;
    return `${existed ? "Overwrote" : "Created"} '${path}': ${lines} line${
      lines === 1 ? "" : "s"
    }, ${utf8Length(content)} bytes.`;
  },
};

function countOf(haystack: string, needle: string): number {
  let n = 0;
  for (
    let i = haystack.indexOf(needle);
    i >= 0;
    i = haystack.indexOf(needle, i + needle.length)
  ) n++;
  return n;
}

function lineAt(content: string, index: number): number {
  return countOf(content.slice(0, index), "\n") + 1;
}

/**
 * A hint for an old_string that is not in the file: where the same lines
 * occur with other indentation or spacing, or that the file uses CRLF.
 */
export function nearMiss(content: string, oldString: string): string {
  if (content.includes("\r\n") && !oldString.includes("\r")) {
    const crlf = oldString.replaceAll("\n", "\r\n");
    if (crlf !== oldString && content.includes(crlf)) {
      return ". The file has CRLF line endings: write each line break in old_string as \\r\\n";
    }
  }
  const squash = (l: string) => l.trim().replace(/\s+/g, " ");
  const want = splitLines(oldString).map(squash);
  while (want.length > 0 && want[0] === "") want.shift();
  while (want.length > 0 && want[want.length - 1] === "") want.pop();
  if (want.length === 0) return "";
  const lines = splitLines(content).map(squash);
  for (let i = 0; i + want.length <= lines.length; i++) {
    let j = 0;
    while (j < want.length && lines[i + j] === want[j]) j++;
    if (j === want.length) {
      return `. Lines ${i + 1}-${
        i + want.length
      } hold the same text with different indentation or spacing: copy them exactly`;
    }
  }
  return "";
}

const editFile: ToolSpec<Args> = {
  description:
    "Replace exact text in a workspace file. old_string must match the file exactly (whitespace and indentation included, without read_file's line-number prefixes) " +
    "and occur exactly once, unless replace_all is true. Include enough surrounding lines to make it unique. Read the file first.",
  input_schema: {
    type: "object",
    properties: {
      path: {
        type: "string",
        description: "The file, relative to the workspace root",
      },
      old_string: {
        type: "string",
        description: "The exact text to replace",
      },
      new_string: {
        type: "string",
        description: "The text to put in its place (must differ)",
      },
      replace_all: {
        type: "boolean",
        description: "Replace every occurrence (default false)",
      },
    },
    required: ["path", "old_string", "new_string"],
    additionalProperties: false,
  },
  async execute(args) {
    const path = str(args, "edit_file", "path");
    const oldString = text(args, "edit_file", "old_string");
    const newString = text(args, "edit_file", "new_string");
    const all = optBool(args, "edit_file", "replace_all");
    if (oldString === "") {
      throw new Error(
        "edit_file: old_string is empty; give the exact text to replace (use write_file to create a file or replace all of it)",
      );
    }
    if (oldString === newString) {
      throw new Error(
        "edit_file: old_string and new_string are identical, so there is nothing to change",
      );
    }
    const content = await readText("edit_file", path);
    const count = countOf(content, oldString);
    if (count === 0) {
      throw new Error(
        `edit_file: old_string was not found in '${path}'. It must match the file exactly, including whitespace and indentation; ` +
          "read the file with read_file and copy the text without the line-number prefixes" +
          nearMiss(content, oldString),
      );
    }
    if (count > 1 && !all) {
      throw new Error(
        `edit_file: old_string occurs ${count} times in '${path}'; add surrounding lines to old_string so it matches exactly once, ` +
          "or set replace_all to true to replace every occurrence",
      );
    }
    const first = content.indexOf(oldString);
    const updated = all
      ? content.split(oldString).join(newString)
      : content.slice(0, first) + newString +
        content.slice(first + oldString.length);
    await attempt(
      `edit_file: cannot write '${path}'`,
      () => host.fs.write(path, updated),
    );
    if (all && count > 1) {
      return `Edited '${path}': replaced ${count} occurrences.`;
    }
    const from = lineAt(updated, first);
    const to = from + countOf(newString, "\n");
    const lines = splitLines(updated);
    const start = Math.max(1, from - 2);
    const stop = Math.min(lines.length, to + 2, start + 29);
    const snippet: string[] = [];
    for (let n = start; n <= stop; n++) {
      snippet.push(numbered(n, lines[n - 1]!));
    }
    return `Edited '${path}': replaced 1 occurrence at line ${from}.\n${
      snippet.join("\n")
    }`;
  },
};

/** The single-file tools. */
export const FILE_TOOLS: Readonly<Record<string, ToolSpec<Args>>> = {
  read_file: readFile,
  write_file: writeFile,
  edit_file: editFile,
};
