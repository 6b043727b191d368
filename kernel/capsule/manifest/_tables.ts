/**
 * The data tables of reference §2.6: `[[context_file]]`, `[[command]]`,
 * `[[skill]]` and `[[uplink]]`.
 *
 * @module
 */
import type {
  CommandDef,
  ContextFileDef,
  SkillDef,
  UplinkDef,
} from "./manifest_types.ts";
import { dropUndefined } from "./_package.ts";
import {
  join,
  NAME,
  type Reader,
  RELATIVE_PATH,
  type Table,
} from "./_reader.ts";

/**
 * Reports the second and later entries whose `field` repeats an earlier one.
 * Entries without the field are skipped.
 */
export function noDuplicates(
  r: Reader,
  items: readonly { key: string; value: string | undefined }[],
  field: string,
  label: string = field,
): void {
  const seen = new Map<string, string>();
  for (const { key, value } of items) {
    if (value === undefined) continue;
    const first = seen.get(value);
    if (first !== undefined) {
      r.fail(
        join(key, field),
        `duplicate ${label} '${value}' (already used by ${first})`,
      );
    } else seen.set(value, key);
  }
}

/** Reads `[[context_file]] {name, file}`. */
export function readContextFiles(r: Reader, root: Table): ContextFileDef[] {
  const rows = r.tables(root, "context_file").map(([key, t]) => {
    r.known(t, key, ["name", "file"]);
    return {
      key,
      name: r.required(t, key, "name", NAME),
      file: r.required(t, key, "file", RELATIVE_PATH),
    };
  });
  noDuplicates(r, rows.map((x) => ({ key: x.key, value: x.name })), "name");
  return rows.flatMap(({ name, file }) =>
    name === undefined || file === undefined ? [] : [{ name, file }]
  );
}

/** Reads `[[command]] {name, description?, file?}`. */
export function readCommands(r: Reader, root: Table): CommandDef[] {
  const rows = r.tables(root, "command").map(([key, t]) => {
    r.known(t, key, ["name", "description", "file"]);
    return {
      key,
      name: r.required(t, key, "name", {
        test: (s) => /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(s),
        what: "a command name of [A-Za-z0-9_-] without the leading '/'",
      }),
      rest: dropUndefined({
        description: r.string(t, key, "description"),
        file: r.string(t, key, "file", RELATIVE_PATH),
      }),
    };
  });
  noDuplicates(r, rows.map((x) => ({ key: x.key, value: x.name })), "name");
  return rows.flatMap(({ name, rest }) =>
    name === undefined ? [] : [{ name, ...rest }]
  );
}

/** Reads `[[skill]] {name, description?, file}`. */
export function readSkills(r: Reader, root: Table): SkillDef[] {
  const rows = r.tables(root, "skill").map(([key, t]) => {
    r.known(t, key, ["name", "description", "file"]);
    return {
      key,
      name: r.required(t, key, "name", NAME),
      file: r.required(t, key, "file", RELATIVE_PATH),
      rest: dropUndefined({ description: r.string(t, key, "description") }),
    };
  });
  noDuplicates(r, rows.map((x) => ({ key: x.key, value: x.name })), "name");
  return rows.flatMap(({ name, file, rest }) =>
    name === undefined || file === undefined ? [] : [{ name, file, ...rest }]
  );
}

const PROFILES: readonly UplinkDef["profile"][] = [
  "chat",
  "interactive",
  "notify",
  "bridge",
];

/** Reads `[[uplink]] {name, platform, profile}`. */
export function readUplinks(r: Reader, root: Table): UplinkDef[] {
  const rows = r.tables(root, "uplink").map(([key, t]) => {
    r.known(t, key, ["name", "platform", "profile"]);
    return {
      key,
      name: r.required(t, key, "name", NAME),
      platform: r.required(t, key, "platform", NAME),
      profile: r.required(t, key, "profile", {
        test: (s) => (PROFILES as readonly string[]).includes(s),
        what: `one of ${PROFILES.join(", ")}`,
      }) as UplinkDef["profile"] | undefined,
    };
  });
  noDuplicates(r, rows.map((x) => ({ key: x.key, value: x.name })), "name");
  return rows.flatMap(({ name, platform, profile }) =>
    name === undefined || platform === undefined || profile === undefined
      ? []
      : [{ name, platform, profile }]
  );
}
