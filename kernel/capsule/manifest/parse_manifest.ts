/**
 * Parses and validates a `Capsule.toml`, reporting every problem at once.
 *
 * @module
 */
import { parse, TomlError } from "smol-toml";
import { KernelError } from "../../core/errors.ts";
import type {
  CapsuleManifest,
  EngineKind,
  ManifestIssue,
  ManifestResult,
} from "./manifest_types.ts";
import { isTable, Reader } from "./_reader.ts";
import { readPackage } from "./_package.ts";
import { readComponent } from "./_component.ts";
import { readCapabilities } from "./_capabilities.ts";
import { readExports, readImports } from "./_interfaces.ts";
import { readEnv } from "./_env.ts";
import { checkRemoteSecrets } from "./_mcp_remote.ts";
import {
  readCommands,
  readContextFiles,
  readSkills,
  readUplinks,
} from "./_tables.ts";
import {
  readInterceptors,
  readMcpServers,
  readTopics,
} from "./_runtime_tables.ts";

/** Options of {@linkcode parseManifest} and {@linkcode validateManifest}. */
export interface ParseManifestOptions {
  /** The manifest's path, named in every issue. */
  readonly file: string;
  /** The running kernel's version, checked against `astrid-version`. */
  readonly kernelVersion: string;
}

const TOP_LEVEL = [
  "package",
  "component",
  "imports",
  "exports",
  "capabilities",
  "env",
  "context_file",
  "command",
  "mcp_server",
  "skill",
  "uplink",
  "interceptor",
  "topic",
] as const;

/**
 * Parses TOML text and validates it as a manifest.
 *
 * @param text The contents of `Capsule.toml`.
 * @param options The file name for messages and the kernel version.
 * @returns The manifest, or every issue found (TOML syntax errors come alone).
 *
 * @example Parse a small manifest
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseManifest } from "./parse_manifest.ts";
 * const result = parseManifest(
 *   '[package]\nname = "hello"\nversion = "1.0.0"\n[[component]]\nfile = "main.js"\n',
 *   { file: "Capsule.toml", kernelVersion: "0.1.0" },
 * );
 * assert.ok(result.ok && result.value.engine === "js");
 * ```
 */
export function parseManifest(
  text: string,
  options: ParseManifestOptions,
): ManifestResult {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    const first = err.message.split("\n")[0] ?? "";
    const why = first.replace(/^Invalid TOML document: /, "");
    return {
      ok: false,
      issues: [{
        file: options.file,
        key: "",
        message:
          `invalid TOML at line ${err.line}, column ${err.column}: ${why}`,
      }],
    };
  }
  return validateManifest(raw, options);
}

function pickEngine(r: Reader, m: {
  component: CapsuleManifest["component"];
  hasComponent: boolean;
  servers: number;
}): EngineKind {
  if (m.hasComponent && m.servers > 0) {
    r.fail(
      "mcp_server",
      "a capsule runs one engine: declare either a [[component]] or [[mcp_server]] entries, not both",
    );
  }
  if (m.component !== null) return m.component.type;
  return m.servers > 0 ? "mcp" : "static";
}

/**
 * Validates an already-parsed TOML document as a manifest. Unknown keys,
 * wrong types and invalid values are all issues; nothing is ignored.
 *
 * @param raw The parsed document.
 * @param options The file name for messages and the kernel version.
 * @returns The manifest, or every issue found.
 *
 * @example Report an unknown key
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateManifest } from "./parse_manifest.ts";
 * const result = validateManifest(
 *   { package: { name: "x", version: "1.0.0", nmae: "y" } },
 *   { file: "Capsule.toml", kernelVersion: "0.1.0" },
 * );
 * assert.ok(!result.ok && result.issues[0]?.key === "package.nmae");
 * ```
 */
export function validateManifest(
  raw: unknown,
  options: ParseManifestOptions,
): ManifestResult {
  const r = new Reader(options.file);
  const root = isTable(raw) ? raw : r.expected("", "a TOML table", raw) ?? {};
  r.known(root, "", TOP_LEVEL);
  const pkg = readPackage(r, root, options.kernelVersion);
  const comp = readComponent(r, root);
  const capabilities = readCapabilities(r, root, comp.capabilities);
  const imports = readImports(r, root);
  const exports = readExports(r, root);
  if (capabilities.uplink && imports.length > 0) {
    r.fail("imports", "[imports] is not allowed on uplink capsules");
  }
  const mcpServers = readMcpServers(
    r,
    root,
    capabilities.host_process,
    capabilities.net,
  );
  const engine = pickEngine(r, {
    component: comp.component,
    hasComponent: root["component"] !== undefined,
    servers: Array.isArray(root["mcp_server"]) ? root["mcp_server"].length : 0,
  });
  const rest = {
    env: readEnv(r, root),
    context_files: readContextFiles(r, root),
    commands: readCommands(r, root),
    mcp_servers: mcpServers,
    skills: readSkills(r, root),
    uplinks: readUplinks(r, root),
    interceptors: readInterceptors(r, root),
    topics: readTopics(r, root),
  };
  checkRemoteSecrets(r, mcpServers, rest.env);
  if (r.issues.length > 0 || pkg === undefined) {
    return { ok: false, issues: r.issues };
  }
  return {
    ok: true,
    value: {
      file: options.file,
      package: pkg,
      engine,
      component: comp.component,
      imports,
      exports,
      capabilities,
      ...rest,
    },
  };
}

const MAX_LISTED = 20;

/**
 * Builds the `MANIFEST_INVALID` error for a list of issues: the message lists
 * up to 20 of them as `key: message`; `data.issues` holds all.
 *
 * @param issues At least one issue (all of one file).
 * @returns The error to throw.
 * @throws {RangeError} When `issues` is empty.
 *
 * @example Build the error
 * ```ts
 * import assert from "node:assert/strict";
 * import { manifestError } from "./parse_manifest.ts";
 * const err = manifestError([{ file: "a/Capsule.toml", key: "package.name", message: "missing" }]);
 * assert.equal(err.code, "MANIFEST_INVALID");
 * assert.ok(err.message.includes("package.name"));
 * ```
 */
export function manifestError(issues: readonly ManifestIssue[]): KernelError {
  const first = issues[0];
  if (first === undefined) throw new RangeError("manifestError needs issues");
  const line = (i: ManifestIssue): string =>
    i.key === "" ? i.message : `${i.key}: ${i.message}`;
  const lines = issues.slice(0, MAX_LISTED).map(line);
  if (issues.length > MAX_LISTED) {
    lines.push(`… and ${issues.length - MAX_LISTED} more`);
  }
  const head = `Cannot load capsule manifest ${first.file}`;
  const message = issues.length === 1
    ? `${head}: ${lines[0]}`
    : `${head}: ${issues.length} problems:\n${
      lines.map((l) => `- ${l}`).join("\n")
    }`;
  return new KernelError("MANIFEST_INVALID", message, {
    data: { file: first.file, issues: issues.map((i) => ({ ...i })) },
  });
}
