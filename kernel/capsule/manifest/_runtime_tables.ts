/**
 * The tables that change runtime behaviour (reference §2.6):
 * `[[mcp_server]]`, `[[interceptor]]` and `[[topic]]`.
 *
 * @module
 */
import type {
  InterceptorDef,
  McpServerDef,
  TopicDef,
} from "./manifest_types.ts";
import { readRemoteServer } from "./_mcp_remote.ts";
import { dropUndefined } from "./_package.ts";
import {
  describe,
  hasControl,
  join,
  type Reader,
  RELATIVE_PATH,
  type Table,
} from "./_reader.ts";
import { TOPIC_PATTERN } from "./_capabilities.ts";
import { noDuplicates } from "./_tables.ts";
import { topicNameProblem } from "./_topic_rules.ts";

/** At most this many `[[interceptor]]` entries (reference §2.6). */
export const MAX_INTERCEPTORS: number = 64;
const DEFAULT_PRIORITY = 100;

const SERVER_ID = {
  test: (s: string) => /^[a-z0-9][a-z0-9_-]{0,63}$/.test(s),
  what: "an id of 1-64 characters of [a-z0-9_-]",
};

const COMMAND = {
  test: (s: string) =>
    s !== "" && !hasControl(s) &&
    (s.startsWith("/") || !s.includes("/") ||
      RELATIVE_PATH.test(s.replace(/^\.\//, ""))),
  what:
    "a program name, an absolute path, or a path inside the capsule without '..'",
};

function covered(line: string, allowed: readonly string[]): boolean {
  return allowed.some((e) =>
    e !== "" && (line === e || line.startsWith(`${e} `))
  );
}

/**
 * Reads `[[mcp_server]] {id, description?, type = "stdio", command, args,
 * mode = "broker" | "flags"}` or `{id, description?, type = "http", url,
 * headers?}` (see `_mcp_remote.ts`).
 * The command line must be allow-listed in `host_process` (the same rule the
 * gate applies to spawns: equal to an entry or starting with entry + space);
 * a URL's host must be in `net`.
 */
export function readMcpServers(
  r: Reader,
  root: Table,
  hostProcess: readonly string[],
  net: readonly string[] = [],
): McpServerDef[] {
  const remote: McpServerDef[] = [];
  const rows = r.tables(root, "mcp_server").flatMap(([key, t]) => {
    if (t["url"] !== undefined || t["type"] === "http") {
      const id = r.required(t, key, "id", SERVER_ID);
      const def = readRemoteServer(r, key, t, net);
      if (id !== undefined && def !== undefined) {
        remote.push({ id, ...def });
      }
      return [{ key, id, ok: false, command: undefined, args: [], rest: {} }];
    }
    r.known(t, key, ["id", "description", "type", "command", "args", "mode"]);
    const type = r.string(t, key, "type", {
      test: (s) => s === "stdio",
      what: "'stdio' (with 'command') or 'http' (with 'url')",
    });
    const command = r.required(t, key, "command", COMMAND);
    const args = r.strings(t, key, "args");
    const mode = r.string(t, key, "mode", {
      test: (s) => s === "broker" || s === "flags",
      what: "'broker' (the default) or 'flags'",
    }) as "broker" | "flags" | undefined;
    if (command !== undefined) {
      const line = [command, ...args].join(" ");
      if (!covered(line, hostProcess)) {
        r.fail(
          join(key, "command"),
          `'${line}' is not allow-listed in capabilities.host_process`,
        );
      }
    }
    return [{
      key,
      id: r.required(t, key, "id", SERVER_ID),
      ok: t["type"] === undefined || type !== undefined,
      command,
      args,
      rest: dropUndefined({
        description: r.string(t, key, "description"),
        mode,
      }),
    }];
  });
  noDuplicates(r, rows.map((x) => ({ key: x.key, value: x.id })), "id");
  const local: McpServerDef[] = rows.flatMap((
    { id, ok, command, args, rest },
  ) =>
    id === undefined || command === undefined || !ok
      ? []
      : [{ id, type: "stdio" as const, command, args, ...rest }]
  );
  return [...local, ...remote];
}

/** Reads `[[interceptor]] {event, action, priority = 100}`. */
export function readInterceptors(r: Reader, root: Table): InterceptorDef[] {
  const tables = r.tables(root, "interceptor");
  if (tables.length > MAX_INTERCEPTORS) {
    r.fail(
      "interceptor",
      `expected at most ${MAX_INTERCEPTORS} interceptors, got ${tables.length}`,
    );
  }
  return tables.flatMap(([key, t]) => {
    r.known(t, key, ["event", "action", "priority"]);
    const event = r.required(t, key, "event", TOPIC_PATTERN);
    const action = r.required(t, key, "action", {
      test: (s) => /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/.test(s),
      what: "a handler name of [A-Za-z0-9_.-] starting with a letter or '_'",
    });
    const p = t["priority"] ?? DEFAULT_PRIORITY;
    const priority = Number.isSafeInteger(p) && (p as number) >= 0
      ? p as number
      : r.expected(join(key, "priority"), "a non-negative integer", p);
    return event === undefined || action === undefined ||
        priority === undefined
      ? []
      : [{ event, action, priority }];
  });
}

/** Reads `[[topic]] {name, direction, description?, schema?}`. */
export function readTopics(r: Reader, root: Table): TopicDef[] {
  const rows = r.tables(root, "topic").map(([key, t]) => {
    r.known(t, key, ["name", "direction", "description", "schema"]);
    let name = r.required(t, key, "name");
    const problem = name === undefined ? null : topicNameProblem(name);
    if (problem !== null) {
      name = r.fail(
        join(key, "name"),
        `expected ${problem}, got ${describe(name)}`,
      );
    }
    const direction = r.required(t, key, "direction", {
      test: (s) => s === "publish" || s === "subscribe",
      what: "'publish' or 'subscribe'",
    }) as TopicDef["direction"] | undefined;
    return {
      key,
      name,
      direction,
      rest: dropUndefined({
        description: r.string(t, key, "description"),
        schema: r.string(t, key, "schema", RELATIVE_PATH),
      }),
    };
  });
  noDuplicates(
    r,
    rows.map((x) => ({
      key: x.key,
      value: x.name === undefined || x.direction === undefined
        ? undefined
        : `${x.name} (${x.direction})`,
    })),
    "name",
    "topic",
  );
  return rows.flatMap(({ name, direction, rest }) =>
    name === undefined || direction === undefined
      ? []
      : [{ name, direction, ...rest }]
  );
}
