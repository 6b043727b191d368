/**
 * The validated shape of a `Capsule.toml` (reference §2), as the kernel uses it.
 *
 * Field names follow the TOML keys; kebab-case keys become snake_case
 * (`astrid-version` ⇒ `astrid_version`), array tables become plural lists
 * (`[[context_file]]` ⇒ `context_files`). Every default is filled in, so
 * consumers never see `undefined` for a list or a flag.
 *
 * @module
 */
import type { CapsuleId } from "../../core/ids.ts";
import type { Engine } from "../engine.ts";

/** One problem in a manifest: the file, the dotted key and what was expected. */
export interface ManifestIssue {
  /** The manifest path (or a label such as `<memory>`). */
  readonly file: string;
  /** Dotted key with array indexes, e.g. `component[0].file`; `""` for the whole file. */
  readonly key: string;
  /** What is wrong and what was expected. */
  readonly message: string;
}

/** The result of parsing untrusted manifest text: the manifest or every issue found. */
export type ManifestResult =
  | { readonly ok: true; readonly value: CapsuleManifest }
  | { readonly ok: false; readonly issues: readonly ManifestIssue[] };

/**
 * Which engine runs the capsule: a `[[component]]` of `type = "js"` or
 * `"wasm"`; else `mcp` when there is an `[[mcp_server]]`; else `static`.
 */
export type EngineKind = Engine["name"];

