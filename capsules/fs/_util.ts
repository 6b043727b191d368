/**
 * Shared helpers of the fs tools: argument checks and host-call failures
 * turned into messages a model can act on.
 *
 * @module
 */
import { HostCallError } from "@astrid/sdk";

/** The arguments a tool received. */
export type Args = Readonly<Record<string, unknown>>;

/** A bad argument: the message names the tool, the argument and what is expected. */
export function badArg(tool: string, name: string, want: string): Error {
  return new Error(`${tool}: argument '${name}' ${want}`);
}

/** A required, non-empty string argument. */
export function str(args: Args, tool: string, name: string): string {
  const v = args[name];
  if (typeof v !== "string" || v === "") {
    throw badArg(tool, name, "is required and must be a non-empty string");
  }
  return v;
}

/** A required string argument that may be empty. */
export function text(args: Args, tool: string, name: string): string {
  const v = args[name];
  if (typeof v !== "string") {
    throw badArg(tool, name, "is required and must be a string");
  }
  return v;
}

/** An optional string argument (absent, `null` or `""` = `fallback`). */
export function optStr(
  args: Args,
  tool: string,
  name: string,
  fallback: string,
): string {
  const v = args[name];
  if (v === undefined || v === null || v === "") return fallback;
  if (typeof v !== "string") throw badArg(tool, name, "must be a string");
  return v;
}

/** An optional integer argument within `[min, max]`. */
export function optInt(
  args: Args,
  tool: string,
  name: string,
  o: { min: number; max: number; fallback: number },
): number {
  const v = args[name];
  if (v === undefined || v === null) return o.fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < o.min || v > o.max) {
    throw badArg(
      tool,
      name,
      `must be an integer from ${o.min} to ${o.max} (got ${JSON.stringify(v)})`,
    );
  }
  return v;
}

/** An optional boolean argument. */
export function optBool(args: Args, tool: string, name: string): boolean {
  const v = args[name];
  if (v === undefined || v === null) return false;
  if (typeof v !== "boolean") throw badArg(tool, name, "must be true or false");
  return v;
}

/** Joins a directory path as the model gave it and a relative name. */
export function join(dir: string, name: string): string {
  if (dir === "" || dir === ".") return name;
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

/** The parent of a path as the model gave it, or `""` at the top. */
export function parent(p: string): string {
  const i = p.replace(/\/+$/, "").lastIndexOf("/");
  if (i < 0) return "";
  const head = p.slice(0, i);
  return head.endsWith(":/") ? head + "/" : head;
}

const HINTS: Readonly<Record<string, string>> = {
  VFS_PATH_ESCAPE:
    "Only files inside the workspace are reachable: use a path relative to the workspace root (no '..' above it, no absolute path elsewhere).",
  VFS_PATH_INVALID:
    "Use a plain path relative to the workspace root, e.g. 'src/main.ts'.",
  MANIFEST_DENIED:
    "These tools may only touch files inside the workspace: use a path relative to the workspace root.",
  POLICY_BLOCKED:
    "The security policy forbids this path; do not retry it, choose a file inside the workspace.",
  APPROVAL_DENIED: "The user denied this action; do not retry it.",
  APPROVAL_DEFERRED:
    "The action waits for the user's approval; tell the user what you need.",
  NOT_FOUND:
    "Check the path with list_directory or glob (paths are relative to the workspace root).",
  VFS_NOT_FOUND:
    "Check the path with list_directory or glob (paths are relative to the workspace root).",
  ABI_PAYLOAD_TOO_LARGE: "The file is too large for this tool.",
};

/**
 * An error a model can act on: what failed (`what`), the kernel's code and
 * reason, and a hint when the code has one.
 */
export function failure(what: string, err: unknown): Error {
  if (err instanceof HostCallError) {
    const hint = HINTS[err.code];
    return new Error(
      `${what}: ${err.code}: ${err.message}${hint ? `. ${hint}` : ""}`,
    );
  }
  return new Error(
    `${what}: ${err instanceof Error ? err.message : String(err)}`,
  );
}

/** Runs a host call, rethrowing its failure as {@linkcode failure}. */
export async function attempt<T>(
  what: string,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw failure(what, err);
  }
}

/** The error code of a host-call failure, or `undefined`. */
export function codeOf(err: unknown): string | undefined {
  return err instanceof HostCallError ? err.code : undefined;
}

/** Whether a failure means "does not exist". */
export function isMissing(err: unknown): boolean {
  const c = codeOf(err);
  return c === "NOT_FOUND" || c === "VFS_NOT_FOUND";
}
