/**
 * `[[component]]` (reference §2.2, adapted): at most one component, whose
 * `type` picks the `js` or `wasm` engine.
 *
 * @module
 */
import {
  type ComponentDef,
  MAX_COMPONENT_INSTANCES,
} from "./manifest_types.ts";
import { join, type Reader, RELATIVE_PATH, type Table } from "./_reader.ts";
import { readComponentCapabilities } from "./_capabilities.ts";

const KEYS = [
  "id",
  "file",
  "entrypoint",
  "type",
  "instances",
  "capabilities",
] as const;

const EXTENSIONS: Record<ComponentDef["type"], readonly string[]> = {
  js: [".js", ".mjs"],
  wasm: [".wasm"],
};

function inferType(file: string): ComponentDef["type"] | undefined {
  if (EXTENSIONS.wasm.some((e) => file.endsWith(e))) return "wasm";
  if (EXTENSIONS.js.some((e) => file.endsWith(e))) return "js";
  return undefined;
}

function unsupported(r: Reader, t: Table, key: string): void {
  if (t["hash"] !== undefined) {
    r.fail(
      join(key, "hash"),
      "unknown key 'hash' (artifact hashes are pinned in meta.json at install, not in Capsule.toml)",
    );
  }
  if (t["link"] !== undefined) {
    r.fail(
      join(key, "link"),
      "unknown key 'link' (a capsule has a single component; linking is not supported)",
    );
  }
}

/** The component and the capability lists it adds to `[capabilities]`. */
export interface ComponentRead {
  readonly component: ComponentDef | null;
  readonly capabilities: Partial<Record<string, readonly string[]>>;
}

function readType(
  r: Reader,
  t: Table,
  key: string,
  file: string,
): ComponentDef["type"] | undefined {
  const declared = r.string(t, key, "type", {
    test: (s) => s === "js" || s === "wasm",
    what: "'js' or 'wasm' (the 0.5 values 'executable'/'library' are not used)",
  }) as ComponentDef["type"] | undefined;
  const inferred = inferType(file);
  if (declared === undefined && t["type"] !== undefined) return undefined;
  if (declared === undefined) {
    return inferred ?? r.fail(
      join(key, "type"),
      `missing key 'type': cannot infer the engine from '${file}' (expected 'js' for .js/.mjs or 'wasm' for .wasm)`,
    );
  }
  if (!EXTENSIONS[declared].some((e) => file.endsWith(e))) {
    return r.fail(
      join(key, "file"),
      `expected a ${
        EXTENSIONS[declared].join(" or ")
      } file for type '${declared}', got '${file}'`,
    );
  }
  return declared;
}

/**
 * `instances` (default 1): an integer 1..16, and only on a `js` component
 * (the `wasm` engine runs one plug-in per capsule).
 */
function readInstances(
  r: Reader,
  t: Table,
  key: string,
  type: ComponentDef["type"] | undefined,
): number | undefined {
  const v = t["instances"];
  if (v === undefined) return 1;
  const at = join(key, "instances");
  if (
    typeof v !== "number" || !Number.isSafeInteger(v) || v < 1 ||
    v > MAX_COMPONENT_INSTANCES
  ) {
    return r.expected(
      at,
      `an integer from 1 to ${MAX_COMPONENT_INSTANCES}`,
      v,
    );
  }
  if (type === "wasm" && v > 1) {
    return r.fail(
      at,
      `a 'wasm' component runs one instance; 'instances = ${v}' needs type 'js'`,
    );
  }
  return v;
}

/** Reads `[[component]]`. */
export function readComponent(r: Reader, root: Table): ComponentRead {
  const tables = r.tables(root, "component");
  if (tables.length > 1) {
    r.fail(
      "component",
      `expected at most one [[component]], got ${tables.length} (a capsule runs one engine)`,
    );
  }
  const first = tables[0];
  if (first === undefined) return { component: null, capabilities: {} };
  const [key, t] = first;
  unsupported(r, t, key);
  r.known(t, key, [...KEYS, "hash", "link"]); // hash/link reported above
  const id = r.string(t, key, "id") ?? "";
  if (t["file"] !== undefined && t["entrypoint"] !== undefined) {
    r.fail(
      join(key, "entrypoint"),
      "'entrypoint' is an alias of 'file'; set only one of them",
    );
  }
  const field = t["file"] === undefined && t["entrypoint"] !== undefined
    ? "entrypoint"
    : "file";
  const file = r.required(t, key, field, RELATIVE_PATH);
  const type = file === undefined ? undefined : readType(r, t, key, file);
  const instances = readInstances(r, t, key, type);
  const capsKey = join(key, "capabilities");
  const rawCaps = t["capabilities"];
  const capsTable = rawCaps === undefined
    ? {}
    : r.table(rawCaps, capsKey) ?? {};
  const capabilities = readComponentCapabilities(r, capsTable, capsKey);
  if (file === undefined || type === undefined || instances === undefined) {
    return { component: null, capabilities };
  }
  return { component: { id, file, type, instances }, capabilities };
}