/** `[package]`. */
export interface PackageInfo {
  /** The capsule id (`a-z`, `0-9`, `-`). */
  readonly name: CapsuleId;
  /** Full semver `MAJOR.MINOR.PATCH[-pre][+build]`. */
  readonly version: string;
  readonly description?: string;
  readonly authors: readonly string[];
  /** http(s) URL. */
  readonly repository?: string;
  /** http(s) URL. */
  readonly homepage?: string;
  /** http(s) URL. */
  readonly documentation?: string;
  readonly license?: string;
  /** Relative path inside the capsule (`license-file`). */
  readonly license_file?: string;
  /** Relative path inside the capsule. */
  readonly readme?: string;
  /** At most 5. */
  readonly keywords: readonly string[];
  readonly categories: readonly string[];
  /** The requirement on the kernel version as written (`astrid-version`), e.g. `>=0.1`. */
  readonly astrid_version?: string;
  readonly publish: boolean;
  readonly include: readonly string[];
  readonly exclude: readonly string[];
  /** Free-form table, kept as parsed. */
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** The one `[[component]]`: code run by the `js` or `wasm` engine. */
export interface ComponentDef {
  /** Optional label (default `""`). */
  readonly id: string;
  /** Relative path of the artifact inside the capsule (alias `entrypoint`). */
  readonly file: string;
  /** `js` (`.js`/`.mjs` bundle) or `wasm` (`.wasm` Extism plug-in). */
  readonly type: "js" | "wasm";
  /**
   * How many instances of the component may run calls at once (`instances`,
   * 1..{@linkcode MAX_COMPONENT_INSTANCES}, default 1: calls run one at a
   * time in arrival order). Only the `js` engine runs more than one; each
   * instance has its own module-level state, memory cap and deadline.
   */
  readonly instances: number;
  /**
   * The source `astrid capsule build` compiles into `file` (relative): a
   * TypeScript entry for `js` (default `main.ts`), an AssemblyScript entry
   * for `wasm` (default `index.ts`). Not installed, not read at boot.
   */
  readonly source?: string;
}

/**
 * The most instances one `[[component]]` may ask for (`instances`).
 *
 * @example The bound
 * ```ts
 * import { MAX_COMPONENT_INSTANCES } from "./manifest_types.ts";
 * console.assert(MAX_COMPONENT_INSTANCES === 16);
 * ```
 */
export const MAX_COMPONENT_INSTANCES = 16;

/** One `[imports.<namespace>] <name> = "<requirement>"` entry. */
export interface ImportDef {
  readonly namespace: string;
  readonly name: string;
  /** The requirement as written (Cargo syntax: `^1.0`, `>=1.2, <2`, `*`). */
  readonly requirement: string;
  /** The same requirement as an npm `semver` range (`>=1.2.0 <2.0.0-0`). */
  readonly range: string;
  /** An optional import never refuses the capsule when nothing provides it. */
  readonly optional: boolean;
}

/** One `[exports.<namespace>] <name> = "<version>"` entry. */
export interface ExportDef {
  readonly namespace: string;
  readonly name: string;
  /** Exact full semver version. */
  readonly version: string;
}

/** An identity host-call permission; `admin ⊃ link ⊃ resolve`. */
export type IdentityPermission = "resolve" | "link" | "admin";

/** `[capabilities]` merged with the component's capabilities. Empty lists deny. */
export interface ManifestCapabilities {
  readonly uplink: boolean;
  readonly net: readonly string[];
  readonly kv: readonly string[];
  readonly fs_read: readonly string[];
  readonly fs_write: readonly string[];
  readonly host_process: readonly string[];
  readonly net_bind: readonly string[];
  readonly ipc_publish: readonly string[];
  readonly ipc_subscribe: readonly string[];
  readonly identity: readonly IdentityPermission[];
  readonly allow_prompt_injection: boolean;
  /** May put `approval_request` questions before the human (rate-limited, audited). */
  readonly approval: boolean;
}

/** The kind of an `[env.<KEY>]` value. */
export type EnvType =
  | "string"
  | "secret"
  | "integer"
  | "number"
  | "boolean"
  | "array";

/** One `[env.<KEY>]`: configuration asked from the user. */
export interface EnvDef {
  readonly key: string;
  readonly type: EnvType;
  /** Prompt text; default `Please enter value for <KEY>`. */
  readonly request: string;
  readonly description?: string;
  /** Default, stringified (arrays as JSON); never set for secrets. */
  readonly default?: string;
  readonly enum_values: readonly string[];
  readonly placeholder?: string;
}

/** `[[context_file]]`. */
export interface ContextFileDef {
  readonly name: string;
  readonly file: string;
}

/** `[[command]]`. */
export interface CommandDef {
  readonly name: string;
  readonly description?: string;
  readonly file?: string;
}

/** `[[mcp_server]]`: a stdio MCP server run by the `mcp` engine. */
export type McpServerDef = McpStdioServerDef | McpHttpServerDef;

/** `[[mcp_server]]` with `command`: a confined subprocess spoken to over stdio. */
export interface McpStdioServerDef {
  readonly id: string;
  readonly description?: string;
  readonly type: "stdio";
  readonly command: string;
  readonly args: readonly string[];
  /**
   * How a Deno server is confined: `broker` (default; every permission
   * check is a gate decision) or `flags` (`--allow-*` lists from the
   * manifest). Ignored for non-Deno commands (bubblewrap).
   */
  readonly mode?: "broker" | "flags";
}

/**
 * `[[mcp_server]]` with `url`: a remote server over Streamable HTTP. Its
 * host must be in `[capabilities] net`; header values may hold
 * `{{secret:NAME}}` placeholders (an `[env.NAME]` of type `secret`), never
 * a literal credential.
 */
export interface McpHttpServerDef {
  readonly id: string;
  readonly description?: string;
  readonly type: "http";
  /** The MCP endpoint, `https:` (or `http:`), without userinfo or fragment. */
  readonly url: string;
  /** Extra request headers (e.g. `Authorization = "Bearer {{secret:TOKEN}}"`). */
  readonly headers: Readonly<Record<string, string>>;
}

/** `[[skill]]`. */
export interface SkillDef {
  readonly name: string;
  readonly description?: string;
  readonly file: string;
}

/** `[[uplink]]`. */
export interface UplinkDef {
  readonly name: string;
  readonly platform: string;
  readonly profile: "chat" | "interactive" | "notify" | "bridge";
}

/** `[[interceptor]]`: lower `priority` fires first. */
export interface InterceptorDef {
  /** Topic pattern (`*` matches one segment). */
  readonly event: string;
  /** Guest handler name. */
  readonly action: string;
  /** Default 100. */
  readonly priority: number;
}

/** `[[topic]]`: documentation of a topic the capsule uses. */
export interface TopicDef {
  readonly name: string;
  readonly direction: "publish" | "subscribe";
  readonly description?: string;
  /** Relative path of a JSON schema inside the capsule. */
  readonly schema?: string;
}

/** A validated `Capsule.toml`. */
export interface CapsuleManifest {
  /** Where it was read from (for messages). */
  readonly file: string;
  readonly package: PackageInfo;
  /** The engine that runs the capsule (see {@linkcode EngineKind}). */
  readonly engine: EngineKind;
  readonly component: ComponentDef | null;
  readonly imports: readonly ImportDef[];
  readonly exports: readonly ExportDef[];
  readonly capabilities: ManifestCapabilities;
  readonly env: readonly EnvDef[];
  readonly context_files: readonly ContextFileDef[];
  readonly commands: readonly CommandDef[];
  readonly mcp_servers: readonly McpServerDef[];
  readonly skills: readonly SkillDef[];
  readonly uplinks: readonly UplinkDef[];
  readonly interceptors: readonly InterceptorDef[];
  readonly topics: readonly TopicDef[];
}
